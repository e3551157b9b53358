// @file error.h
// @brief The one error taxonomy of modelgate: a small closed ErrorCode plus the contract's
// machine-readable `code` string, a human message and the offending parameter.
//
// ErrorCode decides the HTTP status (HttpStatus) and log level (LogLevelFor); `reason` is the
// contract's `error.code` ("credential_in_use", "model_not_found", ...). Messages must never
// contain a secret: build them from names and ids only.
//
// Thread-safety: value type.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mg {

enum class ErrorCode {
  kInvalidArgument,      // 400: the caller's input is wrong
  kUnauthenticated,      // 401: no, unknown or revoked key
  kForbidden,            // 403: role or team forbids
  kNotFound,             // 404: unknown id or route
  kMethodNotAllowed,     // 405
  kConflict,             // 409: duplicate name, still in use
  kPayloadTooLarge,      // 413
  kUnprocessable,        // 422: well-formed, rejected by the provider (e.g. not in catalog)
  kRateLimited,          // 429: the gateway's or the provider's limit
  kInternal,             // 500: a bug or an unexpected failure of ours
  kUpstreamError,        // 502: provider failed or answered nonsense
  kUnavailable,          // 503: model out of the pool, store down
  kTimeout,              // 504: provider did not answer within the deadline
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string reason;   // contract `error.code`, snake_case
  std::string message;  // for humans; never a secret
  std::string param;    // the field at fault, empty when none
  // For 429/503: how long the caller should wait. Sent as Retry-After / retry-after-ms.
  std::optional<std::chrono::milliseconds> retry_after;
  // For 502 upstream_auth_failed: tells SDKs not to retry (x-should-retry: false).
  bool no_retry = false;
  // Upstream failures only: the admin-api health cause ("credentials_invalid", ...) and the
  // admin-facing explanation (what the provider said, sanitised, and what to check). Never sent
  // to data-plane callers.
  std::string health_cause;
  std::string health_message;

  Error() = default;
  Error(ErrorCode c, std::string r, std::string m, std::string p = {})
      : code(c), reason(std::move(r)), message(std::move(m)), param(std::move(p)) {}

  Error&& WithRetryAfter(std::chrono::milliseconds d) && {
    retry_after = d;
    return std::move(*this);
  }
};

// HTTP status for a code. The only such mapping in the code base.
int HttpStatus(ErrorCode code);
// Contract `error.type` ("invalid_request_error", "permission_error", ...).
std::string_view ErrorType(ErrorCode code);
// Writer `tpe` ("BadRequest", "Forbidden", ...).
std::string_view ErrorTpe(ErrorCode code);

enum class LogLevel { kDebug, kInfo, kWarn, kError };
// Log level for a failed request with this code: the only such mapping.
LogLevel LogLevelFor(ErrorCode code);

// Convenience constructors for the most common errors.
Error InvalidArgument(std::string message, std::string param = {},
                      std::string reason = "invalid_parameter");
Error NotFound(std::string reason, std::string message);
Error Conflict(std::string reason, std::string message, std::string param = {});
Error Forbidden(std::string reason, std::string message);
Error Internal(std::string message);

}  // namespace mg
