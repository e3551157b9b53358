// @file provider.h
// @brief The provider-neutral asynchronous interface the data plane, the admin API adapter and
// the health monitor use to reach a model provider (Bedrock today): list the catalog, test a
// credential, chat (whole or streamed) and probe a model's health.
//
// Contract for every method:
//   - Coroutines (boost::asio::awaitable); they never throw for expected failures: every failure
//     is an mg::Error in the Result. Upstream failures are classified: `code`/`reason` for the
//     data plane (client-api §7.2), `health_cause`/`health_message` for admins (bedrock.md
//     §7.2), `no_retry`/`retry_after` where they apply. No message ever holds a secret.
//   - Arguments are taken by value, so an awaitable may be spawned and awaited later.
//   - `region` empty means the credential's own region.
//   - Cancelling the awaiting coroutine aborts the upstream call promptly.
//
// Thread-safety: a Provider is thread-safe; calls may run concurrently from any thread and
// complete on the calling coroutine's executor. A ChatStream has one reader.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/result.h"
#include "core/secret.h"
#include "providers/credential.h"
#include "providers/types.h"

namespace mg::providers {

// One health check of one model (bedrock.md §9).
struct ProbeResult {
  bool ok = false;
  // Wall time of the last attempt, in milliseconds.
  int64_t latency_ms = 0;
  // Number of attempts made (1 + retries of retryable causes).
  int attempts = 0;
  // Set when !ok: health_cause and health_message say why (sanitised).
  std::optional<Error> error;
};

// The events of one streamed chat, decoded into provider-neutral StreamEvents.
class ChatStream {
 public:
  virtual ~ChatStream() = default;
  // The next event, or nullopt at the normal end of the stream. An exception frame from the
  // provider, a bad frame, a dropped connection, an idle timeout or EOF before the message
  // stopped are errors (classified, never retried: bytes may already have gone out). After an
  // error or the end, every later call returns the same outcome.
  virtual boost::asio::awaitable<Result<std::optional<StreamEvent>>> Next() = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;

  // The provider's catalog in `region` (admin-api "Catalog").
  virtual boost::asio::awaitable<Result<std::vector<CatalogModel>>> ListModels(
      ProviderCredential credential, std::string region) = 0;

  // Checks that the credential works: obtains role credentials if needed, then lists the
  // catalog. Returns the number of models visible.
  virtual boost::asio::awaitable<Result<size_t>> TestCredential(ProviderCredential credential,
                                                                std::string region) = 0;

  // One non-streaming chat completion on `provider_model_id`. Retryable upstream failures are
  // retried inside (bedrock.md §7.2) before an error is returned.
  virtual boost::asio::awaitable<Result<ChatResponse>> Chat(ProviderCredential credential,
                                                            std::string region,
                                                            std::string provider_model_id,
                                                            ChatRequest request) = 0;

  // Starts a streamed chat. Errors before the stream starts (auth, validation, throttling...)
  // are returned here (retried like Chat); later ones come from ChatStream::Next().
  virtual boost::asio::awaitable<Result<std::unique_ptr<ChatStream>>> StartChatStream(
      ProviderCredential credential, std::string region, std::string provider_model_id,
      ChatRequest request) = 0;

  // One health check of `provider_model_id` (never fails: the outcome is in ProbeResult).
  virtual boost::asio::awaitable<ProbeResult> Probe(ProviderCredential credential,
                                                    std::string region,
                                                    std::string provider_model_id) = 0;
};

}  // namespace mg::providers
