// @file bedrock_errors.h
// @brief Classifies AWS error replies (Bedrock Runtime, Bedrock control plane, STS, event-stream
// exception frames) into mg::Error per bedrock.md §7: the client-facing code and reason
// (client-api §7.2), the admin-api health cause and message, and whether to retry.
//
// Parsing (§7.1): the name comes from `x-amzn-ErrorType` (up to the first ':'), else from the
// JSON body's `__type` or `code` (after the last '#', before the first ':'); the message from
// `message` or `Message`. Classification is by name, refined by message substrings
// (case-insensitive) where the §7.2 table says so, and falls back to the HTTP status only for
// names the table does not list.
//
// Secrets: every text taken from AWS passes through SanitizeAwsMessage() (key ids, account
// numbers, ARNs and long token-like strings removed) before it reaches Error::message or
// Error::health_message. Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/health_cause.h"
#include "providers/aws/eventstream.h"

namespace mg::aws {

// The health causes (core/health_cause.h), as aws::health_cause::k... here.
namespace health_cause = ::mg::health_cause;

// Every cause above, for validation and tests.
std::span<const std::string_view> AllHealthCauses();

// Wait hint sent with upstream 429/503 answers (Retry-After): AWS gives none, so a short one.
inline constexpr std::chrono::milliseconds kUpstreamRetryAfter{1000};

// An AWS error as received, before classification.
struct AwsError {
  // HTTP status of the reply; 0 for an exception/error frame inside a 200 event stream.
  int http_status = 0;
  std::string name;     // cleaned ("ThrottlingException"); empty when the reply named none
  std::string message;  // AWS's text, unsanitised (may contain account ids and ARNs)
  std::optional<int> original_status_code;  // ModelErrorException / ModelStreamErrorException
};

// What the caller should do about the failed call (§7.2 "Retry" column).
enum class RetryAdvice {
  kNo,
  kYes,           // retry the same call (data plane: max 2 retries with backoff; probe: 1 s, 2 s)
  kReassumeRole,  // role credentials expired: drop the STS cache, re-assume once, retry once
};

struct AwsErrorClass {
  // code/reason/message for clients (message sanitised), no_retry for upstream_auth_failed,
  // retry_after for 429/503, health_cause and health_message (sanitised) for admins.
  Error error;
  RetryAdvice retry = RetryAdvice::kNo;
  bool retryable() const { return retry == RetryAdvice::kYes; }
};

// Options the table depends on.
struct ClassifyOptions {
  // The call used credentials obtained from AssumeRole (ExpiredTokenException → kReassumeRole).
  bool role_credentials = false;
  // The error arrived after stream bytes went out: never retry (§7.2 ModelStreamErrorException).
  bool mid_stream = false;
};

// §7.1 name cleaning: keeps the part after the last '#', then drops anything from the first ':'
// and surrounding spaces. "com.amazon#ThrottlingException:http://x/" → "ThrottlingException".
std::string CleanAwsErrorName(std::string_view raw);

// Parses a non-2xx JSON reply (Bedrock Runtime and control plane). `error_type_header` is the
// `x-amzn-ErrorType` value or empty. A body that is not JSON leaves the message empty.
AwsError ParseJsonError(int http_status, std::string_view error_type_header, std::string_view body);

// Parses an event-stream frame (§5.3): `:message-type` `exception` (name = `:exception-type`
// with its first letter upper-cased, message from the JSON payload) or `error` (`:error-code`,
// `:error-message`). nullopt for `event` frames and frames without a `:message-type`.
std::optional<AwsError> ParseEventStreamError(const EventMessage& message);

// Classifies per the §7.2 table. Never fails.
AwsErrorClass ClassifyAwsError(const AwsError& error, const ClassifyOptions& options = {});

// The §7.2 rows that are not AWS replies. `detail` is our own text (e.g. the resolver's or
// TLS library's message); it is sanitised too.
AwsErrorClass NetworkFailure(std::string_view detail);   // DNS, refused, reset, TLS: retry
AwsErrorClass TimeoutFailure(std::string_view detail);   // no response in time: retry
AwsErrorClass ProtocolFailure(std::string_view detail);  // unparsable 2xx, bad frame: no retry

// Removes what could identify or authenticate an AWS principal: ARNs → "<arn>", access key ids
// (AKIA/ASIA/AROA/AIDA…) → "<key-id>", 12-digit account numbers → "<account>", runs of 40 or
// more base64 characters (secrets, session tokens) → "<redacted>". Also caps the length.
std::string SanitizeAwsMessage(std::string_view text);

}  // namespace mg::aws
