// Endpoint resolution per bedrock.md §1.
#include "providers/aws/endpoints.h"

#include <cctype>
#include <cstdlib>

namespace mg::aws {
namespace {

using std::string_view_literals::operator""sv;

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view DefaultHostPrefix(AwsService service) {
  switch (service) {
    case AwsService::kBedrockRuntime:
      return "bedrock-runtime";
    case AwsService::kBedrock:
      return "bedrock";
    case AwsService::kSts:
      return "sts";
  }
  return "bedrock-runtime";
}

bool ValidRegion(std::string_view region) {
  if (region.empty() || region.size() > 64) return false;
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return region.front() != '-' && region.back() != '-';
}

// A set, non-empty value (empty counts as unset).
std::optional<std::string> NonEmpty(const GetEnvFn& getenv, std::string_view name) {
  auto v = getenv(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

Error BadUrl(std::string_view url, std::string_view origin, std::string_view why) {
  std::string message = std::string(origin) + " is not a usable endpoint URL";
  if (url.find('@') == std::string_view::npos) message += " ('" + std::string(url) + "')";
  message += ": ";
  message += why;
  return InvalidArgument(std::move(message), std::string(origin));
}

}  // namespace

GetEnvFn ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string_view EndpointEnvVar(AwsService service) {
  switch (service) {
    case AwsService::kBedrockRuntime:
      return "AWS_ENDPOINT_URL_BEDROCK_RUNTIME";
    case AwsService::kBedrock:
      return "AWS_ENDPOINT_URL_BEDROCK";
    case AwsService::kSts:
      return "AWS_ENDPOINT_URL_STS";
  }
  return "AWS_ENDPOINT_URL";
}

std::string_view SigningService(AwsService service) {
  return service == AwsService::kSts ? "sts"sv : "bedrock"sv;
}

std::string Endpoint::PathFor(std::string_view operation_path) const {
  std::string out = base_path;
  if (!operation_path.empty() && operation_path.front() != '/') out.push_back('/');
  out.append(operation_path);
  if (out.empty()) out = "/";
  return out;
}

std::string Endpoint::UrlFor(std::string_view operation_path) const {
  return scheme + "://" + host_header + PathFor(operation_path);
}

Result<Endpoint> ParseEndpointUrl(std::string_view url, std::string_view origin) {
  Endpoint ep;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return BadUrl(url, origin, "expected http(s)://host[:port]");
  ep.scheme = ToLower(url.substr(0, sep));
  uint16_t default_port = 0;
  if (ep.scheme == "https") {
    default_port = 443;
  } else if (ep.scheme == "http") {
    default_port = 80;
  } else {
    return BadUrl(url, origin, "the scheme must be http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return BadUrl(url, origin, "a query or fragment is not allowed");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? ""sv : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return BadUrl(url, origin, "user info is not allowed");
  }
  std::string_view host = authority;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(url, origin, "unterminated IPv6 literal");
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl(url, origin, "junk after the IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return BadUrl(url, origin, "empty port");
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    if (port_text.empty()) return BadUrl(url, origin, "empty port");
  }
  if (host.empty() || host == "[]") return BadUrl(url, origin, "no host");
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '%' || c == '\\') {
      return BadUrl(url, origin, "invalid character in the host");
    }
  }
  ep.port = default_port;
  if (!port_text.empty()) {
    if (port_text.size() > 5) return BadUrl(url, origin, "port out of range");
    unsigned port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return BadUrl(url, origin, "the port must be a number");
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) return BadUrl(url, origin, "port out of range");
    ep.port = static_cast<uint16_t>(port);
  }
  ep.host = ToLower(host);
  ep.host_header = ep.port == default_port ? ep.host : ep.host + ":" + std::to_string(ep.port);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  ep.base_path = std::string(path);
  return ep;
}

Result<Endpoint> ResolveEndpoint(AwsService service, std::string_view region,
                                 const GetEnvFn& getenv) {
  if (!ValidRegion(region)) {
    return InvalidArgument("'" + std::string(region) + "' is not an AWS region (e.g. us-east-1)",
                           "region");
  }
  std::optional<std::string> url;
  std::string source;
  const auto ignore = NonEmpty(getenv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  if (!ignore || ToLower(*ignore) != "true") {
    if ((url = NonEmpty(getenv, EndpointEnvVar(service)))) {
      source = EndpointEnvVar(service);
    } else if ((url = NonEmpty(getenv, "AWS_ENDPOINT_URL"))) {
      source = "AWS_ENDPOINT_URL";
    }
  }
  Endpoint ep;
  if (url) {
    MG_TRY(ep, ParseEndpointUrl(*url, source));
    ep.source = std::move(source);
  } else {
    ep.scheme = "https";
    ep.port = 443;
    ep.host =
        std::string(DefaultHostPrefix(service)) + "." + std::string(region) + ".amazonaws.com";
    ep.host_header = ep.host;
  }
  ep.signing_region = std::string(region);
  ep.signing_service = std::string(SigningService(service));
  return ep;
}

}  // namespace mg::aws
