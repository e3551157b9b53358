// @file client.h
// @brief The Bedrock provider: mg::providers::Provider over the upstream HttpClient. Lists the
// catalog (ListFoundationModels), tests credentials, sends Converse and ConverseStream (decoded
// into provider-neutral StreamEvents) and runs health probes (bedrock.md §1-§9), signing every
// request with SigV4 and obtaining role credentials through a cached, single-flight STS
// AssumeRole (the gateway's own identity from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN).
//
// Retries: Chat and StartChatStream retry §7.2 "Retry" causes at most `max_retries` times with
// backoff retry_backoff·2ⁿ (jitter: ×[0.5, 1]); Probe retries them with `probe_backoff`; every
// call made with role credentials that draws ExpiredTokenException drops the cached session,
// re-assumes once and retries once. ListModels/TestCredential do not retry.
//
// Thread-safety: thread-safe; calls may run concurrently on any executors. The HttpClient and
// the clock must outlive the provider; a ChatStream must not outlive the HttpClient.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "net/http_client.h"
#include "providers/aws/endpoints.h"
#include "providers/bedrock/assume_role_cache.h"
#include "providers/provider.h"

namespace mg::providers::bedrock {

struct BedrockOptions {
  // Environment reader: endpoint overrides (AWS_ENDPOINT_URL*) and the gateway's own AWS
  // identity. Null means the process environment.
  aws::GetEnvFn getenv;
  // Wall clock for SigV4 dates and STS expiry; steady clock for latencies. Null: real clock.
  const Clock* clock = nullptr;
  // bedrock.md §1 timeouts.
  net::Timeouts converse_timeouts{std::chrono::seconds(10), std::chrono::seconds(120),
                                  std::chrono::seconds(60), std::chrono::seconds(120)};
  // first_byte: response headers (the spec's "30 s to first event"); idle: between pieces.
  net::Timeouts stream_timeouts{std::chrono::seconds(10), std::chrono::seconds(30),
                                std::chrono::seconds(60), std::chrono::seconds(120)};
  net::Timeouts control_timeouts{std::chrono::seconds(10), std::chrono::seconds(30),
                                 std::chrono::seconds(30), std::chrono::seconds(30)};
  net::Timeouts sts_timeouts{std::chrono::seconds(10), std::chrono::seconds(30),
                             std::chrono::seconds(30), std::chrono::seconds(30)};
  net::Timeouts probe_timeouts{std::chrono::seconds(10), std::chrono::seconds(30),
                               std::chrono::seconds(30), std::chrono::seconds(30)};
  // Data-plane retries (§7.2): at most this many, backoff retry_backoff * 2^n with jitter.
  int max_retries = 2;
  std::chrono::milliseconds retry_backoff{500};
  // Health-probe retries of "Retry" causes (§9): one sleep per retry.
  std::vector<std::chrono::milliseconds> probe_backoff{std::chrono::seconds(1),
                                                       std::chrono::seconds(2)};
  // DurationSeconds sent with AssumeRole.
  int assume_role_duration_seconds = aws::kDefaultAssumeRoleDurationSeconds;
  // Largest error body read from a failed stream response.
  size_t max_error_body_bytes = 256 * 1024;
};

class BedrockProvider final : public Provider {
 public:
  BedrockProvider(net::HttpClient& http, BedrockOptions options);
  ~BedrockProvider() override;

  boost::asio::awaitable<Result<std::vector<CatalogModel>>> ListModels(
      ProviderCredential credential, std::string region) override;
  boost::asio::awaitable<Result<size_t>> TestCredential(ProviderCredential credential,
                                                        std::string region) override;
  boost::asio::awaitable<Result<ChatResponse>> Chat(ProviderCredential credential,
                                                    std::string region,
                                                    std::string provider_model_id,
                                                    ChatRequest request) override;
  boost::asio::awaitable<Result<std::unique_ptr<ChatStream>>> StartChatStream(
      ProviderCredential credential, std::string region, std::string provider_model_id,
      ChatRequest request) override;
  boost::asio::awaitable<ProbeResult> Probe(ProviderCredential credential, std::string region,
                                            std::string provider_model_id) override;

  // Temporary STS sessions currently cached (tests, metrics).
  size_t cached_sessions() const { return sts_cache_.size(); }

 private:
  struct Auth;
  struct Exchange;

  boost::asio::awaitable<AwsResult<Auth>> Authenticate(const ProviderCredential& credential,
                                                       const std::string& region);
  boost::asio::awaitable<AwsResult<aws::AssumedRole>> AssumeRole(aws::AssumeRoleParams params,
                                                                 std::string region,
                                                                 aws::Credentials source);
  // One signed exchange with the ExpiredToken re-assume rule. `streaming` selects SendStreaming
  // (a 2xx response is returned unread).
  boost::asio::awaitable<AwsResult<Exchange>> Call(const ProviderCredential& credential,
                                                   const std::string& region,
                                                   aws::AwsService service,
                                                   const UnsignedRequest& request,
                                                   net::Timeouts timeouts, bool streaming);
  // Call() plus the data-plane retry loop.
  boost::asio::awaitable<AwsResult<Exchange>> CallWithRetries(const ProviderCredential& credential,
                                                              const std::string& region,
                                                              const UnsignedRequest& request,
                                                              net::Timeouts timeouts,
                                                              bool streaming);

  // The SigV4 signing key for `credentials` on the date of `now` in the endpoint's scope, from
  // this I/O thread's cache (derived on a miss; never null). Valid until this thread next calls
  // it: use it before any co_await.
  [[gnu::noinline]] const aws::SigningKey* CachedSigningKey(const aws::Credentials& credentials,
                                                            const aws::Endpoint& endpoint,
                                                            SystemTime now) const;

  net::HttpClient& http_;
  BedrockOptions options_;
  // Distinguishes this provider's entries in the per-thread signing-key cache from those of
  // another provider object (tests create many).
  uint64_t instance_id_;
  RealClock real_clock_;
  const Clock& clock_;
  AssumeRoleCache sts_cache_;
};

}  // namespace mg::providers::bedrock
