// @file admin_common.h
// @brief Internal to api/admin: the authenticated-call wrapper, JSON input validation with
// param paths, rendering helpers. Includes Boost.JSON: include only from api/admin .cc files.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/admin/admin_api.h"
#include "state/snapshot.h"

namespace mg::api::admin::detail {

namespace json = boost::json;

// What a route requires beyond a valid key.
enum class Need { kAnyUser, kManageProviders, kManageUsers, kReadAudit };

struct Call {
  server::Request req;
  std::shared_ptr<const state::Snapshot> snap;  // the snapshot the caller was authenticated on
  state::Principal caller;
};

struct Reply {
  int status = 200;
  std::string body;  // JSON text; empty for 204
};

using SyncFn = std::function<Result<Reply>(Call&)>;
using AsyncFn = std::function<boost::asio::awaitable<Result<Reply>>(Call)>;

// Authenticates, checks `need`, then runs `fn` on the store pool (it may block) and renders the
// Reply or the contract error.
server::Handler Sync(Deps& deps, Need need, SyncFn fn);
// Same, but `fn` is a coroutine run on the I/O executor (it must not block; use RunBlocking).
server::Handler Async(Deps& deps, Need need, AsyncFn fn);

Reply JsonReply(int status, const json::value& v);
Reply NoContent();

// The body as a JSON object: 400 invalid_json when it does not parse or is not an object.
Result<json::object> ParseObject(std::string_view body);

// Field readers. A present field of the wrong type is 400 invalid_parameter with param = path.
Result<std::optional<std::string>> OptString(const json::object& o, std::string_view key,
                                             std::string_view path_prefix = {});
Result<std::string> ReqString(const json::object& o, std::string_view key,
                              std::string_view path_prefix = {});
Result<std::optional<bool>> OptBool(const json::object& o, std::string_view key,
                                    std::string_view path_prefix = {});
Result<std::optional<std::vector<std::string>>> OptStringArray(const json::object& o,
                                                               std::string_view key,
                                                               std::string_view path_prefix = {});
Result<const json::object*> OptObject(const json::object& o, std::string_view key,
                                      std::string_view path_prefix = {});
// Rejects members not in `allowed` (admin bodies are strict so typos do not pass silently).
Result<void> OnlyKeys(const json::object& o, std::initializer_list<std::string_view> allowed,
                      std::string_view path_prefix = {});

// Names of credentials: 1-64 of letters, digits, '-', '_', '.'.
Result<void> CheckName(std::string_view value, std::string_view param);

json::value TimeValue(SystemTime t);
json::value OptTimeValue(const std::optional<SystemTime>& t);

store::AuditEvent MakeAudit(const Call& call, SystemTime now, std::string action,
                            std::string target, json::object details);

// {"id","name"} of a team for renderings.
json::object TeamRef(const state::Snapshot& snap, const std::string& team_id);

// Registration of each resource's routes (one .cc each).
void RegisterProviderRoutes(server::Router& r, Deps& d);
void RegisterCredentialRoutes(server::Router& r, Deps& d);
void RegisterIdentityRoutes(server::Router& r, Deps& d);
void RegisterModelRoutes(server::Router& r, Deps& d);
void RegisterUsageRoutes(server::Router& r, Deps& d);
void RegisterHealthRoutes(server::Router& r, Deps& d);

// The admin-api `health` object of a model: the monitor's live view (Deps::health_state), else
// the snapshot's stored state, else `unknown`. Defined in health.cc.
json::object RenderHealth(const Deps& d, const state::Snapshot& snap, const std::string& id);
json::object RenderHealthState(const store::HealthState& state);

}  // namespace mg::api::admin::detail

namespace mg::api::admin::detail {

// A parsed `auth` object (admin-api credentials), secrets held as Secret.
struct ParsedAuth {
  store::AuthType type = store::AuthType::kAccessKeys;
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  // optional
  std::string role_arn;
  std::string session_name;  // optional
  std::string external_id;   // optional
};

// Validates `auth` (at `path`, e.g. "auth") against the provider's auth types.
Result<ParsedAuth> ParseAuth(const json::object& auth, std::string_view path,
                             const ProviderInfo& provider);
// Writes `auth` into `cred`, sealing secrets bound to cred.id (cred.id must be set).
void ApplyAuth(const Deps& d, const ParsedAuth& auth, store::Credential& cred);
// The provider named `id`: 400 invalid_parameter when unknown, 400 provider_not_available when
// coming soon.
Result<const ProviderInfo*> FindAvailableProvider(const Deps& d, std::string_view id,
                                                  std::string_view param,
                                                  bool for_credentials = false);
Result<void> CheckRegion(const ProviderInfo& p, std::string_view region, std::string_view param);
// Credentials for a provider call built from a parsed inline auth.
ResolvedCredential ResolveInline(const ParsedAuth& auth, std::string provider,
                                 std::string region);
ResolvedCredential ResolveStored(const state::CredentialEntry& c);
// Rebuilds the snapshot after a committed change (500 if the reload fails: the change is saved
// but not yet visible, which must not be reported as success).
Result<std::shared_ptr<const state::Snapshot>> Publish(Deps& d);
std::string_view AuthTypeText(store::AuthType t);

}  // namespace mg::api::admin::detail
