#include "crypto/crypto.h"

#include <gtest/gtest.h>

namespace mg::crypto {
namespace {

TEST(Sha256, MatchesKnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Hasher h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(HexEncode(h.Finish()), Sha256Hex("abc"));
}

TEST(HmacSha256, MatchesRfc4231Case2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Encoding, HexAndBase64RoundTrip) {
  std::string bytes("\x00\x01\xfe\xff hello", 10);
  EXPECT_EQ(HexDecode(HexEncode(bytes)).value(), bytes);
  EXPECT_EQ(Base64Decode(Base64Encode(bytes)).value(), bytes);
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Decode("Zm9vYg==").value(), "foob");
  EXPECT_FALSE(Base64Decode("Zm9vYg="));
  EXPECT_FALSE(Base64Decode("Zm9v!g=="));
  EXPECT_FALSE(HexDecode("abc"));
  EXPECT_FALSE(HexDecode("zz"));
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Random, ProducesDistinctBytes) {
  EXPECT_EQ(RandomBytes(32).size(), 32u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "ab"));
}

}  // namespace
}  // namespace mg::crypto
