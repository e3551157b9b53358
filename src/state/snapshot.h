// @file snapshot.h
// @brief The immutable in-memory configuration the hot path reads: API keys, users, teams,
// credentials (with their secrets opened) and models. Built from the store after every admin
// change and swapped atomically; a request holds one shared_ptr for its whole life, so it sees
// one consistent configuration and never queries the store or takes a global lock.
//
// Thread-safety: a Snapshot is immutable after Build() and safe to share. The only mutable
// members are the per-key `last_used_ms` atomics, which outlive snapshots (carried over by id).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/secret.h"
#include "providers/credential.h"
#include "state/rate_limit.h"
#include "store/records.h"

namespace mg::state {

// The caller of a request: a user acting through one API key.
struct Principal {
  std::string user_id;
  std::string user_name;
  store::Role role = store::Role::kMember;
  std::vector<std::string> team_ids;  // sorted
  std::string key_id;
};

struct KeyEntry {
  Principal principal;
  // Unix ms of the last use; shared with the previous and next snapshots (same key id) and
  // flushed to the store periodically, so using a key never writes synchronously.
  std::shared_ptr<std::atomic<int64_t>> last_used_ms;
  // The key's request-rate bucket, carried over between snapshots the same way.
  std::shared_ptr<RateBucket> rate;
};

struct CredentialEntry {
  store::Credential record;
  Secret secret_access_key;  // opened by the vault when the snapshot was built
  Secret session_token;
  std::vector<std::string> model_ids;  // sorted
  // The same credential as providers take it (built once here, copied per call).
  providers::ProviderCredential provider;
};

// A stored credential and its opened secrets as providers take them. `cache_key` names this
// version of the credential (id + secret_rotated_at + updated_at), so cached STS sessions of an
// edited credential are never reused.
providers::ProviderCredential ToProviderCredential(const store::Credential& record,
                                                   const Secret& secret_access_key,
                                                   const Secret& session_token);

struct ModelEntry {
  store::Model record;
  const CredentialEntry* credential = nullptr;  // never null in a built snapshot
};

// How the vault is reached while building: opens a sealed secret bound to `aad`.
using OpenSecretFn =
    std::function<Result<Secret>(const store::SealedSecret& sealed, std::string_view aad)>;

// The AAD that binds a credential secret to its row and field ("cred:<id>:<field>").
std::string SecretAad(std::string_view credential_id, std::string_view field);

class Snapshot {
 public:
  // Builds from store data. `previous` (may be null) donates last_used counters by key id.
  static Result<std::shared_ptr<const Snapshot>> Build(store::ConfigData data,
                                                       const OpenSecretFn& open_secret,
                                                       const Snapshot* previous,
                                                       uint64_t version);

  // Lookup by the hex SHA-256 of the presented key. nullptr when unknown or revoked.
  const KeyEntry* FindKeyByHash(std::string_view hash) const;
  const ModelEntry* FindModel(std::string_view id) const;
  const CredentialEntry* FindCredential(std::string_view id) const;
  // A named credential by id or name.
  const CredentialEntry* FindNamedCredential(std::string_view id_or_name) const;
  const store::Team* FindTeam(std::string_view id_or_name) const;
  const store::User* FindUser(std::string_view id) const;

  // Models sorted by id.
  const std::vector<const ModelEntry*>& models() const { return models_sorted_; }
  const std::vector<store::Team>& teams() const { return data_.teams; }
  const std::vector<store::HealthState>& health() const { return data_.health; }
  uint64_t version() const { return version_; }
  // Every key entry, for the last-used flusher.
  const std::unordered_map<std::string, KeyEntry>& keys_by_id() const { return keys_by_id_; }

  // admin-api "where team access allows": shared with all teams or with one of the user's.
  // Role is not considered here (see auth::CanUseModels).
  static bool TeamAccessAllows(const Principal& p, const store::Model& m);

 private:
  Snapshot() = default;
  store::ConfigData data_;  // teams, users, keys, credentials, health; models live in models_
  uint64_t version_ = 0;
  std::unordered_map<std::string, KeyEntry> keys_by_id_;
  std::unordered_map<std::string, const KeyEntry*> keys_by_hash_;
  std::unordered_map<std::string, CredentialEntry> credentials_;
  std::unordered_map<std::string, ModelEntry> models_;
  std::vector<const ModelEntry*> models_sorted_;
  std::unordered_map<std::string, const store::Team*> teams_by_id_;
  std::unordered_map<std::string, const store::Team*> teams_by_name_;
  std::unordered_map<std::string, const store::User*> users_by_id_;
};

}  // namespace mg::state
