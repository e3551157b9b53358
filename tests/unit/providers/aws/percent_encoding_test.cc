#include "providers/aws/percent_encoding.h"

#include <gtest/gtest.h>

namespace mg::aws {
namespace {

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(PercentEncode("a b+c:d/e@f="), "a%20b%2Bc%3Ad%2Fe%40f%3D");
  EXPECT_EQ(PercentEncode("\xE1\x88\xB4"), "%E1%88%B4");
}

TEST(PercentEncode, KeepsSlashWhenAsked) {
  EXPECT_EQ(PercentEncode("/a b/c%3A", SlashPolicy::kKeep), "/a%20b/c%253A");
}

TEST(PercentDecode, DecodesBothHexCasesAndKeepsInvalidEscapes) {
  EXPECT_EQ(PercentDecode("%3a%3A%20+"), ":: +");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

TEST(PercentEncode, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(PercentDecode(PercentEncode(all)), all);
}

}  // namespace
}  // namespace mg::aws
