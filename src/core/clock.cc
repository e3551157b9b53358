#include "core/clock.h"

namespace mg {

SystemTime RealClock::Now() const { return std::chrono::system_clock::now(); }
SteadyTime RealClock::SteadyNow() const { return std::chrono::steady_clock::now(); }

}  // namespace mg
