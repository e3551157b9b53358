// @file log.h
// @brief The logging facade. Each line is an event name plus key=value fields:
//   2026-12-03T10:00:00.123Z info event=provider_cooldown model=m1 failures=3
// Never pass secrets, Authorization headers or prompt/response bodies. Values containing
// spaces, quotes or '=' are quoted. Thread-safety: all functions are thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/error.h"

namespace mg::log {

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  std::string_view key;
  std::string value;
};

// Sets the minimum level written (default info). Call once at start-up.
void SetLevel(LogLevel level);
bool Enabled(LogLevel level);

// Writes "event=<event> k=v ..." at the given level.
void Event(LogLevel level, std::string_view event, std::initializer_list<Field> fields = {});
// Writes a free-form line (used for the "listening on HOST:PORT" contract line).
void Line(LogLevel level, std::string_view text);

inline void Debug(std::string_view e, std::initializer_list<Field> f = {}) {
  if (Enabled(LogLevel::kDebug)) Event(LogLevel::kDebug, e, f);
}
inline void Info(std::string_view e, std::initializer_list<Field> f = {}) {
  Event(LogLevel::kInfo, e, f);
}
inline void Warn(std::string_view e, std::initializer_list<Field> f = {}) {
  Event(LogLevel::kWarn, e, f);
}
inline void Error(std::string_view e, std::initializer_list<Field> f = {}) {
  Event(LogLevel::kError, e, f);
}

// Appends " key=value" to `line` with the quoting of Event (for lines whose fields are only
// known at run time, like the access line; write them with Line()).
void AppendField(std::string& line, std::string_view key, std::string_view value);

// Flushes buffered lines (call before exit).
void Flush();

}  // namespace mg::log
