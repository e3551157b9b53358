// @file records.h
// @brief Plain records persisted by the Store. No behaviour, no secrets in plaintext: secret
// fields hold vault envelopes (SealedSecret), which only credentials/ can open.
// Thread-safety: value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace mg::store {

enum class Role { kOrgAdmin, kItAdmin, kFullAccess, kBuilder, kMember };

struct Team {
  std::string id;    // "team_..."
  std::string name;  // unique
  SystemTime created_at;
  SystemTime updated_at;
};

struct User {
  std::string id;  // "user_..."
  std::string email;  // unique, may be empty for the bootstrap admin
  std::string name;   // display name ("admin" for the bootstrap user); not unique
  Role role = Role::kMember;
  std::vector<std::string> team_ids;  // sorted
  SystemTime created_at;
  SystemTime updated_at;
};

struct ApiKey {
  std::string id;       // "key_..."
  std::string user_id;
  std::string name;
  std::string prefix;   // first characters of the key, shown to identify it ("mg_live_AbCd")
  std::string hash;     // hex SHA-256 of the whole key; the key itself is never stored
  SystemTime created_at;
  std::optional<SystemTime> last_used_at;
  std::optional<SystemTime> revoked_at;
};

// A vault envelope: ciphertext produced by credentials::Vault. Opaque to the store.
struct SealedSecret {
  std::string data_key_id;  // which data key sealed it
  std::string ciphertext;   // nonce | ciphertext | tag (binary)
};

enum class AuthType { kAccessKeys, kRoleArn };

struct Credential {
  std::string id;    // "cred_..."
  std::string name;  // unique among named credentials; empty for inline ones
  bool is_inline = false;  // stored with one model only, never listed under /credentials
  std::string provider;    // "bedrock"
  std::string region;
  AuthType auth_type = AuthType::kAccessKeys;
  // access_keys
  std::string access_key_id;
  std::optional<SealedSecret> secret_access_key;
  std::optional<SealedSecret> session_token;
  // role_arn
  std::string role_arn;
  std::string session_name;
  std::string external_id;
  SystemTime created_at;
  SystemTime updated_at;
  SystemTime secret_rotated_at;
};

struct Model {
  std::string id;    // gateway id, unique; may contain ':' '.' '/'
  std::string name;
  std::string provider;
  std::string provider_model_id;
  std::string region;
  std::string credential_id;  // a named or inline credential
  bool all_teams = false;
  std::vector<std::string> team_ids;  // when !all_teams; sorted
  // The provider catalog's lifecycle when the model was added or last re-checked against the
  // catalog: "ACTIVE", "LEGACY", or empty when unknown.
  std::string lifecycle;
  // The catalog's input modalities ("TEXT", "IMAGE", ...); empty when unknown.
  std::vector<std::string> input_modalities;
  SystemTime created_at;
  SystemTime updated_at;
};

enum class HealthStatus { kUnknown, kHealthy, kUnhealthy };

// One recorded health check (bounded history per model).
struct HealthCheck {
  std::string model_id;
  SystemTime at;
  HealthStatus status = HealthStatus::kUnknown;
  int64_t latency_ms = 0;
  std::string cause;    // empty when healthy
  std::string message;  // sanitised, never a secret
};

// The persisted part of a model's health (survives restarts).
struct HealthState {
  std::string model_id;
  HealthStatus status = HealthStatus::kUnknown;
  bool in_pool = true;
  std::optional<SystemTime> last_checked_at;
  std::optional<SystemTime> next_check_at;
  std::optional<SystemTime> cooldown_until;
  std::string cause;
  std::string message;
  int consecutive_failures = 0;
};

struct AuditEvent {
  int64_t seq = 0;  // assigned by the store, increasing
  SystemTime at;
  std::string actor;    // user id, or "system"
  std::string action;   // "credential.create", "model.delete", "health.unhealthy", ...
  std::string target;   // id of the object
  std::string details;  // JSON object text, never a secret
};

// One health write: the model's state, the check that produced it (if any) and, for a
// transition, its audit event (Store::RecordHealthBatch).
struct HealthRecord {
  HealthState state;
  std::optional<HealthCheck> check;
  std::optional<AuditEvent> audit;
};

struct UsageRecord {
  SystemTime at;
  std::string request_id;
  std::string user_id;
  std::string team_id;  // the team through which access was granted; empty for all-teams
  std::string model_id;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t latency_ms = 0;
  std::string outcome;  // "ok" or an error reason
};

struct UsageRow {
  std::string key;  // model id, team id or user id
  int64_t requests = 0;
  int64_t errors = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

// A data key of the vault, wrapped (encrypted) by a master key.
struct DataKey {
  std::string id;             // "dk_..."
  std::string master_key_id;  // which master key wrapped it
  std::string wrapped;        // AEAD of the 32-byte data key under the master key
  SystemTime created_at;
};

// Everything the in-memory configuration snapshot is built from.
struct ConfigData {
  std::vector<Team> teams;
  std::vector<User> users;
  std::vector<ApiKey> api_keys;  // not revoked
  std::vector<Credential> credentials;  // named and inline
  std::vector<Model> models;
  std::vector<HealthState> health;
};

}  // namespace mg::store
