// @file health_cause.h
// @brief The admin-api health causes (admin-api.md "Health"): the only spelling of them. The
// provider layer classifies failures into these; the health monitor reports them.
#pragma once

#include <string_view>

namespace mg::health_cause {

inline constexpr std::string_view kCredentialsInvalid = "credentials_invalid";
inline constexpr std::string_view kPermissionDenied = "permission_denied";
inline constexpr std::string_view kModelNotAvailableInRegion = "model_not_available_in_region";
inline constexpr std::string_view kModelDeprecated = "model_deprecated";
inline constexpr std::string_view kThrottled = "throttled";
inline constexpr std::string_view kProviderUnavailable = "provider_unavailable";
inline constexpr std::string_view kTimeout = "timeout";
inline constexpr std::string_view kNetwork = "network";
inline constexpr std::string_view kModelRejectedRequest = "model_rejected_request";

}  // namespace mg::health_cause
