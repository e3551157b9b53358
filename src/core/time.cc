#include "core/time.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace mg {
namespace {

std::tm ToTm(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

bool ParseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string FormatRfc3339(SystemTime t) {
  std::tm tm = ToTm(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string FormatRfc3339Millis(SystemTime t) {
  auto floor_s = std::chrono::floor<std::chrono::seconds>(t);
  std::tm tm = ToTm(floor_s);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - floor_s).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms));
  return buf;
}

std::optional<SystemTime> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  int y, mo, d, h, mi, se;
  if (!ParseInt(s.substr(0, 4), y) || !ParseInt(s.substr(5, 2), mo) ||
      !ParseInt(s.substr(8, 2), d) || !ParseInt(s.substr(11, 2), h) ||
      !ParseInt(s.substr(14, 2), mi) || !ParseInt(s.substr(17, 2), se)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t i = 19;
  int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 3; ++k) millis *= 10;
  }
  int offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh, om;
    if (!ParseInt(s.substr(i + 1, 2), oh) || !ParseInt(s.substr(i + 4, 2), om)) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  using namespace std::chrono;
  auto ymd = year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)};
  if (!ymd.ok()) return std::nullopt;
  // SystemTime counts nanoseconds in 64 bits: it ends in 2262. Later times would wrap around
  // into the past, so they are not representable, hence malformed here.
  if (y < 1678 || y > 2261) return std::nullopt;
  SystemTime t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} + milliseconds{millis} -
                 minutes{offset_min};
  return t;
}

int64_t UnixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
int64_t UnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
SystemTime FromUnixMillis(int64_t ms) {
  return SystemTime{std::chrono::milliseconds{ms}};
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view s) {
  auto bad = [&] {
    return InvalidArgument("invalid duration '" + std::string(s) +
                           "': expected a whole number followed by ms, s, m, h or d (e.g. 300ms, "
                           "2s, 5m)");
  };
  if (s == "0") return std::chrono::milliseconds{0};
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 12) return bad();
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + n, v);
  std::string_view unit = s.substr(n);
  using namespace std::chrono;
  if (unit == "ms") return milliseconds{v};
  if (unit == "s") return duration_cast<milliseconds>(seconds{v});
  if (unit == "m") return duration_cast<milliseconds>(minutes{v});
  if (unit == "h") return duration_cast<milliseconds>(hours{v});
  if (unit == "d") return duration_cast<milliseconds>(hours{24 * v});
  return bad();
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0";
  if (ms % 86400000 == 0) return std::to_string(ms / 86400000) + "d";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace mg
