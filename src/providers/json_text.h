// @file json_text.h
// @brief Appending compact JSON text to a std::string: the codecs write their bodies directly
// instead of building a DOM and serialising it (the translation hot path).
//
// Strings must be valid UTF-8 (everything the codecs write comes from a validated JSON parse);
// only `"`, `\` and control characters are escaped. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mg::providers {

// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view s);
// Appends the shortest text that reads back as `v` ("0.5", "1", "1e-07"). Non-finite values,
// which JSON cannot express, are written as 0.
void AppendJsonNumber(std::string& out, double v);
void AppendJsonNumber(std::string& out, int64_t v);

}  // namespace mg::providers
