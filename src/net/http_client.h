// @file http_client.h
// @brief The upstream HTTP/1.1 client: how the gateway reaches AWS (Bedrock runtime, Bedrock
// control plane, STS) or a loopback override in tests. Plain HTTP and TLS, keep-alive pooling,
// per-phase deadlines, streaming bodies, cancellation.
//
// Errors (all mg::Error values, never exceptions):
//   - kUpstreamError, reason "network": DNS, connect refused, reset, TLS handshake or certificate
//     verification failure, EOF before the response is complete, malformed response. The message
//     names the endpoint and what happened; never a header or a body.
//   - kTimeout, reason "timeout": a deadline passed; the message names the phase (connect, first
//     byte, idle, total).
//   - kUpstreamError, reason "response_too_large": the body exceeded the configured limit.
//   - kUpstreamError, reason "cancelled": the awaiting coroutine was cancelled (the caller has
//     usually gone away; the value is rarely seen).
//   - kInternal, reason "tls_config": the CA bundle given in Options could not be loaded.
// A response with status >= 400 is not an error here: it is returned like any other.
//
// Pooling and the retry rule: idle keep-alive connections are kept per (scheme, host, port) and
// per thread (a thread reuses what it returned; no lock is shared between I/O threads), at most
// Options::max_idle_per_host each, for at most Options::idle_keepalive. A pooled
// connection is checked before use and dropped if the server has closed it. If a reused pooled
// connection still fails before a single response byte arrives (write error, or EOF/reset while
// waiting for the response: the server closed it while idle), the request is sent once more on
// a new connection. A request is never re-sent after any response byte arrived, after a
// timeout, or when it failed on a new connection. Connections whose response was not read to
// the end, or that the server asked to close, are closed rather than pooled.
//
// Cancellation: cancelling the awaiting coroutine (terminal cancellation, e.g. losing an
// awaitable-operators `||` race or a cancellation_signal) aborts the pending I/O, closes the
// connection and completes promptly. DNS resolution of a name (not an IP literal) is the one
// step that cannot be interrupted: it is bounded by the system resolver.
//
// Thread-safety: HttpClient is thread-safe; calls may run concurrently from any thread. The
// pool's per-host lock is held only to take or return a connection. Each call's I/O completes
// on the calling coroutine's executor; the client's executor owns the sockets and must outlive
// the client and every StreamingResponse. StreamingResponse is not thread-safe (one reader).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "net/endpoint.h"

namespace mg::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientRequest {
  std::string method;  // "GET", "POST", ... (any token)
  Endpoint endpoint;
  std::string target;  // path + query exactly as sent on the wire
  // Sent as given, in order. Host is the caller's job (defaults to HostHeader(endpoint) when
  // absent); User-Agent defaults to Options::user_agent. Content-Length is always set from
  // the body (and Transfer-Encoding removed), so signed requests must not rely on either.
  HeaderList headers;
  std::string body;
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;

  // The first header with this name (ASCII case-insensitive), or nullopt. The view points
  // into this response.
  std::optional<std::string_view> Header(std::string_view name) const;
};

// Deadlines per phase. A phase that runs out yields kTimeout naming it.
struct Timeouts {
  // DNS + TCP connect + TLS handshake of a new connection.
  std::chrono::milliseconds connect{10000};
  // From the connection being ready to the complete response header block (covers sending).
  std::chrono::milliseconds first_byte{30000};
  // Streaming only: longest wait for the next piece of the body.
  std::chrono::milliseconds idle{60000};
  // Send() only: the whole exchange, connect included; caps the other phases.
  std::chrono::milliseconds total{120000};
};

class HttpClient;

// A response whose header block has arrived and whose body is read piece by piece.
// Move-only. It owns the connection until the body is fully read; then the connection goes
// back to the pool. Destroying it earlier closes the connection.
class StreamingResponse {
 public:
  struct State;  // defined in http_client.cc

  explicit StreamingResponse(std::unique_ptr<State> state);
  StreamingResponse(StreamingResponse&&) noexcept;
  StreamingResponse& operator=(StreamingResponse&&) noexcept;
  ~StreamingResponse();

  int status() const;
  const HeaderList& headers() const;
  // As ClientResponse::Header.
  std::optional<std::string_view> Header(std::string_view name) const;

  // The next piece of the body as it arrives (any size; unrelated to HTTP chunk boundaries),
  // or nullopt at the end of the body. Errors: kTimeout "idle" when no byte arrives within
  // Timeouts::idle; kUpstreamError "network" on reset, EOF inside the body or a malformed body.
  // After an error the connection is closed and every later Read() fails too.
  boost::asio::awaitable<Result<std::optional<std::string>>> Read();
  // Reads the rest of the body. Fails with reason "response_too_large" (connection closed)
  // once more than max_bytes would be buffered; otherwise as Read().
  boost::asio::awaitable<Result<std::string>> ReadAll(size_t max_bytes);

 private:
  std::unique_ptr<State> state_;
};

class HttpClient {
 public:
  struct Options {
    size_t max_idle_per_host = 64;
    std::chrono::milliseconds idle_keepalive{30000};
    // PEM file of trusted CAs (AWS_CA_BUNDLE); when unset, the system's default trust store.
    std::optional<std::string> ca_bundle_path;
    // Largest body Send() buffers. Streaming bodies are limited by the reader (ReadAll).
    size_t max_response_bytes = 32 * 1024 * 1024;
    std::string user_agent = "modelgate/0.1";
    // Time source for idle-connection expiry only (tests inject a fake); null means the real
    // clock. I/O deadlines always use Asio's steady timers. Not owned; must outlive the client.
    const Clock* clock = nullptr;
  };

  // Never fails: a CA bundle that cannot be loaded is logged here and reported by every
  // https request (kInternal, reason "tls_config").
  HttpClient(boost::asio::any_io_executor executor, Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and reads the whole response (body limited by max_response_bytes).
  boost::asio::awaitable<Result<ClientResponse>> Send(ClientRequest request, Timeouts timeouts);
  // Sends the request and returns once the response header block has arrived; the body is
  // read through the StreamingResponse (Timeouts::idle between pieces; total does not apply).
  boost::asio::awaitable<Result<StreamingResponse>> SendStreaming(ClientRequest request,
                                                                  Timeouts timeouts);

  // Idle pooled connections that have not expired, over all endpoints.
  size_t idle_connections() const;

  class Core;  // defined in http_client.cc

 private:
  // Shared with every StreamingResponse, which returns its connection here when its body is
  // done; a response that outlives the client just closes its connection.
  std::shared_ptr<Core> core_;
};

}  // namespace mg::net
