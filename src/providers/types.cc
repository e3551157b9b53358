#include "providers/types.h"

#include <algorithm>

namespace mg::providers {

bool HasImages(const ChatRequest& request) {
  return std::any_of(request.messages.begin(), request.messages.end(), [](const Message& m) {
    return std::any_of(m.content.begin(), m.content.end(), [](const ContentPart& p) {
      return std::holds_alternative<ImagePart>(p);
    });
  });
}

const char* FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
  }
  return "stop";
}

}  // namespace mg::providers
