// @file migrations.h
// @brief Versioned schema migrations of the SQLite store and the runner that applies them.
//
// Each migration is a file migrations/NNNN_name.sql, embedded into the binary at build time
// (embed_migrations.cmake generates Migrations()). Versions run 1..N without gaps. Applied
// versions are recorded in `schema_migrations`; a migration and its version row commit in one
// transaction, so a crash never leaves a half-applied version. Thread-safety: ApplyMigrations
// needs exclusive use of the connection; concurrent processes are serialized by BEGIN IMMEDIATE.
#pragma once

#include <span>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace mg::store::sqlite {

class Connection;

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Every migration this binary knows, in version order (generated at build time).
std::span<const Migration> Migrations();

// Applies the migrations the database lacks, each in its own transaction, stamping
// schema_migrations.applied_at with `now`. Returns the resulting schema version.
// Fails with kInternal "store_schema_too_new" when the database records a version newer than
// the newest in `migrations` (a newer modelgate wrote it): we refuse rather than risk
// misreading or corrupting data.
Result<int> ApplyMigrations(Connection& conn, std::span<const Migration> migrations,
                            SystemTime now);

}  // namespace mg::store::sqlite
