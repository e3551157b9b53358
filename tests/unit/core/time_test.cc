#include "core/time.h"

#include <gtest/gtest.h>

namespace mg {
namespace {

using namespace std::chrono;

TEST(Time, FormatsAndParsesRfc3339RoundTrip) {
  SystemTime t = sys_days{year{2026} / 12 / 3} + hours{10} + minutes{5} + seconds{7};
  EXPECT_EQ(FormatRfc3339(t), "2026-12-03T10:05:07Z");
  auto back = ParseRfc3339("2026-12-03T10:05:07Z");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, t);
}

TEST(Time, ParsesFractionsAndOffsets) {
  auto a = ParseRfc3339("2024-05-01T13:34:56.5Z");
  auto b = ParseRfc3339("2024-05-01T15:34:56.500+02:00");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(FormatRfc3339Millis(*a), "2024-05-01T13:34:56.500Z");
}

TEST(Time, RejectsMalformedTimestamps) {
  EXPECT_FALSE(ParseRfc3339(""));
  EXPECT_FALSE(ParseRfc3339("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2024-02-30T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01 13:34:56Z"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T13:34:56"));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T13:34:56Zjunk"));
}

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(ParseDuration("300ms").value(), milliseconds{300});
  EXPECT_EQ(ParseDuration("2s").value(), milliseconds{2000});
  EXPECT_EQ(ParseDuration("5m").value(), milliseconds{300000});
  EXPECT_EQ(ParseDuration("1h").value(), milliseconds{3600000});
  EXPECT_EQ(ParseDuration("90d").value(), duration_cast<milliseconds>(hours{24 * 90}));
  EXPECT_EQ(ParseDuration("0").value(), milliseconds{0});
}

TEST(Duration, RejectsBadInputWithMessageNamingIt) {
  for (const char* bad : {"", "5", "m", "5x", "-1s", "1.5s", "5 m", "99999999999999s"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(Duration, FormatsWithLargestExactUnit) {
  EXPECT_EQ(FormatDuration(milliseconds{300000}), "5m");
  EXPECT_EQ(FormatDuration(milliseconds{1500}), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds{2000}), "2s");
}

TEST(Time, RejectsTimesSystemTimeCannotHoldInsteadOfWrapping) {
  EXPECT_FALSE(ParseRfc3339("2999-01-01T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("1000-01-01T00:00:00Z"));
  ASSERT_TRUE(ParseRfc3339("2261-12-31T23:59:59Z"));
  EXPECT_GT(*ParseRfc3339("2261-12-31T23:59:59Z"), *ParseRfc3339("2026-12-04T00:00:00Z"));
}

}  // namespace
}  // namespace mg
