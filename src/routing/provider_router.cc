#include "routing/provider_router.h"

#include <utility>

namespace mg::routing {
namespace {

namespace asio = boost::asio;

Error NoProvider(const store::Model& m) {
  return Error(ErrorCode::kUpstreamError, "upstream_error",
               "Model '" + m.id + "' is served by provider '" + m.provider +
                   "', which is not available.");
}

}  // namespace

bool IsAbandoned(const Error& e) {
  return e.reason == "cancelled" || e.reason == "client_disconnected";
}

namespace detail {

struct RouterCore {
  ProviderLookup providers;
  const Clock& clock;
  OutcomeHook on_outcome;

  void Report(const std::string& model_id, const Error* error, SteadyTime started) const {
    if (!on_outcome || (error != nullptr && IsAbandoned(*error))) return;
    on_outcome(model_id, error,
               std::chrono::duration_cast<std::chrono::milliseconds>(clock.SteadyNow() - started));
  }
};

}  // namespace detail

namespace {

// Reports the stream's outcome once: success at its normal end, or its first error. A stream
// destroyed before either (the client went away) reports nothing.
class ReportingStream final : public UpstreamStream {
 public:
  ReportingStream(std::unique_ptr<providers::ChatStream> inner,
                  std::shared_ptr<const detail::RouterCore> core, std::string model_id,
                  SteadyTime started)
      : inner_(std::move(inner)),
        core_(std::move(core)),
        model_id_(std::move(model_id)),
        started_(started) {}

  asio::awaitable<Result<std::optional<providers::StreamEvent>>> Next() override {
    Result<std::optional<providers::StreamEvent>> next = co_await inner_->Next();
    if (!reported_ && (!next || !*next)) {
      reported_ = true;
      if (next) {
        core_->Report(model_id_, nullptr, started_);
      } else {
        const Error e = next.error();
        core_->Report(model_id_, &e, started_);
      }
    }
    co_return next;
  }

 private:
  std::unique_ptr<providers::ChatStream> inner_;
  std::shared_ptr<const detail::RouterCore> core_;
  std::string model_id_;
  SteadyTime started_;
  bool reported_ = false;
};

}  // namespace

ProviderRouter::ProviderRouter(ProviderLookup providers, const Clock& clock,
                               OutcomeHook on_outcome)
    : core_(std::make_shared<detail::RouterCore>(detail::RouterCore{std::move(providers), clock, std::move(on_outcome)})) {}

asio::awaitable<Result<providers::ChatResponse>> ProviderRouter::Chat(
    const state::ModelEntry& model, providers::ChatRequest request) {
  // Copied before the first suspension: the caller keeps the snapshot alive, but by-value
  // copies make this coroutine independent of that promise.
  const std::string model_id = model.record.id;
  providers::Provider* provider = core_->providers(model.record.provider);
  if (provider == nullptr) co_return NoProvider(model.record);
  const SteadyTime started = core_->clock.SteadyNow();
  Result<providers::ChatResponse> r = co_await provider->Chat(
      model.credential->provider, model.record.region, model.record.provider_model_id,
      std::move(request));
  if (r) {
    core_->Report(model_id, nullptr, started);
  } else {
    const Error e = r.error();
    core_->Report(model_id, &e, started);
  }
  co_return r;
}

asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> ProviderRouter::StartStream(
    const state::ModelEntry& model, providers::ChatRequest request) {
  const std::string model_id = model.record.id;
  providers::Provider* provider = core_->providers(model.record.provider);
  if (provider == nullptr) co_return NoProvider(model.record);
  const SteadyTime started = core_->clock.SteadyNow();
  auto stream = co_await provider->StartChatStream(model.credential->provider,
                                                   model.record.region,
                                                   model.record.provider_model_id,
                                                   std::move(request));
  if (!stream) {
    const Error e = stream.error();
    core_->Report(model_id, &e, started);
    co_return e;
  }
  co_return std::unique_ptr<UpstreamStream>(
      std::make_unique<ReportingStream>(std::move(*stream), core_, model_id, started));
}

}  // namespace mg::routing
