#include "usage/usage_recorder.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <iterator>
#include <thread>

namespace mg::usage {

UsageRecorder::UsageRecorder(AppendFn append, size_t max_pending)
    : append_(std::move(append)), max_pending_per_shard_(std::max<size_t>(1, max_pending / kShards)) {}

UsageRecorder::Shard& UsageRecorder::ShardForThisThread() {
  // Threads are numbered on first use (a hash of the thread id could put two I/O threads on one
  // shard): the first kShards threads to record each have a shard of their own.
  static std::atomic<size_t> next{0};
  thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed);
  return shards_[index % kShards];
}

void UsageRecorder::Record(store::UsageRecord record) {
  Shard& shard = ShardForThisThread();
  std::lock_guard lock(shard.mu);
  if (shard.records.size() >= max_pending_per_shard_) {
    shard.records.pop_front();
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  shard.records.push_back(std::move(record));
}

Result<size_t> UsageRecorder::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::vector<store::UsageRecord> batch;
  for (Shard& shard : shards_) {
    std::deque<store::UsageRecord> taken;
    {
      std::lock_guard lock(shard.mu);
      taken.swap(shard.records);
    }
    std::move(taken.begin(), taken.end(), std::back_inserter(batch));
  }
  if (batch.empty()) return size_t{0};
  if (auto r = append_(batch); !r) {
    // Put the batch back in front of what arrived meanwhile, keeping the newest within bounds.
    Shard& shard = shards_[0];
    std::lock_guard lock(shard.mu);
    batch.insert(batch.end(), std::make_move_iterator(shard.records.begin()),
                 std::make_move_iterator(shard.records.end()));
    if (batch.size() > max_pending_per_shard_) {
      const size_t excess = batch.size() - max_pending_per_shard_;
      dropped_.fetch_add(excess, std::memory_order_relaxed);
      batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(excess));
    }
    shard.records.assign(std::make_move_iterator(batch.begin()),
                         std::make_move_iterator(batch.end()));
    return r.error();
  }
  return batch.size();
}

size_t UsageRecorder::pending() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.records.size();
  }
  return n;
}

}  // namespace mg::usage
