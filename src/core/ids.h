// @file ids.h
// @brief Identifiers: "<prefix>_<26 chars>" (e.g. "cred_01jd..."), time-ordered and random.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace mg {

// A new id with the given prefix: prefix + "_" + 10 chars of millisecond time (Crockford base32)
// + 16 random chars. Sorts by creation time. Thread-safe.
std::string NewId(std::string_view prefix, SystemTime now);
// A random UUID v4 in canonical form (for response ids like "chatcmpl-<uuid>").
std::string NewUuid();

}  // namespace mg
