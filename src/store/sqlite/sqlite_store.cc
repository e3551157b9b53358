#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

#include "store/enum_names.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"

namespace mg::store::sqlite {

// A fixed set of read connections, leased one per read. Thread-safety: Acquire() and the Lease
// destructor are thread-safe; a leased connection belongs to its lease's thread.
class ReadPool {
 public:
  explicit ReadPool(std::vector<std::unique_ptr<Connection>> conns) : idle_(std::move(conns)) {}

  class Lease {
   public:
    Lease(ReadPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_->Release(std::move(conn_)); }
    Connection& operator*() const { return *conn_; }

   private:
    ReadPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // Blocks until a connection is idle.
  Lease Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !idle_.empty(); });
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }

 private:
  void Release(std::unique_ptr<Connection> conn) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

namespace {

// --- Column lists and row readers (column order matches the SELECTs below) -----------------

constexpr std::string_view kTeamColumns = "id, name, created_at, updated_at";
constexpr std::string_view kUserColumns = "id, email, name, role, created_at, updated_at";
constexpr std::string_view kApiKeyColumns =
    "id, user_id, name, prefix, hash, created_at, last_used_at, revoked_at";
constexpr std::string_view kCredentialColumns =
    "id, name, is_inline, provider, region, auth_type, access_key_id, "
    "secret_access_key_data_key, secret_access_key, session_token_data_key, session_token, "
    "role_arn, session_name, external_id, created_at, updated_at, secret_rotated_at";
constexpr std::string_view kModelColumns =
    "id, name, provider, provider_model_id, region, credential_id, all_teams, created_at, "
    "updated_at, lifecycle, input_modalities";
constexpr std::string_view kHealthStateColumns =
    "model_id, status, in_pool, last_checked_at, next_check_at, cooldown_until, cause, message, "
    "consecutive_failures";
constexpr std::string_view kHealthCheckColumns =
    "model_id, at, status, latency_ms, cause, message";
constexpr std::string_view kAuditColumns = "seq, at, actor, action, target, details";
constexpr std::string_view kDataKeyColumns = "id, master_key_id, wrapped, created_at";

std::string Sql(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (std::string_view p : parts) s += p;
  return s;
}

Error CorruptRow(std::string_view table, std::string_view column, std::string_view value) {
  return Internal("sqlite: " + std::string(table) + "." + std::string(column) +
                  " holds an unknown value '" + std::string(value) + "'");
}

Team ReadTeam(const Query& q) {
  return Team{.id = q.Text(0), .name = q.Text(1), .created_at = q.Time(2),
              .updated_at = q.Time(3)};
}

Result<User> ReadUser(const Query& q) {
  User u;
  u.id = q.Text(0);
  u.email = q.Text(1);
  u.name = q.Text(2);
  std::string role = q.Text(3);
  std::optional<Role> parsed = ParseRole(role);
  if (!parsed) return CorruptRow("users", "role", role);
  u.role = *parsed;
  u.created_at = q.Time(4);
  u.updated_at = q.Time(5);
  return u;
}

ApiKey ReadApiKey(const Query& q) {
  return ApiKey{.id = q.Text(0), .user_id = q.Text(1), .name = q.Text(2), .prefix = q.Text(3),
                .hash = q.Text(4), .created_at = q.Time(5), .last_used_at = q.OptionalTime(6),
                .revoked_at = q.OptionalTime(7)};
}

std::optional<SealedSecret> ReadSealed(const Query& q, int data_key_col, int blob_col) {
  if (q.IsNull(blob_col)) return std::nullopt;
  return SealedSecret{.data_key_id = q.Text(data_key_col), .ciphertext = q.BlobBytes(blob_col)};
}

Result<Credential> ReadCredential(const Query& q) {
  Credential c;
  c.id = q.Text(0);
  c.name = q.Text(1);
  c.is_inline = q.Bool(2);
  c.provider = q.Text(3);
  c.region = q.Text(4);
  std::string auth_type = q.Text(5);
  std::optional<AuthType> parsed = ParseAuthType(auth_type);
  if (!parsed) return CorruptRow("credentials", "auth_type", auth_type);
  c.auth_type = *parsed;
  c.access_key_id = q.Text(6);
  c.secret_access_key = ReadSealed(q, 7, 8);
  c.session_token = ReadSealed(q, 9, 10);
  c.role_arn = q.Text(11);
  c.session_name = q.Text(12);
  c.external_id = q.Text(13);
  c.created_at = q.Time(14);
  c.updated_at = q.Time(15);
  c.secret_rotated_at = q.Time(16);
  return c;
}

// Short lists of tokens (modalities) kept as "A,B" in one column.
std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Model ReadModel(const Query& q) {
  Model m;
  m.id = q.Text(0);
  m.name = q.Text(1);
  m.provider = q.Text(2);
  m.provider_model_id = q.Text(3);
  m.region = q.Text(4);
  m.credential_id = q.Text(5);
  m.all_teams = q.Bool(6);
  m.created_at = q.Time(7);
  m.updated_at = q.Time(8);
  m.lifecycle = q.Text(9);
  m.input_modalities = SplitList(q.Text(10));
  return m;
}

Result<HealthState> ReadHealthState(const Query& q) {
  HealthState h;
  h.model_id = q.Text(0);
  std::string status = q.Text(1);
  std::optional<HealthStatus> parsed = ParseHealthStatus(status);
  if (!parsed) return CorruptRow("health_states", "status", status);
  h.status = *parsed;
  h.in_pool = q.Bool(2);
  h.last_checked_at = q.OptionalTime(3);
  h.next_check_at = q.OptionalTime(4);
  h.cooldown_until = q.OptionalTime(5);
  h.cause = q.Text(6);
  h.message = q.Text(7);
  h.consecutive_failures = static_cast<int>(q.Int(8));
  return h;
}

Result<HealthCheck> ReadHealthCheck(const Query& q) {
  HealthCheck h;
  h.model_id = q.Text(0);
  h.at = q.Time(1);
  std::string status = q.Text(2);
  std::optional<HealthStatus> parsed = ParseHealthStatus(status);
  if (!parsed) return CorruptRow("health_checks", "status", status);
  h.status = *parsed;
  h.latency_ms = q.Int(3);
  h.cause = q.Text(4);
  h.message = q.Text(5);
  return h;
}

AuditEvent ReadAudit(const Query& q) {
  return AuditEvent{.seq = q.Int(0), .at = q.Time(1), .actor = q.Text(2), .action = q.Text(3),
                    .target = q.Text(4), .details = q.Text(5)};
}

DataKey ReadDataKey(const Query& q) {
  return DataKey{.id = q.Text(0), .master_key_id = q.Text(1), .wrapped = q.BlobBytes(2),
                 .created_at = q.Time(3)};
}

// Runs a SELECT and collects every row through `read` (which returns T or Result<T>).
template <class T, class ReadFn>
Result<std::vector<T>> Collect(Query& q, ReadFn read) {
  std::vector<T> out;
  while (true) {
    MG_TRY(bool has_row, q.Step());
    if (!has_row) break;
    if constexpr (std::is_same_v<decltype(read(q)), T>) {
      out.push_back(read(q));
    } else {
      MG_TRY(T row, read(q));
      out.push_back(std::move(row));
    }
  }
  return out;
}

// --- Errors ---------------------------------------------------------------------------------

Error NotFoundError(std::string_view kind, std::string_view id) {
  return NotFound(std::string(kind) + "_not_found",
                  "no " + std::string(kind) + " with id '" + std::string(id) + "'");
}

// Rewrites the generic UNIQUE-violation message with the offending value, e.g.
// "team name 'research' is already taken". Other errors pass through unchanged.
Error Taken(Error e, std::string_view kind,
            std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  if (e.code != ErrorCode::kConflict) return e;
  for (const auto& [field, value] : fields) {
    if (field == e.param) {
      e.message = std::string(kind) + " " + std::string(field) + " '" + std::string(value) +
                  "' is already taken";
    }
  }
  return e;
}

// --- Shared statements ----------------------------------------------------------------------

Result<void> InsertAudit(Connection& c, const AuditEvent& a) {
  MG_TRY(Query q, c.Prepare("INSERT INTO audit (at, actor, action, target, details) "
                            "VALUES (?, ?, ?, ?, ?)"));
  return q.Bind(a.at).Bind(a.actor).Bind(a.action).Bind(a.target).Bind(a.details).Run();
}

Result<bool> Exists(Connection& c, std::string_view sql, std::string_view id) {
  MG_TRY(Query q, c.Prepare(sql));
  return q.Bind(id).Step();
}

Result<void> RequireExists(Connection& c, std::string_view table, std::string_view kind,
                           std::string_view id) {
  MG_TRY(bool found, Exists(c, Sql({"SELECT 1 FROM ", table, " WHERE id = ?"}), id));
  if (!found) return NotFoundError(kind, id);
  return {};
}

// Sorted, duplicates removed: the join tables' primary keys reject duplicates.
std::vector<std::string> SortedUnique(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Result<void> RequireTeams(Connection& c, const std::vector<std::string>& team_ids) {
  for (const std::string& id : team_ids) {
    MG_TRY(bool found, Exists(c, "SELECT 1 FROM teams WHERE id = ?", id));
    if (!found) {
      return Error(ErrorCode::kNotFound, "team_not_found", "no team with id '" + id + "'",
                   "team_ids");
    }
  }
  return {};
}

Result<std::vector<std::string>> TeamIdsOf(Connection& c, std::string_view join_table,
                                           std::string_view owner_column, std::string_view id) {
  MG_TRY(Query q, c.Prepare(Sql({"SELECT team_id FROM ", join_table, " WHERE ", owner_column,
                                 " = ? ORDER BY team_id"})));
  q.Bind(id);
  return Collect<std::string>(q, [](const Query& row) { return row.Text(0); });
}

// owner id -> sorted team ids, for whole-table reads.
Result<std::map<std::string, std::vector<std::string>>> AllTeamIds(Connection& c,
                                                                   std::string_view join_table,
                                                                   std::string_view owner_column) {
  MG_TRY(Query q, c.Prepare(Sql({"SELECT ", owner_column, ", team_id FROM ", join_table,
                                 " ORDER BY ", owner_column, ", team_id"})));
  std::map<std::string, std::vector<std::string>> out;
  while (true) {
    MG_TRY(bool has_row, q.Step());
    if (!has_row) break;
    out[q.Text(0)].push_back(q.Text(1));
  }
  return out;
}

Result<void> ReplaceTeams(Connection& c, std::string_view join_table,
                          std::string_view owner_column, std::string_view id,
                          const std::vector<std::string>& team_ids) {
  {
    MG_TRY(Query del,
           c.Prepare(Sql({"DELETE FROM ", join_table, " WHERE ", owner_column, " = ?"})));
    MG_TRY_VOID(del.Bind(id).Run());
  }
  for (const std::string& team_id : SortedUnique(team_ids)) {
    MG_TRY(Query ins, c.Prepare(Sql({"INSERT INTO ", join_table, " (", owner_column,
                                     ", team_id) VALUES (?, ?)"})));
    MG_TRY_VOID(ins.Bind(id).Bind(team_id).Run());
  }
  return {};
}

Result<std::vector<User>> SelectUsers(Connection& c) {
  MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kUserColumns, " FROM users ORDER BY name, id"})));
  MG_TRY(std::vector<User> users, Collect<User>(q, ReadUser));
  MG_TRY(auto teams, AllTeamIds(c, "user_teams", "user_id"));
  for (User& u : users) {
    if (auto it = teams.find(u.id); it != teams.end()) u.team_ids = std::move(it->second);
  }
  return users;
}

Result<std::vector<Model>> SelectModels(Connection& c) {
  MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kModelColumns, " FROM models ORDER BY id"})));
  MG_TRY(std::vector<Model> models, Collect<Model>(q, ReadModel));
  MG_TRY(auto teams, AllTeamIds(c, "model_teams", "model_id"));
  for (Model& m : models) {
    if (auto it = teams.find(m.id); it != teams.end()) m.team_ids = std::move(it->second);
  }
  return models;
}

Result<std::vector<Team>> SelectTeams(Connection& c) {
  MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kTeamColumns, " FROM teams ORDER BY name, id"})));
  return Collect<Team>(q, ReadTeam);
}

Result<void> BindSealed(Query& q, const std::optional<SealedSecret>& s) {
  if (s) {
    q.Bind(s->data_key_id).Bind(Blob{s->ciphertext});
  } else {
    q.Bind(std::nullopt).Bind(std::nullopt);
  }
  return {};
}

Result<void> InsertCredential(Connection& c, const Credential& cred) {
  MG_TRY(Query q, c.Prepare(Sql({"INSERT INTO credentials (", kCredentialColumns,
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"})));
  q.Bind(cred.id).Bind(cred.name).Bind(cred.is_inline).Bind(cred.provider).Bind(cred.region);
  q.Bind(AuthTypeName(cred.auth_type)).Bind(cred.access_key_id);
  MG_TRY_VOID(BindSealed(q, cred.secret_access_key));
  MG_TRY_VOID(BindSealed(q, cred.session_token));
  q.Bind(cred.role_arn).Bind(cred.session_name).Bind(cred.external_id);
  q.Bind(cred.created_at).Bind(cred.updated_at).Bind(cred.secret_rotated_at);
  auto r = q.Run();
  if (!r) return Taken(r.error(), "credential", {{"name", cred.name}, {"id", cred.id}});
  return {};
}

Result<std::vector<std::string>> ModelsUsing(Connection& c, std::string_view credential_id) {
  MG_TRY(Query q, c.Prepare("SELECT id FROM models WHERE credential_id = ? ORDER BY id"));
  q.Bind(credential_id);
  return Collect<std::string>(q, [](const Query& row) { return row.Text(0); });
}

Error CredentialInUse(std::string_view credential_id, const std::vector<std::string>& models) {
  std::string list;
  for (const std::string& m : models) list += (list.empty() ? "" : ", ") + m;
  return Conflict("credential_in_use",
                  "credential '" + std::string(credential_id) + "' is used by models: " + list +
                      "; delete those models or move them to another credential first");
}

Result<void> CheckModelRefs(Connection& c, const Model& m) {
  MG_TRY(bool found, Exists(c, "SELECT 1 FROM credentials WHERE id = ?", m.credential_id));
  if (!found) {
    return Error(ErrorCode::kNotFound, "credential_not_found",
                 "no credential with id '" + m.credential_id + "'", "credential_id");
  }
  return RequireTeams(c, m.team_ids);
}

}  // namespace

// --- Lifecycle ------------------------------------------------------------------------------

SqliteStore::SqliteStore(std::unique_ptr<Connection> writer, std::unique_ptr<ReadPool> readers,
                         int schema_version)
    : writer_(std::move(writer)), readers_(std::move(readers)), schema_version_(schema_version) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  return Open(path, Options{});
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const Options& options) {
  if (path.empty() || path == ":memory:" || path.front() == ':') {
    return InvalidArgument("the SQLite store needs a file path", "path");
  }
  if (options.read_connections < 1) {
    return InvalidArgument("read_connections must be at least 1", "read_connections");
  }
  auto unavailable = [&](const std::string& what, int err) {
    return Error(ErrorCode::kUnavailable, "store_unavailable",
                 what + " '" + path + "': " + std::strerror(err));
  };
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return unavailable("cannot create the directory of", ec.value());
  }
  // Create the file ourselves so it is private (0600); SQLite gives the -wal and -shm files the
  // database file's permissions.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot create or open", errno);
  ::close(fd);

  const int busy_ms = static_cast<int>(options.busy_timeout.count());
  MG_TRY(std::unique_ptr<Connection> writer,
         Connection::Open(path, Connection::Mode::kReadWrite, busy_ms));
  {
    MG_TRY(Query q, writer->Prepare("PRAGMA journal_mode = WAL"));
    MG_TRY(bool has_row, q.Step());
    std::string mode = has_row ? q.Text(0) : std::string();
    if (mode != "wal") {
      return Error(ErrorCode::kUnavailable, "store_unavailable",
                   "cannot enable WAL journaling on '" + path + "' (got '" + mode +
                       "'); put the database on a local file system");
    }
  }
  RealClock real_clock;
  const Clock& clock = options.clock != nullptr ? *options.clock : real_clock;
  MG_TRY(int version, ApplyMigrations(*writer, Migrations(), clock.Now()));

  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    MG_TRY(std::unique_ptr<Connection> reader,
           Connection::Open(path, Connection::Mode::kReadOnly, busy_ms));
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(
      std::move(writer), std::make_unique<ReadPool>(std::move(readers)), version));
}

template <class Fn>
Result<void> SqliteStore::Write(Fn&& fn) {
  std::lock_guard lock(write_mutex_);
  MG_TRY(Transaction tx, Transaction::BeginImmediate(*writer_));
  MG_TRY_VOID(fn(*writer_));
  return tx.Commit();
}

template <class T, class Fn>
Result<T> SqliteStore::Read(Fn&& fn) {
  ReadPool::Lease lease = readers_->Acquire();
  MG_TRY(Transaction tx, Transaction::BeginRead(*lease));
  MG_TRY(T value, fn(*lease));
  MG_TRY_VOID(tx.Commit());
  return value;
}

Result<void> SqliteStore::Ping() {
  MG_TRY(int64_t one, Read<int64_t>([](Connection& c) -> Result<int64_t> {
    MG_TRY(Query q, c.Prepare("SELECT 1"));
    MG_TRY(bool has_row, q.Step());
    return has_row ? q.Int(0) : 0;
  }));
  if (one != 1) return Internal("sqlite: ping returned an unexpected value");
  return {};
}

Result<ConfigData> SqliteStore::LoadConfig() {
  return Read<ConfigData>([](Connection& c) -> Result<ConfigData> {
    ConfigData data;
    MG_TRY(data.teams, SelectTeams(c));
    MG_TRY(data.users, SelectUsers(c));
    {
      MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kApiKeyColumns,
                                     " FROM api_keys WHERE revoked_at IS NULL "
                                     "ORDER BY created_at, id"})));
      MG_TRY(data.api_keys, Collect<ApiKey>(q, ReadApiKey));
    }
    {
      MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kCredentialColumns,
                                     " FROM credentials ORDER BY name, id"})));
      MG_TRY(data.credentials, Collect<Credential>(q, ReadCredential));
    }
    MG_TRY(data.models, SelectModels(c));
    {
      MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kHealthStateColumns,
                                     " FROM health_states ORDER BY model_id"})));
      MG_TRY(data.health, Collect<HealthState>(q, ReadHealthState));
    }
    return data;
  });
}

// --- Teams ----------------------------------------------------------------------------------

Result<void> SqliteStore::CreateTeam(const Team& team, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY(Query q, c.Prepare("INSERT INTO teams (id, name, created_at, updated_at) "
                              "VALUES (?, ?, ?, ?)"));
    auto r = q.Bind(team.id).Bind(team.name).Bind(team.created_at).Bind(team.updated_at).Run();
    if (!r) return Taken(r.error(), "team", {{"name", team.name}, {"id", team.id}});
    return InsertAudit(c, audit);
  });
}

Result<Team> SqliteStore::GetTeam(std::string_view id) {
  return Read<Team>([&](Connection& c) -> Result<Team> {
    MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kTeamColumns, " FROM teams WHERE id = ?"})));
    MG_TRY(bool found, q.Bind(id).Step());
    if (!found) return NotFoundError("team", id);
    return ReadTeam(q);
  });
}

Result<std::vector<Team>> SqliteStore::ListTeams() {
  return Read<std::vector<Team>>(SelectTeams);
}

Result<void> SqliteStore::UpdateTeam(const Team& team, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY(Query q, c.Prepare("UPDATE teams SET name = ?, updated_at = ? WHERE id = ?"));
    auto r = q.Bind(team.name).Bind(team.updated_at).Bind(team.id).Run();
    if (!r) return Taken(r.error(), "team", {{"name", team.name}});
    if (c.Changes() == 0) return NotFoundError("team", team.id);
    return InsertAudit(c, audit);
  });
}

Result<void> SqliteStore::DeleteTeam(std::string_view id, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    // ON DELETE CASCADE removes the team from user_teams and model_teams.
    MG_TRY(Query q, c.Prepare("DELETE FROM teams WHERE id = ?"));
    MG_TRY_VOID(q.Bind(id).Run());
    if (c.Changes() == 0) return NotFoundError("team", id);
    return InsertAudit(c, audit);
  });
}

// --- Users ----------------------------------------------------------------------------------

Result<int64_t> SqliteStore::CountUsers() {
  return Read<int64_t>([](Connection& c) -> Result<int64_t> {
    MG_TRY(Query q, c.Prepare("SELECT COUNT(*) FROM users"));
    MG_TRY(bool has_row, q.Step());
    return has_row ? q.Int(0) : 0;
  });
}

namespace {

Result<void> InsertApiKey(Connection& c, const ApiKey& key) {
  MG_TRY(Query q, c.Prepare(Sql({"INSERT INTO api_keys (", kApiKeyColumns,
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"})));
  auto r = q.Bind(key.id).Bind(key.user_id).Bind(key.name).Bind(key.prefix).Bind(key.hash)
               .Bind(key.created_at).Bind(key.last_used_at).Bind(key.revoked_at).Run();
  if (!r) return Taken(r.error(), "api key", {{"id", key.id}, {"hash", "<hash>"}});
  return {};
}

}  // namespace

Result<void> SqliteStore::CreateUser(const User& user, const std::optional<ApiKey>& first_key,
                                     const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY_VOID(RequireTeams(c, user.team_ids));
    {
      MG_TRY(Query q, c.Prepare(Sql({"INSERT INTO users (", kUserColumns,
                                     ") VALUES (?, ?, ?, ?, ?, ?)"})));
      auto r = q.Bind(user.id).Bind(user.email).Bind(user.name).Bind(RoleName(user.role))
                   .Bind(user.created_at).Bind(user.updated_at).Run();
      if (!r) {
        return Taken(r.error(), "user",
                     {{"name", user.name}, {"email", user.email}, {"id", user.id}});
      }
    }
    MG_TRY_VOID(ReplaceTeams(c, "user_teams", "user_id", user.id, user.team_ids));
    if (first_key) MG_TRY_VOID(InsertApiKey(c, *first_key));
    return InsertAudit(c, audit);
  });
}

Result<User> SqliteStore::GetUser(std::string_view id) {
  return Read<User>([&](Connection& c) -> Result<User> {
    MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kUserColumns, " FROM users WHERE id = ?"})));
    MG_TRY(bool found, q.Bind(id).Step());
    if (!found) return NotFoundError("user", id);
    MG_TRY(User user, ReadUser(q));
    MG_TRY(user.team_ids, TeamIdsOf(c, "user_teams", "user_id", id));
    return user;
  });
}

Result<std::vector<User>> SqliteStore::ListUsers() {
  return Read<std::vector<User>>(SelectUsers);
}

Result<void> SqliteStore::UpdateUser(const User& user, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    {
      MG_TRY(Query q, c.Prepare("UPDATE users SET email = ?, name = ?, role = ?, updated_at = ? "
                                "WHERE id = ?"));
      auto r = q.Bind(user.email).Bind(user.name).Bind(RoleName(user.role))
                   .Bind(user.updated_at).Bind(user.id).Run();
      if (!r) return Taken(r.error(), "user", {{"name", user.name}, {"email", user.email}});
      if (c.Changes() == 0) return NotFoundError("user", user.id);
    }
    MG_TRY_VOID(RequireTeams(c, user.team_ids));
    MG_TRY_VOID(ReplaceTeams(c, "user_teams", "user_id", user.id, user.team_ids));
    return InsertAudit(c, audit);
  });
}

Result<void> SqliteStore::DeleteUser(std::string_view id, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    // ON DELETE CASCADE removes the user's API keys and team memberships.
    MG_TRY(Query q, c.Prepare("DELETE FROM users WHERE id = ?"));
    MG_TRY_VOID(q.Bind(id).Run());
    if (c.Changes() == 0) return NotFoundError("user", id);
    return InsertAudit(c, audit);
  });
}

// --- API keys -------------------------------------------------------------------------------

Result<void> SqliteStore::CreateApiKey(const ApiKey& key, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY_VOID(RequireExists(c, "users", "user", key.user_id));
    MG_TRY_VOID(InsertApiKey(c, key));
    return InsertAudit(c, audit);
  });
}

Result<std::vector<ApiKey>> SqliteStore::ListApiKeys(std::string_view user_id) {
  return Read<std::vector<ApiKey>>([&](Connection& c) -> Result<std::vector<ApiKey>> {
    MG_TRY_VOID(RequireExists(c, "users", "user", user_id));
    MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kApiKeyColumns,
                                   " FROM api_keys WHERE user_id = ? ORDER BY created_at, id"})));
    q.Bind(user_id);
    return Collect<ApiKey>(q, ReadApiKey);
  });
}

Result<void> SqliteStore::RevokeApiKey(std::string_view user_id, std::string_view key_id,
                                       SystemTime at, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    // Revoking twice keeps the first revocation time.
    MG_TRY(Query q, c.Prepare("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) "
                              "WHERE id = ? AND user_id = ?"));
    MG_TRY_VOID(q.Bind(at).Bind(key_id).Bind(user_id).Run());
    if (c.Changes() == 0) return NotFoundError("api_key", key_id);
    return InsertAudit(c, audit);
  });
}

Result<void> SqliteStore::TouchApiKeys(
    const std::vector<std::pair<std::string, SystemTime>>& used) {
  if (used.empty()) return {};
  return Write([&](Connection& c) -> Result<void> {
    for (const auto& [id, at] : used) {
      // Batches may arrive out of order: last_used_at never moves backwards.
      MG_TRY(Query q, c.Prepare("UPDATE api_keys SET last_used_at = "
                                "MAX(COALESCE(last_used_at, ?1), ?1) WHERE id = ?2"));
      MG_TRY_VOID(q.Bind(at).Bind(id).Run());
    }
    return {};
  });
}

// --- Credentials ----------------------------------------------------------------------------

Result<void> SqliteStore::CreateCredential(const Credential& cred, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY_VOID(InsertCredential(c, cred));
    return InsertAudit(c, audit);
  });
}

Result<Credential> SqliteStore::GetCredential(std::string_view id) {
  return Read<Credential>([&](Connection& c) -> Result<Credential> {
    MG_TRY(Query q,
           c.Prepare(Sql({"SELECT ", kCredentialColumns, " FROM credentials WHERE id = ?"})));
    MG_TRY(bool found, q.Bind(id).Step());
    if (!found) return NotFoundError("credential", id);
    return ReadCredential(q);
  });
}

Result<std::vector<Credential>> SqliteStore::ListCredentials() {
  return Read<std::vector<Credential>>([](Connection& c) -> Result<std::vector<Credential>> {
    MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kCredentialColumns,
                                   " FROM credentials WHERE is_inline = 0 ORDER BY name, id"})));
    return Collect<Credential>(q, ReadCredential);
  });
}

Result<void> SqliteStore::UpdateCredential(const Credential& cred, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    {
      MG_TRY(Query q, c.Prepare(
                          "UPDATE credentials SET name = ?, provider = ?, region = ?, "
                          "auth_type = ?, access_key_id = ?, secret_access_key_data_key = ?, "
                          "secret_access_key = ?, session_token_data_key = ?, session_token = ?, "
                          "role_arn = ?, session_name = ?, external_id = ?, updated_at = ?, "
                          "secret_rotated_at = ? WHERE id = ?"));
      q.Bind(cred.name).Bind(cred.provider).Bind(cred.region).Bind(AuthTypeName(cred.auth_type));
      q.Bind(cred.access_key_id);
      MG_TRY_VOID(BindSealed(q, cred.secret_access_key));
      MG_TRY_VOID(BindSealed(q, cred.session_token));
      q.Bind(cred.role_arn).Bind(cred.session_name).Bind(cred.external_id);
      q.Bind(cred.updated_at).Bind(cred.secret_rotated_at).Bind(cred.id);
      auto r = q.Run();
      if (!r) return Taken(r.error(), "credential", {{"name", cred.name}});
      if (c.Changes() == 0) return NotFoundError("credential", cred.id);
    }
    return InsertAudit(c, audit);
  });
}

Result<void> SqliteStore::DeleteCredential(std::string_view id, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY_VOID(RequireExists(c, "credentials", "credential", id));
    // Checked explicitly (the foreign key would refuse too) to name the models in the error.
    MG_TRY(std::vector<std::string> users, ModelsUsing(c, id));
    if (!users.empty()) return CredentialInUse(id, users);
    MG_TRY(Query q, c.Prepare("DELETE FROM credentials WHERE id = ?"));
    MG_TRY_VOID(q.Bind(id).Run());
    return InsertAudit(c, audit);
  });
}

Result<std::vector<std::string>> SqliteStore::ListModelsUsingCredential(std::string_view id) {
  return Read<std::vector<std::string>>([&](Connection& c) -> Result<std::vector<std::string>> {
    MG_TRY_VOID(RequireExists(c, "credentials", "credential", id));
    return ModelsUsing(c, id);
  });
}

// --- Models ---------------------------------------------------------------------------------

Result<void> SqliteStore::CreateModels(const std::vector<Credential>& inline_credentials,
                                       const std::vector<Model>& models,
                                       const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    for (const Credential& cred : inline_credentials) MG_TRY_VOID(InsertCredential(c, cred));
    for (const Model& m : models) {
      MG_TRY_VOID(CheckModelRefs(c, m));
      MG_TRY(Query q, c.Prepare(Sql({"INSERT INTO models (", kModelColumns,
                                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"})));
      auto r = q.Bind(m.id).Bind(m.name).Bind(m.provider).Bind(m.provider_model_id)
                   .Bind(m.region).Bind(m.credential_id).Bind(m.all_teams).Bind(m.created_at)
                   .Bind(m.updated_at).Bind(m.lifecycle).Bind(JoinList(m.input_modalities))
                   .Run();
      if (!r) return Taken(r.error(), "model", {{"id", m.id}});
      MG_TRY_VOID(ReplaceTeams(c, "model_teams", "model_id", m.id, m.team_ids));
    }
    return InsertAudit(c, audit);
  });
}

Result<Model> SqliteStore::GetModel(std::string_view id) {
  return Read<Model>([&](Connection& c) -> Result<Model> {
    MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kModelColumns, " FROM models WHERE id = ?"})));
    MG_TRY(bool found, q.Bind(id).Step());
    if (!found) return NotFoundError("model", id);
    Model model = ReadModel(q);
    MG_TRY(model.team_ids, TeamIdsOf(c, "model_teams", "model_id", id));
    return model;
  });
}

Result<std::vector<Model>> SqliteStore::ListModels() {
  return Read<std::vector<Model>>(SelectModels);
}

Result<void> SqliteStore::UpdateModel(const Model& model,
                                      const std::optional<Credential>& new_inline_credential,
                                      const std::optional<std::string>& delete_credential_id,
                                      const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY_VOID(RequireExists(c, "models", "model", model.id));
    if (new_inline_credential) MG_TRY_VOID(InsertCredential(c, *new_inline_credential));
    MG_TRY_VOID(CheckModelRefs(c, model));
    {
      MG_TRY(Query q, c.Prepare("UPDATE models SET name = ?, provider = ?, provider_model_id = ?, "
                                "region = ?, credential_id = ?, all_teams = ?, updated_at = ?, "
                                "lifecycle = ?, input_modalities = ? WHERE id = ?"));
      MG_TRY_VOID(q.Bind(model.name).Bind(model.provider).Bind(model.provider_model_id)
                      .Bind(model.region).Bind(model.credential_id).Bind(model.all_teams)
                      .Bind(model.updated_at).Bind(model.lifecycle)
                      .Bind(JoinList(model.input_modalities)).Bind(model.id).Run());
    }
    MG_TRY_VOID(ReplaceTeams(c, "model_teams", "model_id", model.id, model.team_ids));
    if (delete_credential_id) {
      const std::string& old_id = *delete_credential_id;
      MG_TRY(Query q, c.Prepare("SELECT is_inline FROM credentials WHERE id = ?"));
      MG_TRY(bool found, q.Bind(old_id).Step());
      if (!found) return NotFoundError("credential", old_id);
      if (!q.Bool(0)) {
        // Named credentials are deleted only through DeleteCredential (a caller bug).
        return Internal("UpdateModel: credential '" + old_id +
                        "' is a named credential; only inline credentials go with their model");
      }
      MG_TRY(std::vector<std::string> users, ModelsUsing(c, old_id));
      if (!users.empty()) return CredentialInUse(old_id, users);
      MG_TRY(Query del, c.Prepare("DELETE FROM credentials WHERE id = ?"));
      MG_TRY_VOID(del.Bind(old_id).Run());
    }
    return InsertAudit(c, audit);
  });
}

Result<void> SqliteStore::DeleteModel(std::string_view id, const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    std::string credential_id;
    bool is_inline = false;
    {
      MG_TRY(Query q, c.Prepare("SELECT m.credential_id, c.is_inline FROM models m "
                                "JOIN credentials c ON c.id = m.credential_id WHERE m.id = ?"));
      MG_TRY(bool found, q.Bind(id).Step());
      if (!found) return NotFoundError("model", id);
      credential_id = q.Text(0);
      is_inline = q.Bool(1);
    }
    {
      // ON DELETE CASCADE removes model_teams, health_states and health_checks rows.
      MG_TRY(Query q, c.Prepare("DELETE FROM models WHERE id = ?"));
      MG_TRY_VOID(q.Bind(id).Run());
    }
    if (is_inline) {
      MG_TRY(std::vector<std::string> users, ModelsUsing(c, credential_id));
      if (users.empty()) {
        MG_TRY(Query q, c.Prepare("DELETE FROM credentials WHERE id = ?"));
        MG_TRY_VOID(q.Bind(credential_id).Run());
      }
    }
    return InsertAudit(c, audit);
  });
}

// --- Health ---------------------------------------------------------------------------------

namespace {

// One health write inside an open write transaction (see RecordHealth).
Result<void> WriteHealth(Connection& c, const HealthState& state,
                         const std::optional<HealthCheck>& check, int keep,
                         const std::optional<AuditEvent>& audit) {
  {
    MG_TRY(Query q, c.Prepare(Sql(
                        {"INSERT INTO health_states (", kHealthStateColumns,
                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model_id) DO UPDATE "
                         "SET status = excluded.status, in_pool = excluded.in_pool, "
                         "last_checked_at = excluded.last_checked_at, "
                         "next_check_at = excluded.next_check_at, "
                         "cooldown_until = excluded.cooldown_until, cause = excluded.cause, "
                         "message = excluded.message, "
                         "consecutive_failures = excluded.consecutive_failures"})));
    MG_TRY_VOID(q.Bind(state.model_id).Bind(HealthStatusName(state.status)).Bind(state.in_pool)
                    .Bind(state.last_checked_at).Bind(state.next_check_at)
                    .Bind(state.cooldown_until).Bind(state.cause).Bind(state.message)
                    .Bind(state.consecutive_failures).Run());
  }
  if (check) {
    {
      MG_TRY(Query q, c.Prepare(Sql({"INSERT INTO health_checks (", kHealthCheckColumns,
                                     ") VALUES (?, ?, ?, ?, ?, ?)"})));
      MG_TRY_VOID(q.Bind(check->model_id).Bind(check->at).Bind(HealthStatusName(check->status))
                      .Bind(check->latency_ms).Bind(check->cause).Bind(check->message).Run());
    }
    MG_TRY(Query prune, c.Prepare("DELETE FROM health_checks WHERE model_id = ?1 AND id NOT IN "
                                  "(SELECT id FROM health_checks WHERE model_id = ?1 "
                                  "ORDER BY at DESC, id DESC LIMIT ?2)"));
    MG_TRY_VOID(prune.Bind(state.model_id).Bind(keep).Run());
  }
  if (audit) return InsertAudit(c, *audit);
  return {};
}

Result<void> CheckHealthRecord(const HealthState& state, const std::optional<HealthCheck>& check,
                               int keep) {
  if (check && keep < 1) return InvalidArgument("keep must be at least 1", "keep");
  if (check && check->model_id != state.model_id) {
    return InvalidArgument("the health check and state must be for the same model", "model_id");
  }
  return {};
}

}  // namespace

Result<void> SqliteStore::RecordHealth(const HealthState& state,
                                       const std::optional<HealthCheck>& check, int keep,
                                       const std::optional<AuditEvent>& audit) {
  MG_TRY_VOID(CheckHealthRecord(state, check, keep));
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY_VOID(RequireExists(c, "models", "model", state.model_id));
    return WriteHealth(c, state, check, keep, audit);
  });
}

Result<size_t> SqliteStore::RecordHealthBatch(const std::vector<HealthRecord>& records,
                                              int keep) {
  for (const HealthRecord& r : records) MG_TRY_VOID(CheckHealthRecord(r.state, r.check, keep));
  size_t written = 0;
  MG_TRY_VOID(Write([&](Connection& c) -> Result<void> {
    written = 0;
    for (const HealthRecord& r : records) {
      // A model deleted while its check was queued: nothing to record.
      if (auto exists = RequireExists(c, "models", "model", r.state.model_id); !exists) {
        if (exists.error().code == ErrorCode::kNotFound) continue;
        return exists.error();
      }
      MG_TRY_VOID(WriteHealth(c, r.state, r.check, keep, r.audit));
      ++written;
    }
    return {};
  }));
  return written;
}

Result<std::vector<HealthCheck>> SqliteStore::ListHealthChecks(std::string_view model_id,
                                                               int limit) {
  if (limit < 1) return InvalidArgument("limit must be at least 1", "limit");
  return Read<std::vector<HealthCheck>>([&](Connection& c) -> Result<std::vector<HealthCheck>> {
    MG_TRY_VOID(RequireExists(c, "models", "model", model_id));
    MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kHealthCheckColumns,
                                   " FROM health_checks WHERE model_id = ? "
                                   "ORDER BY at DESC, id DESC LIMIT ?"})));
    q.Bind(model_id).Bind(limit);
    return Collect<HealthCheck>(q, ReadHealthCheck);
  });
}

// --- Audit ----------------------------------------------------------------------------------

Result<void> SqliteStore::AppendAudit(const AuditEvent& audit) {
  return Write([&](Connection& c) { return InsertAudit(c, audit); });
}

Result<std::vector<AuditEvent>> SqliteStore::ListAudit(int limit) {
  if (limit < 1) return InvalidArgument("limit must be at least 1", "limit");
  return Read<std::vector<AuditEvent>>([&](Connection& c) -> Result<std::vector<AuditEvent>> {
    MG_TRY(Query q,
           c.Prepare(Sql({"SELECT ", kAuditColumns, " FROM audit ORDER BY seq DESC LIMIT ?"})));
    q.Bind(limit);
    return Collect<AuditEvent>(q, ReadAudit);
  });
}

// --- Usage ----------------------------------------------------------------------------------

Result<void> SqliteStore::AppendUsage(const std::vector<UsageRecord>& records) {
  if (records.empty()) return {};
  return Write([&](Connection& c) -> Result<void> {
    for (const UsageRecord& u : records) {
      MG_TRY(Query q, c.Prepare("INSERT INTO usage (at, request_id, user_id, team_id, model_id, "
                                "input_tokens, output_tokens, latency_ms, outcome) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      MG_TRY_VOID(q.Bind(u.at).Bind(u.request_id).Bind(u.user_id).Bind(u.team_id)
                      .Bind(u.model_id).Bind(u.input_tokens).Bind(u.output_tokens)
                      .Bind(u.latency_ms).Bind(u.outcome).Run());
    }
    return {};
  });
}

Result<std::vector<UsageRow>> SqliteStore::SumUsage(UsageGroupBy group_by, SystemTime since) {
  std::string_view column = "model_id";
  if (group_by == UsageGroupBy::kTeam) column = "team_id";
  if (group_by == UsageGroupBy::kUser) column = "user_id";
  return Read<std::vector<UsageRow>>([&](Connection& c) -> Result<std::vector<UsageRow>> {
    MG_TRY(Query q, c.Prepare(Sql({"SELECT ", column,
                                   ", COUNT(*), SUM(outcome <> 'ok'), SUM(input_tokens), "
                                   "SUM(output_tokens) FROM usage WHERE at >= ? GROUP BY ",
                                   column, " ORDER BY ", column})));
    q.Bind(since);
    return Collect<UsageRow>(q, [](const Query& row) {
      return UsageRow{.key = row.Text(0), .requests = row.Int(1), .errors = row.Int(2),
                      .input_tokens = row.Int(3), .output_tokens = row.Int(4)};
    });
  });
}

// --- Vault ----------------------------------------------------------------------------------

Result<std::vector<DataKey>> SqliteStore::ListDataKeys() {
  return Read<std::vector<DataKey>>([](Connection& c) -> Result<std::vector<DataKey>> {
    MG_TRY(Query q, c.Prepare(Sql({"SELECT ", kDataKeyColumns,
                                   " FROM data_keys ORDER BY created_at, id"})));
    return Collect<DataKey>(q, ReadDataKey);
  });
}

Result<void> SqliteStore::InsertDataKey(const DataKey& key) {
  return Write([&](Connection& c) -> Result<void> {
    MG_TRY(Query q, c.Prepare(Sql({"INSERT INTO data_keys (", kDataKeyColumns,
                                   ") VALUES (?, ?, ?, ?)"})));
    auto r = q.Bind(key.id).Bind(key.master_key_id).Bind(Blob{key.wrapped})
                 .Bind(key.created_at).Run();
    if (!r) return Taken(r.error(), "data key", {{"id", key.id}});
    return {};
  });
}

Result<void> SqliteStore::RewrapDataKeys(const std::vector<DataKey>& keys,
                                         const AuditEvent& audit) {
  return Write([&](Connection& c) -> Result<void> {
    for (const DataKey& key : keys) {
      MG_TRY(Query q,
             c.Prepare("UPDATE data_keys SET master_key_id = ?, wrapped = ? WHERE id = ?"));
      MG_TRY_VOID(q.Bind(key.master_key_id).Bind(Blob{key.wrapped}).Bind(key.id).Run());
      if (c.Changes() == 0) return NotFoundError("data_key", key.id);
    }
    return InsertAudit(c, audit);
  });
}

}  // namespace mg::store::sqlite
