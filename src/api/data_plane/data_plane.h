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
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/session.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "providers/types.h"
#include "routing/upstream.h"
#include "server/http.h"
#include "state/publisher.h"
#include "state/snapshot.h"

namespace mg::api::data_plane {

using routing::Upstream;
using routing::UpstreamStream;

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

struct PoolStatus {
  bool in_pool = true;
  std::chrono::milliseconds retry_after{0};  // when !in_pool: until the next probe
};

struct Deps {
  state::SnapshotPublisher& publisher;
  const Clock& clock;
  const config::Config& config;
  Upstream& upstream;
  // Called exactly once per request that reached a model (after access checks passed), from
  // the I/O thread: must not block. May be empty.
  std::function<void(UsageEvent)> record_usage;
  // Pool membership (health): a model out of the pool is left out of /v1/models and answered
  // 503 model_unavailable with Retry-After = `retry_after` (at least 1 s). Called on I/O threads
  // for every request: must be cheap and must not block. When empty, the snapshot's stored
  // health decides.
  std::function<PoolStatus(std::string_view model_id)> pool_status;
  // Browser sessions of the web console (the playground): when set, the session cookie
  // authenticates too (auth::AuthenticateRequest). May be null (Bearer keys only).
  auth::SessionStore* sessions = nullptr;
};

// Registers GET /v1/models, GET /v1/models/{id...}, POST /v1/chat, POST /v1/chat/completions
// and POST /v1/completions.
void RegisterRoutes(server::Router& router, Deps& deps);

}  // namespace mg::api::data_plane
