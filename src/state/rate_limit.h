// @file rate_limit.h
// @brief RateBucket: the token bucket behind the gateway's own per-API-key request limit
// (client-api §7.2 "Gateway's own per-team/per-key limit": 429 rate_limit_exceeded). One bucket
// per key, shared by consecutive snapshots like the key's last-used counter.
//
// Thread-safety: thread-safe. Each bucket has its own mutex, held for a few arithmetic
// operations; there is no lock shared between keys.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>

#include "core/clock.h"

namespace mg::state {

class RateBucket {
 public:
  // Takes one token when one is available (nullopt); otherwise returns how long until one is.
  // The bucket holds at most `burst` tokens and refills at `per_second`.
  std::optional<std::chrono::milliseconds> TryTake(SteadyTime now, double per_second,
                                                   double burst) {
    std::lock_guard lock(mu_);
    if (!started_) {
      started_ = true;
      tokens_ = burst;
    } else {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst, tokens_ + std::max(0.0, elapsed) * per_second);
    }
    last_ = now;
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return std::nullopt;
    }
    const double wait_s = (1.0 - tokens_) / per_second;
    return std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000.0) + 1);
  }

 private:
  std::mutex mu_;
  bool started_ = false;  // guarded by mu_
  double tokens_ = 0;     // guarded by mu_
  SteadyTime last_{};     // guarded by mu_
};

}  // namespace mg::state
