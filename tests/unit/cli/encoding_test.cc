#include "cli/encoding.h"

#include <gtest/gtest.h>

namespace mg::cli {
namespace {

TEST(EncodePathSegment, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(EncodePathSegment("amazon.nova-lite-v1:0"), "amazon.nova-lite-v1%3A0");
  EXPECT_EQ(EncodePathSegment("team/nova:pro"), "team%2Fnova%3Apro");
  EXPECT_EQ(EncodePathSegment("a b%c?d#e&f+g~h_i"), "a%20b%25c%3Fd%23e%26f%2Bg~h_i");
  EXPECT_EQ(EncodePathSegment("\xc3\xa9"), "%C3%A9");
}

TEST(EncodePathSegment, DotSegmentsAreEncodedSoNobodyResolvesThem) {
  EXPECT_EQ(EncodePathSegment("."), "%2E");
  EXPECT_EQ(EncodePathSegment(".."), "%2E%2E");
  EXPECT_EQ(EncodePathSegment("..."), "...");
  EXPECT_EQ(EncodePathSegment("a..b"), "a..b");
}

TEST(PathWithIds, AppendsEncodedSegmentsToTheLiteralPrefix) {
  EXPECT_EQ(PathWithIds("/admin/v1/models", {"us.anthropic.claude-3-haiku:0", "health"}),
            "/admin/v1/models/us.anthropic.claude-3-haiku%3A0/health");
  EXPECT_EQ(PathWithIds("/admin/v1/models", {"a/b"}), "/admin/v1/models/a%2Fb");
  EXPECT_EQ(PathWithIds("/admin/v1/me", {}), "/admin/v1/me");
}

TEST(QueryString, EncodesKeysAndValuesAndSkipsEmptyValues) {
  EXPECT_EQ(QueryString({}), "");
  EXPECT_EQ(QueryString({{"region", ""}}), "");
  EXPECT_EQ(QueryString({{"credential", "prod & test"}, {"region", ""}, {"x", "a=b"}}),
            "?credential=prod%20%26%20test&x=a%3Db");
  EXPECT_EQ(QueryString({{"since", "2026-12-01T00:00:00+01:00"}}),
            "?since=2026-12-01T00%3A00%3A00%2B01%3A00");
}

}  // namespace
}  // namespace mg::cli
