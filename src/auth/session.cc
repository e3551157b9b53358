#include "auth/session.h"

#include <algorithm>

#include "auth/auth.h"
#include "core/time.h"
#include "crypto/crypto.h"

namespace mg::auth {
namespace {

constexpr std::string_view kTokenPrefix = "mgs_";
constexpr size_t kTokenChars = 43;  // 32 random bytes, unpadded base64url

bool IsWellFormedToken(std::string_view t) {
  if (t.size() != kTokenPrefix.size() + kTokenChars || t.substr(0, 4) != kTokenPrefix) {
    return false;
  }
  return std::all_of(t.begin() + 4, t.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCaseAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Error CsrfError(std::string message) { return Forbidden("csrf_failed", std::move(message)); }

Error SessionEnded(std::string message) {
  return Error(ErrorCode::kUnauthenticated, "invalid_api_key", std::move(message));
}

}  // namespace

SessionStore::SessionStore(SessionOptions options)
    : options_(options), max_per_shard_(std::max<size_t>(1, options.max_sessions / kShards)) {}

bool SessionStore::IsExpired(const Entry& e, SystemTime now) const {
  return now - e.last_used_at >= options_.idle_timeout ||
         now - e.created_at >= options_.max_lifetime;
}

SessionStore::Shard& SessionStore::ShardFor(std::string_view hash) {
  // The hash is uniformly distributed hex: its first digit picks one of the 16 shards.
  static_assert(kShards == 16);
  char c = hash.empty() ? '0' : hash.front();
  size_t i = (c >= '0' && c <= '9') ? static_cast<size_t>(c - '0')
                                    : static_cast<size_t>((c | 0x20) - 'a' + 10);
  return shards_[i % kShards];
}

void SessionStore::SweepLocked(Shard& shard, SystemTime now) {
  std::erase_if(shard.by_hash, [&](const auto& kv) { return IsExpired(kv.second, now); });
  while (shard.by_hash.size() >= max_per_shard_) {
    auto oldest = std::min_element(
        shard.by_hash.begin(), shard.by_hash.end(),
        [](const auto& a, const auto& b) { return a.second.last_used_at < b.second.last_used_at; });
    shard.by_hash.erase(oldest);
  }
}

std::string SessionStore::Create(std::string_view key_id, SystemTime now) {
  std::string raw = crypto::RandomBytes(32);
  std::string token = std::string(kTokenPrefix) + crypto::Base64UrlEncode(raw);
  crypto::Cleanse(raw.data(), raw.size());
  std::string hash = crypto::Sha256Hex(token);
  Shard& shard = ShardFor(hash);
  std::lock_guard lock(shard.mu);
  // Sweeping on insert keeps the shard bounded without a background task; it scans only when
  // the shard is full or every 64th session.
  if (shard.by_hash.size() >= max_per_shard_ || shard.by_hash.size() % 64 == 63) {
    SweepLocked(shard, now);
  }
  shard.by_hash[std::move(hash)] = Entry{std::string(key_id), now, now};
  return token;
}

std::optional<std::string> SessionStore::Touch(std::string_view token, SystemTime now) {
  if (!IsWellFormedToken(token)) return std::nullopt;
  std::string hash = crypto::Sha256Hex(token);
  Shard& shard = ShardFor(hash);
  std::lock_guard lock(shard.mu);
  auto it = shard.by_hash.find(hash);
  if (it == shard.by_hash.end()) return std::nullopt;
  if (IsExpired(it->second, now)) {
    shard.by_hash.erase(it);
    return std::nullopt;
  }
  it->second.last_used_at = std::max(it->second.last_used_at, now);
  return it->second.key_id;
}

void SessionStore::Remove(std::string_view token) {
  if (!IsWellFormedToken(token)) return;
  std::string hash = crypto::Sha256Hex(token);
  Shard& shard = ShardFor(hash);
  std::lock_guard lock(shard.mu);
  shard.by_hash.erase(hash);
}

size_t SessionStore::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.by_hash.size();
  }
  return n;
}

std::optional<std::string_view> FindCookie(std::string_view header, std::string_view name) {
  // RFC 6265 §5.4: "name=value" pairs separated by "; ". Be lenient about spaces.
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (Trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

bool IsUnsafeMethod(std::string_view m) { return !(m == "GET" || m == "HEAD" || m == "OPTIONS"); }

Result<void> CheckCsrf(const RequestCredentials& r) {
  if (!IsUnsafeMethod(r.method)) return {};
  if (!r.csrf || Trim(*r.csrf) != "1") {
    return CsrfError(
        "This request is authenticated by the session cookie and changes state: it "
        "must carry the header 'X-Modelgate-Csrf: 1'.");
  }
  if (r.origin) {
    std::string_view origin = Trim(*r.origin);
    std::string_view host = r.host ? Trim(*r.host) : std::string_view();
    bool same = false;
    if (!host.empty()) {
      for (std::string_view scheme : {"http://", "https://"}) {
        if (origin.size() == scheme.size() + host.size() &&
            EqualsIgnoreCaseAscii(origin.substr(0, scheme.size()), scheme) &&
            EqualsIgnoreCaseAscii(origin.substr(scheme.size()), host)) {
          same = true;
        }
      }
    }
    if (!same) {
      return CsrfError(
          "Cross-origin request refused: the Origin header does not match this "
          "server.");
    }
  }
  return {};
}

Result<const state::KeyEntry*> AuthenticateRequest(const state::Snapshot& snapshot,
                                                   SessionStore* sessions,
                                                   const RequestCredentials& r, SystemTime now) {
  if (r.authorization || !sessions || !r.cookie) {
    return Authenticate(snapshot, r.authorization, now);
  }
  std::optional<std::string_view> token = FindCookie(*r.cookie, kSessionCookie);
  if (!token) return Authenticate(snapshot, std::nullopt, now);
  std::optional<std::string> key_id = sessions->Touch(*token, now);
  if (!key_id) return SessionEnded("Your session has expired or ended: sign in again.");
  auto it = snapshot.keys_by_id().find(*key_id);
  if (it == snapshot.keys_by_id().end()) {
    // The key was revoked or its user deleted since sign-in.
    sessions->Remove(*token);
    return SessionEnded(
        "The API key of this session was revoked or its user deleted: sign in "
        "again.");
  }
  MG_TRY_VOID(CheckCsrf(r));
  it->second.last_used_ms->store(UnixMillis(now), std::memory_order_relaxed);
  return &it->second;
}

}  // namespace mg::auth
