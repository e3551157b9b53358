#include "store/sqlite/migrations.h"

#include <string>

#include "store/sqlite/connection.h"

namespace mg::store::sqlite {
namespace {

Result<int> CurrentVersion(Connection& conn) {
  MG_TRY(Query q, conn.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  MG_TRY(bool has_row, q.Step());
  return has_row ? static_cast<int>(q.Int(0)) : 0;
}

Error TooNew(int db_version, int known) {
  return Error(ErrorCode::kInternal, "store_schema_too_new",
               "the database schema is at version " + std::to_string(db_version) +
                   " but this modelgate binary knows versions up to " + std::to_string(known) +
                   "; a newer modelgate wrote this database: run that version (or newer), or "
                   "restore a backup taken before the upgrade");
}

}  // namespace

Result<int> ApplyMigrations(Connection& conn, std::span<const Migration> migrations,
                            SystemTime now) {
  MG_TRY_VOID(conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                        "  version INTEGER PRIMARY KEY NOT NULL,"
                        "  name TEXT NOT NULL,"
                        "  applied_at INTEGER NOT NULL) STRICT",
                        "create schema_migrations"));
  const int known = migrations.empty() ? 0 : migrations.back().version;
  {
    MG_TRY(int version, CurrentVersion(conn));
    if (version > known) return TooNew(version, known);
    if (version == known) return version;
  }
  for (const Migration& m : migrations) {
    // Re-check inside the write lock: another process may have migrated meanwhile.
    MG_TRY(Transaction tx, Transaction::BeginImmediate(conn));
    MG_TRY(int version, CurrentVersion(conn));
    if (version > known) return TooNew(version, known);
    if (m.version <= version) continue;
    MG_TRY_VOID(conn.Exec(m.sql, "apply migration " + std::to_string(m.version) + "_" +
                                     std::string(m.name)));
    MG_TRY(Query insert, conn.Prepare(
                             "INSERT INTO schema_migrations (version, name, applied_at) "
                             "VALUES (?, ?, ?)"));
    MG_TRY_VOID(insert.Bind(m.version).Bind(m.name).Bind(now).Run());
    MG_TRY_VOID(tx.Commit());
  }
  return CurrentVersion(conn);
}

}  // namespace mg::store::sqlite
