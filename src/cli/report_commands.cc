// `modelgate providers list`, `health`, `audit` and `usage` (admin-api "Providers", "Health",
// "Audit log"; GET /admin/v1/usage).
#include <boost/json/value.hpp>
#include <cctype>

#include "cli/command.h"
#include "cli/encoding.h"
#include "cli/exit_codes.h"
#include "cli/json_cells.h"
#include "cli/models_output.h"
#include "cli/table.h"

namespace mg::cli {
namespace {

namespace json = boost::json;

struct ReportArgs {
  int limit = 0;
  std::string group_by;
  std::string since;
};

int Providers(Session& s) {
  return s.Show(s.Call("GET", "/admin/v1/providers"), [](const json::value& v) {
    return RenderList(v, "providers",
                      {{"ID", "id"},
                       {"NAME", "name"},
                       {"STATUS", "status"},
                       {"AUTH TYPES", "auth_types"},
                       {"REGIONS", "regions"}},
                      72);
  });
}

// Every model's health in one table; exit 7 when any model is unhealthy.
int Health(Session& s) {
  auto r = s.Call("GET", "/admin/v1/models");
  if (r.exit_code != kExitOk) return r.exit_code;
  auto v = s.ParseBody(r.body);
  if (!v) return kExitApiError;
  if (s.json()) {
    s.PrintRaw(r.body);
  } else {
    s.io().out << RenderHealthTable(*v);
  }
  bool any_unhealthy = false;
  if (const json::value* models = Find(*v, "models"); models != nullptr && models->is_array()) {
    for (const json::value& m : models->as_array()) {
      any_unhealthy = any_unhealthy || Cell(m, "health.status") == "unhealthy";
    }
  }
  return any_unhealthy ? kExitCheckFailed : kExitOk;
}

int Audit(Session& s, const ReportArgs& a) {
  std::string query = QueryString({{"limit", a.limit > 0 ? std::to_string(a.limit) : ""}});
  return s.Show(s.Call("GET", "/admin/v1/audit" + query), [](const json::value& v) {
    return RenderList(v, "events",
                      {{"AT", "at"},
                       {"ACTOR", "actor"},
                       {"ACTION", "action"},
                       {"TARGET", "target"},
                       {"DETAILS", "details"}},
                      100);
  });
}

int Usage(Session& s, const ReportArgs& a) {
  // The server reads `since` as an RFC 3339 time or a duration back from now.
  std::string query = QueryString({{"group_by", a.group_by}, {"since", a.since}});
  return s.Show(s.Call("GET", "/admin/v1/usage" + query), [](const json::value& v) {
    std::string group = Cell(v, "group_by");
    for (char& c : group) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return RenderList(v, "rows",
                      {{group.empty() ? "KEY" : group, "key"},
                       {"NAME", "name"},
                       {"REQUESTS", "requests"},
                       {"ERRORS", "errors"},
                       {"INPUT TOKENS", "input_tokens"},
                       {"OUTPUT TOKENS", "output_tokens"}});
  });
}

}  // namespace

void AddReportCommands(CLI::App& root, Registry& reg) {
  // Shared by the run functions of these leaves, which the registry holds (one runs).
  auto args = std::make_shared<ReportArgs>();

  CLI::App* providers = root.add_subcommand("providers", "Providers and their status");
  providers->require_subcommand(1);
  reg.Add(*providers, "list", "List providers, their auth types and regions",
          [](Session& s) { return Providers(s); });

  reg.Add(root, "health", "Every model's health in one table (exit 7 when any is unhealthy)",
          [](Session& s) { return Health(s); });

  CLI::App* audit = reg.Add(root, "audit", "The audit log, newest first",
                            [args](Session& s) { return Audit(s, *args); });
  audit->add_option("--limit", args->limit, "How many events (1-1000; server default 100)")
      ->check(CLI::Range(1, 1000));

  CLI::App* usage = reg.Add(root, "usage", "Requests and tokens per model, team or user",
                            [args](Session& s) { return Usage(s, *args); });
  usage->add_option("--group-by", args->group_by, "model, team or user")
      ->required()
      ->check(CLI::IsMember({"model", "team", "user"}));
  usage->add_option("--since", args->since,
                    "From this time (RFC 3339, e.g. 2026-12-01T00:00:00Z) or this long ago "
                    "(24h, 7d); server default 30 days");
}

}  // namespace mg::cli
