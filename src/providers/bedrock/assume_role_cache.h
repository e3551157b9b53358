// @file assume_role_cache.h
// @brief The cache of temporary credentials obtained through STS AssumeRole (bedrock.md §2.1):
// one entry per key (credential version, role ARN, session name, external id, region, source
// access key id), reused until less than the refresh margin (5 min) remains, with single flight:
// concurrent callers that miss share one in-flight AssumeRole and its outcome. Failures are not
// cached. Invalidate() drops an entry after ExpiredTokenException.
//
// Thread-safety: thread-safe. The mutex guards only the map and is never held across an await;
// waiters park on a per-waiter concurrent channel bound to their own executor. The request path
// does not take it: each thread keeps the credentials it last saw per key, valid while the
// cache's generation (bumped by every change of an entry) has not moved.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/clock.h"
#include "providers/aws/sts.h"
#include "providers/bedrock/signed_request.h"

namespace mg::providers::bedrock {

class AssumeRoleCache {
 public:
  // Performs one AssumeRole (called by the one caller that leads a flight).
  using Fetch = std::function<boost::asio::awaitable<AwsResult<aws::AssumedRole>>()>;

  // `clock` (not owned) gives the wall time compared with the credentials' expiration.
  explicit AssumeRoleCache(const Clock& clock,
                           std::chrono::seconds refresh_margin = std::chrono::minutes(5));
  ~AssumeRoleCache();
  AssumeRoleCache(const AssumeRoleCache&) = delete;
  AssumeRoleCache& operator=(const AssumeRoleCache&) = delete;

  // The cache key for these parts (joined with a separator that cannot occur in them).
  static std::string MakeKey(std::string_view credential_version, std::string_view role_arn,
                             std::string_view session_name, std::string_view external_id,
                             std::string_view region, std::string_view source_access_key_id);

  // Fresh cached credentials for `key`, or the outcome of `fetch` (run once for all concurrent
  // callers of the same key). If the waiting coroutine is cancelled it gets a "cancelled" error.
  boost::asio::awaitable<AwsResult<aws::Credentials>> Get(std::string key, Fetch fetch);

  // Drops the cached credentials of `key` if they still have `access_key_id` (a newer session
  // obtained meanwhile is kept).
  void Invalidate(const std::string& key, std::string_view access_key_id);

  // Number of keys holding credentials (tests, metrics).
  size_t size() const;

 private:
  struct Flight;
  struct Entry {
    std::optional<aws::AssumedRole> value;
    std::shared_ptr<Flight> flight;  // set while an AssumeRole is in flight
  };

  // Ends `flight`: stores `value` (a successful fetch), records `outcome` for the waiters (none:
  // the leader was cancelled) and wakes them.
  void Land(const std::string& key, const std::shared_ptr<Flight>& flight,
            std::optional<aws::AssumedRole> value,
            std::optional<AwsResult<aws::Credentials>> outcome = std::nullopt);

  // Whether `expiration` leaves more than the refresh margin.
  bool Fresh(SystemTime expiration) const;

  const Clock& clock_;
  const std::chrono::seconds refresh_margin_;
  const uint64_t id_;                      // tells this cache's per-thread entries apart
  std::atomic<uint64_t> generation_{0};    // bumped under mutex_ whenever an entry changes
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mutex_
};

}  // namespace mg::providers::bedrock
