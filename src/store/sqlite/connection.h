// @file connection.h
// @brief RAII over the SQLite C API for the SQLite store: Connection (sqlite3*), Statement
// (sqlite3_stmt*), Query (a borrowed, auto-reset prepared statement) and Transaction.
//
// A Connection owns its handle and a cache of prepared statements. Errors from SQLite become
// mg::Error values (MapSqliteError): UNIQUE violations -> kConflict, busy/locked/I/O/full ->
// kUnavailable "store_unavailable", everything else -> kInternal.
//
// Thread-safety: a Connection (and every Query/Transaction on it) must be used by one thread at
// a time; SqliteStore guarantees this with a mutex (writer) and leases (readers).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <sqlite3.h>

#include "core/clock.h"
#include "core/result.h"

namespace mg::store::sqlite {

// Owns a sqlite3_stmt*; finalizes it on destruction.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&& other) noexcept {
    if (this != &other) {
      Reset();
      stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { Reset(); }

  sqlite3_stmt* get() const { return stmt_; }

 private:
  void Reset() noexcept {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
  sqlite3_stmt* stmt_ = nullptr;
};

// Owns a sqlite3*; closes it on destruction (after the statements, see Connection).
class DbHandle {
 public:
  DbHandle() = default;
  explicit DbHandle(sqlite3* db) : db_(db) {}
  DbHandle(DbHandle&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  DbHandle& operator=(DbHandle&& other) noexcept {
    if (this != &other) {
      Close();
      db_ = std::exchange(other.db_, nullptr);
    }
    return *this;
  }
  DbHandle(const DbHandle&) = delete;
  DbHandle& operator=(const DbHandle&) = delete;
  ~DbHandle() { Close(); }

  sqlite3* get() const { return db_; }

 private:
  void Close() noexcept {
    // close_v2 defers the close until the last statement is finalized, so a leaked statement
    // cannot make the close fail.
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }
  sqlite3* db_ = nullptr;
};

// Maps a SQLite result code (extended codes enabled) to an mg::Error. `what` names the
// operation for the message ("insert team"). UNIQUE/PRIMARY KEY violations become kConflict
// with param = the column and reason "name_taken" (name, email columns) or "id_taken".
Error MapSqliteError(sqlite3* db, int rc, std::string_view what);

// Binary data bound as a BLOB (text parameters are bound as TEXT).
struct Blob {
  std::string_view bytes;
};

// Microseconds since the Unix epoch: the store's time unit (SQLite INTEGER columns).
int64_t ToMicros(SystemTime t);
SystemTime FromMicros(int64_t micros);

struct CachedStatement {
  Statement statement;
  bool in_use = false;
};

// A prepared statement borrowed from a Connection's cache (or owned, when the cached one is
// already in use by an enclosing Query). Parameters bind left to right with Bind(); on
// destruction the statement is reset and its bindings cleared, so it can be reused.
class Query {
 public:
  Query(sqlite3* db, CachedStatement* cached);
  Query(sqlite3* db, Statement owned);
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  Query& Bind(std::string_view text);
  Query& Bind(const std::string& text) { return Bind(std::string_view(text)); }
  Query& Bind(const char* text) { return Bind(std::string_view(text)); }
  Query& Bind(Blob blob);
  Query& Bind(int64_t value);
  Query& Bind(int value) { return Bind(static_cast<int64_t>(value)); }
  Query& Bind(bool value) { return Bind(static_cast<int64_t>(value ? 1 : 0)); }
  Query& Bind(SystemTime t) { return Bind(ToMicros(t)); }
  Query& Bind(std::nullopt_t);
  Query& Bind(const std::optional<SystemTime>& t);

  // Advances to the next row: true when a row is available, false when done.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Result<void> Run();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  bool Bool(int col) const { return Int(col) != 0; }
  std::string Text(int col) const;
  std::string BlobBytes(int col) const;
  SystemTime Time(int col) const { return FromMicros(Int(col)); }
  std::optional<SystemTime> OptionalTime(int col) const;

 private:
  sqlite3_stmt* stmt() const;

  sqlite3* db_;
  CachedStatement* cached_ = nullptr;
  Statement owned_;
  int next_param_ = 1;
  int bind_rc_ = SQLITE_OK;  // first failed bind, reported by Step()
};

class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating when kReadWrite) the database file and applies the per-connection settings:
  // extended result codes, foreign_keys=ON, busy_timeout, synchronous=FULL; kReadOnly
  // connections also set query_only. WAL mode is set by the store on its writer.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode,
                                                  int busy_timeout_ms);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Executes one or more SQL statements without parameters (schema, PRAGMA, BEGIN/COMMIT).
  Result<void> Exec(std::string_view sql, std::string_view what);
  // A prepared statement for `sql`, cached by its text.
  Result<Query> Prepare(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  // True while a transaction is open.
  bool InTransaction() const;

  sqlite3* db() const { return db_.get(); }

 private:
  explicit Connection(DbHandle db) : db_(std::move(db)) {}

  // Declared first so it is destroyed last: statements are finalized before the handle closes.
  DbHandle db_;
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>> cache_;
};

// A transaction on a Connection, rolled back on destruction unless committed.
class Transaction {
 public:
  // BEGIN IMMEDIATE: takes the write lock at once, so a read-then-write never fails with
  // SQLITE_BUSY half-way (busy_timeout applies to the BEGIN).
  static Result<Transaction> BeginImmediate(Connection& conn);
  // BEGIN (deferred): a consistent read snapshot for several SELECTs.
  static Result<Transaction> BeginRead(Connection& conn);

  Transaction(Transaction&& other) noexcept
      : conn_(std::exchange(other.conn_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Result<void> Commit();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;  // null once committed, rolled back or moved from
};

}  // namespace mg::store::sqlite
