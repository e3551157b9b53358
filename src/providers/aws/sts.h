// @file sts.h
// @brief The STS AssumeRole wire format (bedrock.md §2.1), without any I/O: building the signed
// form POST, parsing the XML success reply into temporary credentials, and parsing the XML error
// reply into the §7.2 classification. The caller owns transport, caching and refresh.
//
// Secrets: the source secret is only read by the signer; the returned secret access key and
// session token are mg::Secret. No error message contains a secret, the external id or the raw
// XML. The XML reader is deliberately minimal (elements, text, entities, CDATA, comments; no
// DTD) and bounded in depth. Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "providers/aws/bedrock_errors.h"
#include "providers/aws/endpoints.h"
#include "providers/aws/sigv4.h"

namespace mg::aws {

inline constexpr std::string_view kDefaultRoleSessionName = "enterprise-gateway";
inline constexpr int kDefaultAssumeRoleDurationSeconds = 3600;

struct AssumeRoleParams {
  std::string role_arn;
  std::string role_session_name;  // empty → kDefaultRoleSessionName
  std::optional<std::string> external_id;
  // Sent as DurationSeconds; nullopt omits it (STS then uses its default, 3600).
  std::optional<int> duration_seconds = kDefaultAssumeRoleDurationSeconds;
};

// Save-time validation (§2.1); errors are kInvalidArgument with `param` set and never echo the
// external id. RoleSessionName: 2-64 of [A-Za-z0-9_+=,.@-]. ExternalId: 2-1224 of
// [A-Za-z0-9_+=,.@:/-]. DurationSeconds: 900-43200. RoleArn: "arn:" prefix, at most 2048 bytes.
Result<void> ValidateRoleSessionName(std::string_view name);
Result<void> ValidateExternalId(std::string_view external_id);
Result<void> ValidateAssumeRoleParams(const AssumeRoleParams& params);

// The form body: Action=AssumeRole&Version=2011-06-15&RoleArn=..&RoleSessionName=..
// [&ExternalId=..][&DurationSeconds=..] (values encoded per §2.1). Does not validate.
std::string BuildAssumeRoleBody(const AssumeRoleParams& params);

// A request ready to send.
struct StsHttpRequest {
  std::string method;   // "POST"
  std::string url;      // full URL (endpoint + path)
  std::string path;     // wire path
  HttpHeaders headers;  // Host, Content-Type, X-Amz-Date, [X-Amz-Security-Token], Authorization
  std::string body;
};

// Validates, builds and signs AssumeRole with the gateway's own (source) credentials.
// `endpoint` comes from ResolveEndpoint(AwsService::kSts, region, ...).
Result<StsHttpRequest> BuildAssumeRoleRequest(const AssumeRoleParams& params,
                                              const Endpoint& endpoint, const Credentials& source,
                                              SystemTime now);

struct AssumedRole {
  Credentials credentials;  // temporary: session_token always set
  SystemTime expiration;
  std::string assumed_role_arn;  // AssumedRoleUser/Arn, empty when absent
};

// Parses a 2xx reply. A malformed or incomplete body is ProtocolFailure(...).error
// (kUpstreamError, health cause provider_unavailable).
Result<AssumedRole> ParseAssumeRoleResponse(std::string_view xml);

// Parses a non-2xx reply: name = ErrorResponse/Error/Code, message = .../Message. A body that is
// not the expected XML gives an empty name (classified by status).
AwsError ParseStsError(int http_status, std::string_view xml);

// ParseStsError + ClassifyAwsError.
AwsErrorClass ClassifyStsError(int http_status, std::string_view xml);

// ---------------------------------------------------------------------------------------------
// The minimal XML reader (exposed for tests).

struct XmlElement {
  std::string name;  // local name (namespace prefix removed)
  std::string text;  // concatenated character data directly inside, entities decoded
  std::vector<XmlElement> children;

  // The first child with this local name, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
};

// Parses one document. Rejects DOCTYPE, mismatched or unclosed tags, unknown entities, nesting
// deeper than 32, and anything but whitespace, comments and processing instructions around the
// root. Errors are kUpstreamError with a message naming the fault (never quoting content).
Result<XmlElement> ParseXml(std::string_view xml);

}  // namespace mg::aws
