// @file models_output.h
// @brief Human renderings of model answers (admin-api "Models", "Catalog", "Health"), shared by
// `models ...` and `health`. Each takes the parsed answer and returns the text to print.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/fwd.hpp>
#include <string>

namespace mg::cli {

// {"models": [...]}: ID, PROVIDER MODEL, REGION, CREDENTIAL (its name, or "inline"), TEAMS
// ("all" or the teams' names), HEALTH, IN POOL.
std::string RenderModelTable(const boost::json::value& answer);

// {"region", "models": [...]} of a catalog: PROVIDER MODEL, NAME, VENDOR, LIFECYCLE, STREAMING,
// INPUT, OUTPUT, ADDED.
std::string RenderCatalogTable(const boost::json::value& answer);

// {"models": [...]} as one health table: ID, STATUS, IN POOL, CAUSE, LAST CHECKED,
// NEXT CHECK, MESSAGE.
std::string RenderHealthTable(const boost::json::value& answer);

// A model's health answer (GET .../health or POST .../health-check): the model (id, name,
// provider model, region, credential, teams, lifecycle when given) and its health (status,
// in pool, cause, message, last/next check, cooldown) as "key: value" lines, then its "checks"
// (when present) as a table AT, STATUS, LATENCY MS, CAUSE, MESSAGE.
std::string RenderHealthReport(const boost::json::value& answer);

// The health status in a health answer: "health.status", else "status", else
// "check.status"; "" when none. (The check's own result is the state it produced, which
// "health" carries too.)
std::string HealthStatusOf(const boost::json::value& answer);

}  // namespace mg::cli
