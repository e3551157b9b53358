// modelgate-bench-upstream: the fast upstream of the benchmark harness (bench/README.md). It
// speaks the same wire formats as the fake AWS (tests/fakes/fake-aws.mjs) for the calls a
// benchmark makes, with every answer encoded once at start-up:
//
//   POST /model/{id}/converse         Converse JSON (bedrock.md §4)
//   POST /model/{id}/converse-stream  ConverseStream event-stream (§5): messageStart,
//                                     --chunks contentBlockDelta events, contentBlockStop,
//                                     messageStop, metadata; one HTTP chunk per event
//   POST /v1/chat/completions         OpenAI-compatible JSON, or SSE ("stream": true) with the
//                                     same number of content chunks, for the baselines
//   GET  /foundation-models           the region fixture (tests/fakes/fixtures/<region>.json)
//   GET  /inference-profiles          an empty list
//   GET  /__fake/health               {"ok":true}
//   POST /__fake/verify/on|off        turns SigV4 checking on or off ({"verify":true|false})
//   GET  /__fake/stats                requests answered so far, by operation
//
// SigV4 is verified (mg::aws::VerifyRequest, key AKIDMODELGATETEST) unless --no-verify; a bad
// signature answers 403 InvalidSignatureException like the fake. Streams can be paced
// (--stream-interval-ms: a pause before each content event), for every model or only for
// --paced-model. The first line on stdout is "fake-aws listening on http://HOST:PORT", as for
// the Node fake, so the same launcher and scripts start either.
//
// Threading: --threads io threads (default 1) share one io_context; each connection is one
// coroutine, so a connection is only ever touched by one thread at a time.
#include <sys/resource.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/secret.h"
#include "providers/aws/eventstream.h"
#include "providers/aws/sigv4.h"

namespace mg::fakes {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view kKeyId = "AKIDMODELGATETEST";
constexpr std::string_view kSecret = "modelgate/test/secret/key/0000000000000000";
constexpr size_t kMaxRequestBytes = 16 * 1024 * 1024;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int chunks = 50;
  int stream_interval_ms = 0;
  std::string paced_model;  // empty: pacing applies to every stream
  bool verify = true;
  int threads = 1;
  std::string fixture;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "modelgate-bench-upstream: %s\n"
               "usage: modelgate-bench-upstream [--listen HOST:PORT] [--chunks N] "
               "[--stream-interval-ms MS] [--paced-model ID] [--no-verify] [--threads N] "
               "[--fixture FILE.json]\n",
               why.c_str());
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  o.fixture = std::string(MG_FAKE_FIXTURES_DIR) + "/us-east-1.json";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--listen") {
      std::string v = next();
      size_t colon = v.rfind(':');
      if (colon == std::string::npos) Usage("--listen wants HOST:PORT");
      o.host = v.substr(0, colon);
      if (!o.host.empty() && o.host.front() == '[') o.host = o.host.substr(1, o.host.size() - 2);
      o.port = static_cast<uint16_t>(std::stoi(v.substr(colon + 1)));
    } else if (a == "--chunks") {
      o.chunks = std::max(1, std::stoi(next()));
    } else if (a == "--stream-interval-ms") {
      o.stream_interval_ms = std::max(0, std::stoi(next()));
    } else if (a == "--paced-model") {
      o.paced_model = next();
    } else if (a == "--no-verify") {
      o.verify = false;
    } else if (a == "--verify") {
      o.verify = true;
    } else if (a == "--threads") {
      o.threads = std::max(1, std::stoi(next()));
    } else if (a == "--fixture") {
      o.fixture = next();
    } else if (a == "--bench") {
      // Accepted (and implied) so the fake's launcher can pass its arguments through.
    } else {
      Usage("unknown argument " + a);
    }
  }
  return o;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string HttpHead(int status, std::string_view reason, std::string_view content_type,
                     std::string_view extra = {}) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                  "\r\nContent-Type: " + std::string(content_type) + "\r\n";
  h += "x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n";
  h += extra;
  return h;
}

std::string Complete(int status, std::string_view reason, std::string_view content_type,
                     std::string_view body, std::string_view extra = {}) {
  return HttpHead(status, reason, content_type, extra) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string Chunk(std::string_view data) {
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size, static_cast<size_t>(n)) + std::string(data) + "\r\n";
}

std::string Frame(std::string_view event_type, std::string_view payload) {
  std::vector<aws::EventHeader> headers = {
      {":event-type", std::string(event_type)},
      {":content-type", std::string("application/json")},
      {":message-type", std::string("event")},
  };
  auto frame = aws::EncodeMessage(headers, payload);
  if (!frame) Usage("cannot encode an event-stream frame: " + frame.error().message);
  return *frame;
}

// A streamed answer: the response head, then the pieces sent one after the other (each already
// framed as an HTTP chunk), the content pieces `first_paced`..`last_paced` after a pause each.
struct StreamAnswer {
  std::string head;
  std::vector<std::string> chunks;
  size_t first_paced = 0;
  size_t last_paced = 0;  // inclusive
  std::string whole;      // head + every chunk + the last chunk: the unpaced answer
};

void FinishStream(StreamAnswer& a) {
  a.whole = a.head;
  for (const std::string& c : a.chunks) a.whole += c;
  a.whole += "0\r\n\r\n";
}

// Every answer, encoded once.
struct Answers {
  std::string converse;
  StreamAnswer converse_stream;
  std::string openai;
  StreamAnswer openai_stream;
  std::string catalog;
  std::string profiles;
  std::string health;
  std::string verify_on;
  std::string verify_off;
  std::string not_found;
  std::string bad_request;
};

Answers Encode(const Options& o) {
  Answers a;
  const int n = o.chunks;
  // Usage as the fake counts it: words.
  const std::string usage_bedrock = "{\"inputTokens\":12,\"outputTokens\":" + std::to_string(n) +
                                    ",\"totalTokens\":" + std::to_string(12 + n) + "}";
  const std::string text = "The quick brown fox jumps over the lazy dog and keeps running "
                           "along the river bank until dusk.";
  a.converse = Complete(
      200, "OK", "application/json",
      "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"" + text +
          "\"}]}},\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":12,\"outputTokens\":18,"
          "\"totalTokens\":30},\"metrics\":{\"latencyMs\":1}}");

  StreamAnswer& cs = a.converse_stream;
  cs.head = HttpHead(200, "OK", "application/vnd.amazon.eventstream",
                     "Transfer-Encoding: chunked\r\n") +
            "\r\n";
  cs.chunks.push_back(Chunk(Frame("messageStart", R"({"role":"assistant","p":"abcdefgh"})")));
  cs.first_paced = cs.chunks.size();
  for (int i = 0; i < n; ++i) {
    cs.chunks.push_back(
        Chunk(Frame("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"tok" +
                                             std::to_string(i) + " \"},\"p\":\"abcdefghij\"}")));
  }
  cs.last_paced = cs.chunks.size() - 1;
  cs.chunks.push_back(Chunk(Frame("contentBlockStop", R"({"contentBlockIndex":0,"p":"abc"})")));
  cs.chunks.push_back(Chunk(Frame("messageStop", R"({"stopReason":"end_turn","p":"abcdef"})")));
  cs.chunks.push_back(Chunk(Frame(
      "metadata", "{\"usage\":" + usage_bedrock + ",\"metrics\":{\"latencyMs\":1},\"p\":\"ab\"}")));
  FinishStream(cs);

  const std::string id = "chatcmpl-bench0000000000000000000000";
  a.openai = Complete(
      200, "OK", "application/json",
      "{\"id\":\"" + id +
          "\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"bench\","
          "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" +
          text +
          "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,"
          "\"completion_tokens\":18,\"total_tokens\":30}}");

  StreamAnswer& os = a.openai_stream;
  os.head = HttpHead(200, "OK", "text/event-stream; charset=utf-8",
                     "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n") +
            "\r\n";
  const std::string prefix = "data: {\"id\":\"" + id +
                             "\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                             "\"model\":\"bench\",\"choices\":[{\"index\":0,\"delta\":";
  os.chunks.push_back(
      Chunk(prefix + "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"));
  os.first_paced = os.chunks.size();
  for (int i = 0; i < n; ++i) {
    os.chunks.push_back(Chunk(prefix + "{\"content\":\"tok" + std::to_string(i) +
                              " \"},\"finish_reason\":null}]}\n\n"));
  }
  os.last_paced = os.chunks.size() - 1;
  os.chunks.push_back(Chunk(prefix + "{},\"finish_reason\":\"stop\"}]}\n\n"));
  os.chunks.push_back(Chunk("data: [DONE]\n\n"));
  FinishStream(os);

  std::string fixture = ReadFile(o.fixture);
  if (fixture.empty()) Usage("cannot read the catalog fixture " + o.fixture);
  a.catalog = Complete(200, "OK", "application/json", fixture);
  a.profiles = Complete(200, "OK", "application/json", R"({"inferenceProfileSummaries":[]})");
  a.health = Complete(200, "OK", "application/json", R"({"ok":true})");
  a.verify_on = Complete(200, "OK", "application/json", R"({"verify":true})");
  a.verify_off = Complete(200, "OK", "application/json", R"({"verify":false})");
  a.not_found = Complete(404, "Not Found", "application/json",
                         R"({"message":"Unknown operation"})",
                         "x-amzn-ErrorType: UnknownOperationException:http://internal.amazon.com/coral/com.amazon.coral.service/\r\n");
  a.bad_request = Complete(400, "Bad Request", "application/json",
                           R"({"message":"malformed request"})", "Connection: close\r\n");
  return a;
}

std::string AuthFailureResponse(const aws::AuthFailure& f) {
  std::string body = "{\"message\":\"";
  for (char c : f.message) {
    if (c == '"' || c == '\\') body.push_back('\\');
    body.push_back(c);
  }
  body += "\"}";
  return Complete(f.http_status, "Forbidden", "application/json", body,
                  "x-amzn-ErrorType: " + f.error_name +
                      ":http://internal.amazon.com/coral/com.amazon.coral.service/\r\n");
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// One parsed request; views point into the connection's buffer.
struct ParsedRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  std::vector<aws::HttpHeader> headers;  // copied: VerifyRequest takes owned pairs
  std::string body;
  bool close = false;
  size_t consumed = 0;  // bytes of the buffer this request used
};

enum class ParseOutcome { kComplete, kNeedMore, kBad };

// Decodes a chunked body starting at `p`; returns the bytes consumed or 0 when incomplete.
size_t DecodeChunked(std::string_view in, size_t p, std::string& out, bool& bad) {
  const size_t start = p;
  for (;;) {
    size_t eol = in.find("\r\n", p);
    if (eol == std::string_view::npos) return 0;
    size_t size = std::strtoul(std::string(in.substr(p, eol - p)).c_str(), nullptr, 16);
    p = eol + 2;
    if (size == 0) {
      size_t end = in.find("\r\n", p);  // no trailers expected
      if (end == std::string_view::npos) return 0;
      return end + 2 - start;
    }
    if (in.size() < p + size + 2) return 0;
    out.append(in.substr(p, size));
    p += size + 2;
    if (out.size() > kMaxRequestBytes) {
      bad = true;
      return 0;
    }
  }
}

ParseOutcome Parse(std::string_view in, ParsedRequest& r) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return in.size() > 64 * 1024 ? ParseOutcome::kBad : ParseOutcome::kNeedMore;
  }
  std::string_view head = in.substr(0, end);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return ParseOutcome::kBad;
  r.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (line.substr(sp2 + 1) == "HTTP/1.0") r.close = true;
  r.headers.clear();
  size_t content_length = 0;
  bool chunked = false;
  size_t p = eol;
  while (p != std::string_view::npos && p < head.size()) {
    size_t start = p + 2;
    size_t next = head.find("\r\n", start);
    std::string_view h = head.substr(start, next == std::string_view::npos ? head.size() - start
                                                                           : next - start);
    size_t colon = h.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = h.substr(0, colon);
      std::string_view value = h.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (EqualsNoCase(name, "content-length")) {
        content_length = std::strtoul(std::string(value).c_str(), nullptr, 10);
      } else if (EqualsNoCase(name, "transfer-encoding")) {
        chunked = value.find("chunked") != std::string_view::npos;
      } else if (EqualsNoCase(name, "connection") && EqualsNoCase(value, "close")) {
        r.close = true;
      }
      r.headers.emplace_back(std::string(name), std::string(value));
    }
    p = next;
  }
  const size_t body_start = end + 4;
  r.body.clear();
  if (chunked) {
    bool bad = false;
    size_t used = DecodeChunked(in, body_start, r.body, bad);
    if (bad) return ParseOutcome::kBad;
    if (used == 0) return ParseOutcome::kNeedMore;
    r.consumed = body_start + used;
    return ParseOutcome::kComplete;
  }
  if (content_length > kMaxRequestBytes) return ParseOutcome::kBad;
  if (in.size() < body_start + content_length) return ParseOutcome::kNeedMore;
  r.body.assign(in.substr(body_start, content_length));
  r.consumed = body_start + content_length;
  return ParseOutcome::kComplete;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::strtoul(std::string(s.substr(i + 1, 2)).c_str(),
                                                   nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "Credential=AKID/20250101/us-east-1/bedrock/aws4_request" -> "us-east-1".
std::string ScopeRegion(const std::vector<aws::HttpHeader>& headers) {
  for (const auto& [name, value] : headers) {
    if (!EqualsNoCase(name, "authorization")) continue;
    size_t c = value.find("Credential=");
    if (c == std::string::npos) return {};
    size_t s1 = value.find('/', c);
    size_t s2 = s1 == std::string::npos ? s1 : value.find('/', s1 + 1);
    size_t s3 = s2 == std::string::npos ? s2 : value.find('/', s2 + 1);
    if (s3 == std::string::npos) return {};
    return value.substr(s2 + 1, s3 - s2 - 1);
  }
  return {};
}

class Upstream {
 public:
  Upstream(Options options)
      : options_(std::move(options)),
        answers_(Encode(options_)),
        verify_(options_.verify),
        io_(options_.threads) {}

  int Run() {
    boost::system::error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address(options_.host, ec), options_.port);
    if (ec) Usage("bad listen host " + options_.host);
    tcp::acceptor acceptor(io_);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec) {
      std::fprintf(stderr, "modelgate-bench-upstream: cannot bind: %s\n", ec.message().c_str());
      return 1;
    }
    acceptor.listen(asio::socket_base::max_listen_connections);
    tcp::endpoint local = acceptor.local_endpoint();
    std::string host = local.address().to_string();
    if (local.address().is_v6()) host = "[" + host + "]";
    std::printf("fake-aws listening on http://%s:%u\n", host.c_str(), local.port());
    std::fflush(stdout);

    asio::signal_set signals(io_, SIGINT, SIGTERM);
    signals.async_wait([this](const boost::system::error_code&, int) { io_.stop(); });
    auto rethrow = [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    };
    asio::co_spawn(io_, Accept(std::move(acceptor)), rethrow);
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.threads; ++i) threads.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : threads) t.join();
    return 0;
  }

 private:
  asio::awaitable<void> Accept(tcp::acceptor acceptor) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
      if (ec) {
        asio::steady_timer backoff(io_, std::chrono::milliseconds(50));
        co_await backoff.async_wait(kUseTuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(io_, Session(std::move(socket)), [](std::exception_ptr) {});
    }
  }

  bool Paced(std::string_view model) const {
    if (options_.stream_interval_ms == 0) return false;
    return options_.paced_model.empty() || model == options_.paced_model;
  }

  asio::awaitable<bool> SendStream(tcp::socket& socket, const StreamAnswer& a, bool paced) {
    if (!paced) {
      auto [ec, n] = co_await asio::async_write(socket, asio::buffer(a.whole), kUseTuple);
      co_return !ec;
    }
    asio::steady_timer timer(io_);
    std::string pending = a.head;
    for (size_t i = 0; i < a.chunks.size(); ++i) {
      if (i >= a.first_paced && i <= a.last_paced) {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(pending), kUseTuple);
        if (ec) co_return false;
        pending.clear();
        timer.expires_after(std::chrono::milliseconds(options_.stream_interval_ms));
        co_await timer.async_wait(kUseTuple);
      }
      pending += a.chunks[i];
    }
    pending += "0\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(pending), kUseTuple);
    co_return !ec;
  }

  // Returns the answer for `r`, or null when it is a stream (then `stream`/`paced` are set).
  const std::string* Route(const ParsedRequest& r, const StreamAnswer*& stream, bool& paced,
                           std::string& scratch) {
    stream = nullptr;
    paced = false;
    const std::string_view path = r.path;
    if (r.method == "GET" && path == "/__fake/health") return &answers_.health;
    if (r.method == "GET" && path == "/__fake/stats") {
      const std::string body =
          "{\"converse\":" + std::to_string(count_converse_.load()) +
          ",\"converse_stream\":" + std::to_string(count_converse_stream_.load()) +
          ",\"openai\":" + std::to_string(count_openai_.load()) +
          ",\"control_plane\":" + std::to_string(count_control_.load()) +
          ",\"rejected\":" + std::to_string(count_rejected_.load()) + "}";
      scratch = Complete(200, "OK", "application/json", body);
      return &scratch;
    }
    if (r.method == "POST" && path == "/__fake/verify/on") {
      verify_ = true;
      return &answers_.verify_on;
    }
    if (r.method == "POST" && path == "/__fake/verify/off") {
      verify_ = false;
      return &answers_.verify_off;
    }
    const bool bedrock = path.rfind("/model/", 0) == 0 || path.rfind("/foundation-models", 0) == 0 ||
                         path.rfind("/inference-profiles", 0) == 0;
    if (bedrock && verify_.load(std::memory_order_relaxed)) {
      const std::string region = ScopeRegion(r.headers);
      aws::ReceivedRequest received{r.method, r.path, r.query, r.headers, r.body};
      aws::VerifyPolicy policy{"bedrock", region, clock_.Now()};
      auto verified = aws::VerifyRequest(received, policy, [](std::string_view id) {
        std::optional<aws::KeyInfo> info;
        if (id == kKeyId) info = aws::KeyInfo{Secret(std::string(kSecret)), std::nullopt,
                                              std::nullopt, false};
        return info;
      });
      if (!verified) {
        count_rejected_.fetch_add(1, std::memory_order_relaxed);
        scratch = AuthFailureResponse(verified.error());
        return &scratch;
      }
    }
    if (r.method == "POST" && path.rfind("/model/", 0) == 0) {
      std::string_view rest = path.substr(7);
      size_t slash = rest.find('/');
      if (slash == std::string_view::npos) return &answers_.not_found;
      const std::string model = PercentDecode(rest.substr(0, slash));
      std::string_view op = rest.substr(slash + 1);
      if (op == "converse") {
        count_converse_.fetch_add(1, std::memory_order_relaxed);
        return &answers_.converse;
      }
      if (op == "converse-stream") {
        count_converse_stream_.fetch_add(1, std::memory_order_relaxed);
        stream = &answers_.converse_stream;
        paced = Paced(model);
        return nullptr;
      }
      return &answers_.not_found;
    }
    if (r.method == "POST" && path == "/v1/chat/completions") {
      count_openai_.fetch_add(1, std::memory_order_relaxed);
      const bool wants_stream = r.body.find("\"stream\":true") != std::string::npos ||
                                r.body.find("\"stream\": true") != std::string::npos;
      if (!wants_stream) return &answers_.openai;
      stream = &answers_.openai_stream;
      paced = options_.stream_interval_ms > 0 &&
              (options_.paced_model.empty() ||
               r.body.find("\"" + options_.paced_model + "\"") != std::string::npos);
      return nullptr;
    }
    if (r.method == "GET" && path.rfind("/foundation-models", 0) == 0) {
      count_control_.fetch_add(1, std::memory_order_relaxed);
      return &answers_.catalog;
    }
    if (r.method == "GET" && path.rfind("/inference-profiles", 0) == 0) {
      count_control_.fetch_add(1, std::memory_order_relaxed);
      return &answers_.profiles;
    }
    return &answers_.not_found;
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    std::string in;
    std::vector<char> scratch_read(64 * 1024);
    ParsedRequest request;
    std::string scratch;
    for (;;) {
      ParseOutcome outcome = Parse(in, request);
      if (outcome == ParseOutcome::kBad) {
        co_await asio::async_write(socket, asio::buffer(answers_.bad_request), kUseTuple);
        break;
      }
      if (outcome == ParseOutcome::kNeedMore) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(scratch_read), kUseTuple);
        if (ec) break;
        in.append(scratch_read.data(), n);
        continue;
      }
      const StreamAnswer* stream = nullptr;
      bool paced = false;
      const std::string* answer = Route(request, stream, paced, scratch);
      const bool close = request.close;
      in.erase(0, request.consumed);
      bool ok;
      if (answer != nullptr) {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(*answer), kUseTuple);
        ok = !ec;
      } else {
        ok = co_await SendStream(socket, *stream, paced);
      }
      if (!ok || close) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
  }

  Options options_;
  Answers answers_;
  std::atomic<bool> verify_;  // read by every io thread; set by /__fake/verify/*
  std::atomic<uint64_t> count_converse_{0};
  std::atomic<uint64_t> count_converse_stream_{0};
  std::atomic<uint64_t> count_openai_{0};
  std::atomic<uint64_t> count_control_{0};
  std::atomic<uint64_t> count_rejected_{0};
  RealClock clock_;
  asio::io_context io_;
};

int Main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  Upstream upstream(std::move(options));
  return upstream.Run();
}

}  // namespace
}  // namespace mg::fakes

int main(int argc, char** argv) { return mg::fakes::Main(argc, argv); }
