// @file health_monitor.h
// @brief HealthMonitor: checks every configured model periodically and takes unhealthy ones out
// of the pool until they answer again (issue [4/6], admin-api "Health", bedrock.md §9).
//
// - Scheduling: one scheduler coroutine on the monitor's own executor (a dedicated io_context
//   thread, never a request thread) keeps a priority queue of due times and one timer for the
//   earliest, so idle cost does not grow with the number of models. Each model is checked every
//   `interval` (a little earlier by jitter), first right after it is added or its credential,
//   region or provider model id changes; models known at start-up are spread over one interval.
//   At most `concurrency` probes run at once and one per model. An unhealthy model is probed
//   again after `cooldown`, doubling on each further failure up to `interval`; a throttled one
//   after the provider's retry hint. A healthy model that served a real request successfully
//   since its last check counts that as its check (no probe).
// - Probe: Provider::Probe with the model's credential, region and provider model id (the same
//   signing, translation and transport as real traffic); retries inside one check are the
//   provider's.
// - Passive detection: RecordOutcome() is told about every real upstream call. Failures that
//   implicate the model or its credentials take it out of the pool at once (credentials and
//   permissions: one failure; provider faults, timeouts, network, model missing or retired:
//   `passive_threshold` in a row); throttling marks it throttled but keeps it in the pool.
// - Health is per model, so it is scoped to the model's own credential and region: one broken
//   credential never touches another credential's models.
// - Persistence: each check and state is written with Store::RecordHealth on the store thread
//   pool (never on the monitor's thread), in order, one writer; transitions (status or cause
//   changes) also write an audit event (actor "system", "health.healthy" / "health.unhealthy").
// - Metrics: modelgate_models{status}, modelgate_health_probe_seconds,
//   modelgate_health_probes_total{outcome}.
//
// Thread-safety: every public member function is thread-safe. InPool, PoolState and
// RecordOutcome are for the request path: lock-free apart from one atomic shared_ptr load, they
// never wait for a probe or a store write. State takes a per-model lock held only to copy.
// Lifetime: app/ owns the monitor; the io_context, provider(s), store, store pool, clock and
// metrics must outlive it, and the io_context must not run the monitor's handlers after its
// destruction (stop Run() first: cancel it and let it finish).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/result.h"
#include "health/health_state_machine.h"
#include "providers/provider.h"
#include "state/snapshot.h"
#include "store/records.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace mg::server {
class Metrics;
}  // namespace mg::server

namespace mg::health {

struct HealthMonitorOptions {
  std::chrono::milliseconds interval{std::chrono::minutes(5)};   // --health-interval
  std::chrono::milliseconds cooldown{std::chrono::seconds(60)};  // --health-cooldown
  int concurrency = 16;       // probes in flight at once (health_concurrency)
  int history = 50;           // checks kept per model (health_history)
  // See Policy::passive_threshold; 0 turns passive detection off (real failures are ignored).
  int passive_threshold = 3;
  double jitter = 0.1;        // see Policy::jitter
  // Spread the first checks of models that already had a state at start-up over one interval
  // (models without one are checked at once).
  bool spread_start = true;
  // Safety net around Provider::Probe (which has its own deadlines and retries): a probe still
  // running after this long is cancelled and recorded as a timeout.
  std::chrono::milliseconds probe_deadline{std::chrono::minutes(2)};
  // Seed of the jitter generator; 0 picks a random one.
  uint64_t seed = 0;
  // How long the store writer waits to gather checks into one transaction (one commit and one
  // fsync for many checks). Writes someone waits for (an admin "check now") and shutdown do not
  // wait. 0: write as soon as something is queued.
  std::chrono::milliseconds write_coalesce{0};
};

// The provider serving a provider id ("bedrock"), or null when none is available.
using ProviderLookup = std::function<providers::Provider*(std::string_view provider_id)>;

// For the data plane's 503: whether the model is in the pool and, when not, how long until it
// is probed again (cooldown_until, else next_check_at; zero when unknown or past).
struct PoolStatus {
  bool in_pool = true;
  std::chrono::milliseconds retry_after{0};
};

// The result of CheckNow: the model's health after the check, and the check itself.
struct CheckOutcome {
  store::HealthState state;
  store::HealthCheck check;
};

class HealthMonitor {
 public:
  // All references must outlive the monitor (see the file comment). Probes, timers and the
  // scheduler run on a strand of `io`.
  HealthMonitor(boost::asio::io_context& io, ProviderLookup providers, store::Store& store,
                boost::asio::thread_pool& store_pool, const Clock& clock, server::Metrics& metrics,
                HealthMonitorOptions options);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // --- Request path (any thread; cheap, never blocks) -----------------------------------------
  // False when the model is out of the pool. Models the monitor does not know are in the pool.
  bool InPool(std::string_view model_id) const;
  PoolStatus PoolState(std::string_view model_id) const;
  // One completed real upstream call of `model_id`: `error` null on success. Changes of state
  // it causes are applied on the monitor's executor and persisted asynchronously; a model taken
  // out of the pool is out for the very next request.
  void RecordOutcome(const std::string& model_id, const Error* error,
                     std::chrono::milliseconds latency);

  // --- Admin reads (any thread) ---------------------------------------------------------------
  // The live health of a model, or nullopt when the monitor does not know it (yet).
  std::optional<store::HealthState> State(std::string_view model_id) const;

  // --- Configuration and triggers (any thread; applied on the monitor's executor in order) ----
  // Learns added, removed and changed models. Models new to the monitor start from their stored
  // state in `snapshot->health()` (so a restart keeps what was known), or `unknown` and due at
  // once. A changed credential id, credential version (updated_at, secret_rotated_at), region or
  // provider model id makes a check due at once (a probe in flight for the old configuration is
  // discarded). Removed models are forgotten.
  void OnSnapshot(std::shared_ptr<const state::Snapshot> snapshot);
  // Probes every model of the credential now (within the concurrency bound).
  void CheckCredentialNow(std::string credential_id);
  // Probes these models now (unknown ids are ignored).
  void CheckModelsNow(std::vector<std::string> model_ids);
  // Probes the model now (joining a probe already in flight for it) and completes once the
  // check is recorded in the store. May be awaited from any executor. Errors: 404
  // model_not_found when the monitor does not know the model, 503 health_monitor_stopped after
  // shutdown began.
  boost::asio::awaitable<Result<CheckOutcome>> CheckNow(std::string model_id);

  // --- Lifecycle ------------------------------------------------------------------------------
  // The scheduler: runs on the monitor's executor until cancelled (the server's task group
  // cancels it at shutdown), then cancels probes in flight, lets queued store writes finish
  // (bounded) and returns. May be awaited from any executor. Call once.
  boost::asio::awaitable<void> Run();

  // --- Test hooks -----------------------------------------------------------------------------
  // Launches the checks that are due by the clock now, as the scheduler does when its timer
  // fires (for tests with a fake clock, which do not call Run()). Runs on the executor.
  void RunOnce();
  // Probes in flight plus store writes queued or running.
  size_t PendingWork() const;
  // Probes in flight.
  size_t ProbesInFlight() const;

 private:
  struct Impl;
  // shared_ptr: coroutines and handlers on the executor keep the implementation alive until
  // they finish.
  std::shared_ptr<Impl> impl_;
};

}  // namespace mg::health
