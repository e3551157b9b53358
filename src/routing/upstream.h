// @file upstream.h
// @brief What the data plane calls to reach a configured model: Upstream (one call) and
// UpstreamStream (one streamed answer). Implemented by ProviderRouter (provider_router.h); the
// data plane's tests use a fake.
//
// Errors carry the client-api §7.2 codes and reasons already (upstream_rate_limited,
// upstream_auth_failed with no_retry, upstream_invalid_request, upstream_timeout, ...), so the
// data plane renders them unchanged; `health_cause`/`health_message` are for admins only.
//
// Lifetime: `model` refers into a config snapshot that the caller keeps alive until the
// returned awaitable (and any UpstreamStream) is done.
// Thread-safety: implementations are thread-safe; one UpstreamStream has one reader.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>

#include "core/result.h"
#include "providers/types.h"
#include "state/snapshot.h"

namespace mg::routing {

// One upstream response stream, already accepted by the provider. Destroying it cancels the
// upstream call (the data plane destroys it as soon as the client is gone or the stream ends).
class UpstreamStream {
 public:
  virtual ~UpstreamStream() = default;
  // The next event. nullopt = the provider ended the stream normally. An Error = the upstream
  // failed (also mid-stream), with a client-api §7.2 code/reason (e.g. upstream_timeout).
  virtual boost::asio::awaitable<Result<std::optional<providers::StreamEvent>>> Next() = 0;
};

class Upstream {
 public:
  virtual ~Upstream() = default;
  // A non-streaming call.
  virtual boost::asio::awaitable<Result<providers::ChatResponse>> Chat(
      const state::ModelEntry& model, providers::ChatRequest request) = 0;
  // Starts a streaming call; returns once the provider accepted it (so that immediate failures
  // still become a JSON error status).
  virtual boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> StartStream(
      const state::ModelEntry& model, providers::ChatRequest request) = 0;
};

}  // namespace mg::routing
