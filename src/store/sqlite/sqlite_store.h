// @file sqlite_store.h
// @brief SqliteStore: the Store (store/store.h) on a local SQLite database file.
//
// Durability: WAL journal with synchronous=FULL, so every acknowledged write survives kill -9 and
// power loss. Schema: versioned migrations embedded in the binary (migrations.h) are applied by
// Open(); a database written by a newer binary is refused. Times are kept with microsecond
// precision. Secrets are stored only as the vault's SealedSecret envelopes.
//
// Ownership: app/ owns the store; it must outlive every user (the Vault keeps a reference).
// Thread-safety: every method is safe from any thread. Writes go through one connection behind
// a mutex (SQLite allows one writer at a time anyway) and each runs in one BEGIN IMMEDIATE
// transaction; reads use a small pool of read-only connections, which WAL lets run concurrently
// with the writer, each multi-query read in one read transaction (a consistent snapshot).
// Several processes may open the same file (e.g. `modelgate vault rotate-key` next to a running
// server): busy_timeout makes them wait for each other's write lock.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "store/store.h"

namespace mg::store::sqlite {

class Connection;
class ReadPool;

class SqliteStore final : public Store {
 public:
  struct Options {
    int read_connections = 4;  // size of the read pool (at least 1)
    std::chrono::milliseconds busy_timeout{5000};  // wait for another writer's lock
    const Clock* clock = nullptr;  // stamps schema_migrations.applied_at; null: the real clock
  };

  // Opens the database at `path`, creating the file (mode 0600) and its parent directories
  // when missing, and applies pending migrations. Errors: kUnavailable "store_unavailable" when
  // the file cannot be created or opened; kInternal "store_schema_too_new" when the database
  // was written by a newer modelgate.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const Options& options);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The schema version after migrations (the newest known to this binary).
  int schema_version() const { return schema_version_; }

  Result<void> Ping() override;
  Result<ConfigData> LoadConfig() override;

  Result<void> CreateTeam(const Team& team, const AuditEvent& audit) override;
  Result<Team> GetTeam(std::string_view id) override;
  Result<std::vector<Team>> ListTeams() override;
  Result<void> UpdateTeam(const Team& team, const AuditEvent& audit) override;
  Result<void> DeleteTeam(std::string_view id, const AuditEvent& audit) override;

  Result<int64_t> CountUsers() override;
  Result<void> CreateUser(const User& user, const std::optional<ApiKey>& first_key,
                          const AuditEvent& audit) override;
  Result<User> GetUser(std::string_view id) override;
  Result<std::vector<User>> ListUsers() override;
  Result<void> UpdateUser(const User& user, const AuditEvent& audit) override;
  Result<void> DeleteUser(std::string_view id, const AuditEvent& audit) override;

  Result<void> CreateApiKey(const ApiKey& key, const AuditEvent& audit) override;
  Result<std::vector<ApiKey>> ListApiKeys(std::string_view user_id) override;
  Result<void> RevokeApiKey(std::string_view user_id, std::string_view key_id, SystemTime at,
                            const AuditEvent& audit) override;
  Result<void> TouchApiKeys(
      const std::vector<std::pair<std::string, SystemTime>>& used) override;

  Result<void> CreateCredential(const Credential& cred, const AuditEvent& audit) override;
  Result<Credential> GetCredential(std::string_view id) override;
  Result<std::vector<Credential>> ListCredentials() override;
  Result<void> UpdateCredential(const Credential& cred, const AuditEvent& audit) override;
  Result<void> DeleteCredential(std::string_view id, const AuditEvent& audit) override;
  Result<std::vector<std::string>> ListModelsUsingCredential(std::string_view id) override;

  Result<void> CreateModels(const std::vector<Credential>& inline_credentials,
                            const std::vector<Model>& models, const AuditEvent& audit) override;
  Result<Model> GetModel(std::string_view id) override;
  Result<std::vector<Model>> ListModels() override;
  Result<void> UpdateModel(const Model& model,
                           const std::optional<Credential>& new_inline_credential,
                           const std::optional<std::string>& delete_credential_id,
                           const AuditEvent& audit) override;
  Result<void> DeleteModel(std::string_view id, const AuditEvent& audit) override;

  Result<size_t> RecordHealthBatch(const std::vector<HealthRecord>& records, int keep) override;
  Result<void> RecordHealth(const HealthState& state, const std::optional<HealthCheck>& check,
                            int keep, const std::optional<AuditEvent>& audit) override;
  Result<std::vector<HealthCheck>> ListHealthChecks(std::string_view model_id,
                                                    int limit) override;

  Result<void> AppendAudit(const AuditEvent& audit) override;
  Result<std::vector<AuditEvent>> ListAudit(int limit) override;

  Result<void> AppendUsage(const std::vector<UsageRecord>& records) override;
  Result<std::vector<UsageRow>> SumUsage(UsageGroupBy group_by, SystemTime since) override;

  Result<std::vector<DataKey>> ListDataKeys() override;
  Result<void> InsertDataKey(const DataKey& key) override;
  Result<void> RewrapDataKeys(const std::vector<DataKey>& keys, const AuditEvent& audit) override;

 private:
  SqliteStore(std::unique_ptr<Connection> writer, std::unique_ptr<ReadPool> readers,
              int schema_version);

  // Runs `fn` in one BEGIN IMMEDIATE transaction on the writer; commits when it succeeds,
  // rolls back otherwise.
  template <class Fn>
  Result<void> Write(Fn&& fn);
  // Runs `fn` on a pooled read connection inside one read transaction (consistent snapshot).
  template <class T, class Fn>
  Result<T> Read(Fn&& fn);

  std::mutex write_mutex_;  // guards writer_
  std::unique_ptr<Connection> writer_;
  std::unique_ptr<ReadPool> readers_;
  int schema_version_;
};

}  // namespace mg::store::sqlite
