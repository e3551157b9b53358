#include "health/health_state_machine.h"

#include <algorithm>
#include <cmath>

#include "core/time.h"

namespace mg::health {
namespace {

using std::chrono::milliseconds;

// Messages are stored per check and shown in lists: long provider texts are cut.
constexpr size_t kMaxMessageBytes = 1000;

// "a" + ". " + "b", without doubling the full stop when `a` already ends a sentence.
std::string JoinSentences(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  if (out.empty()) return std::string(b);
  if (b.empty()) return out;
  const char last = out.back();
  out += (last == '.' || last == '!' || last == '?') ? " " : ". ";
  out += b;
  return out;
}

std::string Truncate(std::string s) {
  if (s.size() <= kMaxMessageBytes) return s;
  size_t cut = kMaxMessageBytes - 3;
  // Do not split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s += "...";
  return s;
}

std::string FailureMessage(const Observation& obs, std::string_view cause) {
  std::string said = obs.provider_message.empty() ? "The provider failed without saying why"
                                                  : obs.provider_message;
  if (obs.source == Observation::Source::kPassiveFailure) {
    const int n = std::max(obs.failures, 1);
    said = (n == 1 ? std::string("1 failure of a real request: ")
                   : std::to_string(n) + " consecutive failures of real requests: ") +
           said;
  }
  return Truncate(JoinSentences(said, Advice(cause, obs.region)));
}

std::string HealthyMessage(const Observation& obs) {
  std::string msg = obs.legacy ? LegacyWarning() : std::string();
  if (obs.source == Observation::Source::kRealSuccess) {
    msg = JoinSentences(msg, "Served a request successfully at " +
                                 FormatRfc3339Millis(obs.served_at) + "; no probe needed.");
  }
  return msg;
}

}  // namespace

milliseconds BackoffDelay(int consecutive_failures, const Policy& policy) {
  const milliseconds cap = std::max(policy.interval, milliseconds(1));
  milliseconds d = std::max(policy.cooldown, milliseconds(1));
  for (int i = 1; i < consecutive_failures && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

bool LeavesPool(std::string_view c) {
  return c != cause::kThrottled && c != cause::kModelRejectedRequest;
}

Transition Apply(const store::HealthState& before, const Observation& obs, const Policy& policy,
                 SystemTime now, double jitter_draw) {
  Transition t;
  store::HealthState& s = t.state;
  s.model_id = before.model_id;
  s.last_checked_at = now;
  t.check.model_id = before.model_id;
  t.check.at = now;
  t.check.latency_ms = obs.latency_ms;

  if (obs.ok) {
    s.status = store::HealthStatus::kHealthy;
    s.in_pool = true;
    s.consecutive_failures = 0;
    s.cause.clear();
    s.message = HealthyMessage(obs);
    const double draw = std::clamp(jitter_draw, 0.0, 1.0);
    const double early = std::clamp(policy.jitter, 0.0, 0.5) * draw;
    t.next_check_in = std::max(
        milliseconds(1),
        milliseconds(std::llround(static_cast<double>(policy.interval.count()) * (1.0 - early))));
    s.cooldown_until.reset();
  } else {
    const std::string c = obs.cause.empty() ? std::string(cause::kProviderUnavailable) : obs.cause;
    s.status = store::HealthStatus::kUnhealthy;
    s.in_pool = !LeavesPool(c);
    s.consecutive_failures = std::max(before.consecutive_failures, 0) + 1;
    s.cause = c;
    s.message = FailureMessage(obs, c);
    milliseconds delay = BackoffDelay(s.consecutive_failures, policy);
    if (c == cause::kThrottled && obs.retry_after) {
      // The provider said when to come back: honour it, but never hammer it nor wait past the
      // interval.
      const milliseconds floor = std::min(policy.cooldown, milliseconds(1000));
      delay = std::clamp(*obs.retry_after, std::max(floor, milliseconds(1)),
                         std::max(policy.interval, milliseconds(1)));
    }
    t.next_check_in = delay;
    if (s.in_pool) {
      s.cooldown_until.reset();
    } else {
      s.cooldown_until = now + delay;
    }
  }
  s.next_check_at = now + t.next_check_in;
  t.check.status = s.status;
  t.check.cause = s.cause;
  t.check.message = s.message;
  t.is_transition = before.status != s.status || before.cause != s.cause;
  return t;
}

store::HealthState ResetForRecheck(const store::HealthState& before, SystemTime now) {
  store::HealthState s = before;
  s.consecutive_failures = 0;
  s.next_check_at = now;
  s.cooldown_until.reset();
  return s;
}

PassiveVerdict ClassifyRealFailure(const Error& error, const Policy& policy) {
  // The caller went away or cancelled: nothing is known about the model.
  if (error.reason == "cancelled" || error.reason == "client_disconnected") return {};
  const std::string_view c = error.health_cause;
  // No health cause: the caller's own 4xx or a validation failure.
  if (c.empty() || c == cause::kModelRejectedRequest) return {};
  if (c == cause::kThrottled) return {PassiveVerdict::Kind::kThrottled, 0};
  if (c == cause::kCredentialsInvalid || c == cause::kPermissionDenied) {
    return {PassiveVerdict::Kind::kFailure, 1};
  }
  if (c == cause::kProviderUnavailable || c == cause::kTimeout || c == cause::kNetwork ||
      c == cause::kModelNotAvailableInRegion || c == cause::kModelDeprecated) {
    return {PassiveVerdict::Kind::kFailure, std::max(policy.passive_threshold, 1)};
  }
  return {};  // a cause this version does not know: do not act on it
}

std::string Advice(std::string_view c, std::string_view region) {
  const std::string in_region =
      region.empty() ? std::string("this region") : "region " + std::string(region);
  constexpr std::string_view kReturns =
      "The model is re-checked automatically and returns to the pool by itself once a check "
      "succeeds.";
  if (c == cause::kCredentialsInvalid) {
    return "Check that the credential's keys are valid and were not expired, deactivated or "
           "revoked (for a role: that the gateway can still assume it), then update the "
           "credential. " +
           std::string(kReturns);
  }
  if (c == cause::kPermissionDenied) {
    return "Check for permission changes: the credential's IAM identity needs "
           "bedrock:InvokeModel on this model (no new deny in a policy, permission boundary or "
           "SCP), and model access must be enabled in the Bedrock console for " +
           in_region + ". " + std::string(kReturns);
  }
  if (c == cause::kModelNotAvailableInRegion) {
    return "Check that the model is offered in " + in_region +
           " (some models need an inference-profile id such as us.<model id>), or move the "
           "model to a region that offers it. " +
           std::string(kReturns);
  }
  if (c == cause::kModelDeprecated) {
    return "The provider refuses this model as end-of-life: switch to a newer model (add it, "
           "then delete this one).";
  }
  if (c == cause::kThrottled) {
    return "The provider is rate limiting: requests still reach it and get its 429 with a "
           "retry hint. Lower the load or ask the provider for a higher quota; the next check "
           "follows the provider's retry hint.";
  }
  if (c == cause::kProviderUnavailable) {
    return "Check the provider's status (AWS Health Dashboard for Bedrock in " + in_region + "). " +
           std::string(kReturns);
  }
  if (c == cause::kTimeout) {
    return "The provider did not answer in time: check the provider's status for " + in_region +
           " and the network path to it. " + std::string(kReturns);
  }
  if (c == cause::kNetwork) {
    return "The gateway could not reach the provider: check DNS, firewall, proxy and TLS "
           "settings for the provider's endpoint. " +
           std::string(kReturns);
  }
  if (c == cause::kModelRejectedRequest) {
    return "The credentials work, but the provider rejected the health probe itself for this "
           "model; the model stays in the pool.";
  }
  return std::string(kReturns);
}

std::string LegacyWarning() {
  return "Deprecation warning: the provider's catalog marks this model LEGACY. It still "
         "answers, but it will reach end of life; plan a move to a newer model.";
}

}  // namespace mg::health
