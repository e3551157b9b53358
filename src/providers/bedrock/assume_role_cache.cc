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

AssumeRoleCache::AssumeRoleCache(const Clock& clock, std::chrono::seconds refresh_margin)
    : clock_(clock), refresh_margin_(refresh_margin) {}

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
  std::shared_ptr<Flight> flight;
  std::shared_ptr<WakeChannel> wake;
  {
    std::lock_guard lock(mutex_);
    Entry& entry = entries_[key];
    if (entry.value && entry.value->expiration - clock_.Now() > refresh_margin_) {
      aws::Credentials creds = entry.value->credentials;
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
    if (value) entry.value = std::move(*value);
    flight->outcome = std::move(outcome);
    waiters.swap(flight->waiters);
  }
  for (auto& w : waiters) w->try_send(boost::system::error_code{});
}

void AssumeRoleCache::Invalidate(const std::string& key, std::string_view access_key_id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.value) return;
  if (it->second.value->credentials.access_key_id == access_key_id) it->second.value.reset();
}

size_t AssumeRoleCache::size() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [k, e] : entries_) n += e.value.has_value() ? 1 : 0;
  return n;
}

}  // namespace mg::providers::bedrock
