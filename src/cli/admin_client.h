// @file admin_client.h
// @brief A blocking client for the admin API, for the `modelgate` subcommands: one request at
// a time over the project's upstream client (net::HttpClient: plain http, or https with
// certificate verification) on a private io_context.
//
// Errors of Send() (mg::Error values, never exceptions) are transport failures only:
// kUpstreamError "network" (connect refused, DNS, TLS handshake or verification failure, reset),
// kTimeout (the --timeout deadline), kInternal "tls_config" (the CA bundle cannot be loaded).
// Any HTTP answer, 4xx and 5xx included, is a successful Send().
//
// Thread-safety: not thread-safe; one caller (the CLI's main thread).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/secret.h"

namespace mg::cli {

struct AdminClientOptions {
  std::string url;  // base URL, e.g. "http://127.0.0.1:8080" or "https://gw.example/prefix"
  Secret api_key;   // sent as "Authorization: Bearer <key>"
  std::optional<std::string> ca_bundle;       // PEM file of trusted CAs; default: system store
  std::chrono::milliseconds timeout{120000};  // whole request, connect included
};

struct ApiResponse {
  int status = 0;
  std::string body;
};

class AdminClient {
 public:
  // Errors: kInvalidArgument (reason "invalid_endpoint_url") when `url` is not an absolute
  // http(s) URL without user info, query or fragment; the message quotes only scheme and host.
  static Result<std::unique_ptr<AdminClient>> Create(AdminClientOptions options);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Sends `method` to the base URL's path + `target` ("/admin/v1/models?x=y", already encoded)
  // with `body` as application/json when not empty, and waits for the whole answer.
  Result<ApiResponse> Send(std::string_view method, std::string_view target, std::string body);

  // "scheme://host:port" of the server, for messages.
  const std::string& origin() const;

 private:
  struct State;  // defined in admin_client.cc (holds the io_context and the HttpClient)
  explicit AdminClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace mg::cli
