// @file endpoints.h
// @brief Base URL resolution for the AWS services the gateway calls (bedrock.md §1): the default
// regional hosts, and the AWS SDK endpoint overrides AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
// AWS_ENDPOINT_URL_BEDROCK, AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL (service-specific wins;
// an empty value counts as unset; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true disables them all).
//
// An override changes where requests go (scheme, host, port, path prefix) and the Host header,
// never the signing region or service. The environment is read through an injectable function,
// so tests never touch the process environment. Thread-safety: pure functions; Endpoint is a
// value. ProcessEnv() reads std::getenv (do not call setenv concurrently).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mg::aws {

enum class AwsService {
  kBedrockRuntime,  // Converse, ConverseStream
  kBedrock,         // control plane: ListFoundationModels, ...
  kSts,             // AssumeRole
};

// Returns the variable's value, or nullopt when unset.
using GetEnvFn = std::function<std::optional<std::string>(std::string_view name)>;

// The real process environment.
GetEnvFn ProcessEnv();

// "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL_BEDROCK", "AWS_ENDPOINT_URL_STS".
std::string_view EndpointEnvVar(AwsService service);
// SigV4 service name: "bedrock" for both Bedrock hosts, "sts" for STS.
std::string_view SigningService(AwsService service);

// Where to send a service's requests and how to sign them.
struct Endpoint {
  std::string scheme;       // "https" or "http" (lower-case)
  std::string host;         // host name or IP literal (IPv6 in brackets), no port
  uint16_t port = 443;      // effective port
  std::string base_path;    // override path without trailing '/', "" for defaults
  std::string host_header;  // `host`, or `host:port` when the port is not the scheme's default
  std::string signing_region;
  std::string signing_service;
  // The variable the URL came from ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"), empty for the
  // default.
  std::string source;

  // Wire path for an operation path ("/model/x/converse"): base_path + operation path.
  std::string PathFor(std::string_view operation_path) const;
  // scheme://host_header + PathFor(operation_path).
  std::string UrlFor(std::string_view operation_path) const;
};

// Resolves the endpoint of `service` in `region`. Errors (kInvalidArgument): an empty or
// malformed region; an override URL that is not http(s)://host[:port][/path] (user info, query
// and fragment are rejected; the message names the variable, and shows the value only when it
// holds no '@').
Result<Endpoint> ResolveEndpoint(AwsService service, std::string_view region,
                                 const GetEnvFn& getenv);

// Parses an override URL into scheme, host, port, base_path and host_header (the signing fields
// are left empty). `origin` names it in errors.
Result<Endpoint> ParseEndpointUrl(std::string_view url, std::string_view origin);

}  // namespace mg::aws
