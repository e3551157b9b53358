// @file provider_router.h
// @brief ProviderRouter: the Upstream of the data plane. Finds the model's provider, calls it
// with the model's credential (the snapshot's ready ProviderCredential), region and provider
// model id, and reports every completed real call to an outcome hook (the health monitor's
// passive detection): success, or the classified upstream error. Calls the caller abandoned
// (client gone, cancellation) are not reported.
//
// Thread-safety: thread-safe; the provider lookup and the outcome hook must be too. The lookup,
// the hook and the providers must outlive the router and every stream it returned.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "providers/provider.h"
#include "routing/upstream.h"

namespace mg::routing {

// The provider serving `provider_id` ("bedrock"), or null when none is available.
using ProviderLookup = std::function<providers::Provider*(std::string_view provider_id)>;

// The outcome of one real call of `model_id`: `error` is null on success. Called on the I/O
// thread that completed the call: must not block.
using OutcomeHook = std::function<void(const std::string& model_id, const Error* error,
                                       std::chrono::milliseconds latency)>;

namespace detail {
struct RouterCore;  // provider_router.cc
}  // namespace detail

class ProviderRouter final : public Upstream {
 public:
  // `on_outcome` may be empty.
  ProviderRouter(ProviderLookup providers, const Clock& clock, OutcomeHook on_outcome);

  boost::asio::awaitable<Result<providers::ChatResponse>> Chat(
      const state::ModelEntry& model, providers::ChatRequest request) override;
  boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> StartStream(
      const state::ModelEntry& model, providers::ChatRequest request) override;

 private:
  // Shared with the streams it returns.
  std::shared_ptr<detail::RouterCore> core_;
};

// True when `e` says the caller abandoned the call (cancellation, client gone) rather than the
// provider failing: such outcomes say nothing about the model's health.
bool IsAbandoned(const Error& e);

}  // namespace mg::routing
