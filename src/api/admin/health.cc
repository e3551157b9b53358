// Model health (admin-api "Models" / "Health"): GET /admin/v1/models/{id}/health (the health
// object, the model's identity and team access, and its recent checks, newest first) and
// POST /admin/v1/models/{id}/health-check (runs a check now and answers with its result). Also
// the one renderer of the `health` object, shared with the model list and detail.
#include <cstdlib>

#include "api/admin/admin_common.h"
#include "core/time.h"
#include "server/blocking.h"
#include "store/enum_names.h"

namespace mg::api::admin::detail {
namespace {

namespace asio = boost::asio;

json::value StringOrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

json::object RenderCheck(const store::HealthCheck& c) {
  json::object o;
  o["at"] = FormatRfc3339Millis(c.at);
  o["status"] = store::HealthStatusName(c.status);
  o["latency_ms"] = c.latency_ms;
  o["cause"] = StringOrNull(c.cause);
  o["message"] = StringOrNull(c.message);
  return o;
}

// ?limit=N: how many checks to list (1 .. health_history, default health_history).
Result<int> ChecksLimit(const Deps& d, const server::Request& req) {
  const int most = std::max(d.config.health_history, 1);
  MG_TRY(auto text, req.QueryParamChecked("limit"));
  if (!text) return most;
  char* end = nullptr;
  const long v = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || v < 1 || v > most) {
    return InvalidArgument("'limit' must be an integer from 1 to " + std::to_string(most) + ".",
                           "limit");
  }
  return static_cast<int>(v);
}

Result<std::vector<store::HealthCheck>> History(const Deps& d, const std::string& id, int limit) {
  if (d.health_history) return d.health_history(id, limit);
  return d.store.ListHealthChecks(id, limit);
}

// The GET /health document: the model's identity and team access, its `health` object (also
// spread at the top level, so the answer reads as the health object itself), and `checks`.
json::object RenderModelHealth(const Deps& d, const state::Snapshot& snap, const store::Model& m,
                               const json::object& health,
                               const std::vector<store::HealthCheck>& checks) {
  json::object o;
  o["id"] = m.id;
  o["name"] = m.name;
  o["provider"] = m.provider;
  o["provider_model_id"] = m.provider_model_id;
  o["region"] = m.region;
  o["lifecycle"] = StringOrNull(m.lifecycle);
  const state::CredentialEntry* c = snap.FindCredential(m.credential_id);
  if (c && c->record.is_inline) {
    o["credential"] = json::object{{"inline", true}};
  } else {
    o["credential"] =
        json::object{{"id", m.credential_id}, {"name", c ? c->record.name : std::string()}};
  }
  json::array teams;
  for (const auto& t : m.team_ids) teams.emplace_back(TeamRef(snap, t));
  o["team_access"] = json::object{{"all_teams", m.all_teams}, {"teams", std::move(teams)}};
  for (const auto& [key, value] : health) o[key] = value;
  o["health"] = health;
  json::array list;
  for (const auto& check : checks) list.emplace_back(RenderCheck(check));
  o["checks"] = std::move(list);
  return o;
}

Result<Reply> GetHealth(Deps& d, Call& call) {
  const std::string& id = call.req.path_params.at("id");
  auto snap = d.publisher.Current();
  const state::ModelEntry* m = snap->FindModel(id);
  if (!m) return NotFound("model_not_found", "No model '" + id + "'.");
  MG_TRY(int limit, ChecksLimit(d, call.req));
  MG_TRY(auto checks, History(d, id, limit));
  return JsonReply(200, RenderModelHealth(d, *snap, m->record, RenderHealth(d, *snap, id), checks));
}

asio::awaitable<Result<Reply>> RunHealthCheck(Deps& d, Call call) {
  const std::string id = call.req.path_params.at("id");
  if (!call.snap->FindModel(id)) co_return NotFound("model_not_found", "No model '" + id + "'.");
  // The body is optional; when given it must be an empty object (nothing to configure yet).
  if (!call.req.body.empty()) {
    auto body = ParseObject(call.req.body);
    if (!body) co_return body.error();
    if (auto ok = OnlyKeys(*body, {}); !ok) co_return ok.error();
  }
  if (!d.check_now) {
    co_return Error(ErrorCode::kUnavailable, "health_checks_unavailable",
                    "Health checks are not running on this gateway.");
  }
  auto outcome = co_await d.check_now(id);
  if (!outcome) co_return outcome.error();
  auto limit = ChecksLimit(d, call.req);
  if (!limit) co_return limit.error();
  const int n = *limit;
  co_return co_await server::RunBlocking(d.store_pool, [&]() -> Result<Reply> {
    auto snap = d.publisher.Current();
    const state::ModelEntry* m = snap->FindModel(id);
    if (!m) return NotFound("model_not_found", "No model '" + id + "'.");
    MG_TRY(auto checks, History(d, id, n));
    // The state the check produced, even if a newer event changed it since.
    json::object o =
        RenderModelHealth(d, *snap, m->record, RenderHealthState(outcome->state), checks);
    o["check"] = RenderCheck(outcome->check);
    return JsonReply(200, o);
  });
}

}  // namespace

json::object RenderHealthState(const store::HealthState& state) {
  json::object o;
  o["status"] = store::HealthStatusName(state.status);
  o["in_pool"] = state.in_pool;
  o["last_checked_at"] = OptTimeValue(state.last_checked_at);
  o["next_check_at"] = OptTimeValue(state.next_check_at);
  o["cause"] = StringOrNull(state.cause);
  o["message"] = StringOrNull(state.message);
  o["cooldown_until"] = OptTimeValue(state.cooldown_until);
  return o;
}

json::object RenderHealth(const Deps& d, const state::Snapshot& snap, const std::string& id) {
  std::optional<store::HealthState> h;
  if (d.health_state) h = d.health_state(id);
  if (!h) {
    for (const auto& s : snap.health()) {
      if (s.model_id == id) h = s;
    }
  }
  return RenderHealthState(h.value_or(store::HealthState{}));
}

void RegisterHealthRoutes(server::Router& r, Deps& d) {
  r.Add("GET", "/admin/v1/models/{id}/health",
        Sync(d, Need::kManageProviders, [&d](Call& call) { return GetHealth(d, call); }));
  r.Add("POST", "/admin/v1/models/{id}/health-check",
        Async(d, Need::kManageProviders,
              [&d](Call call) { return RunHealthCheck(d, std::move(call)); }));
}

}  // namespace mg::api::admin::detail
