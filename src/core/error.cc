#include "core/error.h"

namespace mg {

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnprocessable: return 422;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kUpstreamError: return 502;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kTimeout: return 504;
  }
  return 500;
}

std::string_view ErrorType(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kMethodNotAllowed:
    case ErrorCode::kPayloadTooLarge:
    case ErrorCode::kUnprocessable: return "invalid_request_error";
    case ErrorCode::kConflict: return "conflict_error";
    case ErrorCode::kUnauthenticated: return "authentication_error";
    case ErrorCode::kForbidden: return "permission_error";
    case ErrorCode::kNotFound: return "not_found_error";
    case ErrorCode::kRateLimited: return "rate_limit_error";
    case ErrorCode::kInternal: return "api_error";
    case ErrorCode::kUpstreamError: return "upstream_error";
    case ErrorCode::kUnavailable: return "service_unavailable_error";
    case ErrorCode::kTimeout: return "timeout_error";
  }
  return "api_error";
}

std::string_view ErrorTpe(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "BadRequest";
    case ErrorCode::kUnauthenticated: return "Unauthorized";
    case ErrorCode::kForbidden: return "Forbidden";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kMethodNotAllowed: return "MethodNotAllowed";
    case ErrorCode::kConflict: return "Conflict";
    case ErrorCode::kPayloadTooLarge: return "PayloadTooLarge";
    case ErrorCode::kUnprocessable: return "UnprocessableEntity";
    case ErrorCode::kRateLimited: return "TooManyRequests";
    case ErrorCode::kInternal: return "InternalServerError";
    case ErrorCode::kUpstreamError: return "BadGateway";
    case ErrorCode::kUnavailable: return "ServiceUnavailable";
    case ErrorCode::kTimeout: return "GatewayTimeout";
  }
  return "InternalServerError";
}

LogLevel LogLevelFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal: return LogLevel::kError;
    case ErrorCode::kUpstreamError:
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout: return LogLevel::kWarn;
    default: return LogLevel::kInfo;
  }
}

Error InvalidArgument(std::string message, std::string param, std::string reason) {
  return Error(ErrorCode::kInvalidArgument, std::move(reason), std::move(message),
               std::move(param));
}
Error NotFound(std::string reason, std::string message) {
  return Error(ErrorCode::kNotFound, std::move(reason), std::move(message));
}
Error Conflict(std::string reason, std::string message, std::string param) {
  return Error(ErrorCode::kConflict, std::move(reason), std::move(message), std::move(param));
}
Error Forbidden(std::string reason, std::string message) {
  return Error(ErrorCode::kForbidden, std::move(reason), std::move(message));
}
Error Internal(std::string message) {
  return Error(ErrorCode::kInternal, "internal_error", std::move(message));
}

}  // namespace mg
