#include "providers/aws/crc32.h"

#include <string>

#include <gtest/gtest.h>

namespace mg::aws {
namespace {

TEST(Crc32, MatchesTheStandardCheckValue) {
  // CRC-32/ISO-HDLC catalogue check value.
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

TEST(Crc32, IncrementalEqualsOneShotAtEverySplit) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  const uint32_t whole = Crc32(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t first = Crc32Extend(0, std::string_view(data).substr(0, split));
    EXPECT_EQ(Crc32Extend(first, std::string_view(data).substr(split)), whole) << split;
  }
}

TEST(Crc32, EventStreamPreludeOfKnownFrame) {
  // text-01-messageStart.bin: total 138, headers 82 -> prelude CRC 454117250 (cases.json).
  const std::string prelude("\x00\x00\x00\x8a\x00\x00\x00\x52", 8);
  EXPECT_EQ(Crc32(prelude), 454117250u);
}

}  // namespace
}  // namespace mg::aws
