#include "core/error.h"

#include <gtest/gtest.h>

#include "core/result.h"

namespace mg {
namespace {

TEST(Error, MapsEveryCodeToTheContractStatus) {
  EXPECT_EQ(HttpStatus(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatus(ErrorCode::kForbidden), 403);
  EXPECT_EQ(HttpStatus(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kMethodNotAllowed), 405);
  EXPECT_EQ(HttpStatus(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatus(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnprocessable), 422);
  EXPECT_EQ(HttpStatus(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatus(ErrorCode::kInternal), 500);
  EXPECT_EQ(HttpStatus(ErrorCode::kUpstreamError), 502);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kTimeout), 504);
  EXPECT_EQ(ErrorType(ErrorCode::kUnauthenticated), "authentication_error");
  EXPECT_EQ(ErrorTpe(ErrorCode::kForbidden), "Forbidden");
}

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd", "x");
  return x / 2;
}

Result<int> Quarter(int x) {
  MG_TRY(int h, Half(x));
  MG_TRY(int q, Half(h));
  return q;
}

TEST(Result, TryPropagatesTheFirstError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().param, "x");
}

}  // namespace
}  // namespace mg
