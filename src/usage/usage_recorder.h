// @file usage_recorder.h
// @brief UsageRecorder: collects one store::UsageRecord per data-plane request and writes them
// to the store in batches, off the request path.
//
// Record() is called on I/O threads: it appends to one of several shards (chosen by thread) under
// that shard's own mutex, held only for a push_back, so request threads never contend on one
// lock and never wait for the store. Flush() (blocking: run it on the store thread pool) swaps
// every shard out and writes the batch in one store call. When the store keeps failing, at most
// `max_pending` records are kept (the oldest are dropped and counted), so memory stays bounded.
//
// Thread-safety: all member functions are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace mg::usage {

class UsageRecorder {
 public:
  // Writes one batch in one transaction (Store::AppendUsage). Blocking.
  using AppendFn = std::function<Result<void>(const std::vector<store::UsageRecord>&)>;

  explicit UsageRecorder(AppendFn append, size_t max_pending = 200000);

  // Queues one record. Never blocks on I/O.
  void Record(store::UsageRecord record);
  // Writes everything queued so far (one transaction). On failure the records are put back
  // (subject to the max_pending bound) and the error is returned. Blocking.
  Result<size_t> Flush();

  // Records queued and not yet written.
  size_t pending() const;
  // Records dropped because the bound was reached.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::deque<store::UsageRecord> records;  // guarded by mu
  };
  Shard& ShardForThisThread();

  AppendFn append_;
  const size_t max_pending_per_shard_;
  std::array<Shard, kShards> shards_;
  std::mutex flush_mu_;  // one Flush at a time (keeps the batch order per shard)
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace mg::usage
