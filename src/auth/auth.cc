#include "auth/auth.h"

#include "core/time.h"
#include "crypto/crypto.h"

namespace mg::auth {

NewApiKey GenerateApiKey() {
  std::string raw = crypto::RandomBytes(32);
  NewApiKey k;
  k.key = std::string(kKeyPrefix) + crypto::Base64UrlEncode(raw);
  crypto::Cleanse(raw.data(), raw.size());
  k.prefix = k.key.substr(0, 12);
  k.hash = HashApiKey(k.key);
  return k;
}

std::string HashApiKey(std::string_view key) { return crypto::Sha256Hex(key); }

std::optional<std::string_view> ParseBearer(std::string_view h) {
  constexpr std::string_view kScheme = "bearer";
  if (h.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = h[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  size_t i = kScheme.size();
  if (h[i] != ' ') return std::nullopt;
  while (i < h.size() && h[i] == ' ') ++i;
  std::string_view token = h.substr(i);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

Result<const state::KeyEntry*> Authenticate(const state::Snapshot& snapshot,
                                            std::optional<std::string_view> authorization,
                                            SystemTime now) {
  auto fail = [](std::string msg) {
    return Error(ErrorCode::kUnauthenticated, "invalid_api_key", std::move(msg));
  };
  if (!authorization) return fail("Missing Authorization header: send 'Authorization: Bearer <api key>'.");
  auto token = ParseBearer(*authorization);
  if (!token) return fail("Malformed Authorization header: expected 'Bearer <api key>'.");
  if (token->size() > 256) return fail("Invalid API key.");
  const state::KeyEntry* e = snapshot.FindKeyByHash(HashApiKey(*token));
  if (!e) return fail("Invalid, unknown or revoked API key.");
  e->last_used_ms->store(UnixMillis(now), std::memory_order_relaxed);
  return e;
}

bool CanManageProviders(store::Role r) {
  return r == store::Role::kOrgAdmin || r == store::Role::kItAdmin ||
         r == store::Role::kFullAccess;
}
bool CanManageUsers(store::Role r) {
  return r == store::Role::kOrgAdmin || r == store::Role::kItAdmin;
}
bool CanReadAudit(store::Role r) { return CanManageUsers(r); }
bool CanUseModels(store::Role r) { return r != store::Role::kMember; }

}  // namespace mg::auth
