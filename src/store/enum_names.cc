#include "store/enum_names.h"

#include <array>
#include <utility>

namespace mg::store {
namespace {

// One table per enum keeps the two directions from drifting apart.
constexpr std::array<std::pair<Role, std::string_view>, 5> kRoles{{
    {Role::kOrgAdmin, "org_admin"},
    {Role::kItAdmin, "it_admin"},
    {Role::kFullAccess, "full_access"},
    {Role::kBuilder, "builder"},
    {Role::kMember, "member"},
}};
constexpr std::array<std::pair<HealthStatus, std::string_view>, 3> kHealthStatuses{{
    {HealthStatus::kUnknown, "unknown"},
    {HealthStatus::kHealthy, "healthy"},
    {HealthStatus::kUnhealthy, "unhealthy"},
}};
constexpr std::array<std::pair<AuthType, std::string_view>, 2> kAuthTypes{{
    {AuthType::kAccessKeys, "access_keys"},
    {AuthType::kRoleArn, "role_arn"},
}};

template <class Enum, size_t N>
std::string_view NameOf(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  // Every enumerator is in its table (the unit test walks them all); an out-of-range value
  // can only come from a cast bug.
  return "invalid";
}

template <class Enum, size_t N>
std::optional<Enum> Parse(const std::array<std::pair<Enum, std::string_view>, N>& table,
                          std::string_view s) {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view RoleName(Role role) { return NameOf(kRoles, role); }
std::optional<Role> ParseRole(std::string_view name) { return Parse(kRoles, name); }

std::string_view HealthStatusName(HealthStatus status) { return NameOf(kHealthStatuses, status); }
std::optional<HealthStatus> ParseHealthStatus(std::string_view name) {
  return Parse(kHealthStatuses, name);
}

std::string_view AuthTypeName(AuthType type) { return NameOf(kAuthTypes, type); }
std::optional<AuthType> ParseAuthType(std::string_view name) { return Parse(kAuthTypes, name); }

}  // namespace mg::store
