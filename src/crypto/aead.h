// @file aead.h
// @brief AES-256-GCM authenticated encryption. Output layout: nonce(12) | ciphertext | tag(16).
// A fresh random nonce per call. `aad` is authenticated but not encrypted (bind ciphertexts to
// their owner/key id so they cannot be swapped). Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mg::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;

// Precondition: key.size() == kAeadKeySize (checked; aborts otherwise: a programming error).
std::string AeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad);
// nullopt when the input is too short, was tampered with, or the key/aad is wrong.
std::optional<std::string> AeadOpen(std::string_view key, std::string_view sealed,
                                    std::string_view aad);

}  // namespace mg::crypto
