// @file store.h
// @brief The repository interface every backend implements (SQLite now, PostgreSQL later).
//
// Contract for every implementation:
// - Each method is atomic: a method that changes several rows does it in one transaction, and
//   the AuditEvent passed to a mutating method is written in that same transaction, so a change
//   and its audit record exist together or not at all.
// - Methods block (disk, network). Never call them on an I/O thread: handlers go through
//   server::RunBlocking on the store's thread pool.
// - Expected failures are Results: unique-name violations -> ErrorCode::kConflict with reason
//   "name_taken" (or "id_taken" for model ids) and `param` naming the field; unknown ids ->
//   kNotFound with reason "<kind>_not_found" ("team_not_found", "user_not_found",
//   "credential_not_found", "model_not_found", "api_key_not_found"); deleting a credential that
//   a model uses -> kConflict "credential_in_use" whose message lists the model ids; an
//   unreachable database -> kUnavailable "store_unavailable".
// - Returned lists are ordered: teams/users/credentials by name, models by id, keys by
//   created_at, audit newest first.
// Thread-safety: implementations are thread-safe (callers use them from a thread pool).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace mg::store {

enum class UsageGroupBy { kModel, kTeam, kUser };

class Store {
 public:
  virtual ~Store() = default;

  // Readiness probe (/readyz): a trivial query.
  virtual Result<void> Ping() = 0;

  // --- Snapshot ---------------------------------------------------------------------------
  // Everything the in-memory configuration snapshot is built from, read in one transaction.
  virtual Result<ConfigData> LoadConfig() = 0;

  // --- Teams ------------------------------------------------------------------------------
  virtual Result<void> CreateTeam(const Team& team, const AuditEvent& audit) = 0;
  virtual Result<Team> GetTeam(std::string_view id) = 0;
  virtual Result<std::vector<Team>> ListTeams() = 0;
  virtual Result<void> UpdateTeam(const Team& team, const AuditEvent& audit) = 0;
  // Also removes the team from users and from models' team lists (a model left with no team
  // is then shared with nobody, not with all teams).
  virtual Result<void> DeleteTeam(std::string_view id, const AuditEvent& audit) = 0;

  // --- Users ------------------------------------------------------------------------------
  virtual Result<int64_t> CountUsers() = 0;
  // Creates the user and, when given, its first API key in one transaction (bootstrap admin).
  virtual Result<void> CreateUser(const User& user, const std::optional<ApiKey>& first_key,
                                  const AuditEvent& audit) = 0;
  virtual Result<User> GetUser(std::string_view id) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;
  virtual Result<void> UpdateUser(const User& user, const AuditEvent& audit) = 0;
  // Also deletes the user's API keys.
  virtual Result<void> DeleteUser(std::string_view id, const AuditEvent& audit) = 0;

  // --- API keys ---------------------------------------------------------------------------
  virtual Result<void> CreateApiKey(const ApiKey& key, const AuditEvent& audit) = 0;
  // All keys of a user, revoked ones included (revoked_at set).
  virtual Result<std::vector<ApiKey>> ListApiKeys(std::string_view user_id) = 0;
  // Sets revoked_at; kNotFound if the key does not belong to the user.
  virtual Result<void> RevokeApiKey(std::string_view user_id, std::string_view key_id,
                                    SystemTime at, const AuditEvent& audit) = 0;
  // Batched last_used_at updates (written off the request path). Unknown ids are ignored.
  virtual Result<void> TouchApiKeys(
      const std::vector<std::pair<std::string, SystemTime>>& used) = 0;

  // --- Credentials ------------------------------------------------------------------------
  virtual Result<void> CreateCredential(const Credential& cred, const AuditEvent& audit) = 0;
  virtual Result<Credential> GetCredential(std::string_view id) = 0;
  // Named credentials only (is_inline false).
  virtual Result<std::vector<Credential>> ListCredentials() = 0;
  virtual Result<void> UpdateCredential(const Credential& cred, const AuditEvent& audit) = 0;
  // kConflict "credential_in_use" while any model references it.
  virtual Result<void> DeleteCredential(std::string_view id, const AuditEvent& audit) = 0;
  // Ids of the models using a credential, sorted.
  virtual Result<std::vector<std::string>> ListModelsUsingCredential(std::string_view id) = 0;

  // --- Models -----------------------------------------------------------------------------
  // Inserts the inline credentials (if any) and the models in one transaction; all or nothing.
  virtual Result<void> CreateModels(const std::vector<Credential>& inline_credentials,
                                    const std::vector<Model>& models,
                                    const AuditEvent& audit) = 0;
  virtual Result<Model> GetModel(std::string_view id) = 0;
  virtual Result<std::vector<Model>> ListModels() = 0;
  // Updates the model. `new_inline_credential` is inserted first when set (switch to or rotate
  // inline credentials); `delete_credential_id`, when set, is an inline credential the model no
  // longer uses and is deleted in the same transaction.
  virtual Result<void> UpdateModel(const Model& model,
                                   const std::optional<Credential>& new_inline_credential,
                                   const std::optional<std::string>& delete_credential_id,
                                   const AuditEvent& audit) = 0;
  // Deletes the model, its inline credential, health state and checks.
  virtual Result<void> DeleteModel(std::string_view id, const AuditEvent& audit) = 0;

  // --- Health -----------------------------------------------------------------------------
  // Upserts the state; appends the check and keeps only the newest `keep` checks of the model;
  // writes `audit` when given (health transitions). One transaction.
  virtual Result<void> RecordHealth(const HealthState& state,
                                    const std::optional<HealthCheck>& check, int keep,
                                    const std::optional<AuditEvent>& audit) = 0;
  // Many RecordHealth in one transaction (one commit, one fsync), in order. Records of models
  // that no longer exist are skipped, not errors. Returns how many were written.
  virtual Result<size_t> RecordHealthBatch(const std::vector<HealthRecord>& records,
                                           int keep) = 0;
  virtual Result<std::vector<HealthCheck>> ListHealthChecks(std::string_view model_id,
                                                            int limit) = 0;

  // --- Audit ------------------------------------------------------------------------------
  virtual Result<void> AppendAudit(const AuditEvent& audit) = 0;
  virtual Result<std::vector<AuditEvent>> ListAudit(int limit) = 0;

  // --- Usage ------------------------------------------------------------------------------
  virtual Result<void> AppendUsage(const std::vector<UsageRecord>& records) = 0;
  virtual Result<std::vector<UsageRow>> SumUsage(UsageGroupBy group_by, SystemTime since) = 0;

  // --- Vault ------------------------------------------------------------------------------
  virtual Result<std::vector<DataKey>> ListDataKeys() = 0;
  virtual Result<void> InsertDataKey(const DataKey& key) = 0;
  // Replaces the wrapping of existing data keys (master-key rotation), all in one transaction.
  virtual Result<void> RewrapDataKeys(const std::vector<DataKey>& keys,
                                      const AuditEvent& audit) = 0;
};

}  // namespace mg::store
