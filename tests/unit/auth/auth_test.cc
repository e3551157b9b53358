#include "auth/auth.h"

#include <gtest/gtest.h>

#include <set>

#include "core/time.h"
#include "crypto/crypto.h"

namespace mg::auth {
namespace {

using store::Role;

TEST(ApiKeyTest, FormatAndEntropy) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    NewApiKey k = GenerateApiKey();
    ASSERT_EQ(k.key.rfind("mg_", 0), 0u) << k.key;
    // 32 random bytes in unpadded base64url = 43 characters.
    EXPECT_EQ(k.key.size(), 3u + 43u);
    EXPECT_EQ(k.key.find_first_not_of(
                  "mg_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-", 0),
              std::string::npos);
    EXPECT_EQ(k.prefix, k.key.substr(0, 12));
    EXPECT_EQ(k.hash, HashApiKey(k.key));
    EXPECT_TRUE(seen.insert(k.key).second);
  }
}

TEST(ApiKeyTest, HashIsSha256HexOfTheWholeKey) {
  EXPECT_EQ(HashApiKey("mg_abc"), crypto::Sha256Hex("mg_abc"));
  EXPECT_EQ(HashApiKey("mg_abc").size(), 64u);
  EXPECT_NE(HashApiKey("mg_abc"), HashApiKey("mg_abd"));
  // The hash reveals nothing of the key's text.
  NewApiKey k = GenerateApiKey();
  EXPECT_EQ(k.hash.find(k.key.substr(3, 8)), std::string::npos);
}

TEST(ParseBearerTest, AcceptsOnlyBearer) {
  EXPECT_EQ(ParseBearer("Bearer mg_x"), "mg_x");
  EXPECT_EQ(ParseBearer("bearer   mg_x"), "mg_x");
  EXPECT_EQ(ParseBearer("BEARER mg_x"), "mg_x");
  EXPECT_FALSE(ParseBearer("Basic abc"));
  EXPECT_FALSE(ParseBearer("Bearer"));
  EXPECT_FALSE(ParseBearer("Bearer "));
  EXPECT_FALSE(ParseBearer(""));
  EXPECT_FALSE(ParseBearer("mg_x"));
}

std::shared_ptr<const state::Snapshot> SnapshotWithKey(const std::string& key, bool revoked = false) {
  store::ConfigData data;
  store::User u;
  u.id = "user_1";
  u.name = "ana";
  u.email = "ana@example.com";
  u.role = Role::kBuilder;
  data.users.push_back(u);
  if (!revoked) {
    store::ApiKey k;
    k.id = "key_1";
    k.user_id = "user_1";
    k.name = "laptop";
    k.prefix = key.substr(0, 12);
    k.hash = HashApiKey(key);
    data.api_keys.push_back(k);
  }
  auto snap = state::Snapshot::Build(
      std::move(data),
      [](const store::SealedSecret&, std::string_view) -> Result<Secret> { return Secret(); },
      nullptr, 1);
  EXPECT_TRUE(snap) << snap.error().message;
  return *snap;
}

TEST(AuthenticateTest, KnownKeyResolvesPrincipalAndRecordsUse) {
  NewApiKey k = GenerateApiKey();
  auto snap = SnapshotWithKey(k.key);
  SystemTime now = FromUnixMillis(1'700'000'000'123);
  std::string header = "Bearer " + k.key;
  auto r = Authenticate(*snap, header, now);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->principal.user_id, "user_1");
  EXPECT_EQ((*r)->principal.role, Role::kBuilder);
  EXPECT_EQ((*r)->principal.key_id, "key_1");
  EXPECT_EQ((*r)->last_used_ms->load(), 1'700'000'000'123);
}

TEST(AuthenticateTest, RejectsMissingMalformedUnknownAndRevoked) {
  NewApiKey k = GenerateApiKey();
  auto snap = SnapshotWithKey(k.key);
  SystemTime now = FromUnixMillis(1);
  const std::string truncated = "Bearer " + k.key.substr(0, 20);
  for (std::optional<std::string_view> h :
       {std::optional<std::string_view>{}, std::optional<std::string_view>{"Basic abc"},
        std::optional<std::string_view>{"Bearer mg_unknown"},
        std::optional<std::string_view>{truncated}}) {
    auto r = Authenticate(*snap, h, now);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(r.error().reason, "invalid_api_key");
    // The message never echoes the presented key.
    if (h) EXPECT_EQ(r.error().message.find(std::string(*h).substr(0, 10)), std::string::npos);
  }
  auto revoked = SnapshotWithKey(k.key, /*revoked=*/true);
  std::string header = "Bearer " + k.key;
  EXPECT_FALSE(Authenticate(*revoked, header, now));
}

TEST(PermissionTest, MatchesTheSpecTable) {
  // admin-api.md: org_admin, it_admin: everything; full_access: providers + models; builder and
  // builder: data plane only; member: nothing (no builder access).
  struct Row {
    Role role;
    bool providers, users, audit, use;
  };
  for (const Row& r : {Row{Role::kOrgAdmin, true, true, true, true},
                       Row{Role::kItAdmin, true, true, true, true},
                       Row{Role::kFullAccess, true, false, false, true},
                       Row{Role::kBuilder, false, false, false, true},
                       Row{Role::kMember, false, false, false, false}}) {
    EXPECT_EQ(CanManageProviders(r.role), r.providers) << static_cast<int>(r.role);
    EXPECT_EQ(CanManageUsers(r.role), r.users) << static_cast<int>(r.role);
    EXPECT_EQ(CanReadAudit(r.role), r.audit) << static_cast<int>(r.role);
    EXPECT_EQ(CanUseModels(r.role), r.use) << static_cast<int>(r.role);
  }
}

}  // namespace
}  // namespace mg::auth
