#include "net/endpoint.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mg::net {
namespace {

constexpr std::string_view kReason = "invalid_endpoint_url";

Error BadUrl(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::string(kReason), std::move(message));
}

uint16_t DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

std::string BracketedHost(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

Result<Endpoint> ParseEndpointUrl(std::string_view url, std::string* base_path) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return BadUrl("endpoint URL is not an absolute URL");
  const boost::urls::url_view& u = *parsed;

  Endpoint endpoint;
  endpoint.scheme = std::string(u.scheme());
  std::transform(endpoint.scheme.begin(), endpoint.scheme.end(), endpoint.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (endpoint.scheme != "http" && endpoint.scheme != "https") {
    return BadUrl("endpoint URL scheme '" + endpoint.scheme + "' is not http or https");
  }
  if (u.has_userinfo()) {
    return BadUrl("endpoint URL must not contain user info (credentials belong in the vault)");
  }
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      endpoint.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::name:
      endpoint.host = u.host();
      break;
    default:  // none, or an IPvFuture literal we cannot connect to
      break;
  }
  if (endpoint.host.empty()) return BadUrl("endpoint URL has no usable host");
  if (u.has_query()) return BadUrl("endpoint URL for " + endpoint.host + " must not have a query");
  if (u.has_fragment()) {
    return BadUrl("endpoint URL for " + endpoint.host + " must not have a fragment");
  }

  endpoint.port = DefaultPort(endpoint.scheme);
  if (u.has_port()) {
    std::string_view port = u.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return BadUrl("endpoint URL for " + endpoint.host + " has an invalid port '" +
                    std::string(port) + "'");
    }
    endpoint.port = static_cast<uint16_t>(value);
  }

  if (base_path != nullptr) {
    std::string path(u.encoded_path());
    while (!path.empty() && path.back() == '/') path.pop_back();
    *base_path = std::move(path);
  }
  return endpoint;
}

std::string HostHeader(const Endpoint& endpoint) {
  std::string host = BracketedHost(endpoint.host);
  if (endpoint.port != DefaultPort(endpoint.scheme)) host += ":" + std::to_string(endpoint.port);
  return host;
}

std::string ToString(const Endpoint& endpoint) {
  return endpoint.scheme + "://" + BracketedHost(endpoint.host) + ":" +
         std::to_string(endpoint.port);
}

}  // namespace mg::net
