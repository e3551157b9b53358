// Usage (issue [3/6]): GET /admin/v1/usage?group_by=model|team|user&since=... sums the metered
// data-plane requests for admins. `since` is an RFC 3339 time or a duration back from now
// ("24h", "7d"); default 30 days.
#include "api/admin/admin_common.h"
#include "core/time.h"

namespace mg::api::admin::detail {
namespace {

constexpr std::chrono::hours kDefaultWindow{24 * 30};

Result<store::UsageGroupBy> ParseGroupBy(const std::optional<std::string>& v) {
  if (!v || *v == "model") return store::UsageGroupBy::kModel;
  if (*v == "team") return store::UsageGroupBy::kTeam;
  if (*v == "user") return store::UsageGroupBy::kUser;
  return InvalidArgument("'group_by' must be one of model, team, user.", "group_by");
}

Result<SystemTime> ParseSince(const std::optional<std::string>& v, SystemTime now) {
  if (!v) return now - kDefaultWindow;
  if (auto t = ParseRfc3339(*v)) return *t;
  if (auto d = ParseDuration(*v); d && d->count() > 0) return now - *d;
  return InvalidArgument(
      "'since' must be an RFC 3339 time (2026-12-01T00:00:00Z) or a duration such as 24h or "
      "7d.",
      "since");
}

// The display name of a group key, from the snapshot (empty for deleted objects or no team).
std::string NameOf(const state::Snapshot& snap, store::UsageGroupBy by, const std::string& key) {
  switch (by) {
    case store::UsageGroupBy::kModel:
      if (const state::ModelEntry* m = snap.FindModel(key)) return m->record.name;
      break;
    case store::UsageGroupBy::kTeam:
      if (const store::Team* t = snap.FindTeam(key)) return t->name;
      break;
    case store::UsageGroupBy::kUser:
      if (const store::User* u = snap.FindUser(key)) return u->name;
      break;
  }
  return {};
}

std::string_view GroupByText(store::UsageGroupBy by) {
  switch (by) {
    case store::UsageGroupBy::kModel: return "model";
    case store::UsageGroupBy::kTeam: return "team";
    case store::UsageGroupBy::kUser: return "user";
  }
  return "model";
}

}  // namespace

void RegisterUsageRoutes(server::Router& r, Deps& d) {
  r.Add("GET", "/admin/v1/usage", Sync(d, Need::kManageProviders, [&d](Call& call) -> Result<Reply> {
          MG_TRY(auto group_text, call.req.QueryParamChecked("group_by"));
          MG_TRY(auto since_text, call.req.QueryParamChecked("since"));
          MG_TRY(store::UsageGroupBy by, ParseGroupBy(group_text));
          MG_TRY(SystemTime since, ParseSince(since_text, d.clock.Now()));
          if (d.flush_usage) d.flush_usage();  // include what is still queued
          MG_TRY(auto rows, d.store.SumUsage(by, since));
          json::array out;
          for (const store::UsageRow& row : rows) {
            out.emplace_back(json::object{{"key", row.key},
                                          {"name", NameOf(*call.snap, by, row.key)},
                                          {"requests", row.requests},
                                          {"errors", row.errors},
                                          {"input_tokens", row.input_tokens},
                                          {"output_tokens", row.output_tokens}});
          }
          return JsonReply(200, json::object{{"group_by", GroupByText(by)},
                                             {"since", TimeValue(since)},
                                             {"rows", std::move(out)}});
        }));
}

}  // namespace mg::api::admin::detail
