// @file error_body.h
// @brief The one error body of every endpoint (client-api §7.1, admin-api "Errors"):
//   {"error":{"message","type","code","param"},"message","tpe","errors":[{"description","key",
//    "extras"}],"extras":{"request_id"}}
// `error` is the admin-api shape; the other keys serve Writer SDK clients. Thread-safety: pure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace mg::server {

// The JSON body for `e`. `param` is null when empty.
std::string RenderErrorBody(const Error& e, std::string_view request_id);

// Extra response headers the contract requires for `e`: Retry-After (whole seconds, at least 1)
// and retry-after-ms when e.retry_after is set; x-should-retry: false when e.no_retry.
std::vector<std::pair<std::string, std::string>> ErrorHeaders(const Error& e);

}  // namespace mg::server
