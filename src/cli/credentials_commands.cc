// `modelgate credentials list|get|add|update|delete|test` (admin-api "Credentials").
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

constexpr std::string_view kBase = "/admin/v1/credentials";

struct CredentialArgs {
  std::string id;
  std::string name;
  std::string provider = "bedrock";
  std::string region;
  AuthFlags auth;
};

std::string AuthCell(const json::value& c) {
  std::string type = Cell(c, "auth.type");
  if (type == "access_keys") return type + " " + Cell(c, "auth.access_key_id");
  if (type == "role_arn") return type + " " + Cell(c, "auth.role_arn");
  return type;
}

std::string CountCell(const json::value& c, std::string_view path) {
  const json::value* v = Find(c, path);
  return v != nullptr && v->is_array() ? std::to_string(v->as_array().size()) : std::string();
}

int List(Session& s) {
  return s.Show(s.Call("GET", kBase), [](const json::value& v) {
    Table t({"ID", "NAME", "PROVIDER", "REGION", "AUTH", "MODELS", "ROTATION DUE"});
    if (const json::value* list = Find(v, "credentials"); list != nullptr && list->is_array()) {
      for (const json::value& c : list->as_array()) {
        t.AddRow({Cell(c, "id"), Cell(c, "name"), Cell(c, "provider"), Cell(c, "region"),
                  AuthCell(c), CountCell(c, "models"), Cell(c, "rotation_due")});
      }
    }
    return t.Render();
  });
}

int Get(Session& s, const CredentialArgs& a) {
  auto r = s.Call("GET", PathWithIds(kBase, {a.id}));
  if (r.exit_code != kExitOk) return r.exit_code;
  return s.Show(r, RenderObject);
}

int Add(Session& s, const CredentialArgs& a) {
  auto auth = ReadAuth(a.auth, s.io());
  if (!auth) return s.Fail(kExitUsage, auth.error().message);
  if (!*auth) {
    return s.Fail(kExitUsage,
                  "give --access-key-id with --secret-access-key-stdin (or -file), "
                  "or --role-arn");
  }
  json::object body{{"name", a.name},
                    {"provider", a.provider},
                    {"region", a.region},
                    {"auth", std::move(**auth)}};
  auto r = s.Call("POST", kBase, json::serialize(body));
  if (r.exit_code != kExitOk) return r.exit_code;
  return s.Show(r, RenderObject);
}

int Update(Session& s, const CredentialArgs& a) {
  auto auth = ReadAuth(a.auth, s.io());
  if (!auth) return s.Fail(kExitUsage, auth.error().message);
  json::object body;
  if (!a.name.empty()) body["name"] = a.name;
  if (!a.region.empty()) body["region"] = a.region;
  if (*auth) body["auth"] = std::move(**auth);
  if (body.empty()) {
    return s.Fail(kExitUsage, "nothing to change: give --name, --region or new auth flags");
  }
  auto r = s.Call("PATCH", PathWithIds(kBase, {a.id}), json::serialize(body));
  if (r.exit_code != kExitOk) return r.exit_code;
  return s.Show(r, RenderObject);
}

int Delete(Session& s, const CredentialArgs& a) {
  auto r = s.Call("DELETE", PathWithIds(kBase, {a.id}));
  if (r.exit_code != kExitOk) return r.exit_code;
  if (!s.json()) s.io().out << "deleted credential " << SanitizeCell(a.id) << '\n';
  return kExitOk;
}

// A saved credential by id or name, or inline auth before saving anything.
int Test(Session& s, const CredentialArgs& a) {
  auto auth = ReadAuth(a.auth, s.io());
  if (!auth) return s.Fail(kExitUsage, auth.error().message);
  Session::Reply r;
  if (!a.id.empty()) {
    if (*auth) return s.Fail(kExitUsage, "give a saved credential ID or auth flags, not both");
    r = s.Call("POST", PathWithIds(kBase, {a.id, "test"}), "{}");
  } else {
    if (!*auth || a.region.empty()) {
      return s.Fail(kExitUsage,
                    "give a saved credential ID, or --region with --access-key-id "
                    "and a secret flag (or --role-arn)");
    }
    json::object body{{"provider", a.provider}, {"region", a.region}, {"auth", std::move(**auth)}};
    r = s.Call("POST", std::string(kBase) + "/test", json::serialize(body));
  }
  if (r.exit_code != kExitOk) return r.exit_code;
  auto v = s.ParseBody(r.body);
  if (!v) return kExitApiError;
  const json::value* ok = Find(*v, "ok");
  bool passed = ok != nullptr && ok->is_bool() && ok->as_bool();
  if (s.json()) {
    s.PrintRaw(r.body);
  } else if (passed) {
    s.io().out << "ok: the credentials work; " << Cell(*v, "models_visible") << " models visible\n";
  } else {
    s.io().out << RenderFields(
        {{"ok", "no"}, {"cause", Cell(*v, "cause")}, {"message", Cell(*v, "message")}});
  }
  return passed ? kExitOk : kExitCheckFailed;
}

}  // namespace

void AddCredentialCommands(CLI::App& root, Registry& reg) {
  // Shared by the run functions of this group's leaves, which the registry holds; the flags of
  // whichever leaf the parse selects land here (one leaf runs per process).
  auto args = std::make_shared<CredentialArgs>();
  CLI::App* group = root.add_subcommand("credentials", "Named provider credentials");
  group->require_subcommand(1);

  reg.Add(*group, "list", "List the named credentials (never a secret)",
          [](Session& s) { return List(s); });

  CLI::App* get =
      reg.Add(*group, "get", "Show one credential", [args](Session& s) { return Get(s, *args); });
  get->add_option("ID", args->id, "Credential id or name")->required();

  CLI::App* add = reg.Add(*group, "add", "Save a named credential set",
                          [args](Session& s) { return Add(s, *args); });
  add->add_option("--name", args->name, "1-64 letters, digits, '-', '_', '.'")->required();
  add->add_option("--provider", args->provider, "Provider id (default bedrock)");
  add->add_option("--region", args->region, "Region, e.g. us-east-1")->required();
  AddAuthFlags(add, args->auth);

  CLI::App* update = reg.Add(*group, "update", "Rename, move or rotate a credential",
                             [args](Session& s) { return Update(s, *args); });
  update->add_option("ID", args->id, "Credential id or name")->required();
  update->add_option("--name", args->name, "New name");
  update->add_option("--region", args->region, "New region");
  AddAuthFlags(update, args->auth);

  CLI::App* del = reg.Add(*group, "delete", "Delete a credential no model uses",
                          [args](Session& s) { return Delete(s, *args); });
  del->add_option("ID", args->id, "Credential id or name")->required();

  CLI::App* test =
      reg.Add(*group, "test", "Ask the provider whether credentials work (exit 7 when not)",
              [args](Session& s) { return Test(s, *args); });
  test->add_option("ID", args->id, "Saved credential id or name (or give auth flags)");
  test->add_option("--provider", args->provider, "Provider id for inline auth (default bedrock)");
  test->add_option("--region", args->region, "Region for inline auth");
  AddAuthFlags(test, args->auth);
}

}  // namespace mg::cli
