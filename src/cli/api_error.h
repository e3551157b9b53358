// @file api_error.h
// @brief Reading the admin API's error shape (admin-api "Errors":
// {"error": {"type", "code", "message", "param"}}) into what the CLI prints on stderr.
//
// Thread-safety: value type and pure functions.
#pragma once

#include <string>
#include <string_view>

namespace mg::cli {

struct ApiError {
  int status = 0;
  std::string type;     // contract error.type, empty when absent
  std::string code;     // contract error.code ("credential_in_use", ...), empty when absent
  std::string message;  // error.message; a fallback naming the status when the body has none
  std::string param;    // error.param, empty when null or absent
};

// Parses an error answer. Never fails: a body that is not the contract's shape (a proxy's HTML
// page, an empty body) gives message "the server answered HTTP <status> without an error
// message" and empty code/param; the body itself is never echoed.
ApiError ParseApiError(int status, std::string_view body);

// One line for stderr, without a trailing newline:
// "No credential 'x'. (param: credential, code: credential_not_found, HTTP 404)"; the
// parenthesis lists only the parts that are present.
std::string FormatApiError(const ApiError& error);

}  // namespace mg::cli
