// @file endpoint.h
// @brief Where an upstream lives: scheme, host and port, parsed from a base URL such as an AWS
// endpoint override ("http://127.0.0.1:8080/base").
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mg::net {

// One upstream origin. Connections are pooled per Endpoint.
struct Endpoint {
  std::string scheme;  // "http" or "https" (lower case)
  std::string host;    // DNS name or IP literal; IPv6 without brackets
  uint16_t port = 0;   // never 0 once parsed

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Parses an absolute http(s) URL into its endpoint. The default port is filled in (80/443).
// When base_path is not null it receives the URL's path with any trailing '/' dropped
// ("http://h/base/" -> "/base", "http://h" and "http://h/" -> ""), ready for an operation path
// to be appended (bedrock.md §1, endpoint overrides).
// Errors (kInvalidArgument, reason "invalid_endpoint_url"): not a URL, a scheme other than
// http/https, no host, port 0 or out of range, user info ("user:pass@"), a query or a fragment.
// Messages quote only the scheme and host, never the whole URL (it may hold credentials).
Result<Endpoint> ParseEndpointUrl(std::string_view url, std::string* base_path = nullptr);

// The Host header value for an endpoint: "host" when the port is the scheme's default, else
// "host:port"; IPv6 literals are bracketed ("[::1]:8080").
std::string HostHeader(const Endpoint& endpoint);

// "scheme://host:port" (IPv6 bracketed), for log lines and error messages.
std::string ToString(const Endpoint& endpoint);

}  // namespace mg::net
