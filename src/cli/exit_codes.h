// @file exit_codes.h
// @brief The exit codes of the `modelgate` client subcommands, which scripts rely on, and the
// mapping from an admin-API answer to one. The same table is printed by `modelgate --help` and
// documented in README.md ("CLI"); tests/integration/cli.test.mjs checks every row.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <string_view>

namespace mg::cli {

inline constexpr int kExitOk = 0;           // success
inline constexpr int kExitApiError = 1;     // the API answered an error not listed below
inline constexpr int kExitUsage = 2;        // bad flags, missing secret or API key, bad --url
inline constexpr int kExitUnreachable = 3;  // cannot connect, TLS failure, timeout
inline constexpr int kExitAuth = 4;         // 401 or 403: the key is wrong or the role forbids
inline constexpr int kExitNotFound = 5;     // 404: no such id
inline constexpr int kExitConflict = 6;     // 409: duplicate name, still in use
inline constexpr int kExitCheckFailed = 7;  // a check ran and failed: `credentials test` says
                                            // ok:false, a model is unhealthy (`models health`,
                                            // `models check`, `health`)

// The exit code for an HTTP status from the admin API: 0 for 1xx-3xx, then the table above.
int ExitCodeForStatus(int http_status);

// The exit-code table as printed at the end of `modelgate --help`.
inline constexpr std::string_view kExitCodesHelp =
    "Exit codes of the client subcommands:\n"
    "  0  success\n"
    "  1  the API answered an error (4xx/5xx other than those below)\n"
    "  2  usage error: bad flags, no API key, bad --url, secret missing on stdin or in a file\n"
    "  3  cannot reach the server: connection refused, DNS, TLS failure, timeout\n"
    "  4  authentication or authorization failed (HTTP 401/403)\n"
    "  5  not found (HTTP 404)\n"
    "  6  conflict (HTTP 409): duplicate name, credential still in use\n"
    "  7  a check ran and failed: credentials test not ok, a model unhealthy\n";

}  // namespace mg::cli
