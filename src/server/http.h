// @file http.h
// @brief The HTTP vocabulary every handler codes against: Headers, Request, Response,
// BodyWriter (streaming), Handler and the Router that maps "METHOD /path" to a Handler.
//
// Deliberately free of Beast: handlers in api/ include only this header (and Asio's awaitable),
// so the heavy HTTP machinery stays in server.cc. The server owns the connection; a handler gets
// a Request by value and returns a Response (optionally with a streaming producer).
//
// Thread-safety: Headers, Request and Response are value types (no internal locking). A Router is
// built once at start-up (Add) and then only read (Resolve), which is safe from any thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/result.h"

namespace mg::server {

// Ordered list of header fields with case-insensitive name lookup (RFC 9110 §5.1).
class Headers {
 public:
  // First value of `name`, or nullopt. The view is valid until the Headers is modified.
  std::optional<std::string_view> Get(std::string_view name) const;
  // Replaces every field called `name` with a single one.
  void Set(std::string name, std::string value);
  // Appends a field (keeps existing ones of the same name).
  void Add(std::string name, std::string value);
  // Removes every field called `name`.
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& All() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// ASCII case-insensitive equality (header names, tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Decodes %XX escapes. `plus_as_space` is for query strings (application/x-www-form-urlencoded).
// Returns nullopt when a '%' is not followed by two hex digits or the result contains NUL.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_as_space = false);

struct Request {
  std::string method;      // "GET"
  std::string target;      // raw request-target
  std::string path;        // raw (still percent-encoded) path, no query
  std::string query;       // raw query string without '?'
  Headers headers;
  std::string body;
  std::string request_id;  // "req_..." or a sane incoming x-request-id
  std::string remote_addr; // "ip:port" of the peer
  std::string route;       // matched route pattern, e.g. "/admin/v1/models/{id}"
  std::unordered_map<std::string, std::string> path_params;  // percent-decoded values

  // Decoded value of the first `name` parameter; nullopt when absent or badly encoded.
  std::optional<std::string> QueryParam(std::string_view name) const;
  // Like QueryParam, but a badly encoded query string is 400 invalid_parameter (param = name).
  Result<std::optional<std::string>> QueryParamChecked(std::string_view name) const;
};

// Given to streaming producers (Response::stream). Used only from the producer coroutine.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Sends one chunk at once (flushed). Returns false when the client is gone (stop producing).
  // An empty `data` is a no-op that returns whether the client is still there.
  virtual boost::asio::awaitable<bool> Write(std::string data) = 0;
  // Ends the response abruptly: closes the TCP connection without the terminating chunk
  // (used by the fake AWS to simulate a cut stream).
  virtual void Abort() = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // If set, the server sends status+headers with Transfer-Encoding: chunked and then awaits
  // stream(writer); `body` is ignored. If the client disconnects meanwhile, the stream coroutine
  // is cancelled (terminal cancellation reaches whatever it awaits), so upstream calls get torn
  // down. An exception from the producer after the headers went out aborts the connection.
  std::function<boost::asio::awaitable<void>(BodyWriter&)> stream;
  // Streaming only: when the producer has written nothing for this long, the server sends
  // `heartbeat` as a chunk (e.g. an SSE comment ": keep-alive\n\n") and keeps waiting. Zero:
  // no heartbeats.
  std::chrono::milliseconds heartbeat_interval{0};
  std::string heartbeat;
  bool close_connection = false;  // Connection: close, then close
  bool abort_connection = false;  // do not answer: close the connection (fake AWS faults)
  std::vector<std::pair<std::string, std::string>> log_fields;  // extra access-log key=values
};

// A response with `json_body` and Content-Type: application/json.
Response JsonResponse(int status, std::string json_body);
// The contract error body (server/error_body.h) for `e` with its status and extra headers
// (Retry-After, retry-after-ms, x-should-retry).
Response ErrorResponse(const Error& e, const Request& req);

// Handlers take the request by value: they are coroutines and outlive the caller's frame.
using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

// Maps method + path to a Handler.
//
// Pattern segments: a literal, "{name}" (exactly one non-empty raw segment, percent-decoded into
// Request::path_params), or a final "{name...}" (the rest of the path, possibly empty, decoded
// segment by segment and joined with '/'). A trailing slash on the request path is ignored.
// When several patterns match, the one with more literal segments wins, then the first added.
// HEAD is served by the GET handler when no HEAD route exists (the server drops the body).
//
// Thread-safety: Add only during set-up; afterwards Resolve may be called from any thread.
class Router {
 public:
  // Registers `h`. A malformed pattern (not starting with '/', "{...}" not last) is a programmer
  // error and aborts.
  void Add(std::string method, std::string pattern, Handler h);

  // Finds the handler for `req`, filling req.route and req.path_params. On failure returns the
  // response to send instead: 404 route_not_found, 405 method_not_allowed (with Allow), or 400
  // invalid_parameter for bad percent-encoding in the path.
  std::variant<const Handler*, Response> Resolve(Request& req) const;

  // Every registered (method, pattern), in registration order (for metrics pre-registration).
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Segment {
    enum class Kind { kLiteral, kParam, kRest } kind;
    std::string text;  // literal text or parameter name
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    int literal_count = 0;
    Handler handler;
  };
  // Matches `segments` (decoded) against `route`; fills params on success.
  static bool Match(const Route& route, const std::vector<std::string>& segments,
                    std::unordered_map<std::string, std::string>* params);

  std::vector<Route> routes_;
};

}  // namespace mg::server
