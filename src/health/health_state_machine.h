// @file health_state_machine.h
// @brief The pure rules of model health (admin-api "Health", bedrock.md §9): how one check, one
// real success counted as a check, or a run of failed real requests changes a model's
// store::HealthState, when the model is checked next (cooldown, doubling backoff capped at the
// interval, the provider's retry hint for throttling), whether it stays in the pool, and the
// admin-facing message (what the provider said and what to check).
//
// No clock, no randomness, no I/O: callers pass `now` and the jitter draw, so every rule is
// unit-testable. HealthMonitor (health_monitor.h) drives it.
// Thread-safety: pure functions over value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "core/health_cause.h"
#include "store/records.h"

namespace mg::health {

// The admin-api health causes (core/health_cause.h).
namespace cause = ::mg::health_cause;

struct Policy {
  // Time between two checks of a healthy model (--health-interval).
  std::chrono::milliseconds interval{std::chrono::minutes(5)};
  // Wait before the first re-check of an unhealthy model (--health-cooldown); doubles with each
  // further failure, capped at `interval`.
  std::chrono::milliseconds cooldown{std::chrono::seconds(60)};
  // Consecutive failed real requests (provider 5xx, timeouts, network, model missing or retired)
  // that take a model out of the pool. Credential and permission failures need only one.
  int passive_threshold = 3;
  // A healthy model's next check comes up to this fraction of `interval` early (drawn per
  // check), so checks that once fired together drift apart.
  double jitter = 0.1;
};

// What was learned about a model.
struct Observation {
  enum class Source {
    kProbe,           // a health probe (scheduled, triggered or on admin request)
    kRealSuccess,     // a real request succeeded since the last check: counted as the check
    kPassiveFailure,  // consecutive real requests failed in a way that implicates the model
  };
  Source source = Source::kProbe;
  bool ok = false;
  // When !ok: the admin-api cause (empty is read as provider_unavailable) and what the provider
  // said (sanitised, Error::health_message).
  std::string cause;
  std::string provider_message;
  // The provider's retry hint (throttling).
  std::optional<std::chrono::milliseconds> retry_after;
  int64_t latency_ms = 0;
  // kPassiveFailure: how many real requests failed in a row.
  int failures = 0;
  // kRealSuccess: when the real request completed.
  SystemTime served_at{};
  // The catalog marks the model LEGACY (still answers, will reach end of life).
  bool legacy = false;
  // The model's region, named in advice.
  std::string region;
};

// The outcome of applying an Observation.
struct Transition {
  store::HealthState state;  // the new state (model_id kept)
  store::HealthCheck check;  // the check to record
  std::chrono::milliseconds next_check_in{0};
  // Status or cause changed (unknown -> healthy included): written to the audit log.
  bool is_transition = false;
};

// Applies `obs` to `before` at `now`. `jitter_draw` is a number in [0, 1) (healthy results
// only: the next check comes `policy.jitter * jitter_draw * interval` early).
Transition Apply(const store::HealthState& before, const Observation& obs, const Policy& policy,
                 SystemTime now, double jitter_draw);

// The state of a model whose credential, credential version, region or provider model id just
// changed: what was known stays visible, the failure count is cleared and a check is due now.
store::HealthState ResetForRecheck(const store::HealthState& before, SystemTime now);

// Wait before the next probe after `consecutive_failures` (>= 1) failed checks:
// cooldown * 2^(n-1), capped at the interval.
std::chrono::milliseconds BackoffDelay(int consecutive_failures, const Policy& policy);

// Whether a model unhealthy for `cause` leaves the pool. Throttling does not (requests still
// flow and get the provider's 429), nor does model_rejected_request (the credentials work; the
// provider rejected the probe itself).
bool LeavesPool(std::string_view cause);

// How a failed real request counts for passive detection.
struct PassiveVerdict {
  enum class Kind {
    kIgnore,     // says nothing about the model (caller's 4xx, client gone, cancellation)
    kThrottled,  // shows as throttled, stays in the pool
    kFailure,    // counts; `threshold` consecutive ones take the model out of the pool
  };
  Kind kind = Kind::kIgnore;
  int threshold = 0;
};
PassiveVerdict ClassifyRealFailure(const Error& error, const Policy& policy);

// Plain-words advice for `cause`: what the admin should check, and that recovery is automatic.
std::string Advice(std::string_view cause, std::string_view region);

// The warning shown for a healthy LEGACY model.
std::string LegacyWarning();

}  // namespace mg::health
