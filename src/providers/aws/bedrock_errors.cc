// AWS error classification per bedrock.md §7 (table §7.2) and client-api §7.2.
#include "providers/aws/bedrock_errors.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/json.hpp>

namespace mg::aws {
namespace {

using std::string_view_literals::operator""sv;

constexpr size_t kMaxMessageChars = 512;

constexpr std::array<std::string_view, 9> kAllCauses = {health_cause::kCredentialsInvalid,
                                                        health_cause::kPermissionDenied,
                                                        health_cause::kModelNotAvailableInRegion,
                                                        health_cause::kModelDeprecated,
                                                        health_cause::kThrottled,
                                                        health_cause::kProviderUnavailable,
                                                        health_cause::kTimeout,
                                                        health_cause::kNetwork,
                                                        health_cause::kModelRejectedRequest};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    bool match = true;
    for (size_t j = 0; j < needle.size(); ++j) {
      if (std::tolower(static_cast<unsigned char>(haystack[i + j])) !=
          std::tolower(static_cast<unsigned char>(needle[j]))) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ContainsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsBase64Char(char c) { return IsAlnum(c) || c == '/' || c == '+' || c == '='; }
bool IsArnStop(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == ',' ||
         c == ';' || c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' ||
         c == '{' || c == '}';
}

// The client-facing part of a row (client-api §7.2).
enum class ClientRow {
  kAuthFailed,        // 502 upstream_auth_failed, x-should-retry: false
  kUpstreamError,     // 502 upstream_error
  kRateLimited,       // 429 upstream_rate_limited
  kModelUnavailable,  // 503 model_unavailable
  kTimeout,           // 504 upstream_timeout
  kInvalidRequest,    // 400 upstream_invalid_request
};

struct Row {
  ClientRow client;
  std::string_view cause;
  RetryAdvice retry;
  std::string_view what;  // admin-facing explanation: what it means, what to check
};

Error ClientError(ClientRow row, std::string message) {
  switch (row) {
    case ClientRow::kAuthFailed: {
      Error e(ErrorCode::kUpstreamError, "upstream_auth_failed", std::move(message));
      e.no_retry = true;
      return e;
    }
    case ClientRow::kUpstreamError:
      return Error(ErrorCode::kUpstreamError, "upstream_error", std::move(message));
    case ClientRow::kRateLimited:
      return Error(ErrorCode::kRateLimited, "upstream_rate_limited", std::move(message))
          .WithRetryAfter(kUpstreamRetryAfter);
    case ClientRow::kModelUnavailable:
      return Error(ErrorCode::kUnavailable, "model_unavailable", std::move(message))
          .WithRetryAfter(kUpstreamRetryAfter);
    case ClientRow::kTimeout:
      return Error(ErrorCode::kTimeout, "upstream_timeout", std::move(message));
    case ClientRow::kInvalidRequest:
      return Error(ErrorCode::kInvalidArgument, "upstream_invalid_request", std::move(message));
  }
  return Error(ErrorCode::kUpstreamError, "upstream_error", std::move(message));
}

// The §7.2 row for an AWS error name (and message where the table splits a name).
Row LookUp(const AwsError& e, const ClassifyOptions& options) {
  const std::string_view name = e.name;
  const std::string_view msg = e.message;
  using health_cause::kCredentialsInvalid;
  using health_cause::kPermissionDenied;
  using health_cause::kProviderUnavailable;
  // Bedrock (JSON protocol) names.
  if (name == "UnrecognizedClientException"sv) {
    return {ClientRow::kAuthFailed, kCredentialsInvalid, RetryAdvice::kNo,
            "the access key id is unknown to AWS (deleted, deactivated, mistyped, or not valid "
            "for this partition); check the credential's access key id"};
  }
  if (name == "InvalidSignatureException"sv) {
    if (StartsWithIgnoreCase(msg, "Signature expired") ||
        StartsWithIgnoreCase(msg, "Signature not yet current")) {
      return {ClientRow::kAuthFailed, kCredentialsInvalid, RetryAdvice::kNo,
              "the gateway's clock is more than 5 minutes off AWS time; fix the host clock "
              "(NTP)"};
    }
    return {ClientRow::kAuthFailed, kCredentialsInvalid, RetryAdvice::kNo,
            "the signature does not match: the secret access key is wrong for this access key "
            "id; check the credential's secret"};
  }
  if (name == "IncompleteSignatureException"sv) {
    return {ClientRow::kAuthFailed, kCredentialsInvalid, RetryAdvice::kNo,
            "signing error: AWS found the request's signature malformed or incomplete (a "
            "gateway bug)"};
  }
  if (name == "MissingAuthenticationTokenException"sv) {
    return {ClientRow::kUpstreamError, kCredentialsInvalid, RetryAdvice::kNo,
            "AWS saw no credentials, or the request path is unknown; check the endpoint URL"};
  }
  if (name == "ExpiredTokenException"sv) {
    return {ClientRow::kAuthFailed, kCredentialsInvalid,
            options.role_credentials ? RetryAdvice::kReassumeRole : RetryAdvice::kNo,
            "the session token has expired; update the credential's session token, or check "
            "the role can still be assumed"};
  }
  if (name == "AccessDeniedException"sv) {
    if (ContainsIgnoreCase(msg, "is not authorized to perform")) {
      return {ClientRow::kAuthFailed, kPermissionDenied, RetryAdvice::kNo,
              "an IAM policy, permission boundary or SCP does not allow this Bedrock action; "
              "check the identity's permissions"};
    }
    return {ClientRow::kAuthFailed, kPermissionDenied, RetryAdvice::kNo,
            "the account has no access to this model in this region; enable model access in "
            "the Bedrock console (and any Marketplace subscription)"};
  }
  if (name == "ResourceNotFoundException"sv) {
    if (ContainsIgnoreCase(msg, "legacy") || ContainsIgnoreCase(msg, "end of its life")) {
      return {ClientRow::kUpstreamError, health_cause::kModelDeprecated, RetryAdvice::kNo,
              "the model is retired or legacy; move to a newer model"};
    }
    return {ClientRow::kUpstreamError, health_cause::kModelNotAvailableInRegion, RetryAdvice::kNo,
            "the model id, ARN or inference profile is not found in this region; check the id "
            "and region"};
  }
  if (name == "ValidationException"sv) {
    if (ContainsIgnoreCase(msg, "on-demand throughput") ||
        ContainsIgnoreCase(msg, "provided model identifier is invalid")) {
      return {ClientRow::kUpstreamError, health_cause::kModelNotAvailableInRegion, RetryAdvice::kNo,
              "the model cannot be called by this id here (it may need an inference profile "
              "id such as us.<model id>, or the id is unknown)"};
    }
    return {ClientRow::kInvalidRequest, health_cause::kModelRejectedRequest, RetryAdvice::kNo,
            "Bedrock rejected the request itself (the credentials work)"};
  }
  if (name == "ThrottlingException"sv) {
    return {ClientRow::kRateLimited, health_cause::kThrottled, RetryAdvice::kYes,
            "a request-rate or token quota was hit; lower the load or raise the quota"};
  }
  if (name == "ServiceQuotaExceededException"sv) {
    return {ClientRow::kRateLimited, health_cause::kThrottled, RetryAdvice::kNo,
            "an account quota is exceeded; request a quota increase"};
  }
  if (name == "ModelNotReadyException"sv) {
    return {ClientRow::kModelUnavailable, kProviderUnavailable, RetryAdvice::kYes,
            "the model is not ready yet (still loading)"};
  }
  if (name == "ModelTimeoutException"sv) {
    return {ClientRow::kTimeout, health_cause::kTimeout, RetryAdvice::kYes,
            "the model took too long to answer"};
  }
  if (name == "ModelErrorException"sv) {
    return {ClientRow::kUpstreamError, kProviderUnavailable, RetryAdvice::kYes,
            "the model failed while processing the request"};
  }
  if (name == "ModelStreamErrorException"sv) {
    return {ClientRow::kUpstreamError, kProviderUnavailable, RetryAdvice::kNo,
            "the model failed in the middle of a stream"};
  }
  if (name == "InternalServerException"sv) {
    return {ClientRow::kUpstreamError, kProviderUnavailable, RetryAdvice::kYes,
            "Bedrock had an internal fault"};
  }
  if (name == "ServiceUnavailableException"sv) {
    return {ClientRow::kUpstreamError, kProviderUnavailable, RetryAdvice::kYes,
            "Bedrock is unavailable or overloaded"};
  }
  // STS (query protocol) codes, §2.1.
  if (name == "AccessDenied"sv) {
    return {ClientRow::kAuthFailed, kPermissionDenied, RetryAdvice::kNo,
            "cannot assume role: the gateway's identity may not assume it (trust policy, "
            "missing sts:AssumeRole, or wrong external id)"};
  }
  if (name == "InvalidClientTokenId"sv || name == "SignatureDoesNotMatch"sv ||
      name == "ExpiredToken"sv || name == "IncompleteSignature"sv ||
      name == "MissingAuthenticationToken"sv) {
    return {ClientRow::kAuthFailed, kCredentialsInvalid, RetryAdvice::kNo,
            "the gateway's own AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
            "AWS_SESSION_TOKEN) are invalid or expired, so the role cannot be assumed"};
  }
  if (name == "RegionDisabledException"sv) {
    return {ClientRow::kAuthFailed, kPermissionDenied, RetryAdvice::kNo,
            "STS is not activated in this region; activate it in IAM account settings"};
  }
  if (name == "Throttling"sv) {
    return {ClientRow::kRateLimited, health_cause::kThrottled, RetryAdvice::kYes,
            "STS throttled AssumeRole"};
  }
  if (name == "InternalFailure"sv || name == "ServiceUnavailable"sv) {
    return {ClientRow::kUpstreamError, kProviderUnavailable, RetryAdvice::kYes,
            "STS is unavailable"};
  }
  // Any other name: by status class. Mid-stream (status 0) counts as a server fault.
  if (e.http_status >= 400 && e.http_status < 500) {
    return {ClientRow::kUpstreamError, kPermissionDenied, RetryAdvice::kNo,
            "AWS rejected the call with an error the gateway does not know"};
  }
  return {ClientRow::kUpstreamError, kProviderUnavailable,
          e.http_status >= 500 ? RetryAdvice::kYes : RetryAdvice::kNo,
          "AWS failed with an error the gateway does not know"};
}

std::string ClientMessage(ClientRow row) {
  switch (row) {
    case ClientRow::kAuthFailed:
      return "The model provider rejected the gateway's credentials for this model.";
    case ClientRow::kUpstreamError:
      return "The model provider returned an error.";
    case ClientRow::kRateLimited:
      return "The model provider is rate limiting requests.";
    case ClientRow::kModelUnavailable:
      return "The model is temporarily unavailable.";
    case ClientRow::kTimeout:
      return "The model provider did not answer in time.";
    case ClientRow::kInvalidRequest:
      return "The model provider rejected the request.";
  }
  return "The model provider returned an error.";
}

AwsErrorClass NonAwsFailure(ClientRow client, std::string_view cause, RetryAdvice retry,
                            std::string_view what, std::string_view detail) {
  AwsErrorClass out;
  out.error = ClientError(client, ClientMessage(client));
  out.error.health_cause = std::string(cause);
  out.error.health_message = std::string(what);
  const std::string clean = SanitizeAwsMessage(detail);
  if (!clean.empty()) out.error.health_message += ": " + clean;
  out.retry = retry;
  return out;
}

std::optional<std::string> JsonString(const boost::json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v != nullptr && v->is_string()) {
    return std::string(v->get_string());
  }
  return std::nullopt;
}

}  // namespace

std::span<const std::string_view> AllHealthCauses() { return kAllCauses; }

std::string CleanAwsErrorName(std::string_view raw) {
  std::string_view s = raw;
  if (const size_t hash = s.rfind('#'); hash != std::string_view::npos) {
    s.remove_prefix(hash + 1);
  }
  if (const size_t colon = s.find(':'); colon != std::string_view::npos) s = s.substr(0, colon);
  return std::string(Trim(s));
}

AwsError ParseJsonError(int http_status, std::string_view error_type_header,
                        std::string_view body) {
  AwsError out;
  out.http_status = http_status;
  out.name = CleanAwsErrorName(error_type_header);
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return out;
  const auto& o = v.get_object();
  if (out.name.empty()) {
    if (auto type = JsonString(o, "__type")) {
      out.name = CleanAwsErrorName(*type);
    } else if (auto code = JsonString(o, "code")) {
      out.name = CleanAwsErrorName(*code);
    }
  }
  if (auto m = JsonString(o, "message")) {
    out.message = std::move(*m);
  } else if (auto cm = JsonString(o, "Message")) {
    out.message = std::move(*cm);
  }
  if (const auto* osc = o.if_contains("originalStatusCode"); osc != nullptr && osc->is_int64()) {
    out.original_status_code = static_cast<int>(osc->get_int64());
  }
  return out;
}

std::optional<AwsError> ParseEventStreamError(const EventMessage& message) {
  const auto type = message.Header(":message-type");
  if (!type) return std::nullopt;
  if (*type == "exception"sv) {
    AwsError out = ParseJsonError(0, "", message.payload);
    std::string name(message.Header(":exception-type").value_or(""));
    if (!name.empty()) {
      name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
      out.name = CleanAwsErrorName(name);
    }
    return out;
  }
  if (*type == "error"sv) {
    AwsError out;
    out.name = CleanAwsErrorName(message.Header(":error-code").value_or(""));
    out.message = std::string(message.Header(":error-message").value_or(""));
    return out;
  }
  return std::nullopt;
}

AwsErrorClass ClassifyAwsError(const AwsError& error, const ClassifyOptions& options) {
  const Row row = LookUp(error, options);
  AwsErrorClass out;
  const std::string name = error.name.empty() ? std::string("an unnamed error") : error.name;
  const std::string clean = SanitizeAwsMessage(error.message);

  std::string client = ClientMessage(row.client);
  // The caller's own input was rejected: show Bedrock's (sanitised) reason so they can fix it.
  // Other rows name the AWS error only; the details go to the admins.
  client += " (Bedrock " + name;
  if (row.client == ClientRow::kInvalidRequest && !clean.empty()) client += ": " + clean;
  client += ")";
  out.error = ClientError(row.client, std::move(client));
  out.error.health_cause = std::string(row.cause);

  std::string health = name;
  if (error.http_status != 0) health += " (HTTP " + std::to_string(error.http_status) + ")";
  health += ": ";
  health += row.what;
  if (error.original_status_code) {
    health += "; the model answered " + std::to_string(*error.original_status_code);
  }
  if (!clean.empty()) health += ". AWS said: " + clean;
  out.error.health_message = std::move(health);

  out.retry = options.mid_stream ? RetryAdvice::kNo : row.retry;
  return out;
}

AwsErrorClass NetworkFailure(std::string_view detail) {
  return NonAwsFailure(ClientRow::kUpstreamError, health_cause::kNetwork, RetryAdvice::kYes,
                       "could not reach AWS (DNS, connection refused or reset, TLS)", detail);
}

AwsErrorClass TimeoutFailure(std::string_view detail) {
  return NonAwsFailure(ClientRow::kTimeout, health_cause::kTimeout, RetryAdvice::kYes,
                       "AWS did not answer within the deadline", detail);
}

AwsErrorClass ProtocolFailure(std::string_view detail) {
  return NonAwsFailure(ClientRow::kUpstreamError, health_cause::kProviderUnavailable,
                       RetryAdvice::kNo, "AWS answered something the gateway cannot parse", detail);
}

std::string SanitizeAwsMessage(std::string_view text) {
  static constexpr std::string_view kKeyPrefixes[] = {"AKIA", "ASIA", "AROA", "AIDA",
                                                      "ANPA", "AGPA", "ABIA", "ACCA"};
  std::string out;
  out.reserve(std::min(text.size(), kMaxMessageChars) + 16);
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const bool boundary = i == 0 || !IsBase64Char(text[i - 1]);
    if (text.substr(i, 4) == "arn:"sv && (i == 0 || !IsAlnum(text[i - 1]))) {
      size_t j = i;
      while (j < n && !IsArnStop(text[j])) ++j;
      while (j > i + 4 && text[j - 1] == '.') --j;  // sentence full stop
      out += "<arn>";
      i = j;
      continue;
    }
    if (boundary && IsBase64Char(text[i])) {
      size_t long_end = i;
      while (long_end < n && IsBase64Char(text[long_end])) ++long_end;
      if (long_end - i >= 40) {
        out += "<redacted>";
        i = long_end;
        continue;
      }
    }
    if ((i == 0 || !IsAlnum(text[i - 1])) && IsAlnum(text[i])) {
      size_t j = i;
      while (j < n && IsAlnum(text[j])) ++j;
      const std::string_view word = text.substr(i, j - i);
      const bool all_digits = std::all_of(word.begin(), word.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      });
      const bool upper_alnum = std::all_of(word.begin(), word.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z');
      });
      const bool key_prefix =
          std::any_of(std::begin(kKeyPrefixes), std::end(kKeyPrefixes),
                      [&](std::string_view p) { return word.substr(0, 4) == p; });
      if (all_digits && word.size() == 12) {
        out += "<account>";
      } else if (key_prefix && upper_alnum && word.size() >= 16) {
        out += "<key-id>";
      } else {
        out.append(word);
      }
      i = j;
      continue;
    }
    out.push_back(text[i]);
    ++i;
  }
  if (out.size() > kMaxMessageChars) {
    out.resize(kMaxMessageChars);
    // Do not leave half a UTF-8 sequence.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) out.pop_back();
    out += "...";
  }
  return std::string(Trim(out));
}

}  // namespace mg::aws
