// @file enum_names.h
// @brief The stable snake_case names of the store's enums (Role, HealthStatus, AuthType).
//
// These names are part of the admin API contract ("org_admin", "healthy", "access_keys") and of
// the persisted schema (backends store enums by name, never by ordinal), so they never change.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "store/records.h"

namespace mg::store {

// "org_admin", "it_admin", "full_access", "builder", "member".
std::string_view RoleName(Role role);
// Inverse of RoleName; nullopt for any other string (case-sensitive).
std::optional<Role> ParseRole(std::string_view name);

// "unknown", "healthy", "unhealthy".
std::string_view HealthStatusName(HealthStatus status);
std::optional<HealthStatus> ParseHealthStatus(std::string_view name);

// "access_keys", "role_arn".
std::string_view AuthTypeName(AuthType type);
std::optional<AuthType> ParseAuthType(std::string_view name);

}  // namespace mg::store
