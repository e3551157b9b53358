#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "core/check.h"

namespace mg::crypto {

namespace {

// OpenSSL 3 looks an algorithm up in its provider store (under a lock) every time it is named
// by a legacy handle such as EVP_sha256(); fetching once and reusing per-thread contexts keeps
// the store out of every hash (SigV4 hashes and MACs several times per request).
const EVP_MD* Sha256Md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  MG_CHECK(md != nullptr, "the OpenSSL default provider has no SHA256");
  return md;
}

// This thread's digest context, re-initialised for each hash.
EVP_MD_CTX* ThreadDigestContext() {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder holder;
  MG_CHECK(holder.ctx != nullptr, "EVP_MD_CTX_new failed: out of memory");
  return holder.ctx;
}

// This thread's HMAC-SHA256 context: the digest is set once, EVP_MAC_init takes each new key.
EVP_MAC_CTX* ThreadHmacContext() {
  struct Holder {
    EVP_MAC_CTX* ctx = nullptr;
    Holder() {
      EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      MG_CHECK(mac != nullptr, "the OpenSSL default provider has no HMAC");
      ctx = EVP_MAC_CTX_new(mac);
      EVP_MAC_free(mac);  // the context keeps its own reference
      MG_CHECK(ctx != nullptr, "EVP_MAC_CTX_new failed: out of memory");
      char digest[] = "SHA256";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
      MG_CHECK(EVP_MAC_CTX_set_params(ctx, params) == 1, "HMAC: SHA256 digest refused");
    }
    ~Holder() { EVP_MAC_CTX_free(ctx); }
  };
  thread_local Holder holder;
  return holder.ctx;
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out;
  unsigned int len = 0;
  EVP_MD_CTX* ctx = ThreadDigestContext();
  MG_CHECK(EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) == 1 &&
               EVP_DigestUpdate(ctx, data.data(), data.size()) == 1 &&
               EVP_DigestFinal_ex(ctx, out.data(), &len) == 1,
           "SHA-256 cannot fail with a fetched digest");
  return out;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
  Sha256Digest out;
  size_t len = 0;
  EVP_MAC_CTX* ctx = ThreadHmacContext();
  // An empty key is valid for HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const auto* k = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  MG_CHECK(EVP_MAC_init(ctx, k, key.size(), nullptr) == 1 &&
               EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                              data.size()) == 1 &&
               EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1,
           "HMAC-SHA256 cannot fail with a fetched MAC");
  return out;
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  return HexEncode(HmacSha256(key, data));
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  MG_CHECK(ctx_ && EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(), nullptr) == 1,
           "EVP_DigestInit_ex(sha256) failed: out of memory");
}
Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256Hasher::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}
Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &len);
  return out;
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    s[2 * i] = kHex[bytes[i] >> 4];
    s[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return s;
}

std::string HexEncode(std::string_view bytes) {
  return HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            bytes.size()));
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view b64) {
  if (b64.size() % 4) return std::nullopt;
  for (char c : b64) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      return std::nullopt;
    }
  }
  std::string out(3 * (b64.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; strip them.
  size_t pad = 0;
  if (!b64.empty() && b64.back() == '=') ++pad;
  if (b64.size() > 1 && b64[b64.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string s = Base64Encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return s;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  MG_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1,
           "RAND_bytes failed: no entropy source");
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void Cleanse(void* p, size_t n) { OPENSSL_cleanse(p, n); }

}  // namespace mg::crypto
