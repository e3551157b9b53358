// @file signed_request.h
// @brief Building the signed HTTP requests the Bedrock provider sends (bedrock.md §1, §3, §4.1,
// §6.1) as mg::net::ClientRequest values, without any I/O: operation paths with the model id
// encoded as one path segment, the header set (Host, Content-Type, X-Amz-Date, Authorization,
// X-Amz-Security-Token for temporary credentials) and the SigV4 signature. Also the failure type
// the provider passes around internally: an mg::Error together with the §7.2 retry advice.
//
// Secrets are read only by the signer; the built request carries the session token in
// X-Amz-Security-Token (as the wire requires) and must never be logged. Thread-safety: pure
// functions and value types.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "core/clock.h"
#include "core/result.h"
#include "net/endpoint.h"
#include "net/http_client.h"
#include "providers/aws/bedrock_errors.h"
#include "providers/aws/endpoints.h"
#include "providers/aws/sigv4.h"
#include "providers/aws/sts.h"

namespace mg::providers::bedrock {

// A classified upstream failure: the Error plus what to do about it (§7.2 "Retry").
struct CallFailure {
  aws::AwsErrorClass cls;
  const Error& error() const { return cls.error; }
};
// Lets AwsResult<T>::value() throw (programmer error; check first).
[[noreturn]] void throw_exception_from_error(const CallFailure& e,
                                             const boost::source_location& loc);

template <class T>
using AwsResult = boost::system::result<T, CallFailure>;

// "/model/{id}/converse" and "/model/{id}/converse-stream": the id (plain, inference profile or
// ARN) percent-encoded once as a single segment (':' -> %3A, '/' -> %2F).
std::string ConversePath(std::string_view provider_model_id);
std::string ConverseStreamPath(std::string_view provider_model_id);
inline constexpr std::string_view kListFoundationModelsPath = "/foundation-models";

// The net endpoint (where to connect) of a resolved AWS endpoint; IPv6 brackets are removed.
net::Endpoint ToNetEndpoint(const aws::Endpoint& endpoint);

// What to send, before signing.
struct UnsignedRequest {
  std::string method;          // "GET", "POST"
  std::string operation_path;  // e.g. ConversePath(id); the endpoint's base path is prepended
  std::string query;           // raw query without '?', may be empty
  std::string body;
  std::string content_type;  // empty: no Content-Type header
  std::string accept;        // empty: no Accept header
};

// Builds and signs `request` for `endpoint` (from aws::ResolveEndpoint) with `credentials` at
// `now`. `signing_key`, when given, is the key derived from these credentials for the date of
// `now` and the endpoint's signing region and service (it saves the four HMACs of the
// derivation); null derives it here. Errors (kInvalidArgument) only from the signer (cannot
// happen for these inputs, nor for a matching key).
Result<net::ClientRequest> BuildSignedRequest(const UnsignedRequest& request,
                                              const aws::Endpoint& endpoint,
                                              const aws::Credentials& credentials, SystemTime now,
                                              const aws::SigningKey* signing_key = nullptr);

// The AssumeRole request (already signed by aws::BuildAssumeRoleRequest) as a ClientRequest.
net::ClientRequest ToClientRequest(aws::StsHttpRequest request, const aws::Endpoint& endpoint);

// Maps an HttpClient failure to the §7.2 rows: kTimeout -> timeout (retry), "network" ->
// network (retry), "response_too_large" -> protocol; others keep their error, no retry.
CallFailure TransportFailure(const Error& error);

// A non-2xx Bedrock reply (JSON error, x-amzn-ErrorType) classified per §7.
CallFailure HttpFailure(int status, std::optional<std::string_view> error_type_header,
                        std::string_view body, bool role_credentials);

}  // namespace mg::providers::bedrock
