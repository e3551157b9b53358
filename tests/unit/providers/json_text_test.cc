#include "providers/json_text.h"

#include <gtest/gtest.h>

#include <limits>

namespace mg::providers {
namespace {

std::string Str(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(AppendJsonString, QuotesPlainText) { EXPECT_EQ(Str("Paris"), "\"Paris\""); }

TEST(AppendJsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Str("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Str("l1\nl2\r\t\b\f"), R"("l1\nl2\r\t\b\f")");
  EXPECT_EQ(Str(std::string_view("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(Str(std::string_view("\0", 1)), R"("\u0000")");
}

TEST(AppendJsonString, PassesUtf8Through) { EXPECT_EQ(Str("caf\xc3\xa9"), "\"caf\xc3\xa9\""); }

TEST(AppendJsonNumber, WritesShortestRoundTripDoubles) {
  std::string out;
  AppendJsonNumber(out, 0.5);
  out += ',';
  AppendJsonNumber(out, 1.0);
  out += ',';
  AppendJsonNumber(out, 0.7);
  EXPECT_EQ(out, "0.5,1,0.7");
}

TEST(AppendJsonNumber, WritesNonFiniteAsZero) {
  std::string out;
  AppendJsonNumber(out, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out, "0");
}

TEST(AppendJsonNumber, WritesIntegers) {
  std::string out;
  AppendJsonNumber(out, int64_t{-42});
  EXPECT_EQ(out, "-42");
}

}  // namespace
}  // namespace mg::providers
