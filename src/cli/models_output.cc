#include "cli/models_output.h"

#include <boost/json/value.hpp>

#include "cli/json_cells.h"
#include "cli/table.h"

namespace mg::cli {
namespace {

namespace json = boost::json;

// Provider messages run to a few hundred characters; tables show the start, the "key: value"
// block and --json the whole text.
constexpr size_t kMessageWidth = 72;

const json::array* ArrayAt(const json::value& v, std::string_view path) {
  const json::value* a = Find(v, path);
  return a != nullptr && a->is_array() ? &a->as_array() : nullptr;
}

std::string CredentialCell(const json::value& m) {
  const json::value* is_inline = Find(m, "credential.inline");
  if (is_inline != nullptr && is_inline->is_bool() && is_inline->as_bool()) return "inline";
  std::string name = Cell(m, "credential.name");
  return name.empty() ? Cell(m, "credential.id") : name;
}

std::string TeamsCell(const json::value& m) {
  const json::value* all = Find(m, "team_access.all_teams");
  if (all != nullptr && all->is_bool() && all->as_bool()) return "all";
  return Cell(m, "team_access.teams");
}

}  // namespace

std::string RenderModelTable(const json::value& answer) {
  Table t({"ID", "PROVIDER MODEL", "REGION", "CREDENTIAL", "TEAMS", "HEALTH", "IN POOL"});
  if (const json::array* models = ArrayAt(answer, "models")) {
    for (const json::value& m : *models) {
      t.AddRow({Cell(m, "id"), Cell(m, "provider_model_id"), Cell(m, "region"), CredentialCell(m),
                TeamsCell(m), Cell(m, "health.status"), Cell(m, "health.in_pool")});
    }
  }
  return t.Render();
}

std::string RenderCatalogTable(const json::value& answer) {
  Table t(
      {"PROVIDER MODEL", "NAME", "VENDOR", "LIFECYCLE", "STREAMING", "INPUT", "OUTPUT", "ADDED"});
  if (const json::array* models = ArrayAt(answer, "models")) {
    for (const json::value& m : *models) {
      t.AddRow({Cell(m, "provider_model_id"), Cell(m, "name"), Cell(m, "vendor"),
                Cell(m, "lifecycle"), Cell(m, "streaming"), Cell(m, "input_modalities"),
                Cell(m, "output_modalities"), Cell(m, "added")});
    }
  }
  return t.Render();
}

std::string RenderHealthTable(const json::value& answer) {
  Table t({"ID", "STATUS", "IN POOL", "CAUSE", "LAST CHECKED", "NEXT CHECK", "MESSAGE"});
  t.LimitWidth(6, kMessageWidth);
  if (const json::array* models = ArrayAt(answer, "models")) {
    for (const json::value& m : *models) {
      t.AddRow({Cell(m, "id"), Cell(m, "health.status"), Cell(m, "health.in_pool"),
                Cell(m, "health.cause"), Cell(m, "health.last_checked_at"),
                Cell(m, "health.next_check_at"), Cell(m, "health.message")});
    }
  }
  return t.Render();
}

std::string RenderHealthReport(const json::value& answer) {
  // The health object is "health" (GET .../health also spreads it at the top level).
  const json::value* nested = Find(answer, "health");
  const json::value& h = nested != nullptr && nested->is_object() ? *nested : answer;
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", Cell(answer, "id")},
      {"name", Cell(answer, "name")},
      {"provider model", Cell(answer, "provider_model_id")},
      {"region", Cell(answer, "region")},
      {"credential", CredentialCell(answer)},
      {"teams", TeamsCell(answer)},
  };
  if (Find(answer, "lifecycle") != nullptr)
    fields.emplace_back("lifecycle", Cell(answer, "lifecycle"));
  fields.insert(fields.end(), {{"status", HealthStatusOf(answer)},
                               {"in pool", Cell(h, "in_pool")},
                               {"cause", Cell(h, "cause")},
                               {"message", Cell(h, "message")},
                               {"last checked", Cell(h, "last_checked_at")},
                               {"next check", Cell(h, "next_check_at")},
                               {"cooldown until", Cell(h, "cooldown_until")}});
  std::string out = RenderFields(fields);
  if (const json::array* checks = ArrayAt(answer, "checks")) {
    Table t({"AT", "STATUS", "LATENCY MS", "CAUSE", "MESSAGE"});
    t.LimitWidth(4, kMessageWidth);
    for (const json::value& c : *checks) {
      t.AddRow({Cell(c, "at"), Cell(c, "status"), Cell(c, "latency_ms"), Cell(c, "cause"),
                Cell(c, "message")});
    }
    out += "\nrecent checks:\n" + t.Render();
  }
  return out;
}

std::string HealthStatusOf(const json::value& answer) {
  for (std::string_view path : {"health.status", "status", "check.status"}) {
    const json::value* v = Find(answer, path);
    if (v != nullptr && v->is_string()) return std::string(v->as_string());
  }
  return {};
}

}  // namespace mg::cli
