// Teams, users, API keys, me and the audit log (admin-api "Teams, users, API keys", "Audit").
#include <algorithm>

#include "api/admin/admin_common.h"
#include "auth/auth.h"
#include "core/ids.h"
#include "core/time.h"
#include "store/enum_names.h"

namespace mg::api::admin::detail {
namespace {


Result<void> CheckTeamName(std::string_view v) {
  bool ok = !v.empty() && v.size() <= 64 && v.front() != ' ' && v.back() != ' ';
  for (char c : v) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                c == '.' || c == ' ');
  }
  if (!ok) {
    return InvalidArgument("'name' must be 1-64 characters of letters, digits, spaces, '-', '_' "
                           "or '.', without leading or trailing spaces.",
                           "name");
  }
  return {};
}

Result<void> CheckEmail(std::string_view v) {
  auto at = v.find('@');
  bool ok = v.size() <= 254 && at != std::string_view::npos && at > 0 && at + 1 < v.size() &&
            v.find('@', at + 1) == std::string_view::npos &&
            std::none_of(v.begin(), v.end(), [](char c) {
              return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '<' || c == '>';
            });
  if (!ok) return InvalidArgument("'email' must be an e-mail address.", "email");
  return {};
}

Result<void> CheckUserName(std::string_view v) {
  if (v.empty() || v.size() > 128 ||
      std::any_of(v.begin(), v.end(), [](char c) { return c == '\n' || c == '\r' || c == '\0'; })) {
    return InvalidArgument("'name' must be 1-128 characters on one line.", "name");
  }
  return {};
}

// Resolves team ids or names; param names the offending element.
Result<std::vector<std::string>> ResolveTeams(const state::Snapshot& snap,
                                              const std::vector<std::string>& refs,
                                              std::string_view param) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < refs.size(); ++i) {
    const store::Team* t = snap.FindTeam(refs[i]);
    if (!t) {
      return InvalidArgument("Unknown team '" + refs[i] + "'.",
                             std::string(param) + "[" + std::to_string(i) + "]",
                             "team_not_found");
    }
    ids.push_back(t->id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

json::object RenderTeam(const store::Team& t, const state::Snapshot&) {
  json::object o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["created_at"] = TimeValue(t.created_at);
  o["updated_at"] = TimeValue(t.updated_at);
  return o;
}

json::object RenderUser(const store::User& u, const state::Snapshot& snap) {
  json::object o;
  o["id"] = u.id;
  o["email"] = u.email;
  o["name"] = u.name;
  o["role"] = store::RoleName(u.role);
  json::array teams;
  for (const auto& id : u.team_ids) teams.emplace_back(TeamRef(snap, id));
  o["teams"] = std::move(teams);
  o["created_at"] = TimeValue(u.created_at);
  o["updated_at"] = TimeValue(u.updated_at);
  return o;
}

json::object RenderKey(const store::ApiKey& k, const state::Snapshot& snap) {
  json::object o;
  o["id"] = k.id;
  o["name"] = k.name;
  o["prefix"] = k.prefix;
  o["created_at"] = TimeValue(k.created_at);
  // The snapshot's counter is fresher than the store (flushed periodically).
  std::optional<SystemTime> last_used = k.last_used_at;
  auto it = snap.keys_by_id().find(k.id);
  if (it != snap.keys_by_id().end()) {
    int64_t ms = it->second.last_used_ms->load(std::memory_order_relaxed);
    if (ms > 0) last_used = FromUnixMillis(ms);
  }
  o["last_used_at"] = OptTimeValue(last_used);
  o["revoked_at"] = OptTimeValue(k.revoked_at);
  o["revoked"] = k.revoked_at.has_value();
  return o;
}

Result<const store::User*> FindUserOr404(const state::Snapshot& snap, std::string_view id) {
  const store::User* u = snap.FindUser(id);
  if (!u) return NotFound("user_not_found", "No user '" + std::string(id) + "'.");
  return u;
}

Result<const store::Team*> FindTeamOr404(const state::Snapshot& snap, std::string_view id) {
  const store::Team* t = snap.FindTeam(id);
  if (!t) return NotFound("team_not_found", "No team '" + std::string(id) + "'.");
  return t;
}

// Refuses changes that would leave the organisation without an org_admin.
Result<void> KeepAnOrgAdmin(Deps& d, std::string_view user_id, std::optional<store::Role> new_role) {
  MG_TRY(auto users, d.store.ListUsers());
  int admins_after = 0;
  for (const auto& u : users) {
    store::Role r = u.role;
    if (u.id == user_id) {
      if (!new_role) continue;  // deleted
      r = *new_role;
    }
    if (r == store::Role::kOrgAdmin) ++admins_after;
  }
  if (admins_after == 0) {
    return Conflict("last_org_admin", "This is the last org_admin; make another user org_admin "
                                      "first.");
  }
  return {};
}

// Can the caller manage the keys of `user_id`? Admins can; everyone can manage their own.
Result<void> CheckKeyOwner(const Call& call, std::string_view user_id) {
  if (call.caller.user_id == user_id || auth::CanManageUsers(call.caller.role)) return {};
  return Forbidden("permission_denied", "You may only manage your own API keys.");
}

Result<Reply> IssueKey(Deps& d, Call& call, const std::string& user_id) {
  MG_TRY(json::object body, ParseObject(call.req.body.empty() ? "{}" : call.req.body));
  MG_TRY_VOID(OnlyKeys(body, {"name"}));
  MG_TRY(auto name, OptString(body, "name"));
  std::string key_name = name.value_or("default");
  if (key_name.empty() || key_name.size() > 128) {
    return InvalidArgument("'name' must be 1-128 characters.", "name");
  }
  SystemTime now = d.clock.Now();
  auth::NewApiKey nk = auth::GenerateApiKey();
  store::ApiKey k;
  k.id = NewId("key", now);
  k.user_id = user_id;
  k.name = key_name;
  k.prefix = nk.prefix;
  k.hash = nk.hash;
  k.created_at = now;
  json::object details{{"user_id", user_id}, {"name", key_name}, {"prefix", nk.prefix}};
  MG_TRY_VOID(d.store.CreateApiKey(k, MakeAudit(call, now, "api_key.issue", k.id, details)));
  MG_TRY(auto snap, Publish(d));
  json::object o;
  o["id"] = k.id;
  o["name"] = k.name;
  o["key"] = nk.key;
  o["prefix"] = k.prefix;
  o["created_at"] = TimeValue(k.created_at);
  return JsonReply(201, o);
}

Result<Reply> ListKeys(Deps& d, const std::string& user_id) {
  MG_TRY(auto keys, d.store.ListApiKeys(user_id));
  auto snap = d.publisher.Current();
  json::array arr;
  for (const auto& k : keys) arr.emplace_back(RenderKey(k, *snap));
  return JsonReply(200, json::object{{"api_keys", std::move(arr)}});
}

Result<Reply> RevokeKey(Deps& d, Call& call, const std::string& user_id,
                        const std::string& key_id) {
  SystemTime now = d.clock.Now();
  MG_TRY_VOID(d.store.RevokeApiKey(
      user_id, key_id, now,
      MakeAudit(call, now, "api_key.revoke", key_id, json::object{{"user_id", user_id}})));
  MG_TRY(auto snap, Publish(d));
  return NoContent();
}

json::object RenderMe(const state::Principal& p, const state::Snapshot& snap) {
  json::object o;
  const store::User* u = snap.FindUser(p.user_id);
  if (u) o = RenderUser(*u, snap);
  o["permissions"] = json::object{{"manage_providers", auth::CanManageProviders(p.role)},
                                  {"manage_users", auth::CanManageUsers(p.role)},
                                  {"read_audit", auth::CanReadAudit(p.role)},
                                  {"use_models", auth::CanUseModels(p.role)}};
  o["api_key_id"] = p.key_id;
  return o;
}

}  // namespace

void RegisterIdentityRoutes(server::Router& r, Deps& d) {
  // --- Teams ---
  r.Add("POST", "/admin/v1/teams", Sync(d, Need::kManageUsers, [&d](Call& call) -> Result<Reply> {
          MG_TRY(json::object body, ParseObject(call.req.body));
          MG_TRY_VOID(OnlyKeys(body, {"name"}));
          MG_TRY(std::string name, ReqString(body, "name"));
          MG_TRY_VOID(CheckTeamName(name));
          SystemTime now = d.clock.Now();
          store::Team t{NewId("team", now), name, now, now};
          MG_TRY_VOID(d.store.CreateTeam(
              t, MakeAudit(call, now, "team.create", t.id, json::object{{"name", name}})));
          MG_TRY(auto snap, Publish(d));
          return JsonReply(201, RenderTeam(t, *snap));
        }));
  r.Add("GET", "/admin/v1/teams", Sync(d, Need::kManageUsers, [&d](Call&) -> Result<Reply> {
          MG_TRY(auto teams, d.store.ListTeams());
          auto snap = d.publisher.Current();
          json::array arr;
          for (const auto& t : teams) arr.emplace_back(RenderTeam(t, *snap));
          return JsonReply(200, json::object{{"teams", std::move(arr)}});
        }));
  r.Add("GET", "/admin/v1/teams/{id}", Sync(d, Need::kManageUsers, [&d](Call& call) -> Result<Reply> {
          MG_TRY(const store::Team* t, FindTeamOr404(*call.snap, call.req.path_params.at("id")));
          return JsonReply(200, RenderTeam(*t, *call.snap));
        }));
  r.Add("PATCH", "/admin/v1/teams/{id}",
        Sync(d, Need::kManageUsers, [&d](Call& call) -> Result<Reply> {
          MG_TRY(const store::Team* found, FindTeamOr404(*call.snap, call.req.path_params.at("id")));
          MG_TRY(json::object body, ParseObject(call.req.body));
          MG_TRY_VOID(OnlyKeys(body, {"name"}));
          MG_TRY(store::Team t, d.store.GetTeam(found->id));
          MG_TRY(auto name, OptString(body, "name"));
          if (name) {
            MG_TRY_VOID(CheckTeamName(*name));
            t.name = *name;
          }
          SystemTime now = d.clock.Now();
          t.updated_at = now;
          MG_TRY_VOID(d.store.UpdateTeam(
              t, MakeAudit(call, now, "team.update", t.id, json::object{{"name", t.name}})));
          MG_TRY(auto snap, Publish(d));
          return JsonReply(200, RenderTeam(t, *snap));
        }));
  r.Add("DELETE", "/admin/v1/teams/{id}",
        Sync(d, Need::kManageUsers, [&d](Call& call) -> Result<Reply> {
          MG_TRY(const store::Team* t, FindTeamOr404(*call.snap, call.req.path_params.at("id")));
          MG_TRY_VOID(d.store.DeleteTeam(
              t->id, MakeAudit(call, d.clock.Now(), "team.delete", t->id,
                               json::object{{"name", t->name}})));
          MG_TRY(auto snap, Publish(d));
          return NoContent();
        }));

  // --- Users ---
  r.Add("POST", "/admin/v1/users", Sync(d, Need::kManageUsers, [&d](Call& call) -> Result<Reply> {
          MG_TRY(json::object body, ParseObject(call.req.body));
          MG_TRY_VOID(OnlyKeys(body, {"email", "name", "role", "teams"}));
          MG_TRY(std::string email, ReqString(body, "email"));
          MG_TRY_VOID(CheckEmail(email));
          MG_TRY(std::string name, ReqString(body, "name"));
          MG_TRY_VOID(CheckUserName(name));
          MG_TRY(std::string role_text, ReqString(body, "role"));
          auto role = store::ParseRole(role_text);
          if (!role) {
            return InvalidArgument("'role' must be one of org_admin, it_admin, full_access, "
                                   "builder, member.",
                                   "role");
          }
          MG_TRY(auto team_refs, OptStringArray(body, "teams"));
          MG_TRY(auto team_ids,
                 ResolveTeams(*call.snap, team_refs.value_or(std::vector<std::string>{}), "teams"));
          SystemTime now = d.clock.Now();
          store::User u{NewId("user", now), email, name, *role, team_ids, now, now};
          MG_TRY_VOID(d.store.CreateUser(
              u, std::nullopt,
              MakeAudit(call, now, "user.create", u.id,
                        json::object{{"email", email}, {"role", role_text}})));
          MG_TRY(auto snap, Publish(d));
          return JsonReply(201, RenderUser(u, *snap));
        }));
  r.Add("GET", "/admin/v1/users", Sync(d, Need::kManageUsers, [&d](Call&) -> Result<Reply> {
          MG_TRY(auto users, d.store.ListUsers());
          auto snap = d.publisher.Current();
          json::array arr;
          for (const auto& u : users) arr.emplace_back(RenderUser(u, *snap));
          return JsonReply(200, json::object{{"users", std::move(arr)}});
        }));
  r.Add("GET", "/admin/v1/users/{id}", Sync(d, Need::kManageUsers, [&d](Call& call) -> Result<Reply> {
          MG_TRY(const store::User* u, FindUserOr404(*call.snap, call.req.path_params.at("id")));
          return JsonReply(200, RenderUser(*u, *call.snap));
        }));
  r.Add("PATCH", "/admin/v1/users/{id}",
        Sync(d, Need::kManageUsers, [&d](Call& call) -> Result<Reply> {
          MG_TRY(const store::User* found, FindUserOr404(*call.snap, call.req.path_params.at("id")));
          MG_TRY(json::object body, ParseObject(call.req.body));
          MG_TRY_VOID(OnlyKeys(body, {"email", "name", "role", "teams"}));
          MG_TRY(store::User u, d.store.GetUser(found->id));
          json::array changed;
          MG_TRY(auto email, OptString(body, "email"));
          if (email) {
            MG_TRY_VOID(CheckEmail(*email));
            u.email = *email;
            changed.emplace_back("email");
          }
          MG_TRY(auto name, OptString(body, "name"));
          if (name) {
            MG_TRY_VOID(CheckUserName(*name));
            u.name = *name;
            changed.emplace_back("name");
          }
          MG_TRY(auto role_text, OptString(body, "role"));
          if (role_text) {
            auto role = store::ParseRole(*role_text);
            if (!role) {
              return InvalidArgument("'role' must be one of org_admin, it_admin, full_access, "
                                     "builder, member.",
                                     "role");
            }
            if (u.role == store::Role::kOrgAdmin && *role != store::Role::kOrgAdmin) {
              MG_TRY_VOID(KeepAnOrgAdmin(d, u.id, *role));
            }
            u.role = *role;
            changed.emplace_back("role");
          }
          MG_TRY(auto team_refs, OptStringArray(body, "teams"));
          if (team_refs) {
            MG_TRY(u.team_ids, ResolveTeams(*call.snap, *team_refs, "teams"));
            changed.emplace_back("teams");
          }
          SystemTime now = d.clock.Now();
          u.updated_at = now;
          MG_TRY_VOID(d.store.UpdateUser(
              u, MakeAudit(call, now, "user.update", u.id,
                           json::object{{"changed", std::move(changed)},
                                        {"role", store::RoleName(u.role)}})));
          MG_TRY(auto snap, Publish(d));
          return JsonReply(200, RenderUser(u, *snap));
        }));
  r.Add("DELETE", "/admin/v1/users/{id}",
        Sync(d, Need::kManageUsers, [&d](Call& call) -> Result<Reply> {
          MG_TRY(const store::User* u, FindUserOr404(*call.snap, call.req.path_params.at("id")));
          if (u->role == store::Role::kOrgAdmin) MG_TRY_VOID(KeepAnOrgAdmin(d, u->id, std::nullopt));
          MG_TRY_VOID(d.store.DeleteUser(
              u->id, MakeAudit(call, d.clock.Now(), "user.delete", u->id,
                               json::object{{"email", u->email}})));
          MG_TRY(auto snap, Publish(d));
          return NoContent();
        }));

  // --- API keys ---
  r.Add("POST", "/admin/v1/users/{id}/api-keys",
        Sync(d, Need::kAnyUser, [&d](Call& call) -> Result<Reply> {
          const std::string& id = call.req.path_params.at("id");
          MG_TRY_VOID(CheckKeyOwner(call, id));
          MG_TRY(const store::User* u, FindUserOr404(*call.snap, id));
          return IssueKey(d, call, u->id);
        }));
  r.Add("GET", "/admin/v1/users/{id}/api-keys",
        Sync(d, Need::kAnyUser, [&d](Call& call) -> Result<Reply> {
          const std::string& id = call.req.path_params.at("id");
          MG_TRY_VOID(CheckKeyOwner(call, id));
          MG_TRY(const store::User* u, FindUserOr404(*call.snap, id));
          return ListKeys(d, u->id);
        }));
  r.Add("DELETE", "/admin/v1/users/{id}/api-keys/{key_id}",
        Sync(d, Need::kAnyUser, [&d](Call& call) -> Result<Reply> {
          const std::string& id = call.req.path_params.at("id");
          MG_TRY_VOID(CheckKeyOwner(call, id));
          MG_TRY(const store::User* u, FindUserOr404(*call.snap, id));
          return RevokeKey(d, call, u->id, call.req.path_params.at("key_id"));
        }));

  // --- Me ---
  r.Add("GET", "/admin/v1/me", Sync(d, Need::kAnyUser, [](Call& call) -> Result<Reply> {
          return JsonReply(200, RenderMe(call.caller, *call.snap));
        }));
  r.Add("POST", "/admin/v1/me/api-keys", Sync(d, Need::kAnyUser, [&d](Call& call) {
          return IssueKey(d, call, call.caller.user_id);
        }));
  r.Add("GET", "/admin/v1/me/api-keys", Sync(d, Need::kAnyUser, [&d](Call& call) {
          return ListKeys(d, call.caller.user_id);
        }));
  r.Add("DELETE", "/admin/v1/me/api-keys/{key_id}", Sync(d, Need::kAnyUser, [&d](Call& call) {
          return RevokeKey(d, call, call.caller.user_id, call.req.path_params.at("key_id"));
        }));

  // --- Audit ---
  r.Add("GET", "/admin/v1/audit", Sync(d, Need::kReadAudit, [&d](Call& call) -> Result<Reply> {
          MG_TRY(auto limit_text, call.req.QueryParamChecked("limit"));
          int limit = 100;
          if (limit_text) {
            char* end = nullptr;
            long v = std::strtol(limit_text->c_str(), &end, 10);
            if (limit_text->empty() || *end != '\0' || v < 1 || v > 1000) {
              return InvalidArgument("'limit' must be an integer from 1 to 1000.", "limit");
            }
            limit = static_cast<int>(v);
          }
          MG_TRY(auto events, d.store.ListAudit(limit));
          json::array arr;
          for (const auto& e : events) {
            boost::system::error_code ec;
            json::value details = json::parse(e.details, ec);
            if (ec) details = json::object();
            arr.emplace_back(json::object{{"at", TimeValue(e.at)},
                                          {"actor", e.actor},
                                          {"action", e.action},
                                          {"target", e.target},
                                          {"details", std::move(details)}});
          }
          return JsonReply(200, json::object{{"events", std::move(arr)}});
        }));
}

}  // namespace mg::api::admin::detail
