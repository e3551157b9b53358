// @file data_plane.h
// @brief The client-facing data plane (client-api.md): GET /v1/models, GET /v1/models/{id},
// POST /v1/chat (Writer), POST /v1/chat/completions (OpenAI) and POST /v1/completions, JSON and
// SSE, registered on the server's Router.
//
// The handlers own authentication, model access (role and team), pool membership, rendering and
// streaming; they reach a model only through the abstract Upstream below, so no provider is
// known here. Everything a request needs comes from the current config snapshot: no store access
// and no blocking call on this path.
//
// Thread-safety: RegisterRoutes is called once at start-up; the handlers may then run
// concurrently on any I/O thread. Deps and everything it refers to must outlive the Router.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "providers/types.h"
#include "server/http.h"
#include "state/publisher.h"
#include "state/snapshot.h"

namespace mg::api::data_plane {

// One upstream response stream, already accepted by the provider.
// Destroying it cancels the upstream call (the handler destroys it as soon as the client is
// gone or the stream is complete). Used by one coroutine at a time.
class UpstreamStream {
 public:
  virtual ~UpstreamStream() = default;
  // The next event. nullopt = the provider ended the stream normally. An Error = the upstream
  // failed (also mid-stream), with a code/reason of client-api §7.2 (e.g. upstream_timeout).
  virtual boost::asio::awaitable<Result<std::optional<providers::StreamEvent>>> Next() = 0;
};

// Calls a model. Implemented by the provider layer (routing by model.record.provider).
// Errors carry the client-api §7.2 codes and reasons already (upstream_rate_limited,
// upstream_auth_failed with no_retry, upstream_invalid_request, upstream_timeout, ...); the data
// plane renders them unchanged.
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

// One metered data-plane request (store::UsageRecord plus `stream`).
struct UsageEvent {
  SystemTime time;          // when the request arrived
  std::string request_id;
  std::string user_id;
  // The caller's team the model is shared through; for models shared with all teams, the
  // caller's first team; empty when the caller has no team.
  std::string team_id;
  std::string model_id;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t latency_ms = 0;
  // "ok", or the error reason ("upstream_rate_limited", ..., "client_disconnected").
  std::string outcome;
  bool stream = false;
};

struct Deps {
  state::SnapshotPublisher& publisher;
  const Clock& clock;
  const config::Config& config;
  Upstream& upstream;
  // Called exactly once per request that reached a model (after access checks passed), from
  // the I/O thread: must not block. May be empty.
  std::function<void(UsageEvent)> record_usage;
  // Pool membership (health): false = unhealthy, left out of /v1/models and answered 503
  // model_unavailable. When empty, the snapshot's health().in_pool is used.
  std::function<bool(std::string_view model_id)> in_pool;
};

// Registers GET /v1/models, GET /v1/models/{id...}, POST /v1/chat, POST /v1/chat/completions
// and POST /v1/completions.
void RegisterRoutes(server::Router& router, Deps& deps);

}  // namespace mg::api::data_plane
