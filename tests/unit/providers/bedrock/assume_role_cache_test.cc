// AssumeRoleCache: reuse until 5 min before expiry, single flight, failures not cached,
// invalidation after ExpiredToken.
#include "providers/bedrock/assume_role_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mg::providers::bedrock {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class ManualClock final : public Clock {
 public:
  SystemTime Now() const override { return now; }
  SteadyTime SteadyNow() const override { return SteadyTime{} + (now - SystemTime{}); }
  SystemTime now = SystemTime{} + std::chrono::hours(24 * 365 * 54);
};

struct Harness {
  ManualClock clock;
  AssumeRoleCache cache{clock};
  asio::io_context io;
  std::atomic<int> fetches{0};
  bool fail = false;

  AssumeRoleCache::Fetch MakeFetch(std::chrono::milliseconds delay = 0ms) {
    return [this, delay]() -> asio::awaitable<AwsResult<aws::AssumedRole>> {
      const int n = ++fetches;
      if (delay.count() > 0) {
        asio::steady_timer t(co_await asio::this_coro::executor);
        t.expires_after(delay);
        co_await t.async_wait(asio::use_awaitable);
      }
      if (fail) co_return CallFailure{aws::NetworkFailure("refused")};
      aws::AssumedRole role;
      role.credentials.access_key_id = "ASIA" + std::to_string(n);
      role.credentials.secret_access_key = Secret("s");
      role.credentials.session_token = Secret("t");
      role.expiration = clock.now + 1h;
      co_return role;
    };
  }

  AwsResult<aws::Credentials> Get(const std::string& key) {
    std::optional<AwsResult<aws::Credentials>> out;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { out = co_await cache.Get(key, MakeFetch()); },
        asio::detached);
    io.restart();
    io.run();
    return *out;
  }
};

TEST(AssumeRoleCache, ReusesUntilFiveMinutesBeforeExpiry) {
  Harness h;
  auto a = h.Get("k");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->access_key_id, "ASIA1");
  h.clock.now += 54min;
  EXPECT_EQ(h.Get("k")->access_key_id, "ASIA1");
  EXPECT_EQ(h.fetches, 1);
  h.clock.now += 1min + 1s;  // less than 5 min left
  EXPECT_EQ(h.Get("k")->access_key_id, "ASIA2");
  EXPECT_EQ(h.fetches, 2);
}

TEST(AssumeRoleCache, KeysAreIndependent) {
  Harness h;
  EXPECT_EQ(h.Get(AssumeRoleCache::MakeKey("c1@1", "arn:r", "s", "", "us-east-1", "AK"))
                ->access_key_id,
            "ASIA1");
  EXPECT_EQ(h.Get(AssumeRoleCache::MakeKey("c1@2", "arn:r", "s", "", "us-east-1", "AK"))
                ->access_key_id,
            "ASIA2");
  EXPECT_EQ(h.cache.size(), 2u);
}

TEST(AssumeRoleCache, ConcurrentCallersShareOneFetch) {
  Harness h;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        h.io,
        [&]() -> asio::awaitable<void> {
          auto r = co_await h.cache.Get("k", h.MakeFetch(20ms));
          ids.push_back(r ? r->access_key_id : "error");
        },
        asio::detached);
  }
  h.io.run();
  EXPECT_EQ(h.fetches, 1);
  ASSERT_EQ(ids.size(), 5u);
  for (const auto& id : ids) EXPECT_EQ(id, "ASIA1");
}

TEST(AssumeRoleCache, FailuresAreSharedButNotCached) {
  Harness h;
  h.fail = true;
  auto r = h.Get("k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error().health_cause, "network");
  h.fail = false;
  EXPECT_TRUE(h.Get("k").has_value());
  EXPECT_EQ(h.fetches, 2);
}

TEST(AssumeRoleCache, InvalidateDropsOnlyMatchingKeyId) {
  Harness h;
  ASSERT_TRUE(h.Get("k").has_value());
  h.cache.Invalidate("k", "ASIA-other");
  EXPECT_EQ(h.Get("k")->access_key_id, "ASIA1");
  h.cache.Invalidate("k", "ASIA1");
  EXPECT_EQ(h.Get("k")->access_key_id, "ASIA2");
}

// Each thread answers repeated calls from what it saw last; a change made on any thread (here an
// invalidation) reaches every thread's next call.
TEST(AssumeRoleCache, EveryThreadSeesAnInvalidation) {
  Harness h;
  auto on_thread = [&h](const std::string& key) {
    std::optional<AwsResult<aws::Credentials>> out;
    std::thread([&] { out = h.Get(key); }).join();
    return out->value().access_key_id;
  };
  EXPECT_EQ(on_thread("k"), "ASIA1");
  EXPECT_EQ(h.Get("k")->access_key_id, "ASIA1");
  EXPECT_EQ(h.Get("k")->access_key_id, "ASIA1");  // this thread's own copy now
  EXPECT_EQ(h.fetches, 1);
  h.cache.Invalidate("k", "ASIA1");
  EXPECT_EQ(on_thread("k"), "ASIA2");
  EXPECT_EQ(h.Get("k")->access_key_id, "ASIA2");  // not the stale ASIA1 of this thread
  EXPECT_EQ(h.fetches, 2);
  h.clock.now += 56min;  // a thread's copy expires like the shared one
  EXPECT_EQ(h.Get("k")->access_key_id, "ASIA3");
}

TEST(AssumeRoleCache, TwoCachesOnOneThreadDoNotShareEntries) {
  Harness a;
  Harness b;
  EXPECT_EQ(a.Get("k")->access_key_id, "ASIA1");
  a.fail = true;  // a's next fetch would fail; b must still fetch its own
  EXPECT_EQ(b.Get("k")->access_key_id, "ASIA1");
  EXPECT_EQ(b.fetches, 1);
  b.cache.Invalidate("k", "ASIA1");
  EXPECT_EQ(a.Get("k")->access_key_id, "ASIA1");  // still cached in a
  EXPECT_EQ(a.fetches, 1);
}

TEST(AssumeRoleCache, CancelledLeaderReleasesWaitersAndTheNextCallFetchesAgain) {
  Harness h;
  asio::cancellation_signal cancel_leader;
  bool leader_threw = false;
  std::string waiter_outcome;
  asio::co_spawn(
      h.io,
      [&]() -> asio::awaitable<void> {
        AssumeRoleCache::Fetch slow = h.MakeFetch(10s);
        co_await h.cache.Get("k", std::move(slow));
      },
      asio::bind_cancellation_slot(cancel_leader.slot(),
                                   [&](std::exception_ptr e) { leader_threw = e != nullptr; }));
  asio::co_spawn(
      h.io,
      [&]() -> asio::awaitable<void> {
        AssumeRoleCache::Fetch unused = h.MakeFetch();
        auto r = co_await h.cache.Get("k", std::move(unused));
        waiter_outcome = r ? r->access_key_id : r.error().error().reason;
      },
      asio::detached);
  asio::steady_timer later(h.io, 20ms);
  later.async_wait([&](boost::system::error_code) {
    cancel_leader.emit(asio::cancellation_type::terminal);
  });
  h.io.run_for(5s);
  EXPECT_TRUE(leader_threw);
  EXPECT_EQ(waiter_outcome, "cancelled");
  EXPECT_EQ(h.fetches, 1);
  // The flight is closed: a new caller leads a new one instead of waiting forever.
  auto again = h.Get("k");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(h.fetches, 2);
}

}  // namespace
}  // namespace mg::providers::bedrock
