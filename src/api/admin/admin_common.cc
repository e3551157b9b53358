#include "api/admin/admin_common.h"

#include "auth/auth.h"
#include "core/log.h"
#include "core/time.h"
#include "server/blocking.h"
#include "store/enum_names.h"

namespace mg::api::admin {

void RegisterRoutes(server::Router& router, Deps& deps) {
  detail::RegisterProviderRoutes(router, deps);
  detail::RegisterCredentialRoutes(router, deps);
  detail::RegisterIdentityRoutes(router, deps);
  detail::RegisterModelRoutes(router, deps);
  detail::RegisterUsageRoutes(router, deps);
  detail::RegisterHealthRoutes(router, deps);
}

namespace detail {
namespace {

std::optional<Error> CheckNeed(Need need, store::Role role) {
  auto deny = [&](std::string_view what) {
    return Forbidden("permission_denied", "Your role '" + std::string(store::RoleName(role)) +
                                              "' may not " + std::string(what) + ".");
  };
  switch (need) {
    case Need::kAnyUser: return std::nullopt;
    case Need::kManageProviders:
      if (!auth::CanManageProviders(role)) return deny("manage credentials, models or catalogs");
      return std::nullopt;
    case Need::kManageUsers:
      if (!auth::CanManageUsers(role)) return deny("manage teams and users");
      return std::nullopt;
    case Need::kReadAudit:
      if (!auth::CanReadAudit(role)) return deny("read the audit log");
      return std::nullopt;
  }
  return std::nullopt;
}

server::Response Render(const Result<Reply>& r, const server::Request& req,
                        const state::Principal& caller) {
  server::Response resp;
  if (!r) {
    if (r.error().code == ErrorCode::kInternal) {
      log::Error("admin_internal_error", {{"request_id", req.request_id},
                                          {"route", req.route},
                                          {"message", r.error().message}});
    }
    resp = server::ErrorResponse(r.error(), req);
  } else if (r->status == 204) {
    resp.status = 204;
  } else {
    resp = server::JsonResponse(r->status, r->body);
  }
  resp.log_fields.emplace_back("principal", caller.user_id);
  return resp;
}

Result<std::pair<std::shared_ptr<const state::Snapshot>, state::Principal>> Authorize(
    Deps& d, Need need, const server::Request& req) {
  auto snap = d.publisher.Current();
  MG_TRY(const state::KeyEntry* key,
         auth::AuthenticateRequest(*snap, d.sessions,
                                   auth::CredentialsFrom(req.method, req.headers), d.clock.Now()));
  if (auto denied = CheckNeed(need, key->principal.role)) return *denied;
  return std::pair{snap, key->principal};
}

Error TypeError(std::string path, std::string_view expected) {
  return InvalidArgument("'" + path + "' must be " + std::string(expected) + ".", path);
}

std::string PathOf(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "." + std::string(key);
}

}  // namespace

server::Handler Sync(Deps& deps, Need need, SyncFn fn) {
  return [&deps, need, fn = std::move(fn)](server::Request req)
             -> boost::asio::awaitable<server::Response> {
    auto who = Authorize(deps, need, req);
    if (!who) co_return server::ErrorResponse(who.error(), req);
    Call call{std::move(req), std::move(who->first), std::move(who->second)};
    Result<Reply> result = co_await server::RunBlocking(deps.store_pool, [&]() -> Result<Reply> {
      try {
        return fn(call);
      } catch (const std::exception& e) {
        return Internal(std::string("unexpected failure: ") + e.what());
      }
    });
    co_return Render(result, call.req, call.caller);
  };
}

server::Handler Async(Deps& deps, Need need, AsyncFn fn) {
  return [&deps, need, fn = std::move(fn)](server::Request req)
             -> boost::asio::awaitable<server::Response> {
    auto who = Authorize(deps, need, req);
    if (!who) co_return server::ErrorResponse(who.error(), req);
    Call call{std::move(req), std::move(who->first), std::move(who->second)};
    server::Request req_copy = call.req;
    state::Principal caller = call.caller;
    Result<Reply> result = co_await fn(std::move(call));
    co_return Render(result, req_copy, caller);
  };
}

Result<std::shared_ptr<const state::Snapshot>> Publish(Deps& d) {
  auto r = d.publisher.Rebuild();
  if (!r) {
    return Internal("change saved, but the configuration could not be reloaded: " +
                    r.error().message);
  }
  return r;
}

std::string_view AuthTypeText(store::AuthType t) {
  return t == store::AuthType::kRoleArn ? "role_arn" : "access_keys";
}

Reply JsonReply(int status, const json::value& v) { return Reply{status, json::serialize(v)}; }
Reply NoContent() { return Reply{204, {}}; }

Result<json::object> ParseObject(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) {
    return InvalidArgument("The request body is not valid JSON: " + ec.message() + ".", "",
                           "invalid_json");
  }
  if (!v.is_object()) {
    return InvalidArgument("The request body must be a JSON object.", "", "invalid_json");
  }
  return std::move(v.as_object());
}

Result<std::optional<std::string>> OptString(const json::object& o, std::string_view key,
                                             std::string_view prefix) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return TypeError(PathOf(prefix, key), "a string");
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::string> ReqString(const json::object& o, std::string_view key,
                              std::string_view prefix) {
  MG_TRY(auto s, OptString(o, key, prefix));
  if (!s) {
    return InvalidArgument("'" + PathOf(prefix, key) + "' is required.", PathOf(prefix, key));
  }
  return std::move(*s);
}

Result<std::optional<bool>> OptBool(const json::object& o, std::string_view key,
                                    std::string_view prefix) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return TypeError(PathOf(prefix, key), "true or false");
  return std::optional<bool>(v->as_bool());
}

Result<std::optional<std::vector<std::string>>> OptStringArray(const json::object& o,
                                                               std::string_view key,
                                                               std::string_view prefix) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return TypeError(PathOf(prefix, key), "an array of strings");
  std::vector<std::string> out;
  const json::array& a = v->as_array();
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) {
      return TypeError(PathOf(prefix, key) + "[" + std::to_string(i) + "]", "a string");
    }
    out.emplace_back(a[i].as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<const json::object*> OptObject(const json::object& o, std::string_view key,
                                      std::string_view prefix) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return static_cast<const json::object*>(nullptr);
  if (!v->is_object()) return TypeError(PathOf(prefix, key), "an object");
  return &v->as_object();
}

Result<void> OnlyKeys(const json::object& o, std::initializer_list<std::string_view> allowed,
                      std::string_view prefix) {
  for (const auto& kv : o) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || kv.key() == a;
    if (!ok) {
      std::string path = PathOf(prefix, kv.key());
      return InvalidArgument("Unknown field '" + path + "'.", path);
    }
  }
  return {};
}

Result<void> CheckName(std::string_view v, std::string_view param) {
  bool ok = !v.empty() && v.size() <= 64;
  for (char c : v) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  }
  if (!ok) {
    return InvalidArgument("'" + std::string(param) +
                               "' must be 1-64 characters of letters, digits, '-', '_' or '.'.",
                           std::string(param));
  }
  return {};
}

json::value TimeValue(SystemTime t) { return json::value(FormatRfc3339(t)); }
json::value OptTimeValue(const std::optional<SystemTime>& t) {
  if (!t) return nullptr;
  return TimeValue(*t);
}

store::AuditEvent MakeAudit(const Call& call, SystemTime now, std::string action,
                            std::string target, json::object details) {
  details["request_id"] = call.req.request_id;
  store::AuditEvent e;
  e.at = now;
  e.actor = call.caller.user_id;
  e.action = std::move(action);
  e.target = std::move(target);
  e.details = json::serialize(details);
  return e;
}

json::object TeamRef(const state::Snapshot& snap, const std::string& team_id) {
  json::object o;
  o["id"] = team_id;
  const store::Team* t = snap.FindTeam(team_id);
  o["name"] = t ? t->name : std::string();
  return o;
}

}  // namespace detail
}  // namespace mg::api::admin
