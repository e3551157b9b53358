// RateBucket: a burst is allowed, then calls wait for the refill; the wait is reported.
#include "state/rate_limit.h"

#include <gtest/gtest.h>

namespace mg::state {
namespace {

using std::chrono::milliseconds;

TEST(RateBucket, AllowsTheBurstThenReportsTheWaitForTheNextToken) {
  RateBucket b;
  const SteadyTime t0{};
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(b.TryTake(t0, /*per_second=*/2.0, /*burst=*/3.0));
  auto wait = b.TryTake(t0, 2.0, 3.0);
  ASSERT_TRUE(wait);
  EXPECT_NEAR(wait->count(), 500, 2);  // one token every 500 ms
  EXPECT_FALSE(b.TryTake(t0 + milliseconds(500), 2.0, 3.0));
  EXPECT_TRUE(b.TryTake(t0 + milliseconds(600), 2.0, 3.0));
}

TEST(RateBucket, RefillStopsAtTheBurst) {
  RateBucket b;
  const SteadyTime t0{};
  EXPECT_FALSE(b.TryTake(t0, 1.0, 2.0));
  // An hour idle refills to the burst (2), not to 3600.
  const SteadyTime later = t0 + std::chrono::hours(1);
  EXPECT_FALSE(b.TryTake(later, 1.0, 2.0));
  EXPECT_FALSE(b.TryTake(later, 1.0, 2.0));
  EXPECT_TRUE(b.TryTake(later, 1.0, 2.0));
}

}  // namespace
}  // namespace mg::state
