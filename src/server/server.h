// @file server.h
// @brief Server: the HTTP/1.1 listener and connection handling (Boost.Beast + Asio coroutines).
//
// One strand per connection; keep-alive, Connection: close, header/body/idle/write timeouts,
// header and body size limits, a connection limit, chunked streaming responses whose producer is
// cancelled when the client goes away, one access-log line and metrics per request, and an
// x-request-id on every response. Errors the server produces itself (400 malformed, 404, 405,
// 413, 500 on a handler exception) use the contract error body (ErrorResponse).
//
// Shutdown (Run returns): on SIGTERM/SIGINT or Stop(), stop accepting, close idle connections,
// let in-flight requests finish for up to shutdown_grace, then cancel what remains (terminal
// cancellation) and wait for it briefly.
//
// Lifetime: app/ owns the Server; the Router is moved in, the Metrics must outlive the Server.
// Thread-safety: Start, Run and Spawn-before-Run are for the owning thread; Stop and Spawn are
// thread-safe; port() and io_context() may be read from any thread after Start.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "server/http.h"
#include "server/metrics.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace mg::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal
  uint16_t port = 8080;            // 0 picks a free port (see Server::port)
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10000};  // first byte .. end of request headers
  std::chrono::milliseconds body_timeout{30000};    // reading the request body
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};   // each response write (each chunk)
  std::chrono::milliseconds shutdown_grace{10000};  // in-flight requests may finish this long
  size_t max_connections = 10000;                   // further connections are closed at once
  int threads = 0;                                  // I/O threads; 0 = hardware_concurrency
};

class Server {
 public:
  Server(ServerOptions options, Router router, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Logs exactly "listening on HOST:PORT" (the actual port when 0 was asked
  // for). A bad host or a bind failure returns an Error whose message names the address.
  Result<void> Start();
  // The bound port (0 before a successful Start).
  uint16_t port() const;
  // The server's io_context, for components that spawn or await I/O (e.g. the health monitor).
  boost::asio::io_context& io_context();

  // Serves until SIGTERM/SIGINT or Stop(), then shuts down gracefully and returns. Call once,
  // after a successful Start (returns immediately otherwise).
  void Run();
  // Asks Run to shut down. Thread-safe; may be called before Run.
  void Stop();
  // Runs `task()` on its own strand, tracked: at shutdown it receives terminal cancellation and
  // Run waits for it (like the connections). Thread-safe.
  void Spawn(std::function<boost::asio::awaitable<void>()> task, std::string name = "task");

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mg::server
