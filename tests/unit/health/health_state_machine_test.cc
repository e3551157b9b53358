#include "health/health_state_machine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/time.h"

namespace mg::health {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const SystemTime kNow = SystemTime(std::chrono::seconds(1'800'000'000));

Policy TestPolicy() {
  Policy p;
  p.interval = seconds(300);
  p.cooldown = seconds(10);
  p.passive_threshold = 3;
  p.jitter = 0.1;
  return p;
}

store::HealthState Healthy() {
  store::HealthState s;
  s.model_id = "m1";
  s.status = store::HealthStatus::kHealthy;
  s.in_pool = true;
  s.last_checked_at = kNow - seconds(300);
  return s;
}

store::HealthState Unknown() {
  store::HealthState s;
  s.model_id = "m1";
  return s;
}

Observation Ok() {
  Observation o;
  o.ok = true;
  o.latency_ms = 42;
  o.region = "us-east-1";
  return o;
}

Observation Fail(std::string cause, std::string said = "AccessDeniedException (HTTP 403): no") {
  Observation o;
  o.ok = false;
  o.cause = std::move(cause);
  o.provider_message = std::move(said);
  o.latency_ms = 7;
  o.region = "us-east-1";
  return o;
}

TEST(HealthStateMachine, HealthyProbeSchedulesNextCheckOneIntervalLater) {
  const Transition t = Apply(Unknown(), Ok(), TestPolicy(), kNow, 0.0);
  EXPECT_EQ(t.state.status, store::HealthStatus::kHealthy);
  EXPECT_TRUE(t.state.in_pool);
  EXPECT_EQ(t.state.last_checked_at, kNow);
  EXPECT_EQ(t.next_check_in, seconds(300));
  EXPECT_EQ(t.state.next_check_at, kNow + seconds(300));
  EXPECT_FALSE(t.state.cooldown_until.has_value());
  EXPECT_TRUE(t.state.cause.empty());
  EXPECT_TRUE(t.state.message.empty());
  EXPECT_EQ(t.check.status, store::HealthStatus::kHealthy);
  EXPECT_EQ(t.check.latency_ms, 42);
  EXPECT_EQ(t.check.at, kNow);
  EXPECT_EQ(t.check.model_id, "m1");
}

TEST(HealthStateMachine, JitterBringsTheNextCheckEarlyByAtMostTheJitterFraction) {
  const Transition late = Apply(Healthy(), Ok(), TestPolicy(), kNow, 0.0);
  const Transition early = Apply(Healthy(), Ok(), TestPolicy(), kNow, 0.999);
  const Transition mid = Apply(Healthy(), Ok(), TestPolicy(), kNow, 0.5);
  EXPECT_EQ(late.next_check_in, seconds(300));
  EXPECT_GE(early.next_check_in, seconds(270));
  EXPECT_LT(early.next_check_in, seconds(271));
  EXPECT_EQ(mid.next_check_in, seconds(285));
}

TEST(HealthStateMachine, EntersCooldownAfterFailure) {
  const Transition t = Apply(Healthy(), Fail("permission_denied"), TestPolicy(), kNow, 0.5);
  EXPECT_EQ(t.state.status, store::HealthStatus::kUnhealthy);
  EXPECT_FALSE(t.state.in_pool);
  EXPECT_EQ(t.state.cause, "permission_denied");
  EXPECT_EQ(t.state.consecutive_failures, 1);
  EXPECT_EQ(t.next_check_in, seconds(10));
  EXPECT_EQ(t.state.cooldown_until, kNow + seconds(10));
  EXPECT_EQ(t.state.next_check_at, kNow + seconds(10));
  EXPECT_EQ(t.check.status, store::HealthStatus::kUnhealthy);
  EXPECT_EQ(t.check.cause, "permission_denied");
  EXPECT_EQ(t.check.message, t.state.message);
}

TEST(HealthStateMachine, BackoffDoublesCappedAtInterval) {
  Policy p = TestPolicy();
  p.interval = seconds(60);
  p.cooldown = seconds(10);
  EXPECT_EQ(BackoffDelay(1, p), seconds(10));
  EXPECT_EQ(BackoffDelay(2, p), seconds(20));
  EXPECT_EQ(BackoffDelay(3, p), seconds(40));
  EXPECT_EQ(BackoffDelay(4, p), seconds(60));
  EXPECT_EQ(BackoffDelay(50, p), seconds(60));

  store::HealthState s = Healthy();
  std::vector<milliseconds> waits;
  for (int i = 0; i < 5; ++i) {
    const Transition t = Apply(s, Fail("provider_unavailable"), p, kNow, 0.0);
    waits.push_back(t.next_check_in);
    s = t.state;
  }
  EXPECT_THAT(waits, ::testing::ElementsAre(seconds(10), seconds(20), seconds(40), seconds(60),
                                            seconds(60)));
  EXPECT_EQ(s.consecutive_failures, 5);
}

TEST(HealthStateMachine, CooldownLongerThanIntervalIsCappedAtInterval) {
  Policy p = TestPolicy();
  p.interval = seconds(5);
  p.cooldown = seconds(30);
  EXPECT_EQ(BackoffDelay(1, p), seconds(5));
}

TEST(HealthStateMachine, OneSuccessfulProbeRestoresThePool) {
  store::HealthState s = Healthy();
  for (int i = 0; i < 3; ++i)
    s = Apply(s, Fail("credentials_invalid"), TestPolicy(), kNow, 0).state;
  ASSERT_FALSE(s.in_pool);
  const Transition t = Apply(s, Ok(), TestPolicy(), kNow + seconds(40), 0.0);
  EXPECT_EQ(t.state.status, store::HealthStatus::kHealthy);
  EXPECT_TRUE(t.state.in_pool);
  EXPECT_EQ(t.state.consecutive_failures, 0);
  EXPECT_FALSE(t.state.cooldown_until.has_value());
  EXPECT_TRUE(t.state.cause.empty());
  EXPECT_TRUE(t.state.message.empty());
  EXPECT_TRUE(t.is_transition);
}

TEST(HealthStateMachine, ThrottledStaysInPoolAndHonoursTheRetryHint) {
  Observation o = Fail("throttled", "ThrottlingException (HTTP 429): slow down");
  o.retry_after = seconds(7);
  const Transition t = Apply(Healthy(), o, TestPolicy(), kNow, 0.0);
  EXPECT_EQ(t.state.status, store::HealthStatus::kUnhealthy);
  EXPECT_EQ(t.state.cause, "throttled");
  EXPECT_TRUE(t.state.in_pool);
  EXPECT_FALSE(t.state.cooldown_until.has_value());
  EXPECT_EQ(t.next_check_in, seconds(7));
  EXPECT_EQ(t.state.next_check_at, kNow + seconds(7));
}

TEST(HealthStateMachine, ThrottledWithoutHintWaitsTheCooldown) {
  const Transition t = Apply(Healthy(), Fail("throttled"), TestPolicy(), kNow, 0.0);
  EXPECT_TRUE(t.state.in_pool);
  EXPECT_EQ(t.next_check_in, seconds(10));
}

TEST(HealthStateMachine, RetryHintIsCappedAtTheInterval) {
  Observation o = Fail("throttled");
  o.retry_after = std::chrono::hours(2);
  EXPECT_EQ(Apply(Healthy(), o, TestPolicy(), kNow, 0.0).next_check_in, seconds(300));
}

TEST(HealthStateMachine, RejectedProbeKeepsTheModelInThePool) {
  const Transition t = Apply(Healthy(), Fail("model_rejected_request"), TestPolicy(), kNow, 0.0);
  EXPECT_EQ(t.state.status, store::HealthStatus::kUnhealthy);
  EXPECT_TRUE(t.state.in_pool);
  EXPECT_FALSE(LeavesPool("model_rejected_request"));
  EXPECT_FALSE(LeavesPool("throttled"));
  for (const char* c : {"credentials_invalid", "permission_denied", "model_not_available_in_region",
                        "model_deprecated", "provider_unavailable", "timeout", "network"}) {
    EXPECT_TRUE(LeavesPool(c)) << c;
  }
}

TEST(HealthStateMachine, EmptyCauseReadsAsProviderUnavailable) {
  const Transition t = Apply(Healthy(), Fail(""), TestPolicy(), kNow, 0.0);
  EXPECT_EQ(t.state.cause, "provider_unavailable");
  EXPECT_FALSE(t.state.in_pool);
}

TEST(HealthStateMachine, LegacyModelIsHealthyWithADeprecationWarning) {
  Observation o = Ok();
  o.legacy = true;
  const Transition t = Apply(Unknown(), o, TestPolicy(), kNow, 0.0);
  EXPECT_EQ(t.state.status, store::HealthStatus::kHealthy);
  EXPECT_TRUE(t.state.in_pool);
  EXPECT_TRUE(t.state.cause.empty());
  EXPECT_THAT(t.state.message, HasSubstr("LEGACY"));
  EXPECT_THAT(t.state.message, HasSubstr("end of life"));
  EXPECT_EQ(t.check.message, t.state.message);
}

TEST(HealthStateMachine, EndOfLifeRefusalIsModelDeprecatedAndLeavesThePool) {
  const Transition t = Apply(
      Healthy(),
      Fail("model_deprecated",
           "ResourceNotFoundException (HTTP 404): the model is retired or legacy; move to a newer "
           "model. AWS said: This model version has reached the end of its life."),
      TestPolicy(), kNow, 0.0);
  EXPECT_EQ(t.state.cause, "model_deprecated");
  EXPECT_FALSE(t.state.in_pool);
  EXPECT_THAT(t.state.message, HasSubstr("end of its life"));
  EXPECT_THAT(t.state.message, HasSubstr("switch to a newer model"));
}

TEST(HealthStateMachine, RealSuccessCountedAsCheckSaysNoProbeWasNeeded) {
  Observation o = Ok();
  o.source = Observation::Source::kRealSuccess;
  o.served_at = kNow - seconds(3);
  const Transition t = Apply(Healthy(), o, TestPolicy(), kNow, 0.0);
  EXPECT_EQ(t.state.status, store::HealthStatus::kHealthy);
  EXPECT_THAT(t.state.message, HasSubstr("Served a request successfully at " +
                                         FormatRfc3339Millis(kNow - seconds(3))));
  EXPECT_THAT(t.state.message, HasSubstr("no probe needed"));
  EXPECT_FALSE(t.is_transition);
}

TEST(HealthStateMachine, PassiveFailureMessageCountsTheRealFailures) {
  Observation o = Fail("provider_unavailable", "ServiceUnavailableException (HTTP 503): down");
  o.source = Observation::Source::kPassiveFailure;
  o.failures = 3;
  const Transition t = Apply(Healthy(), o, TestPolicy(), kNow, 0.0);
  EXPECT_THAT(t.state.message,
              StartsWith("3 consecutive failures of real requests: ServiceUnavailableException"));
  EXPECT_FALSE(t.state.in_pool);
  o.failures = 1;
  o.cause = "credentials_invalid";
  EXPECT_THAT(Apply(Healthy(), o, TestPolicy(), kNow, 0.0).state.message,
              StartsWith("1 failure of a real request: "));
}

TEST(HealthStateMachine, MessageSaysWhatTheProviderSaidAndWhatToCheck) {
  struct Case {
    const char* cause;
    const char* advice;
  };
  const Case cases[] = {
      {"credentials_invalid", "expired, deactivated or revoked"},
      {"permission_denied", "permission changes"},
      {"model_not_available_in_region", "offered in region us-east-1"},
      {"model_deprecated", "newer model"},
      {"throttled", "rate limiting"},
      {"provider_unavailable", "provider's status"},
      {"timeout", "did not answer in time"},
      {"network", "DNS"},
      {"model_rejected_request", "rejected the health probe"},
  };
  for (const Case& c : cases) {
    const Transition t = Apply(Healthy(), Fail(c.cause, "ProviderSaidThis (HTTP 400): words"),
                               TestPolicy(), kNow, 0);
    EXPECT_THAT(t.state.message, StartsWith("ProviderSaidThis (HTTP 400): words. ")) << c.cause;
    EXPECT_THAT(t.state.message, HasSubstr(c.advice)) << c.cause;
  }
  // Out-of-pool causes say the model comes back by itself.
  EXPECT_THAT(Apply(Healthy(), Fail("timeout"), TestPolicy(), kNow, 0).state.message,
              HasSubstr("returns to the pool by itself"));
}

TEST(HealthStateMachine, SentencesAreJoinedWithoutADoubleFullStop) {
  const Transition t =
      Apply(Healthy(), Fail("network", "could not connect."), TestPolicy(), kNow, 0);
  EXPECT_THAT(t.state.message, StartsWith("could not connect. The gateway could not reach"));
  EXPECT_THAT(t.state.message, Not(HasSubstr("..")));
}

TEST(HealthStateMachine, LongProviderMessagesAreCut) {
  const Transition t =
      Apply(Healthy(), Fail("network", std::string(5000, 'x')), TestPolicy(), kNow, 0);
  EXPECT_LE(t.state.message.size(), 1000u);
  EXPECT_THAT(t.state.message, ::testing::EndsWith("..."));
}

TEST(HealthStateMachine, TransitionsAreFlaggedOnlyWhenStatusOrCauseChanges) {
  const Transition first = Apply(Unknown(), Ok(), TestPolicy(), kNow, 0);
  EXPECT_TRUE(first.is_transition);  // unknown -> healthy
  EXPECT_FALSE(Apply(first.state, Ok(), TestPolicy(), kNow, 0).is_transition);
  const Transition down = Apply(first.state, Fail("timeout"), TestPolicy(), kNow, 0);
  EXPECT_TRUE(down.is_transition);
  EXPECT_FALSE(Apply(down.state, Fail("timeout"), TestPolicy(), kNow, 0).is_transition);
  EXPECT_TRUE(Apply(down.state, Fail("network"), TestPolicy(), kNow, 0).is_transition);
}

TEST(HealthStateMachine, ResetForRecheckKeepsWhatWasKnownAndMakesACheckDueNow) {
  store::HealthState s = Apply(Healthy(), Fail("credentials_invalid"), TestPolicy(), kNow, 0).state;
  s = Apply(s, Fail("credentials_invalid"), TestPolicy(), kNow, 0).state;
  const store::HealthState r = ResetForRecheck(s, kNow + seconds(1));
  EXPECT_EQ(r.status, store::HealthStatus::kUnhealthy);
  EXPECT_EQ(r.cause, "credentials_invalid");
  EXPECT_EQ(r.consecutive_failures, 0);
  EXPECT_EQ(r.next_check_at, kNow + seconds(1));
  EXPECT_FALSE(r.cooldown_until.has_value());
  // The next failure starts the backoff from the cooldown again.
  EXPECT_EQ(Apply(r, Fail("credentials_invalid"), TestPolicy(), kNow, 0).next_check_in,
            seconds(10));
}

Error UpstreamError(std::string cause, std::string reason = "upstream_error") {
  Error e(ErrorCode::kUpstreamError, std::move(reason), "The model provider returned an error.");
  e.health_cause = std::move(cause);
  e.health_message = "said";
  return e;
}

TEST(HealthStateMachine, CredentialAndPermissionFailuresOfRealTrafficCountAtOnce) {
  for (const char* c : {"credentials_invalid", "permission_denied"}) {
    const PassiveVerdict v = ClassifyRealFailure(UpstreamError(c), TestPolicy());
    EXPECT_EQ(v.kind, PassiveVerdict::Kind::kFailure) << c;
    EXPECT_EQ(v.threshold, 1) << c;
  }
}

TEST(HealthStateMachine, ProviderFaultsOfRealTrafficNeedTheThreshold) {
  for (const char* c : {"provider_unavailable", "timeout", "network",
                        "model_not_available_in_region", "model_deprecated"}) {
    const PassiveVerdict v = ClassifyRealFailure(UpstreamError(c), TestPolicy());
    EXPECT_EQ(v.kind, PassiveVerdict::Kind::kFailure) << c;
    EXPECT_EQ(v.threshold, 3) << c;
  }
}

TEST(HealthStateMachine, CallerErrorsDisconnectsAndRejectedRequestsNeverCount) {
  const Policy p = TestPolicy();
  EXPECT_EQ(ClassifyRealFailure(InvalidArgument("bad temperature"), p).kind,
            PassiveVerdict::Kind::kIgnore);
  EXPECT_EQ(ClassifyRealFailure(UpstreamError("model_rejected_request"), p).kind,
            PassiveVerdict::Kind::kIgnore);
  EXPECT_EQ(ClassifyRealFailure(UpstreamError("network", "cancelled"), p).kind,
            PassiveVerdict::Kind::kIgnore);
  EXPECT_EQ(ClassifyRealFailure(UpstreamError("timeout", "client_disconnected"), p).kind,
            PassiveVerdict::Kind::kIgnore);
  EXPECT_EQ(ClassifyRealFailure(UpstreamError("some_future_cause"), p).kind,
            PassiveVerdict::Kind::kIgnore);
}

TEST(HealthStateMachine, ThrottlingOfRealTrafficIsItsOwnVerdict) {
  EXPECT_EQ(ClassifyRealFailure(UpstreamError("throttled"), TestPolicy()).kind,
            PassiveVerdict::Kind::kThrottled);
}

}  // namespace
}  // namespace mg::health
