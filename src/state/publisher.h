// @file publisher.h
// @brief Holds the current Snapshot and rebuilds it after admin changes.
//
// Current() takes no lock in the common case: each thread keeps the snapshot it saw last with
// its version and only reloads it when the published version changed (libstdc++'s atomic
// shared_ptr load takes a spin lock, which every request would otherwise share). Rebuild() reads
// the store (blocking: call it from the store thread pool, never an I/O thread), builds a new
// snapshot and publishes it before returning, so an admin call that returns has its change
// visible to the next request (revocations take effect at once). Rebuilds are serialised by a
// mutex that only admin paths take.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "state/snapshot.h"
#include "store/store.h"

namespace mg::state {

class SnapshotPublisher {
 public:
  SnapshotPublisher(store::Store& store, OpenSecretFn open_secret);

  // The published snapshot. Lock-free unless a new one was published since this thread last
  // asked.
  std::shared_ptr<const Snapshot> Current() const;
  // Loads and publishes a new snapshot. On failure the current one stays.
  Result<std::shared_ptr<const Snapshot>> Rebuild();
  // Called after each successful publish (e.g. the health monitor learns about new models).
  void OnPublish(std::function<void(const std::shared_ptr<const Snapshot>&)> fn);

 private:
  store::Store& store_;
  OpenSecretFn open_secret_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  // Bumped after current_ is stored; readers compare it with their thread's cached copy.
  std::atomic<uint64_t> published_{0};
  // Distinguishes publishers in the per-thread cache (tests create several).
  const uint64_t id_;
  std::mutex rebuild_mu_;  // guards version_ and listeners_; admin path only
  uint64_t version_ = 0;
  std::vector<std::function<void(const std::shared_ptr<const Snapshot>&)>> listeners_;
};

}  // namespace mg::state
