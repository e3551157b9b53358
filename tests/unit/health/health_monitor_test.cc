#include "health/health_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "server/metrics.h"
#include "state/publisher.h"
#include "store/enum_names.h"
#include "store/sqlite/sqlite_store.h"

namespace mg::health {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using providers::ProbeResult;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Time stands still unless a test advances it.
class FakeClock final : public Clock {
 public:
  SystemTime Now() const override {
    return SystemTime(std::chrono::seconds(1'800'000'000)) +
           std::chrono::duration_cast<SystemTime::duration>(
               std::chrono::nanoseconds(offset_ns_.load()));
  }
  SteadyTime SteadyNow() const override {
    return SteadyTime(std::chrono::hours(1000)) + std::chrono::nanoseconds(offset_ns_.load());
  }
  void Advance(std::chrono::nanoseconds d) { offset_ns_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> offset_ns_{0};
};

// A scriptable provider: probes succeed unless a failure is set for the provider model id or
// the credential's access key id; counts calls; can hold probes until released.
class FakeProvider final : public providers::Provider {
 public:
  struct Outcome {
    std::string cause;
    std::string message;
    std::optional<milliseconds> retry_after;
  };

  void Fail(const std::string& model_or_key, std::string cause, std::string message = {},
            std::optional<milliseconds> retry_after = std::nullopt) {
    std::lock_guard lock(mu_);
    if (message.empty()) message = "FakeError (HTTP 400): " + cause;
    failures_[model_or_key] = Outcome{std::move(cause), std::move(message), retry_after};
  }
  void Heal(const std::string& model_or_key) {
    std::lock_guard lock(mu_);
    failures_.erase(model_or_key);
  }
  void Block(bool on) { blocking_.store(on); }
  // Lets every held probe go on (from any thread).
  void ReleaseAll() {
    std::lock_guard lock(mu_);
    for (const auto& gate : gates_) {
      asio::post(gate->timer.get_executor(), [gate] {
        gate->released = true;
        gate->timer.cancel();
      });
    }
    gates_.clear();
  }

  int calls() const { return calls_.load(); }
  int calls_for(const std::string& pmid) const {
    std::lock_guard lock(mu_);
    auto it = calls_by_model_.find(pmid);
    return it == calls_by_model_.end() ? 0 : it->second;
  }
  int held() const { return held_.load(); }
  int max_concurrent() const { return max_concurrent_.load(); }
  int cancelled() const { return cancelled_.load(); }

  asio::awaitable<ProbeResult> Probe(providers::ProviderCredential credential, std::string region,
                                     std::string pmid) override {
    const int now_running = running_.fetch_add(1) + 1;
    int seen = max_concurrent_.load();
    while (now_running > seen && !max_concurrent_.compare_exchange_weak(seen, now_running)) {
    }
    calls_.fetch_add(1);
    {
      std::lock_guard lock(mu_);
      ++calls_by_model_[pmid];
    }
    if (blocking_.load()) {
      auto gate = std::make_shared<Gate>(co_await asio::this_coro::executor);
      {
        std::lock_guard lock(mu_);
        gates_.push_back(gate);
      }
      held_.fetch_add(1);
      co_await gate->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      held_.fetch_sub(1);
      if (!gate->released) {
        cancelled_.fetch_add(1);
        running_.fetch_sub(1);
        ProbeResult r;
        r.error = Error(ErrorCode::kUpstreamError, "cancelled", "cancelled");
        co_return r;
      }
    }
    ProbeResult r;
    r.attempts = 1;
    r.latency_ms = 25;
    std::optional<Outcome> failure;
    {
      std::lock_guard lock(mu_);
      const auto* keys = std::get_if<providers::AccessKeysAuth>(&credential.auth);
      if (auto it = failures_.find(pmid); it != failures_.end()) {
        failure = it->second;
      } else if (keys != nullptr) {
        if (auto k = failures_.find(keys->access_key_id); k != failures_.end()) failure = k->second;
      }
      regions_.push_back(region);
    }
    if (failure) {
      Error e(ErrorCode::kUpstreamError, "upstream_error", "The model provider returned an error.");
      e.health_cause = failure->cause;
      e.health_message = failure->message;
      e.retry_after = failure->retry_after;
      r.error = e;
    } else {
      r.ok = true;
    }
    running_.fetch_sub(1);
    co_return r;
  }

  asio::awaitable<Result<std::vector<providers::CatalogModel>>> ListModels(
      providers::ProviderCredential, std::string) override {
    co_return Internal("not used");
  }
  asio::awaitable<Result<size_t>> TestCredential(providers::ProviderCredential,
                                                 std::string) override {
    co_return Internal("not used");
  }
  asio::awaitable<Result<providers::ChatResponse>> Chat(providers::ProviderCredential, std::string,
                                                        std::string,
                                                        providers::ChatRequest) override {
    co_return Internal("not used");
  }
  asio::awaitable<Result<std::unique_ptr<providers::ChatStream>>> StartChatStream(
      providers::ProviderCredential, std::string, std::string, providers::ChatRequest) override {
    co_return Internal("not used");
  }

 private:
  struct Gate {
    explicit Gate(const asio::any_io_executor& ex) : timer(ex) {
      timer.expires_at(asio::steady_timer::time_point::max());
    }
    asio::steady_timer timer;
    bool released = false;  // set on the timer's executor
  };
  mutable std::mutex mu_;
  std::map<std::string, Outcome> failures_;    // guarded by mu_
  std::map<std::string, int> calls_by_model_;  // guarded by mu_
  std::vector<std::shared_ptr<Gate>> gates_;   // guarded by mu_
  std::vector<std::string> regions_;           // guarded by mu_
  std::atomic<bool> blocking_{false};
  std::atomic<int> calls_{0};
  std::atomic<int> running_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> held_{0};
  std::atomic<int> cancelled_{0};
};

std::string Pmid(const std::string& model_id) { return "vendor." + model_id + "-v1:0"; }

Error RealError(std::string cause, std::string reason = "upstream_error") {
  Error e(ErrorCode::kUpstreamError, std::move(reason), "The model provider returned an error.");
  e.health_cause = std::move(cause);
  e.health_message = "RealError (HTTP 503): the provider said no";
  return e;
}

HealthMonitorOptions TestOptions() {
  HealthMonitorOptions o;
  o.interval = 60s;
  o.cooldown = 5s;
  o.concurrency = 16;
  o.history = 10;
  o.passive_threshold = 3;
  o.jitter = 0;
  o.spread_start = false;
  o.seed = 1;
  return o;
}

class HealthMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() / ("mg_health_monitor_test_" + std::to_string(::getpid()) +
                                        "_" + std::to_string(counter.fetch_add(1)));
    fs::remove_all(dir_);
    auto store = store::sqlite::SqliteStore::Open((dir_ / "modelgate.db").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    publisher_ = std::make_unique<state::SnapshotPublisher>(
        *store_, [](const store::SealedSecret& s, std::string_view) -> Result<Secret> {
          return Secret(s.ciphertext);
        });
  }

  void TearDown() override {
    provider_.Block(false);
    provider_.ReleaseAll();
    if (monitor_) Settle();
    monitor_.reset();
    pool_.join();
    fs::remove_all(dir_);
  }

  store::AuditEvent Audit(std::string action) {
    store::AuditEvent a;
    a.at = clock_.Now();
    a.actor = "test";
    a.action = std::move(action);
    a.target = "t";
    a.details = "{}";
    return a;
  }

  void AddCredential(const std::string& id, const std::string& key_id) {
    store::Credential c;
    c.id = id;
    c.name = id;
    c.provider = "bedrock";
    c.region = "us-east-1";
    c.auth_type = store::AuthType::kAccessKeys;
    c.access_key_id = key_id;
    c.secret_access_key = store::SealedSecret{"dk_1", "secret-of-" + id};
    c.created_at = c.updated_at = c.secret_rotated_at = clock_.Now();
    ASSERT_TRUE(store_->CreateCredential(c, Audit("credential.create")));
  }

  // Rotates the credential's keys, as PATCH /credentials does.
  void RotateCredential(const std::string& id, const std::string& new_key_id) {
    auto c = store_->GetCredential(id);
    ASSERT_TRUE(c);
    c->access_key_id = new_key_id;
    c->updated_at = c->secret_rotated_at = clock_.Now() + 1ms;
    ASSERT_TRUE(store_->UpdateCredential(*c, Audit("credential.update")));
  }

  void AddModels(const std::string& credential_id, const std::vector<std::string>& ids,
                 std::string lifecycle = "ACTIVE") {
    std::vector<store::Model> models;
    for (const auto& id : ids) {
      store::Model m;
      m.id = id;
      m.name = id;
      m.provider = "bedrock";
      m.provider_model_id = Pmid(id);
      m.region = "us-east-1";
      m.credential_id = credential_id;
      m.all_teams = true;
      m.lifecycle = lifecycle;
      m.created_at = m.updated_at = clock_.Now();
      models.push_back(m);
    }
    ASSERT_TRUE(store_->CreateModels({}, models, Audit("model.create")));
  }

  std::shared_ptr<const state::Snapshot> Rebuild() {
    auto snap = publisher_->Rebuild();
    EXPECT_TRUE(snap) << snap.error().message;
    return snap ? *snap : nullptr;
  }

  // Rebuilds the snapshot and hands it to the monitor, as the publisher hook does.
  void Publish() {
    monitor_->OnSnapshot(Rebuild());
    Settle();
  }

  void StartMonitor(HealthMonitorOptions options = TestOptions()) {
    monitor_ = std::make_unique<HealthMonitor>(
        io_, [this](std::string_view) -> providers::Provider* { return &provider_; }, *store_,
        pool_, clock_, metrics_, options);
    monitor_->OnSnapshot(Rebuild());
    Settle();
  }

  // Runs the monitor's executor until `done` holds after everything ready has run. Waits for
  // the store pool's completions, never for time to pass (the clock is fake).
  bool RunUntil(const std::function<bool()>& done, std::chrono::seconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      io_.restart();
      io_.poll();
      if (done()) {
        io_.restart();
        if (io_.poll() == 0 && done()) return true;
        continue;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(2ms);
    }
  }

  // Until no probe is in flight and every store write is done.
  void Settle() {
    ASSERT_TRUE(RunUntil([&] { return monitor_->PendingWork() == 0; }))
        << "pending: " << monitor_->PendingWork();
  }

  // Advances the fake clock, lets the scheduler launch what is due, and settles.
  void Tick(std::chrono::nanoseconds d) {
    clock_.Advance(d);
    monitor_->RunOnce();
    Settle();
  }

  store::HealthState StateOf(const std::string& id) {
    auto s = monitor_->State(id);
    EXPECT_TRUE(s.has_value()) << id;
    return s.value_or(store::HealthState{});
  }

  std::vector<store::HealthCheck> Checks(const std::string& id) {
    auto c = store_->ListHealthChecks(id, 100);
    EXPECT_TRUE(c) << c.error().message;
    return c ? *c : std::vector<store::HealthCheck>{};
  }

  std::vector<store::AuditEvent> HealthAudit() {
    auto all = store_->ListAudit(1000);
    EXPECT_TRUE(all);
    std::vector<store::AuditEvent> out;
    if (!all) return out;
    for (const auto& e : *all) {
      if (e.action.rfind("health.", 0) == 0) out.push_back(e);
    }
    std::reverse(out.begin(), out.end());  // oldest first
    return out;
  }

  double GaugeValue(const std::string& status) {
    return metrics_.Gauge("modelgate_models", "", {{"status", status}}).Value();
  }
  uint64_t ProbeCount(const std::string& outcome) {
    return metrics_.Counter("modelgate_health_probes_total", "", {{"outcome", outcome}}).Value();
  }

  // Seconds of fake time until the model is probed again (1 s steps, at most `limit`).
  int SecondsUntilNextProbe(const std::string& id, int limit = 200) {
    const int before = provider_.calls_for(Pmid(id));
    for (int s = 1; s <= limit; ++s) {
      Tick(1s);
      if (provider_.calls_for(Pmid(id)) > before) return s;
    }
    return -1;
  }

  fs::path dir_;
  FakeClock clock_;
  server::Metrics metrics_;
  FakeProvider provider_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  asio::thread_pool pool_{1};
  asio::io_context io_;
  std::unique_ptr<state::SnapshotPublisher> publisher_;
  std::unique_ptr<HealthMonitor> monitor_;
};

TEST_F(HealthMonitorTest, NewModelIsCheckedAtOnceAndTheCheckIsRecorded) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  EXPECT_EQ(provider_.calls_for(Pmid("m1")), 1);
  const store::HealthState s = StateOf("m1");
  EXPECT_EQ(s.status, store::HealthStatus::kHealthy);
  EXPECT_TRUE(s.in_pool);
  EXPECT_EQ(s.last_checked_at, clock_.Now());
  EXPECT_EQ(s.next_check_at, clock_.Now() + 60s);
  const auto checks = Checks("m1");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, store::HealthStatus::kHealthy);
  EXPECT_EQ(checks[0].latency_ms, 25);
  const auto audit = HealthAudit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "health.healthy");
  EXPECT_EQ(audit[0].actor, "system");
  EXPECT_EQ(audit[0].target, "m1");
  EXPECT_EQ(GaugeValue("healthy"), 1);
  EXPECT_EQ(GaugeValue("unknown"), 0);
}

TEST_F(HealthMonitorTest, ModelAddedLaterIsCheckedAtOnceAndStartsUnknownInThePool) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  provider_.Block(true);
  AddModels("cred_a", {"m2"});
  monitor_->OnSnapshot(Rebuild());
  ASSERT_TRUE(RunUntil([&] { return provider_.held() == 1; }));
  EXPECT_EQ(StateOf("m2").status, store::HealthStatus::kUnknown);
  EXPECT_TRUE(monitor_->InPool("m2"));
  EXPECT_EQ(GaugeValue("unknown"), 1);
  provider_.Block(false);
  provider_.ReleaseAll();
  Settle();
  EXPECT_EQ(StateOf("m2").status, store::HealthStatus::kHealthy);
  EXPECT_EQ(provider_.calls_for(Pmid("m1")), 1);  // m1 was not re-probed
}

TEST_F(HealthMonitorTest, HealthyModelIsCheckedAgainAfterTheInterval) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  Tick(59s);
  EXPECT_EQ(provider_.calls(), 1);
  Tick(1s);
  EXPECT_EQ(provider_.calls(), 2);
  Tick(60s);
  EXPECT_EQ(provider_.calls(), 3);
}

TEST_F(HealthMonitorTest, EntersCooldownAfterFailureAndReturnsByItselfOnceTheFaultIsCleared) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  provider_.Fail("AKIDA", "permission_denied",
                 "AccessDeniedException (HTTP 403): an IAM policy does not allow this. AWS said: "
                 "User is not authorized to perform: bedrock:InvokeModel");
  StartMonitor();
  store::HealthState s = StateOf("m1");
  EXPECT_EQ(s.status, store::HealthStatus::kUnhealthy);
  EXPECT_FALSE(s.in_pool);
  EXPECT_EQ(s.cause, "permission_denied");
  EXPECT_THAT(s.message, HasSubstr("not authorized to perform: bedrock:InvokeModel"));
  EXPECT_THAT(s.message, HasSubstr("permission changes"));
  EXPECT_EQ(s.cooldown_until, clock_.Now() + 5s);
  EXPECT_FALSE(monitor_->InPool("m1"));
  EXPECT_FALSE(monitor_->PoolState("m1").in_pool);
  EXPECT_EQ(monitor_->PoolState("m1").retry_after, 5s);

  Tick(4s);
  EXPECT_EQ(provider_.calls(), 1);  // still cooling down
  EXPECT_EQ(monitor_->PoolState("m1").retry_after, 1s);
  provider_.Heal("AKIDA");
  Tick(1s);
  EXPECT_EQ(provider_.calls(), 2);
  s = StateOf("m1");
  EXPECT_EQ(s.status, store::HealthStatus::kHealthy);
  EXPECT_TRUE(s.in_pool);
  EXPECT_TRUE(monitor_->InPool("m1"));

  const auto audit = HealthAudit();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "health.unhealthy");
  EXPECT_THAT(audit[0].details, HasSubstr("\"cause\":\"permission_denied\""));
  EXPECT_THAT(audit[0].details, HasSubstr("\"in_pool\":false"));
  EXPECT_EQ(audit[1].action, "health.healthy");
  EXPECT_THAT(audit[1].details, HasSubstr("\"previous_cause\":\"permission_denied\""));
  for (const auto& e : audit) EXPECT_THAT(e.details, ::testing::Not(HasSubstr("secret-of-")));
  const auto checks = Checks("m1");  // newest first
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].status, store::HealthStatus::kHealthy);
  EXPECT_EQ(checks[1].cause, "permission_denied");
}

TEST_F(HealthMonitorTest, BackoffDoublesCappedAtInterval) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  provider_.Fail(Pmid("m1"), "provider_unavailable",
                 "ServiceUnavailableException (HTTP 503): Bedrock is unavailable");
  HealthMonitorOptions o = TestOptions();
  o.interval = 60s;
  o.cooldown = 5s;
  StartMonitor(o);
  std::vector<int> waits;
  for (int i = 0; i < 6; ++i) waits.push_back(SecondsUntilNextProbe("m1"));
  EXPECT_THAT(waits, ::testing::ElementsAre(5, 10, 20, 40, 60, 60));
  EXPECT_EQ(StateOf("m1").consecutive_failures, 7);
  // Only the first failure was a transition.
  EXPECT_EQ(HealthAudit().size(), 1u);
  provider_.Heal(Pmid("m1"));
  EXPECT_EQ(SecondsUntilNextProbe("m1"), 60);
  EXPECT_EQ(StateOf("m1").status, store::HealthStatus::kHealthy);
  EXPECT_EQ(SecondsUntilNextProbe("m1"), 60);
}

TEST_F(HealthMonitorTest, RealSuccessCountsAsCheck) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  Tick(10s);
  const SystemTime served = clock_.Now();
  monitor_->RecordOutcome("m1", nullptr, 120ms);
  Tick(50s);
  EXPECT_EQ(provider_.calls(), 1);  // no probe: the real request counted
  store::HealthState s = StateOf("m1");
  EXPECT_EQ(s.status, store::HealthStatus::kHealthy);
  EXPECT_THAT(s.message,
              HasSubstr("Served a request successfully at " + FormatRfc3339Millis(served)));
  EXPECT_THAT(s.message, HasSubstr("no probe needed"));
  EXPECT_EQ(s.last_checked_at, clock_.Now());
  const auto checks = Checks("m1");
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].latency_ms, 120);
  // Without real traffic in the next interval, the model is probed again.
  Tick(60s);
  EXPECT_EQ(provider_.calls(), 2);
  EXPECT_EQ(StateOf("m1").message, "");
}

TEST_F(HealthMonitorTest, TriggeredCheckProbesEvenAfterARealSuccess) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  monitor_->RecordOutcome("m1", nullptr, 10ms);
  monitor_->CheckModelsNow({"m1", "no-such-model"});
  Settle();
  EXPECT_EQ(provider_.calls(), 2);
}

TEST_F(HealthMonitorTest, OneBadCredentialLeavesOtherCredentialsModelsHealthy) {
  AddCredential("cred_a", "AKIDA");
  AddCredential("cred_b", "AKIDB");
  AddModels("cred_a", {"a1", "a2"});
  AddModels("cred_b", {"b1", "b2"});
  provider_.Fail("AKIDA", "credentials_invalid",
                 "UnrecognizedClientException (HTTP 403): the access key id is unknown to AWS");
  StartMonitor();
  for (const char* id : {"a1", "a2"}) {
    EXPECT_EQ(StateOf(id).cause, "credentials_invalid") << id;
    EXPECT_FALSE(monitor_->InPool(id)) << id;
  }
  // Real traffic of the broken credential fails too; the other credential's models stay.
  const Error auth = RealError("credentials_invalid");
  monitor_->RecordOutcome("a1", &auth, 5ms);
  Settle();
  for (const char* id : {"b1", "b2"}) {
    EXPECT_EQ(StateOf(id).status, store::HealthStatus::kHealthy) << id;
    EXPECT_TRUE(monitor_->InPool(id)) << id;
  }
  EXPECT_EQ(GaugeValue("healthy"), 2);
  EXPECT_EQ(GaugeValue("unhealthy"), 2);
}

TEST_F(HealthMonitorTest, CredentialRotationRestoresAllItsModelsAtOnce) {
  AddCredential("cred_a", "AKIDA");
  AddCredential("cred_b", "AKIDB");
  AddModels("cred_a", {"a1", "a2", "a3"});
  AddModels("cred_b", {"b1"});
  provider_.Fail("AKIDA", "credentials_invalid", "UnrecognizedClientException (HTTP 403): revoked");
  StartMonitor();
  ASSERT_FALSE(monitor_->InPool("a1"));
  RotateCredential("cred_a", "AKIDA2");
  Publish();  // no clock advance: the rotation itself triggers the checks
  for (const char* id : {"a1", "a2", "a3"}) {
    EXPECT_EQ(provider_.calls_for(Pmid(id)), 2) << id;
    EXPECT_EQ(StateOf(id).status, store::HealthStatus::kHealthy) << id;
    EXPECT_TRUE(monitor_->InPool(id)) << id;
  }
  EXPECT_EQ(provider_.calls_for(Pmid("b1")), 1);
}

TEST_F(HealthMonitorTest, CheckCredentialNowProbesOnlyThatCredentialsModels) {
  AddCredential("cred_a", "AKIDA");
  AddCredential("cred_b", "AKIDB");
  AddModels("cred_a", {"a1", "a2"});
  AddModels("cred_b", {"b1"});
  StartMonitor();
  monitor_->CheckCredentialNow("cred_a");
  Settle();
  EXPECT_EQ(provider_.calls_for(Pmid("a1")), 2);
  EXPECT_EQ(provider_.calls_for(Pmid("a2")), 2);
  EXPECT_EQ(provider_.calls_for(Pmid("b1")), 1);
}

TEST_F(HealthMonitorTest, PassiveCredentialFailureTakesTheModelOutAtOnce) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  const Error auth = RealError("credentials_invalid");
  monitor_->RecordOutcome("m1", &auth, 30ms);
  // Out for the very next request, before the monitor's thread has run at all.
  EXPECT_FALSE(monitor_->InPool("m1"));
  EXPECT_EQ(monitor_->PoolState("m1").retry_after, 5s);
  Settle();
  const store::HealthState s = StateOf("m1");
  EXPECT_EQ(s.status, store::HealthStatus::kUnhealthy);
  EXPECT_EQ(s.cause, "credentials_invalid");
  EXPECT_THAT(s.message, StartsWith("1 failure of a real request: RealError"));
  EXPECT_EQ(provider_.calls(), 1);  // no probe needed to take it out
  const auto audit = HealthAudit();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_THAT(audit[1].details, HasSubstr("\"source\":\"passive\""));
  // After the cooldown a probe (which succeeds) brings it back.
  Tick(5s);
  EXPECT_EQ(provider_.calls(), 2);
  EXPECT_TRUE(monitor_->InPool("m1"));
}

TEST_F(HealthMonitorTest, PassiveProviderFaultsNeedThreeConsecutiveFailures) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  const Error outage = RealError("provider_unavailable");
  monitor_->RecordOutcome("m1", &outage, 5ms);
  monitor_->RecordOutcome("m1", &outage, 5ms);
  Settle();
  EXPECT_TRUE(monitor_->InPool("m1"));
  monitor_->RecordOutcome("m1", nullptr, 5ms);  // a success resets the count
  monitor_->RecordOutcome("m1", &outage, 5ms);
  monitor_->RecordOutcome("m1", &outage, 5ms);
  Settle();
  EXPECT_TRUE(monitor_->InPool("m1"));
  monitor_->RecordOutcome("m1", &outage, 5ms);
  EXPECT_FALSE(monitor_->InPool("m1"));
  Settle();
  EXPECT_EQ(StateOf("m1").cause, "provider_unavailable");
  EXPECT_THAT(StateOf("m1").message, StartsWith("3 consecutive failures of real requests: "));
}

TEST_F(HealthMonitorTest, CallerErrorsAndDisconnectsNeverTakeTheModelOut) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  const Error caller = InvalidArgument("temperature must be at most 1");
  const Error rejected = RealError("model_rejected_request", "upstream_invalid_request");
  const Error gone = RealError("network", "client_disconnected");
  const Error cancelled = RealError("timeout", "cancelled");
  for (int i = 0; i < 10; ++i) {
    for (const Error* e : {&caller, &rejected, &gone, &cancelled}) {
      monitor_->RecordOutcome("m1", e, 5ms);
    }
  }
  EXPECT_EQ(monitor_->PendingWork(), 0u);
  Settle();
  EXPECT_TRUE(monitor_->InPool("m1"));
  EXPECT_EQ(StateOf("m1").status, store::HealthStatus::kHealthy);
  EXPECT_EQ(Checks("m1").size(), 1u);
}

TEST_F(HealthMonitorTest, PassiveDetectionCanBeTurnedOff) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  HealthMonitorOptions o = TestOptions();
  o.passive_threshold = 0;
  StartMonitor(o);
  const Error auth = RealError("credentials_invalid");
  for (int i = 0; i < 10; ++i) monitor_->RecordOutcome("m1", &auth, 5ms);
  Settle();
  EXPECT_TRUE(monitor_->InPool("m1"));
  EXPECT_EQ(StateOf("m1").status, store::HealthStatus::kHealthy);
  // Real successes still count as checks.
  Tick(1s);
  monitor_->RecordOutcome("m1", nullptr, 5ms);
  Tick(59s);
  EXPECT_EQ(provider_.calls(), 1);
}

TEST_F(HealthMonitorTest, PassiveThrottlingKeepsTheModelInThePoolAndShowsThrottled) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  Error throttled = RealError("throttled", "upstream_rate_limited");
  throttled.retry_after = 2s;
  for (int i = 0; i < 20; ++i) monitor_->RecordOutcome("m1", &throttled, 5ms);
  EXPECT_TRUE(monitor_->InPool("m1"));
  Settle();
  store::HealthState s = StateOf("m1");
  EXPECT_EQ(s.status, store::HealthStatus::kUnhealthy);
  EXPECT_EQ(s.cause, "throttled");
  EXPECT_TRUE(s.in_pool);
  EXPECT_EQ(s.next_check_at, clock_.Now() + 2s);  // the provider's retry hint
  EXPECT_EQ(Checks("m1").size(), 2u);             // one event, not twenty
  Tick(2s);
  EXPECT_EQ(provider_.calls(), 2);
  EXPECT_EQ(StateOf("m1").status, store::HealthStatus::kHealthy);
}

TEST_F(HealthMonitorTest, ThrottledProbeHonoursTheRetryHint) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  provider_.Fail("AKIDA", "throttled", "ThrottlingException (HTTP 429): slow down", 3s);
  StartMonitor();
  EXPECT_TRUE(monitor_->InPool("m1"));
  EXPECT_EQ(StateOf("m1").cause, "throttled");
  EXPECT_EQ(SecondsUntilNextProbe("m1"), 3);
}

TEST_F(HealthMonitorTest, ConcurrencyIsBounded) {
  AddCredential("cred_a", "AKIDA");
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back("m" + std::to_string(i));
  AddModels("cred_a", ids);
  HealthMonitorOptions o = TestOptions();
  o.concurrency = 4;
  provider_.Block(true);
  monitor_ = std::make_unique<HealthMonitor>(
      io_, [this](std::string_view) -> providers::Provider* { return &provider_; }, *store_, pool_,
      clock_, metrics_, o);
  monitor_->OnSnapshot(Rebuild());
  ASSERT_TRUE(RunUntil([&] { return provider_.held() == 4; }));
  EXPECT_EQ(provider_.calls(), 4);
  EXPECT_EQ(monitor_->ProbesInFlight(), 4u);
  while (provider_.calls() < 20) {
    const int before = provider_.calls();
    provider_.ReleaseAll();
    ASSERT_TRUE(RunUntil([&] { return provider_.calls() > before && provider_.held() == 4; }) ||
                provider_.calls() == 20);
  }
  provider_.Block(false);
  provider_.ReleaseAll();
  Settle();
  EXPECT_EQ(provider_.max_concurrent(), 4);
  for (const auto& id : ids) EXPECT_EQ(provider_.calls_for(Pmid(id)), 1) << id;
}

TEST_F(HealthMonitorTest, CheckNowJoinsTheProbeInFlight) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  provider_.Block(true);
  monitor_ = std::make_unique<HealthMonitor>(
      io_, [this](std::string_view) -> providers::Provider* { return &provider_; }, *store_, pool_,
      clock_, metrics_, TestOptions());
  monitor_->OnSnapshot(Rebuild());
  ASSERT_TRUE(RunUntil([&] { return provider_.held() == 1; }));
  std::vector<Result<CheckOutcome>> results;
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(io_, monitor_->CheckNow("m1"),
                   [&](std::exception_ptr e, Result<CheckOutcome> r) {
                     ASSERT_FALSE(e);
                     results.push_back(std::move(r));
                   });
  }
  io_.restart();
  io_.poll();
  EXPECT_TRUE(results.empty());  // waiting for the probe in flight
  provider_.Block(false);
  provider_.ReleaseAll();
  ASSERT_TRUE(RunUntil([&] { return results.size() == 2 && monitor_->PendingWork() == 0; }));
  EXPECT_EQ(provider_.calls(), 1);
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->state.status, store::HealthStatus::kHealthy);
    EXPECT_EQ(r->check.status, store::HealthStatus::kHealthy);
    EXPECT_EQ(r->check.latency_ms, 25);
  }
}

TEST_F(HealthMonitorTest, CheckNowProbesAndReturnsTheRecordedCheck) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  Tick(3s);
  provider_.Fail("AKIDA", "credentials_invalid", "UnrecognizedClientException (HTTP 403): gone");
  std::optional<Result<CheckOutcome>> result;
  asio::co_spawn(io_, monitor_->CheckNow("m1"),
                 [&](std::exception_ptr, Result<CheckOutcome> r) { result = std::move(r); });
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }));
  ASSERT_TRUE(*result) << (*result).error().message;
  const CheckOutcome& out = **result;
  EXPECT_EQ(provider_.calls(), 2);
  EXPECT_EQ(out.state.status, store::HealthStatus::kUnhealthy);
  EXPECT_FALSE(out.state.in_pool);
  EXPECT_EQ(out.check.cause, "credentials_invalid");
  EXPECT_EQ(out.check.at, clock_.Now());
  // Already in the store when CheckNow completes.
  const auto checks = Checks("m1");
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].at, out.check.at);
  EXPECT_EQ(checks[0].cause, "credentials_invalid");
}

TEST_F(HealthMonitorTest, ChecksReachTheStoreTogetherAfterTheCoalescingDelay) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1", "m2", "m3"});
  HealthMonitorOptions options = TestOptions();
  options.write_coalesce = 150ms;
  const auto started = std::chrono::steady_clock::now();
  StartMonitor(options);  // settles: the three first checks are probed and written
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
  for (const char* m : {"m1", "m2", "m3"}) EXPECT_EQ(Checks(m).size(), 1u) << m;
}

TEST_F(HealthMonitorTest, CheckNowDoesNotWaitForTheCoalescingDelay) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  HealthMonitorOptions options = TestOptions();
  options.write_coalesce = std::chrono::seconds(30);
  monitor_ = std::make_unique<HealthMonitor>(
      io_, [this](std::string_view) -> providers::Provider* { return &provider_; }, *store_,
      pool_, clock_, metrics_, options);
  monitor_->OnSnapshot(Rebuild());
  std::optional<Result<CheckOutcome>> result;
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(io_, monitor_->CheckNow("m1"),
                 [&](std::exception_ptr, Result<CheckOutcome> r) { result = std::move(r); });
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_TRUE(*result) << (*result).error().message;
  EXPECT_FALSE(Checks("m1").empty());  // recorded when CheckNow completed
}

TEST_F(HealthMonitorTest, CheckNowOfAnUnknownModelIsNotFound) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  std::optional<Result<CheckOutcome>> result;
  asio::co_spawn(io_, monitor_->CheckNow("nope"),
                 [&](std::exception_ptr, Result<CheckOutcome> r) { result = std::move(r); });
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }));
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code, ErrorCode::kNotFound);
  EXPECT_EQ(result->error().reason, "model_not_found");
}

TEST_F(HealthMonitorTest, ADataPlaneRequestNeverWaitsOnAProbe) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1", "m2"});
  provider_.Block(true);
  monitor_ = std::make_unique<HealthMonitor>(
      io_, [this](std::string_view) -> providers::Provider* { return &provider_; }, *store_, pool_,
      clock_, metrics_, TestOptions());
  // The monitor's executor runs on its own thread, as in the server.
  auto work = asio::make_work_guard(io_);
  io_.restart();
  std::thread health_thread([this] { io_.run(); });
  monitor_->OnSnapshot(Rebuild());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (provider_.held() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(provider_.held(), 2);  // both probes are stuck upstream
  const Error outage = RealError("provider_unavailable");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; ++i) {
    EXPECT_TRUE(monitor_->InPool("m1"));
    EXPECT_TRUE(monitor_->PoolState("m2").in_pool);
    monitor_->RecordOutcome("m1", nullptr, 1ms);
    monitor_->RecordOutcome("m2", (i % 2) ? &outage : nullptr, 1ms);
    EXPECT_TRUE(monitor_->State("m1").has_value());
  }
  monitor_->CheckModelsNow({"m1"});
  monitor_->CheckCredentialNow("cred_a");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 2s);
  EXPECT_EQ(provider_.held(), 2);  // still held: nothing above waited for them
  provider_.Block(false);
  provider_.ReleaseAll();
  const auto settle_deadline = std::chrono::steady_clock::now() + 10s;
  while ((monitor_->PendingWork() > 0 || provider_.held() > 0) &&
         std::chrono::steady_clock::now() < settle_deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(monitor_->PendingWork(), 0u);
  work.reset();
  io_.stop();
  health_thread.join();
  io_.restart();
}

TEST_F(HealthMonitorTest, RestartKeepsTheStoredState) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  provider_.Fail("AKIDA", "permission_denied");
  StartMonitor();
  ASSERT_FALSE(monitor_->InPool("m1"));
  Settle();
  monitor_.reset();

  // A new process: the stored state is known before any probe.
  StartMonitor();
  EXPECT_EQ(provider_.calls(), 1);
  const store::HealthState s = StateOf("m1");
  EXPECT_EQ(s.status, store::HealthStatus::kUnhealthy);
  EXPECT_EQ(s.cause, "permission_denied");
  EXPECT_FALSE(monitor_->InPool("m1"));
  provider_.Heal("AKIDA");
  EXPECT_EQ(SecondsUntilNextProbe("m1"), 5);  // at the stored next_check_at
  EXPECT_TRUE(monitor_->InPool("m1"));
}

TEST_F(HealthMonitorTest, StartupSpreadsKnownModelsOverTheIntervalAndChecksNewOnesAtOnce) {
  AddCredential("cred_a", "AKIDA");
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back("m" + std::to_string(i));
  AddModels("cred_a", ids);
  AddModels("cred_a", {"fresh"});
  for (const auto& id : ids) {
    // Known healthy before the restart, last due long ago (the gateway was down).
    store::HealthState h;
    h.model_id = id;
    h.status = store::HealthStatus::kHealthy;
    h.last_checked_at = clock_.Now() - 2h;
    h.next_check_at = clock_.Now() - 1h;
    ASSERT_TRUE(store_->RecordHealth(h, std::nullopt, 10, std::nullopt));
  }
  HealthMonitorOptions o = TestOptions();
  o.interval = 100s;
  o.spread_start = true;
  StartMonitor(o);
  EXPECT_EQ(provider_.calls(), 1);  // only the model without a stored state
  EXPECT_EQ(provider_.calls_for(Pmid("fresh")), 1);
  std::vector<int> per_step;
  for (int step = 0; step < 10; ++step) {
    const int before = provider_.calls();
    Tick(10s);
    per_step.push_back(provider_.calls() - before);
  }
  for (const auto& id : ids) EXPECT_EQ(provider_.calls_for(Pmid(id)), 1) << id;
  EXPECT_EQ(provider_.calls_for(Pmid("fresh")), 2);  // at once, then one interval later
  per_step.back() -= 1;
  const int busiest = *std::max_element(per_step.begin(), per_step.end());
  EXPECT_LT(busiest, 15) << "checks should be spread over the interval";
  EXPECT_GE(std::count_if(per_step.begin(), per_step.end(), [](int n) { return n > 0; }), 7);
}

TEST_F(HealthMonitorTest, RemovedModelIsForgotten) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1", "m2"});
  StartMonitor();
  ASSERT_TRUE(store_->DeleteModel("m1", Audit("model.delete")));
  Publish();
  EXPECT_FALSE(monitor_->State("m1").has_value());
  EXPECT_TRUE(monitor_->InPool("m1"));  // unknown to the monitor: not its call
  const Error auth = RealError("credentials_invalid");
  monitor_->RecordOutcome("m1", &auth, 1ms);
  Tick(60s);
  EXPECT_EQ(provider_.calls_for(Pmid("m1")), 1);
  EXPECT_EQ(provider_.calls_for(Pmid("m2")), 2);
  EXPECT_EQ(GaugeValue("healthy"), 1);
}

TEST_F(HealthMonitorTest, ConfigChangeDuringAProbeDiscardsTheStaleResult) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  provider_.Fail("AKIDA", "credentials_invalid");
  provider_.Block(true);
  monitor_ = std::make_unique<HealthMonitor>(
      io_, [this](std::string_view) -> providers::Provider* { return &provider_; }, *store_, pool_,
      clock_, metrics_, TestOptions());
  monitor_->OnSnapshot(Rebuild());
  ASSERT_TRUE(RunUntil([&] { return provider_.held() == 1; }));
  RotateCredential("cred_a", "AKIDA2");
  monitor_->OnSnapshot(Rebuild());
  io_.restart();
  io_.poll();
  provider_.Block(false);
  provider_.ReleaseAll();  // the old probe now fails with the old key
  Settle();
  EXPECT_EQ(provider_.calls(), 2);
  EXPECT_EQ(StateOf("m1").status, store::HealthStatus::kHealthy);
  const auto checks = Checks("m1");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, store::HealthStatus::kHealthy);
  for (const auto& e : HealthAudit()) EXPECT_EQ(e.action, "health.healthy");
}

TEST_F(HealthMonitorTest, HistoryIsBounded) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  HealthMonitorOptions o = TestOptions();
  o.history = 3;
  StartMonitor(o);
  for (int i = 0; i < 4; ++i) Tick(60s);
  EXPECT_EQ(provider_.calls(), 5);
  const auto checks = Checks("m1");
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].at, clock_.Now());
}

TEST_F(HealthMonitorTest, AStoreThatLagsBehindKeepsTheNewestStateAndEveryTransition) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  StartMonitor();
  // Hold the store pool's only thread: writes queue up behind it.
  std::promise<void> gate;
  asio::post(pool_, [held = gate.get_future().share()] { held.wait(); });
  auto probe = [&](int calls) {
    clock_.Advance(60s);
    monitor_->RunOnce();
    ASSERT_TRUE(RunUntil([&] { return provider_.calls() == calls; }));
  };
  probe(2);  // healthy: being written (waits for the pool)
  probe(3);  // healthy: queued
  probe(4);  // healthy: supersedes the queued one
  provider_.Fail("AKIDA", "permission_denied");
  probe(5);  // unhealthy (a transition): supersedes it too, with its audit event
  probe(6);  // unhealthy again: queued after the transition, which must stay
  provider_.Heal("AKIDA");
  probe(7);  // healthy (a transition): supersedes the last one
  EXPECT_EQ(monitor_->PendingWork(), 3u);
  gate.set_value();
  Settle();
  const auto checks = Checks("m1");  // newest first
  ASSERT_EQ(checks.size(), 4u);
  EXPECT_EQ(checks[0].status, store::HealthStatus::kHealthy);
  EXPECT_EQ(checks[1].cause, "permission_denied");
  EXPECT_EQ(checks[2].status, store::HealthStatus::kHealthy);
  std::vector<std::string> actions;
  for (const auto& e : HealthAudit()) actions.push_back(e.action);
  EXPECT_THAT(actions,
              ::testing::ElementsAre("health.healthy", "health.unhealthy", "health.healthy"));
  EXPECT_EQ(metrics_.Counter("modelgate_health_checks_superseded_total", "").Value(), 3u);
  // The stored state is the newest one.
  auto snap = Rebuild();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->health().size(), 1u);
  EXPECT_EQ(snap->health()[0].status, store::HealthStatus::kHealthy);
  EXPECT_EQ(snap->health()[0].last_checked_at, clock_.Now());
}

TEST_F(HealthMonitorTest, MetricsCountModelsByStatusAndProbesByOutcome) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"ok1", "ok2", "slow"});
  provider_.Fail(Pmid("slow"), "timeout", "ModelTimeoutException (HTTP 408): too long");
  StartMonitor();
  EXPECT_EQ(GaugeValue("healthy"), 2);
  EXPECT_EQ(GaugeValue("unhealthy"), 1);
  EXPECT_EQ(GaugeValue("unknown"), 0);
  EXPECT_EQ(ProbeCount("healthy"), 2u);
  EXPECT_EQ(ProbeCount("timeout"), 1u);
  const server::Histogram& h = metrics_.Histogram("modelgate_health_probe_seconds", "", {});
  EXPECT_EQ(h.Count(), 3u);
  EXPECT_DOUBLE_EQ(h.Sum(), 0.075);
  const std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("modelgate_models{status=\"healthy\"} 2"));
  EXPECT_THAT(text, HasSubstr("modelgate_health_probes_total{outcome=\"timeout\"} 1"));
}

TEST_F(HealthMonitorTest, LegacyModelStaysInThePoolWithADeprecationWarning) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"old"}, "LEGACY");
  AddModels("cred_a", {"retired"}, "LEGACY");
  provider_.Fail(Pmid("retired"), "model_deprecated",
                 "ResourceNotFoundException (HTTP 404): the model is retired or legacy. AWS said: "
                 "This model version has reached the end of its life.");
  StartMonitor();
  const store::HealthState legacy = StateOf("old");
  EXPECT_EQ(legacy.status, store::HealthStatus::kHealthy);
  EXPECT_TRUE(legacy.in_pool);
  EXPECT_THAT(legacy.message, HasSubstr("LEGACY"));
  const store::HealthState retired = StateOf("retired");
  EXPECT_EQ(retired.cause, "model_deprecated");
  EXPECT_FALSE(retired.in_pool);
  EXPECT_THAT(retired.message, HasSubstr("end of its life"));
}

TEST_F(HealthMonitorTest, ProbeUsesTheModelsOwnCredentialAndRegion) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  // A failure scripted for another key must not matter to this model.
  provider_.Fail("AKIDOTHER", "credentials_invalid");
  StartMonitor();
  EXPECT_EQ(StateOf("m1").status, store::HealthStatus::kHealthy);
}

TEST_F(HealthMonitorTest, SchedulerRunsChecksByItselfOnAShortInterval) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1"});
  RealClock real;
  HealthMonitorOptions o = TestOptions();
  o.interval = 20ms;
  o.cooldown = 10ms;
  monitor_ = std::make_unique<HealthMonitor>(
      io_, [this](std::string_view) -> providers::Provider* { return &provider_; }, *store_, pool_,
      real, metrics_, o);
  monitor_->OnSnapshot(Rebuild());
  asio::cancellation_signal stop;
  bool done = false;
  asio::co_spawn(io_, monitor_->Run(),
                 asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                   EXPECT_FALSE(e);
                   done = true;
                 }));
  ASSERT_TRUE(RunUntil([&] { return provider_.calls() >= 4; }));
  stop.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(RunUntil([&] { return done; }));
  const int calls = provider_.calls();
  io_.restart();
  io_.run_for(60ms);
  EXPECT_EQ(provider_.calls(), calls);  // stopped: no more probes
}

TEST_F(HealthMonitorTest, ShutdownCancelsProbesInFlightAndEndsPromptly) {
  AddCredential("cred_a", "AKIDA");
  AddModels("cred_a", {"m1", "m2"});
  provider_.Block(true);
  monitor_ = std::make_unique<HealthMonitor>(
      io_, [this](std::string_view) -> providers::Provider* { return &provider_; }, *store_, pool_,
      clock_, metrics_, TestOptions());
  monitor_->OnSnapshot(Rebuild());
  asio::cancellation_signal stop;
  bool done = false;
  asio::co_spawn(io_, monitor_->Run(),
                 asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e) {
                   EXPECT_FALSE(e);
                   done = true;
                 }));
  std::optional<Result<CheckOutcome>> waiting;
  asio::co_spawn(io_, monitor_->CheckNow("m1"),
                 [&](std::exception_ptr, Result<CheckOutcome> r) { waiting = std::move(r); });
  ASSERT_TRUE(RunUntil([&] { return provider_.held() == 2; }));
  const auto start = std::chrono::steady_clock::now();
  stop.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(RunUntil([&] { return done && waiting.has_value(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(provider_.cancelled(), 2);
  EXPECT_EQ(monitor_->ProbesInFlight(), 0u);
  ASSERT_FALSE(*waiting);
  EXPECT_EQ(waiting->error().reason, "health_monitor_stopped");
  // Cancelled probes are not recorded as failures.
  EXPECT_EQ(StateOf("m1").status, store::HealthStatus::kUnknown);
  EXPECT_TRUE(Checks("m1").empty());
  std::optional<Result<CheckOutcome>> after;
  asio::co_spawn(io_, monitor_->CheckNow("m2"),
                 [&](std::exception_ptr, Result<CheckOutcome> r) { after = std::move(r); });
  ASSERT_TRUE(RunUntil([&] { return after.has_value(); }));
  ASSERT_FALSE(*after);
  EXPECT_EQ(after->error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace mg::health
