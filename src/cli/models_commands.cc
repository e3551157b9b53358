// `modelgate models catalog|list|get|add|update|delete|health|check` (admin-api "Models",
// "Catalog", "Health").
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cli/command.h"
#include "cli/encoding.h"
#include "cli/exit_codes.h"
#include "cli/json_cells.h"
#include "cli/models_output.h"
#include "cli/table.h"

namespace mg::cli {
namespace {

namespace json = boost::json;

constexpr std::string_view kBase = "/admin/v1/models";

struct ModelArgs {
  std::string id;
  std::string provider = "bedrock";
  std::string credential;
  std::string region;
  std::vector<std::string> models;  // provider model ids
  std::string new_id;               // --id (one model only)
  std::string name;
  std::vector<std::string> teams;
  bool all_teams = false;
  bool no_teams = false;
  AuthFlags auth;
};

std::optional<json::object> TeamAccess(const ModelArgs& a) {
  if (a.all_teams) return json::object{{"all_teams", true}};
  if (!a.teams.empty()) {
    json::array teams;
    for (const auto& t : a.teams) teams.emplace_back(t);
    return json::object{{"teams", std::move(teams)}};
  }
  if (a.no_teams) return json::object{{"teams", json::array()}};
  return std::nullopt;
}

// Puts either "credential" or inline "auth" into `body`; false (after printing) on a usage
// error.
bool PutCredential(Session& s, const ModelArgs& a, json::object& body, int& exit_code) {
  auto auth = ReadAuth(a.auth, s.io());
  if (!auth) {
    exit_code = s.Fail(kExitUsage, auth.error().message);
    return false;
  }
  if (*auth && !a.credential.empty()) {
    exit_code = s.Fail(kExitUsage, "give --credential or auth flags, not both");
    return false;
  }
  if (*auth) body["auth"] = std::move(**auth);
  if (!a.credential.empty()) body["credential"] = a.credential;
  return true;
}

int PrintModels(Session& s, const Session::Reply& r) { return s.Show(r, RenderModelTable); }

int Catalog(Session& s, const ModelArgs& a) {
  auto auth = ReadAuth(a.auth, s.io());
  if (!auth) return s.Fail(kExitUsage, auth.error().message);
  std::string path = PathWithIds("/admin/v1/providers", {a.provider, "catalog"});
  Session::Reply r;
  if (*auth) {
    if (!a.credential.empty())
      return s.Fail(kExitUsage, "give --credential or auth flags, not both");
    if (a.region.empty()) return s.Fail(kExitUsage, "--region is required with inline auth");
    json::object body{{"region", a.region}, {"auth", std::move(**auth)}};
    r = s.Call("POST", path, json::serialize(body));
  } else {
    if (a.credential.empty()) {
      return s.Fail(kExitUsage, "give --credential NAME (a saved credential) or auth flags");
    }
    r = s.Call("GET", path + QueryString({{"credential", a.credential}, {"region", a.region}}));
  }
  return s.Show(r, RenderCatalogTable);
}

int List(Session& s) {
  auto r = s.Call("GET", kBase);
  if (r.exit_code != kExitOk) return r.exit_code;
  return PrintModels(s, r);
}

int Get(Session& s, const ModelArgs& a) {
  auto r = s.Call("GET", PathWithIds(kBase, {a.id}));
  if (r.exit_code != kExitOk) return r.exit_code;
  return s.Show(r, RenderObject);
}

int Add(Session& s, const ModelArgs& a) {
  if ((!a.new_id.empty() || !a.name.empty()) && a.models.size() != 1) {
    return s.Fail(kExitUsage, "--id and --name apply to a single --model");
  }
  json::object body{{"provider", a.provider}};
  int exit_code = kExitOk;
  if (!PutCredential(s, a, body, exit_code)) return exit_code;
  if (!body.contains("credential") && !body.contains("auth")) {
    return s.Fail(kExitUsage, "give --credential NAME (a saved credential) or auth flags");
  }
  if (!a.region.empty()) body["region"] = a.region;
  json::array models;
  for (const auto& m : a.models) {
    json::object o{{"provider_model_id", m}};
    if (!a.new_id.empty()) o["id"] = a.new_id;
    if (!a.name.empty()) o["name"] = a.name;
    models.emplace_back(std::move(o));
  }
  body["models"] = std::move(models);
  if (auto access = TeamAccess(a)) body["team_access"] = std::move(*access);
  auto r = s.Call("POST", kBase, json::serialize(body));
  if (r.exit_code != kExitOk) return r.exit_code;
  return PrintModels(s, r);
}

int Update(Session& s, const ModelArgs& a) {
  json::object body;
  int exit_code = kExitOk;
  if (!PutCredential(s, a, body, exit_code)) return exit_code;
  if (!a.name.empty()) body["name"] = a.name;
  if (!a.region.empty()) body["region"] = a.region;
  if (auto access = TeamAccess(a)) body["team_access"] = std::move(*access);
  if (body.empty()) {
    return s.Fail(kExitUsage,
                  "nothing to change: give --name, --team/--all-teams/--no-teams, "
                  "--credential, auth flags or --region");
  }
  auto r = s.Call("PATCH", PathWithIds(kBase, {a.id}), json::serialize(body));
  if (r.exit_code != kExitOk) return r.exit_code;
  return s.Show(r, RenderObject);
}

int Delete(Session& s, const ModelArgs& a) {
  auto r = s.Call("DELETE", PathWithIds(kBase, {a.id}));
  if (r.exit_code != kExitOk) return r.exit_code;
  if (!s.json()) s.io().out << "deleted model " << SanitizeCell(a.id) << '\n';
  return kExitOk;
}

// `models health ID` (GET .../health) and `models check ID` (POST .../health-check).
int Health(Session& s, const ModelArgs& a, bool check_now) {
  auto r = check_now ? s.Call("POST", PathWithIds(kBase, {a.id, "health-check"}))
                     : s.Call("GET", PathWithIds(kBase, {a.id, "health"}));
  if (r.exit_code != kExitOk) return r.exit_code;
  auto v = s.ParseBody(r.body);
  if (!v) return kExitApiError;
  if (s.json()) {
    s.PrintRaw(r.body);
  } else {
    s.io().out << RenderHealthReport(*v);
  }
  return HealthStatusOf(*v) == "unhealthy" ? kExitCheckFailed : kExitOk;
}

}  // namespace

void AddModelCommands(CLI::App& root, Registry& reg) {
  // Shared by the run functions of this group's leaves, which the registry holds; the flags of
  // whichever leaf the parse selects land here (one leaf runs per process).
  auto args = std::make_shared<ModelArgs>();
  CLI::App* group = root.add_subcommand("models",
                                        "Models: the provider's catalog, added models, "
                                        "their team access and health");
  group->require_subcommand(1);

  CLI::App* catalog = reg.Add(*group, "catalog", "What the provider offers in a region",
                              [args](Session& s) { return Catalog(s, *args); });
  catalog->add_option("--provider", args->provider, "Provider id (default bedrock)");
  catalog->add_option("--credential", args->credential, "Saved credential id or name");
  catalog->add_option("--region", args->region, "Region (default: the credential's)");
  AddAuthFlags(catalog, args->auth);

  reg.Add(*group, "list", "List the added models with their health",
          [](Session& s) { return List(s); });

  CLI::App* get =
      reg.Add(*group, "get", "Show one model", [args](Session& s) { return Get(s, *args); });
  get->add_option("ID", args->id, "Model id")->required();

  CLI::App* add = reg.Add(*group, "add", "Add provider models with one credential and region",
                          [args](Session& s) { return Add(s, *args); });
  add->add_option("--provider", args->provider, "Provider id (default bedrock)");
  add->add_option("--credential", args->credential, "Saved credential id or name");
  add->add_option("--region", args->region, "Region (default: the credential's)");
  add->add_option("--model", args->models, "Provider model ids (one or more)")->required();
  add->add_option("--id", args->new_id, "Id clients use (one --model only; default: its id)");
  add->add_option("--name", args->name, "Display name (one --model only)");
  auto* team = add->add_option("--team", args->teams, "Teams (ids or names) that may use them");
  auto* all = add->add_flag("--all-teams", args->all_teams, "Share with every team");
  team->excludes(all);
  AddAuthFlags(add, args->auth);

  CLI::App* update = reg.Add(*group, "update", "Rename, re-share, move or re-credential a model",
                             [args](Session& s) { return Update(s, *args); });
  update->add_option("ID", args->id, "Model id")->required();
  update->add_option("--name", args->name, "New display name");
  update->add_option("--credential", args->credential, "Switch to this saved credential");
  update->add_option("--region", args->region, "New region");
  auto* uteam = update->add_option("--team", args->teams, "Share with exactly these teams");
  auto* uall = update->add_flag("--all-teams", args->all_teams, "Share with every team");
  auto* unone = update->add_flag("--no-teams", args->no_teams, "Share with no team");
  uteam->excludes(uall);
  uteam->excludes(unone);
  uall->excludes(unone);
  AddAuthFlags(update, args->auth);

  CLI::App* del =
      reg.Add(*group, "delete", "Remove a model", [args](Session& s) { return Delete(s, *args); });
  del->add_option("ID", args->id, "Model id")->required();

  CLI::App* health =
      reg.Add(*group, "health", "A model's health and recent checks (exit 7 when unhealthy)",
              [args](Session& s) { return Health(s, *args, false); });
  health->add_option("ID", args->id, "Model id")->required();

  CLI::App* check = reg.Add(*group, "check", "Check a model now (exit 7 when unhealthy)",
                            [args](Session& s) { return Health(s, *args, true); });
  check->add_option("ID", args->id, "Model id")->required();
}

}  // namespace mg::cli
