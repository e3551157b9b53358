#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"

namespace mg::store::sqlite {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class FixedClock final : public Clock {
 public:
  explicit FixedClock(SystemTime t) : t_(t) {}
  SystemTime Now() const override { return t_; }
  SteadyTime SteadyNow() const override { return SteadyTime{}; }

 private:
  SystemTime t_;
};

// Microsecond-precise times (the store's unit), deterministic.
SystemTime T(int64_t seconds, int64_t micros = 0) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(
      std::chrono::seconds(1'700'000'000 + seconds) + std::chrono::microseconds(micros)));
}

AuditEvent Audit(std::string action, std::string target) {
  return AuditEvent{.seq = 0, .at = T(0), .actor = "user_admin", .action = std::move(action),
                    .target = std::move(target), .details = "{}"};
}

Team MakeTeam(std::string id, std::string name) {
  return Team{.id = std::move(id), .name = std::move(name), .created_at = T(1),
              .updated_at = T(1)};
}

User MakeUser(std::string id, std::string email, std::string name, Role role = Role::kMember,
              std::vector<std::string> teams = {}) {
  User u;
  u.id = std::move(id);
  u.email = std::move(email);
  u.name = std::move(name);
  u.role = role;
  u.team_ids = std::move(teams);
  u.created_at = T(2);
  u.updated_at = T(2);
  return u;
}

ApiKey MakeKey(std::string id, std::string user_id, std::string hash, SystemTime created = T(3)) {
  ApiKey k;
  k.id = std::move(id);
  k.user_id = std::move(user_id);
  k.name = "key " + k.id;
  k.prefix = "mg_live_" + k.id;
  k.hash = std::move(hash);
  k.created_at = created;
  return k;
}

Credential MakeCred(std::string id, std::string name, bool is_inline = false) {
  Credential c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.is_inline = is_inline;
  c.provider = "bedrock";
  c.region = "us-east-1";
  c.auth_type = AuthType::kAccessKeys;
  c.access_key_id = "AKIAEXAMPLE";
  // Binary ciphertext, NUL bytes included.
  c.secret_access_key = SealedSecret{"dk_1", std::string("\x00\x01secret\xff", 9)};
  c.created_at = T(4);
  c.updated_at = T(4);
  c.secret_rotated_at = T(4);
  return c;
}

Model MakeModel(std::string id, std::string credential_id, bool all_teams = true,
                std::vector<std::string> teams = {}) {
  Model m;
  m.id = std::move(id);
  m.name = "Model " + m.id;
  m.provider = "bedrock";
  m.provider_model_id = "anthropic.claude";
  m.region = "us-east-1";
  m.credential_id = std::move(credential_id);
  m.all_teams = all_teams;
  m.team_ids = std::move(teams);
  m.created_at = T(5);
  m.updated_at = T(5);
  return m;
}

HealthState State(std::string model_id, HealthStatus status = HealthStatus::kUnknown) {
  HealthState s;
  s.model_id = std::move(model_id);
  s.status = status;
  return s;
}

HealthCheck Check(std::string model_id, SystemTime at,
                  HealthStatus status = HealthStatus::kUnknown) {
  HealthCheck c;
  c.model_id = std::move(model_id);
  c.at = at;
  c.status = status;
  return c;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("mg_store_test_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" +
            info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "db" / "modelgate.db").string();
    OpenStore();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void OpenStore() {
    store_.reset();
    auto s = SqliteStore::Open(path_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  // A separate raw connection, to inspect what is really on disk.
  int64_t Scalar(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    int64_t v = -1;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }
  std::string ScalarText(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    std::string v;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* p = sqlite3_column_text(stmt, 0);
      if (p != nullptr) v = reinterpret_cast<const char*>(p);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  int64_t Count(const std::string& table) { return Scalar("SELECT COUNT(*) FROM " + table); }
  int64_t AuditCount() { return Count("audit"); }

  void MustCreateTeam(const std::string& id, const std::string& name) {
    auto r = store_->CreateTeam(MakeTeam(id, name), Audit("team.create", id));
    ASSERT_TRUE(r) << r.error().message;
  }
  void MustCreateUser(const User& u) {
    auto r = store_->CreateUser(u, std::nullopt, Audit("user.create", u.id));
    ASSERT_TRUE(r) << r.error().message;
  }
  void MustCreateCred(const Credential& c) {
    auto r = store_->CreateCredential(c, Audit("credential.create", c.id));
    ASSERT_TRUE(r) << r.error().message;
  }
  void MustCreateModel(const Model& m) {
    auto r = store_->CreateModels({}, {m}, Audit("model.create", m.id));
    ASSERT_TRUE(r) << r.error().message;
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

// --- Open, migrations, pragmas ----------------------------------------------------------------

TEST_F(SqliteStoreTest, OpenAppliesMigrationsAndRecordsVersion) {
  const int newest = Migrations().back().version;
  EXPECT_EQ(store_->schema_version(), newest);
  EXPECT_EQ(Scalar("SELECT MAX(version) FROM schema_migrations"), newest);
  EXPECT_EQ(Count("schema_migrations"), static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ(ScalarText("SELECT name FROM schema_migrations WHERE version = 1"), "init");
  // Every table of 0001_init exists.
  for (const char* table : {"teams", "users", "user_teams", "api_keys", "data_keys",
                            "credentials", "models", "model_teams", "health_states",
                            "health_checks", "audit", "usage"}) {
    EXPECT_EQ(Scalar(std::string("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND "
                                 "name = '") + table + "'"),
              1)
        << table;
  }
  EXPECT_TRUE(store_->Ping());
}

TEST_F(SqliteStoreTest, MigrationsStampClockAndAreIdempotentOnReopen) {
  store_.reset();
  fs::remove_all(dir_ / "db");
  FixedClock first(T(100));
  {
    auto s = SqliteStore::Open(path_, SqliteStore::Options{.clock = &first});
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE((*s)->CreateTeam(MakeTeam("team_a", "alpha"), Audit("team.create", "team_a")));
  }
  EXPECT_EQ(Scalar("SELECT applied_at FROM schema_migrations WHERE version = 1"),
            ToMicros(T(100)));
  FixedClock second(T(200));
  auto s = SqliteStore::Open(path_, SqliteStore::Options{.clock = &second});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->schema_version(), Migrations().back().version);
  // Nothing re-applied, the stamp is the original one and the data survived.
  EXPECT_EQ(Count("schema_migrations"), static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ(Scalar("SELECT applied_at FROM schema_migrations WHERE version = 1"),
            ToMicros(T(100)));
  auto team = (*s)->GetTeam("team_a");
  ASSERT_TRUE(team);
  EXPECT_EQ(team->name, "alpha");
}

TEST_F(SqliteStoreTest, RefusesSchemaFromNewerBinary) {
  store_.reset();
  RawExec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
  auto s = SqliteStore::Open(path_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInternal);
  EXPECT_EQ(s.error().reason, "store_schema_too_new");
  EXPECT_THAT(s.error().message, HasSubstr("999"));
}

TEST_F(SqliteStoreTest, ApplyMigrationsRunsOnlyMissingVersionsEachAtomically) {
  auto conn = Connection::Open((dir_ / "m.db").string(), Connection::Mode::kReadWrite, 1000);
  ASSERT_TRUE(conn) << conn.error().message;
  const Migration v1[] = {{1, "one", "CREATE TABLE a (x INTEGER) STRICT;"}};
  auto r = ApplyMigrations(**conn, v1, T(1));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 1);
  // Version 3 fails half-way: its first statement must not survive, version 2 must.
  const Migration v3[] = {{1, "one", "CREATE TABLE a (x INTEGER) STRICT;"},
                          {2, "two", "CREATE TABLE b (x INTEGER) STRICT;"},
                          {3, "three", "CREATE TABLE c (x INTEGER); SELECT * FROM missing;"}};
  auto r3 = ApplyMigrations(**conn, v3, T(2));
  ASSERT_FALSE(r3);
  auto q = (*conn)->Prepare(
      "SELECT (SELECT MAX(version) FROM schema_migrations), "
      "(SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('a', 'b')), "
      "(SELECT COUNT(*) FROM sqlite_schema WHERE name = 'c')");
  ASSERT_TRUE(q);
  auto row = q->Step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(q->Int(0), 2);
  EXPECT_EQ(q->Int(1), 2);
  EXPECT_EQ(q->Int(2), 0);
  EXPECT_FALSE((*conn)->InTransaction());
}

TEST_F(SqliteStoreTest, WalModeAndForeignKeysAreOn) {
  // journal_mode=WAL is persistent in the file.
  EXPECT_EQ(ScalarText("PRAGMA journal_mode"), "wal");
  // Per-connection settings applied by Connection::Open.
  for (auto mode : {Connection::Mode::kReadWrite, Connection::Mode::kReadOnly}) {
    auto conn = Connection::Open(path_, mode, 1000);
    ASSERT_TRUE(conn) << conn.error().message;
    auto fk = (*conn)->Prepare("PRAGMA foreign_keys");
    ASSERT_TRUE(fk);
    auto has = fk->Step();
    ASSERT_TRUE(has && *has);
    EXPECT_EQ(fk->Int(0), 1);
    auto sync = (*conn)->Prepare("PRAGMA synchronous");
    ASSERT_TRUE(sync);
    has = sync->Step();
    ASSERT_TRUE(has && *has);
    EXPECT_EQ(sync->Int(0), 2);  // FULL
  }
  // And the store's own writer enforces them: deleting a user cascades to its keys.
  MustCreateUser(MakeUser("user_a", "a@x", "a"));
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("key_a", "user_a", "h_a"), Audit("key.create", "k")));
  ASSERT_TRUE(store_->DeleteUser("user_a", Audit("user.delete", "user_a")));
  EXPECT_EQ(Count("api_keys"), 0);
}

TEST_F(SqliteStoreTest, ReadOnlyConnectionRefusesWrites) {
  auto conn = Connection::Open(path_, Connection::Mode::kReadOnly, 1000);
  ASSERT_TRUE(conn);
  auto r = (*conn)->Exec("INSERT INTO audit (at, actor, action, target, details) "
                         "VALUES (0, 'a', 'b', 'c', '{}')",
                         "insert");
  EXPECT_FALSE(r);
  EXPECT_EQ(AuditCount(), 0);
}

TEST_F(SqliteStoreTest, OpenValidatesPathAndCreatesPrivateFile) {
  auto mem = SqliteStore::Open(":memory:");
  ASSERT_FALSE(mem);
  EXPECT_EQ(mem.error().code, ErrorCode::kInvalidArgument);
  auto bad = SqliteStore::Open(path_, SqliteStore::Options{.read_connections = 0});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A path below a regular file cannot be created.
  auto blocked = SqliteStore::Open(path_ + "/nested.db");
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(blocked.error().reason, "store_unavailable");
}

// --- Teams ------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, TeamsCrudAndConflicts) {
  MustCreateTeam("team_b", "beta");
  MustCreateTeam("team_a", "alpha");
  EXPECT_EQ(AuditCount(), 2);

  auto dup = store_->CreateTeam(MakeTeam("team_c", "beta"), Audit("team.create", "team_c"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_EQ(dup.error().reason, "name_taken");
  EXPECT_EQ(dup.error().param, "name");
  EXPECT_THAT(dup.error().message, HasSubstr("beta"));
  auto dup_id = store_->CreateTeam(MakeTeam("team_a", "gamma"), Audit("team.create", "team_a"));
  ASSERT_FALSE(dup_id);
  EXPECT_EQ(dup_id.error().reason, "id_taken");
  EXPECT_EQ(dup_id.error().param, "id");
  EXPECT_EQ(AuditCount(), 2);  // failed changes leave no audit row

  auto list = store_->ListTeams();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "alpha");  // ordered by name
  EXPECT_EQ((*list)[1].name, "beta");
  EXPECT_EQ((*list)[0].created_at, T(1));

  Team renamed = MakeTeam("team_a", "beta");
  auto taken = store_->UpdateTeam(renamed, Audit("team.update", "team_a"));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  EXPECT_EQ(taken.error().param, "name");
  renamed.name = "aleph";
  renamed.updated_at = T(9);
  ASSERT_TRUE(store_->UpdateTeam(renamed, Audit("team.update", "team_a")));
  auto got = store_->GetTeam("team_a");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "aleph");
  EXPECT_EQ(got->updated_at, T(9));
  EXPECT_EQ(got->created_at, T(1));

  auto missing = store_->GetTeam("team_zz");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().reason, "team_not_found");
  auto upd_missing = store_->UpdateTeam(MakeTeam("team_zz", "zz"), Audit("team.update", "zz"));
  ASSERT_FALSE(upd_missing);
  EXPECT_EQ(upd_missing.error().reason, "team_not_found");
  auto del_missing = store_->DeleteTeam("team_zz", Audit("team.delete", "zz"));
  ASSERT_FALSE(del_missing);
  EXPECT_EQ(del_missing.error().reason, "team_not_found");
  EXPECT_EQ(AuditCount(), 3);
}

TEST_F(SqliteStoreTest, DeleteTeamRemovesItFromUsersAndModels) {
  MustCreateTeam("team_a", "alpha");
  MustCreateTeam("team_b", "beta");
  MustCreateUser(MakeUser("user_1", "u1@x", "u1", Role::kMember, {"team_b", "team_a"}));
  MustCreateCred(MakeCred("cred_1", "main"));
  MustCreateModel(MakeModel("m1", "cred_1", false, {"team_a"}));

  ASSERT_TRUE(store_->DeleteTeam("team_a", Audit("team.delete", "team_a")));
  auto user = store_->GetUser("user_1");
  ASSERT_TRUE(user);
  EXPECT_THAT(user->team_ids, ElementsAre("team_b"));
  auto model = store_->GetModel("m1");
  ASSERT_TRUE(model);
  EXPECT_FALSE(model->all_teams);  // shared with nobody now, not with everyone
  EXPECT_THAT(model->team_ids, IsEmpty());
  EXPECT_EQ(Count("user_teams"), 1);
  EXPECT_EQ(Count("model_teams"), 0);
}

// --- Users ------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, UsersAndTeamsManyToMany) {
  MustCreateTeam("team_a", "alpha");
  MustCreateTeam("team_b", "beta");
  MustCreateUser(MakeUser("user_1", "u1@x", "zed", Role::kOrgAdmin, {"team_b", "team_a"}));
  MustCreateUser(MakeUser("user_2", "u2@x", "amy", Role::kBuilder, {"team_a", "team_a"}));
  MustCreateUser(MakeUser("user_3", "", "bob"));
  MustCreateUser(MakeUser("user_4", "", "carl"));  // empty emails are not unique

  auto count = store_->CountUsers();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 4);
  auto u1 = store_->GetUser("user_1");
  ASSERT_TRUE(u1);
  EXPECT_EQ(u1->role, Role::kOrgAdmin);
  EXPECT_EQ(u1->email, "u1@x");
  EXPECT_THAT(u1->team_ids, ElementsAre("team_a", "team_b"));  // sorted

  auto users = store_->ListUsers();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 4u);
  EXPECT_EQ((*users)[0].name, "amy");  // by name
  EXPECT_THAT((*users)[0].team_ids, ElementsAre("team_a"));  // duplicate collapsed
  EXPECT_EQ((*users)[1].name, "bob");
  EXPECT_THAT((*users)[1].team_ids, IsEmpty());
  EXPECT_EQ((*users)[3].name, "zed");
  EXPECT_THAT((*users)[3].team_ids, ElementsAre("team_a", "team_b"));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM user_teams WHERE team_id = 'team_a'"), 2);

  // Update replaces memberships.
  User changed = *u1;
  changed.team_ids = {"team_b"};
  changed.role = Role::kItAdmin;
  changed.updated_at = T(50);
  ASSERT_TRUE(store_->UpdateUser(changed, Audit("user.update", "user_1")));
  u1 = store_->GetUser("user_1");
  ASSERT_TRUE(u1);
  EXPECT_EQ(u1->role, Role::kItAdmin);
  EXPECT_THAT(u1->team_ids, ElementsAre("team_b"));
  EXPECT_EQ(u1->updated_at, T(50));
}

TEST_F(SqliteStoreTest, UserEmailAndNameUniqueAsConflictWithParam) {
  MustCreateUser(MakeUser("user_1", "same@x", "one"));
  const int64_t audits = AuditCount();
  auto r = store_->CreateUser(MakeUser("user_2", "same@x", "two"), std::nullopt,
                              Audit("user.create", "user_2"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().reason, "name_taken");
  EXPECT_EQ(r.error().param, "email");
  EXPECT_THAT(r.error().message, HasSubstr("same@x"));

  MustCreateUser(MakeUser("user_2", "two@x", "two"));
  User u2 = MakeUser("user_2", "same@x", "two");
  auto upd = store_->UpdateUser(u2, Audit("user.update", "user_2"));
  ASSERT_FALSE(upd);
  EXPECT_EQ(upd.error().code, ErrorCode::kConflict);
  EXPECT_EQ(upd.error().param, "email");
  EXPECT_EQ(AuditCount(), audits + 1);

  auto missing = store_->GetUser("user_zz");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "user_not_found");
  auto upd_missing = store_->UpdateUser(MakeUser("user_zz", "zz@x", "zz"), Audit("u", "zz"));
  ASSERT_FALSE(upd_missing);
  EXPECT_EQ(upd_missing.error().reason, "user_not_found");
  auto del_missing = store_->DeleteUser("user_zz", Audit("u", "zz"));
  ASSERT_FALSE(del_missing);
  EXPECT_EQ(del_missing.error().reason, "user_not_found");
}

TEST_F(SqliteStoreTest, CreateUserIsAtomicWithFirstKeyAndTeams) {
  MustCreateUser(MakeUser("user_1", "u1@x", "one"));
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("key_1", "user_1", "hash_1"), Audit("k", "key_1")));
  const int64_t audits = AuditCount();

  // The first key's hash collides: the user must not be created either.
  auto r = store_->CreateUser(MakeUser("user_2", "u2@x", "two"),
                              MakeKey("key_2", "user_2", "hash_1"), Audit("user.create", "u2"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(store_->GetUser("user_2"));
  EXPECT_EQ(Count("users"), 1);
  EXPECT_EQ(Count("api_keys"), 1);
  EXPECT_EQ(AuditCount(), audits);

  // Unknown team: nothing persisted.
  auto t = store_->CreateUser(MakeUser("user_3", "u3@x", "three", Role::kMember, {"team_no"}),
                              std::nullopt, Audit("user.create", "u3"));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(t.error().reason, "team_not_found");
  EXPECT_EQ(t.error().param, "team_ids");
  EXPECT_EQ(Count("users"), 1);

  // Bootstrap admin with its first key in one go.
  auto ok = store_->CreateUser(MakeUser("user_admin", "", "admin", Role::kOrgAdmin),
                               MakeKey("key_admin", "user_admin", "hash_admin"),
                               Audit("user.create", "user_admin"));
  ASSERT_TRUE(ok) << ok.error().message;
  auto keys = store_->ListApiKeys("user_admin");
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].hash, "hash_admin");
  EXPECT_EQ(AuditCount(), audits + 1);
}

TEST_F(SqliteStoreTest, UpdateUserWithUnknownTeamChangesNothing) {
  MustCreateTeam("team_a", "alpha");
  MustCreateUser(MakeUser("user_1", "u1@x", "one", Role::kMember, {"team_a"}));
  const int64_t audits = AuditCount();
  User u = MakeUser("user_1", "new@x", "renamed", Role::kOrgAdmin, {"team_a", "team_no"});
  auto r = store_->UpdateUser(u, Audit("user.update", "user_1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "team_not_found");
  auto got = store_->GetUser("user_1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "one");
  EXPECT_EQ(got->email, "u1@x");
  EXPECT_EQ(got->role, Role::kMember);
  EXPECT_THAT(got->team_ids, ElementsAre("team_a"));
  EXPECT_EQ(AuditCount(), audits);
}

// --- API keys ---------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, ApiKeysLookupRevokeAndTouch) {
  MustCreateUser(MakeUser("user_1", "u1@x", "one"));
  MustCreateUser(MakeUser("user_2", "u2@x", "two"));
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("key_b", "user_1", "hash_b", T(20)), Audit("k", "b")));
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("key_a", "user_1", "hash_a", T(10)), Audit("k", "a")));
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("key_c", "user_2", "hash_c", T(30)), Audit("k", "c")));

  auto dup = store_->CreateApiKey(MakeKey("key_d", "user_1", "hash_a"), Audit("k", "d"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_THAT(dup.error().message, ::testing::Not(HasSubstr("hash_a")));  // never the hash
  auto no_user = store_->CreateApiKey(MakeKey("key_e", "user_zz", "hash_e"), Audit("k", "e"));
  ASSERT_FALSE(no_user);
  EXPECT_EQ(no_user.error().reason, "user_not_found");

  // LoadConfig exposes the hashes of live keys.
  auto cfg = store_->LoadConfig();
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->api_keys.size(), 3u);
  EXPECT_EQ(cfg->api_keys[0].id, "key_a");  // by created_at
  EXPECT_EQ(cfg->api_keys[0].hash, "hash_a");
  EXPECT_EQ(cfg->api_keys[0].user_id, "user_1");
  EXPECT_EQ(cfg->api_keys[0].prefix, "mg_live_key_a");
  EXPECT_FALSE(cfg->api_keys[0].last_used_at);

  // Revoke: wrong user is NotFound and changes nothing.
  auto wrong = store_->RevokeApiKey("user_2", "key_a", T(40), Audit("key.revoke", "key_a"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(wrong.error().reason, "api_key_not_found");
  const int64_t audits = AuditCount();
  ASSERT_TRUE(store_->RevokeApiKey("user_1", "key_a", T(40), Audit("key.revoke", "key_a")));
  EXPECT_EQ(AuditCount(), audits + 1);
  ASSERT_TRUE(store_->RevokeApiKey("user_1", "key_a", T(41), Audit("key.revoke", "key_a")));
  auto keys = store_->ListApiKeys("user_1");
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].id, "key_a");
  ASSERT_TRUE((*keys)[0].revoked_at);
  EXPECT_EQ(*(*keys)[0].revoked_at, T(40));  // the first revocation wins
  EXPECT_FALSE((*keys)[1].revoked_at);
  cfg = store_->LoadConfig();
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->api_keys.size(), 2u);
  for (const ApiKey& k : cfg->api_keys) EXPECT_NE(k.hash, "hash_a");

  // Touch: unknown ids ignored, never moves backwards, microsecond precision kept.
  ASSERT_TRUE(store_->TouchApiKeys({{"key_b", T(100, 7)}, {"key_unknown", T(100)}}));
  ASSERT_TRUE(store_->TouchApiKeys({{"key_b", T(90)}, {"key_c", T(95)}}));
  keys = store_->ListApiKeys("user_1");
  ASSERT_TRUE(keys);
  ASSERT_TRUE((*keys)[1].last_used_at);
  EXPECT_EQ(*(*keys)[1].last_used_at, T(100, 7));
  auto keys2 = store_->ListApiKeys("user_2");
  ASSERT_TRUE(keys2);
  ASSERT_TRUE((*keys2)[0].last_used_at);
  EXPECT_EQ(*(*keys2)[0].last_used_at, T(95));
  EXPECT_TRUE(store_->TouchApiKeys({}));
  EXPECT_EQ(AuditCount(), audits + 2);  // two revocations; touches are not audited

  auto missing = store_->ListApiKeys("user_zz");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "user_not_found");
}

// --- Credentials ------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, CredentialRoundTripsEveryField) {
  Credential c = MakeCred("cred_1", "main");
  c.session_token = SealedSecret{"dk_2", std::string("\x00tok", 4)};
  c.region = "eu-west-1";
  MustCreateCred(c);
  Credential role = MakeCred("cred_2", "role");
  role.auth_type = AuthType::kRoleArn;
  role.secret_access_key.reset();
  role.access_key_id.clear();
  role.role_arn = "arn:aws:iam::123:role/x";
  role.session_name = "mg";
  role.external_id = "ext";
  MustCreateCred(role);

  auto got = store_->GetCredential("cred_1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "main");
  EXPECT_FALSE(got->is_inline);
  EXPECT_EQ(got->region, "eu-west-1");
  EXPECT_EQ(got->auth_type, AuthType::kAccessKeys);
  EXPECT_EQ(got->access_key_id, "AKIAEXAMPLE");
  ASSERT_TRUE(got->secret_access_key);
  EXPECT_EQ(got->secret_access_key->data_key_id, "dk_1");
  EXPECT_EQ(got->secret_access_key->ciphertext, std::string("\x00\x01secret\xff", 9));
  ASSERT_TRUE(got->session_token);
  EXPECT_EQ(got->session_token->ciphertext, std::string("\x00tok", 4));
  EXPECT_EQ(got->secret_rotated_at, T(4));
  auto got_role = store_->GetCredential("cred_2");
  ASSERT_TRUE(got_role);
  EXPECT_EQ(got_role->auth_type, AuthType::kRoleArn);
  EXPECT_FALSE(got_role->secret_access_key);
  EXPECT_FALSE(got_role->session_token);
  EXPECT_EQ(got_role->role_arn, "arn:aws:iam::123:role/x");
  EXPECT_EQ(got_role->session_name, "mg");
  EXPECT_EQ(got_role->external_id, "ext");

  auto missing = store_->GetCredential("cred_zz");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().reason, "credential_not_found");
}

TEST_F(SqliteStoreTest, CredentialNamesUniqueAmongNamedOnly) {
  MustCreateCred(MakeCred("cred_1", "main"));
  const int64_t audits = AuditCount();
  auto dup = store_->CreateCredential(MakeCred("cred_2", "main"), Audit("c", "cred_2"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_EQ(dup.error().reason, "name_taken");
  EXPECT_EQ(dup.error().param, "name");
  EXPECT_THAT(dup.error().message, HasSubstr("main"));
  EXPECT_EQ(AuditCount(), audits);
  // Inline credentials have no names and never collide.
  MustCreateCred(MakeCred("cred_i1", "", true));
  MustCreateCred(MakeCred("cred_i2", "", true));
  auto list = store_->ListCredentials();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);  // named only
  EXPECT_EQ((*list)[0].id, "cred_1");
}

TEST_F(SqliteStoreTest, UpdateCredentialRotatesSecret) {
  MustCreateCred(MakeCred("cred_1", "main"));
  MustCreateCred(MakeCred("cred_2", "other"));
  Credential c = MakeCred("cred_1", "main-renamed");
  c.secret_access_key = SealedSecret{"dk_9", "newcipher"};
  c.updated_at = T(60);
  c.secret_rotated_at = T(60, 5);
  const int64_t audits = AuditCount();
  ASSERT_TRUE(store_->UpdateCredential(c, Audit("credential.update", "cred_1")));
  EXPECT_EQ(AuditCount(), audits + 1);
  auto got = store_->GetCredential("cred_1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "main-renamed");
  EXPECT_EQ(got->secret_access_key->data_key_id, "dk_9");
  EXPECT_EQ(got->secret_access_key->ciphertext, "newcipher");
  EXPECT_EQ(got->secret_rotated_at, T(60, 5));
  EXPECT_EQ(got->updated_at, T(60));
  EXPECT_EQ(got->created_at, T(4));

  c.name = "other";
  auto taken = store_->UpdateCredential(c, Audit("credential.update", "cred_1"));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  EXPECT_EQ(taken.error().param, "name");
  auto missing = store_->UpdateCredential(MakeCred("cred_zz", "zz"), Audit("c", "zz"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "credential_not_found");
  EXPECT_EQ(AuditCount(), audits + 1);
}

TEST_F(SqliteStoreTest, DeleteCredentialRefusedWhileInUse) {
  MustCreateCred(MakeCred("cred_1", "main"));
  MustCreateModel(MakeModel("m_b", "cred_1"));
  MustCreateModel(MakeModel("m_a", "cred_1"));
  auto using_it = store_->ListModelsUsingCredential("cred_1");
  ASSERT_TRUE(using_it);
  EXPECT_THAT(*using_it, ElementsAre("m_a", "m_b"));

  const int64_t audits = AuditCount();
  auto r = store_->DeleteCredential("cred_1", Audit("credential.delete", "cred_1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().reason, "credential_in_use");
  EXPECT_THAT(r.error().message, HasSubstr("m_a, m_b"));
  EXPECT_TRUE(store_->GetCredential("cred_1"));
  EXPECT_EQ(AuditCount(), audits);

  ASSERT_TRUE(store_->DeleteModel("m_a", Audit("model.delete", "m_a")));
  ASSERT_TRUE(store_->DeleteModel("m_b", Audit("model.delete", "m_b")));
  // Deleting a model keeps its named credential.
  ASSERT_TRUE(store_->GetCredential("cred_1"));
  ASSERT_TRUE(store_->DeleteCredential("cred_1", Audit("credential.delete", "cred_1")));
  EXPECT_FALSE(store_->GetCredential("cred_1"));

  auto missing = store_->DeleteCredential("cred_1", Audit("credential.delete", "cred_1"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "credential_not_found");
  auto missing_list = store_->ListModelsUsingCredential("cred_zz");
  ASSERT_FALSE(missing_list);
  EXPECT_EQ(missing_list.error().reason, "credential_not_found");
}

// --- Models -----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, CreateModelsWithInlineCredential) {
  MustCreateTeam("team_a", "alpha");
  MustCreateTeam("team_b", "beta");
  Credential inl = MakeCred("cred_inline", "", true);
  const int64_t audits = AuditCount();
  auto r = store_->CreateModels({inl},
                                {MakeModel("z/model:1", "cred_inline", false, {"team_b", "team_a"}),
                                 MakeModel("a.model", "cred_inline")},
                                Audit("model.create", "batch"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(AuditCount(), audits + 1);  // one audit row for the batch

  auto models = store_->ListModels();
  ASSERT_TRUE(models);
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].id, "a.model");  // by id
  EXPECT_TRUE((*models)[0].all_teams);
  EXPECT_EQ((*models)[1].id, "z/model:1");
  EXPECT_THAT((*models)[1].team_ids, ElementsAre("team_a", "team_b"));
  auto m = store_->GetModel("z/model:1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->credential_id, "cred_inline");
  EXPECT_EQ(m->provider_model_id, "anthropic.claude");
  EXPECT_FALSE(m->all_teams);
  EXPECT_THAT(m->team_ids, ElementsAre("team_a", "team_b"));
  EXPECT_EQ(m->created_at, T(5));
  auto cred = store_->GetCredential("cred_inline");
  ASSERT_TRUE(cred);
  EXPECT_TRUE(cred->is_inline);

  auto missing = store_->GetModel("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "model_not_found");
}

TEST_F(SqliteStoreTest, ModelCatalogFactsRoundTripThroughCreateAndUpdate) {
  MustCreateCred(MakeCred("cred_1", "c1"));
  Model m = MakeModel("legacy.model", "cred_1");
  m.lifecycle = "LEGACY";
  m.input_modalities = {"TEXT", "IMAGE"};
  ASSERT_TRUE(store_->CreateModels({}, {m}, Audit("model.create", m.id)));
  EXPECT_EQ(store_->GetModel(m.id)->lifecycle, "LEGACY");
  EXPECT_THAT(store_->GetModel(m.id)->input_modalities, ElementsAre("TEXT", "IMAGE"));
  m.lifecycle = "ACTIVE";
  m.input_modalities = {};
  ASSERT_TRUE(store_->UpdateModel(m, std::nullopt, std::nullopt, Audit("model.update", m.id)));
  EXPECT_EQ(store_->GetModel(m.id)->lifecycle, "ACTIVE");
  EXPECT_TRUE(store_->GetModel(m.id)->input_modalities.empty());
  EXPECT_EQ((*store_->ListModels())[0].lifecycle, "ACTIVE");
}

TEST_F(SqliteStoreTest, CreateModelsIsAllOrNothing) {
  MustCreateTeam("team_a", "alpha");
  MustCreateCred(MakeCred("cred_named", "named"));
  MustCreateModel(MakeModel("existing", "cred_named"));
  const int64_t audits = AuditCount();
  const int64_t creds = Count("credentials");

  // The second model's id is a duplicate of the first one in the batch.
  auto dup = store_->CreateModels(
      {MakeCred("cred_new", "", true)},
      {MakeModel("m1", "cred_new", false, {"team_a"}), MakeModel("m1", "cred_new")},
      Audit("model.create", "batch"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_EQ(dup.error().reason, "id_taken");
  EXPECT_EQ(dup.error().param, "id");
  EXPECT_THAT(dup.error().message, HasSubstr("m1"));

  // Duplicate of an existing model.
  auto dup2 = store_->CreateModels({MakeCred("cred_new", "", true)},
                                   {MakeModel("m2", "cred_new"), MakeModel("existing", "cred_new")},
                                   Audit("model.create", "batch"));
  ASSERT_FALSE(dup2);
  EXPECT_EQ(dup2.error().reason, "id_taken");

  // Unknown team in the last model.
  auto team = store_->CreateModels(
      {MakeCred("cred_new", "", true)},
      {MakeModel("m3", "cred_new"), MakeModel("m4", "cred_new", false, {"team_no"})},
      Audit("model.create", "batch"));
  ASSERT_FALSE(team);
  EXPECT_EQ(team.error().reason, "team_not_found");

  // Unknown credential.
  auto cred = store_->CreateModels({MakeCred("cred_new", "", true)},
                                   {MakeModel("m5", "cred_new"), MakeModel("m6", "cred_no")},
                                   Audit("model.create", "batch"));
  ASSERT_FALSE(cred);
  EXPECT_EQ(cred.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(cred.error().reason, "credential_not_found");
  EXPECT_EQ(cred.error().param, "credential_id");

  // Second inline credential collides with a named one's id.
  auto cred_dup = store_->CreateModels(
      {MakeCred("cred_new", "", true), MakeCred("cred_named", "", true)},
      {MakeModel("m7", "cred_new")}, Audit("model.create", "batch"));
  ASSERT_FALSE(cred_dup);
  EXPECT_EQ(cred_dup.error().code, ErrorCode::kConflict);

  // Nothing of any batch persisted, and no audit row.
  auto models = store_->ListModels();
  ASSERT_TRUE(models);
  ASSERT_EQ(models->size(), 1u);
  EXPECT_EQ((*models)[0].id, "existing");
  EXPECT_EQ(Count("credentials"), creds);
  EXPECT_FALSE(store_->GetCredential("cred_new"));
  EXPECT_EQ(Count("model_teams"), 0);
  EXPECT_EQ(AuditCount(), audits);

  // And the writer is still usable afterwards (no transaction left open).
  ASSERT_TRUE(store_->CreateModels({MakeCred("cred_new", "", true)},
                                   {MakeModel("m1", "cred_new", false, {"team_a"})},
                                   Audit("model.create", "m1")));
  EXPECT_EQ(Count("models"), 2);
  EXPECT_EQ(AuditCount(), audits + 1);
}

TEST_F(SqliteStoreTest, UpdateModelSwitchesInlineCredentialAtomically) {
  MustCreateTeam("team_a", "alpha");
  ASSERT_TRUE(store_->CreateModels({MakeCred("cred_old", "", true)},
                                   {MakeModel("m1", "cred_old")}, Audit("model.create", "m1")));
  const int64_t audits = AuditCount();

  // Failure after the new credential was inserted: unknown team. Nothing changes.
  Model bad = MakeModel("m1", "cred_new", false, {"team_no"});
  auto r = store_->UpdateModel(bad, MakeCred("cred_new", "", true), "cred_old",
                               Audit("model.update", "m1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "team_not_found");
  EXPECT_FALSE(store_->GetCredential("cred_new"));
  EXPECT_TRUE(store_->GetCredential("cred_old"));
  auto m = store_->GetModel("m1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->credential_id, "cred_old");
  EXPECT_TRUE(m->all_teams);
  EXPECT_EQ(AuditCount(), audits);

  // Refusing to delete a named credential rolls everything back too.
  MustCreateCred(MakeCred("cred_named", "named"));
  const int64_t audits2 = AuditCount();
  auto named = store_->UpdateModel(MakeModel("m1", "cred_old"), std::nullopt,
                                   std::string("cred_named"), Audit("model.update", "m1"));
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(store_->GetCredential("cred_named"));
  EXPECT_EQ(AuditCount(), audits2);

  // Success: rotate to a new inline credential, the old one goes.
  Model good = MakeModel("m1", "cred_new", false, {"team_a"});
  good.name = "renamed";
  good.updated_at = T(70);
  ASSERT_TRUE(store_->UpdateModel(good, MakeCred("cred_new", "", true), "cred_old",
                                  Audit("model.update", "m1")));
  m = store_->GetModel("m1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->credential_id, "cred_new");
  EXPECT_EQ(m->name, "renamed");
  EXPECT_EQ(m->updated_at, T(70));
  EXPECT_THAT(m->team_ids, ElementsAre("team_a"));
  EXPECT_FALSE(store_->GetCredential("cred_old"));
  EXPECT_EQ(AuditCount(), audits2 + 1);

  auto missing = store_->UpdateModel(MakeModel("nope", "cred_new"), std::nullopt, std::nullopt,
                                     Audit("model.update", "nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "model_not_found");
}

TEST_F(SqliteStoreTest, DeleteModelRemovesInlineCredentialAndHealth) {
  ASSERT_TRUE(store_->CreateModels({MakeCred("cred_inline", "", true)},
                                   {MakeModel("m1", "cred_inline")}, Audit("model.create", "m1")));
  HealthState st = State("m1", HealthStatus::kHealthy);
  HealthCheck chk = Check("m1", T(10), HealthStatus::kHealthy);
  ASSERT_TRUE(store_->RecordHealth(st, chk, 5, std::nullopt));
  const int64_t audits = AuditCount();
  ASSERT_TRUE(store_->DeleteModel("m1", Audit("model.delete", "m1")));
  EXPECT_EQ(AuditCount(), audits + 1);
  EXPECT_FALSE(store_->GetModel("m1"));
  EXPECT_FALSE(store_->GetCredential("cred_inline"));
  EXPECT_EQ(Count("health_states"), 0);
  EXPECT_EQ(Count("health_checks"), 0);
  auto missing = store_->DeleteModel("m1", Audit("model.delete", "m1"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "model_not_found");
  EXPECT_EQ(AuditCount(), audits + 1);
}

// --- Audit ------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, AuditWrittenWithChangeAndListedNewestFirst) {
  MustCreateTeam("team_a", "alpha");
  MustCreateCred(MakeCred("cred_1", "main"));
  AuditEvent custom{.at = T(33, 3), .actor = "system", .action = "health.unhealthy",
                    .target = "m1", .details = R"({"cause":"x"})"};
  ASSERT_TRUE(store_->AppendAudit(custom));

  auto all = store_->ListAudit(10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].action, "health.unhealthy");
  EXPECT_EQ((*all)[0].at, T(33, 3));
  EXPECT_EQ((*all)[0].actor, "system");
  EXPECT_EQ((*all)[0].details, R"({"cause":"x"})");
  EXPECT_EQ((*all)[1].action, "credential.create");
  EXPECT_EQ((*all)[1].target, "cred_1");
  EXPECT_EQ((*all)[2].action, "team.create");
  EXPECT_GT((*all)[0].seq, (*all)[1].seq);
  EXPECT_GT((*all)[1].seq, (*all)[2].seq);

  auto page = store_->ListAudit(2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, (*all)[0].seq);
  EXPECT_EQ((*page)[1].seq, (*all)[1].seq);

  auto bad = store_->ListAudit(0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, SeqNeverReusedAfterRollback) {
  MustCreateTeam("team_a", "alpha");
  auto first = store_->ListAudit(1);
  ASSERT_TRUE(first);
  ASSERT_FALSE(store_->CreateTeam(MakeTeam("team_b", "alpha"), Audit("team.create", "team_b")));
  MustCreateTeam("team_c", "gamma");
  auto latest = store_->ListAudit(5);
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_GT((*latest)[0].seq, (*first)[0].seq);
  EXPECT_EQ((*latest)[0].target, "team_c");
}

// --- Vault data keys --------------------------------------------------------------------------

TEST_F(SqliteStoreTest, DataKeysInsertListAndRewrapAtomically) {
  ASSERT_TRUE(store_->InsertDataKey({"dk_2", "mk_1", std::string("\x00w2", 3), T(2)}));
  ASSERT_TRUE(store_->InsertDataKey({"dk_1", "mk_1", "w1", T(1)}));
  auto dup = store_->InsertDataKey({"dk_1", "mk_1", "w1", T(1)});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  EXPECT_EQ(dup.error().param, "id");

  auto keys = store_->ListDataKeys();
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].id, "dk_1");  // by created_at
  EXPECT_EQ((*keys)[1].wrapped, std::string("\x00w2", 3));
  EXPECT_EQ((*keys)[1].created_at, T(2));

  // One unknown key: no key is rewrapped and no audit row written.
  const int64_t audits = AuditCount();
  auto bad = store_->RewrapDataKeys({{"dk_1", "mk_2", "n1", T(1)}, {"dk_zz", "mk_2", "nz", T(1)}},
                                    Audit("vault.rotate", "mk_2"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kNotFound);
  keys = store_->ListDataKeys();
  ASSERT_TRUE(keys);
  EXPECT_EQ((*keys)[0].master_key_id, "mk_1");
  EXPECT_EQ((*keys)[0].wrapped, "w1");
  EXPECT_EQ(AuditCount(), audits);

  ASSERT_TRUE(store_->RewrapDataKeys({{"dk_1", "mk_2", "n1", T(1)}, {"dk_2", "mk_2", "n2", T(2)}},
                                     Audit("vault.rotate", "mk_2")));
  keys = store_->ListDataKeys();
  ASSERT_TRUE(keys);
  EXPECT_EQ((*keys)[0].master_key_id, "mk_2");
  EXPECT_EQ((*keys)[0].wrapped, "n1");
  EXPECT_EQ((*keys)[1].master_key_id, "mk_2");
  EXPECT_EQ((*keys)[1].wrapped, "n2");
  EXPECT_EQ(AuditCount(), audits + 1);
}

// --- Health -----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, HealthUpsertPruneAndList) {
  MustCreateCred(MakeCred("cred_1", "main"));
  MustCreateModel(MakeModel("m1", "cred_1"));
  const int64_t audits = AuditCount();
  for (int i = 1; i <= 5; ++i) {
    HealthState st{.model_id = "m1",
                   .status = i % 2 ? HealthStatus::kUnhealthy : HealthStatus::kHealthy,
                   .in_pool = i % 2 == 0,
                   .last_checked_at = T(i),
                   .next_check_at = T(i + 60),
                   .cooldown_until = i % 2 ? std::optional<SystemTime>(T(i + 30)) : std::nullopt,
                   .cause = i % 2 ? "timeout" : "",
                   .message = "check " + std::to_string(i),
                   .consecutive_failures = i};
    HealthCheck chk{.model_id = "m1", .at = T(i), .status = st.status, .latency_ms = 10 * i,
                    .cause = st.cause, .message = st.message};
    std::optional<AuditEvent> audit;
    if (i == 5) audit = Audit("health.unhealthy", "m1");
    ASSERT_TRUE(store_->RecordHealth(st, chk, 3, audit));
  }
  EXPECT_EQ(AuditCount(), audits + 1);
  EXPECT_EQ(Count("health_states"), 1);
  EXPECT_EQ(Count("health_checks"), 3);

  auto checks = store_->ListHealthChecks("m1", 10);
  ASSERT_TRUE(checks);
  ASSERT_EQ(checks->size(), 3u);
  EXPECT_EQ((*checks)[0].at, T(5));  // newest first
  EXPECT_EQ((*checks)[0].latency_ms, 50);
  EXPECT_EQ((*checks)[0].status, HealthStatus::kUnhealthy);
  EXPECT_EQ((*checks)[0].cause, "timeout");
  EXPECT_EQ((*checks)[2].at, T(3));
  auto two = store_->ListHealthChecks("m1", 2);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->size(), 2u);

  auto cfg = store_->LoadConfig();
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->health.size(), 1u);
  const HealthState& h = cfg->health[0];
  EXPECT_EQ(h.status, HealthStatus::kUnhealthy);
  EXPECT_FALSE(h.in_pool);
  EXPECT_EQ(h.consecutive_failures, 5);
  EXPECT_EQ(h.last_checked_at, T(5));
  EXPECT_EQ(h.cooldown_until, T(35));
  EXPECT_EQ(h.message, "check 5");

  // State only, no check: upserts without touching history.
  HealthState only = State("m1", HealthStatus::kHealthy);
  ASSERT_TRUE(store_->RecordHealth(only, std::nullopt, 0, std::nullopt));
  cfg = store_->LoadConfig();
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->health[0].status, HealthStatus::kHealthy);
  EXPECT_FALSE(cfg->health[0].cooldown_until);
  EXPECT_EQ(Count("health_checks"), 3);

  auto unknown = store_->RecordHealth(State("nope"), std::nullopt, 1,
                                      Audit("health.unhealthy", "nope"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().reason, "model_not_found");
  EXPECT_EQ(AuditCount(), audits + 1);
  auto mismatch = store_->RecordHealth(State("m1"),
                                       Check("m2", T(1)), 3, std::nullopt);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, ErrorCode::kInvalidArgument);
  auto bad_keep = store_->RecordHealth(State("m1"),
                                       Check("m1", T(1)), 0, std::nullopt);
  ASSERT_FALSE(bad_keep);
  EXPECT_EQ(bad_keep.error().param, "keep");
  auto list_missing = store_->ListHealthChecks("nope", 3);
  ASSERT_FALSE(list_missing);
  EXPECT_EQ(list_missing.error().reason, "model_not_found");
}

// --- Usage ------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, UsageAppendAndSum) {
  auto rec = [](int64_t at, std::string user, std::string team, std::string model, int64_t in,
                int64_t out, std::string outcome) {
    return UsageRecord{.at = T(at), .request_id = "req", .user_id = std::move(user),
                       .team_id = std::move(team), .model_id = std::move(model),
                       .input_tokens = in, .output_tokens = out, .latency_ms = 5,
                       .outcome = std::move(outcome)};
  };
  ASSERT_TRUE(store_->AppendUsage({rec(1, "u1", "t1", "mA", 100, 1, "ok")}));
  ASSERT_TRUE(store_->AppendUsage({rec(10, "u1", "t1", "mA", 10, 2, "ok"),
                                   rec(11, "u2", "t2", "mA", 20, 3, "rate_limited"),
                                   rec(12, "u2", "", "mB", 30, 4, "ok")}));
  EXPECT_TRUE(store_->AppendUsage({}));
  EXPECT_EQ(Count("usage"), 4);
  EXPECT_EQ(AuditCount(), 0);  // usage is not audited

  auto by_model = store_->SumUsage(UsageGroupBy::kModel, T(10));
  ASSERT_TRUE(by_model);
  ASSERT_EQ(by_model->size(), 2u);
  EXPECT_EQ((*by_model)[0].key, "mA");
  EXPECT_EQ((*by_model)[0].requests, 2);
  EXPECT_EQ((*by_model)[0].errors, 1);
  EXPECT_EQ((*by_model)[0].input_tokens, 30);
  EXPECT_EQ((*by_model)[0].output_tokens, 5);
  EXPECT_EQ((*by_model)[1].key, "mB");
  EXPECT_EQ((*by_model)[1].errors, 0);

  auto by_user = store_->SumUsage(UsageGroupBy::kUser, T(0));
  ASSERT_TRUE(by_user);
  ASSERT_EQ(by_user->size(), 2u);
  EXPECT_EQ((*by_user)[0].key, "u1");
  EXPECT_EQ((*by_user)[0].requests, 2);
  EXPECT_EQ((*by_user)[0].input_tokens, 110);

  auto by_team = store_->SumUsage(UsageGroupBy::kTeam, T(0));
  ASSERT_TRUE(by_team);
  ASSERT_EQ(by_team->size(), 3u);
  EXPECT_EQ((*by_team)[0].key, "");
  EXPECT_EQ((*by_team)[1].key, "t1");
  EXPECT_EQ((*by_team)[2].key, "t2");

  auto none = store_->SumUsage(UsageGroupBy::kModel, T(1000));
  ASSERT_TRUE(none);
  EXPECT_THAT(*none, IsEmpty());
}

// --- LoadConfig and persistence ----------------------------------------------------------------

TEST_F(SqliteStoreTest, LoadConfigReadsEverythingAndSurvivesReopen) {
  MustCreateTeam("team_a", "alpha");
  MustCreateUser(MakeUser("user_1", "u1@x", "one", Role::kBuilder, {"team_a"}));
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("key_1", "user_1", "hash_1"), Audit("k", "key_1")));
  MustCreateCred(MakeCred("cred_named", "named"));
  ASSERT_TRUE(store_->CreateModels({MakeCred("cred_inline", "", true)},
                                   {MakeModel("m_inline", "cred_inline", false, {"team_a"}),
                                    MakeModel("m_named", "cred_named")},
                                   Audit("model.create", "batch")));
  OpenStore();  // close and reopen the file
  auto cfg = store_->LoadConfig();
  ASSERT_TRUE(cfg) << cfg.error().message;
  ASSERT_EQ(cfg->teams.size(), 1u);
  ASSERT_EQ(cfg->users.size(), 1u);
  EXPECT_THAT(cfg->users[0].team_ids, ElementsAre("team_a"));
  EXPECT_EQ(cfg->users[0].role, Role::kBuilder);
  ASSERT_EQ(cfg->api_keys.size(), 1u);
  EXPECT_EQ(cfg->api_keys[0].hash, "hash_1");
  ASSERT_EQ(cfg->credentials.size(), 2u);  // named and inline
  ASSERT_EQ(cfg->models.size(), 2u);
  EXPECT_EQ(cfg->models[0].id, "m_inline");
  EXPECT_THAT(cfg->models[0].team_ids, ElementsAre("team_a"));
  EXPECT_THAT(cfg->models[1].team_ids, IsEmpty());
  EXPECT_THAT(cfg->health, IsEmpty());
}

TEST_F(SqliteStoreTest, HealthPruningIsPerModel) {
  MustCreateCred(MakeCred("cred_1", "main"));
  MustCreateModel(MakeModel("m1", "cred_1"));
  MustCreateModel(MakeModel("m2", "cred_1"));
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(store_->RecordHealth(State("m1"), Check("m1", T(i)), 10, std::nullopt));
  }
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(store_->RecordHealth(State("m2"), Check("m2", T(i)), 1, std::nullopt));
  }
  auto m1 = store_->ListHealthChecks("m1", 100);
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->size(), 4u);
  auto m2 = store_->ListHealthChecks("m2", 100);
  ASSERT_TRUE(m2);
  ASSERT_EQ(m2->size(), 1u);
  EXPECT_EQ((*m2)[0].at, T(3));
  EXPECT_EQ(Count("health_states"), 2);
}

TEST_F(SqliteStoreTest, HealthBatchWritesInOrderInOneTransactionAndSkipsDeletedModels) {
  MustCreateCred(MakeCred("cred_1", "main"));
  MustCreateModel(MakeModel("m1", "cred_1"));
  MustCreateModel(MakeModel("m2", "cred_1"));
  const int64_t audits = AuditCount();
  std::vector<HealthRecord> batch;
  for (int i = 1; i <= 3; ++i) batch.push_back({State("m1"), Check("m1", T(i)), std::nullopt});
  batch.push_back({State("gone"), Check("gone", T(1)), std::nullopt});  // deleted meanwhile
  batch.push_back({State("m2"), Check("m2", T(7)), Audit("health.unhealthy", "m2")});
  auto written = store_->RecordHealthBatch(batch, /*keep=*/2);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(*written, 4u);
  auto m1 = store_->ListHealthChecks("m1", 100);
  ASSERT_TRUE(m1);
  ASSERT_EQ(m1->size(), 2u);  // pruned to `keep`, newest first
  EXPECT_EQ((*m1)[0].at, T(3));
  EXPECT_EQ((*m1)[1].at, T(2));
  EXPECT_EQ(store_->ListHealthChecks("m2", 100)->size(), 1u);
  EXPECT_EQ(AuditCount(), audits + 1);
  EXPECT_EQ(Count("health_states"), 2);
  // Invalid input is refused before anything is written.
  std::vector<HealthRecord> bad = {{State("m1"), Check("m2", T(9)), std::nullopt}};
  EXPECT_FALSE(store_->RecordHealthBatch(bad, 2));
  EXPECT_EQ(store_->ListHealthChecks("m1", 100)->size(), 2u);
}

TEST_F(SqliteStoreTest, LockedDatabaseIsUnavailableAndChangesNothing) {
  store_.reset();
  auto s = SqliteStore::Open(path_, SqliteStore::Options{.busy_timeout = std::chrono::milliseconds(20)});
  ASSERT_TRUE(s) << s.error().message;
  store_ = std::move(*s);
  // Another process holds the write lock.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &other, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto r = store_->CreateTeam(MakeTeam("team_a", "alpha"), Audit("team.create", "team_a"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().reason, "store_unavailable");
  // Readers are not blocked by a writer (WAL).
  EXPECT_TRUE(store_->Ping());
  EXPECT_TRUE(store_->ListTeams());
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  // The store recovers once the lock is released.
  MustCreateTeam("team_a", "alpha");
  EXPECT_EQ(AuditCount(), 1);
}

TEST_F(SqliteStoreTest, NestedQueriesOnOneConnectionAreIndependent) {
  MustCreateTeam("team_a", "alpha");
  MustCreateTeam("team_b", "beta");
  auto conn = Connection::Open(path_, Connection::Mode::kReadOnly, 1000);
  ASSERT_TRUE(conn);
  const std::string sql = "SELECT name FROM teams WHERE id = ?";
  auto outer = (*conn)->Prepare(sql);
  ASSERT_TRUE(outer);
  outer->Bind("team_a");
  auto inner = (*conn)->Prepare(sql);  // same text while the cached one is busy
  ASSERT_TRUE(inner);
  inner->Bind("team_b");
  auto a = outer->Step();
  auto b = inner->Step();
  ASSERT_TRUE(a && *a);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ(outer->Text(0), "alpha");
  EXPECT_EQ(inner->Text(0), "beta");
}

TEST_F(SqliteStoreTest, MapSqliteErrorClassifiesCodes) {
  Error busy = MapSqliteError(nullptr, SQLITE_BUSY, "x");
  EXPECT_EQ(busy.code, ErrorCode::kUnavailable);
  EXPECT_EQ(busy.reason, "store_unavailable");
  EXPECT_EQ(MapSqliteError(nullptr, SQLITE_IOERR_FSYNC, "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(MapSqliteError(nullptr, SQLITE_FULL, "x").code, ErrorCode::kUnavailable);
  Error check = MapSqliteError(nullptr, SQLITE_CONSTRAINT_CHECK, "x");
  EXPECT_EQ(check.code, ErrorCode::kInternal);
  EXPECT_EQ(check.reason, "store_error");
}

TEST_F(SqliteStoreTest, ConcurrentWritersAndReadersStayConsistent) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = "team_" + std::to_string(t) + "_" + std::to_string(i);
        if (!store_->CreateTeam(MakeTeam(id, id), Audit("team.create", id))) ++failures;
        auto teams = store_->ListTeams();
        if (!teams) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto teams = store_->ListTeams();
  ASSERT_TRUE(teams);
  EXPECT_EQ(teams->size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(AuditCount(), kThreads * kPerThread);
}

}  // namespace
}  // namespace mg::store::sqlite
