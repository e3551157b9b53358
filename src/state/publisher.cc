#include "state/publisher.h"

namespace mg::state {

SnapshotPublisher::SnapshotPublisher(store::Store& store, OpenSecretFn open_secret)
    : store_(store), open_secret_(std::move(open_secret)) {}

Result<std::shared_ptr<const Snapshot>> SnapshotPublisher::Rebuild() {
  std::lock_guard lock(rebuild_mu_);
  MG_TRY(store::ConfigData data, store_.LoadConfig());
  std::shared_ptr<const Snapshot> prev = current_.load();
  MG_TRY(std::shared_ptr<const Snapshot> next,
         Snapshot::Build(std::move(data), open_secret_, prev.get(), ++version_));
  current_.store(next);
  for (auto& fn : listeners_) fn(next);
  return next;
}

void SnapshotPublisher::OnPublish(std::function<void(const std::shared_ptr<const Snapshot>&)> fn) {
  std::lock_guard lock(rebuild_mu_);
  listeners_.push_back(std::move(fn));
}

}  // namespace mg::state
