// HttpClient: Beast HTTP/1.1 over Asio sockets (plain or TLS), coroutine style.
//
// Every I/O step is raced against a steady_timer with Asio's awaitable operators (`op || timer`)
// rather than beast::tcp_stream::expires_after: the timer, the I/O completion and any
// cancellation all run on the calling coroutine's executor, so a connection is never touched
// from two threads, and the losing branch tells us which phase ran out.
#include "net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <atomic>
#include <cerrno>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <variant>

#include "core/check.h"
#include "core/log.h"

namespace mg::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Deadline = asio::steady_timer::time_point;
using asio::experimental::awaitable_operators::operator||;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Largest piece StreamingResponse::Read returns at once.
// Its buffer is held while the read waits, so with 1,000 paced streams this is per-stream
// memory: 4 KiB holds a burst of a dozen Bedrock events (bench/README.md).
constexpr size_t kReadPieceBytes = 4 * 1024;
// AWS response header blocks are a few hundred bytes; 64 KiB leaves room without letting a
// broken upstream make us buffer without bound.
constexpr uint32_t kHeaderLimitBytes = 64 * 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

Deadline DeadlineAfter(std::chrono::milliseconds d) { return RealClock().SteadyNow() + d; }

// A deadline plus the phase name reported when it passes.
struct PhaseDeadline {
  Deadline at;
  std::string_view phase;  // "connect", "first byte", "idle", "total"
  std::chrono::milliseconds limit;
};

// The phase's own deadline, or the exchange's total deadline when that comes first.
PhaseDeadline Capped(std::string_view phase, std::chrono::milliseconds limit,
                     const std::optional<PhaseDeadline>& total) {
  PhaseDeadline own{DeadlineAfter(limit), phase, limit};
  if (total && total->at < own.at) return *total;
  return own;
}

Error NetworkError(const Endpoint& endpoint, std::string_view action, std::string_view detail) {
  return Error(ErrorCode::kUpstreamError, "network",
               std::string(action) + " " + ToString(endpoint) + " failed: " + std::string(detail));
}

Error TimeoutError(const Endpoint& endpoint, const PhaseDeadline& deadline) {
  return Error(ErrorCode::kTimeout, "timeout",
               "upstream " + ToString(endpoint) + ": " + std::string(deadline.phase) +
                   " timeout after " + std::to_string(deadline.limit.count()) + " ms");
}

Error CancelledError(const Endpoint& endpoint) {
  return Error(ErrorCode::kUpstreamError, "cancelled",
               "request to " + ToString(endpoint) + " was cancelled");
}

Error TooLargeError(const Endpoint& endpoint, size_t limit) {
  return Error(ErrorCode::kUpstreamError, "response_too_large",
               "response from " + ToString(endpoint) + " exceeds " + std::to_string(limit) +
                   " bytes");
}

// Human detail for an I/O error; Beast's wording for EOF is too terse for an operator.
std::string Describe(const error_code& ec) {
  if (ec == http::error::end_of_stream) return "connection closed before any response";
  if (ec == http::error::partial_message || ec == asio::error::eof ||
      ec == ssl::error::stream_truncated) {
    return "connection closed before the response was complete";
  }
  return ec.message();
}

// The peer closed or reset the connection (as opposed to a timeout or a protocol error).
bool IsPeerClosed(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

enum class StepEnd { kCompleted, kTimedOut, kCancelled };

template <class T>
struct Step {
  StepEnd end = StepEnd::kCompleted;
  T value{};  // meaningful when end == kCompleted
};

// Runs `op` unless `deadline` passes first (the op is then cancelled and kTimedOut returned) or
// the awaiting coroutine is cancelled (kCancelled).
template <class T>
asio::awaitable<Step<T>> Race(asio::awaitable<T> op, Deadline deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto outcome = co_await (std::move(op) || timer.async_wait(kUseTuple));
  Step<T> step;
  asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) {
    step.end = StepEnd::kCancelled;
  } else if (outcome.index() == 1) {
    step.end = StepEnd::kTimedOut;
  } else {
    step.value = std::move(std::get<0>(outcome));
  }
  co_return step;
}

Error StepError(StepEnd end, const Endpoint& endpoint, const PhaseDeadline& deadline) {
  return end == StepEnd::kTimedOut ? TimeoutError(endpoint, deadline) : CancelledError(endpoint);
}

// Maps an exception escaping an Asio await (the caller was cancelled before we could observe
// it) to an Error.
Error FromSystemError(const Endpoint& endpoint, const boost::system::system_error& e) {
  if (e.code() == asio::error::operation_aborted) return CancelledError(endpoint);
  return NetworkError(endpoint, "exchange with", e.code().message());
}

}  // namespace

// One TCP or TLS connection to an endpoint, with the bytes read past the last response.
// Thread-safety: used by one call at a time (the pool hands it out exclusively).
class Connection {
 public:
  using TlsStream = ssl::stream<tcp::socket>;

  Connection(Endpoint endpoint, const asio::any_io_executor& executor)
      : endpoint_(std::move(endpoint)), stream_(std::in_place_type<tcp::socket>, executor) {}
  Connection(Endpoint endpoint, const asio::any_io_executor& executor, ssl::context& tls)
      : endpoint_(std::move(endpoint)), stream_(std::in_place_type<TlsStream>, executor, tls) {}

  const Endpoint& endpoint() const { return endpoint_; }
  beast::flat_buffer& buffer() { return buffer_; }
  TlsStream* tls() { return std::get_if<TlsStream>(&stream_); }
  tcp::socket& socket() {
    if (auto* s = tls()) return s->next_layer();
    return std::get<tcp::socket>(stream_);
  }

  // Calls f with the concrete stream (tcp::socket& or TlsStream&).
  template <class F>
  decltype(auto) Visit(F&& f) {
    return std::visit(std::forward<F>(f), stream_);
  }

  bool is_reused() const { return reused_; }
  void set_reused() { reused_ = true; }
  SteadyTime idle_since() const { return idle_since_; }
  void set_idle_since(SteadyTime t) { idle_since_ = t; }

  // For an idle pooled connection: true if nothing is waiting to be read and the peer has not
  // closed it. Any byte (a late 408, a TLS close_notify) or EOF makes it unusable.
  bool IsIdleHealthy() {
    tcp::socket& s = socket();
    if (!s.is_open() || buffer_.size() != 0) return false;
    // One non-blocking peek (MSG_DONTWAIT) rather than toggling the socket's mode around a
    // receive: this runs for every pooled request, and that cost three system calls.
    char byte = 0;
    const ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  // Closes the socket without a TLS close_notify (the pool never waits on a goodbye).
  void Close() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  Endpoint endpoint_;
  std::variant<tcp::socket, TlsStream> stream_;
  beast::flat_buffer buffer_;
  bool reused_ = false;
  SteadyTime idle_since_{};
};

namespace {

// Idle keep-alive connections per endpoint key, sharded by thread: each thread takes from and
// returns to its own shard, so the request path never shares a lock or a cache line with another
// I/O thread (a shard's mutex is only contended by IdleCount and by threads beyond kShards).
// A connection may be returned by another thread than the one that took it, so connections move
// between shards; each shard keeps at most max_idle_per_host per endpoint. Sockets are closed
// outside the locks. Thread-safety: thread-safe.
class ConnectionPool {
 public:
  ConnectionPool(size_t max_idle_per_host, std::chrono::milliseconds keepalive, const Clock& clock)
      : max_idle_per_host_(max_idle_per_host), keepalive_(keepalive), clock_(clock) {}

  // The most recently used healthy, unexpired connection for key, or null. Expired and dead
  // connections met on the way are closed.
  std::unique_ptr<Connection> Take(const std::string& key) {
    Shard& shard = MyShard();
    for (;;) {
      std::unique_ptr<Connection> candidate;
      std::deque<std::unique_ptr<Connection>> expired;
      {
        std::lock_guard lock(shard.mutex);
        auto it = shard.hosts.find(key);
        if (it == shard.hosts.end()) return nullptr;
        auto& idle = it->second;
        const SteadyTime now = clock_.SteadyNow();
        while (!idle.empty() && IsExpired(*idle.front(), now)) {
          expired.push_back(std::move(idle.front()));
          idle.pop_front();
        }
        if (!idle.empty()) {
          candidate = std::move(idle.back());
          idle.pop_back();
        }
      }
      for (auto& c : expired) c->Close();
      if (!candidate) return nullptr;
      if (candidate->IsIdleHealthy()) {
        candidate->set_reused();
        return candidate;
      }
      log::Debug("upstream_idle_connection_dead", {{"endpoint", key}});
      candidate->Close();
    }
  }

  void Put(const std::string& key, std::unique_ptr<Connection> connection) {
    if (max_idle_per_host_ == 0) {
      connection->Close();
      return;
    }
    Shard& shard = MyShard();
    std::unique_ptr<Connection> evicted;
    {
      std::lock_guard lock(shard.mutex);
      auto& idle = shard.hosts[key];
      connection->set_idle_since(clock_.SteadyNow());
      idle.push_back(std::move(connection));
      if (idle.size() > max_idle_per_host_) {
        evicted = std::move(idle.front());
        idle.pop_front();
      }
    }
    if (evicted) evicted->Close();
  }

  size_t IdleCount() const {
    const SteadyTime now = clock_.SteadyNow();
    size_t count = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      for (const auto& [key, idle] : shard.hosts) {
        for (const auto& c : idle) count += IsExpired(*c, now) ? 0 : 1;
      }
    }
    return count;
  }

 private:
  static constexpr size_t kShards = 16;
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    // guarded by mutex; per endpoint, oldest first
    std::unordered_map<std::string, std::deque<std::unique_ptr<Connection>>> hosts;
  };

  // Threads are numbered in the order they first use a pool.
  [[gnu::noinline]] static size_t ThreadIndex() {  // noinline: see CONTRIBUTING.md
    static std::atomic<size_t> next{0};
    thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed);
    return index;
  }
  Shard& MyShard() { return shards_[ThreadIndex() % kShards]; }

  bool IsExpired(const Connection& c, SteadyTime now) const {
    return now - c.idle_since() >= keepalive_;
  }

  const size_t max_idle_per_host_;
  const std::chrono::milliseconds keepalive_;
  const Clock& clock_;
  std::array<Shard, kShards> shards_;
};

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f || std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(
                                      c)) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool HasControlChars(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

// Validates the caller's request and turns it into a Beast message.
Result<http::request<http::string_body>> BuildRequest(ClientRequest& request,
                                                      const std::string& user_agent) {
  const Endpoint& ep = request.endpoint;
  if ((ep.scheme != "http" && ep.scheme != "https") || ep.host.empty() || ep.port == 0) {
    return InvalidArgument("endpoint must be http or https with a host and a port", "endpoint");
  }
  if (!IsToken(request.method)) return InvalidArgument("invalid HTTP method", "method");
  if (request.target.empty() || HasControlChars(request.target) ||
      request.target.find(' ') != std::string::npos) {
    return InvalidArgument("request target must be non-empty without spaces or controls",
                           "target");
  }
  http::request<http::string_body> req;
  const http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    req.method_string(request.method);
  } else {
    req.method(verb);
  }
  req.target(request.target);
  req.version(11);
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name) || HasControlChars(value)) {
      return InvalidArgument("invalid request header '" + (IsToken(name) ? name : "?") + "'",
                             "headers");
    }
    req.insert(name, value);
  }
  if (req.find(http::field::host) == req.end()) req.set(http::field::host, HostHeader(ep));
  if (req.find(http::field::user_agent) == req.end() && !user_agent.empty()) {
    req.set(http::field::user_agent, user_agent);
  }
  req.body() = std::move(request.body);
  req.prepare_payload();
  return req;
}

template <class Body>
HeaderList CopyHeaders(const http::response<Body>& message) {
  HeaderList headers;
  for (const auto& field : message) {
    headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return headers;
}

template <class Body>
struct Started {
  std::unique_ptr<Connection> connection;
  std::unique_ptr<http::response_parser<Body>> parser;
};

}  // namespace

// The client's shared state: options, TLS context, pool.
// Thread-safety: thread-safe (the pool locks; the rest is immutable after construction).
class HttpClient::Core {
 public:
  Core(asio::any_io_executor executor, Options options)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        pool_(options_.max_idle_per_host, options_.idle_keepalive,
              options_.clock != nullptr ? *options_.clock : real_clock_) {
    error_code ec;
    ssl::context tls(ssl::context::tls_client);
    // AWS endpoints require TLS 1.2 or later.
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                        ssl::context::no_tlsv1_1,
                    ec);
    if (!ec) tls.set_verify_mode(ssl::verify_peer, ec);
    if (!ec) {
      if (options_.ca_bundle_path) {
        tls.load_verify_file(*options_.ca_bundle_path, ec);
      } else {
        tls.set_default_verify_paths(ec);
      }
    }
    if (ec) {
      tls_error_ = Error(ErrorCode::kInternal, "tls_config",
                         "cannot set up TLS trust (" +
                             options_.ca_bundle_path.value_or("system default paths") +
                             "): " + ec.message());
      log::Error("upstream_tls_config_failed", {{"reason", ec.message()}});
    } else {
      tls_.emplace(std::move(tls));
    }
  }

  const Options& options() const { return options_; }
  size_t IdleCount() const { return pool_.IdleCount(); }

  // Pools the connection when the response ended cleanly and the server keeps it open.
  void Release(std::unique_ptr<Connection> connection, bool keep_alive) {
    if (keep_alive && connection->buffer().size() == 0 && connection->socket().is_open()) {
      std::string key = ToString(connection->endpoint());
      pool_.Put(key, std::move(connection));
    } else {
      connection->Close();
    }
  }

  asio::awaitable<Result<ClientResponse>> Send(ClientRequest request, Timeouts timeouts) {
    const Endpoint endpoint = request.endpoint;
    try {
      co_return co_await DoSend(std::move(request), timeouts);
    } catch (const boost::system::system_error& e) {
      co_return FromSystemError(endpoint, e);
    }
  }

  asio::awaitable<Result<StreamingResponse>> SendStreaming(std::shared_ptr<Core> self,
                                                           ClientRequest request,
                                                           Timeouts timeouts) {
    const Endpoint endpoint = request.endpoint;
    try {
      co_return co_await DoSendStreaming(std::move(self), std::move(request), timeouts);
    } catch (const boost::system::system_error& e) {
      co_return FromSystemError(endpoint, e);
    }
  }

 private:
  asio::awaitable<Result<ClientResponse>> DoSend(ClientRequest request, Timeouts timeouts) {
    const Endpoint endpoint = request.endpoint;
    MG_CO_TRY(auto req, BuildRequest(request, options_.user_agent));
    const PhaseDeadline total{DeadlineAfter(timeouts.total), "total", timeouts.total};
    MG_CO_TRY(auto started, co_await Start<http::string_body>(req, endpoint, timeouts, total,
                                                               options_.max_response_bytes));
    Connection& conn = *started.connection;
    auto& parser = *started.parser;
    if (!parser.is_done()) {
      auto step = co_await Race(conn.Visit([&](auto& stream) {
        return http::async_read(stream, conn.buffer(), parser, kUseTuple);
      }),
                                total.at);
      if (step.end != StepEnd::kCompleted) {
        conn.Close();
        co_return StepError(step.end, endpoint, total);
      }
      const error_code ec = std::get<0>(step.value);
      if (ec) {
        conn.Close();
        if (ec == http::error::body_limit) {
          co_return TooLargeError(endpoint, options_.max_response_bytes);
        }
        co_return NetworkError(endpoint, "reading the response body from", Describe(ec));
      }
    }
    const bool keep_alive = parser.keep_alive();
    http::response<http::string_body> message = parser.release();
    ClientResponse response;
    response.status = static_cast<int>(message.result_int());
    response.headers = CopyHeaders(message);
    response.body = std::move(message.body());
    Release(std::move(started.connection), keep_alive);
    co_return response;
  }

  asio::awaitable<Result<StreamingResponse>> DoSendStreaming(std::shared_ptr<Core> self,
                                                             ClientRequest request,
                                                             Timeouts timeouts);

  // Gets a connection (pooled or new), sends the request and reads the response header block.
  // Applies the retry rule in http_client.h: one more try on a new connection when a reused
  // one fails before any response byte arrived.
  template <class Body>
  asio::awaitable<Result<Started<Body>>> Start(const http::request<http::string_body>& req,
                                               const Endpoint& endpoint, Timeouts timeouts,
                                               std::optional<PhaseDeadline> total,
                                               std::optional<uint64_t> body_limit) {
    const std::string key = ToString(endpoint);
    const bool is_head = req.method() == http::verb::head;
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<Connection> conn;
      if (attempt == 0) conn = pool_.Take(key);
      if (!conn) {
        MG_CO_TRY(conn, co_await Connect(endpoint, Capped("connect", timeouts.connect, total)));
      }
      const bool may_retry = attempt == 0 && conn->is_reused();

      auto parser = std::make_unique<http::response_parser<Body>>();
      parser->header_limit(kHeaderLimitBytes);
      parser->body_limit(body_limit ? boost::optional<uint64_t>(*body_limit) : boost::none);
      if (is_head) parser->skip(true);  // a HEAD response has headers only

      const PhaseDeadline first_byte = Capped("first byte", timeouts.first_byte, total);
      auto written = co_await Race(conn->Visit([&](auto& stream) {
        return http::async_write(stream, req, kUseTuple);
      }),
                                   first_byte.at);
      if (written.end != StepEnd::kCompleted) {
        conn->Close();
        co_return StepError(written.end, endpoint, first_byte);
      }
      if (error_code ec = std::get<0>(written.value)) {
        conn->Close();
        if (may_retry && IsPeerClosed(ec)) {
          log::Debug("upstream_retry_on_new_connection", {{"endpoint", key}, {"stage", "write"}});
          continue;
        }
        co_return NetworkError(endpoint, "sending the request to", Describe(ec));
      }

      auto header = co_await Race(conn->Visit([&](auto& stream) {
        return http::async_read_header(stream, conn->buffer(), *parser, kUseTuple);
      }),
                                  first_byte.at);
      if (header.end != StepEnd::kCompleted) {
        conn->Close();
        co_return StepError(header.end, endpoint, first_byte);
      }
      if (error_code ec = std::get<0>(header.value)) {
        conn->Close();
        const bool nothing_received = !parser->got_some() && conn->buffer().size() == 0;
        if (may_retry && nothing_received && IsPeerClosed(ec)) {
          log::Debug("upstream_retry_on_new_connection", {{"endpoint", key}, {"stage", "read"}});
          continue;
        }
        if (ec == http::error::body_limit) {
          co_return TooLargeError(endpoint, body_limit.value_or(0));
        }
        co_return NetworkError(endpoint, "reading the response header from", Describe(ec));
      }
      co_return Started<Body>{std::move(conn), std::move(parser)};
    }
  }

  // Opens a new connection: resolve (skipped for IP literals), connect, TLS handshake.
  asio::awaitable<Result<std::unique_ptr<Connection>>> Connect(Endpoint endpoint,
                                                               PhaseDeadline deadline) {
    const bool is_tls = endpoint.scheme == "https";
    if (is_tls && !tls_) co_return *tls_error_;

    std::vector<tcp::endpoint> addresses;
    error_code ec;
    const asio::ip::address literal = asio::ip::make_address(endpoint.host, ec);
    const bool is_ip_literal = !ec;
    if (is_ip_literal) {
      addresses.emplace_back(literal, endpoint.port);
    } else {
      tcp::resolver resolver(executor_);
      auto resolved = co_await Race(
          resolver.async_resolve(endpoint.host, std::to_string(endpoint.port), kUseTuple),
          deadline.at);
      if (resolved.end != StepEnd::kCompleted) co_return StepError(resolved.end, endpoint, deadline);
      auto& [resolve_ec, results] = resolved.value;
      if (resolve_ec) co_return NetworkError(endpoint, "DNS lookup of", resolve_ec.message());
      for (const auto& entry : results) addresses.push_back(entry.endpoint());
    }

    auto conn = is_tls ? std::make_unique<Connection>(endpoint, executor_, *tls_)
                       : std::make_unique<Connection>(endpoint, executor_);
    auto connected = co_await Race(asio::async_connect(conn->socket(), addresses, kUseTuple),
                                   deadline.at);
    if (connected.end != StepEnd::kCompleted) {
      conn->Close();
      co_return StepError(connected.end, endpoint, deadline);
    }
    if (error_code connect_ec = std::get<0>(connected.value)) {
      co_return NetworkError(endpoint, "connecting to", connect_ec.message());
    }
    conn->socket().set_option(tcp::no_delay(true), ec);  // best effort: latency, not correctness

    if (Connection::TlsStream* tls = conn->tls()) {
      // SNI carries names only (RFC 6066 §3); IP literals are verified against the IP SAN.
      if (!is_ip_literal && SSL_set_tlsext_host_name(tls->native_handle(),
                                                     endpoint.host.c_str()) != 1) {
        co_return NetworkError(endpoint, "TLS setup for", "cannot set SNI host name");
      }
      tls->set_verify_callback(ssl::host_name_verification(endpoint.host));
      auto handshake =
          co_await Race(tls->async_handshake(ssl::stream_base::client, kUseTuple), deadline.at);
      if (handshake.end != StepEnd::kCompleted) {
        conn->Close();
        co_return StepError(handshake.end, endpoint, deadline);
      }
      if (error_code tls_ec = std::get<0>(handshake.value)) {
        std::string detail = tls_ec.message();
        const long verify = SSL_get_verify_result(tls->native_handle());
        if (verify != X509_V_OK) {
          detail += " (certificate: " + std::string(X509_verify_cert_error_string(verify)) + ")";
        }
        conn->Close();
        co_return NetworkError(endpoint, "TLS handshake with", detail);
      }
    }
    log::Debug("upstream_connected", {{"endpoint", ToString(endpoint)}});
    co_return conn;
  }

  asio::any_io_executor executor_;
  const Options options_;
  RealClock real_clock_;
  std::optional<ssl::context> tls_;  // empty when tls_error_ is set
  std::optional<Error> tls_error_;
  ConnectionPool pool_;
};

// The reading side of a streaming response. Thread-safety: one reader at a time.
struct StreamingResponse::State {
  std::weak_ptr<HttpClient::Core> core;  // where the connection goes back when the body is done
  Endpoint endpoint;
  std::chrono::milliseconds idle{0};
  int status = 0;
  HeaderList headers;
  std::unique_ptr<Connection> connection;  // null once done or failed
  std::unique_ptr<http::response_parser<http::buffer_body>> parser;
  bool done = false;
  std::optional<Error> failure;  // sticky: every Read after an error returns it

  Error Fail(Error error) {
    if (connection) connection->Close();
    connection.reset();
    failure = error;
    return error;
  }

  // After a read returned body bytes: parses what is already buffered (more HTTP chunks) into
  // piece[filled..] without waiting for the network, and returns the new fill. The parser stops
  // after each chunk, and Bedrock sends one event per chunk: without this, a burst of events
  // costs one suspension (and downstream, one write) per event. A malformed body sets failure.
  size_t ParseBuffered(std::string& piece, size_t filled) {
    beast::flat_buffer& in = connection->buffer();
    while (!parser->is_done() && in.size() > 0 && filled < piece.size()) {
      auto& body = parser->get().body();
      body.data = piece.data() + filled;
      body.size = piece.size() - filled;
      body.more = true;
      error_code ec;
      const size_t used = parser->put(in.data(), ec);
      in.consume(used);
      filled = piece.size() - parser->get().body().size;
      if (ec == http::error::need_more || ec == http::error::need_buffer) break;
      if (ec) {
        Fail(NetworkError(endpoint, "reading the response body from", Describe(ec)));
        break;
      }
      if (used == 0) break;
    }
    return filled;
  }

  void Finish() {
    done = true;
    if (!connection) return;
    if (auto owner = core.lock()) {
      owner->Release(std::move(connection), parser->keep_alive());
    } else {
      connection->Close();
      connection.reset();
    }
  }
};

asio::awaitable<Result<StreamingResponse>> HttpClient::Core::DoSendStreaming(
  std::shared_ptr<Core> self,
                                                           ClientRequest request,
                                                           Timeouts timeouts) {
  const Endpoint endpoint = request.endpoint;
  MG_CO_TRY(auto req, BuildRequest(request, options_.user_agent));
  MG_CO_TRY(auto started, co_await Start<http::buffer_body>(req, endpoint, timeouts,
                                                             std::nullopt, std::nullopt));
  auto state = std::make_unique<StreamingResponse::State>();
  state->core = self;
  state->endpoint = endpoint;
  state->idle = timeouts.idle;
  state->status = static_cast<int>(started.parser->get().result_int());
  state->headers = CopyHeaders(started.parser->get());
  state->connection = std::move(started.connection);
  state->parser = std::move(started.parser);
  if (state->parser->is_done()) {  // no body (204, 304, HEAD, Content-Length: 0)
    state->done = true;
    Release(std::move(state->connection), state->parser->keep_alive());
  }
  co_return StreamingResponse(std::move(state));
}

std::optional<std::string_view> ClientResponse::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

StreamingResponse::StreamingResponse(std::unique_ptr<State> state) : state_(std::move(state)) {}
StreamingResponse::StreamingResponse(StreamingResponse&&) noexcept = default;
StreamingResponse& StreamingResponse::operator=(StreamingResponse&&) noexcept = default;
StreamingResponse::~StreamingResponse() {
  // A body not read to the end leaves the connection mid-response: close, never pool.
  if (state_ && state_->connection) state_->connection->Close();
}

int StreamingResponse::status() const { return state_ ? state_->status : 0; }

const HeaderList& StreamingResponse::headers() const {
  MG_CHECK(state_ != nullptr, "headers() on a moved-from StreamingResponse");
  return state_->headers;
}

std::optional<std::string_view> StreamingResponse::Header(std::string_view name) const {
  if (!state_) return std::nullopt;
  return FindHeader(state_->headers, name);
}

asio::awaitable<Result<std::optional<std::string>>> StreamingResponse::Read() {
  if (!state_) co_return Internal("Read() on a moved-from StreamingResponse");
  State& s = *state_;
  if (s.failure) co_return *s.failure;
  if (s.done) co_return std::nullopt;
  try {
    std::string piece(kReadPieceBytes, '\0');
    for (;;) {
      auto& body = s.parser->get().body();
      body.data = piece.data();
      body.size = piece.size();
      body.more = true;
      const PhaseDeadline idle{DeadlineAfter(s.idle), "idle", s.idle};
      Connection& conn = *s.connection;
      auto step = co_await Race(conn.Visit([&](auto& stream) {
        return http::async_read_some(stream, conn.buffer(), *s.parser, kUseTuple);
      }),
                                idle.at);
      if (step.end != StepEnd::kCompleted) co_return s.Fail(StepError(step.end, s.endpoint, idle));
      error_code ec = std::get<0>(step.value);
      if (ec == http::error::need_buffer) ec = {};  // our piece is full: not an error
      if (ec) {
        co_return s.Fail(NetworkError(s.endpoint, "reading the response body from", Describe(ec)));
      }
      size_t got = piece.size() - s.parser->get().body().size;
      got = s.ParseBuffered(piece, got);  // a failure there is reported by the next Read
      if (!s.failure && s.parser->is_done()) s.Finish();
      if (got > 0) {
        piece.resize(got);
        co_return std::optional<std::string>(std::move(piece));
      }
      if (s.failure) co_return *s.failure;
      if (s.done) co_return std::nullopt;
      // Only framing (a chunk header) was parsed: read on.
    }
  } catch (const boost::system::system_error& e) {
    co_return s.Fail(FromSystemError(s.endpoint, e));
  }
}

asio::awaitable<Result<std::string>> StreamingResponse::ReadAll(size_t max_bytes) {
  std::string all;
  for (;;) {
    MG_CO_TRY(auto piece, co_await Read());
    if (!piece) co_return all;
    if (piece->size() > max_bytes - all.size()) {
      co_return state_->Fail(TooLargeError(state_->endpoint, max_bytes));
    }
    all += *piece;
  }
}

HttpClient::HttpClient(asio::any_io_executor executor, Options options)
    : core_(std::make_shared<Core>(std::move(executor), std::move(options))) {}

HttpClient::~HttpClient() = default;

asio::awaitable<Result<ClientResponse>> HttpClient::Send(ClientRequest request,
                                                         Timeouts timeouts) {
  std::shared_ptr<Core> core = core_;  // keeps the pool alive across suspensions
  co_return co_await core->Send(std::move(request), timeouts);
}

asio::awaitable<Result<StreamingResponse>> HttpClient::SendStreaming(ClientRequest request,
                                                                     Timeouts timeouts) {
  std::shared_ptr<Core> core = core_;
  co_return co_await core->SendStreaming(core, std::move(request), timeouts);
}

size_t HttpClient::idle_connections() const { return core_->IdleCount(); }

}  // namespace mg::net
