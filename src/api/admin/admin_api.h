// @file admin_api.h
// @brief The management API of admin-api.md under /admin/v1/: providers, catalogs, credentials,
// teams, users, API keys, me, audit (models and usage arrive with the data plane).
//
// Handlers authenticate against the current snapshot on the I/O thread, then run validation,
// the store transaction and the snapshot rebuild on the store thread pool (never blocking an
// I/O thread), so a change is visible to the next request once its response is sent.
// Thread-safety: AdminApi is immutable after construction; handlers may run concurrently.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/session.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/secret.h"
#include "server/http.h"
#include "state/publisher.h"
#include "store/store.h"

namespace mg::api::admin {

// What the admin API knows about a provider (admin-api "Providers").
struct ProviderInfo {
  std::string id;
  std::string name;
  bool available = false;
  // Credentials can be stored before the provider is available end to end (issue [1/6] builds
  // the vault for Bedrock before its runtime lands); models still need `available`.
  bool accepts_credentials = false;
  std::vector<std::string> auth_types;
  std::vector<std::string> regions;
};

// Results of asking a provider about credentials (catalog, credential test). Implemented by the
// provider layer; absent for providers that are not available yet.
struct CatalogEntry {
  std::string provider_model_id, name, vendor, lifecycle;
  std::vector<std::string> input_modalities, output_modalities;
  bool streaming = false;
  bool chat_capable = true;
};
struct CredentialTestResult {
  bool ok = false;
  int64_t models_visible = 0;
  std::string cause;
  std::string message;
};
// Credentials as the provider needs them: a stored record plus opened secrets.
struct ResolvedCredential {
  store::Credential record;
  Secret secret_access_key;
  Secret session_token;
};
class ProviderGateway {
 public:
  virtual ~ProviderGateway() = default;
  virtual boost::asio::awaitable<Result<std::vector<CatalogEntry>>> ListCatalog(
      ResolvedCredential credential, std::string region) = 0;
  virtual boost::asio::awaitable<CredentialTestResult> TestCredential(
      ResolvedCredential credential, std::string region) = 0;
};

// What an on-demand health check found: the model's health after it, and the check.
struct HealthCheckResult {
  store::HealthState state;
  store::HealthCheck check;
};

struct Deps {
  store::Store& store;
  state::SnapshotPublisher& publisher;
  boost::asio::thread_pool& store_pool;
  const Clock& clock;
  const config::Config& config;
  // Seals a secret with the vault, bound to `aad` (state::SecretAad).
  std::function<store::SealedSecret(const Secret&, std::string_view aad)> seal;
  std::vector<ProviderInfo> providers;
  // Provider id -> gateway, for available providers only.
  std::function<ProviderGateway*(std::string_view provider)> gateway;
  // Called after a credential's auth changed (health re-check of its models). May be empty.
  std::function<void(const std::string& credential_id)> on_credential_changed;
  // Called after models were added or their credential/region changed (first check at once).
  std::function<void(const std::vector<std::string>& model_ids)> on_models_changed;
  // Writes queued usage records to the store (blocking; called on the store pool before usage
  // is summed, so an answer includes every request already answered). May be empty.
  std::function<void()> flush_usage;
  // The live health of a model (the health monitor's view); empty = use the stored state.
  std::function<std::optional<store::HealthState>(std::string_view model_id)> health_state;
  // Runs a health check of the model now (joining one in flight) and completes once it is
  // recorded (POST /models/{id}/health-check). Empty: 503, no health monitor.
  std::function<boost::asio::awaitable<Result<HealthCheckResult>>(std::string model_id)> check_now;
  // The model's most recent checks, newest first (blocking: called on the store pool). Empty =
  // the store's ListHealthChecks.
  std::function<Result<std::vector<store::HealthCheck>>(std::string_view model_id, int limit)>
      health_history;
  // Browser sessions of the web console: when set, the session cookie authenticates too
  // (auth::AuthenticateRequest). May be null (Bearer keys only).
  auth::SessionStore* sessions = nullptr;
};

// Registers every /admin/v1 route on `router`. `deps` must outlive the router.
void RegisterRoutes(server::Router& router, Deps& deps);

}  // namespace mg::api::admin
