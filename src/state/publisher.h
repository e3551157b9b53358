// @file publisher.h
// @brief Holds the current Snapshot and rebuilds it after admin changes.
//
// Current() is wait-free for readers in practice (one atomic shared_ptr load). Rebuild() reads
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

  std::shared_ptr<const Snapshot> Current() const { return current_.load(); }
  // Loads and publishes a new snapshot. On failure the current one stays.
  Result<std::shared_ptr<const Snapshot>> Rebuild();
  // Called after each successful publish (e.g. the health monitor learns about new models).
  void OnPublish(std::function<void(const std::shared_ptr<const Snapshot>&)> fn);

 private:
  store::Store& store_;
  OpenSecretFn open_secret_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::mutex rebuild_mu_;  // guards version_ and listeners_; admin path only
  uint64_t version_ = 0;
  std::vector<std::function<void(const std::shared_ptr<const Snapshot>&)>> listeners_;
};

}  // namespace mg::state
