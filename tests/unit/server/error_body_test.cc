#include "server/error_body.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace mg::server {
namespace {

namespace json = boost::json;

TEST(ErrorBody, HasEveryMemberOfTheUnionShape) {
  Error e(ErrorCode::kForbidden, "model_access_denied", "Model 'x' is not available to your team.",
          "model");
  json::object b = json::parse(RenderErrorBody(e, "req_1")).as_object();
  EXPECT_EQ(b["error"].at("message"), "Model 'x' is not available to your team.");
  EXPECT_EQ(b["error"].at("type"), "permission_error");
  EXPECT_EQ(b["error"].at("code"), "model_access_denied");
  EXPECT_EQ(b["error"].at("param"), "model");
  EXPECT_EQ(b["message"], "Model 'x' is not available to your team.");
  EXPECT_EQ(b["tpe"], "Forbidden");
  EXPECT_EQ(b["errors"].at(0).at("key"), "model_access_denied");
  EXPECT_EQ(b["errors"].at(0).at("description"), "Model 'x' is not available to your team.");
  EXPECT_TRUE(b["errors"].at(0).at("extras").is_object());
  EXPECT_EQ(b["extras"].at("request_id"), "req_1");
}

TEST(ErrorBody, ParamIsNullWhenNoFieldIsAtFault) {
  Error e(ErrorCode::kUnauthenticated, "invalid_api_key", "bad key");
  json::object b = json::parse(RenderErrorBody(e, "r")).as_object();
  EXPECT_TRUE(b["error"].at("param").is_null());
}

TEST(ErrorHeaders, RetryAfterRoundsUpToWholeSecondsAndNoRetryFlag) {
  Error e(ErrorCode::kRateLimited, "upstream_rate_limited", "slow down");
  e.retry_after = std::chrono::milliseconds(1200);
  auto h = ErrorHeaders(e);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"retry-after-ms", "1200"}));
  Error auth(ErrorCode::kUpstreamError, "upstream_auth_failed", "x");
  auth.no_retry = true;
  auto h2 = ErrorHeaders(auth);
  ASSERT_EQ(h2.size(), 1u);
  EXPECT_EQ(h2[0].first, "x-should-retry");
  EXPECT_EQ(h2[0].second, "false");
}

}  // namespace
}  // namespace mg::server
