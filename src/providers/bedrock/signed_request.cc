// @file signed_request.cc
// @brief Implementation of signed_request.h.
#include "providers/bedrock/signed_request.h"

#include <stdexcept>
#include <utility>

#include "providers/aws/percent_encoding.h"

namespace mg::providers::bedrock {

void throw_exception_from_error(const CallFailure& e, const boost::source_location&) {
  throw std::runtime_error("bedrock call failed: " + e.cls.error.message);
}

namespace {
std::string ModelPath(std::string_view id, std::string_view op) {
  std::string out = "/model/";
  aws::AppendPercentEncoded(out, id, aws::SlashPolicy::kEncode);
  out += '/';
  out += op;
  return out;
}
}  // namespace

std::string ConversePath(std::string_view id) { return ModelPath(id, "converse"); }
std::string ConverseStreamPath(std::string_view id) { return ModelPath(id, "converse-stream"); }

net::Endpoint ToNetEndpoint(const aws::Endpoint& endpoint) {
  net::Endpoint out;
  out.scheme = endpoint.scheme;
  out.host = endpoint.host;
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  out.port = endpoint.port;
  return out;
}

Result<net::ClientRequest> BuildSignedRequest(const UnsignedRequest& request,
                                              const aws::Endpoint& endpoint,
                                              const aws::Credentials& credentials,
                                              SystemTime now, const aws::SigningKey* signing_key) {
  net::ClientRequest out;
  out.method = request.method;
  out.endpoint = ToNetEndpoint(endpoint);
  const std::string path = endpoint.PathFor(request.operation_path);
  out.target = request.query.empty() ? path : path + "?" + request.query;
  out.headers.emplace_back("Host", endpoint.host_header);
  if (!request.content_type.empty()) out.headers.emplace_back("Content-Type", request.content_type);
  if (!request.accept.empty()) out.headers.emplace_back("Accept", request.accept);

  aws::SigningRequest sr;
  sr.method = request.method;
  sr.path = path;
  sr.query = request.query;
  sr.headers = out.headers;
  sr.payload = request.body;
  sr.region = endpoint.signing_region;
  sr.service = endpoint.signing_service;
  sr.now = now;
  MG_TRY(aws::SignedRequest signed_request,
         signing_key != nullptr
             ? aws::SignRequestWithKey(sr, credentials.access_key_id, credentials.session_token,
                                       *signing_key)
             : aws::SignRequest(sr, credentials));
  for (auto& h : signed_request.headers_to_set) out.headers.push_back(std::move(h));
  out.body = request.body;
  return out;
}

net::ClientRequest ToClientRequest(aws::StsHttpRequest request, const aws::Endpoint& endpoint) {
  net::ClientRequest out;
  out.method = std::move(request.method);
  out.endpoint = ToNetEndpoint(endpoint);
  out.target = std::move(request.path);
  out.headers = std::move(request.headers);
  out.body = std::move(request.body);
  return out;
}

CallFailure TransportFailure(const Error& error) {
  if (error.code == ErrorCode::kTimeout) return {aws::TimeoutFailure(error.message)};
  if (error.reason == "network") return {aws::NetworkFailure(error.message)};
  if (error.reason == "response_too_large") return {aws::ProtocolFailure(error.message)};
  aws::AwsErrorClass cls;
  cls.error = error;
  if (cls.error.health_cause.empty()) {
    cls.error.health_cause = std::string(aws::health_cause::kNetwork);
    cls.error.health_message = error.message;
  }
  cls.retry = aws::RetryAdvice::kNo;
  return {std::move(cls)};
}

CallFailure HttpFailure(int status, std::optional<std::string_view> error_type_header,
                        std::string_view body, bool role_credentials) {
  const aws::AwsError parsed =
      aws::ParseJsonError(status, error_type_header.value_or(std::string_view{}), body);
  aws::ClassifyOptions options;
  options.role_credentials = role_credentials;
  return {aws::ClassifyAwsError(parsed, options)};
}

}  // namespace mg::providers::bedrock
