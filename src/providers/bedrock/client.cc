// @file client.cc
// @brief Implementation of client.h.
#include "providers/bedrock/client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <atomic>
#include <deque>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/log.h"
#include "providers/aws/eventstream.h"
#include "providers/bedrock/converse_codec.h"

namespace mg::providers::bedrock {

namespace asio = boost::asio;
using aws::AwsService;

namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kEventStream = "application/vnd.amazon.eventstream";

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  if (d.count() <= 0) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// noinline: thread-local state is never reached from inside a coroutine body (CONTRIBUTING.md).
[[gnu::noinline]] std::chrono::milliseconds Jittered(std::chrono::milliseconds base) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(base.count()) *
                                                        dist(rng)));
}

CallFailure Protocol(std::string_view detail) { return {aws::ProtocolFailure(detail)}; }

CallFailure ConfigFailure(Error error) {
  aws::AwsErrorClass cls;
  cls.error = std::move(error);
  cls.error.health_cause = std::string(aws::health_cause::kCredentialsInvalid);
  cls.error.health_message = cls.error.message;
  return {std::move(cls)};
}

std::string RegionFor(const ProviderCredential& credential, const std::string& region) {
  return region.empty() ? credential.region : region;
}

// The gateway's own identity (§2.1), read through the injected environment.
aws::Credentials SourceCredentials(const aws::GetEnvFn& getenv) {
  aws::Credentials c;
  auto get = [&](std::string_view name) -> std::string {
    auto v = getenv(name);
    return v ? *v : std::string();
  };
  c.access_key_id = get("AWS_ACCESS_KEY_ID");
  c.secret_access_key = Secret(get("AWS_SECRET_ACCESS_KEY"));
  std::string token = get("AWS_SESSION_TOKEN");
  if (!token.empty()) c.session_token = Secret(std::move(token));
  return c;
}

// A ConverseStream body decoded into StreamEvents.
class BedrockChatStream final : public ChatStream {
 public:
  BedrockChatStream(net::StreamingResponse response, bool role_credentials)
      : response_(std::move(response)), role_credentials_(role_credentials) {}

  asio::awaitable<Result<std::optional<StreamEvent>>> Next() override {
    if (failure_) co_return *failure_;
    if (done_) co_return std::optional<StreamEvent>{};
    for (;;) {
      while (!pending_.empty()) {
        aws::EventMessage message = std::move(pending_.front());
        pending_.pop_front();
        if (auto err = aws::ParseEventStreamError(message)) {
          aws::ClassifyOptions options;
          options.role_credentials = role_credentials_;
          options.mid_stream = true;
          co_return Fail(aws::ClassifyAwsError(*err, options).error);
        }
        auto event_type = message.Header(":event-type");
        if (!event_type) continue;
        auto event = state_.Parse(*event_type, message.payload);
        if (!event) co_return Fail(aws::ProtocolFailure(event.error().message).error);
        if (*event_type == "messageStop") stopped_ = true;
        if (event->has_value()) co_return std::move(*event);
      }
      if (decode_failure_) co_return Fail(*decode_failure_);
      auto piece = co_await response_.Read();
      if (!piece) co_return Fail(TransportFailure(piece.error()).error());
      if (!piece->has_value()) {
        if (decoder_.HasPartialMessage()) {
          co_return Fail(aws::ProtocolFailure("event stream ended inside a message").error);
        }
        if (!stopped_) {
          co_return Fail(aws::ProtocolFailure("event stream ended before messageStop").error);
        }
        done_ = true;
        co_return std::optional<StreamEvent>{};
      }
      std::vector<aws::EventMessage> messages;
      auto fed = decoder_.Feed(**piece, messages);
      for (auto& m : messages) pending_.push_back(std::move(m));
      if (!fed) decode_failure_ = aws::ProtocolFailure(fed.error().message).error;
    }
  }

 private:
  Error Fail(Error error) {
    failure_ = error;
    return error;
  }

  net::StreamingResponse response_;
  bool role_credentials_;
  aws::EventStreamDecoder decoder_;
  ConverseStreamState state_;
  std::deque<aws::EventMessage> pending_;
  std::optional<Error> decode_failure_;  // reported once the messages before it are delivered
  std::optional<Error> failure_;
  bool stopped_ = false;
  bool done_ = false;
};

// §9: healthy when the body has output.message and usage.
bool IsHealthyProbeBody(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.get_object();
  const auto* output = o.if_contains("output");
  const auto* usage = o.if_contains("usage");
  return output && output->is_object() && output->get_object().if_contains("message") &&
         usage && usage->is_object();
}

}  // namespace

struct BedrockProvider::Auth {
  aws::Credentials credentials;
  bool from_role = false;
  std::string cache_key;  // role only
};

struct BedrockProvider::Exchange {
  std::optional<net::ClientResponse> whole;
  std::optional<net::StreamingResponse> stream;
  bool role_credentials = false;
};

namespace {
std::atomic<uint64_t> next_provider_instance{1};
}  // namespace

BedrockProvider::BedrockProvider(net::HttpClient& http, BedrockOptions options)
    : http_(http),
      options_(std::move(options)),
      instance_id_(next_provider_instance.fetch_add(1, std::memory_order_relaxed)),
      clock_(options_.clock ? *options_.clock : static_cast<const Clock&>(real_clock_)),
      sts_cache_(clock_) {
  if (!options_.getenv) options_.getenv = aws::ProcessEnv();
}

BedrockProvider::~BedrockProvider() = default;

asio::awaitable<AwsResult<aws::AssumedRole>> BedrockProvider::AssumeRole(
    aws::AssumeRoleParams params, std::string region, aws::Credentials source) {
  auto endpoint = aws::ResolveEndpoint(AwsService::kSts, region, options_.getenv);
  if (!endpoint) co_return ConfigFailure(endpoint.error());
  auto built = aws::BuildAssumeRoleRequest(params, *endpoint, source, clock_.Now());
  if (!built) co_return ConfigFailure(built.error());
  auto response =
      co_await http_.Send(ToClientRequest(std::move(*built), *endpoint), options_.sts_timeouts);
  if (!response) co_return TransportFailure(response.error());
  if (response->status < 200 || response->status >= 300) {
    aws::AwsErrorClass cls = aws::ClassifyStsError(response->status, response->body);
    log::Warn("bedrock_assume_role_failed",
              {{"status", response->status}, {"cause", cls.error.health_cause}});
    co_return CallFailure{std::move(cls)};
  }
  auto assumed = aws::ParseAssumeRoleResponse(response->body);
  if (!assumed) co_return Protocol(assumed.error().message);
  co_return std::move(*assumed);
}

asio::awaitable<AwsResult<BedrockProvider::Auth>> BedrockProvider::Authenticate(
    const ProviderCredential& credential, const std::string& region) {
  Auth auth;
  if (const auto* keys = std::get_if<AccessKeysAuth>(&credential.auth)) {
    auth.credentials.access_key_id = keys->access_key_id;
    auth.credentials.secret_access_key = keys->secret_access_key;
    if (!keys->session_token.empty()) auth.credentials.session_token = keys->session_token;
    co_return auth;
  }
  const auto& role = std::get<RoleArnAuth>(credential.auth);
  aws::AssumeRoleParams params;
  params.role_arn = role.role_arn;
  params.role_session_name =
      role.session_name.empty() ? std::string(aws::kDefaultRoleSessionName) : role.session_name;
  params.external_id = role.external_id;
  params.duration_seconds = options_.assume_role_duration_seconds;
  aws::Credentials source = SourceCredentials(options_.getenv);
  auth.from_role = true;
  auth.cache_key = AssumeRoleCache::MakeKey(
      credential.cache_key.empty() ? credential.id : credential.cache_key, params.role_arn,
      params.role_session_name, params.external_id.value_or(""), region, source.access_key_id);
  // A named local, not a temporary inside the co_await expression: GCC 12 mis-destroys
  // non-trivial temporaries of a co_await full-expression (heap corruption).
  AssumeRoleCache::Fetch fetch = [this, params, region,
                                  source]() -> asio::awaitable<AwsResult<aws::AssumedRole>> {
    return AssumeRole(params, region, source);
  };
  auto creds = co_await sts_cache_.Get(auth.cache_key, std::move(fetch));
  if (!creds) co_return creds.error();
  auth.credentials = std::move(*creds);
  co_return auth;
}

const aws::SigningKey* BedrockProvider::CachedSigningKey(const aws::Credentials& credentials,
                                                         const aws::Endpoint& endpoint,
                                                         SystemTime now) const {
  // SigV4 §3 step 8: the key depends only on the secret, the date, the region and the service,
  // so each I/O thread derives it once a day per key id and secret. An entry is used only when
  // its secret is exactly this one (an edited or rotated secret, or an unsaved credential being
  // tested, keeps the key id). thread_local: the hot path takes no lock.
  struct Entry {
    Secret secret;
    aws::SigningKey key;
  };
  thread_local std::unordered_map<std::string, Entry> keys;
  const std::string date = aws::FormatAmzDate(now).substr(0, 8);
  std::string name = std::to_string(instance_id_);
  for (std::string_view part : {std::string_view(credentials.access_key_id), std::string_view(date),
                                std::string_view(endpoint.signing_region),
                                std::string_view(endpoint.signing_service)}) {
    name.push_back('\n');
    name.append(part);
  }
  const std::string_view secret = credentials.secret_access_key.Reveal();
  if (auto it = keys.find(name); it != keys.end()) {
    if (it->second.secret.Reveal() == secret) return &it->second.key;
    keys.erase(it);
  }
  if (keys.size() >= 256) keys.clear();  // old days, expired temporary credentials
  auto [it, inserted] = keys.emplace(
      std::move(name),
      Entry{credentials.secret_access_key,
            aws::DeriveSigningKey(credentials.secret_access_key, date, endpoint.signing_region,
                                  endpoint.signing_service)});
  return &it->second.key;
}

asio::awaitable<AwsResult<BedrockProvider::Exchange>> BedrockProvider::Call(
    const ProviderCredential& credential, const std::string& region, AwsService service,
    const UnsignedRequest& request, net::Timeouts timeouts, bool streaming) {
  auto endpoint = aws::ResolveEndpoint(service, region, options_.getenv);
  if (!endpoint) co_return ConfigFailure(endpoint.error());
  for (int attempt = 0;; ++attempt) {
    auto auth = co_await Authenticate(credential, region);
    if (!auth) co_return auth.error();
    const SystemTime now = clock_.Now();
    auto built = BuildSignedRequest(request, *endpoint, auth->credentials, now,
                                    CachedSigningKey(auth->credentials, *endpoint, now));
    if (!built) co_return ConfigFailure(built.error());
    Exchange exchange;
    exchange.role_credentials = auth->from_role;
    std::optional<CallFailure> failure;
    if (streaming) {
      auto response = co_await http_.SendStreaming(std::move(*built), timeouts);
      if (!response) co_return TransportFailure(response.error());
      const int status = response->status();
      if (status >= 200 && status < 300) {
        exchange.stream = std::move(*response);
        co_return exchange;
      }
      std::optional<std::string> type;
      if (auto h = response->Header("x-amzn-ErrorType")) type = std::string(*h);
      auto body = co_await response->ReadAll(options_.max_error_body_bytes);
      failure = HttpFailure(status, type, body ? std::string_view(*body) : std::string_view{},
                            auth->from_role);
    } else {
      auto response = co_await http_.Send(std::move(*built), timeouts);
      if (!response) co_return TransportFailure(response.error());
      if (response->status >= 200 && response->status < 300) {
        exchange.whole = std::move(*response);
        co_return exchange;
      }
      failure =
          HttpFailure(response->status, response->Header("x-amzn-ErrorType"), response->body,
                      auth->from_role);
    }
    if (failure->cls.retry == aws::RetryAdvice::kReassumeRole && attempt == 0) {
      log::Info("bedrock_reassume_role", {{"credential", credential.id}});
      sts_cache_.Invalidate(auth->cache_key, auth->credentials.access_key_id);
      continue;
    }
    if (failure->cls.retry == aws::RetryAdvice::kReassumeRole) {
      failure->cls.retry = aws::RetryAdvice::kNo;
    }
    co_return std::move(*failure);
  }
}

asio::awaitable<AwsResult<BedrockProvider::Exchange>> BedrockProvider::CallWithRetries(
    const ProviderCredential& credential, const std::string& region,
    const UnsignedRequest& request, net::Timeouts timeouts, bool streaming) {
  for (int n = 0;; ++n) {
    auto result =
        co_await Call(credential, region, AwsService::kBedrockRuntime, request, timeouts,
                      streaming);
    if (result || !result.error().cls.retryable() || n >= options_.max_retries) co_return result;
    log::Info("bedrock_retry", {{"credential", credential.id},
                                {"cause", result.error().error().health_cause},
                                {"attempt", n + 1}});
    co_await Sleep(Jittered(options_.retry_backoff * (1 << n)));
  }
}

asio::awaitable<Result<std::vector<CatalogModel>>> BedrockProvider::ListModels(
    ProviderCredential credential, std::string region) {
  region = RegionFor(credential, region);
  UnsignedRequest request;
  request.method = "GET";
  request.operation_path = std::string(kListFoundationModelsPath);
  auto exchange = co_await Call(credential, region, AwsService::kBedrock, request,
                                options_.control_timeouts, false);
  if (!exchange) co_return exchange.error().error();
  auto models = ParseFoundationModels(exchange->whole->body);
  if (!models) co_return Protocol(models.error().message).error();
  co_return std::move(*models);
}

asio::awaitable<Result<size_t>> BedrockProvider::TestCredential(ProviderCredential credential,
                                                                std::string region) {
  auto models = co_await ListModels(std::move(credential), std::move(region));
  if (!models) co_return models.error();
  co_return models->size();
}

asio::awaitable<Result<ChatResponse>> BedrockProvider::Chat(ProviderCredential credential,
                                                            std::string region,
                                                            std::string provider_model_id,
                                                            ChatRequest chat) {
  region = RegionFor(credential, region);
  UnsignedRequest request;
  request.method = "POST";
  request.operation_path = ConversePath(provider_model_id);
  request.content_type = std::string(kJson);
  request.body = BuildConverseBody(chat);
  auto exchange =
      co_await CallWithRetries(credential, region, request, options_.converse_timeouts, false);
  if (!exchange) co_return exchange.error().error();
  auto response = ParseConverseResponse(exchange->whole->body);
  if (!response) co_return Protocol(response.error().message).error();
  co_return std::move(*response);
}

asio::awaitable<Result<std::unique_ptr<ChatStream>>> BedrockProvider::StartChatStream(
    ProviderCredential credential, std::string region, std::string provider_model_id,
    ChatRequest chat) {
  region = RegionFor(credential, region);
  UnsignedRequest request;
  request.method = "POST";
  request.operation_path = ConverseStreamPath(provider_model_id);
  request.content_type = std::string(kJson);
  request.accept = std::string(kEventStream);
  request.body = BuildConverseBody(chat);
  auto exchange =
      co_await CallWithRetries(credential, region, request, options_.stream_timeouts, true);
  if (!exchange) co_return exchange.error().error();
  std::unique_ptr<ChatStream> stream = std::make_unique<BedrockChatStream>(
      std::move(*exchange->stream), exchange->role_credentials);
  co_return stream;
}

asio::awaitable<ProbeResult> BedrockProvider::Probe(ProviderCredential credential,
                                                    std::string region,
                                                    std::string provider_model_id) {
  region = RegionFor(credential, region);
  UnsignedRequest request;
  request.method = "POST";
  request.operation_path = ConversePath(provider_model_id);
  request.content_type = std::string(kJson);
  request.body = BuildProbeBody();
  ProbeResult result;
  for (size_t attempt = 0;; ++attempt) {
    result.attempts = static_cast<int>(attempt) + 1;
    const SteadyTime start = clock_.SteadyNow();
    auto exchange = co_await Call(credential, region, AwsService::kBedrockRuntime, request,
                                  options_.probe_timeouts, false);
    result.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            clock_.SteadyNow() - start)
                            .count();
    std::optional<CallFailure> failure;
    if (exchange) {
      if (IsHealthyProbeBody(exchange->whole->body)) {
        result.ok = true;
        result.error.reset();
        co_return result;
      }
      failure = Protocol("probe reply lacks output.message or usage");
    } else {
      failure = std::move(exchange).error();
    }
    result.ok = false;
    result.error = failure->cls.error;
    if (!failure->cls.retryable() || attempt >= options_.probe_backoff.size()) co_return result;
    co_await Sleep(options_.probe_backoff[attempt]);
  }
}

}  // namespace mg::providers::bedrock
