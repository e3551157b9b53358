// Request building and signing for the Bedrock provider (no network): operation paths, headers,
// temporary credentials, endpoint overrides, and signatures the verifier accepts.
#include "providers/bedrock/signed_request.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "providers/aws/endpoints.h"
#include "providers/aws/sigv4.h"

namespace mg::providers::bedrock {
namespace {

using namespace std::chrono_literals;

const SystemTime kNow = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + 12h + 34min + 56s;

std::optional<std::string_view> FindHeader(const net::ClientRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return v;
    }
  }
  return std::nullopt;
}

aws::Endpoint Resolve(aws::AwsService service, std::optional<std::string> override_url = {}) {
  auto env = [override_url](std::string_view name) -> std::optional<std::string> {
    if (name == "AWS_ENDPOINT_URL" && override_url) return override_url;
    return std::nullopt;
  };
  auto ep = aws::ResolveEndpoint(service, "us-east-1", env);
  EXPECT_TRUE(ep.has_value());
  return *ep;
}

aws::Credentials Static() {
  return {"AKIDEXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), std::nullopt};
}

// Verifies `r` with the same algorithm the fake uses.
aws::VerifyResult Verify(const net::ClientRequest& r, const aws::Credentials& c,
                         std::string_view service = "bedrock") {
  const std::string_view target = r.target;
  const size_t q = target.find('?');
  aws::ReceivedRequest rr;
  rr.method = r.method;
  rr.path = target.substr(0, q);
  rr.query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  rr.headers = r.headers;
  rr.body = r.body;
  aws::VerifyPolicy policy{service, "us-east-1", kNow};
  return aws::VerifyRequest(rr, policy, [&](std::string_view id) -> std::optional<aws::KeyInfo> {
    if (id != c.access_key_id) return std::nullopt;
    aws::KeyInfo info;
    info.secret = c.secret_access_key;
    info.session_token = c.session_token;
    return info;
  });
}

TEST(ConversePath, EncodesPlainIdWithColon) {
  EXPECT_EQ(ConversePath("anthropic.claude-3-haiku-20240307-v1:0"),
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
  EXPECT_EQ(ConverseStreamPath("us.anthropic.claude-3-5-sonnet-20241022-v2:0"),
            "/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse-stream");
}

TEST(ConversePath, EncodesArnAsOneSegment) {
  EXPECT_EQ(ConversePath("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0"),
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2Famazon.nova-lite-v1%3A0"
            "/converse");
  EXPECT_EQ(ConversePath("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
                         "us.anthropic.claude-sonnet-4-20250514-v1:0"),
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
            "us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse");
}

TEST(BuildSignedRequest, DefaultRuntimeHostAndHeaders) {
  UnsignedRequest u{"POST", ConversePath("amazon.nova-lite-v1:0"), "", R"({"messages":[]})",
                    "application/json", ""};
  auto r = BuildSignedRequest(u, Resolve(aws::AwsService::kBedrockRuntime), Static(), kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->endpoint.scheme, "https");
  EXPECT_EQ(r->endpoint.host, "bedrock-runtime.us-east-1.amazonaws.com");
  EXPECT_EQ(r->endpoint.port, 443);
  EXPECT_EQ(r->target, "/model/amazon.nova-lite-v1%3A0/converse");
  EXPECT_EQ(FindHeader(*r, "Host"), "bedrock-runtime.us-east-1.amazonaws.com");
  EXPECT_EQ(FindHeader(*r, "Content-Type"), "application/json");
  EXPECT_EQ(FindHeader(*r, "X-Amz-Date"), "20240501T123456Z");
  EXPECT_FALSE(FindHeader(*r, "X-Amz-Security-Token").has_value());
  auto auth = FindHeader(*r, "Authorization");
  ASSERT_TRUE(auth.has_value());
  EXPECT_EQ(auth->rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/bedrock/"
                        "aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=",
                        0),
            0u);
  EXPECT_EQ(r->body, R"({"messages":[]})");
  EXPECT_TRUE(Verify(*r, Static()).has_value());
}

TEST(BuildSignedRequest, CachedSigningKeySignsExactlyLikeDerivingIt) {
  UnsignedRequest u{"POST", ConversePath("amazon.nova-lite-v1:0"), "", R"({"messages":[]})",
                    "application/json", ""};
  const aws::Endpoint ep = Resolve(aws::AwsService::kBedrockRuntime);
  const aws::SigningKey key = aws::DeriveSigningKey(Static().secret_access_key, "20240501",
                                                    ep.signing_region, ep.signing_service);
  auto derived = BuildSignedRequest(u, ep, Static(), kNow);
  auto cached = BuildSignedRequest(u, ep, Static(), kNow, &key);
  ASSERT_TRUE(derived.has_value());
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(FindHeader(*cached, "Authorization"), FindHeader(*derived, "Authorization"));
  EXPECT_TRUE(Verify(*cached, Static()).has_value());
  // A key of another day is refused rather than producing a signature AWS would reject.
  const aws::SigningKey stale = aws::DeriveSigningKey(Static().secret_access_key, "20240430",
                                                      ep.signing_region, ep.signing_service);
  EXPECT_FALSE(BuildSignedRequest(u, ep, Static(), kNow, &stale).has_value());
}

TEST(BuildSignedRequest, ControlPlaneSignsAsBedrock) {
  UnsignedRequest u{"GET", std::string(kListFoundationModelsPath), "byOutputModality=TEXT", "",
                    "", ""};
  auto r = BuildSignedRequest(u, Resolve(aws::AwsService::kBedrock), Static(), kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->endpoint.host, "bedrock.us-east-1.amazonaws.com");
  EXPECT_EQ(r->target, "/foundation-models?byOutputModality=TEXT");
  EXPECT_FALSE(FindHeader(*r, "Content-Type").has_value());
  EXPECT_NE(FindHeader(*r, "Authorization")->find("/us-east-1/bedrock/aws4_request"),
            std::string_view::npos);
  EXPECT_TRUE(Verify(*r, Static()).has_value());
}

TEST(BuildSignedRequest, TemporaryCredentialsSendSignedSecurityToken) {
  aws::Credentials temp{"ASIAEXAMPLE123456789", Secret("tempsecret"), Secret("IQoJb3JpZ2luTOKEN")};
  UnsignedRequest u{"POST", ConverseStreamPath("amazon.nova-lite-v1:0"), "", "{}",
                    "application/json", "application/vnd.amazon.eventstream"};
  auto r = BuildSignedRequest(u, Resolve(aws::AwsService::kBedrockRuntime), temp, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(FindHeader(*r, "X-Amz-Security-Token"), "IQoJb3JpZ2luTOKEN");
  EXPECT_NE(FindHeader(*r, "Authorization")->find("x-amz-security-token"),
            std::string_view::npos);
  EXPECT_TRUE(Verify(*r, temp).has_value());
  // A verifier expecting another token rejects it: the token is part of what is signed.
  aws::Credentials other = temp;
  other.session_token = Secret("different");
  EXPECT_FALSE(Verify(*r, other).has_value());
}

TEST(BuildSignedRequest, EndpointOverrideKeepsSigningScopeAndPrefixesPath) {
  UnsignedRequest u{"POST", ConversePath("amazon.nova-lite-v1:0"), "", "{}", "application/json",
                    ""};
  auto ep = Resolve(aws::AwsService::kBedrockRuntime, "http://127.0.0.1:8080/base/");
  auto r = BuildSignedRequest(u, ep, Static(), kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->endpoint.scheme, "http");
  EXPECT_EQ(r->endpoint.host, "127.0.0.1");
  EXPECT_EQ(r->endpoint.port, 8080);
  EXPECT_EQ(r->target, "/base/model/amazon.nova-lite-v1%3A0/converse");
  EXPECT_EQ(FindHeader(*r, "Host"), "127.0.0.1:8080");
  EXPECT_NE(FindHeader(*r, "Authorization")->find("/us-east-1/bedrock/aws4_request"),
            std::string_view::npos);
  EXPECT_TRUE(Verify(*r, Static()).has_value());
}

TEST(BuildSignedRequest, WrongSecretFailsVerification) {
  UnsignedRequest u{"GET", std::string(kListFoundationModelsPath), "", "", "", ""};
  auto r = BuildSignedRequest(u, Resolve(aws::AwsService::kBedrock), Static(), kNow);
  ASSERT_TRUE(r.has_value());
  aws::Credentials wrong = Static();
  wrong.secret_access_key = Secret("not-the-secret");
  auto v = Verify(*r, wrong);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().error_name, "InvalidSignatureException");
}

TEST(ToClientRequest, AssumeRoleRequestGoesToStsEndpoint) {
  auto ep = Resolve(aws::AwsService::kSts, "http://127.0.0.1:9000");
  aws::AssumeRoleParams params;
  params.role_arn = "arn:aws:iam::123456789012:role/modelgate-test";
  auto built = aws::BuildAssumeRoleRequest(params, ep, Static(), kNow);
  ASSERT_TRUE(built.has_value());
  net::ClientRequest r = ToClientRequest(std::move(*built), ep);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.endpoint.port, 9000);
  EXPECT_NE(r.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmodelgate-test"),
            std::string::npos);
  EXPECT_TRUE(Verify(r, Static(), "sts").has_value());
}

TEST(TransportFailure, MapsNetworkAndTimeoutToRetryableCauses) {
  auto net_failure = TransportFailure(Error(ErrorCode::kUpstreamError, "network", "reset"));
  EXPECT_TRUE(net_failure.cls.retryable());
  EXPECT_EQ(net_failure.error().health_cause, "network");
  auto timeout = TransportFailure(Error(ErrorCode::kTimeout, "timeout", "idle"));
  EXPECT_TRUE(timeout.cls.retryable());
  EXPECT_EQ(timeout.error().health_cause, "timeout");
  auto too_large =
      TransportFailure(Error(ErrorCode::kUpstreamError, "response_too_large", "big"));
  EXPECT_FALSE(too_large.cls.retryable());
}

TEST(HttpFailure, ClassifiesByErrorTypeHeader) {
  auto f = HttpFailure(429, "ThrottlingException:http://internal.amazon.com/coral/",
                       R"({"message":"Too many requests"})", false);
  EXPECT_TRUE(f.cls.retryable());
  EXPECT_EQ(f.error().health_cause, "throttled");
  auto expired = HttpFailure(403, "ExpiredTokenException", R"({"message":"expired"})", true);
  EXPECT_EQ(expired.cls.retry, aws::RetryAdvice::kReassumeRole);
}

}  // namespace
}  // namespace mg::providers::bedrock
