#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>

namespace mg::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

spdlog::logger& Logger() {
  // Constructed on first use; lives until exit. stderr, UTC timestamps.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("modelgate");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::debug);
    l->flush_on(spdlog::level::debug);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum ToSpd(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  value = buf;
}

static void AppendValue(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t' || c == '\\') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\t': out.append("\\t"); break;
      default: out.push_back(c);
    }
  }
  out.push_back('"');
}

void AppendField(std::string& line, std::string_view key, std::string_view value) {
  line.push_back(' ');
  line.append(key);
  line.push_back('=');
  AppendValue(line, value);
}

void SetLevel(LogLevel level) { g_min_level.store(static_cast<int>(level)); }

bool Enabled(LogLevel level) { return static_cast<int>(level) >= g_min_level.load(); }

void Event(LogLevel level, std::string_view event, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line;
  line.reserve(64 + fields.size() * 24);
  line.append("event=");
  line.append(event);
  for (const Field& f : fields) AppendField(line, f.key, f.value);
  Logger().log(ToSpd(level), std::string_view(line));
}

void Line(LogLevel level, std::string_view text) {
  if (!Enabled(level)) return;
  Logger().log(ToSpd(level), text);
}

void Flush() { Logger().flush(); }

}  // namespace mg::log
