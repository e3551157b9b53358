// @file secret.h
// @brief Secret: a string that cannot be printed by accident.
//
// No implicit conversion to string, streams print "[redacted]", fmt cannot format it
// (no formatter), the bytes are wiped on destruction and on move-from. Read the value only
// through Reveal(), at the last moment (signing, encryption). Thread-safety: value type.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace mg {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      Wipe();
      value_ = other.value_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();
    }
    return *this;
  }
  ~Secret() { Wipe(); }

  // The plaintext. Do not store the view beyond the Secret's lifetime, log it or put it in a
  // message.
  std::string_view Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }

  friend bool operator==(const Secret& a, const Secret& b);  // constant time

  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "[redacted]"; }

 private:
  void Wipe() noexcept {
    // volatile writes are not elided by the optimiser.
    volatile char* p = value_.data();
    for (size_t i = 0; i < value_.size(); ++i) p[i] = 0;
    value_.clear();
  }
  std::string value_;
};

inline bool operator==(const Secret& a, const Secret& b) {
  if (a.value_.size() != b.value_.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.value_.size(); ++i) {
    diff |= static_cast<unsigned char>(a.value_[i] ^ b.value_[i]);
  }
  return diff == 0;
}

}  // namespace mg
