// @file credential.h
// @brief A provider credential as providers take it: static access keys or a role to assume,
// plus the default region. Built from the store's records by state/ (the secrets already opened
// by the vault); passed to every Provider call by value.
// Thread-safety: value types.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "core/secret.h"

namespace mg::providers {

// A static key pair (admin-api auth type `access_keys`). An empty session_token means none.
struct AccessKeysAuth {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;
};

// A role the gateway assumes with its own identity (admin-api auth type `role_arn`).
struct RoleArnAuth {
  std::string role_arn;
  std::string session_name;  // empty: the provider default ("enterprise-gateway")
  std::optional<std::string> external_id;
};

// A stored provider credential as the provider needs it.
struct ProviderCredential {
  std::string id;  // credential id, for logs
  // Identifies this version of the credential (e.g. "<id>@<updated_at>"): anything cached for it
  // (temporary STS sessions) is keyed by it, so a rotated credential never reuses old sessions.
  std::string cache_key;
  std::variant<AccessKeysAuth, RoleArnAuth> auth;
  std::string region;  // default region of calls made with it
};

}  // namespace mg::providers
