// @file encoding.h
// @brief Building admin-API request targets: percent-encoding of ids in path segments (model
// ids contain ':' '/' '.', admin-api "Models") and of query parameters.
//
// Thread-safety: pure functions.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::cli {

// Encodes one path segment: every byte outside the RFC 3986 unreserved set
// (A-Z a-z 0-9 - . _ ~) becomes %XX (upper-case hex), so '/', ':', '%', '?', '#' and spaces
// stay inside the segment. "." and ".." are encoded too ("%2E"), so they never mean a
// directory step to the server.
std::string EncodePathSegment(std::string_view segment);

// `literal_prefix` taken as is, then "/" + EncodePathSegment(s) for each segment:
// PathWithIds("/admin/v1/models", {"a/b:c", "health"}) == "/admin/v1/models/a%2Fb%3Ac/health".
std::string PathWithIds(std::string_view literal_prefix,
                        std::initializer_list<std::string_view> segments);

// "?k=v&k2=v2" with keys and values percent-encoded as EncodePathSegment does (space is %20);
// parameters with an empty value are left out; "" when none remain.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace mg::cli
