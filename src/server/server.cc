// The one Beast translation unit of the server: listener, per-connection session, streaming,
// access log, metrics and graceful shutdown. Modelled on Beast's
// example/advanced/server-flex-awaitable (one coroutine per connection on its own strand,
// as_tuple for expected errors, a timeout on every read and write, a size limit on every body,
// shutdown through a task group).
#include "server/server.h"

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "server/task_group.h"

namespace mg::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::experimental::awaitable_operators::operator||;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// First read of a keep-alive connection's next request (the parser's own reads grow from there)
// and the reads that watch a streaming client: small, because every connection keeps its
// buffer's capacity, and 1,000 concurrent streams would hold 8 MB for 8 KiB reads.
constexpr size_t kReadChunk = 1024;
constexpr size_t kWatchChunk = 512;
// How long a connection we refuse (413, malformed request) keeps draining the client's unread
// input after our response, so that closing does not turn into a RST that destroys the response
// before the client reads it.
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr size_t kLingerMaxBytes = 64 * 1024 * 1024;
// After terminal cancellation, how long Run waits for the remaining tasks before giving up.
constexpr std::chrono::milliseconds kCancelWait{5000};
constexpr std::string_view kUnmatchedRoute = "unmatched";

// Method label values: a fixed set, so hostile methods cannot blow up metric cardinality.
constexpr std::array<std::string_view, 8> kMethodLabels = {"GET",    "HEAD",    "POST",
                                                           "PUT",    "PATCH",   "DELETE",
                                                           "OPTIONS", "OTHER"};
size_t MethodIndex(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethodLabels.size(); ++i) {
    if (kMethodLabels[i] == method) return i;
  }
  return kMethodLabels.size() - 1;
}

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsSafeHeaderText(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Headers the server computes itself; a handler's value for them is ignored.
bool IsHopHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection") || EqualsIgnoreCase(name, "x-request-id");
}

// Errors that mean "the peer went away or was too slow": close quietly, nothing to answer.
bool IsDisconnect(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout ||
         ec == asio::error::broken_pipe || ec == asio::error::not_connected ||
         ec == asio::error::bad_descriptor;
}


std::string FormatHostPort(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// Keeps the number of live connections; decremented when the session frame ends.
struct ConnectionSlot {
  explicit ConnectionSlot(std::atomic<size_t>& c) : count(c) {}
  ~ConnectionSlot() { count.fetch_sub(1); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  std::atomic<size_t>& count;
};

struct InFlight {
  explicit InFlight(Gauge& g) : gauge(g) { gauge.Add(1); }
  ~InFlight() { gauge.Add(-1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  Gauge& gauge;
};

// One accepted connection. shared_ptr: owned by the session coroutine and weakly referenced by
// the task group's drain hook. All members are guarded by the connection's strand.
struct Connection : std::enable_shared_from_this<Connection> {
  explicit Connection(tcp::socket socket, std::string remote_addr)
      : stream(std::move(socket)), remote(std::move(remote_addr)) {}

  // Shutdown has begun: finish the current request, then close; close now if idle.
  void Drain() {
    draining = true;
    if (idle) stream.cancel();
  }

  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::string remote;
  bool idle = true;       // waiting for (the headers of) the next request
  bool draining = false;  // shutdown asked us to close after the current request
};

// The write-behind queue of a ChunkWriter. shared_ptr: shared by the writer and the completion
// handler of its write in flight (which may outlive the writer when the response is torn down).
// Guarded by the connection's strand, like everything of the connection.
struct WriteBehind {
  explicit WriteBehind(const asio::any_io_executor& executor) : idle(executor) {}
  std::string queued;    // framed chunks not yet handed to the socket
  std::string inflight;  // the bytes of the write in progress
  bool writing = false;
  bool gone = false;        // a write failed: the client is gone
  asio::steady_timer idle;  // cancelled whenever `writing` drops to false
};

// Writes w->queued, then whatever was queued meanwhile, until the queue is empty or a write
// fails. `conn` keeps the stream alive until the last handler ran.
void StartWrite(std::shared_ptr<Connection> conn, std::shared_ptr<WriteBehind> w,
                std::chrono::milliseconds timeout) {
  w->writing = true;
  w->inflight.clear();
  w->inflight.swap(w->queued);
  conn->stream.expires_after(timeout);
  beast::tcp_stream& stream = conn->stream;
  // The handler runs on the stream's executor: the connection's strand.
  asio::async_write(stream, asio::buffer(w->inflight),
                    [conn = std::move(conn), w, timeout](const beast::error_code& ec, size_t) {
                      if (ec) {
                        w->gone = true;
                        w->queued.clear();
                      } else if (!w->queued.empty()) {
                        StartWrite(conn, w, timeout);
                        return;
                      }
                      w->writing = false;
                      w->idle.cancel();
                    });
}

// BodyWriter over the connection: HTTP/1.1 chunked framing with write-behind. A chunk written
// while an earlier write is in flight is queued and leaves with the others in one system call
// when that write completes, so a producer with many events ready at once (a whole upstream
// stream in one read) costs a few writes instead of one per event (bench/README.md has the
// figures); a chunk written to an idle connection goes out at once, so a paced stream keeps its
// latency. Write waits only while more than kMaxQueuedBytes are queued,
// and reports a client that is gone on the next call. Used from the producer coroutine and the
// heartbeat, both on the connection's strand. The connection must be a make_shared one.
class ChunkWriter final : public BodyWriter {
 public:
  ChunkWriter(Connection& conn, std::chrono::milliseconds write_timeout, const Clock& clock)
      : conn_(conn),
        write_timeout_(write_timeout),
        clock_(clock),
        w_(std::make_shared<WriteBehind>(conn.stream.get_executor())) {}

  asio::awaitable<bool> Write(std::string data) override {
    if (w_->gone || aborted_) co_return false;
    if (data.empty()) co_return true;  // an empty chunk would end the body
    char size_line[24];
    int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    w_->queued.append(size_line, static_cast<size_t>(n)).append(data).append("\r\n", 2);
    bytes_ += data.size();
    last_write_ = clock_.SteadyNow();
    if (!w_->writing) StartWrite(conn_.shared_from_this(), w_, write_timeout_);
    if (w_->queued.size() > kMaxQueuedBytes) co_await WaitIdle();
    co_return !w_->gone;
  }

  // Sends the terminating chunk and waits until everything is written. False when the client
  // is gone.
  asio::awaitable<bool> Finish() {
    if (w_->gone || aborted_) co_return false;
    w_->queued.append("0\r\n\r\n");
    if (!w_->writing) StartWrite(conn_.shared_from_this(), w_, write_timeout_);
    co_await WaitIdle();
    co_return !w_->gone;
  }

  // Waits until no write is in flight (everything queued is written, or the client is gone).
  asio::awaitable<void> WaitIdle() {
    while (w_->writing) {
      w_->idle.expires_at(asio::steady_timer::time_point::max());
      co_await w_->idle.async_wait(kUseTuple);
    }
  }

  // When nothing was written for `interval`, writes `chunk` (not counted in bytes()); loops
  // until cancelled (the producer finished) or the client is gone.
  asio::awaitable<void> Heartbeat(std::chrono::milliseconds interval, std::string chunk) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    last_write_ = clock_.SteadyNow();
    for (;;) {
      timer.expires_at(last_write_ + interval);
      auto [ec] = co_await timer.async_wait(kUseTuple);
      if (ec) co_return;  // cancelled
      if (w_->gone || aborted_) co_return;
      if (w_->writing || clock_.SteadyNow() < last_write_ + interval) continue;
      const uint64_t counted = bytes_;
      if (!co_await Write(chunk)) co_return;
      bytes_ = counted;
    }
  }

  void Abort() override {
    aborted_ = true;
    beast::error_code ec;
    conn_.stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    conn_.stream.close();
  }

  bool gone() const { return w_->gone; }
  bool aborted() const { return aborted_; }
  uint64_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kMaxQueuedBytes = 256 * 1024;

  Connection& conn_;
  std::chrono::milliseconds write_timeout_;
  const Clock& clock_;
  std::shared_ptr<WriteBehind> w_;
  SteadyTime last_write_{};
  bool aborted_ = false;
  uint64_t bytes_ = 0;
};

// What the access line and the metrics need to know about one request.
struct RequestRecord {
  std::string request_id;
  std::string method;
  std::string route;  // empty until matched
  std::string remote;
  int status = 0;
  uint64_t bytes = 0;
  std::string outcome;  // empty when the response went out completely
  std::vector<std::pair<std::string, std::string>> log_fields;
  SteadyTime start;
};

// Per (route, method) request counters by status. Lookups of an already-seen status are
// lock-free; a new status takes mu_ once.
class RouteStats {
 public:
  RouteStats(Metrics& metrics, std::string route, std::string method)
      : metrics_(metrics), route_(std::move(route)), method_(std::move(method)) {}

  Counter& ForStatus(int status) {
    for (auto& slot : slots_) {
      const Slot* s = slot.load(std::memory_order_acquire);
      if (s == nullptr) break;
      if (s->status == status) return *s->counter;
    }
    std::lock_guard lock(mu_);
    for (auto& slot : slots_) {
      const Slot* s = slot.load(std::memory_order_acquire);
      if (s != nullptr && s->status == status) return *s->counter;
      if (s == nullptr) {
        auto owned = std::make_unique<Slot>(Slot{status, &Register(status)});
        slot.store(owned.get(), std::memory_order_release);
        owned_.push_back(std::move(owned));
        return *owned_.back()->counter;
      }
    }
    return Register(status);  // more distinct statuses than slots: registry lookup
  }

 private:
  struct Slot {
    int status;
    Counter* counter;
  };
  Counter& Register(int status) {
    return metrics_.Counter("modelgate_http_requests_total", "HTTP requests served.",
                            {{"route", route_}, {"method", method_},
                             {"status", std::to_string(status)}});
  }

  Metrics& metrics_;
  std::string route_;
  std::string method_;
  std::array<std::atomic<const Slot*>, 16> slots_{};
  std::mutex mu_;                            // guards owned_ and filling slots_
  std::vector<std::unique_ptr<Slot>> owned_;  // guarded by mu_
};

struct RouteMetrics {
  std::array<std::unique_ptr<RouteStats>, kMethodLabels.size()> by_method;
  Histogram* duration = nullptr;
};

asio::awaitable<void> RunOwned(std::function<asio::awaitable<void>()> fn) { co_await fn(); }

}  // namespace

struct Server::State {
  State(ServerOptions o, Router r, Metrics& m)
      : options(std::move(o)),
        router(std::move(r)),
        metrics(m),
        in_flight(&m.Gauge("modelgate_http_requests_in_flight",
                           "HTTP requests being handled right now.")),
        io(options.threads > 0 ? options.threads : 1),
        main_strand(asio::make_strand(io)),
        stop_timer(main_strand) {
    std::vector<std::string> routes;
    for (const auto& [method, pattern] : router.Routes()) routes.push_back(pattern);
    routes.emplace_back(kUnmatchedRoute);
    for (const std::string& route : routes) {
      if (route_metrics.count(route)) continue;
      RouteMetrics rm;
      for (size_t i = 0; i < kMethodLabels.size(); ++i) {
        rm.by_method[i] =
            std::make_unique<RouteStats>(metrics, route, std::string(kMethodLabels[i]));
      }
      rm.duration = &metrics.Histogram("modelgate_http_request_duration_seconds",
                                       "Time from request headers to the end of the response.",
                                       {{"route", route}});
      route_metrics.emplace(route, std::move(rm));
    }
  }

  // --- set-up -----------------------------------------------------------------------------
  Result<void> Start();
  void Run();

  // --- coroutines -------------------------------------------------------------------------
  asio::awaitable<void> Listen(tcp::acceptor acceptor);
  asio::awaitable<void> Session(std::shared_ptr<Connection> conn);
  asio::awaitable<void> Serve(Connection& conn);
  // Serves one request whose headers are in `parser`. Returns whether to keep the connection.
  asio::awaitable<bool> ServeRequest(Connection& conn,
                                     http::request_parser<http::string_body>& parser,
                                     RequestRecord& rec);
  asio::awaitable<Response> Dispatch(Request req, RequestRecord& rec);
  // Sends a complete (non-streaming) response. Returns false when the write failed.
  asio::awaitable<bool> SendResponse(Connection& conn, Response& resp, unsigned version,
                                     bool keep_alive, bool head, RequestRecord& rec);
  // Sends headers, then runs the producer while watching for the client going away. Returns
  // whether the connection may be reused.
  asio::awaitable<bool> SendStream(Connection& conn, Response& resp, unsigned version,
                                   bool keep_alive, bool head, RequestRecord& rec);
  asio::awaitable<void> WatchClient(Connection& conn);
  asio::awaitable<void> RunProducer(Response& resp, ChunkWriter& writer, RequestRecord& rec,
                                    bool& failed);
  // Answers a request we could not parse or accept, then closes gracefully.
  asio::awaitable<void> Refuse(Connection& conn, const Error& error, RequestRecord& rec);
  asio::awaitable<void> LingeringClose(Connection& conn);
  asio::awaitable<void> MainLoop();
  asio::awaitable<bool> WaitForTasks(std::chrono::milliseconds timeout);

  // --- helpers ----------------------------------------------------------------------------
  std::string NewRequestId() const { return NewId("req", clock.Now()); }
  void Record(const RequestRecord& rec);
  void FillHeaders(http::fields& fields, Response& resp, const std::string& request_id);

  ServerOptions options;
  Router router;
  Metrics& metrics;
  Gauge* in_flight;
  RealClock clock;
  std::unordered_map<std::string, RouteMetrics> route_metrics;  // immutable after construction
  TaskGroup tasks;  // before io: its handlers live in io
  std::atomic<size_t> connections{0};
  std::atomic<uint16_t> bound_port{0};
  bool started = false;      // owner thread only
  bool stop_requested = false;  // guarded by main_strand

  asio::io_context io;  // destroyed first: pending frames still see the members above
  asio::strand<asio::io_context::executor_type> main_strand;
  asio::steady_timer stop_timer;  // guarded by main_strand
};

// ---------------------------------------------------------------------------------------------
// Set-up and shutdown.

Result<void> Server::State::Start() {
  MG_TRY_VOID([&]() -> Result<void> {
    if (started) return Error(ErrorCode::kInternal, "already_started", "server already started");
    return {};
  }());
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return Error(ErrorCode::kInvalidArgument, "invalid_listen_address",
                 "listen host '" + options.host + "' is not an IPv4 or IPv6 address");
  }
  tcp::endpoint endpoint(address, options.port);
  std::string where = FormatHostPort(endpoint);
  auto listener_strand = asio::make_strand(io);
  tcp::acceptor acceptor(listener_strand);
  if (acceptor.open(endpoint.protocol(), ec); ec) {
    return Error(ErrorCode::kUnavailable, "listen_failed",
                 "cannot open a socket for " + where + ": " + ec.message());
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec); ec) {
    return Error(ErrorCode::kUnavailable, "listen_failed",
                 "cannot bind " + where + ": " + ec.message());
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Error(ErrorCode::kUnavailable, "listen_failed",
                 "cannot listen on " + where + ": " + ec.message());
  }
  tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) {
    return Error(ErrorCode::kUnavailable, "listen_failed",
                 "cannot read the bound address of " + where + ": " + ec.message());
  }
  bound_port.store(local.port());
  started = true;
  log::Line(LogLevel::kInfo, "listening on " + FormatHostPort(local));
  tasks.Spawn(listener_strand, Listen(std::move(acceptor)), "listener");
  return {};
}

void Server::State::Run() {
  if (!started) return;
  asio::co_spawn(main_strand, MainLoop(), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::Error("shutdown_failed", {{"what", ex.what()}});
      }
    }
    io.stop();
  });
  unsigned n = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                   : std::max(1u, std::thread::hardware_concurrency());
  auto run = [this] {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        // Our completion handlers do not throw; a throwing one is a bug, but it must not take
        // the process down.
        log::Error("io_handler_exception", {{"what", e.what()}});
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
}

asio::awaitable<void> Server::State::MainLoop() {
  asio::signal_set signals(main_strand, SIGINT, SIGTERM);
  if (!stop_requested) {
    stop_timer.expires_at(asio::steady_timer::time_point::max());
    auto which = co_await (signals.async_wait(kUseTuple) || stop_timer.async_wait(kUseTuple));
    if (which.index() == 0) {
      auto [ec, signal] = std::get<0>(which);
      if (!ec) log::Info("signal_received", {{"signal", signal}});
    }
  }
  log::Info("shutdown_started",
            {{"connections", static_cast<uint64_t>(connections.load())},
             {"grace_ms", static_cast<int64_t>(options.shutdown_grace.count())}});
  tasks.BeginDrain();
  bool drained = co_await WaitForTasks(options.shutdown_grace);
  if (!drained) {
    log::Warn("shutdown_cancelling", {{"remaining", static_cast<uint64_t>(tasks.Size())}});
    tasks.CancelAll(asio::cancellation_type::terminal);
    drained = co_await WaitForTasks(kCancelWait);
    if (!drained) {
      log::Error("shutdown_incomplete", {{"remaining", static_cast<uint64_t>(tasks.Size())}});
    }
  }
  log::Info("shutdown_complete");
}

asio::awaitable<bool> Server::State::WaitForTasks(std::chrono::milliseconds timeout) {
  // shared_ptr: the empty-callback may fire after we stopped waiting (timeout path).
  auto timer = std::make_shared<asio::steady_timer>(main_strand);
  timer->expires_after(timeout);
  // The callback posts onto main_strand, so the cancel runs after async_wait below started.
  tasks.OnEmpty([this, timer] { asio::post(main_strand, [timer] { timer->cancel(); }); });
  co_await timer->async_wait(kUseTuple);
  co_return tasks.Size() == 0;
}

// ---------------------------------------------------------------------------------------------
// Accepting.

asio::awaitable<void> Server::State::Listen(tcp::acceptor acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), kUseTuple);
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return;  // shutting down
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      log::Warn("accept_failed", {{"what", ec.message()}});
      asio::steady_timer backoff(co_await asio::this_coro::executor);
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(kUseTuple);
      continue;
    }
    if (connections.load() >= options.max_connections) {
      log::Warn("connection_refused", {{"reason", "max_connections"},
                                       {"limit", static_cast<uint64_t>(options.max_connections)}});
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    // Responses and stream chunks are written as soon as they are ready; Nagle's algorithm
    // would hold each small chunk until the client ACKs the previous one (40 ms with delayed
    // ACKs). Best effort: a failure only costs latency.
    beast::error_code nd_ec;
    socket.set_option(tcp::no_delay(true), nd_ec);
    beast::error_code ep_ec;
    tcp::endpoint peer = socket.remote_endpoint(ep_ec);
    std::string remote = ep_ec ? std::string("unknown") : FormatHostPort(peer);
    connections.fetch_add(1);
    auto executor = socket.get_executor();
    auto conn = std::make_shared<Connection>(std::move(socket), std::move(remote));
    std::weak_ptr<Connection> weak = conn;
    tasks.Spawn(executor, Session(std::move(conn)), "session", [weak] {
      if (auto c = weak.lock()) c->Drain();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// One connection.

asio::awaitable<void> Server::State::Session(std::shared_ptr<Connection> conn) {
  ConnectionSlot slot(connections);
  try {
    co_await Serve(*conn);
  } catch (const std::exception& e) {
    // Cancellation at shutdown lands here; so does anything thrown by Asio after it.
    log::Debug("connection_closed", {{"remote", conn->remote}, {"what", e.what()}});
  }
  beast::error_code ec;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn->stream.close();
}

asio::awaitable<void> Server::State::Serve(Connection& conn) {
  bool first = true;
  for (;;) {
    if (conn.draining) co_return;
    conn.idle = true;
    if (!first && conn.buffer.size() == 0) {
      // An idle keep-alive connection does not keep the last request's buffer.
      conn.buffer.shrink_to_fit();
      // Keep-alive: wait up to idle_timeout for the next request to start.
      conn.stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await conn.stream.async_read_some(conn.buffer.prepare(kReadChunk),
                                                          kUseTuple);
      if (ec) co_return;
      conn.buffer.commit(n);
    }
    first = false;

    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(options.max_body_bytes);
    conn.stream.expires_after(options.header_timeout);
    auto [ec, n] = co_await http::async_read_header(conn.stream, conn.buffer, parser, kUseTuple);
    conn.idle = false;

    RequestRecord rec;
    rec.start = clock.SteadyNow();
    rec.remote = conn.remote;
    if (ec) {
      if (ec == http::error::header_limit) {
        rec.request_id = NewRequestId();
        co_await Refuse(conn,
                        Error(ErrorCode::kPayloadTooLarge, "request_header_too_large",
                              "request headers exceed " +
                                  std::to_string(options.max_header_bytes) + " bytes"),
                        rec);
        co_return;
      }
      if (ec == http::error::body_limit) {
        rec.request_id = NewRequestId();
        co_await Refuse(conn,
                        Error(ErrorCode::kPayloadTooLarge, "request_too_large",
                              "request body exceeds " + std::to_string(options.max_body_bytes) +
                                  " bytes"),
                        rec);
        co_return;
      }
      if (IsDisconnect(ec) || (co_await asio::this_coro::cancellation_state).cancelled() !=
                                  asio::cancellation_type::none) {
        co_return;
      }
      rec.request_id = NewRequestId();
      co_await Refuse(conn, InvalidArgument("malformed HTTP request: " + ec.message(), "",
                                            "invalid_request"),
                      rec);
      co_return;
    }
    bool keep = co_await ServeRequest(conn, parser, rec);
    if (!keep) co_return;
  }
}

asio::awaitable<bool> Server::State::ServeRequest(
    Connection& conn, http::request_parser<http::string_body>& parser, RequestRecord& rec) {
  auto& header = parser.get();
  Request req;
  req.method = std::string(header.method_string());
  req.target = std::string(header.target());
  for (const auto& field : header) {
    req.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  auto incoming_id = req.headers.Get("x-request-id");
  req.request_id = incoming_id && IsSaneRequestId(*incoming_id) ? std::string(*incoming_id)
                                                                 : NewRequestId();
  req.remote_addr = conn.remote;
  rec.request_id = req.request_id;
  rec.method = req.method;
  const unsigned version = header.version();
  bool keep_alive = header.keep_alive();
  const bool head = req.method == "HEAD";

  if (req.target.empty() || req.target.front() != '/') {
    co_await Refuse(conn,
                    InvalidArgument("request-target must be an absolute path", "",
                                    "invalid_request"),
                    rec);
    co_return false;
  }
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);

  if (!parser.is_done()) {
    auto expect = req.headers.Get("Expect");
    if (expect && EqualsIgnoreCase(*expect, "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      conn.stream.expires_after(options.write_timeout);
      auto [wec, wn] =
          co_await asio::async_write(conn.stream, asio::buffer(kContinue), kUseTuple);
      if (wec) co_return false;
    }
    conn.stream.expires_after(options.body_timeout);
    auto [ec, n] = co_await http::async_read(conn.stream, conn.buffer, parser, kUseTuple);
    if (ec) {
      if (ec == http::error::body_limit) {
        co_await Refuse(conn,
                        Error(ErrorCode::kPayloadTooLarge, "request_too_large",
                              "request body exceeds " + std::to_string(options.max_body_bytes) +
                                  " bytes"),
                        rec);
        co_return false;
      }
      if (IsDisconnect(ec)) {
        rec.status = 0;
        rec.outcome = ec == beast::error::timeout ? "body_timeout" : "client_gone";
        Record(rec);
        co_return false;
      }
      co_await Refuse(conn, InvalidArgument("malformed HTTP request body: " + ec.message(), "",
                                            "invalid_request"),
                      rec);
      co_return false;
    }
  }
  req.body = std::move(parser.get().body());

  Response resp;
  {
    InFlight in_flight_guard(*in_flight);
    resp = co_await Dispatch(std::move(req), rec);
    if (resp.abort_connection) {
      rec.status = 0;
      rec.outcome = "aborted";
      rec.log_fields = std::move(resp.log_fields);
      Record(rec);
      beast::error_code ignored;
      conn.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      conn.stream.close();
      co_return false;
    }
    keep_alive = keep_alive && !resp.close_connection && !conn.draining;
    rec.log_fields = std::move(resp.log_fields);
    bool reusable;
    try {
      if (resp.stream) {
        reusable = co_await SendStream(conn, resp, version, keep_alive, head, rec);
      } else {
        reusable = co_await SendResponse(conn, resp, version, keep_alive, head, rec);
      }
    } catch (const std::exception&) {
      rec.outcome = "cancelled";
      Record(rec);
      throw;
    }
    Record(rec);
    co_return reusable && keep_alive;
  }
}

asio::awaitable<Response> Server::State::Dispatch(Request req, RequestRecord& rec) {
  auto resolved = router.Resolve(req);
  rec.route = req.route;
  if (auto* early = std::get_if<Response>(&resolved)) co_return std::move(*early);
  const Handler* handler = std::get<const Handler*>(resolved);

  Request meta;  // what an error response needs once `req` has been moved into the handler
  meta.request_id = req.request_id;
  std::string what;
  try {
    co_return co_await (*handler)(std::move(req));
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  if ((co_await asio::this_coro::cancellation_state).cancelled() !=
      asio::cancellation_type::none) {
    // Shutdown cancelled the handler: nothing to answer, the connection is going away.
    throw boost::system::system_error(asio::error::operation_aborted);
  }
  log::Error("handler_exception",
             {{"request_id", rec.request_id}, {"route", rec.route}, {"what", what}});
  co_return ErrorResponse(Internal("internal error"), meta);
}

void Server::State::FillHeaders(http::fields& fields, Response& resp,
                                const std::string& request_id) {
  for (const auto& [name, value] : resp.headers.All()) {
    if (IsHopHeader(name)) continue;
    if (name.empty() || !IsSafeHeaderText(name) || !IsSafeHeaderText(value)) {
      log::Warn("response_header_dropped", {{"request_id", request_id}, {"header", name}});
      continue;
    }
    fields.insert(name, value);
  }
  fields.set("x-request-id", request_id);
}

asio::awaitable<bool> Server::State::SendResponse(Connection& conn, Response& resp,
                                                  unsigned version, bool keep_alive, bool head,
                                                  RequestRecord& rec) {
  if (resp.status < 200 || resp.status > 599) {
    log::Error("handler_bad_status", {{"request_id", rec.request_id}, {"status", resp.status}});
    Request meta;
    meta.request_id = rec.request_id;
    resp = ErrorResponse(Internal("internal error"), meta);
  }
  http::response<http::string_body> res{static_cast<http::status>(resp.status), version};
  FillHeaders(res, resp, rec.request_id);
  res.keep_alive(keep_alive);
  if (resp.status == 204 || resp.status == 304) {
    res.body().clear();  // these statuses never have a body (RFC 9110 §15.3.5, §15.4.5)
  } else {
    res.body() = std::move(resp.body);
    res.prepare_payload();
  }
  rec.status = resp.status;
  conn.stream.expires_after(options.write_timeout);
  boost::system::error_code ec;
  if (head) {
    http::response_serializer<http::string_body> sr(res);
    std::tie(ec, std::ignore) = co_await http::async_write_header(conn.stream, sr, kUseTuple);
  } else {
    std::tie(ec, std::ignore) = co_await http::async_write(conn.stream, res, kUseTuple);
    if (!ec) rec.bytes = res.body().size();
  }
  if (ec) {
    rec.outcome = "client_gone";
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Server::State::SendStream(Connection& conn, Response& resp,
                                                unsigned version, bool keep_alive, bool head,
                                                RequestRecord& rec) {
  http::response<http::empty_body> res{static_cast<http::status>(resp.status), version};
  FillHeaders(res, resp, rec.request_id);
  res.keep_alive(keep_alive);
  res.chunked(true);
  rec.status = resp.status;
  http::response_serializer<http::empty_body> sr(res);
  conn.stream.expires_after(options.write_timeout);
  auto [ec, n] = co_await http::async_write_header(conn.stream, sr, kUseTuple);
  if (ec) {
    rec.outcome = "client_gone";
    co_return false;
  }
  if (head) {
    // A HEAD response has no body; a chunked one still needs its terminating chunk.
    static constexpr std::string_view kLastChunk = "0\r\n\r\n";
    auto [wec, wn] = co_await asio::async_write(conn.stream, asio::buffer(kLastChunk), kUseTuple);
    co_return !wec;
  }

  ChunkWriter writer(conn, options.write_timeout, clock);
  bool failed = false;
  bool client_left = false;
  if (resp.heartbeat_interval.count() > 0 && !resp.heartbeat.empty()) {
    auto winner = co_await (WatchClient(conn) || RunProducer(resp, writer, rec, failed) ||
                            writer.Heartbeat(resp.heartbeat_interval, resp.heartbeat));
    client_left = winner.index() == 0;
  } else {
    auto winner = co_await (WatchClient(conn) || RunProducer(resp, writer, rec, failed));
    client_left = winner.index() == 0;
  }
  rec.bytes = writer.bytes();
  if (client_left || writer.gone()) {
    rec.outcome = "client_gone";
    co_return false;
  }
  if (writer.aborted()) {
    rec.outcome = "aborted";
    co_return false;
  }
  if (failed) {
    // Headers are out; the only honest signal left is to end without the last chunk (after
    // what was already produced).
    co_await writer.WaitIdle();
    rec.outcome = "producer_failed";
    co_return false;
  }
  if (!co_await writer.Finish()) {
    rec.outcome = "client_gone";
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Server::State::WatchClient(Connection& conn) {
  // Reads on the raw socket (not the tcp_stream) so its timers, used for the chunk writes, are
  // not involved. Bytes that arrive (a pipelined request) are kept for the next request.
  for (;;) {
    if (conn.buffer.size() >= options.max_header_bytes) {
      // Enough pipelined input buffered; stop reading and let the producer finish.
      asio::steady_timer forever(co_await asio::this_coro::executor);
      forever.expires_at(asio::steady_timer::time_point::max());
      co_await forever.async_wait(kUseTuple);
      co_return;
    }
    auto [ec, n] =
        co_await conn.stream.socket().async_read_some(conn.buffer.prepare(kWatchChunk), kUseTuple);
    if (ec) co_return;  // EOF, reset, or cancelled because the producer finished
    conn.buffer.commit(n);
  }
}

asio::awaitable<void> Server::State::RunProducer(Response& resp, ChunkWriter& writer,
                                                 RequestRecord& rec, bool& failed) {
  try {
    co_await resp.stream(writer);
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted) {
      log::Debug("stream_cancelled", {{"request_id", rec.request_id}});
    } else {
      failed = true;
      log::Error("stream_exception", {{"request_id", rec.request_id}, {"what", e.what()}});
    }
  } catch (const std::exception& e) {
    failed = true;
    log::Error("stream_exception", {{"request_id", rec.request_id}, {"what", e.what()}});
  }
}

asio::awaitable<void> Server::State::Refuse(Connection& conn, const Error& error,
                                            RequestRecord& rec) {
  Request meta;
  meta.request_id = rec.request_id;
  Response resp = ErrorResponse(error, meta);
  rec.log_fields = resp.log_fields;
  co_await SendResponse(conn, resp, 11, /*keep_alive=*/false, /*head=*/false, rec);
  Record(rec);
  co_await LingeringClose(conn);
}

asio::awaitable<void> Server::State::LingeringClose(Connection& conn) {
  beast::error_code ec;
  conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  conn.stream.expires_after(kLingerTime);
  std::array<char, 4096> scratch;
  size_t drained = 0;
  while (drained < kLingerMaxBytes) {
    auto [rec, n] = co_await conn.stream.async_read_some(asio::buffer(scratch), kUseTuple);
    if (rec) break;
    drained += n;
  }
}

void Server::State::Record(const RequestRecord& rec) {
  const std::string& route = rec.route.empty() ? std::string(kUnmatchedRoute) : rec.route;
  double seconds =
      std::chrono::duration<double>(clock.SteadyNow() - rec.start).count();
  auto it = route_metrics.find(route);
  if (it == route_metrics.end()) it = route_metrics.find(std::string(kUnmatchedRoute));
  RouteMetrics& rm = it->second;
  rm.by_method[MethodIndex(rec.method)]->ForStatus(rec.status).Inc();
  rm.duration->Observe(seconds);

  std::string line = "event=access";
  log::AppendField(line, "request_id", rec.request_id);
  log::AppendField(line, "method", rec.method.empty() ? "-" : rec.method);
  log::AppendField(line, "route", rec.route.empty() ? "-" : rec.route);
  log::AppendField(line, "status", std::to_string(rec.status));
  char latency[32];
  std::snprintf(latency, sizeof latency, "%.3f", seconds * 1000.0);
  log::AppendField(line, "latency_ms", latency);
  log::AppendField(line, "bytes", std::to_string(rec.bytes));
  log::AppendField(line, "remote", rec.remote);
  if (!rec.outcome.empty()) log::AppendField(line, "outcome", rec.outcome);
  for (const auto& [k, v] : rec.log_fields) log::AppendField(line, k, v);
  log::Line(LogLevel::kInfo, line);
}

// ---------------------------------------------------------------------------------------------
// Public surface.

Server::Server(ServerOptions options, Router router, Metrics& metrics)
    : state_(std::make_unique<State>(std::move(options), std::move(router), metrics)) {}

Server::~Server() = default;

Result<void> Server::Start() { return state_->Start(); }

uint16_t Server::port() const { return state_->bound_port.load(); }

asio::io_context& Server::io_context() { return state_->io; }

void Server::Run() { state_->Run(); }

void Server::Stop() {
  State* s = state_.get();
  asio::post(s->main_strand, [s] {
    s->stop_requested = true;
    s->stop_timer.cancel();
  });
}

void Server::Spawn(std::function<asio::awaitable<void>()> task, std::string name) {
  state_->tasks.Spawn(asio::make_strand(state_->io), RunOwned(std::move(task)), std::move(name));
}

}  // namespace mg::server
