// @file sigv4.h
// @brief AWS Signature Version 4 (AWS4-HMAC-SHA256) signing and verification, exactly as
// bedrock.md §3: canonical URI (path normalised, then encoded once more), canonical query
// (decoded, re-encoded, sorted), canonical headers (lower-cased, trimmed, folded, repeated names
// joined with ','), string to sign, HMAC key chain.
//
// Signing: SignRequest() derives the key from the secret each time; hot paths derive it once
// per (UTC day, region, service) with DeriveSigningKey() and call SignRequestWithKey().
// Verification (the fake AWS): VerifyRequest() repeats the algorithm over a received request and
// answers with the AWS error a real endpoint would send.
//
// Secrets: the secret key is read through Secret::Reveal() only inside the key derivation, and
// the derived key is wiped on destruction. Nothing here logs. Thread-safety: pure functions;
// SigningKey and the result types are values.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "core/clock.h"
#include "core/result.h"
#include "core/secret.h"

namespace mg::aws {

using HttpHeader = std::pair<std::string, std::string>;
using HttpHeaders = std::vector<HttpHeader>;

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
// Lower-case hex SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// An access key pair, optionally temporary (session token from STS or stored with the key).
struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  std::optional<Secret> session_token;
};

// The derived key kSigning = HMAC chain over ("AWS4"+secret, date, region, service,
// "aws4_request"), with the scope it is valid for. Cache it per (key id, date, region, service).
class SigningKey {
 public:
  SigningKey(const std::array<uint8_t, 32>& bytes, std::string date, std::string region,
             std::string service);
  SigningKey(const SigningKey& other) = default;
  SigningKey& operator=(const SigningKey& other) = default;
  ~SigningKey();

  std::string_view date() const { return date_; }  // YYYYMMDD (UTC)
  std::string_view region() const { return region_; }
  std::string_view service() const { return service_; }
  // The 32 key bytes; sensitive (valid for a day): never log them.
  const std::array<uint8_t, 32>& bytes() const { return bytes_; }
  // Lower-case hex of the key bytes, for known-answer tests.
  std::string Hex() const;

 private:
  std::array<uint8_t, 32> bytes_;
  std::string date_;
  std::string region_;
  std::string service_;
};

// `date` is the 8-digit UTC date (YYYYMMDD) of the request being signed.
SigningKey DeriveSigningKey(const Secret& secret, std::string_view date, std::string_view region,
                            std::string_view service);

// What is signed. All views must stay valid for the duration of the call.
struct SigningRequest {
  std::string_view method;  // "GET", "POST"
  // Wire path as it will be sent (labels already percent-encoded once), without the query.
  std::string_view path;
  std::string_view query;  // raw query string without '?', empty when none
  // Headers as they will be sent, any case, possibly repeated; must include Host. Existing
  // X-Amz-Date, X-Amz-Security-Token (when a session token is given) and Authorization are
  // ignored: the signer supplies them. Never-signed headers (user-agent, ...) are skipped.
  std::span<const HttpHeader> headers;
  std::string_view payload;             // body bytes; ignored when payload_sha256_hex is set
  std::string_view payload_sha256_hex;  // precomputed lower-case hex SHA-256, or empty
  std::string_view region;
  std::string_view service;  // "bedrock" for both Bedrock hosts, "sts" for STS
  SystemTime now;
};

// The signing outcome, with the intermediate strings (for tests and debugging; they contain no
// secret, but the session token appears in canonical_request when one is used).
struct SignedRequest {
  std::string amz_date;           // YYYYMMDDTHHMMSSZ
  std::string canonical_request;  // §3 step 6
  std::string string_to_sign;     // §3 step 7
  std::string signed_headers;     // "content-type;host;x-amz-date"
  std::string signature;          // lower-case hex
  std::string authorization;      // the Authorization header value
  // Headers the caller sets before sending, replacing any of the same name (case-insensitive):
  // X-Amz-Date, X-Amz-Security-Token (only with a session token), Authorization.
  HttpHeaders headers_to_set;
};

// Signs with the credentials (derives the key). Errors (kInvalidArgument): no Host header, an
// X-Amz-Content-Sha256 header that differs from the payload hash.
Result<SignedRequest> SignRequest(const SigningRequest& request, const Credentials& credentials);

// Signs with a cached key. The key's date, region and service must match the request (a key
// from yesterday fails with kInvalidArgument: derive a new one).
Result<SignedRequest> SignRequestWithKey(const SigningRequest& request,
                                         std::string_view access_key_id,
                                         const std::optional<Secret>& session_token,
                                         const SigningKey& key);

// "YYYYMMDDTHHMMSSZ" for `t` (UTC, truncated to the second).
std::string FormatAmzDate(SystemTime t);
// Inverse of FormatAmzDate; nullopt when malformed.
std::optional<SystemTime> ParseAmzDate(std::string_view s);

// §3 step 3: normalise the wire path and percent-encode it (again). "" and "/" give "/".
std::string CanonicalUri(std::string_view wire_path);
// §3 step 4: decode each name/value, re-encode, sort. "" gives "".
std::string CanonicalQuery(std::string_view raw_query);
// §3 step 5 value rule: trim, CR/LF to space, runs of spaces/tabs to one space.
std::string NormalizeHeaderValue(std::string_view value);
// True for headers that must never be signed (authorization, user-agent, expect,
// transfer-encoding, connection, x-amzn-trace-id); `lower_name` is lower-case.
bool IsNeverSignedHeader(std::string_view lower_name);

// ---------------------------------------------------------------------------------------------
// Verification (used by the fake AWS).

// What the verifier knows about a key id.
struct KeyInfo {
  Secret secret;
  // Set for temporary keys: the request must carry exactly this X-Amz-Security-Token.
  std::optional<Secret> session_token;
  std::optional<SystemTime> expires_at;  // temporary keys: ExpiredToken at or after this time
  bool revoked = false;                  // deleted or deactivated: UnrecognizedClient
};

// Returns what is known about `access_key_id`, or nullopt when the key does not exist.
using KeyLookup = std::function<std::optional<KeyInfo>(std::string_view access_key_id)>;

struct ReceivedRequest {
  std::string_view method;
  std::string_view path;   // raw path as received (still encoded once)
  std::string_view query;  // raw query without '?'
  std::span<const HttpHeader> headers;
  std::string_view body;
};

struct VerifyPolicy {
  std::string_view service;  // expected scope service ("bedrock" or "sts")
  std::string_view region;   // expected scope region
  SystemTime now;            // the verifier's clock
  std::chrono::seconds max_clock_skew{300};
};

enum class AuthErrorKind {
  kMissingAuthenticationToken,  // no Authorization header
  kIncompleteSignature,         // Authorization or X-Amz-Date malformed or incomplete
  kUnrecognizedClient,          // unknown / revoked key id, wrong or missing session token
  kInvalidSignature,            // wrong scope, clock skew ("Signature expired"), bad signature
  kExpiredToken,                // temporary credentials past their expiry
};

// A rejection as AWS would send it: the error name differs for STS (query protocol).
struct AuthFailure {
  AuthErrorKind kind;
  std::string error_name;  // "InvalidSignatureException", or for sts "SignatureDoesNotMatch"
  int http_status = 403;
  std::string message;  // AWS-like wording; never contains a secret or signature
};

// Lets boost::system::result<T, AuthFailure>::value() throw (programmer error; check first).
[[noreturn]] void throw_exception_from_error(const AuthFailure& e,
                                             const boost::source_location& loc);

struct VerifiedRequest {
  std::string access_key_id;
  std::string signed_headers;  // as listed in Authorization
  bool is_temporary = false;
};

using VerifyResult = boost::system::result<VerifiedRequest, AuthFailure>;

// Verifies a received request per §3 and §10. Checks, in order: Authorization present; its
// syntax; X-Amz-Date present and well formed; scope date/region/service/terminator; key known
// and not revoked; clock within ±max_clock_skew; session token (temporary keys) present, equal
// and not expired; host signed; X-Amz-Content-Sha256 (if sent) equals the body hash; signature.
VerifyResult VerifyRequest(const ReceivedRequest& request, const VerifyPolicy& policy,
                           const KeyLookup& lookup);

}  // namespace mg::aws
