#include "api/web/web.h"

#include <boost/json.hpp>
#include <chrono>
#include <string>

#include "api/web/assets.h"
#include "auth/auth.h"
#include "core/time.h"
#include "store/enum_names.h"

namespace mg::api::web {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && server::EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// "Secure when the request came over TLS": the server itself speaks plain HTTP, so TLS means a
// terminating proxy that says so (or a browser on an https:// origin).
bool CameOverTls(const auth::RequestCredentials& c) {
  return (c.forwarded_proto && server::EqualsIgnoreCase(*c.forwarded_proto, "https")) ||
         (c.origin && StartsWithIgnoreCase(*c.origin, "https://"));
}

std::string SessionCookie(std::string_view value, std::chrono::seconds max_age, bool secure) {
  std::string c = std::string(auth::kSessionCookie) + "=" + std::string(value) +
                  "; Path=/; Max-Age=" + std::to_string(max_age.count()) +
                  "; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  return c;
}

// The admin-api `me` body (same fields as GET /admin/v1/me).
json::object RenderMe(const state::Principal& p, const state::Snapshot& snap) {
  json::object o;
  if (const store::User* u = snap.FindUser(p.user_id)) {
    o["id"] = u->id;
    o["email"] = u->email;
    o["name"] = u->name;
    o["role"] = store::RoleName(u->role);
    json::array teams;
    for (const std::string& id : u->team_ids) {
      const store::Team* t = snap.FindTeam(id);
      teams.emplace_back(json::object{{"id", id}, {"name", t ? t->name : std::string()}});
    }
    o["teams"] = std::move(teams);
    o["created_at"] = FormatRfc3339(u->created_at);
    o["updated_at"] = FormatRfc3339(u->updated_at);
  }
  o["permissions"] = json::object{{"manage_providers", auth::CanManageProviders(p.role)},
                                  {"manage_users", auth::CanManageUsers(p.role)},
                                  {"read_audit", auth::CanReadAudit(p.role)},
                                  {"use_models", auth::CanUseModels(p.role)}};
  o["api_key_id"] = p.key_id;
  return o;
}

// {"api_key": "..."}: 400 invalid_json / invalid_parameter (param api_key) otherwise.
Result<std::string> ParseSignIn(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return InvalidArgument("The request body must be a JSON object {\"api_key\": \"...\"}.", "",
                           "invalid_json");
  }
  const json::object& o = v.as_object();
  for (const auto& kv : o) {
    if (kv.key() != "api_key") {
      return InvalidArgument("Unknown field '" + std::string(kv.key()) + "'.",
                             std::string(kv.key()));
    }
  }
  const json::value* key = o.if_contains("api_key");
  if (!key || key->is_null()) return InvalidArgument("'api_key' is required.", "api_key");
  if (!key->is_string()) return InvalidArgument("'api_key' must be a string.", "api_key");
  std::string text(key->as_string());
  if (text.empty()) return InvalidArgument("'api_key' is required.", "api_key");
  return text;
}

server::Response NoStore(server::Response r) {
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

asio::awaitable<server::Response> SignIn(Deps& d, server::Request req) {
  auth::RequestCredentials creds = auth::CredentialsFrom(req.method, req.headers);
  if (auto ok = auth::CheckCsrf(creds); !ok) co_return server::ErrorResponse(ok.error(), req);
  Result<std::string> api_key = ParseSignIn(req.body);
  if (!api_key) co_return server::ErrorResponse(api_key.error(), req);

  std::shared_ptr<const state::Snapshot> snap = d.publisher.Current();
  const SystemTime now = d.clock.Now();
  const state::KeyEntry* key =
      api_key->size() > 256 ? nullptr : snap->FindKeyByHash(auth::HashApiKey(*api_key));
  if (!key) {
    Error e(ErrorCode::kUnauthenticated, "invalid_api_key", "Invalid, unknown or revoked API key.",
            "api_key");
    co_return server::ErrorResponse(e, req);
  }
  key->last_used_ms->store(UnixMillis(now), std::memory_order_relaxed);

  // Signing in again replaces the browser's previous session.
  if (creds.cookie) {
    if (auto old = auth::FindCookie(*creds.cookie, auth::kSessionCookie)) d.sessions.Remove(*old);
  }
  std::string token = d.sessions.Create(key->principal.key_id, now);
  auto max_age =
      std::chrono::duration_cast<std::chrono::seconds>(d.sessions.options().max_lifetime);
  server::Response r =
      NoStore(server::JsonResponse(200, json::serialize(RenderMe(key->principal, *snap))));
  r.headers.Add("Set-Cookie", SessionCookie(token, max_age, CameOverTls(creds)));
  r.log_fields.emplace_back("principal", key->principal.user_id);
  co_return r;
}

asio::awaitable<server::Response> SignOut(Deps& d, server::Request req) {
  auth::RequestCredentials creds = auth::CredentialsFrom(req.method, req.headers);
  std::optional<std::string_view> token;
  if (creds.cookie) token = auth::FindCookie(*creds.cookie, auth::kSessionCookie);
  if (token) {
    if (auto ok = auth::CheckCsrf(creds); !ok) co_return server::ErrorResponse(ok.error(), req);
    d.sessions.Remove(*token);
  }
  server::Response r;
  r.status = 204;
  r.headers.Add("Set-Cookie", SessionCookie("", std::chrono::seconds(0), CameOverTls(creds)));
  co_return NoStore(std::move(r));
}

server::Handler AssetHandler(const EmbeddedFile& file) {
  return [&file](server::Request req) -> asio::awaitable<server::Response> {
    co_return AssetResponse(file, req);
  };
}

}  // namespace

void RegisterRoutes(server::Router& router, Deps& deps) {
  for (const EmbeddedFile& f : EmbeddedFiles()) {
    router.Add("GET", "/" + std::string(f.path), AssetHandler(f));
    if (f.path == "index.html") router.Add("GET", "/", AssetHandler(f));
  }
  router.Add("POST", "/admin/v1/session",
             [&deps](server::Request req) { return SignIn(deps, std::move(req)); });
  router.Add("DELETE", "/admin/v1/session",
             [&deps](server::Request req) { return SignOut(deps, std::move(req)); });
}

}  // namespace mg::api::web
