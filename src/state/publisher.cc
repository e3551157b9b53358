#include "state/publisher.h"

namespace mg::state {

namespace {
std::atomic<uint64_t> g_next_publisher_id{1};

// A thread's last seen snapshot (see SnapshotPublisher::Current).
struct CachedSnapshot {
  uint64_t publisher = 0;
  uint64_t version = 0;
  std::shared_ptr<const Snapshot> snapshot;
};
thread_local CachedSnapshot t_cached;
}  // namespace

SnapshotPublisher::SnapshotPublisher(store::Store& store, OpenSecretFn open_secret)
    : store_(store),
      open_secret_(std::move(open_secret)),
      id_(g_next_publisher_id.fetch_add(1, std::memory_order_relaxed)) {}

std::shared_ptr<const Snapshot> SnapshotPublisher::Current() const {
  const uint64_t version = published_.load(std::memory_order_acquire);
  CachedSnapshot& cached = t_cached;
  if (cached.publisher != id_ || cached.version != version || !cached.snapshot) {
    // current_ was stored before published_ was bumped: this load sees that snapshot or a
    // newer one (then the next call reloads again, which is harmless).
    cached.snapshot = current_.load(std::memory_order_acquire);
    cached.version = version;
    cached.publisher = id_;
  }
  return cached.snapshot;
}

Result<std::shared_ptr<const Snapshot>> SnapshotPublisher::Rebuild() {
  std::lock_guard lock(rebuild_mu_);
  MG_TRY(store::ConfigData data, store_.LoadConfig());
  std::shared_ptr<const Snapshot> prev = current_.load();
  MG_TRY(std::shared_ptr<const Snapshot> next,
         Snapshot::Build(std::move(data), open_secret_, prev.get(), ++version_));
  current_.store(next, std::memory_order_release);
  published_.fetch_add(1, std::memory_order_release);
  for (auto& fn : listeners_) fn(next);
  return next;
}

void SnapshotPublisher::OnPublish(std::function<void(const std::shared_ptr<const Snapshot>&)> fn) {
  std::lock_guard lock(rebuild_mu_);
  listeners_.push_back(std::move(fn));
}

}  // namespace mg::state
