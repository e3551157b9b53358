#include "health/health_monitor.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <unordered_map>
#include <variant>

#include "core/log.h"
#include "core/time.h"
#include "providers/json_text.h"
#include "server/blocking.h"
#include "server/metrics.h"
#include "store/enum_names.h"

namespace mg::health {
namespace {

namespace asio = boost::asio;
using asio::experimental::awaitable_operators::operator||;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using Strand = asio::strand<asio::io_context::executor_type>;

// The catalog lifecycle of a model ("ACTIVE", "LEGACY", "" when unknown). The one place that
// knows where it is recorded.
std::string_view Lifecycle(const store::Model& m) { return m.lifecycle; }

bool IsLegacy(const store::Model& m) { return Lifecycle(m) == "LEGACY"; }

int64_t SteadyNs(SteadyTime t) {
  return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count();
}

// What identifies the configuration a model is checked with: when any of it changes, what was
// learned no longer applies and the model is checked again at once. The views point into the
// snapshot the entry belongs to: a key is compared while both snapshots are held, never stored.
struct ConfigKey {
  std::string_view provider;
  std::string_view provider_model_id;
  std::string_view region;
  std::string_view credential_id;
  std::string_view credential_region;
  int64_t credential_updated_ms = 0;
  int64_t credential_rotated_ms = 0;
  bool operator==(const ConfigKey&) const = default;
};

ConfigKey KeyOf(const state::ModelEntry& m) {
  ConfigKey k;
  k.provider = m.record.provider;
  k.provider_model_id = m.record.provider_model_id;
  k.region = m.record.region;
  k.credential_id = m.record.credential_id;
  if (m.credential != nullptr) {
    k.credential_region = m.credential->record.region;
    k.credential_updated_ms = UnixMillis(m.credential->record.updated_at);
    k.credential_rotated_ms = UnixMillis(m.credential->record.secret_rotated_at);
  }
  return k;
}

// Someone waiting for the next probe of a model (CheckNow). The timer never expires by itself:
// it is cancelled to wake the waiter once `result` is set (or the monitor stops).
struct Waiter {
  explicit Waiter(const Strand& s) : timer(s) {
    timer.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer timer;
  std::optional<Result<CheckOutcome>> result;
};

// One model as the monitor tracks it.
struct Cell {
  explicit Cell(std::string id) : model_id(std::move(id)) {}
  const std::string model_id;

  // --- Read and written by the request path (any thread): atomics only. -----------------------
  std::atomic<bool> in_pool{true};
  std::atomic<int64_t> retry_at_ms{0};  // Unix ms of cooldown_until / next_check_at; 0 = none
  std::atomic<int64_t> last_success_steady_ns{0};  // last real success; 0 = none
  std::atomic<int64_t> last_success_wall_ms{0};
  std::atomic<int64_t> last_success_latency_ms{0};
  std::atomic<int> real_failures{0};         // consecutive failed real requests that count
  std::atomic<bool> passive_pending{false};  // a passive event is posted, not yet applied
  std::atomic<bool> throttled{false};

  // --- Admin reads (any thread). ----------------------------------------------------------------
  mutable std::mutex mu;
  store::HealthState published;  // guarded by mu

  // --- Owned by the monitor's strand. -----------------------------------------------------------
  store::HealthState health;
  std::shared_ptr<const state::Snapshot> snapshot;  // keeps `entry` alive
  const state::ModelEntry* entry = nullptr;  // null once removed
  bool legacy = false;
  uint64_t gen = 0;  // bumped when the configuration changes
  bool removed = false;
  bool probing = false;
  bool force_probe = false;  // the next check must probe (a trigger), not count real traffic
  uint64_t due_seq = 0;      // the live entry of the due queue
  int64_t last_check_steady_ns = 0;
  std::shared_ptr<asio::cancellation_signal> probe_signal;  // of the probe in flight
  std::vector<std::shared_ptr<Waiter>> waiters;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using CellMap = std::unordered_map<std::string, std::shared_ptr<Cell>, StringHash, std::equal_to<>>;

struct Due {
  SteadyTime at;
  uint64_t seq = 0;
  std::shared_ptr<Cell> cell;
};
struct DueLater {
  bool operator()(const Due& a, const Due& b) const {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

// A store write: the state, the check, the audit event of a transition, and who waits for it.
struct Write {
  store::HealthState state;
  std::optional<store::HealthCheck> check;
  std::optional<store::AuditEvent> audit;
  std::vector<std::shared_ptr<Waiter>> waiters;
};

void LogTaskFailure(std::string_view task, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::Error("health_task_failed", {{"task", task}, {"what", ex.what()}});
  } catch (...) {
    log::Error("health_task_failed", {{"task", task}, {"what", "unknown exception"}});
  }
}

std::string SourceName(Observation::Source s) {
  switch (s) {
    case Observation::Source::kProbe:
      return "probe";
    case Observation::Source::kRealSuccess:
      return "real_traffic";
    case Observation::Source::kPassiveFailure:
      return "passive";
  }
  return "probe";
}

void AppendMember(std::string& out, std::string_view key, std::string_view value,
                  bool null_if_empty) {
  if (out.size() > 1) out += ',';
  providers::AppendJsonString(out, key);
  out += ':';
  if (null_if_empty && value.empty()) {
    out += "null";
  } else {
    providers::AppendJsonString(out, value);
  }
}

std::string AuditDetails(const store::HealthState& before, const store::HealthState& after,
                         Observation::Source source) {
  std::string out = "{";
  AppendMember(out, "status", store::HealthStatusName(after.status), false);
  AppendMember(out, "cause", after.cause, true);
  AppendMember(out, "message", after.message, true);
  out += ",\"in_pool\":";
  out += after.in_pool ? "true" : "false";
  AppendMember(out, "previous_status", store::HealthStatusName(before.status), false);
  AppendMember(out, "previous_cause", before.cause, true);
  AppendMember(out, "source", SourceName(source), false);
  out += '}';
  return out;
}

}  // namespace

struct HealthMonitor::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_in, ProviderLookup providers_in, store::Store& store_in,
       asio::thread_pool& pool_in, const Clock& clock_in, server::Metrics& metrics_in,
       HealthMonitorOptions options_in)
      : strand(asio::make_strand(io_in)),
        providers(std::move(providers_in)),
        store(store_in),
        pool(pool_in),
        clock(clock_in),
        metrics(metrics_in),
        options(std::move(options_in)),
        wake_timer(strand),
        idle_timer(strand),
        batch_timer(strand),
        rng(options.seed != 0 ? options.seed : std::random_device{}()),
        models_unknown(metrics.Gauge("modelgate_models", "Configured models by health status.",
                                     {{"status", "unknown"}})),
        models_healthy(metrics.Gauge("modelgate_models", "Configured models by health status.",
                                     {{"status", "healthy"}})),
        models_unhealthy(metrics.Gauge("modelgate_models", "Configured models by health status.",
                                       {{"status", "unhealthy"}})),
        probe_seconds(metrics.Histogram("modelgate_health_probe_seconds",
                                        "Latency of health probes, in seconds.")),
        writes_coalesced(metrics.Counter(
            "modelgate_health_checks_superseded_total",
            "Health checks left out of the history because the store lagged behind and a newer "
            "check of the same model replaced them before they were written.")) {
    policy.interval = std::max(options.interval, milliseconds(1));
    policy.cooldown = std::max(options.cooldown, milliseconds(1));
    policy.passive_threshold = std::max(options.passive_threshold, 1);
    passive_detection = options.passive_threshold > 0;
    policy.jitter = options.jitter;
    options.concurrency = std::max(options.concurrency, 1);
    options.history = std::max(options.history, 1);
    cells.store(std::make_shared<const CellMap>());
    ProbeCounter("healthy");
  }

  // --- Construction-time members ---------------------------------------------------------------
  Strand strand;
  ProviderLookup providers;
  store::Store& store;
  asio::thread_pool& pool;
  const Clock& clock;
  server::Metrics& metrics;
  HealthMonitorOptions options;
  Policy policy;
  bool passive_detection = true;

  // The request path's view: replaced (never mutated) on the strand when the model set changes.
  std::atomic<std::shared_ptr<const CellMap>> cells;
  std::atomic<size_t> probes_in_flight{0};
  std::atomic<size_t> writes_pending{0};

  // --- Owned by the strand ---------------------------------------------------------------------
  std::priority_queue<Due, std::vector<Due>, DueLater> due;
  uint64_t due_counter = 0;
  asio::steady_timer wake_timer;  // the scheduler's sleep until the earliest due check
  SteadyTime timer_at = SteadyTime::max();
  asio::steady_timer idle_timer;  // shutdown: woken when probes and writes are done
  asio::steady_timer batch_timer;  // the writer's wait for more checks (write_coalesce)
  std::mt19937_64 rng;
  bool first_snapshot = true;
  bool running = false;
  bool stopping = false;
  int in_flight = 0;
  std::deque<Write> writes;
  // The newest queued (not yet started) write of each model, for coalescing.
  std::unordered_map<std::string, Write*> queued_by_model;
  bool writer_running = false;
  int64_t status_count[3] = {0, 0, 0};

  server::Gauge& models_unknown;
  server::Gauge& models_healthy;
  server::Gauge& models_unhealthy;
  server::Histogram& probe_seconds;
  server::Counter& writes_coalesced;
  std::map<std::string, server::Counter*, std::less<>> probes_total;  // strand

  // ---------------------------------------------------------------------------------------------

  server::Counter* ProbeCounter(std::string_view outcome) {
    auto it = probes_total.find(outcome);
    if (it != probes_total.end()) return it->second;
    server::Counter& c = metrics.Counter("modelgate_health_probes_total",
                                         "Health probes by outcome (healthy or the cause).",
                                         {{"outcome", std::string(outcome)}});
    probes_total.emplace(std::string(outcome), &c);
    return &c;
  }

  std::shared_ptr<Cell> Find(std::string_view id) const {
    auto map = cells.load(std::memory_order_acquire);
    auto it = map->find(id);
    return it == map->end() ? nullptr : it->second;
  }

  double Draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  void CountStatus(store::HealthStatus s, int64_t delta) {
    status_count[static_cast<int>(s)] += delta;
  }
  void UpdateGauges() {
    models_unknown.Set(static_cast<double>(status_count[0]));
    models_healthy.Set(static_cast<double>(status_count[1]));
    models_unhealthy.Set(static_cast<double>(status_count[2]));
  }

  // Makes the strand's state of `c` visible to the request path and admin reads.
  void Publish(Cell& c) {
    {
      std::lock_guard lock(c.mu);
      c.published = c.health;
    }
    int64_t retry_at = 0;
    if (c.health.cooldown_until) {
      retry_at = UnixMillis(*c.health.cooldown_until);
    } else if (c.health.next_check_at) {
      retry_at = UnixMillis(*c.health.next_check_at);
    }
    c.retry_at_ms.store(retry_at, std::memory_order_relaxed);
    c.throttled.store(
        c.health.status == store::HealthStatus::kUnhealthy && c.health.cause == cause::kThrottled,
        std::memory_order_relaxed);
    c.in_pool.store(c.health.in_pool, std::memory_order_release);
  }

  void Wake() {
    if (running) wake_timer.cancel();
  }

  void Schedule(const std::shared_ptr<Cell>& c, SteadyTime at) {
    c->due_seq = ++due_counter;
    due.push(Due{at, c->due_seq, c});
    if (at < timer_at) Wake();
  }

  bool RealSuccessCounts(const Cell& c) const {
    const bool eligible =
        c.health.status == store::HealthStatus::kHealthy ||
        (c.health.status == store::HealthStatus::kUnhealthy && c.health.cause == cause::kThrottled);
    if (!eligible) return false;
    const int64_t ns = c.last_success_steady_ns.load(std::memory_order_acquire);
    return ns != 0 && ns > c.last_check_steady_ns;
  }

  // Launches every check that is due, within the concurrency bound.
  void LaunchDue() {
    if (stopping) return;
    const SteadyTime now = clock.SteadyNow();
    while (!due.empty() && due.top().at <= now) {
      std::shared_ptr<Cell> cell = due.top().cell;
      const uint64_t seq = due.top().seq;
      if (cell->removed || seq != cell->due_seq || cell->probing) {
        // Superseded, or the probe in flight schedules the model's next check itself.
        due.pop();
        continue;
      }
      if (!cell->force_probe && RealSuccessCounts(*cell)) {
        due.pop();
        ApplyRealSuccess(cell);
        continue;
      }
      if (in_flight >= options.concurrency) break;  // a finishing probe calls us again
      due.pop();
      StartProbe(cell);
    }
  }

  SteadyTime NextWake() const {
    const SteadyTime now = clock.SteadyNow();
    if (due.empty() || in_flight >= options.concurrency) return now + std::chrono::hours(1);
    return due.top().at;
  }

  void ApplyRealSuccess(const std::shared_ptr<Cell>& cell) {
    Observation obs;
    obs.source = Observation::Source::kRealSuccess;
    obs.ok = true;
    obs.latency_ms = cell->last_success_latency_ms.load(std::memory_order_relaxed);
    obs.served_at = FromUnixMillis(cell->last_success_wall_ms.load(std::memory_order_relaxed));
    obs.legacy = cell->legacy;
    obs.region = cell->entry ? cell->entry->record.region : std::string();
    ApplyObservation(cell, obs);
  }

  void StartProbe(const std::shared_ptr<Cell>& cell) {
    cell->probing = true;
    ++in_flight;
    probes_in_flight.fetch_add(1, std::memory_order_relaxed);
    auto signal = std::make_shared<asio::cancellation_signal>();
    cell->probe_signal = signal;
    asio::co_spawn(strand, ProbeTask(shared_from_this(), cell, cell->gen),
                   asio::bind_cancellation_slot(signal->slot(), [signal](std::exception_ptr e) {
                     LogTaskFailure("health_probe", e);
                   }));
  }

  // Runs one probe of `cell` (configuration generation `gen`) and applies its result.
  static asio::awaitable<void> ProbeTask(std::shared_ptr<Impl> self, std::shared_ptr<Cell> cell,
                                         uint64_t gen) {
    Observation obs = co_await self->Probe(cell);
    self->FinishProbe(cell, gen, std::move(obs));
  }

  asio::awaitable<Observation> Probe(std::shared_ptr<Cell> cell) {
    Observation obs;
    obs.source = Observation::Source::kProbe;
    obs.legacy = cell->legacy;
    // Copies: the probe must not depend on the cell's fields, which a new snapshot may replace.
    std::shared_ptr<const state::Snapshot> snapshot = cell->snapshot;
    const state::ModelEntry* entry = cell->entry;
    obs.region = entry ? entry->record.region : std::string();
    providers::Provider* provider =
        entry && entry->credential ? providers(entry->record.provider) : nullptr;
    const SteadyTime start = clock.SteadyNow();
    if (provider == nullptr) {
      obs.cause = std::string(cause::kProviderUnavailable);
      obs.provider_message = "No provider '" + (entry ? entry->record.provider : std::string()) +
                             "' is available to this gateway";
      co_return obs;
    }
    try {
      asio::steady_timer deadline(strand);
      deadline.expires_after(options.probe_deadline);
      auto winner = co_await (provider->Probe(entry->credential->provider, entry->record.region,
                                              entry->record.provider_model_id) ||
                              deadline.async_wait(asio::use_awaitable));
      if (auto* r = std::get_if<0>(&winner)) {
        obs.ok = r->ok;
        obs.latency_ms = r->latency_ms;
        if (!r->ok) {
          const Error e = r->error.value_or(Error(ErrorCode::kUpstreamError, "upstream_error",
                                                  "the probe failed without an error"));
          obs.cause = e.health_cause;
          obs.provider_message = e.health_message.empty() ? e.message : e.health_message;
          obs.retry_after = e.retry_after;
        }
      } else {
        obs.cause = std::string(cause::kTimeout);
        obs.provider_message =
            "The health probe did not finish within " + FormatDuration(options.probe_deadline);
        obs.latency_ms =
            std::chrono::duration_cast<milliseconds>(clock.SteadyNow() - start).count();
      }
    } catch (const std::exception& e) {
      // Cancellation at shutdown (or a provider bug): recorded as a failed probe unless the
      // monitor is stopping, in which case FinishProbe drops it.
      obs.ok = false;
      obs.cause = std::string(cause::kProviderUnavailable);
      obs.provider_message = std::string("The health probe was interrupted: ") + e.what();
      obs.latency_ms = std::chrono::duration_cast<milliseconds>(clock.SteadyNow() - start).count();
    }
    co_return obs;
  }

  void FinishProbe(const std::shared_ptr<Cell>& cell, uint64_t gen, Observation obs) {
    --in_flight;
    probes_in_flight.fetch_sub(1, std::memory_order_relaxed);
    cell->probing = false;
    cell->probe_signal.reset();
    if (stopping || cell->removed) {
      NotifyIdle();
      return;
    }
    if (cell->gen != gen) {
      // The configuration changed while probing: this result is about the old one.
      if (!cell->waiters.empty()) {
        StartProbe(cell);
      } else {
        cell->force_probe = true;
        Schedule(cell, clock.SteadyNow());
      }
    } else {
      const double seconds = static_cast<double>(obs.latency_ms) / 1000.0;
      probe_seconds.Observe(seconds);
      ProbeCounter(
          obs.ok ? std::string_view("healthy")
                 : (obs.cause.empty() ? cause::kProviderUnavailable : std::string_view(obs.cause)))
          ->Inc();
      ApplyObservation(cell, obs);
    }
    LaunchDue();
    Wake();
  }

  void ApplyObservation(const std::shared_ptr<Cell>& cell, const Observation& obs) {
    const store::HealthState before = cell->health;
    const SystemTime now = clock.Now();
    const SteadyTime steady_now = clock.SteadyNow();
    const Transition t = Apply(before, obs, policy, now, Draw());
    cell->health = t.state;
    cell->last_check_steady_ns = SteadyNs(steady_now);
    cell->force_probe = false;
    if (t.state.in_pool && !before.in_pool) {
      cell->real_failures.store(0, std::memory_order_relaxed);
    }
    Publish(*cell);
    if (before.status != t.state.status) {
      CountStatus(before.status, -1);
      CountStatus(t.state.status, +1);
      UpdateGauges();
    }
    Schedule(cell, steady_now + t.next_check_in);

    Write w;
    w.state = t.state;
    w.check = t.check;
    if (t.is_transition) {
      // A model's first result (unknown -> healthy) is routine: every model added has one.
      const bool routine = before.status == store::HealthStatus::kUnknown &&
                           t.state.status == store::HealthStatus::kHealthy;
      log::Event(routine ? LogLevel::kDebug : LogLevel::kInfo, "health_transition",
                 {{"model", cell->model_id},
                  {"status", store::HealthStatusName(t.state.status)},
                  {"previous", store::HealthStatusName(before.status)},
                  {"cause", t.state.cause},
                  {"in_pool", t.state.in_pool},
                  {"source", SourceName(obs.source)}});
      store::AuditEvent audit;
      audit.at = now;
      audit.actor = "system";
      audit.action =
          t.state.status == store::HealthStatus::kHealthy ? "health.healthy" : "health.unhealthy";
      audit.target = cell->model_id;
      audit.details = AuditDetails(before, t.state, obs.source);
      w.audit = std::move(audit);
    } else {
      log::Debug("health_check", {{"model", cell->model_id},
                                  {"status", store::HealthStatusName(t.state.status)},
                                  {"cause", t.state.cause},
                                  {"source", SourceName(obs.source)}});
    }
    if (obs.source == Observation::Source::kProbe) {
      w.waiters = std::move(cell->waiters);
      cell->waiters.clear();
    }
    Enqueue(std::move(w));
  }

  // --- Passive detection (posted by RecordOutcome) ---------------------------------------------

  void OnRealFailure(const std::shared_ptr<Cell>& cell, const Error& error, int failures,
                     milliseconds latency, bool throttled) {
    cell->passive_pending.store(false, std::memory_order_relaxed);
    if (stopping || cell->removed) return;
    // Already out of the pool for another reason: nothing new to record.
    if (!throttled && !cell->health.in_pool) {
      Publish(*cell);
      return;
    }
    Observation obs;
    obs.source = Observation::Source::kPassiveFailure;
    obs.ok = false;
    obs.cause = error.health_cause;
    obs.provider_message = error.health_message.empty() ? error.message : error.health_message;
    obs.retry_after = error.retry_after;
    obs.latency_ms = latency.count();
    obs.failures = failures;
    obs.legacy = cell->legacy;
    obs.region = cell->entry ? cell->entry->record.region : std::string();
    ApplyObservation(cell, obs);
    if (!throttled) cell->real_failures.store(0, std::memory_order_relaxed);
  }

  // --- Persistence -----------------------------------------------------------------------------

  // Queues a write. While the store lags behind, a model's queued write that carries no audit
  // event is superseded by the newer one (its check is dropped from the history, the newest
  // state and check are kept), so the queue holds about one write per model at most.
  void Enqueue(Write w) {
    if (auto it = queued_by_model.find(w.state.model_id); it != queued_by_model.end()) {
      Write& queued = *it->second;
      if (!queued.audit) {
        queued.state = std::move(w.state);
        queued.check = std::move(w.check);
        queued.audit = std::move(w.audit);
        if (!w.waiters.empty()) batch_timer.cancel();  // someone waits: write now
        for (auto& waiter : w.waiters) queued.waiters.push_back(std::move(waiter));
        writes_coalesced.Inc();
        return;
      }
    }
    if (!w.waiters.empty()) batch_timer.cancel();  // someone waits: write now
    writes.push_back(std::move(w));
    // deque::push_back keeps references to the other elements valid.
    queued_by_model[writes.back().state.model_id] = &writes.back();
    writes_pending.fetch_add(1, std::memory_order_relaxed);
    if (!writer_running) {
      writer_running = true;
      asio::co_spawn(strand, Writer(shared_from_this()),
                     [](std::exception_ptr e) { LogTaskFailure("health_writer", e); });
    }
  }

  // Writes the queued records in order on the store pool, in batches: everything queued when
  // a batch starts (up to kMaxBatch) goes in one transaction, so one commit (and one fsync)
  // serves many checks.
  static constexpr size_t kMaxBatch = 512;
  static asio::awaitable<void> Writer(std::shared_ptr<Impl> self) {
    while (!self->writes.empty()) {
      if (self->ShouldGather()) {
        self->batch_timer.expires_after(self->options.write_coalesce);
        co_await self->batch_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      std::vector<Write> batch;
      while (!self->writes.empty() && batch.size() < kMaxBatch) {
        if (auto it = self->queued_by_model.find(self->writes.front().state.model_id);
            it != self->queued_by_model.end() && it->second == &self->writes.front()) {
          self->queued_by_model.erase(it);
        }
        batch.push_back(std::move(self->writes.front()));
        self->writes.pop_front();
      }
      std::vector<store::HealthRecord> records;
      records.reserve(batch.size());
      for (const Write& w : batch) records.push_back({w.state, w.check, w.audit});
      Result<size_t> r = Error(ErrorCode::kInternal, "health_write_failed", "not written");
      try {
        // Captures by reference only: `records` lives in this frame until the pool is done
        // with it (GCC 12 mishandles coroutine parameters that are lambdas owning non-trivial
        // copies).
        Impl* impl = self.get();
        r = co_await server::RunBlocking(self->pool, [impl, &records]() {
          return impl->store.RecordHealthBatch(records, impl->options.history);
        });
      } catch (const std::exception& e) {
        r = Error(ErrorCode::kInternal, "health_write_failed", e.what());
      }
      self->writes_pending.fetch_sub(batch.size(), std::memory_order_relaxed);
      if (!r) {
        log::Warn("health_write_failed",
                  {{"records", static_cast<uint64_t>(batch.size())},
                   {"message", r.error().message}});
      }
      for (Write& w : batch) {
        if (w.waiters.empty()) continue;
        CheckOutcome outcome{w.state, w.check.value_or(store::HealthCheck{})};
        for (const auto& waiter : w.waiters) {
          waiter->result = outcome;
          waiter->timer.cancel();
        }
      }
    }
    self->writer_running = false;
    self->NotifyIdle();
  }

  // Whether the writer should wait for more checks before its next batch.
  bool ShouldGather() const {
    if (options.write_coalesce.count() <= 0 || stopping || writes.size() >= kMaxBatch) {
      return false;
    }
    for (const Write& w : writes) {
      if (!w.waiters.empty()) return false;
    }
    return true;
  }

  void NotifyIdle() {
    if (stopping) idle_timer.cancel();
  }

  // --- Configuration ---------------------------------------------------------------------------

  SteadyTime InitialDue(const store::HealthState& stored, SystemTime wall, SteadyTime steady) {
    if (stored.status == store::HealthStatus::kUnknown) return steady;
    const milliseconds horizon =
        stored.status == store::HealthStatus::kHealthy
            ? policy.interval
            : BackoffDelay(std::max(stored.consecutive_failures, 1), policy);
    if (stored.next_check_at && *stored.next_check_at > wall &&
        *stored.next_check_at - wall <= horizon) {
      return steady + std::chrono::duration_cast<nanoseconds>(*stored.next_check_at - wall);
    }
    if (first_snapshot && options.spread_start) {
      const auto spread = static_cast<int64_t>(static_cast<double>(horizon.count()) * Draw());
      return steady + milliseconds(spread);
    }
    return steady;
  }

  void ApplySnapshot(const std::shared_ptr<const state::Snapshot>& snap) {
    const SystemTime wall = clock.Now();
    const SteadyTime steady = clock.SteadyNow();
    std::shared_ptr<const CellMap> old = cells.load(std::memory_order_acquire);
    auto next = std::make_shared<CellMap>();
    next->reserve(snap->models().size());
    std::unordered_map<std::string_view, const store::HealthState*> stored;
    for (const store::HealthState& h : snap->health()) stored.emplace(h.model_id, &h);

    for (const state::ModelEntry* m : snap->models()) {
      std::shared_ptr<Cell> cell;
      if (auto it = old->find(m->record.id); it != old->end()) {
        cell = it->second;
        const bool changed = !(KeyOf(*cell->entry) == KeyOf(*m));
        cell->snapshot = snap;
        cell->entry = m;
        cell->legacy = IsLegacy(m->record);
        if (changed && !stopping) {
          ++cell->gen;
          cell->health = ResetForRecheck(cell->health, wall);
          cell->force_probe = true;
          cell->real_failures.store(0, std::memory_order_relaxed);
          Publish(*cell);
          Schedule(cell, steady);
          log::Info("health_recheck", {{"model", cell->model_id}, {"reason", "config_changed"}});
        }
      } else {
        cell = std::make_shared<Cell>(m->record.id);
        cell->snapshot = snap;
        cell->entry = m;
        cell->legacy = IsLegacy(m->record);
        SteadyTime due_at = steady;
        if (auto s = stored.find(m->record.id);
            s != stored.end() && s->second->status != store::HealthStatus::kUnknown) {
          cell->health = *s->second;
          due_at = InitialDue(cell->health, wall, steady);
        } else {
          cell->health = store::HealthState{};
          cell->health.model_id = m->record.id;
          cell->force_probe = true;
        }
        cell->health.next_check_at =
            wall + std::chrono::duration_cast<SystemTime::duration>(due_at - steady);
        Publish(*cell);
        CountStatus(cell->health.status, +1);
        if (!stopping) Schedule(cell, due_at);
      }
      next->emplace(cell->model_id, cell);
    }
    for (const auto& [id, cell] : *old) {
      if (next->find(id) != next->end()) continue;
      cell->removed = true;
      CountStatus(cell->health.status, -1);
      if (cell->probe_signal) cell->probe_signal->emit(asio::cancellation_type::terminal);
      FailWaiters(*cell, NotFound("model_not_found", "No model '" + id + "'."));
      cell->snapshot.reset();
      cell->entry = nullptr;
    }
    cells.store(std::shared_ptr<const CellMap>(std::move(next)), std::memory_order_release);
    first_snapshot = false;
    UpdateGauges();
    // New and changed models are due now: check them without waiting for the scheduler's timer.
    LaunchDue();
  }

  void FailWaiters(Cell& c, const Error& e) {
    for (const auto& w : c.waiters) {
      w->result = Result<CheckOutcome>(e);
      w->timer.cancel();
    }
    c.waiters.clear();
  }

  void Trigger(const std::shared_ptr<Cell>& cell) {
    if (stopping || cell->removed) return;
    cell->force_probe = true;
    if (!cell->probing) Schedule(cell, clock.SteadyNow());
  }

  void TriggerCredential(const std::string& credential_id) {
    auto map = cells.load(std::memory_order_acquire);
    for (const auto& [id, cell] : *map) {
      if (cell->entry != nullptr && cell->entry->record.credential_id == credential_id) {
        Trigger(cell);
      }
    }
    LaunchDue();
  }

  void TriggerModels(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      if (auto cell = Find(id)) Trigger(cell);
    }
    LaunchDue();
  }

  static asio::awaitable<Result<CheckOutcome>> CheckNowOnStrand(std::shared_ptr<Impl> self,
                                                                std::string model_id) {
    std::shared_ptr<Cell> cell = self->Find(model_id);
    if (!cell || cell->removed)
      co_return NotFound("model_not_found", "No model '" + model_id + "'.");
    if (self->stopping) {
      co_return Error(ErrorCode::kUnavailable, "health_monitor_stopped",
                      "The gateway is shutting down; health checks have stopped.");
    }
    auto waiter = std::make_shared<Waiter>(self->strand);
    cell->waiters.push_back(waiter);
    if (!cell->probing) self->StartProbe(cell);
    co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (waiter->result) co_return std::move(*waiter->result);
    // Our caller went away; the probe goes on and is recorded as usual.
    co_return Error(ErrorCode::kUnavailable, "health_check_cancelled",
                    "The health check was cancelled.");
  }

  // --- Scheduler -------------------------------------------------------------------------------

  static asio::awaitable<void> Loop(std::shared_ptr<Impl> self) {
    self->running = true;
    self->LaunchDue();
    for (;;) {
      const SteadyTime now = self->clock.SteadyNow();
      self->timer_at = self->NextWake();
      self->wake_timer.expires_after(std::max(self->timer_at - now, SteadyTime::duration::zero()));
      // Woken early (Wake) or cancelled: both complete the wait with operation_aborted.
      co_await self->wake_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none || self->stopping) break;
      self->timer_at = SteadyTime::max();
      self->LaunchDue();
    }
    // Awaiting anything in a cancelled coroutine throws: clear the state to wind down.
    co_await asio::this_coro::reset_cancellation_state();
    co_await self->Shutdown();
  }

  asio::awaitable<void> Shutdown() {
    stopping = true;
    batch_timer.cancel();  // the writer flushes what is queued now
    running = false;
    auto map = cells.load(std::memory_order_acquire);
    for (const auto& [id, cell] : *map) {
      if (cell->probe_signal) cell->probe_signal->emit(asio::cancellation_type::terminal);
      FailWaiters(*cell, Error(ErrorCode::kUnavailable, "health_monitor_stopped",
                               "The gateway is shutting down; health checks have stopped."));
    }
    // Let cancelled probes unwind and queued writes reach the store, for a bounded time.
    idle_timer.expires_after(std::chrono::seconds(5));
    while (in_flight > 0 || writer_running) {
      auto [ec] = co_await idle_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!ec) {
        log::Warn("health_shutdown_incomplete",
                  {{"probes", in_flight}, {"writes", static_cast<uint64_t>(writes.size())}});
        break;
      }
    }
    log::Info("health_monitor_stopped");
  }
};

HealthMonitor::HealthMonitor(asio::io_context& io, ProviderLookup providers, store::Store& store,
                             asio::thread_pool& store_pool, const Clock& clock,
                             server::Metrics& metrics, HealthMonitorOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(providers), store, store_pool, clock, metrics,
                                   std::move(options))) {}

HealthMonitor::~HealthMonitor() = default;

bool HealthMonitor::InPool(std::string_view model_id) const {
  auto map = impl_->cells.load(std::memory_order_acquire);
  auto it = map->find(model_id);
  return it == map->end() || it->second->in_pool.load(std::memory_order_acquire);
}

PoolStatus HealthMonitor::PoolState(std::string_view model_id) const {
  auto map = impl_->cells.load(std::memory_order_acquire);
  auto it = map->find(model_id);
  if (it == map->end()) return {};
  const Cell& c = *it->second;
  PoolStatus s;
  s.in_pool = c.in_pool.load(std::memory_order_acquire);
  if (!s.in_pool) {
    const int64_t at = c.retry_at_ms.load(std::memory_order_relaxed);
    const int64_t now = UnixMillis(impl_->clock.Now());
    s.retry_after = milliseconds(at > now ? at - now : 0);
  }
  return s;
}

void HealthMonitor::RecordOutcome(const std::string& model_id, const Error* error,
                                  milliseconds latency) {
  auto map = impl_->cells.load(std::memory_order_acquire);
  auto it = map->find(model_id);
  if (it == map->end()) return;
  const std::shared_ptr<Cell>& cell = it->second;
  if (error == nullptr) {
    cell->last_success_latency_ms.store(latency.count(), std::memory_order_relaxed);
    cell->last_success_wall_ms.store(UnixMillis(impl_->clock.Now()), std::memory_order_relaxed);
    cell->last_success_steady_ns.store(SteadyNs(impl_->clock.SteadyNow()),
                                       std::memory_order_release);
    if (cell->real_failures.load(std::memory_order_relaxed) != 0) {
      cell->real_failures.store(0, std::memory_order_relaxed);
    }
    return;
  }
  if (!impl_->passive_detection) return;
  const PassiveVerdict v = ClassifyRealFailure(*error, impl_->policy);
  if (v.kind == PassiveVerdict::Kind::kIgnore) return;
  if (!cell->in_pool.load(std::memory_order_acquire)) return;  // already out
  int failures = 0;
  const bool throttled = v.kind == PassiveVerdict::Kind::kThrottled;
  if (throttled) {
    if (cell->throttled.load(std::memory_order_relaxed)) return;  // already shown
  } else {
    failures = cell->real_failures.fetch_add(1, std::memory_order_relaxed) + 1;
    if (failures < v.threshold) return;
  }
  // One event in flight per model: the strand applies it and clears the flag.
  if (cell->passive_pending.exchange(true, std::memory_order_acq_rel)) return;
  if (!throttled) {
    // Out of the pool for the very next request; the strand records why and when to retry.
    cell->retry_at_ms.store(UnixMillis(impl_->clock.Now()) + impl_->policy.cooldown.count(),
                            std::memory_order_relaxed);
    cell->in_pool.store(false, std::memory_order_release);
  }
  asio::post(impl_->strand, [impl = impl_, cell, err = *error, failures, latency, throttled] {
    impl->OnRealFailure(cell, err, failures, latency, throttled);
  });
}

std::optional<store::HealthState> HealthMonitor::State(std::string_view model_id) const {
  std::shared_ptr<Cell> cell = impl_->Find(model_id);
  if (!cell) return std::nullopt;
  std::lock_guard lock(cell->mu);
  return cell->published;
}

void HealthMonitor::OnSnapshot(std::shared_ptr<const state::Snapshot> snapshot) {
  if (!snapshot) return;
  asio::post(impl_->strand,
             [impl = impl_, snap = std::move(snapshot)] { impl->ApplySnapshot(snap); });
}

void HealthMonitor::CheckCredentialNow(std::string credential_id) {
  asio::post(impl_->strand,
             [impl = impl_, id = std::move(credential_id)] { impl->TriggerCredential(id); });
}

void HealthMonitor::CheckModelsNow(std::vector<std::string> model_ids) {
  asio::post(impl_->strand,
             [impl = impl_, ids = std::move(model_ids)] { impl->TriggerModels(ids); });
}

asio::awaitable<Result<CheckOutcome>> HealthMonitor::CheckNow(std::string model_id) {
  co_return co_await asio::co_spawn(
      impl_->strand, Impl::CheckNowOnStrand(impl_, std::move(model_id)), asio::use_awaitable);
}

asio::awaitable<void> HealthMonitor::Run() {
  co_await asio::co_spawn(impl_->strand, Impl::Loop(impl_), asio::use_awaitable);
}

void HealthMonitor::RunOnce() {
  asio::post(impl_->strand, [impl = impl_] { impl->LaunchDue(); });
}

size_t HealthMonitor::PendingWork() const {
  return impl_->probes_in_flight.load(std::memory_order_relaxed) +
         impl_->writes_pending.load(std::memory_order_relaxed);
}

size_t HealthMonitor::ProbesInFlight() const {
  return impl_->probes_in_flight.load(std::memory_order_relaxed);
}

}  // namespace mg::health
