// UsageRecorder: records from many threads reach the store in one flush; a failing store keeps
// them (bounded) for the next flush.
#include "usage/usage_recorder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace mg::usage {
namespace {

store::UsageRecord Rec(std::string model, std::string outcome = "ok") {
  store::UsageRecord r;
  r.at = SystemTime{} + std::chrono::hours(24 * 365 * 56);
  r.request_id = "req";
  r.user_id = "user_1";
  r.model_id = std::move(model);
  r.input_tokens = 3;
  r.output_tokens = 4;
  r.outcome = std::move(outcome);
  return r;
}

class UsageRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mg-usage-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = store::sqlite::SqliteStore::Open((dir_ / "db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(UsageRecorderTest, RecordsFromManyThreadsAreWrittenByOneFlush) {
  UsageRecorder recorder(
      [this](const std::vector<store::UsageRecord>& b) { return store_->AppendUsage(b); });
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&recorder, t] {
      for (int i = 0; i < 100; ++i) recorder.Record(Rec(t % 2 ? "m-odd" : "m-even", i ? "ok" : "x"));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(recorder.pending(), 800u);
  auto written = recorder.Flush();
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(*written, 800u);
  EXPECT_EQ(recorder.pending(), 0u);
  auto rows = store_->SumUsage(store::UsageGroupBy::kModel, SystemTime{});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].key, "m-even");
  EXPECT_EQ((*rows)[0].requests, 400);
  EXPECT_EQ((*rows)[0].errors, 4);
  EXPECT_EQ((*rows)[0].input_tokens, 1200);
  EXPECT_EQ(*recorder.Flush(), 0u);  // nothing left
}

TEST_F(UsageRecorderTest, FailedFlushKeepsRecordsWithinTheBoundForTheNextFlush) {
  bool fail = true;
  std::vector<store::UsageRecord> written;
  UsageRecorder recorder(
      [&](const std::vector<store::UsageRecord>& b) -> Result<void> {
        if (fail) return Error(ErrorCode::kUnavailable, "store_unavailable", "down");
        written = b;
        return {};
      },
      /*max_pending=*/32);
  for (int i = 0; i < 10; ++i) recorder.Record(Rec("m" + std::to_string(i)));
  auto r = recorder.Flush();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "store_unavailable");
  // The bound is per shard (32 / 16): the two newest records are kept, the rest counted.
  EXPECT_EQ(recorder.pending(), 2u);
  EXPECT_EQ(recorder.dropped(), 8u);
  fail = false;
  auto again = recorder.Flush();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 2u);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].model_id, "m8");
  EXPECT_EQ(written[1].model_id, "m9");
}

}  // namespace
}  // namespace mg::usage
