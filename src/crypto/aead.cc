#include "crypto/aead.h"

#include <openssl/evp.h>

#include <memory>

#include "core/check.h"
#include "crypto/crypto.h"

namespace mg::crypto {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string AeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  MG_CHECK(key.size() == kAeadKeySize, "AES-256-GCM key must be 32 bytes");
  std::string nonce = RandomBytes(kAeadNonceSize);
  std::string out;
  out.resize(kAeadNonceSize + plaintext.size() + kAeadTagSize);
  std::copy(nonce.begin(), nonce.end(), out.begin());
  Ctx ctx(EVP_CIPHER_CTX_new());
  MG_CHECK(ctx != nullptr, "EVP_CIPHER_CTX_new: out of memory");
  int len = 0;
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + kAeadNonceSize);
  bool ok = EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kAeadNonceSize, nullptr) ==
                1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) == 1 &&
            (aad.empty() || EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad),
                                              static_cast<int>(aad.size())) == 1) &&
            EVP_EncryptUpdate(ctx.get(), ct, &len, U(plaintext),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagSize,
                                out.data() + kAeadNonceSize + plaintext.size()) == 1;
  MG_CHECK(ok, "AES-256-GCM encryption cannot fail with valid parameters");
  return out;
}

std::optional<std::string> AeadOpen(std::string_view key, std::string_view sealed,
                                    std::string_view aad) {
  if (key.size() != kAeadKeySize || sealed.size() < kAeadNonceSize + kAeadTagSize) {
    return std::nullopt;
  }
  std::string_view nonce = sealed.substr(0, kAeadNonceSize);
  std::string_view ct = sealed.substr(kAeadNonceSize, sealed.size() - kAeadNonceSize -
                                                          kAeadTagSize);
  std::string tag(sealed.substr(sealed.size() - kAeadTagSize));
  std::string out(ct.size(), '\0');
  Ctx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  int len = 0;
  auto* pt = reinterpret_cast<unsigned char*>(out.data());
  bool ok = EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kAeadNonceSize, nullptr) ==
                1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(key), U(nonce)) == 1 &&
            (aad.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad),
                                              static_cast<int>(aad.size())) == 1) &&
            EVP_DecryptUpdate(ctx.get(), pt, &len, U(ct), static_cast<int>(ct.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagSize, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), pt + len, &len) == 1;
  if (!ok) {
    Cleanse(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

}  // namespace mg::crypto
