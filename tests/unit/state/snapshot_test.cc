#include "state/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "state/publisher.h"
#include "store/sqlite/sqlite_store.h"

namespace mg::state {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

SystemTime T(int64_t seconds) {
  return SystemTime(std::chrono::seconds(1'700'000'000 + seconds));
}

store::Team MakeTeam(std::string id, std::string name) {
  return store::Team{.id = std::move(id), .name = std::move(name), .created_at = T(1),
                     .updated_at = T(1)};
}

store::User MakeUser(std::string id, std::string name, store::Role role,
                     std::vector<std::string> teams) {
  store::User u;
  u.id = std::move(id);
  u.email = u.id + "@example.com";
  u.name = std::move(name);
  u.role = role;
  u.team_ids = std::move(teams);
  u.created_at = T(2);
  u.updated_at = T(2);
  return u;
}

store::ApiKey MakeKey(std::string id, std::string user_id, std::string hash) {
  store::ApiKey k;
  k.id = std::move(id);
  k.user_id = std::move(user_id);
  k.name = "k";
  k.prefix = "mg_live_" + k.id;
  k.hash = std::move(hash);
  k.created_at = T(3);
  return k;
}

store::Credential MakeCred(std::string id, std::string name, bool is_inline = false) {
  store::Credential c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.is_inline = is_inline;
  c.provider = "bedrock";
  c.region = "us-east-1";
  c.access_key_id = "AKIA" + c.id;
  c.secret_access_key = store::SealedSecret{"dk_1", "sealed-sak-" + c.id};
  c.created_at = T(4);
  c.updated_at = T(4);
  c.secret_rotated_at = T(4);
  return c;
}

store::Model MakeModel(std::string id, std::string cred, bool all_teams,
                       std::vector<std::string> teams = {}) {
  store::Model m;
  m.id = std::move(id);
  m.name = "Model " + m.id;
  m.provider = "bedrock";
  m.provider_model_id = "anthropic.claude";
  m.region = "us-east-1";
  m.credential_id = std::move(cred);
  m.all_teams = all_teams;
  m.team_ids = std::move(teams);
  m.created_at = T(5);
  m.updated_at = T(5);
  return m;
}

// A fake vault: "opens" a sealed secret into "<ciphertext>|<aad>" and records every call.
struct FakeVault {
  std::vector<std::string> aads;
  std::string fail_for;  // ciphertext that fails to open
  OpenSecretFn Fn() {
    return [this](const store::SealedSecret& sealed, std::string_view aad) -> Result<Secret> {
      aads.emplace_back(aad);
      if (!fail_for.empty() && sealed.ciphertext == fail_for) {
        return Error(ErrorCode::kInternal, "vault_open_failed",
                     "cannot open secret sealed with " + sealed.data_key_id);
      }
      return Secret(sealed.ciphertext + "|" + std::string(aad));
    };
  }
};

store::ConfigData SampleData() {
  store::ConfigData d;
  d.teams = {MakeTeam("team_a", "alpha"), MakeTeam("team_b", "beta"), MakeTeam("team_c", "gamma")};
  d.users = {MakeUser("user_1", "ann", store::Role::kBuilder, {"team_c", "team_a"}),
             MakeUser("user_2", "bob", store::Role::kOrgAdmin, {})};
  d.api_keys = {MakeKey("key_1", "user_1", "hash_1"), MakeKey("key_2", "user_2", "hash_2"),
                MakeKey("key_orphan", "user_gone", "hash_orphan")};
  d.api_keys[1].last_used_at = FromUnixMillis(1'700'000'123'456);
  store::ApiKey revoked = MakeKey("key_rev", "user_1", "hash_rev");
  revoked.revoked_at = T(9);
  d.api_keys.push_back(revoked);

  store::Credential named = MakeCred("cred_named", "prod");
  named.session_token = store::SealedSecret{"dk_2", "sealed-tok"};
  store::Credential role = MakeCred("cred_role", "role-cred");
  role.auth_type = store::AuthType::kRoleArn;
  role.secret_access_key.reset();
  role.role_arn = "arn:aws:iam::1:role/r";
  d.credentials = {named, role, MakeCred("cred_inline", "", true)};
  d.models = {MakeModel("z-model", "cred_named", true),
              MakeModel("a-model", "cred_named", false, {"team_b"}),
              MakeModel("m/inline:1", "cred_inline", false, {"team_a", "team_b"})};
  store::HealthState h;
  h.model_id = "a-model";
  h.status = store::HealthStatus::kHealthy;
  d.health = {h};
  return d;
}

TEST(SnapshotTest, SecretAadBindsIdAndField) {
  EXPECT_EQ(SecretAad("cred_1", "secret_access_key"), "cred:cred_1:secret_access_key");
}

TEST(SnapshotTest, BuildIndexesKeysByHash) {
  FakeVault vault;
  auto snap = Snapshot::Build(SampleData(), vault.Fn(), nullptr, 7);
  ASSERT_TRUE(snap) << snap.error().message;
  const Snapshot& s = **snap;
  EXPECT_EQ(s.version(), 7u);

  const KeyEntry* k1 = s.FindKeyByHash("hash_1");
  ASSERT_NE(k1, nullptr);
  EXPECT_EQ(k1->principal.user_id, "user_1");
  EXPECT_EQ(k1->principal.user_name, "ann");
  EXPECT_EQ(k1->principal.role, store::Role::kBuilder);
  EXPECT_EQ(k1->principal.key_id, "key_1");
  EXPECT_THAT(k1->principal.team_ids, ElementsAre("team_a", "team_c"));  // sorted
  ASSERT_NE(k1->last_used_ms, nullptr);
  EXPECT_EQ(k1->last_used_ms->load(), 0);  // never used

  const KeyEntry* k2 = s.FindKeyByHash("hash_2");
  ASSERT_NE(k2, nullptr);
  EXPECT_EQ(k2->principal.role, store::Role::kOrgAdmin);
  EXPECT_EQ(k2->last_used_ms->load(), 1'700'000'123'456);  // from last_used_at

  EXPECT_EQ(s.FindKeyByHash("hash_rev"), nullptr);     // revoked
  EXPECT_EQ(s.FindKeyByHash("hash_orphan"), nullptr);  // user deleted
  EXPECT_EQ(s.FindKeyByHash("hash_unknown"), nullptr);
  EXPECT_EQ(s.FindKeyByHash("key_1"), nullptr);  // ids are not hashes
  EXPECT_EQ(s.keys_by_id().size(), 2u);
  EXPECT_EQ(s.keys_by_id().count("key_rev"), 0u);
}

TEST(SnapshotTest, BuildLinksModelsCredentialsTeamsAndUsers) {
  FakeVault vault;
  auto snap = Snapshot::Build(SampleData(), vault.Fn(), nullptr, 1);
  ASSERT_TRUE(snap) << snap.error().message;
  const Snapshot& s = **snap;

  ASSERT_EQ(s.models().size(), 3u);
  EXPECT_EQ(s.models()[0]->record.id, "a-model");  // sorted by id
  EXPECT_EQ(s.models()[1]->record.id, "m/inline:1");
  EXPECT_EQ(s.models()[2]->record.id, "z-model");

  const ModelEntry* m = s.FindModel("m/inline:1");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->record.credential_id, "cred_inline");
  ASSERT_NE(m->credential, nullptr);
  EXPECT_EQ(m->credential, s.FindCredential("cred_inline"));
  EXPECT_TRUE(m->credential->record.is_inline);
  EXPECT_EQ(s.FindModel("nope"), nullptr);
  for (const ModelEntry* e : s.models()) EXPECT_NE(e->credential, nullptr);

  const CredentialEntry* named = s.FindCredential("cred_named");
  ASSERT_NE(named, nullptr);
  EXPECT_THAT(named->model_ids, ElementsAre("a-model", "z-model"));
  EXPECT_EQ(named->record.access_key_id, "AKIAcred_named");
  EXPECT_EQ(s.FindCredential("cred_role")->model_ids.size(), 0u);
  EXPECT_EQ(s.FindCredential("nope"), nullptr);

  EXPECT_EQ(s.FindNamedCredential("prod"), named);
  EXPECT_EQ(s.FindNamedCredential("cred_named"), named);
  EXPECT_EQ(s.FindNamedCredential("cred_inline"), nullptr);  // inline ones are not named
  EXPECT_EQ(s.FindNamedCredential(""), nullptr);
  EXPECT_EQ(s.FindNamedCredential("nope"), nullptr);

  ASSERT_NE(s.FindTeam("team_b"), nullptr);
  EXPECT_EQ(s.FindTeam("team_b")->name, "beta");
  ASSERT_NE(s.FindTeam("gamma"), nullptr);
  EXPECT_EQ(s.FindTeam("gamma")->id, "team_c");
  EXPECT_EQ(s.FindTeam("delta"), nullptr);
  ASSERT_NE(s.FindUser("user_2"), nullptr);
  EXPECT_EQ(s.FindUser("user_2")->name, "bob");
  EXPECT_EQ(s.FindUser("user_9"), nullptr);
  EXPECT_EQ(s.teams().size(), 3u);
  ASSERT_EQ(s.health().size(), 1u);
  EXPECT_EQ(s.health()[0].model_id, "a-model");
}

TEST(SnapshotTest, SecretsOpenedThroughVaultWithTheirAad) {
  FakeVault vault;
  auto snap = Snapshot::Build(SampleData(), vault.Fn(), nullptr, 1);
  ASSERT_TRUE(snap) << snap.error().message;
  const CredentialEntry* named = (*snap)->FindCredential("cred_named");
  ASSERT_NE(named, nullptr);
  EXPECT_EQ(named->secret_access_key.Reveal(),
            "sealed-sak-cred_named|cred:cred_named:secret_access_key");
  EXPECT_EQ(named->session_token.Reveal(), "sealed-tok|cred:cred_named:session_token");
  const CredentialEntry* inl = (*snap)->FindCredential("cred_inline");
  EXPECT_EQ(inl->secret_access_key.Reveal(),
            "sealed-sak-cred_inline|cred:cred_inline:secret_access_key");
  EXPECT_TRUE(inl->session_token.empty());
  const CredentialEntry* role = (*snap)->FindCredential("cred_role");
  EXPECT_TRUE(role->secret_access_key.empty());
  EXPECT_TRUE(role->session_token.empty());
  // Exactly the three sealed secrets were opened.
  EXPECT_EQ(vault.aads.size(), 3u);
}

TEST(SnapshotTest, CredentialsAreReadyForProviders) {
  FakeVault vault;
  store::ConfigData d = SampleData();
  d.credentials[1].external_id = "ext-1";
  auto snap = Snapshot::Build(std::move(d), vault.Fn(), nullptr, 1);
  ASSERT_TRUE(snap) << snap.error().message;
  const providers::ProviderCredential& keys = (*snap)->FindCredential("cred_named")->provider;
  EXPECT_EQ(keys.id, "cred_named");
  EXPECT_EQ(keys.region, "us-east-1");
  const auto* ak = std::get_if<providers::AccessKeysAuth>(&keys.auth);
  ASSERT_NE(ak, nullptr);
  EXPECT_EQ(ak->access_key_id, "AKIAcred_named");
  EXPECT_EQ(ak->secret_access_key.Reveal(),
            "sealed-sak-cred_named|cred:cred_named:secret_access_key");
  EXPECT_EQ(ak->session_token.Reveal(), "sealed-tok|cred:cred_named:session_token");
  const auto* role = std::get_if<providers::RoleArnAuth>(
      &(*snap)->FindCredential("cred_role")->provider.auth);
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(role->role_arn, "arn:aws:iam::1:role/r");
  EXPECT_EQ(role->external_id, "ext-1");
  EXPECT_TRUE(role->session_name.empty());
}

TEST(SnapshotTest, ProviderCacheKeyChangesWithEveryEditOfTheCredential) {
  store::Credential c = MakeCred("cred_1", "prod");
  const std::string before = ToProviderCredential(c, Secret("s"), Secret()).cache_key;
  c.updated_at = T(50);
  const std::string edited = ToProviderCredential(c, Secret("s"), Secret()).cache_key;
  c.secret_rotated_at = T(60);
  const std::string rotated = ToProviderCredential(c, Secret("s"), Secret()).cache_key;
  EXPECT_NE(before, edited);
  EXPECT_NE(edited, rotated);
  EXPECT_EQ(ToProviderCredential(c, Secret("s"), Secret()).cache_key, rotated);  // stable
}

TEST(SnapshotTest, FailingVaultIsAnError) {
  FakeVault vault;
  vault.fail_for = "sealed-tok";
  auto snap = Snapshot::Build(SampleData(), vault.Fn(), nullptr, 1);
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().reason, "vault_open_failed");
  EXPECT_EQ(snap.error().code, ErrorCode::kInternal);
}

TEST(SnapshotTest, ModelWithMissingCredentialIsAnError) {
  FakeVault vault;
  store::ConfigData d = SampleData();
  d.models.push_back(MakeModel("broken", "cred_missing", true));
  auto snap = Snapshot::Build(std::move(d), vault.Fn(), nullptr, 1);
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().code, ErrorCode::kInternal);
  EXPECT_THAT(snap.error().message, ::testing::HasSubstr("broken"));
}

TEST(SnapshotTest, EmptyDataBuilds) {
  FakeVault vault;
  auto snap = Snapshot::Build(store::ConfigData{}, vault.Fn(), nullptr, 0);
  ASSERT_TRUE(snap);
  EXPECT_THAT((*snap)->models(), IsEmpty());
  EXPECT_TRUE((*snap)->keys_by_id().empty());
  EXPECT_EQ((*snap)->FindKeyByHash(""), nullptr);
}

TEST(SnapshotTest, TeamAccessAllowsAllTeamsOrASharedTeam) {
  Principal none;
  Principal ab;
  ab.team_ids = {"team_a", "team_b"};
  Principal c;
  c.team_ids = {"team_c"};

  store::Model all = MakeModel("all", "cred", true);
  EXPECT_TRUE(Snapshot::TeamAccessAllows(none, all));
  EXPECT_TRUE(Snapshot::TeamAccessAllows(c, all));

  store::Model b = MakeModel("b", "cred", false, {"team_b"});
  EXPECT_TRUE(Snapshot::TeamAccessAllows(ab, b));
  EXPECT_FALSE(Snapshot::TeamAccessAllows(c, b));
  EXPECT_FALSE(Snapshot::TeamAccessAllows(none, b));

  store::Model bc = MakeModel("bc", "cred", false, {"team_b", "team_c"});
  EXPECT_TRUE(Snapshot::TeamAccessAllows(c, bc));
  EXPECT_TRUE(Snapshot::TeamAccessAllows(ab, bc));

  // A model shared with no team (its last team was deleted) is shared with nobody.
  store::Model nobody = MakeModel("nobody", "cred", false, {});
  EXPECT_FALSE(Snapshot::TeamAccessAllows(ab, nobody));
  EXPECT_FALSE(Snapshot::TeamAccessAllows(none, nobody));
}

TEST(SnapshotTest, TeamAccessThroughBuiltSnapshotWithUnsortedInput) {
  // Principals and models from a built snapshot must compare correctly even if the data source
  // delivered team lists in another order.
  FakeVault vault;
  store::ConfigData d = SampleData();
  d.models.push_back(MakeModel("unsorted", "cred_named", false, {"team_z", "team_a"}));
  auto snap = Snapshot::Build(std::move(d), vault.Fn(), nullptr, 1);
  ASSERT_TRUE(snap) << snap.error().message;
  const Snapshot& s = **snap;
  const Principal& ann = s.FindKeyByHash("hash_1")->principal;  // teams a, c
  const Principal& bob = s.FindKeyByHash("hash_2")->principal;  // no team
  EXPECT_TRUE(Snapshot::TeamAccessAllows(ann, s.FindModel("z-model")->record));
  EXPECT_TRUE(Snapshot::TeamAccessAllows(bob, s.FindModel("z-model")->record));
  EXPECT_FALSE(Snapshot::TeamAccessAllows(ann, s.FindModel("a-model")->record));  // team_b only
  EXPECT_TRUE(Snapshot::TeamAccessAllows(ann, s.FindModel("m/inline:1")->record));
  EXPECT_FALSE(Snapshot::TeamAccessAllows(bob, s.FindModel("m/inline:1")->record));
  EXPECT_TRUE(Snapshot::TeamAccessAllows(ann, s.FindModel("unsorted")->record));
}

TEST(SnapshotTest, LastUsedCountersCarryOverByKeyId) {
  FakeVault vault;
  auto first = Snapshot::Build(SampleData(), vault.Fn(), nullptr, 1);
  ASSERT_TRUE(first);
  const KeyEntry* k1 = (*first)->FindKeyByHash("hash_1");
  k1->last_used_ms->store(42);

  store::ConfigData d = SampleData();
  d.api_keys.push_back(MakeKey("key_new", "user_2", "hash_new"));
  d.api_keys[1].last_used_at = T(1);  // stale store value: the live counter wins
  auto second = Snapshot::Build(std::move(d), vault.Fn(), first->get(), 2);
  ASSERT_TRUE(second);
  const KeyEntry* k1b = (*second)->FindKeyByHash("hash_1");
  ASSERT_NE(k1b, nullptr);
  EXPECT_EQ(k1b->last_used_ms, k1->last_used_ms);  // the same counter
  EXPECT_EQ(k1b->last_used_ms->load(), 42);
  ASSERT_NE(k1->rate, nullptr);
  EXPECT_EQ(k1b->rate, k1->rate);  // and the same rate bucket: a rebuild does not refill it
  EXPECT_EQ((*second)->FindKeyByHash("hash_2")->last_used_ms->load(), 1'700'000'123'456);
  const KeyEntry* fresh = (*second)->FindKeyByHash("hash_new");
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->last_used_ms->load(), 0);
  // Using the key through the new snapshot is visible through the old one too.
  k1b->last_used_ms->store(99);
  EXPECT_EQ(k1->last_used_ms->load(), 99);
}

// --- SnapshotPublisher ------------------------------------------------------------------------

class SnapshotPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mg_state_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto s = store::sqlite::SqliteStore::Open((dir_ / "modelgate.db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  store::AuditEvent Audit(std::string action) {
    return store::AuditEvent{.seq = 0, .at = T(0), .actor = "test", .action = std::move(action),
                             .target = "x", .details = "{}"};
  }

  fs::path dir_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  FakeVault vault_;
};

TEST_F(SnapshotPublisherTest, RebuildPublishesNewVersionsWhileOldOnesStayValid) {
  SnapshotPublisher pub(*store_, vault_.Fn());
  EXPECT_EQ(pub.Current(), nullptr);

  ASSERT_TRUE(store_->CreateTeam(MakeTeam("team_a", "alpha"), Audit("team.create")));
  ASSERT_TRUE(store_->CreateUser(MakeUser("user_1", "ann", store::Role::kBuilder, {"team_a"}),
                                 MakeKey("key_1", "user_1", "hash_1"), Audit("user.create")));
  ASSERT_TRUE(store_->CreateCredential(MakeCred("cred_1", "prod"), Audit("credential.create")));
  ASSERT_TRUE(store_->CreateModels({}, {MakeModel("m1", "cred_1", false, {"team_a"})},
                                   Audit("model.create")));

  std::vector<uint64_t> published;
  pub.OnPublish([&](const std::shared_ptr<const Snapshot>& s) { published.push_back(s->version()); });

  auto v1 = pub.Rebuild();
  ASSERT_TRUE(v1) << v1.error().message;
  std::shared_ptr<const Snapshot> old = pub.Current();
  ASSERT_EQ(old, *v1);
  const KeyEntry* key = old->FindKeyByHash("hash_1");
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(Snapshot::TeamAccessAllows(key->principal, old->FindModel("m1")->record));
  EXPECT_EQ(old->FindCredential("cred_1")->secret_access_key.Reveal(),
            "sealed-sak-cred_1|cred:cred_1:secret_access_key");
  key->last_used_ms->store(1234);

  // Admin changes: revoke the key, add a model, delete the team.
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("key_2", "user_1", "hash_2"), Audit("key.create")));
  ASSERT_TRUE(store_->RevokeApiKey("user_1", "key_1", T(10), Audit("key.revoke")));
  ASSERT_TRUE(store_->CreateModels({}, {MakeModel("m2", "cred_1", true)}, Audit("model.create")));
  ASSERT_TRUE(store_->DeleteTeam("team_a", Audit("team.delete")));

  auto v2 = pub.Rebuild();
  ASSERT_TRUE(v2) << v2.error().message;
  std::shared_ptr<const Snapshot> now = pub.Current();
  EXPECT_EQ(now, *v2);
  EXPECT_NE(now, old);
  EXPECT_GT(now->version(), old->version());
  EXPECT_THAT(published, ElementsAre(old->version(), now->version()));

  // The new snapshot sees the changes ...
  EXPECT_EQ(now->FindKeyByHash("hash_1"), nullptr);
  const KeyEntry* key2 = now->FindKeyByHash("hash_2");
  ASSERT_NE(key2, nullptr);
  EXPECT_THAT(key2->principal.team_ids, IsEmpty());
  EXPECT_NE(now->FindModel("m2"), nullptr);
  EXPECT_FALSE(Snapshot::TeamAccessAllows(key2->principal, now->FindModel("m1")->record));
  EXPECT_TRUE(Snapshot::TeamAccessAllows(key2->principal, now->FindModel("m2")->record));
  EXPECT_EQ(now->FindTeam("team_a"), nullptr);

  // ... while the old one, still held, is unchanged and fully usable.
  ASSERT_NE(old->FindKeyByHash("hash_1"), nullptr);
  EXPECT_EQ(old->FindKeyByHash("hash_2"), nullptr);
  EXPECT_EQ(old->FindModel("m2"), nullptr);
  ASSERT_NE(old->FindTeam("alpha"), nullptr);
  EXPECT_EQ(old->FindModel("m1")->credential->record.name, "prod");
  EXPECT_EQ(old->FindKeyByHash("hash_1")->last_used_ms->load(), 1234);
}

TEST_F(SnapshotPublisherTest, EveryThreadSeesAPublishAtOnceAndPublishersDoNotMix) {
  SnapshotPublisher pub(*store_, vault_.Fn());
  SnapshotPublisher other(*store_, vault_.Fn());
  ASSERT_TRUE(pub.Rebuild());
  ASSERT_TRUE(other.Rebuild());
  ASSERT_TRUE(other.Rebuild());
  // This thread caches pub's snapshot, then other's: each publisher answers with its own.
  EXPECT_EQ(pub.Current()->version(), 1u);
  EXPECT_EQ(other.Current()->version(), 2u);
  EXPECT_EQ(pub.Current()->version(), 1u);

  uint64_t seen_before = 0, seen_after = 0;
  std::atomic<int> step{0};
  std::thread reader([&] {
    seen_before = pub.Current()->version();  // cached in the reader thread
    step = 1;
    while (step != 2) std::this_thread::yield();
    seen_after = pub.Current()->version();
  });
  while (step != 1) std::this_thread::yield();
  ASSERT_TRUE(pub.Rebuild());  // published by another thread than the reader's
  step = 2;
  reader.join();
  EXPECT_EQ(seen_before, 1u);
  EXPECT_EQ(seen_after, 2u);
}

TEST_F(SnapshotPublisherTest, LastUsedCarriedOverAcrossRebuilds) {
  ASSERT_TRUE(store_->CreateUser(MakeUser("user_1", "ann", store::Role::kBuilder, {}),
                                 MakeKey("key_1", "user_1", "hash_1"), Audit("user.create")));
  SnapshotPublisher pub(*store_, vault_.Fn());
  ASSERT_TRUE(pub.Rebuild());
  auto counter = pub.Current()->FindKeyByHash("hash_1")->last_used_ms;
  counter->store(555);
  ASSERT_TRUE(store_->CreateTeam(MakeTeam("team_a", "alpha"), Audit("team.create")));
  ASSERT_TRUE(pub.Rebuild());
  const KeyEntry* again = pub.Current()->FindKeyByHash("hash_1");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->last_used_ms, counter);
  EXPECT_EQ(again->last_used_ms->load(), 555);
}

TEST_F(SnapshotPublisherTest, FailedRebuildKeepsCurrentSnapshot) {
  ASSERT_TRUE(store_->CreateCredential(MakeCred("cred_1", "prod"), Audit("credential.create")));
  SnapshotPublisher pub(*store_, vault_.Fn());
  ASSERT_TRUE(pub.Rebuild());
  auto before = pub.Current();
  int calls = 0;
  pub.OnPublish([&](const std::shared_ptr<const Snapshot>&) { ++calls; });

  store::Credential bad = MakeCred("cred_2", "broken");
  bad.secret_access_key->ciphertext = "undecryptable";
  ASSERT_TRUE(store_->CreateCredential(bad, Audit("credential.create")));
  vault_.fail_for = "undecryptable";
  auto r = pub.Rebuild();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "vault_open_failed");
  EXPECT_EQ(pub.Current(), before);
  EXPECT_EQ(calls, 0);

  vault_.fail_for.clear();
  auto ok = pub.Rebuild();
  ASSERT_TRUE(ok);
  EXPECT_NE(pub.Current()->FindCredential("cred_2"), nullptr);
  EXPECT_GT(pub.Current()->version(), before->version());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace mg::state
