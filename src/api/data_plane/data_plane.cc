#include "api/data_plane/data_plane.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>
#include <vector>

#include "api/data_plane/openai_codec.h"
#include "auth/auth.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/time.h"

namespace mg::api::data_plane {
namespace {

using server::Request;
using server::Response;

// ---------------------------------------------------------------------------------------------
// Caller, access and pool (client-api §2, §4, §7.2)

struct Caller {
  std::shared_ptr<const state::Snapshot> snap;  // keeps `principal` and model entries alive
  state::Principal principal;
  const state::KeyEntry* key = nullptr;  // in `snap`
};

// 401 invalid_api_key, or 403 permission_denied for roles that may not use models.
Result<Caller> Authorize(Deps& d, const Request& req) {
  std::shared_ptr<const state::Snapshot> snap = d.publisher.Current();
  if (!snap) return Internal("no configuration snapshot is loaded");
  MG_TRY(const state::KeyEntry* key,
         auth::AuthenticateRequest(*snap, d.sessions,
                                   auth::CredentialsFrom(req.method, req.headers), d.clock.Now()));
  if (!auth::CanUseModels(key->principal.role)) {
    return Forbidden("permission_denied", "Your role may not use models.");
  }
  return Caller{std::move(snap), key->principal, key};
}

const store::HealthState* FindHealth(const state::Snapshot& snap, std::string_view model_id) {
  for (const store::HealthState& h : snap.health()) {
    if (h.model_id == model_id) return &h;
  }
  return nullptr;
}

// The health monitor's view when there is one; otherwise the stored state of the snapshot
// (wait: until cooldown_until, else next_check_at, else the configured cooldown).
PoolStatus PoolOf(const Deps& d, const state::Snapshot& snap, std::string_view model_id) {
  if (d.pool_status) return d.pool_status(model_id);
  PoolStatus status;
  const store::HealthState* h = FindHealth(snap, model_id);
  if (h == nullptr || h->in_pool) return status;
  status.in_pool = false;
  status.retry_after = d.config.health_cooldown;
  const SystemTime now = d.clock.Now();
  std::optional<SystemTime> until;
  if (h->cooldown_until && *h->cooldown_until > now) {
    until = h->cooldown_until;
  } else if (h->next_check_at && *h->next_check_at > now) {
    until = h->next_check_at;
  }
  if (until) {
    status.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*until - now);
  }
  return status;
}

// The gateway's own per-key limit on model calls: 429 rate_limit_exceeded with Retry-After.
Result<void> CheckRateLimit(const Deps& d, const Caller& caller) {
  const int rpm = d.config.key_requests_per_minute;
  if (rpm <= 0 || caller.key == nullptr || !caller.key->rate) return {};
  const double burst = d.config.key_burst > 0 ? d.config.key_burst : rpm;
  auto wait = caller.key->rate->TryTake(d.clock.SteadyNow(), rpm / 60.0, burst);
  if (!wait) return {};
  return Error(ErrorCode::kRateLimited, "rate_limit_exceeded",
               "This API key is limited to " + std::to_string(rpm) +
                   " model calls per minute. Retry later.")
      .WithRetryAfter(*wait);
}

// Images for a model whose catalog entry lists no IMAGE input: 400 before calling the provider
// (client-api §5.2). Models of unknown modalities are left to the provider.
Result<void> CheckModalities(const store::Model& model, const providers::ChatRequest& request) {
  const auto& in = model.input_modalities;
  if (in.empty() || std::find(in.begin(), in.end(), "IMAGE") != in.end()) return {};
  if (!providers::HasImages(request)) return {};
  return InvalidArgument("Model '" + model.id + "' does not accept images.", "messages",
                         "unsupported_parameter");
}

// 503 model_unavailable with Retry-After (at least 1 s).
Error Unavailable(const PoolStatus& pool, std::string_view model_id) {
  const std::chrono::milliseconds wait =
      std::max(pool.retry_after, std::chrono::milliseconds(1000));
  return Error(ErrorCode::kUnavailable, "model_unavailable",
               "Model '" + std::string(model_id) +
                   "' is temporarily unavailable (failed health checks). Retry later.",
               "model")
      .WithRetryAfter(wait);
}

// The model `id` if it exists and the caller's teams may use it: 404 model_not_found, 403
// model_access_denied (404 with hide_ungranted_models). Pool membership is checked separately.
Result<const state::ModelEntry*> ResolveModel(const Deps& d, const Caller& caller,
                                              std::string_view id) {
  auto not_found = [&] {
    return Error(ErrorCode::kNotFound, "model_not_found",
                 "Model '" + std::string(id) + "' does not exist.", "model");
  };
  const state::ModelEntry* model = caller.snap->FindModel(id);
  if (model == nullptr) return not_found();
  if (!state::Snapshot::TeamAccessAllows(caller.principal, model->record)) {
    if (d.config.hide_ungranted_models) return not_found();
    return Error(ErrorCode::kForbidden, "model_access_denied",
                 "Model '" + std::string(id) + "' is not available to your team.", "model");
  }
  return model;
}

// The caller's team the model is shared through (for metering).
std::string UsageTeam(const state::Principal& p, const store::Model& m) {
  if (!m.all_teams) {
    for (const std::string& t : p.team_ids) {
      if (std::binary_search(m.team_ids.begin(), m.team_ids.end(), t)) return t;
    }
  }
  return p.team_ids.empty() ? std::string() : p.team_ids.front();
}

ModelListEntry ListEntry(const state::ModelEntry& m) {
  return ModelListEntry{m.record.id, m.record.name, UnixSeconds(m.record.created_at),
                        m.record.provider};
}

Response Tagged(Response resp, const Caller* caller, std::string_view model_id = {}) {
  if (caller != nullptr) resp.log_fields.emplace_back("principal", caller->principal.user_id);
  if (!model_id.empty()) resp.log_fields.emplace_back("model", std::string(model_id));
  return resp;
}

// ---------------------------------------------------------------------------------------------
// Metering: exactly one UsageEvent per invocation, even when the coroutine is torn down.

class UsageRecorder {
 public:
  UsageRecorder(Deps& d, const Request& req, const Caller& caller, const state::ModelEntry& model,
                SystemTime arrived, SteadyTime start, bool stream)
      : deps_(d), start_(start) {
    event_.time = arrived;
    event_.request_id = req.request_id;
    event_.user_id = caller.principal.user_id;
    event_.team_id = UsageTeam(caller.principal, model.record);
    event_.model_id = model.record.id;
    event_.stream = stream;
  }
  UsageRecorder(const UsageRecorder&) = delete;
  UsageRecorder& operator=(const UsageRecorder&) = delete;
  ~UsageRecorder() {
    if (!done_) Finish("client_disconnected", usage_so_far_);
  }

  // Tokens seen so far, used if the request is torn down before Finish.
  void Progress(const providers::Usage& usage) { usage_so_far_ = usage; }

  void Finish(std::string outcome, const providers::Usage& usage) {
    if (done_) return;
    done_ = true;
    event_.outcome = std::move(outcome);
    event_.input_tokens = usage.prompt_tokens;
    event_.output_tokens = usage.completion_tokens;
    event_.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deps_.clock.SteadyNow() - start_)
                            .count();
    if (!deps_.record_usage) return;
    try {
      deps_.record_usage(std::move(event_));
    } catch (const std::exception& e) {
      log::Error("usage_record_failed", {{"what", e.what()}});
    }
  }

 private:
  Deps& deps_;
  SteadyTime start_;
  UsageEvent event_;
  providers::Usage usage_so_far_;
  bool done_ = false;
};

// ---------------------------------------------------------------------------------------------
// GET /v1/models, GET /v1/models/{id}

boost::asio::awaitable<Response> ListModels(Deps& d, Request req) {
  auto caller = Authorize(d, req);
  if (!caller) co_return server::ErrorResponse(caller.error(), req);
  std::vector<ModelListEntry> entries;
  for (const state::ModelEntry* m : caller->snap->models()) {
    if (!state::Snapshot::TeamAccessAllows(caller->principal, m->record)) continue;
    if (!PoolOf(d, *caller->snap, m->record.id).in_pool) continue;
    entries.push_back(ListEntry(*m));
  }
  co_return Tagged(server::JsonResponse(200, RenderModelList(std::move(entries))), &*caller);
}

boost::asio::awaitable<Response> GetModel(Deps& d, Request req) {
  auto caller = Authorize(d, req);
  if (!caller) co_return server::ErrorResponse(caller.error(), req);
  auto it = req.path_params.find("id");
  const std::string id = it == req.path_params.end() ? std::string() : it->second;
  auto model = ResolveModel(d, *caller, id);
  if (!model) co_return Tagged(server::ErrorResponse(model.error(), req), &*caller, id);
  // Invoking an unhealthy model answers 503; retrieving it says the same (listing omits it).
  if (PoolStatus pool = PoolOf(d, *caller->snap, id); !pool.in_pool) {
    co_return Tagged(server::ErrorResponse(Unavailable(pool, id), req), &*caller, id);
  }
  co_return Tagged(server::JsonResponse(200, RenderModel(ListEntry(**model))), &*caller, id);
}

// ---------------------------------------------------------------------------------------------
// POST /v1/chat, /v1/chat/completions, /v1/completions

enum class Endpoint { kWriterChat, kOpenAiChat, kCompletions };

Dialect DialectOf(Endpoint e) {
  return e == Endpoint::kWriterChat ? Dialect::kWriter : Dialect::kOpenAi;
}

// Everything a streaming response needs after the handler returned. Owned by Response::stream.
template <class Encoder>
struct StreamJob {
  StreamJob(Deps& d, const Request& req, const Caller& c, const state::ModelEntry& model,
            SystemTime arrived, SteadyTime start, typename Encoder::Options options)
      : request_id(req.request_id),
        snap(c.snap),
        heartbeat_interval(d.config.stream_heartbeat_interval),
        encoder(std::move(options)),
        usage(d, req, c, model, arrived, start, /*stream=*/true) {}

  std::string request_id;
  std::shared_ptr<const state::Snapshot> snap;  // keeps the model entry alive
  std::chrono::milliseconds heartbeat_interval;
  std::unique_ptr<UpstreamStream> upstream;
  // The first upstream event, read before the response headers went out (see StartStreaming).
  std::optional<Result<std::optional<providers::StreamEvent>>> first;
  Encoder encoder;
  UsageRecorder usage;
  bool ran = false;  // the producer runs at most once
};

// Clears the upstream stream (cancelling the provider call) however the producer exits:
// completion, client gone, or cancellation (the frame is destroyed).
template <class Job>
struct ReleaseUpstream {
  Job& job;
  ~ReleaseUpstream() {
    job.upstream.reset();
    job.usage.Finish("client_disconnected", job.encoder.usage());
  }
};

// Reads the upstream stream and writes each event's frames as it arrives (client-api §5.5,
// §6.3). Ends with the terminator on success, an `event: error` frame on an upstream failure.
template <class Encoder>
boost::asio::awaitable<void> Pump(std::shared_ptr<StreamJob<Encoder>> job,
                                  server::BodyWriter& writer) {
  if (job->ran || !job->upstream) co_return;
  job->ran = true;
  ReleaseUpstream<StreamJob<Encoder>> release{*job};
  Encoder& encoder = job->encoder;
  for (;;) {
    // An if, not a ?: around co_await: GCC 12 miscompiles co_await inside a conditional
    // expression of a non-trivial type (double destruction).
    Result<std::optional<providers::StreamEvent>> next = std::optional<providers::StreamEvent>();
    if (job->first) {
      next = std::move(*job->first);
      job->first.reset();
    } else {
      next = co_await job->upstream->Next();
    }
    std::string frames;
    std::string outcome;
    if (!next) {
      frames = encoder.ErrorFrame(next.error(), job->request_id);
      outcome = next.error().reason.empty() ? "upstream_error" : next.error().reason;
    } else if (!*next) {
      frames = encoder.Finish();
      if (encoder.finished()) {
        outcome = "ok";
      } else {
        // The provider ended before the message was complete.
        Error cut(ErrorCode::kUpstreamError, "upstream_error",
                  "The model's response stream ended before the message was complete.");
        frames = encoder.ErrorFrame(cut, job->request_id);
        outcome = cut.reason;
      }
    } else {
      frames = encoder.OnEvent(**next);
      job->usage.Progress(encoder.usage());
      if (encoder.finished()) outcome = "ok";
    }
    if (!frames.empty()) {
      const bool delivered = co_await writer.Write(std::move(frames));
      if (!delivered) {
        job->usage.Finish("client_disconnected", encoder.usage());
        co_return;  // `release` destroys the upstream stream
      }
    }
    if (!outcome.empty()) {
      job->upstream.reset();
      job->usage.Finish(std::move(outcome), encoder.usage());
      co_return;
    }
  }
}

template <class Encoder>
Response StreamResponse(std::shared_ptr<StreamJob<Encoder>> job) {
  Response resp;
  resp.status = 200;
  resp.headers.Set("Content-Type", "text/event-stream; charset=utf-8");
  resp.headers.Set("Cache-Control", "no-cache");
  resp.headers.Set("X-Accel-Buffering", "no");
  // client-api §5.5: a comment line after 15 s without a chunk (ignored by both SDKs).
  resp.heartbeat_interval = job->heartbeat_interval;
  resp.heartbeat = ": keep-alive\n\n";
  resp.stream = [job = std::move(job)](server::BodyWriter& w) { return Pump<Encoder>(job, w); };
  return resp;
}

// Starts the upstream stream and reads its first event before committing to a 200, so that a
// stream the provider accepts but fails at once (an exception or a broken first frame) still
// gets a JSON error status that the SDKs raise at call time. This costs the client nothing:
// its first chunk is made from that first event anyway.
template <class Encoder>
boost::asio::awaitable<Response> StartStreaming(Deps& d, const Request& req, const Caller& caller,
                                                const state::ModelEntry& model,
                                                std::shared_ptr<StreamJob<Encoder>> job,
                                                providers::ChatRequest request) {
  const std::string& model_id = model.record.id;
  auto fail = [&](const Error& e) {
    job->usage.Finish(e.reason.empty() ? "upstream_error" : e.reason, {});
    return Tagged(server::ErrorResponse(e, req), &caller, model_id);
  };
  auto started = co_await d.upstream.StartStream(model, std::move(request));
  if (!started) co_return fail(started.error());
  job->upstream = std::move(*started);
  Result<std::optional<providers::StreamEvent>> first = co_await job->upstream->Next();
  if (!first) {
    job->upstream.reset();
    co_return fail(first.error());
  }
  job->first = std::move(first);
  co_return Tagged(StreamResponse(std::move(job)), &caller, model_id);
}

boost::asio::awaitable<Response> Invoke(Deps& d, Endpoint endpoint, Request req) {
  const SteadyTime start = d.clock.SteadyNow();
  const SystemTime arrived = d.clock.Now();
  auto caller = Authorize(d, req);
  if (!caller) co_return server::ErrorResponse(caller.error(), req);
  if (auto limited = CheckRateLimit(d, *caller); !limited) {
    co_return Tagged(server::ErrorResponse(limited.error(), req), &*caller);
  }

  Result<ParsedChat> parsed = endpoint == Endpoint::kCompletions
                                  ? ParseCompletionRequest(req.body)
                                  : ParseChatRequest(req.body, DialectOf(endpoint));
  if (!parsed) co_return Tagged(server::ErrorResponse(parsed.error(), req), &*caller);
  const std::string model_id = parsed->model;
  auto resolved = ResolveModel(d, *caller, model_id);
  if (!resolved) {
    co_return Tagged(server::ErrorResponse(resolved.error(), req), &*caller, model_id);
  }
  const state::ModelEntry& model = **resolved;
  if (auto ok = CheckModalities(model.record, parsed->request); !ok) {
    co_return Tagged(server::ErrorResponse(ok.error(), req), &*caller, model_id);
  }
  const bool stream = parsed->request.stream;
  const int64_t created = UnixSeconds(arrived);

  if (PoolStatus pool = PoolOf(d, *caller->snap, model_id); !pool.in_pool) {
    UsageRecorder usage(d, req, *caller, model, arrived, start, stream);
    Error e = Unavailable(pool, model_id);
    usage.Finish(e.reason, {});
    co_return Tagged(server::ErrorResponse(e, req), &*caller, model_id);
  }

  if (!stream) {
    UsageRecorder usage(d, req, *caller, model, arrived, start, false);
    Result<providers::ChatResponse> r =
        co_await d.upstream.Chat(model, std::move(parsed->request));
    if (!r) {
      usage.Finish(r.error().reason.empty() ? "upstream_error" : r.error().reason, {});
      co_return Tagged(server::ErrorResponse(r.error(), req), &*caller, model_id);
    }
    usage.Finish("ok", r->usage);
    std::string body =
        endpoint == Endpoint::kCompletions
            ? RenderCompletionResponse(*r, "cmpl-" + NewUuid(), created, model_id)
            : RenderChatResponse(*r, DialectOf(endpoint), "chatcmpl-" + NewUuid(), created,
                                 model_id);
    co_return Tagged(server::JsonResponse(200, std::move(body)), &*caller, model_id);
  }

  const bool include_usage = parsed->request.include_usage;
  if (endpoint == Endpoint::kCompletions) {
    auto job = std::make_shared<StreamJob<CompletionStreamEncoder>>(
        d, req, *caller, model, arrived, start,
        CompletionStreamEncoder::Options{"cmpl-" + NewUuid(), created, model_id, include_usage});
    co_return co_await StartStreaming(d, req, *caller, model, std::move(job),
                                      std::move(parsed->request));
  }
  ChatStreamEncoder::Options options;
  options.id = "chatcmpl-" + NewUuid();
  options.created = created;
  options.model = model_id;
  options.include_usage = include_usage;
  options.dialect = DialectOf(endpoint);
  options.writer_done_sentinel = d.config.writer_done_sentinel;
  auto job = std::make_shared<StreamJob<ChatStreamEncoder>>(d, req, *caller, model, arrived,
                                                            start, std::move(options));
  co_return co_await StartStreaming(d, req, *caller, model, std::move(job),
                                    std::move(parsed->request));
}

}  // namespace

void RegisterRoutes(server::Router& router, Deps& deps) {
  // The list first: "/v1/models/{id...}" also matches "/v1/models" with an empty id.
  router.Add("GET", "/v1/models",
             [&deps](Request req) { return ListModels(deps, std::move(req)); });
  router.Add("GET", "/v1/models/{id...}", [&deps](Request req) {
    auto it = req.path_params.find("id");
    if (it == req.path_params.end() || it->second.empty()) return ListModels(deps, std::move(req));
    return GetModel(deps, std::move(req));
  });
  router.Add("POST", "/v1/chat", [&deps](Request req) {
    return Invoke(deps, Endpoint::kWriterChat, std::move(req));
  });
  router.Add("POST", "/v1/chat/completions", [&deps](Request req) {
    return Invoke(deps, Endpoint::kOpenAiChat, std::move(req));
  });
  router.Add("POST", "/v1/completions", [&deps](Request req) {
    return Invoke(deps, Endpoint::kCompletions, std::move(req));
  });
}

}  // namespace mg::api::data_plane
