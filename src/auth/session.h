// @file session.h
// @brief Browser sessions of the web console and the request authentication that accepts
// either an `Authorization: Bearer` API key or the `mg_session` cookie.
//
// A session is created by signing in with an API key (POST /admin/v1/session). The browser gets
// a random token in an HttpOnly, SameSite=Strict cookie; the token is not the API key, and the
// store keeps only its SHA-256, mapped to the key id it is bound to. Every use looks that key id
// up in the current snapshot, so a session acts with the key's current role and teams and dies
// at once when the key is revoked or its user deleted. Sessions live in memory only: a restart
// signs everyone out.
//
// CSRF: a cookie is sent by the browser on its own, so a cookie-authenticated request with an
// unsafe method (anything but GET, HEAD, OPTIONS) must also carry `X-Modelgate-Csrf: 1` (a
// cross-site form cannot send a custom header, and a cross-site fetch would need a CORS
// preflight the server never grants) and, when the browser sent an `Origin`, that origin must
// be the server's own (scheme://Host). Bearer-key requests are not affected.
//
// Thread-safety: SessionStore is thread-safe. It is split into shards, each guarded by its own
// mutex, so concurrent requests rarely contend and no global lock is on the request path.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/result.h"
#include "state/snapshot.h"

namespace mg::auth {

// Name of the session cookie.
inline constexpr std::string_view kSessionCookie = "mg_session";
// The header a cookie-authenticated unsafe request must carry, with the value "1".
inline constexpr std::string_view kCsrfHeader = "x-modelgate-csrf";

struct SessionOptions {
  // A session unused this long ends.
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(30);
  // A session ends this long after sign-in, however busy.
  std::chrono::milliseconds max_lifetime = std::chrono::hours(12);
  // Upper bound on live sessions (per shard: max_sessions / shard count); when a shard is full
  // its least recently used session is dropped.
  size_t max_sessions = 100000;
};

class SessionStore {
 public:
  explicit SessionStore(SessionOptions options = {});
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // Starts a session bound to `key_id`. Returns the token for the cookie: "mgs_" + 43 base64url
  // characters (256 random bits).
  std::string Create(std::string_view key_id, SystemTime now);

  // The key id of the live session `token`, and marks it used at `now`. nullopt when the token
  // is unknown, malformed or expired (an expired session is removed).
  std::optional<std::string> Touch(std::string_view token, SystemTime now);

  // Ends the session `token` (no-op when unknown).
  void Remove(std::string_view token);

  // Number of sessions held (expired ones not yet swept included).
  size_t size() const;

  const SessionOptions& options() const { return options_; }

 private:
  struct Entry {
    std::string key_id;
    SystemTime created_at;
    SystemTime last_used_at;
  };
  struct Shard {
    mutable std::mutex mu;                           // guards by_hash
    std::unordered_map<std::string, Entry> by_hash;  // hex SHA-256 of the token -> session
  };
  static constexpr size_t kShards = 16;

  bool IsExpired(const Entry& e, SystemTime now) const;
  Shard& ShardFor(std::string_view hash);
  // Drops expired sessions of `shard`, then the least recently used while it is full.
  // Caller holds shard.mu.
  void SweepLocked(Shard& shard, SystemTime now);

  SessionOptions options_;
  size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

// The parts of a request that authentication looks at. Views into the request's headers; valid
// only while the request is.
struct RequestCredentials {
  std::string_view method;                          // "GET", "POST", ...
  std::optional<std::string_view> authorization;    // Authorization
  std::optional<std::string_view> cookie;           // Cookie
  std::optional<std::string_view> csrf;             // X-Modelgate-Csrf
  std::optional<std::string_view> origin;           // Origin
  std::optional<std::string_view> host;             // Host
  std::optional<std::string_view> forwarded_proto;  // X-Forwarded-Proto (TLS terminated ahead)
};

// Collects RequestCredentials from anything with `Get(name) -> optional<string_view>` (e.g.
// server::Headers), so auth/ does not depend on server/.
template <class HeaderMap>
RequestCredentials CredentialsFrom(std::string_view method, const HeaderMap& headers) {
  return RequestCredentials{method,
                            headers.Get("authorization"),
                            headers.Get("cookie"),
                            headers.Get(kCsrfHeader),
                            headers.Get("origin"),
                            headers.Get("host"),
                            headers.Get("x-forwarded-proto")};
}

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt.
std::optional<std::string_view> FindCookie(std::string_view cookie_header, std::string_view name);

// True for methods that change state (not GET, HEAD, OPTIONS).
bool IsUnsafeMethod(std::string_view method);

// The CSRF rule for a cookie-authenticated request: nothing to check for safe methods; unsafe
// ones need `X-Modelgate-Csrf: 1` and, when an Origin is present, Origin == the server's own
// origin (http:// or https:// + Host). 403 csrf_failed otherwise.
Result<void> CheckCsrf(const RequestCredentials& request);

// Authenticates a request. With an Authorization header: exactly auth::Authenticate (the cookie
// is then ignored). Otherwise, when `sessions` is given and the request carries the session
// cookie: the session's key must still be live in `snapshot` (401 invalid_api_key otherwise,
// and the session is removed) and CheckCsrf must pass (403 csrf_failed). Without either:
// 401 invalid_api_key. Records the key's use like Authenticate.
Result<const state::KeyEntry*> AuthenticateRequest(const state::Snapshot& snapshot,
                                                   SessionStore* sessions,
                                                   const RequestCredentials& request,
                                                   SystemTime now);

}  // namespace mg::auth
