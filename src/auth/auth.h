// @file auth.h
// @brief API keys (generation, hashing, Bearer parsing, lookup) and the role permission table
// of admin-api.md. Keys look like "mg_<43 base64url chars>" (256 random bits); only the hex
// SHA-256 of the whole key is stored. Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "state/snapshot.h"
#include "store/records.h"

namespace mg::auth {

inline constexpr std::string_view kKeyPrefix = "mg_";

struct NewApiKey {
  std::string key;     // shown to the user once
  std::string prefix;  // first 12 characters, safe to display
  std::string hash;    // hex SHA-256, what the store keeps
};

NewApiKey GenerateApiKey();
std::string HashApiKey(std::string_view key);

// The token of "Bearer <token>" (scheme case-insensitive, one or more spaces). nullopt when the
// header is not a Bearer credential.
std::optional<std::string_view> ParseBearer(std::string_view authorization);

// Resolves the Authorization header against the snapshot and records the use (an atomic store;
// no I/O). 401 invalid_api_key when missing, malformed, unknown or revoked.
Result<const state::KeyEntry*> Authenticate(const state::Snapshot& snapshot,
                                            std::optional<std::string_view> authorization,
                                            SystemTime now);

// admin-api role table.
bool CanManageProviders(store::Role role);  // credentials, models, catalogs
bool CanManageUsers(store::Role role);      // teams, users, other users' keys
bool CanReadAudit(store::Role role);
bool CanUseModels(store::Role role);        // data plane (subject to team access)

}  // namespace mg::auth
