#include "providers/types.h"

#include <gtest/gtest.h>

namespace mg::providers {
namespace {

TEST(FinishReasonName, UsesContractSpelling) {
  EXPECT_STREQ(FinishReasonName(FinishReason::kStop), "stop");
  EXPECT_STREQ(FinishReasonName(FinishReason::kLength), "length");
  EXPECT_STREQ(FinishReasonName(FinishReason::kToolCalls), "tool_calls");
  EXPECT_STREQ(FinishReasonName(FinishReason::kContentFilter), "content_filter");
}

TEST(HasImages, FalseForTextOnlyRequest) {
  ChatRequest request;
  request.messages.push_back(Message{Role::kUser, {TextPart{"hi"}}, {}, {}});
  EXPECT_FALSE(HasImages(request));
}

TEST(HasImages, TrueWhenAnyMessageCarriesAnImage) {
  ChatRequest request;
  request.messages.push_back(Message{Role::kUser, {TextPart{"hi"}}, {}, {}});
  request.messages.push_back(
      Message{Role::kUser, {TextPart{"look"}, ImagePart{"png", "AAAA"}}, {}, {}});
  EXPECT_TRUE(HasImages(request));
}

}  // namespace
}  // namespace mg::providers
