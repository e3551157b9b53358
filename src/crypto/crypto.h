// @file crypto.h
// @brief Hashing, HMAC, encodings, randomness and constant-time comparison over OpenSSL 3.
// The only folder that may include OpenSSL headers. Thread-safety: all functions are pure or
// use thread-safe OpenSSL APIs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mg::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
Sha256Digest HmacSha256(std::string_view key, std::string_view data);
// Lower-case hex of HMAC-SHA256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Incremental SHA-256 (for bodies that arrive in pieces).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::string_view data);
  Sha256Digest Finish();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

std::string HexEncode(std::span<const uint8_t> bytes);
std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; whitespace not allowed. nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view b64);
// URL-safe alphabet without padding (for API keys).
std::string Base64UrlEncode(std::string_view bytes);

// n cryptographically secure random bytes (RAND_bytes). Aborts if the CSPRNG fails, which only
// happens when the OS has no entropy source.
std::string RandomBytes(size_t n);

// Constant-time equality of two byte strings (length may leak).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// Wipes memory in a way the optimiser cannot elide (OPENSSL_cleanse).
void Cleanse(void* p, size_t n);

}  // namespace mg::crypto
