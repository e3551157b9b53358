#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "crypto/crypto.h"

namespace mg::crypto {
namespace {

TEST(Aead, RoundTripsWithAad) {
  std::string key = RandomBytes(kAeadKeySize);
  std::string sealed = AeadSeal(key, "secret access key", "cred_1");
  EXPECT_EQ(sealed.size(), kAeadNonceSize + 17 + kAeadTagSize);
  EXPECT_EQ(sealed.find("secret access key"), std::string::npos);
  EXPECT_EQ(AeadOpen(key, sealed, "cred_1").value(), "secret access key");
}

TEST(Aead, SameInputGivesDifferentCiphertexts) {
  std::string key = RandomBytes(kAeadKeySize);
  EXPECT_NE(AeadSeal(key, "x", ""), AeadSeal(key, "x", ""));
}

TEST(Aead, DetectsTamperingWrongKeyAndWrongAad) {
  std::string key = RandomBytes(kAeadKeySize);
  std::string sealed = AeadSeal(key, "payload", "aad");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string t = sealed;
    t[i] = static_cast<char>(t[i] ^ 0x01);
    EXPECT_FALSE(AeadOpen(key, t, "aad")) << "byte " << i;
  }
  EXPECT_FALSE(AeadOpen(RandomBytes(kAeadKeySize), sealed, "aad"));
  EXPECT_FALSE(AeadOpen(key, sealed, "other"));
  EXPECT_FALSE(AeadOpen(key, sealed.substr(0, 20), "aad"));
  EXPECT_FALSE(AeadOpen(key.substr(1), sealed, "aad"));
}

}  // namespace
}  // namespace mg::crypto
