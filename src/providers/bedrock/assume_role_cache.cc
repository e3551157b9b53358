// @file assume_role_cache.cc
// @brief Implementation of assume_role_cache.h.
#include "providers/bedrock/assume_role_cache.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace mg::providers::bedrock {

namespace asio = boost::asio;
using WakeChannel = asio::experimental::concurrent_channel<void(boost::system::error_code)>;

struct AssumeRoleCache::Flight {
  std::optional<AwsResult<aws::Credentials>> outcome;  // guarded by the cache mutex
  std::vector<std::shared_ptr<WakeChannel>> waiters;   // guarded by the cache mutex
};

namespace {

// The per-thread front of every AssumeRoleCache: the credentials this thread last got per
// (cache, key), with the cache generation they were read at. Reached only through these
// non-inlined, non-coroutine functions, so no coroutine keeps a thread-local address across a
// suspension (it may resume on another thread).
struct LocalEntry {
  uint64_t cache_id = 0;
  uint64_t generation = 0;
  std::string key;
  aws::Credentials credentials;
  SystemTime expiration;
};
constexpr size_t kMaxLocalEntries = 64;

std::vector<LocalEntry>& LocalEntries() {
  thread_local std::vector<LocalEntry> entries;
  return entries;
}

[[gnu::noinline]] const LocalEntry* FindLocal(uint64_t cache_id, const std::string& key) {
  for (const LocalEntry& e : LocalEntries()) {
    if (e.cache_id == cache_id && e.key == key) return &e;
  }
  return nullptr;
}

[[gnu::noinline]] void StoreLocal(uint64_t cache_id, uint64_t generation, const std::string& key,
                                  const aws::Credentials& credentials, SystemTime expiration) {
  std::vector<LocalEntry>& entries = LocalEntries();
  for (LocalEntry& e : entries) {
    if (e.cache_id == cache_id && e.key == key) {
      e.generation = generation;
      e.credentials = credentials;
      e.expiration = expiration;
      return;
    }
  }
  if (entries.size() >= kMaxLocalEntries) entries.clear();
  entries.push_back(LocalEntry{cache_id, generation, key, credentials, expiration});
}

uint64_t NextCacheId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

AssumeRoleCache::AssumeRoleCache(const Clock& clock, std::chrono::seconds refresh_margin)
    : clock_(clock), refresh_margin_(refresh_margin), id_(NextCacheId()) {}

bool AssumeRoleCache::Fresh(SystemTime expiration) const {
  return expiration - clock_.Now() > refresh_margin_;
}

AssumeRoleCache::~AssumeRoleCache() = default;

std::string AssumeRoleCache::MakeKey(std::string_view credential_version,
                                     std::string_view role_arn, std::string_view session_name,
                                     std::string_view external_id, std::string_view region,
                                     std::string_view source_access_key_id) {
  std::string key;
  for (std::string_view part :
       {credential_version, role_arn, session_name, external_id, region, source_access_key_id}) {
    key += part;
    key += '\x1f';
  }
  return key;
}

asio::awaitable<AwsResult<aws::Credentials>> AssumeRoleCache::Get(std::string key, Fetch fetch) {
  // The request path: what this thread saw last, if nothing changed since and it is fresh.
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (const LocalEntry* local = FindLocal(id_, key);
      local != nullptr && local->generation == generation && Fresh(local->expiration)) {
    aws::Credentials creds = local->credentials;
    co_return creds;
  }
  std::shared_ptr<Flight> flight;
  std::shared_ptr<WakeChannel> wake;
  {
    std::lock_guard lock(mutex_);
    Entry& entry = entries_[key];
    if (entry.value && Fresh(entry.value->expiration)) {
      aws::Credentials creds = entry.value->credentials;
      // `generation` was read before the lock: if an entry changed since, the next call
      // comes back here and stores again.
      StoreLocal(id_, generation, key, creds, entry.value->expiration);
      co_return creds;
    }
    if (entry.flight) {
      flight = entry.flight;
      wake = std::make_shared<WakeChannel>(co_await asio::this_coro::executor, 1);
      flight->waiters.push_back(wake);
    } else {
      flight = std::make_shared<Flight>();
      entry.flight = flight;
    }
  }

  if (wake) {
    auto [ec] = co_await wake->async_receive(asio::as_tuple(asio::use_awaitable));
    std::lock_guard lock(mutex_);
    if (ec || !flight->outcome) {
      aws::AwsErrorClass cls;
      cls.error = Error(ErrorCode::kUpstreamError, "cancelled",
                        "cancelled while waiting for STS AssumeRole");
      co_return CallFailure{std::move(cls)};
    }
    AwsResult<aws::Credentials> shared = *flight->outcome;
    co_return shared;
  }

  // The leader publishes the outcome however the fetch ends. If it is cancelled (the
  // coroutine unwinds with an exception), the flight is closed without an outcome: the waiters
  // wake with the "cancelled" error and the next caller starts a new flight.
  std::optional<AwsResult<aws::AssumedRole>> fetched;
  try {
    fetched.emplace(co_await fetch());
  } catch (...) {
    Land(key, flight, std::nullopt);
    throw;
  }
  AwsResult<aws::Credentials> outcome =
      *fetched ? AwsResult<aws::Credentials>((*fetched)->credentials)
               : AwsResult<aws::Credentials>(fetched->error());
  Land(key, flight, *fetched ? std::optional<aws::AssumedRole>(std::move(**fetched)) : std::nullopt,
       outcome);
  co_return outcome;
}

void AssumeRoleCache::Land(const std::string& key, const std::shared_ptr<Flight>& flight,
                           std::optional<aws::AssumedRole> value,
                           std::optional<AwsResult<aws::Credentials>> outcome) {
  std::vector<std::shared_ptr<WakeChannel>> waiters;
  {
    std::lock_guard lock(mutex_);
    Entry& entry = entries_[key];
    if (entry.flight == flight) entry.flight.reset();
    if (value) {
      entry.value = std::move(*value);
      generation_.fetch_add(1, std::memory_order_release);
    }
    flight->outcome = std::move(outcome);
    waiters.swap(flight->waiters);
  }
  for (auto& w : waiters) w->try_send(boost::system::error_code{});
}

void AssumeRoleCache::Invalidate(const std::string& key, std::string_view access_key_id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.value) return;
  if (it->second.value->credentials.access_key_id == access_key_id) {
    it->second.value.reset();
    generation_.fetch_add(1, std::memory_order_release);
  }
}

size_t AssumeRoleCache::size() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [k, e] : entries_) n += e.value.has_value() ? 1 : 0;
  return n;
}

}  // namespace mg::providers::bedrock
