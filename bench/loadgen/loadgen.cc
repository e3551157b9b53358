// modelgate-loadgen: the one HTTP/1.1 load generator every benchmark target is measured with
// (bench/README.md). Asio, keep-alive connections, closed loop (N connections, each sends its
// next request when the previous response has ended) or open loop (--rate: requests are due at
// a fixed schedule and latency counts from the due time, so a stall is not hidden by
// coordinated omission). Reads Content-Length and chunked bodies, records per request the
// latency (request write to last body byte), the time to first body byte and the number of SSE
// events ("\n\n"-terminated), and prints one JSON object with exact percentiles (every sample is
// kept and sorted; no bucketing).
//
//   modelgate-loadgen --url http://127.0.0.1:8080/v1/chat/completions --method POST
//       --body-file body.json --header "Authorization: Bearer mg_..." --connections 64
//       --duration 10 --warmup 2 [--requests N] [--rate R] [--threads T] [--out result.json]
//
// Thread-safety: each thread runs its own io_context with its own connections and statistics;
// they are merged after the threads joined.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mg::bench {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 80;
  std::string target = "/";
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  int connections = 1;
  uint64_t requests = 0;    // total recorded requests to stop after (0: use duration)
  double duration_s = 10;   // measured window when requests == 0
  double warmup_s = 0;      // not recorded
  double rate = 0;          // open loop: total requests/s over all connections; 0 = closed loop
  int threads = 1;
  double timeout_s = 30;    // a request taking longer is an error and its connection is dropped
  double connect_spread_s = 0;  // connections are opened evenly over this time
  std::string out;          // file for the JSON (stdout when empty)
  std::string label;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "modelgate-loadgen: %s\n"
               "usage: modelgate-loadgen --url http://HOST:PORT/PATH [--method M] [--body S | "
               "--body-file F]\n"
               "       [--header 'Name: value']... [--connections N] [--duration S] [--warmup S]\n"
               "       [--requests N] [--rate R] [--threads T] [--timeout S] "
               "[--connect-spread S] [--label L] [--out FILE]\n",
               why.c_str());
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url") {
      std::string url = next();
      constexpr std::string_view kScheme = "http://";
      if (url.rfind(kScheme, 0) != 0) Usage("only http:// URLs are supported");
      std::string rest = url.substr(kScheme.size());
      size_t slash = rest.find('/');
      std::string hostport = rest.substr(0, slash);
      o.target = slash == std::string::npos ? "/" : rest.substr(slash);
      size_t colon = hostport.rfind(':');
      if (colon == std::string::npos) Usage("the URL needs an explicit port");
      o.host = hostport.substr(0, colon);
      if (!o.host.empty() && o.host.front() == '[') o.host = o.host.substr(1, o.host.size() - 2);
      o.port = static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1)));
      have_url = true;
    } else if (a == "--method") {
      o.method = next();
    } else if (a == "--body") {
      o.body = next();
    } else if (a == "--body-file") {
      std::ifstream in(next(), std::ios::binary);
      if (!in) Usage("cannot read the body file");
      std::ostringstream ss;
      ss << in.rdbuf();
      o.body = ss.str();
    } else if (a == "--header") {
      o.headers.push_back(next());
    } else if (a == "--connections") {
      o.connections = std::stoi(next());
    } else if (a == "--requests") {
      o.requests = std::stoull(next());
    } else if (a == "--duration") {
      o.duration_s = std::stod(next());
    } else if (a == "--warmup") {
      o.warmup_s = std::stod(next());
    } else if (a == "--rate") {
      o.rate = std::stod(next());
    } else if (a == "--threads") {
      o.threads = std::stoi(next());
    } else if (a == "--timeout") {
      o.timeout_s = std::stod(next());
    } else if (a == "--connect-spread") {
      o.connect_spread_s = std::stod(next());
    } else if (a == "--out") {
      o.out = next();
    } else if (a == "--label") {
      o.label = next();
    } else {
      Usage("unknown argument " + a);
    }
  }
  if (!have_url) Usage("--url is required");
  if (o.connections < 1 || o.threads < 1) Usage("--connections and --threads must be >= 1");
  o.threads = std::min(o.threads, o.connections);
  return o;
}

std::string BuildRequest(const Options& o) {
  std::string r = o.method + " " + o.target + " HTTP/1.1\r\nHost: " + o.host + ":" +
                  std::to_string(o.port) + "\r\n";
  bool have_type = false;
  for (const std::string& h : o.headers) {
    r += h + "\r\n";
    if (strncasecmp(h.c_str(), "content-type:", 13) == 0) have_type = true;
  }
  if (!o.body.empty() || o.method == "POST" || o.method == "PUT" || o.method == "PATCH") {
    if (!have_type) r += "Content-Type: application/json\r\n";
    r += "Content-Length: " + std::to_string(o.body.size()) + "\r\n";
  }
  r += "\r\n";
  r += o.body;
  return r;
}

// What one thread measured.
struct Stats {
  std::vector<uint64_t> latency_ns;
  std::vector<uint64_t> ttfb_ns;
  std::map<int, uint64_t> status;  // recorded responses by status
  uint64_t errors = 0;             // connect failures, resets, timeouts, malformed responses
  uint64_t events = 0;             // SSE events over recorded responses
  uint64_t min_events = UINT64_MAX;
  uint64_t max_events = 0;
  uint64_t body_bytes = 0;
  uint64_t sent = 0;  // requests written, recorded or not
};

// Shared by every thread: the phases of the run.
struct Run {
  Options options;
  std::string request;
  Clock::time_point start;
  Clock::time_point record_from;  // start + warmup
  Clock::time_point end;          // duration mode: record_from + duration
  std::atomic<uint64_t> recorded{0};
  std::atomic<bool> stopping{false};

  bool InWindow(Clock::time_point t) const { return t >= record_from && t <= end; }
};

// Incremental HTTP/1.1 response parser over a byte buffer the caller appends to.
class ResponseParser {
 public:
  enum class State { kHeaders, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone };

  void Reset() {
    state_ = State::kHeaders;
    status_ = 0;
    remaining_ = 0;
    chunked_ = false;
    close_ = false;
    got_body_ = false;
    events_ = 0;
    prev_newline_ = false;
    body_bytes_ = 0;
  }

  // Consumes what it can of in[pos..]; returns false on a malformed response.
  bool Feed(const std::string& in, size_t& pos) {
    for (;;) {
      switch (state_) {
        case State::kHeaders: {
          size_t end = in.find("\r\n\r\n", pos);
          if (end == std::string::npos) return in.size() - pos < 64 * 1024;
          if (!ParseHeaders(std::string_view(in).substr(pos, end - pos))) return false;
          pos = end + 4;
          if (chunked_) {
            state_ = State::kChunkSize;
          } else if (remaining_ == 0) {
            state_ = State::kDone;
          } else {
            state_ = State::kBody;
          }
          break;
        }
        case State::kBody: {
          size_t n = std::min<uint64_t>(remaining_, in.size() - pos);
          if (n == 0) return true;
          Body(std::string_view(in).substr(pos, n));
          pos += n;
          remaining_ -= n;
          if (remaining_ == 0) state_ = State::kDone;
          break;
        }
        case State::kChunkSize: {
          size_t eol = in.find("\r\n", pos);
          if (eol == std::string::npos) return in.size() - pos < 1024;
          uint64_t size = 0;
          size_t i = pos;
          for (; i < eol; ++i) {
            char c = in[i];
            int v = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (v < 0) break;  // chunk extensions
            size = size * 16 + static_cast<uint64_t>(v);
          }
          if (i == pos) return false;
          pos = eol + 2;
          remaining_ = size;
          state_ = size == 0 ? State::kTrailers : State::kChunkData;
          break;
        }
        case State::kChunkData: {
          size_t n = std::min<uint64_t>(remaining_, in.size() - pos);
          if (n == 0) return true;
          Body(std::string_view(in).substr(pos, n));
          pos += n;
          remaining_ -= n;
          if (remaining_ == 0) state_ = State::kChunkDataEnd;
          break;
        }
        case State::kChunkDataEnd: {
          if (in.size() - pos < 2) return true;
          if (in.compare(pos, 2, "\r\n") != 0) return false;
          pos += 2;
          state_ = State::kChunkSize;
          break;
        }
        case State::kTrailers: {
          // Trailers end with an empty line; we send none, so expect "\r\n" at once.
          size_t eol = in.find("\r\n", pos);
          if (eol == std::string::npos) return true;
          bool empty = eol == pos;
          pos = eol + 2;
          if (empty) state_ = State::kDone;
          break;
        }
        case State::kDone:
          return true;
      }
    }
  }

  bool done() const { return state_ == State::kDone; }
  bool got_body() const { return got_body_; }
  int status() const { return status_; }
  bool close() const { return close_; }
  uint64_t events() const { return events_; }
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  static bool StartsWithNoCase(std::string_view line, std::string_view prefix) {
    return line.size() >= prefix.size() &&
           strncasecmp(line.data(), prefix.data(), prefix.size()) == 0;
  }

  bool ParseHeaders(std::string_view block) {
    // "HTTP/1.1 200 OK"
    if (block.size() < 12 || block.substr(0, 5) != "HTTP/") return false;
    status_ = std::atoi(std::string(block.substr(9, 3)).c_str());
    if (block.substr(5, 3) == "1.0") close_ = true;
    size_t p = block.find("\r\n");
    while (p != std::string_view::npos) {
      size_t start = p + 2;
      size_t next = block.find("\r\n", start);
      std::string_view line = block.substr(start, next == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : next - start);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (StartsWithNoCase(line, "content-length:")) {
          remaining_ = std::strtoull(std::string(value).c_str(), nullptr, 10);
        } else if (StartsWithNoCase(line, "transfer-encoding:")) {
          chunked_ = value.find("chunked") != std::string_view::npos;
        } else if (StartsWithNoCase(line, "connection:")) {
          if (StartsWithNoCase(value, "close")) close_ = true;
        }
      }
      p = next;
    }
    return status_ >= 100;
  }

  void Body(std::string_view data) {
    got_body_ = true;
    body_bytes_ += data.size();
    for (char c : data) {
      if (c == '\n') {
        if (prev_newline_) {
          ++events_;
          prev_newline_ = false;
          continue;
        }
        prev_newline_ = true;
      } else if (c != '\r') {
        prev_newline_ = false;
      }
    }
  }

  State state_ = State::kHeaders;
  int status_ = 0;
  uint64_t remaining_ = 0;
  bool chunked_ = false;
  bool close_ = false;
  bool got_body_ = false;
  uint64_t events_ = 0;
  bool prev_newline_ = false;
  uint64_t body_bytes_ = 0;
};

struct ConnectionSlot {
  tcp::socket* socket = nullptr;
  Clock::time_point deadline = Clock::time_point::max();
};

class Worker {
 public:
  Worker(Run& run, int first_index, int count, int total_connections)
      : run_(run),
        first_index_(first_index),
        slots_(static_cast<size_t>(count)),
        total_(total_connections) {}

  void Start() {
    live_ = static_cast<int>(slots_.size());
    // An exception escaping a connection is a bug in this program: let it end the run.
    auto rethrow = [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    };
    for (size_t i = 0; i < slots_.size(); ++i) asio::co_spawn(io_, Connection(i), rethrow);
    asio::co_spawn(io_, Watchdog(), rethrow);
  }
  void RunLoop() { io_.run(); }
  Stats& stats() { return stats_; }

 private:
  bool Finished() const {
    if (run_.stopping.load(std::memory_order_relaxed)) return true;
    const Options& o = run_.options;
    if (o.requests > 0) return run_.recorded.load(std::memory_order_relaxed) >= o.requests;
    return Clock::now() >= run_.end;
  }

  asio::awaitable<void> Connection(size_t slot_index) {
    const Options& o = run_.options;
    const int index = first_index_ + static_cast<int>(slot_index);
    asio::steady_timer timer(io_);
    if (o.connect_spread_s > 0) {
      timer.expires_at(run_.start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(
                                            o.connect_spread_s * index / total_)));
      co_await timer.async_wait(kUseTuple);
    }
    // Open loop: this connection's requests are due every `period`, staggered by its index.
    Clock::duration period{};
    Clock::time_point due{};
    if (o.rate > 0) {
      period = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(total_ / o.rate));
      due = run_.start + period * index / total_;
    }
    tcp::endpoint endpoint(asio::ip::make_address(o.host), o.port);
    std::string in;
    in.reserve(64 * 1024);
    ResponseParser parser;
    std::vector<char> scratch(64 * 1024);
    while (!Finished()) {
      tcp::socket socket(io_);
      auto [cec] = co_await socket.async_connect(endpoint, kUseTuple);
      if (cec) {
        ++stats_.errors;
        timer.expires_after(std::chrono::milliseconds(50));
        co_await timer.async_wait(kUseTuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true));
      slots_[slot_index].socket = &socket;
      in.clear();
      bool reusable = true;
      while (reusable && !Finished()) {
        Clock::time_point begin = Clock::now();
        if (o.rate > 0) {
          if (due > begin) {
            timer.expires_at(due);
            co_await timer.async_wait(kUseTuple);
            if (Finished()) break;
          }
          begin = due;  // latency counts from when the request was due
          due += period;
        }
        slots_[slot_index].deadline =
            Clock::now() + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(o.timeout_s));
        ++stats_.sent;
        auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(run_.request), kUseTuple);
        if (wec) {
          ++stats_.errors;
          break;
        }
        parser.Reset();
        size_t pos = 0;
        std::optional<Clock::time_point> first_byte;
        bool ok = true;
        while (!parser.done()) {
          if (pos > 0 && pos == in.size()) {
            in.clear();
            pos = 0;
          }
          auto [rec, n] = co_await socket.async_read_some(asio::buffer(scratch), kUseTuple);
          if (rec) {
            ok = false;
            break;
          }
          in.append(scratch.data(), n);
          if (!parser.Feed(in, pos)) {
            ok = false;
            break;
          }
          if (!first_byte && parser.got_body()) first_byte = Clock::now();
        }
        slots_[slot_index].deadline = Clock::time_point::max();
        if (!ok) {
          ++stats_.errors;
          break;
        }
        in.erase(0, pos);
        const Clock::time_point finished = Clock::now();
        if (!first_byte) first_byte = finished;
        const bool record = o.requests > 0 ? finished >= run_.record_from &&
                                                 run_.recorded.fetch_add(1) < o.requests
                                           : run_.InWindow(finished);
        if (record) {
          stats_.latency_ns.push_back(
              static_cast<uint64_t>(std::chrono::duration_cast<Nanos>(finished - begin).count()));
          stats_.ttfb_ns.push_back(static_cast<uint64_t>(
              std::chrono::duration_cast<Nanos>(*first_byte - begin).count()));
          ++stats_.status[parser.status()];
          stats_.events += parser.events();
          stats_.min_events = std::min(stats_.min_events, parser.events());
          stats_.max_events = std::max(stats_.max_events, parser.events());
          stats_.body_bytes += parser.body_bytes();
        }
        reusable = !parser.close();
      }
      slots_[slot_index].socket = nullptr;
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    }
    if (--live_ == 0) watchdog_stop_ = true;
  }

  // Drops connections whose request exceeded --timeout, and ends the run's stragglers.
  asio::awaitable<void> Watchdog() {
    asio::steady_timer timer(io_);
    while (!watchdog_stop_) {
      timer.expires_after(std::chrono::milliseconds(100));
      co_await timer.async_wait(kUseTuple);
      const Clock::time_point now = Clock::now();
      // After the end (plus the timeout as a grace), in-flight requests are cut.
      if (Finished() && finish_seen_ == Clock::time_point::max()) finish_seen_ = now;
      const bool over = finish_seen_ != Clock::time_point::max() &&
                        now > finish_seen_ + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(
                                                     run_.options.timeout_s));
      for (ConnectionSlot& s : slots_) {
        if (s.socket != nullptr && (now > s.deadline || over)) {
          boost::system::error_code ignored;
          s.socket->cancel(ignored);
          s.socket->close(ignored);
        }
      }
    }
  }

  Run& run_;
  int first_index_;
  std::vector<ConnectionSlot> slots_;
  int total_;
  int live_ = 0;
  bool watchdog_stop_ = false;
  Clock::time_point finish_seen_ = Clock::time_point::max();
  asio::io_context io_{1};
  Stats stats_;
};

double Percentile(const std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest-rank: the smallest sample with at least p% of the samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1000.0;  // microseconds
}

std::string Summary(std::vector<uint64_t>& v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (uint64_t x : v) sum += static_cast<double>(x);
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"min\":%.1f,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
                "\"p999\":%.1f,\"max\":%.1f}",
                v.empty() ? 0.0 : static_cast<double>(v.front()) / 1000.0,
                v.empty() ? 0.0 : sum / static_cast<double>(v.size()) / 1000.0,
                Percentile(v, 50), Percentile(v, 90), Percentile(v, 99), Percentile(v, 99.9),
                v.empty() ? 0.0 : static_cast<double>(v.back()) / 1000.0);
  return buf;
}

double CpuSeconds(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

int Main(int argc, char** argv) {
  Run run;
  run.options = ParseOptions(argc, argv);
  const Options& o = run.options;
  run.request = BuildRequest(o);

  // 1,000 connections here plus as many in the target: lift the descriptor limit.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }

  run.start = Clock::now();
  auto secs = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  run.record_from = run.start + secs(o.warmup_s + o.connect_spread_s);
  run.end = o.requests > 0 ? Clock::time_point::max() : run.record_from + secs(o.duration_s);

  std::vector<std::unique_ptr<Worker>> workers;
  int per = o.connections / o.threads, extra = o.connections % o.threads, first = 0;
  for (int t = 0; t < o.threads; ++t) {
    int count = per + (t < extra ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(run, first, count, o.connections));
    first += count;
  }
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  for (auto& w : workers) w->Start();
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers.size(); ++t) threads.emplace_back([&, t] { workers[t]->RunLoop(); });
  workers[0]->RunLoop();
  for (auto& t : threads) t.join();
  const Clock::time_point stopped = Clock::now();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);

  Stats all;
  for (auto& w : workers) {
    Stats& s = w->stats();
    all.latency_ns.insert(all.latency_ns.end(), s.latency_ns.begin(), s.latency_ns.end());
    all.ttfb_ns.insert(all.ttfb_ns.end(), s.ttfb_ns.begin(), s.ttfb_ns.end());
    for (auto [k, v] : s.status) all.status[k] += v;
    all.errors += s.errors;
    all.events += s.events;
    all.min_events = std::min(all.min_events, s.min_events);
    all.max_events = std::max(all.max_events, s.max_events);
    all.body_bytes += s.body_bytes;
    all.sent += s.sent;
  }
  const uint64_t n = all.latency_ns.size();
  // The measured window: fixed-count runs end when the last recorded response arrived.
  const double window_s =
      o.requests > 0 ? std::chrono::duration<double>(stopped - run.record_from).count()
                     : o.duration_s;
  uint64_t ok = 0;
  std::string statuses;
  for (auto [code, count] : all.status) {
    if (code >= 200 && code < 300) ok += count;
    if (!statuses.empty()) statuses += ",";
    statuses += "\"" + std::to_string(code) + "\":" + std::to_string(count);
  }
  char head[1024];
  std::snprintf(head, sizeof head,
                "{\"label\":\"%s\",\"connections\":%d,\"threads\":%d,\"rate\":%.1f,"
                "\"window_s\":%.3f,\"requests\":%llu,\"ok\":%llu,\"errors\":%llu,\"sent\":%llu,"
                "\"rps\":%.1f,\"status\":{%s},\"events\":{\"total\":%llu,\"min\":%llu,"
                "\"max\":%llu,\"mean\":%.2f},\"body_bytes\":%llu,\"loadgen_cpu_s\":%.3f,",
                o.label.c_str(), o.connections, o.threads, o.rate, window_s,
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(ok),
                static_cast<unsigned long long>(all.errors),
                static_cast<unsigned long long>(all.sent),
                window_s > 0 ? static_cast<double>(n) / window_s : 0.0, statuses.c_str(),
                static_cast<unsigned long long>(all.events),
                static_cast<unsigned long long>(n ? all.min_events : 0),
                static_cast<unsigned long long>(all.max_events),
                n ? static_cast<double>(all.events) / static_cast<double>(n) : 0.0,
                static_cast<unsigned long long>(all.body_bytes),
                CpuSeconds(after) - CpuSeconds(before));
  std::string json = head;
  json += "\"latency_us\":" + Summary(all.latency_ns) + ",\"ttfb_us\":" + Summary(all.ttfb_ns) +
          "}\n";
  if (o.out.empty()) {
    std::fwrite(json.data(), 1, json.size(), stdout);
  } else {
    std::ofstream out(o.out, std::ios::binary);
    out << json;
  }
  return n > 0 ? 0 : 1;
}

}  // namespace
}  // namespace mg::bench

int main(int argc, char** argv) { return mg::bench::Main(argc, argv); }
