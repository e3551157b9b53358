#include "core/ids.h"

#include <array>
#include <cstdint>
#include <random>

#include "core/time.h"

namespace mg {
namespace {

constexpr std::string_view kCrockford = "0123456789abcdefghjkmnpqrstvwxyz";

// Per-thread generator seeded from the OS; ids need uniqueness, not secrecy (keys and secrets
// use crypto::RandomBytes).
std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace

std::string NewId(std::string_view prefix, SystemTime now) {
  std::string out(prefix);
  out.push_back('_');
  uint64_t ms = static_cast<uint64_t>(UnixMillis(now));
  char t[10];
  for (int i = 9; i >= 0; --i) {
    t[i] = kCrockford[ms & 31];
    ms >>= 5;
  }
  out.append(t, 10);
  uint64_t r1 = Rng()(), r2 = Rng()();
  for (int i = 0; i < 16; ++i) {
    uint64_t& r = i < 8 ? r1 : r2;
    out.push_back(kCrockford[r & 31]);
    r >>= 5;
  }
  return out;
}

std::string NewUuid() {
  std::array<uint8_t, 16> b;
  uint64_t r1 = Rng()(), r2 = Rng()();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(r1 >> (i * 8));
    b[8 + i] = static_cast<uint8_t>(r2 >> (i * 8));
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

}  // namespace mg
