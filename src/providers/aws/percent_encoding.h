// @file percent_encoding.h
// @brief The AWS percent-encoding rule (SigV4 "UriEncode", bedrock.md §3 steps 3-4, §2.1, §4.1):
// every byte outside `A-Z a-z 0-9 - _ . ~` becomes `%XX` with upper-case hex; `/` is kept only
// when asked. Space is `%20`, never `+`. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace mg::aws {

enum class SlashPolicy { kEncode, kKeep };

// Appends the encoding of `in` to `out`.
void AppendPercentEncoded(std::string& out, std::string_view in,
                          SlashPolicy slash = SlashPolicy::kEncode);
std::string PercentEncode(std::string_view in, SlashPolicy slash = SlashPolicy::kEncode);

// Decodes `%XX` (either hex case). A `%` not followed by two hex digits is kept literally, and
// `+` stays `+` (SigV4 does not treat it as a space).
std::string PercentDecode(std::string_view in);

}  // namespace mg::aws
