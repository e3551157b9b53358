#include "providers/aws/bedrock_errors.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mg::aws {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool IsKnownCause(std::string_view cause) {
  const auto all = AllHealthCauses();
  return std::find(all.begin(), all.end(), cause) != all.end();
}

// One row of bedrock.md §7.2 (AWS-reply rows).
struct TableRow {
  std::string label;
  std::string name;
  int status;
  std::string message;
  ErrorCode code;
  std::string reason;
  std::string cause;
  RetryAdvice retry;
};

std::ostream& operator<<(std::ostream& os, const TableRow& r) { return os << r.label; }

const std::vector<TableRow>& Table() {
  static const auto* rows = new std::vector<TableRow>{
      {"UnrecognizedClient", "UnrecognizedClientException", 403,
       "The security token included in the request is invalid.", ErrorCode::kUpstreamError,
       "upstream_auth_failed", "credentials_invalid", RetryAdvice::kNo},
      {"InvalidSignature", "InvalidSignatureException", 403,
       "The request signature we calculated does not match the signature you provided.",
       ErrorCode::kUpstreamError, "upstream_auth_failed", "credentials_invalid", RetryAdvice::kNo},
      {"InvalidSignatureClock", "InvalidSignatureException", 403,
       "Signature expired: 20240501T122955Z is now earlier than 20240501T122956Z "
       "(20240501T123456Z - 5 min.)",
       ErrorCode::kUpstreamError, "upstream_auth_failed", "credentials_invalid", RetryAdvice::kNo},
      {"IncompleteSignature", "IncompleteSignatureException", 400,
       "Authorization header requires 'Signature' parameter.", ErrorCode::kUpstreamError,
       "upstream_auth_failed", "credentials_invalid", RetryAdvice::kNo},
      {"MissingAuthenticationToken", "MissingAuthenticationTokenException", 403,
       "Missing Authentication Token", ErrorCode::kUpstreamError, "upstream_error",
       "credentials_invalid", RetryAdvice::kNo},
      {"ExpiredTokenStatic", "ExpiredTokenException", 403,
       "The security token included in the request is expired", ErrorCode::kUpstreamError,
       "upstream_auth_failed", "credentials_invalid", RetryAdvice::kNo},
      {"AccessDeniedIam", "AccessDeniedException", 403,
       "User: arn:aws:iam::123456789012:user/gw is not authorized to perform: "
       "bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1::foundation-model/x",
       ErrorCode::kUpstreamError, "upstream_auth_failed", "permission_denied", RetryAdvice::kNo},
      {"AccessDeniedModelAccess", "AccessDeniedException", 403,
       "You don't have access to the model with the specified model ID.", ErrorCode::kUpstreamError,
       "upstream_auth_failed", "permission_denied", RetryAdvice::kNo},
      {"ResourceNotFoundLegacy", "ResourceNotFoundException", 404,
       "This model version has reached the end of its life. Please refer to the AWS "
       "documentation for more details.",
       ErrorCode::kUpstreamError, "upstream_error", "model_deprecated", RetryAdvice::kNo},
      {"ResourceNotFoundLegacyWord", "ResourceNotFoundException", 404,
       "Access denied. This Model is marked by provider as Legacy and you have not been "
       "actively using the model in the last 30 days.",
       ErrorCode::kUpstreamError, "upstream_error", "model_deprecated", RetryAdvice::kNo},
      {"ResourceNotFoundOther", "ResourceNotFoundException", 404, "Model not found in this region.",
       ErrorCode::kUpstreamError, "upstream_error", "model_not_available_in_region",
       RetryAdvice::kNo},
      {"ValidationOnDemand", "ValidationException", 400,
       "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand "
       "throughput isn\u2019t supported. Retry your request with the ID or ARN of an inference "
       "profile that contains this model.",
       ErrorCode::kUpstreamError, "upstream_error", "model_not_available_in_region",
       RetryAdvice::kNo},
      {"ValidationBadId", "ValidationException", 400, "The provided model identifier is invalid.",
       ErrorCode::kUpstreamError, "upstream_error", "model_not_available_in_region",
       RetryAdvice::kNo},
      {"ValidationOther", "ValidationException", 400,
       "1 validation error detected: Value '1.5' at 'inferenceConfig.temperature' failed to "
       "satisfy constraint: Member must have value less than or equal to 1",
       ErrorCode::kInvalidArgument, "upstream_invalid_request", "model_rejected_request",
       RetryAdvice::kNo},
      {"Throttling", "ThrottlingException", 429, "Too many requests, please wait.",
       ErrorCode::kRateLimited, "upstream_rate_limited", "throttled", RetryAdvice::kYes},
      {"ServiceQuotaExceeded", "ServiceQuotaExceededException", 400, "Quota exceeded.",
       ErrorCode::kRateLimited, "upstream_rate_limited", "throttled", RetryAdvice::kNo},
      {"ModelNotReady", "ModelNotReadyException", 429, "Model is not ready.",
       ErrorCode::kUnavailable, "model_unavailable", "provider_unavailable", RetryAdvice::kYes},
      {"ModelTimeout", "ModelTimeoutException", 408, "Model timed out.", ErrorCode::kTimeout,
       "upstream_timeout", "timeout", RetryAdvice::kYes},
      {"ModelError", "ModelErrorException", 424, "The model failed.", ErrorCode::kUpstreamError,
       "upstream_error", "provider_unavailable", RetryAdvice::kYes},
      {"ModelStreamError", "ModelStreamErrorException", 424, "Stream failed.",
       ErrorCode::kUpstreamError, "upstream_error", "provider_unavailable", RetryAdvice::kNo},
      {"InternalServer", "InternalServerException", 500, "Internal error.",
       ErrorCode::kUpstreamError, "upstream_error", "provider_unavailable", RetryAdvice::kYes},
      {"ServiceUnavailable", "ServiceUnavailableException", 503, "Service unavailable.",
       ErrorCode::kUpstreamError, "upstream_error", "provider_unavailable", RetryAdvice::kYes},
      {"StsAccessDenied", "AccessDenied", 403,
       "User: arn:aws:iam::111122223333:user/gw is not authorized to perform: sts:AssumeRole on "
       "resource: arn:aws:iam::123456789012:role/BedrockGatewayRole",
       ErrorCode::kUpstreamError, "upstream_auth_failed", "permission_denied", RetryAdvice::kNo},
      {"StsInvalidClientTokenId", "InvalidClientTokenId", 403,
       "The security token included in the request is invalid.", ErrorCode::kUpstreamError,
       "upstream_auth_failed", "credentials_invalid", RetryAdvice::kNo},
      {"StsSignatureDoesNotMatch", "SignatureDoesNotMatch", 403, "Signature mismatch.",
       ErrorCode::kUpstreamError, "upstream_auth_failed", "credentials_invalid", RetryAdvice::kNo},
      {"StsExpiredToken", "ExpiredToken", 400,
       "The security token included in the request is expired", ErrorCode::kUpstreamError,
       "upstream_auth_failed", "credentials_invalid", RetryAdvice::kNo},
      {"StsRegionDisabled", "RegionDisabledException", 403,
       "STS is not activated in this region for account:123456789012.", ErrorCode::kUpstreamError,
       "upstream_auth_failed", "permission_denied", RetryAdvice::kNo},
      {"StsThrottling", "Throttling", 400, "Rate exceeded", ErrorCode::kRateLimited,
       "upstream_rate_limited", "throttled", RetryAdvice::kYes},
      {"StsInternalFailure", "InternalFailure", 500, "", ErrorCode::kUpstreamError,
       "upstream_error", "provider_unavailable", RetryAdvice::kYes},
      {"Other4xx", "SomethingNewException", 409, "new", ErrorCode::kUpstreamError, "upstream_error",
       "permission_denied", RetryAdvice::kNo},
      {"Other5xx", "SomethingNewException", 502, "new", ErrorCode::kUpstreamError, "upstream_error",
       "provider_unavailable", RetryAdvice::kYes},
      {"Unnamed5xx", "", 500, "", ErrorCode::kUpstreamError, "upstream_error",
       "provider_unavailable", RetryAdvice::kYes},
  };
  return *rows;
}

class ClassifyTable : public ::testing::TestWithParam<TableRow> {};

TEST_P(ClassifyTable, MatchesBedrockSpecSection72) {
  const TableRow& row = GetParam();
  const AwsErrorClass c = ClassifyAwsError(AwsError{row.status, row.name, row.message, {}});
  EXPECT_EQ(c.error.code, row.code);
  EXPECT_EQ(c.error.reason, row.reason);
  EXPECT_EQ(c.error.health_cause, row.cause);
  EXPECT_TRUE(IsKnownCause(c.error.health_cause)) << c.error.health_cause;
  EXPECT_EQ(c.retry, row.retry);
  EXPECT_EQ(c.retryable(), row.retry == RetryAdvice::kYes);
  EXPECT_EQ(c.error.no_retry, row.reason == "upstream_auth_failed");
  EXPECT_EQ(c.error.retry_after.has_value(),
            row.code == ErrorCode::kRateLimited || row.code == ErrorCode::kUnavailable);
  if (!row.name.empty()) {
    EXPECT_NE(c.error.message.find(row.name), std::string::npos) << c.error.message;
    EXPECT_NE(c.error.health_message.find(row.name), std::string::npos);
  }
  // Nothing identifying reaches clients or admins.
  for (const std::string& text : {c.error.message, c.error.health_message}) {
    EXPECT_EQ(text.find("123456789012"), std::string::npos) << text;
    EXPECT_EQ(text.find("111122223333"), std::string::npos) << text;
    EXPECT_EQ(text.find("arn:aws"), std::string::npos) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, ClassifyTable, ::testing::ValuesIn(Table()),
                         [](const auto& info) { return info.param.label; });

TEST(ClassifyAwsError, HealthMessagesSaySpecificThings) {
  auto clock = ClassifyAwsError({403,
                                 "InvalidSignatureException",
                                 "Signature not yet current: 20240501T124000Z is still later "
                                 "than 20240501T123956Z (20240501T123456Z + 5 min.)",
                                 {}});
  EXPECT_NE(clock.error.health_message.find("clock"), std::string::npos);
  auto secret = ClassifyAwsError({403, "InvalidSignatureException", "does not match", {}});
  EXPECT_EQ(secret.error.health_message.find("clock"), std::string::npos);
  EXPECT_NE(secret.error.health_message.find("secret"), std::string::npos);
  auto signing = ClassifyAwsError({403, "IncompleteSignatureException", "", {}});
  EXPECT_NE(signing.error.health_message.find("signing error"), std::string::npos);
  auto expired = ClassifyAwsError({403, "ExpiredTokenException", "", {}});
  EXPECT_NE(expired.error.health_message.find("expired"), std::string::npos);
  auto access = ClassifyAwsError({403, "AccessDeniedException", "You don't have access", {}});
  EXPECT_NE(access.error.health_message.find("enable model access"), std::string::npos);
  auto role = ClassifyAwsError({403, "AccessDenied", "not authorized", {}});
  EXPECT_NE(role.error.health_message.find("cannot assume role"), std::string::npos);
  auto model = ClassifyAwsError({424, "ModelErrorException", "boom", 500});
  EXPECT_NE(model.error.health_message.find("500"), std::string::npos);
}

TEST(ClassifyAwsError, MessageMatchingIsCaseInsensitive) {
  auto legacy = ClassifyAwsError({404, "ResourceNotFoundException", "marked as LEGACY", {}});
  EXPECT_EQ(legacy.error.health_cause, "model_deprecated");
  auto iam = ClassifyAwsError(
      {403, "AccessDeniedException", "user IS NOT AUTHORIZED TO PERFORM: bedrock:x", {}});
  EXPECT_NE(iam.error.health_message.find("IAM"), std::string::npos);
}

TEST(ClassifyAwsError, ExpiredTokenWithRoleCredentialsReassumesOnce) {
  auto c = ClassifyAwsError({403, "ExpiredTokenException", "expired", {}},
                            ClassifyOptions{.role_credentials = true});
  EXPECT_EQ(c.retry, RetryAdvice::kReassumeRole);
  EXPECT_FALSE(c.retryable());
  EXPECT_EQ(c.error.reason, "upstream_auth_failed");
}

TEST(ClassifyAwsError, NeverRetriesMidStream) {
  auto c = ClassifyAwsError({0, "ThrottlingException", "slow down", {}},
                            ClassifyOptions{.mid_stream = true});
  EXPECT_EQ(c.retry, RetryAdvice::kNo);
  EXPECT_EQ(c.error.health_cause, "throttled");
}

TEST(ClassifyAwsError, OnlyInvalidRequestsShowTheAwsTextToClients) {
  auto v = ClassifyAwsError({400, "ValidationException", "temperature must be <= 1", {}});
  EXPECT_NE(v.error.message.find("temperature must be <= 1"), std::string::npos);
  auto a = ClassifyAwsError({403, "UnrecognizedClientException", "token invalid", {}});
  EXPECT_EQ(a.error.message.find("token invalid"), std::string::npos);
  EXPECT_NE(a.error.health_message.find("token invalid"), std::string::npos);
}

TEST(ClassifyAwsError, NonAwsRows) {
  auto net = NetworkFailure("connection refused to 10.0.0.1:443");
  EXPECT_EQ(net.error.health_cause, "network");
  EXPECT_EQ(net.error.reason, "upstream_error");
  EXPECT_EQ(net.error.code, ErrorCode::kUpstreamError);
  EXPECT_TRUE(net.retryable());
  EXPECT_NE(net.error.health_message.find("connection refused"), std::string::npos);

  auto timeout = TimeoutFailure("120 s");
  EXPECT_EQ(timeout.error.health_cause, "timeout");
  EXPECT_EQ(timeout.error.code, ErrorCode::kTimeout);
  EXPECT_EQ(timeout.error.reason, "upstream_timeout");
  EXPECT_TRUE(timeout.retryable());

  auto protocol = ProtocolFailure("event-stream: message CRC mismatch");
  EXPECT_EQ(protocol.error.health_cause, "provider_unavailable");
  EXPECT_EQ(protocol.error.reason, "upstream_error");
  EXPECT_FALSE(protocol.retryable());
}

TEST(CleanAwsErrorName, DropsNamespacesAndSuffixes) {
  EXPECT_EQ(
      CleanAwsErrorName(
          "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/"),
      "InvalidSignatureException");
  EXPECT_EQ(CleanAwsErrorName("com.amazonaws.bedrock#ThrottlingException"), "ThrottlingException");
  EXPECT_EQ(CleanAwsErrorName("aws.protocols#x#ValidationException:extra"), "ValidationException");
  EXPECT_EQ(CleanAwsErrorName(" AccessDeniedException "), "AccessDeniedException");
  EXPECT_EQ(CleanAwsErrorName(""), "");
}

TEST(ParseJsonError, HeaderWinsThenTypeThenCode) {
  auto h = ParseJsonError(403, "UnrecognizedClientException:http://internal.amazon.com/coral/",
                          R"({"message":"The security token included in the request is invalid.",
                              "__type":"com.amazon#Other"})");
  EXPECT_EQ(h.name, "UnrecognizedClientException");
  EXPECT_EQ(h.message, "The security token included in the request is invalid.");
  EXPECT_EQ(h.http_status, 403);

  auto t = ParseJsonError(400, "", R"({"__type":"com.amazon.bedrock#ValidationException:x",
                                       "Message":"capitalised"})");
  EXPECT_EQ(t.name, "ValidationException");
  EXPECT_EQ(t.message, "capitalised");

  auto c = ParseJsonError(429, "", R"({"code":"ThrottlingException","message":"m","x":1})");
  EXPECT_EQ(c.name, "ThrottlingException");

  auto m = ParseJsonError(424, "ModelErrorException",
                          R"({"message":"m","originalStatusCode":503,"resourceName":"r"})");
  EXPECT_EQ(m.original_status_code, 503);
}

TEST(ParseJsonError, ToleratesBodiesThatAreNotJson) {
  auto html = ParseJsonError(502, "", "<html>Bad Gateway</html>");
  EXPECT_EQ(html.name, "");
  EXPECT_EQ(html.message, "");
  EXPECT_EQ(ClassifyAwsError(html).error.health_cause, "provider_unavailable");
  auto array = ParseJsonError(400, "ValidationException", "[1,2]");
  EXPECT_EQ(array.name, "ValidationException");
  auto wrong_types = ParseJsonError(400, "", R"({"__type":5,"message":null})");
  EXPECT_EQ(wrong_types.name, "");
}

// ---------------------------------------------------------------------------------------------
// Event-stream exception frames (tests/data/eventstream).

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

EventMessage Frame(std::string_view file) {
  auto m = DecodeMessage(ReadFile(fs::path(MG_TEST_DATA_DIR) / "eventstream" / file));
  EXPECT_TRUE(m.has_value()) << file;
  return m ? *m : EventMessage{};
}

TEST(ParseEventStreamError, ExceptionFramesMapToTheirRows) {
  struct Want {
    const char* file;
    const char* name;
    const char* cause;
  };
  for (const Want& w : {
           Want{"exception-throttlingException.bin", "ThrottlingException", "throttled"},
           Want{"exception-validationException.bin", "ValidationException",
                "model_rejected_request"},
           Want{"exception-modelStreamErrorException.bin", "ModelStreamErrorException",
                "provider_unavailable"},
           Want{"exception-internalServerException.bin", "InternalServerException",
                "provider_unavailable"},
           Want{"exception-serviceUnavailableException.bin", "ServiceUnavailableException",
                "provider_unavailable"},
       }) {
    auto e = ParseEventStreamError(Frame(w.file));
    ASSERT_TRUE(e.has_value()) << w.file;
    EXPECT_EQ(e->name, w.name);
    EXPECT_EQ(e->http_status, 0);
    EXPECT_FALSE(e->message.empty()) << w.file;
    auto c = ClassifyAwsError(*e, ClassifyOptions{.mid_stream = true});
    EXPECT_EQ(c.error.health_cause, w.cause) << w.file;
    EXPECT_EQ(c.retry, RetryAdvice::kNo);
  }
  auto throttled = ParseEventStreamError(Frame("exception-throttlingException.bin"));
  EXPECT_EQ(throttled->message, "Too many tokens, please wait before trying again.");
}

TEST(ParseEventStreamError, UnmodeledErrorFrame) {
  const EventMessage m = Frame("error-unmodeled.bin");
  auto e = ParseEventStreamError(m);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name, CleanAwsErrorName(*m.Header(":error-code")));
  EXPECT_EQ(e->message, *m.Header(":error-message"));
  auto c = ClassifyAwsError(*e, ClassifyOptions{.mid_stream = true});
  EXPECT_TRUE(IsKnownCause(c.error.health_cause));
  EXPECT_EQ(c.error.reason, "upstream_error");
}

TEST(ParseEventStreamError, EventFramesAreNotErrors) {
  EXPECT_FALSE(ParseEventStreamError(Frame("text-01-messageStart.bin")).has_value());
  EXPECT_FALSE(ParseEventStreamError(EventMessage{}).has_value());
}

// ---------------------------------------------------------------------------------------------

TEST(SanitizeAwsMessage, RemovesKeyIdsAccountsArnsAndSecrets) {
  EXPECT_EQ(SanitizeAwsMessage("User: arn:aws:iam::111122223333:user/gw is not authorized to "
                               "perform: sts:AssumeRole on resource: "
                               "arn:aws:iam::123456789012:role/BedrockGatewayRole."),
            "User: <arn> is not authorized to perform: sts:AssumeRole on resource: <arn>.");
  EXPECT_EQ(SanitizeAwsMessage("key AKIAIOSFODNN7EXAMPLE and ASIAIOSFODNN7EXAMPLE!"),
            "key <key-id> and <key-id>!");
  EXPECT_EQ(SanitizeAwsMessage("account 123456789012, not 1234567890123"),
            "account <account>, not 1234567890123");
  EXPECT_EQ(SanitizeAwsMessage("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here"),
            "secret <redacted> here");
  EXPECT_EQ(SanitizeAwsMessage("Signature expired: 20240501T122955Z is now earlier"),
            "Signature expired: 20240501T122955Z is now earlier");
  EXPECT_EQ(SanitizeAwsMessage("model anthropic.claude-3-haiku-20240307-v1:0 ok"),
            "model anthropic.claude-3-haiku-20240307-v1:0 ok");
  EXPECT_EQ(SanitizeAwsMessage("  "), "");
  const std::string long_text(2000, 'a');
  EXPECT_LE(SanitizeAwsMessage(std::string(2000, 'a') + " x").size(), 520u);
  EXPECT_LE(SanitizeAwsMessage(std::string(300, ' ') + std::string(300, 'b') + " x").size(), 520u);
}

TEST(SanitizeAwsMessage, AppliesToClassifiedMessages) {
  auto c = ClassifyAwsError({400,
                             "ValidationException",
                             "Role arn:aws:iam::123456789012:role/x with key "
                             "AKIAIOSFODNN7EXAMPLE is invalid",
                             {}});
  EXPECT_EQ(c.error.message.find("AKIA"), std::string::npos);
  EXPECT_EQ(c.error.health_message.find("AKIA"), std::string::npos);
  EXPECT_NE(c.error.message.find("<arn>"), std::string::npos);
}

TEST(HealthCauses, AreTheAdminApiList) {
  EXPECT_EQ(AllHealthCauses().size(), 9u);
  for (const char* c : {"credentials_invalid", "permission_denied", "model_not_available_in_region",
                        "model_deprecated", "throttled", "provider_unavailable", "timeout",
                        "network", "model_rejected_request"}) {
    EXPECT_TRUE(IsKnownCause(c)) << c;
  }
}

}  // namespace
}  // namespace mg::aws
