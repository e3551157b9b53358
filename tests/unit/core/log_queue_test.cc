#include "core/log_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace mg::log::detail {
namespace {

Record Make(std::string text, LogLevel level = LogLevel::kInfo, int64_t us = 0) {
  return Record{level, us, std::move(text)};
}

TEST(LogQueue, RoundsCapacityUpToAPowerOfTwo) {
  EXPECT_EQ(LogQueue(0).capacity(), 2u);
  EXPECT_EQ(LogQueue(5).capacity(), 8u);
  EXPECT_EQ(LogQueue(8192).capacity(), 8192u);
}

TEST(LogQueue, DeliversInOrderAndRefusesWhenFull) {
  LogQueue q(4);
  Record out;
  EXPECT_FALSE(q.Ready());
  EXPECT_FALSE(q.TryPop(out));
  for (int i = 0; i < 4; ++i) {
    Record r = Make("line " + std::to_string(i));
    ASSERT_TRUE(q.TryPush(r));
    EXPECT_TRUE(r.text.empty());  // taken
  }
  Record extra = Make("one too many");
  EXPECT_FALSE(q.TryPush(extra));
  EXPECT_EQ(extra.text, "one too many");  // left to the caller, who counts the drop
  for (int lap = 0; lap < 3; ++lap) {  // slots are reused lap after lap
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(q.Ready());
      ASSERT_TRUE(q.TryPop(out));
      EXPECT_EQ(out.text, "line " + std::to_string(lap * 4 + i));
      Record r = Make("line " + std::to_string((lap + 1) * 4 + i));
      ASSERT_TRUE(q.TryPush(r));
    }
  }
}

TEST(LogQueue, ManyProducersOneConsumerLoseNothingAndKeepEachProducersOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 50000;
  LogQueue q(64);  // small, so producers keep meeting a full queue
  std::atomic<int> started{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      started.fetch_add(1);
      for (int i = 0; i < kPerProducer; ++i) {
        Record r = Make(std::to_string(p) + ":" + std::to_string(i), LogLevel::kInfo, i);
        while (!q.TryPush(r)) std::this_thread::yield();
      }
    });
  }
  std::vector<int> next(kProducers, 0);
  int received = 0;
  Record out;
  while (received < kProducers * kPerProducer) {
    if (!q.TryPop(out)) {
      std::this_thread::yield();
      continue;
    }
    const size_t colon = out.text.find(':');
    ASSERT_NE(colon, std::string::npos) << out.text;
    const int p = std::stoi(out.text.substr(0, colon));
    const int i = std::stoi(out.text.substr(colon + 1));
    ASSERT_GE(p, 0);
    ASSERT_LT(p, kProducers);
    ASSERT_EQ(i, next[p]) << "producer " << p << " out of order";
    ASSERT_EQ(out.unix_us, i);
    ++next[p];
    ++received;
  }
  for (auto& t : producers) t.join();
  EXPECT_FALSE(q.TryPop(out));
  for (int p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kPerProducer);
}

TEST(LogQueue, FormatsTheLineAsTheLogContractSays) {
  // 2026-12-03T10:00:00.123456Z
  const int64_t us = 1796292000LL * 1000000 + 123456;
  std::string out;
  AppendLine(out, Make("event=x a=1", LogLevel::kWarn, us));
  AppendLine(out, Make("listening on 127.0.0.1:8080", LogLevel::kInfo, us));
  AppendLine(out, Make("d", LogLevel::kDebug, 0));
  AppendLine(out, Make("e", LogLevel::kError, 0));
  EXPECT_EQ(out,
            "2026-12-03T10:00:00.123Z warning event=x a=1\n"
            "2026-12-03T10:00:00.123Z info listening on 127.0.0.1:8080\n"
            "1970-01-01T00:00:00.000Z debug d\n"
            "1970-01-01T00:00:00.000Z error e\n");
}

}  // namespace
}  // namespace mg::log::detail
