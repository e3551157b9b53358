#include "store/sqlite/connection.h"

#include <chrono>

namespace mg::store::sqlite {

int64_t ToMicros(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

SystemTime FromMicros(int64_t micros) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::microseconds(micros)));
}

Error MapSqliteError(sqlite3* db, int rc, std::string_view what) {
  // SQLite messages name tables and columns, never bound values, so they are safe to surface.
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = "sqlite: " + std::string(what) + ": " + detail;
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: {
      // "UNIQUE constraint failed: teams.name" (composite keys list "t.a, t.b"; take the first).
      std::string column;
      if (size_t colon = detail.find(": "); colon != std::string::npos) {
        std::string target = detail.substr(colon + 2);
        target = target.substr(0, target.find(','));
        if (size_t dot = target.find('.'); dot != std::string::npos) column = target.substr(dot + 1);
      }
      const bool is_name = column == "name" || column == "email";
      return Conflict(is_name ? "name_taken" : "id_taken",
                      (column.empty() ? std::string("value") : column) + " is already taken",
                      column);
    }
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
      return Error(ErrorCode::kUnavailable, "store_unavailable", std::move(message));
    default:
      return Error(ErrorCode::kInternal, "store_error", std::move(message));
  }
}

// --- Query ----------------------------------------------------------------------------------

Query::Query(sqlite3* db, CachedStatement* cached) : db_(db), cached_(cached) {
  cached_->in_use = true;
}

Query::Query(sqlite3* db, Statement owned) : db_(db), owned_(std::move(owned)) {}

Query::Query(Query&& other) noexcept
    : db_(other.db_),
      cached_(std::exchange(other.cached_, nullptr)),
      owned_(std::move(other.owned_)),
      next_param_(other.next_param_),
      bind_rc_(other.bind_rc_) {}

Query::~Query() {
  sqlite3_stmt* s = stmt();
  if (s != nullptr) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  if (cached_ != nullptr) cached_->in_use = false;
}

sqlite3_stmt* Query::stmt() const {
  return cached_ != nullptr ? cached_->statement.get() : owned_.get();
}

Query& Query::Bind(std::string_view text) {
  int rc = sqlite3_bind_text64(stmt(), next_param_++, text.data(), text.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::Bind(Blob blob) {
  // A zero-length blob must still be a BLOB, not NULL: bind a non-null pointer.
  static const char kEmpty = 0;
  const char* data = blob.bytes.empty() ? &kEmpty : blob.bytes.data();
  int rc = sqlite3_bind_blob64(stmt(), next_param_++, data, blob.bytes.size(), SQLITE_TRANSIENT);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::Bind(int64_t value) {
  int rc = sqlite3_bind_int64(stmt(), next_param_++, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::Bind(std::nullopt_t) {
  int rc = sqlite3_bind_null(stmt(), next_param_++);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Query& Query::Bind(const std::optional<SystemTime>& t) {
  return t ? Bind(ToMicros(*t)) : Bind(std::nullopt);
}

Result<bool> Query::Step() {
  if (bind_rc_ != SQLITE_OK) return MapSqliteError(db_, bind_rc_, "bind parameter");
  int rc = sqlite3_step(stmt());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return MapSqliteError(db_, sqlite3_extended_errcode(db_), sqlite3_sql(stmt()));
}

Result<void> Query::Run() {
  MG_TRY(bool has_row, Step());
  // Statements run through Run() return no rows; a row means the SQL is wrong (a bug).
  if (has_row) return Internal(std::string("statement unexpectedly returned a row: ") +
                               sqlite3_sql(stmt()));
  return {};
}

bool Query::IsNull(int col) const { return sqlite3_column_type(stmt(), col) == SQLITE_NULL; }

int64_t Query::Int(int col) const { return sqlite3_column_int64(stmt(), col); }

std::string Query::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt(), col);
  int n = sqlite3_column_bytes(stmt(), col);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
                      : std::string();
}

std::string Query::BlobBytes(int col) const {
  const void* p = sqlite3_column_blob(stmt(), col);
  int n = sqlite3_column_bytes(stmt(), col);
  return p != nullptr ? std::string(static_cast<const char*>(p), static_cast<size_t>(n))
                      : std::string();
}

std::optional<SystemTime> Query::OptionalTime(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Time(col);
}

// --- Connection -----------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode,
                                                     int busy_timeout_ms) {
  // NOMUTEX: each connection is used by one thread at a time (see the header), so SQLite's own
  // per-connection mutex would only add cost.
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
              (mode == Mode::kReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                        : SQLITE_OPEN_READWRITE);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbHandle db(raw);  // owns the handle even when the open failed
  if (rc != SQLITE_OK) {
    Error e = MapSqliteError(db.get(), rc, "open " + path);
    return e;
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  std::unique_ptr<Connection> conn(new Connection(std::move(db)));
  // synchronous=FULL: in WAL mode every commit fsyncs the WAL, so an acknowledged write
  // survives kill -9 and power loss (NORMAL would only survive a process crash).
  MG_TRY_VOID(conn->Exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                         "configure connection"));
  if (mode == Mode::kReadOnly) MG_TRY_VOID(conn->Exec("PRAGMA query_only = ON;", "query_only"));
  return conn;
}

Connection::~Connection() {
  // Finalize statements before the handle closes (members are destroyed in reverse order, but
  // be explicit: the cache must go first).
  cache_.clear();
}

Result<void> Connection::Exec(std::string_view sql, std::string_view what) {
  std::string text(sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return MapSqliteError(db_.get(), sqlite3_extended_errcode(db_.get()), what);
  return {};
}

Result<Query> Connection::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it != cache_.end() && !it->second->in_use) return Query(db_.get(), it->second.get());

  const bool cache_it = it == cache_.end();
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), key.data(), static_cast<int>(key.size()),
                              cache_it ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  Statement statement(raw);
  if (rc != SQLITE_OK) return MapSqliteError(db_.get(), rc, "prepare " + key);
  if (!cache_it) {
    // The cached statement is busy in an enclosing Query (nested use): use a one-off copy.
    return Query(db_.get(), std::move(statement));
  }
  auto cached = std::make_unique<CachedStatement>();
  cached->statement = std::move(statement);
  CachedStatement* ptr = cached.get();
  cache_.emplace(std::move(key), std::move(cached));
  return Query(db_.get(), ptr);
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_.get()); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

// --- Transaction ----------------------------------------------------------------------------

Result<Transaction> Transaction::BeginImmediate(Connection& conn) {
  MG_TRY_VOID(conn.Exec("BEGIN IMMEDIATE", "begin transaction"));
  return Transaction(&conn);
}

Result<Transaction> Transaction::BeginRead(Connection& conn) {
  MG_TRY_VOID(conn.Exec("BEGIN", "begin read transaction"));
  return Transaction(&conn);
}

Transaction::~Transaction() {
  // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL); only roll back an
  // open transaction. A failed rollback leaves nothing to do but report it on the next call.
  if (conn_ != nullptr && conn_->InTransaction()) {
    (void)conn_->Exec("ROLLBACK", "rollback");
  }
}

Result<void> Transaction::Commit() {
  Connection* conn = conn_;
  MG_TRY_VOID(conn->Exec("COMMIT", "commit"));
  conn_ = nullptr;
  return {};
}

}  // namespace mg::store::sqlite
