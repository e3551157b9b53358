// @file clock.h
// @brief The injected source of time. Only core/ reads the real clocks; everything else asks a
// Clock, so tests can use tests/fakes/fake_clock.h. Thread-safety: implementations are
// thread-safe.
#pragma once

#include <chrono>

namespace mg {

using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (timestamps, SigV4 dates, expiry).
  virtual SystemTime Now() const = 0;
  // Monotonic time (latencies, deadlines, cooldowns).
  virtual SteadyTime SteadyNow() const = 0;
};

// The real clocks.
class RealClock final : public Clock {
 public:
  SystemTime Now() const override;
  SteadyTime SteadyNow() const override;
};

}  // namespace mg
