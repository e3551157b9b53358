// @file time.h
// @brief Time formatting and parsing: RFC 3339 UTC timestamps ("2026-12-03T10:00:00Z") and
// human durations ("300ms", "2s", "5m", "1h", "90d").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace mg {

// "2026-12-03T10:00:00Z" (second precision, UTC).
std::string FormatRfc3339(SystemTime t);
// "2026-12-03T10:00:00.123Z" (millisecond precision, UTC).
std::string FormatRfc3339Millis(SystemTime t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z" and "+HH:MM" offsets. Returns nullopt when malformed.
std::optional<SystemTime> ParseRfc3339(std::string_view s);

int64_t UnixSeconds(SystemTime t);
int64_t UnixMillis(SystemTime t);
SystemTime FromUnixMillis(int64_t ms);

// Parses "<integer><unit>" with unit ms, s, m, h or d; also a bare "0". Errors name the input.
Result<std::chrono::milliseconds> ParseDuration(std::string_view s);
// Inverse of ParseDuration, picking the largest exact unit ("5m", "1500ms").
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace mg
