#include "auth/session.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "core/time.h"

namespace mg::auth {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using store::Role;

const SystemTime kT0 = FromUnixMillis(1'700'000'000'000);

// A snapshot with user "user_1" (role `role`) holding key "key_1" unless `with_key` is false,
// and, when `with_user` is false, no user at all (the key is then dead, as after a deletion).
std::shared_ptr<const state::Snapshot> MakeSnapshot(const std::string& key,
                                                    Role role = Role::kBuilder,
                                                    bool with_key = true, bool with_user = true) {
  store::ConfigData data;
  if (with_user) {
    store::User u;
    u.id = "user_1";
    u.name = "ana";
    u.email = "ana@example.com";
    u.role = role;
    data.users.push_back(u);
  }
  if (with_key) {
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

std::string CookieFor(const std::string& token) { return "theme=dark; mg_session=" + token; }

// ---------------------------------------------------------------------------------------------
// SessionStore

TEST(SessionStore, CreateReturnsRandomTokenThatIsNotTheKeyAndResolvesToTheKeyId) {
  SessionStore store;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = store.Create("key_1", kT0);
    ASSERT_EQ(t.rfind("mgs_", 0), 0u) << t;
    EXPECT_EQ(t.size(), 4u + 43u);
    EXPECT_TRUE(seen.insert(t).second);
  }
  std::string token = store.Create("key_7", kT0);
  EXPECT_EQ(store.Touch(token, kT0), "key_7");
  EXPECT_EQ(store.size(), 101u);
}

TEST(SessionStore, UnknownOrAlteredTokensResolveToNothing) {
  SessionStore store;
  std::string token = store.Create("key_1", kT0);
  std::string altered = token;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(store.Touch(altered, kT0));
  EXPECT_FALSE(store.Touch("", kT0));
  EXPECT_FALSE(store.Touch("mgs_short", kT0));
  EXPECT_FALSE(store.Touch(token.substr(0, token.size() - 1) + "*", kT0));
  // The store keys sessions by the token's hash: the hash itself is not a token.
  EXPECT_FALSE(store.Touch(HashApiKey(token), kT0));
  EXPECT_EQ(store.Touch(token, kT0), "key_1");
}

TEST(SessionStore, ExpiresAfterIdleTimeoutAndUseRefreshesIt) {
  SessionStore store(SessionOptions{.idle_timeout = minutes(30), .max_lifetime = hours(12)});
  std::string token = store.Create("key_1", kT0);
  EXPECT_TRUE(store.Touch(token, kT0 + minutes(29)));
  EXPECT_TRUE(store.Touch(token, kT0 + minutes(58)));  // 29 min after the last use
  EXPECT_FALSE(store.Touch(token, kT0 + minutes(58) + minutes(30)));
  EXPECT_EQ(store.size(), 0u) << "an expired session is removed when seen";
  EXPECT_FALSE(store.Touch(token, kT0 + minutes(59)));
}

TEST(SessionStore, EndsAtMaxLifetimeHoweverBusy) {
  SessionStore store(SessionOptions{.idle_timeout = minutes(30), .max_lifetime = hours(2)});
  std::string token = store.Create("key_1", kT0);
  for (int m = 20; m < 120; m += 20) EXPECT_TRUE(store.Touch(token, kT0 + minutes(m))) << m;
  EXPECT_FALSE(store.Touch(token, kT0 + hours(2)));
}

TEST(SessionStore, RemoveEndsTheSessionOnly) {
  SessionStore store;
  std::string a = store.Create("key_1", kT0);
  std::string b = store.Create("key_1", kT0);
  store.Remove(a);
  store.Remove("not-a-token");
  EXPECT_FALSE(store.Touch(a, kT0));
  EXPECT_EQ(store.Touch(b, kT0), "key_1");
}

TEST(SessionStore, StaysBoundedDroppingLeastRecentlyUsed) {
  // 16 shards of 2 sessions each.
  SessionStore store(SessionOptions{.max_sessions = 32});
  std::string keep = store.Create("key_keep", kT0);
  for (int i = 0; i < 500; ++i) {
    (void)store.Touch(keep, kT0 + milliseconds(i + 1));  // most recently used, always
    (void)store.Create("key_" + std::to_string(i), kT0 + milliseconds(i + 1));
  }
  EXPECT_LE(store.size(), 32u);
  EXPECT_EQ(store.Touch(keep, kT0 + milliseconds(600)), "key_keep");
}

TEST(SessionStore, SweepsExpiredSessionsOnCreate) {
  SessionStore store(SessionOptions{.idle_timeout = minutes(1), .max_lifetime = hours(1)});
  for (int i = 0; i < 2000; ++i) (void)store.Create("key_old", kT0);
  for (int i = 0; i < 2000; ++i) (void)store.Create("key_new", kT0 + minutes(5));
  // Each shard sweeps at least every 64th insert, so (almost) none of the 2000 expired ones
  // remain; without sweeping there would be 4000.
  EXPECT_LT(store.size(), 2200u);
}

TEST(SessionStore, ConcurrentCreateTouchRemoveIsSafe) {
  SessionStore store;
  std::vector<std::thread> threads;
  std::atomic<int> resolved{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string key = "key_" + std::to_string(t);
        std::string token = store.Create(key, kT0);
        if (store.Touch(token, kT0 + milliseconds(i)) == key) ++resolved;
        if (i % 2 == 0) store.Remove(token);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(resolved.load(), 2000);
  EXPECT_EQ(store.size(), 1000u);
}

// ---------------------------------------------------------------------------------------------
// Cookie parsing, CSRF

TEST(FindCookie, FindsTheNamedCookieAmongOthers) {
  EXPECT_EQ(FindCookie("mg_session=abc", "mg_session"), "abc");
  EXPECT_EQ(FindCookie("a=1; mg_session=abc; b=2", "mg_session"), "abc");
  EXPECT_EQ(FindCookie("a=1;mg_session=abc", "mg_session"), "abc");
  EXPECT_EQ(FindCookie("mg_session=\"abc\"", "mg_session"), "abc");
  EXPECT_FALSE(FindCookie("xmg_session=abc; mg_sessionx=def", "mg_session"));
  EXPECT_FALSE(FindCookie("", "mg_session"));
  EXPECT_FALSE(FindCookie("mg_session", "mg_session"));
}

TEST(IsUnsafeMethod, OnlyReadMethodsAreSafe) {
  for (auto m : {"GET", "HEAD", "OPTIONS"}) EXPECT_FALSE(IsUnsafeMethod(m)) << m;
  for (auto m : {"POST", "PATCH", "PUT", "DELETE"}) EXPECT_TRUE(IsUnsafeMethod(m)) << m;
}

RequestCredentials Req(std::string_view method) {
  RequestCredentials r;
  r.method = method;
  r.host = "127.0.0.1:8080";
  return r;
}

TEST(CheckCsrf, SafeMethodsNeedNothing) {
  RequestCredentials r = Req("GET");
  r.origin = "https://evil.example";
  EXPECT_TRUE(CheckCsrf(r));
}

TEST(CheckCsrf, UnsafeMethodNeedsTheCustomHeader) {
  for (auto m : {"POST", "PATCH", "PUT", "DELETE"}) {
    RequestCredentials r = Req(m);
    auto res = CheckCsrf(r);
    ASSERT_FALSE(res) << m;
    EXPECT_EQ(res.error().code, ErrorCode::kForbidden);
    EXPECT_EQ(res.error().reason, "csrf_failed");
    r.csrf = "0";
    EXPECT_FALSE(CheckCsrf(r)) << m;
    r.csrf = "1";
    EXPECT_TRUE(CheckCsrf(r)) << m;
  }
}

TEST(CheckCsrf, OriginMustBeTheServersOwnWhenPresent) {
  RequestCredentials r = Req("POST");
  r.csrf = "1";
  r.origin = "http://127.0.0.1:8080";
  EXPECT_TRUE(CheckCsrf(r));
  r.origin = "https://127.0.0.1:8080";
  EXPECT_TRUE(CheckCsrf(r));
  for (auto bad : {"http://127.0.0.1:9090", "http://evil.example", "null", "", "http://127.0.0.1",
                   "http://127.0.0.1:8080.evil.example", "ftp://127.0.0.1:8080"}) {
    r.origin = bad;
    auto res = CheckCsrf(r);
    ASSERT_FALSE(res) << bad;
    EXPECT_EQ(res.error().reason, "csrf_failed") << bad;
  }
  r.origin = "http://127.0.0.1:8080";
  r.host.reset();
  EXPECT_FALSE(CheckCsrf(r)) << "without a Host the origin cannot be verified";
}

// ---------------------------------------------------------------------------------------------
// AuthenticateRequest

class AuthenticateRequestTest : public ::testing::Test {
 protected:
  NewApiKey key_ = GenerateApiKey();
  SessionStore sessions_;
};

TEST_F(AuthenticateRequestTest, BearerKeyWorksAndIgnoresCookieAndCsrf) {
  auto snap = MakeSnapshot(key_.key);
  std::string bearer = "Bearer " + key_.key;
  RequestCredentials r = Req("POST");
  r.authorization = bearer;
  r.cookie = "mg_session=mgs_bogus";
  r.origin = "https://evil.example";
  auto res = AuthenticateRequest(*snap, &sessions_, r, kT0);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ((*res)->principal.key_id, "key_1");
}

TEST_F(AuthenticateRequestTest, InvalidBearerIsRejectedEvenWithAValidCookie) {
  auto snap = MakeSnapshot(key_.key);
  std::string cookie = CookieFor(sessions_.Create("key_1", kT0));
  RequestCredentials r = Req("GET");
  r.authorization = "Bearer mg_wrong";
  r.cookie = cookie;
  auto res = AuthenticateRequest(*snap, &sessions_, r, kT0);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().reason, "invalid_api_key");
}

TEST_F(AuthenticateRequestTest, SessionCookieAuthenticatesAndRecordsUse) {
  auto snap = MakeSnapshot(key_.key, Role::kFullAccess);
  std::string cookie = CookieFor(sessions_.Create("key_1", kT0));
  RequestCredentials r = Req("GET");
  r.cookie = cookie;
  auto res = AuthenticateRequest(*snap, &sessions_, r, kT0 + minutes(1));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ((*res)->principal.user_id, "user_1");
  EXPECT_EQ((*res)->principal.role, Role::kFullAccess);
  EXPECT_EQ((*res)->last_used_ms->load(), UnixMillis(kT0 + minutes(1)));
}

TEST_F(AuthenticateRequestTest, SessionActsWithTheKeysCurrentRole) {
  std::string cookie = CookieFor(sessions_.Create("key_1", kT0));
  RequestCredentials r = Req("GET");
  r.cookie = cookie;
  auto admin = MakeSnapshot(key_.key, Role::kOrgAdmin);
  ASSERT_EQ((*AuthenticateRequest(*admin, &sessions_, r, kT0))->principal.role, Role::kOrgAdmin);
  auto demoted = MakeSnapshot(key_.key, Role::kMember);
  ASSERT_EQ((*AuthenticateRequest(*demoted, &sessions_, r, kT0))->principal.role, Role::kMember);
}

TEST_F(AuthenticateRequestTest, CookieUnsafeRequestNeedsCsrfHeaderAndSameOrigin) {
  auto snap = MakeSnapshot(key_.key);
  std::string cookie = CookieFor(sessions_.Create("key_1", kT0));
  RequestCredentials r = Req("DELETE");
  r.cookie = cookie;
  auto res = AuthenticateRequest(*snap, &sessions_, r, kT0);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(res.error().reason, "csrf_failed");

  r.csrf = "1";
  r.origin = "http://evil.example";
  res = AuthenticateRequest(*snap, &sessions_, r, kT0);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().reason, "csrf_failed");

  r.origin = "http://127.0.0.1:8080";
  EXPECT_TRUE(AuthenticateRequest(*snap, &sessions_, r, kT0));
  r.origin.reset();  // same-origin GET/HEAD-like requests may omit Origin
  EXPECT_TRUE(AuthenticateRequest(*snap, &sessions_, r, kT0));
  // The CSRF failure did not end the session.
  EXPECT_EQ(sessions_.size(), 1u);
}

TEST_F(AuthenticateRequestTest, SessionDiesAtOnceWhenTheKeyIsRevoked) {
  std::string token = sessions_.Create("key_1", kT0);
  std::string cookie = CookieFor(token);
  RequestCredentials r = Req("GET");
  r.cookie = cookie;
  ASSERT_TRUE(AuthenticateRequest(*MakeSnapshot(key_.key), &sessions_, r, kT0));
  auto revoked = MakeSnapshot(key_.key, Role::kBuilder, /*with_key=*/false);
  auto res = AuthenticateRequest(*revoked, &sessions_, r, kT0);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(res.error().reason, "invalid_api_key");
  EXPECT_FALSE(sessions_.Touch(token, kT0)) << "the session is forgotten";
}

TEST_F(AuthenticateRequestTest, SessionDiesWhenTheUserIsDeleted) {
  std::string cookie = CookieFor(sessions_.Create("key_1", kT0));
  RequestCredentials r = Req("GET");
  r.cookie = cookie;
  auto deleted = MakeSnapshot(key_.key, Role::kBuilder, true, /*with_user=*/false);
  auto res = AuthenticateRequest(*deleted, &sessions_, r, kT0);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().reason, "invalid_api_key");
}

TEST_F(AuthenticateRequestTest, ExpiredUnknownOrMissingSessionIs401) {
  auto snap = MakeSnapshot(key_.key);
  std::string cookie = CookieFor(sessions_.Create("key_1", kT0));
  RequestCredentials r = Req("GET");
  r.cookie = cookie;
  auto res = AuthenticateRequest(*snap, &sessions_, r, kT0 + hours(13));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().reason, "invalid_api_key");

  r.cookie = "mg_session=mgs_nope";
  EXPECT_FALSE(AuthenticateRequest(*snap, &sessions_, r, kT0));
  r.cookie = "other=1";
  EXPECT_FALSE(AuthenticateRequest(*snap, &sessions_, r, kT0));
  r.cookie.reset();
  EXPECT_FALSE(AuthenticateRequest(*snap, &sessions_, r, kT0));
}

TEST_F(AuthenticateRequestTest, WithoutASessionStoreCookiesAreIgnored) {
  auto snap = MakeSnapshot(key_.key);
  std::string cookie = CookieFor(sessions_.Create("key_1", kT0));
  RequestCredentials r = Req("GET");
  r.cookie = cookie;
  EXPECT_FALSE(AuthenticateRequest(*snap, nullptr, r, kT0));
}

struct FakeHeaders {
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<std::string_view> Get(std::string_view name) const {
    for (const auto& [n, v] : fields) {
      if (n == name) return std::string_view(v);
    }
    return std::nullopt;
  }
};

TEST(CredentialsFrom, ReadsTheHeadersAuthenticationNeeds) {
  FakeHeaders h{{{"authorization", "Bearer x"},
                 {"cookie", "mg_session=y"},
                 {"x-modelgate-csrf", "1"},
                 {"origin", "http://h"},
                 {"host", "h"},
                 {"x-forwarded-proto", "https"}}};
  RequestCredentials r = CredentialsFrom("PATCH", h);
  EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(r.authorization, "Bearer x");
  EXPECT_EQ(r.cookie, "mg_session=y");
  EXPECT_EQ(r.csrf, "1");
  EXPECT_EQ(r.origin, "http://h");
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.forwarded_proto, "https");
}

}  // namespace
}  // namespace mg::auth
