// `modelgate teams ...`, `users ...`, `keys ...` and `me` (admin-api "Teams, users, API keys").
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cli/command.h"
#include "cli/encoding.h"
#include "cli/exit_codes.h"
#include "cli/json_cells.h"
#include "cli/table.h"

namespace mg::cli {
namespace {

namespace json = boost::json;

struct IdentityArgs {
  std::string id;
  std::string name;
  std::string email;
  std::string role;
  std::vector<std::string> teams;
  bool no_teams = false;
  std::string user;  // keys: another user's id (default: the caller's own keys)
};

// GET `path` and print the array at `list` with these columns (or the raw JSON).
int ListTable(Session& s, std::string_view path, std::string_view list,
              const std::vector<Column>& columns) {
  return s.Show(s.Call("GET", path),
                [&](const json::value& v) { return RenderList(v, list, columns); });
}

// Sends and prints the single object answered ("key: value" lines, or the raw JSON).
int SendAndShow(Session& s, std::string_view method, std::string_view path, std::string body) {
  return s.Show(s.Call(method, path, std::move(body)), RenderObject);
}

int SendDelete(Session& s, std::string_view path, std::string_view what, const std::string& id) {
  auto r = s.Call("DELETE", path);
  if (r.exit_code != kExitOk) return r.exit_code;
  if (!s.json()) s.io().out << what << ' ' << SanitizeCell(id) << '\n';
  return kExitOk;
}

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string KeysPath(const IdentityArgs& a) {
  return a.user.empty() ? std::string("/admin/v1/me/api-keys")
                        : PathWithIds("/admin/v1/users", {a.user, "api-keys"});
}

int CreateKey(Session& s, const IdentityArgs& a) {
  json::object body;
  if (!a.name.empty()) body["name"] = a.name;
  auto r = s.Call("POST", KeysPath(a), json::serialize(body));
  if (r.exit_code != kExitOk) return r.exit_code;
  if (s.json()) {
    s.PrintRaw(r.body);
    return kExitOk;
  }
  auto v = s.ParseBody(r.body);
  if (!v) return kExitApiError;
  // The key alone on stdout, so `KEY=$(modelgate keys create)` works; the rest on stderr.
  s.io().out << Cell(*v, "key") << '\n';
  s.io().err << "Created API key " << SanitizeCell(Cell(*v, "id")) << " ("
             << SanitizeCell(Cell(*v, "name")) << ", prefix " << SanitizeCell(Cell(*v, "prefix"))
             << "). It is shown this once: store it now.\n";
  return kExitOk;
}

int UpdateUser(Session& s, const IdentityArgs& a) {
  json::object body;
  if (!a.email.empty()) body["email"] = a.email;
  if (!a.name.empty()) body["name"] = a.name;
  if (!a.role.empty()) body["role"] = a.role;
  if (!a.teams.empty() || a.no_teams) body["teams"] = Strings(a.teams);
  if (body.empty()) {
    return s.Fail(kExitUsage,
                  "nothing to change: give --email, --name, --role, --team or "
                  "--no-teams");
  }
  return SendAndShow(s, "PATCH", PathWithIds("/admin/v1/users", {a.id}), json::serialize(body));
}

}  // namespace

void AddIdentityCommands(CLI::App& root, Registry& reg) {
  // Shared by the run functions of these groups' leaves, which the registry holds; the flags of
  // whichever leaf the parse selects land here (one leaf runs per process).
  auto args = std::make_shared<IdentityArgs>();

  // --- teams ---
  CLI::App* teams = root.add_subcommand("teams", "Teams, which models are shared with");
  teams->require_subcommand(1);
  reg.Add(*teams, "list", "List teams", [](Session& s) {
    return ListTable(s, "/admin/v1/teams", "teams",
                     {{"ID", "id"}, {"NAME", "name"}, {"CREATED", "created_at"}});
  });
  CLI::App* tadd = reg.Add(*teams, "add", "Create a team", [args](Session& s) {
    return SendAndShow(s, "POST", "/admin/v1/teams",
                       json::serialize(json::object{{"name", args->name}}));
  });
  tadd->add_option("NAME", args->name, "Team name")->required();
  CLI::App* trename = reg.Add(*teams, "rename", "Rename a team", [args](Session& s) {
    return SendAndShow(s, "PATCH", PathWithIds("/admin/v1/teams", {args->id}),
                       json::serialize(json::object{{"name", args->name}}));
  });
  trename->add_option("ID", args->id, "Team id or name")->required();
  trename->add_option("NEW_NAME", args->name, "New name")->required();
  CLI::App* tdel = reg.Add(*teams, "delete", "Delete a team", [args](Session& s) {
    return SendDelete(s, PathWithIds("/admin/v1/teams", {args->id}), "deleted team", args->id);
  });
  tdel->add_option("ID", args->id, "Team id or name")->required();

  // --- users ---
  CLI::App* users = root.add_subcommand("users", "Users, their roles and teams");
  users->require_subcommand(1);
  reg.Add(*users, "list", "List users", [](Session& s) {
    return ListTable(
        s, "/admin/v1/users", "users",
        {{"ID", "id"}, {"EMAIL", "email"}, {"NAME", "name"}, {"ROLE", "role"}, {"TEAMS", "teams"}});
  });
  CLI::App* uget = reg.Add(*users, "get", "Show one user", [args](Session& s) {
    return SendAndShow(s, "GET", PathWithIds("/admin/v1/users", {args->id}), {});
  });
  uget->add_option("ID", args->id, "User id")->required();
  const std::string roles = "org_admin, it_admin, full_access, builder or member";
  CLI::App* uadd = reg.Add(*users, "add", "Create a user", [args](Session& s) {
    json::object body{{"email", args->email},
                      {"name", args->name},
                      {"role", args->role},
                      {"teams", Strings(args->teams)}};
    return SendAndShow(s, "POST", "/admin/v1/users", json::serialize(body));
  });
  uadd->add_option("--email", args->email, "E-mail address")->required();
  uadd->add_option("--name", args->name, "Display name")->required();
  uadd->add_option("--role", args->role, roles)->required();
  uadd->add_option("--team", args->teams, "Teams (ids or names)");
  CLI::App* uupd = reg.Add(*users, "update", "Change a user's e-mail, name, role or teams",
                           [args](Session& s) { return UpdateUser(s, *args); });
  uupd->add_option("ID", args->id, "User id")->required();
  uupd->add_option("--email", args->email, "New e-mail address");
  uupd->add_option("--name", args->name, "New display name");
  uupd->add_option("--role", args->role, roles);
  auto* team = uupd->add_option("--team", args->teams, "Exactly these teams (ids or names)");
  auto* none = uupd->add_flag("--no-teams", args->no_teams, "Remove the user from every team");
  team->excludes(none);
  CLI::App* udel = reg.Add(*users, "delete", "Delete a user (and their keys)", [args](Session& s) {
    return SendDelete(s, PathWithIds("/admin/v1/users", {args->id}), "deleted user", args->id);
  });
  udel->add_option("ID", args->id, "User id")->required();

  // --- keys ---
  CLI::App* keys = root.add_subcommand("keys", "API keys (your own, or --user ID's as an admin)");
  keys->require_subcommand(1);
  CLI::App* klist =
      reg.Add(*keys, "list", "List API keys (never the keys themselves)", [args](Session& s) {
        return ListTable(s, KeysPath(*args), "api_keys",
                         {{"ID", "id"},
                          {"NAME", "name"},
                          {"PREFIX", "prefix"},
                          {"CREATED", "created_at"},
                          {"LAST USED", "last_used_at"},
                          {"REVOKED", "revoked"}});
      });
  klist->add_option("--user", args->user, "Another user's id (admins)");
  CLI::App* kcreate = reg.Add(*keys, "create", "Issue an API key; prints it once (alone on stdout)",
                              [args](Session& s) { return CreateKey(s, *args); });
  kcreate->add_option("--name", args->name, "Key name (default \"default\")");
  kcreate->add_option("--user", args->user, "Another user's id (admins)");
  CLI::App* krevoke = reg.Add(*keys, "revoke", "Revoke an API key at once", [args](Session& s) {
    std::string path = KeysPath(*args) + "/" + EncodePathSegment(args->id);
    return SendDelete(s, path, "revoked key", args->id);
  });
  krevoke->add_option("KEY_ID", args->id, "Key id (key_...)")->required();
  krevoke->add_option("--user", args->user, "Another user's id (admins)");

  // --- me ---
  reg.Add(root, "me", "Who the API key belongs to: user, role, teams, permissions",
          [](Session& s) { return SendAndShow(s, "GET", "/admin/v1/me", {}); });
}

}  // namespace mg::cli
