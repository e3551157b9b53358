#include "providers/aws/sts.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/time.h"

namespace mg::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json::object BedrockCase(std::string_view id) {
  const auto doc =
      json::parse(ReadFile(fs::path(MG_TEST_DATA_DIR) / "sigv4" / "bedrock-cases.json"));
  for (const auto& c : doc.at("cases").as_array()) {
    if (c.at("id").as_string() == id) return c.as_object();
  }
  ADD_FAILURE() << "no case " << id;
  return {};
}

SystemTime At(std::string_view s) { return ParseRfc3339(s).value_or(SystemTime{}); }

Endpoint StsEndpoint(std::string_view region,
                     std::map<std::string, std::string, std::less<>> env = {}) {
  auto ep =
      ResolveEndpoint(AwsService::kSts, region,
                      [env = std::move(env)](std::string_view n) -> std::optional<std::string> {
                        if (auto it = env.find(n); it != env.end()) return it->second;
                        return std::nullopt;
                      });
  EXPECT_TRUE(ep.has_value());
  return ep ? *ep : Endpoint{};
}

std::string HeaderValue(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

// ---------------------------------------------------------------------------------------------
// Request.

TEST(BuildAssumeRoleBody, MatchesTheSpecExample) {
  AssumeRoleParams p{"arn:aws:iam::123456789012:role/BedrockGatewayRole", "", {}};
  EXPECT_EQ(BuildAssumeRoleBody(p),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3A"
            "role%2FBedrockGatewayRole&RoleSessionName=enterprise-gateway&DurationSeconds=3600");
  EXPECT_EQ(BuildAssumeRoleBody(p),
            BedrockCase("sts-assume-role-static-source").at("input").at("body").as_string());
}

TEST(BuildAssumeRoleBody, AddsExternalIdAndEncodes) {
  AssumeRoleParams p{"arn:aws:iam::123456789012:role/r", "gw@tenant 1", "ext:id/1 x", 900};
  EXPECT_EQ(BuildAssumeRoleBody(p),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3A"
            "role%2Fr&RoleSessionName=gw%40tenant%201&ExternalId=ext%3Aid%2F1%20x"
            "&DurationSeconds=900");
}

TEST(BuildAssumeRoleRequest, ReproducesTheJsSignerVectorWithTemporarySource) {
  const json::object c = BedrockCase("sts-assume-role-temporary-source");
  const json::object& in = c.at("input").as_object();
  const json::object& want = c.at("expected").as_object();
  AssumeRoleParams p{
      "arn:aws:iam::210987654321:role/team/BedrockInvoke", "gw@tenant-42", {}, std::nullopt};
  Credentials source{std::string(in.at("access_key_id").as_string()),
                     Secret(std::string(in.at("secret_access_key").as_string())),
                     Secret(std::string(in.at("session_token").as_string()))};
  auto r =
      BuildAssumeRoleRequest(p, StsEndpoint("eu-west-1"), source, At(in.at("date").as_string()));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, in.at("url").as_string());
  EXPECT_EQ(r->path, "/");
  EXPECT_EQ(r->body, in.at("body").as_string());
  const json::object& after = want.at("headers_after_signing").as_object();
  EXPECT_EQ(r->headers.size(), after.size());
  EXPECT_EQ(HeaderValue(r->headers, "Host"), after.at("host").as_string());
  EXPECT_EQ(HeaderValue(r->headers, "Content-Type"), after.at("content-type").as_string());
  EXPECT_EQ(HeaderValue(r->headers, "X-Amz-Date"), after.at("x-amz-date").as_string());
  EXPECT_EQ(HeaderValue(r->headers, "X-Amz-Security-Token"),
            after.at("x-amz-security-token").as_string());
  EXPECT_EQ(HeaderValue(r->headers, "Authorization"), want.at("authorization").as_string());
}

TEST(BuildAssumeRoleRequest, StaticSourceHasNoSecurityTokenAndVerifies) {
  AssumeRoleParams p{"arn:aws:iam::123456789012:role/BedrockGatewayRole", "", "external-1"};
  Credentials source{"AKIAIOSFODNN7EXAMPLE", Secret("src-secret"), {}};
  const SystemTime now = At("2024-05-01T12:34:56Z");
  auto r = BuildAssumeRoleRequest(p, StsEndpoint("us-east-1"), source, now);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(HeaderValue(r->headers, "X-Amz-Security-Token"), "<absent>");
  EXPECT_NE(HeaderValue(r->headers, "Authorization").find("/us-east-1/sts/aws4_request"),
            std::string::npos);

  ReceivedRequest rr{r->method, r->path, "", r->headers, r->body};
  auto v = VerifyRequest(rr, VerifyPolicy{"sts", "us-east-1", now},
                         [](std::string_view id) -> std::optional<KeyInfo> {
                           if (id == "AKIAIOSFODNN7EXAMPLE")
                             return KeyInfo{Secret("src-secret"), {}, {}, false};
                           return std::nullopt;
                         });
  EXPECT_TRUE(v.has_value()) << v.error().message;
}

TEST(BuildAssumeRoleRequest, EndpointOverrideKeepsSigningScope) {
  AssumeRoleParams p{"arn:aws:iam::123456789012:role/BedrockGatewayRole", "", {}};
  Credentials source{"AKIAIOSFODNN7EXAMPLE", Secret("s"), {}};
  auto r = BuildAssumeRoleRequest(
      p, StsEndpoint("us-west-2", {{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566/fake/"}}), source,
      At("2024-05-01T12:34:56Z"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->url, "http://127.0.0.1:4566/fake/");
  EXPECT_EQ(r->path, "/fake/");
  EXPECT_EQ(HeaderValue(r->headers, "Host"), "127.0.0.1:4566");
  EXPECT_NE(HeaderValue(r->headers, "Authorization").find("/us-west-2/sts/aws4_request"),
            std::string::npos);
}

TEST(BuildAssumeRoleRequest, ValidatesInputsWithoutEchoingThem) {
  const Endpoint ep = StsEndpoint("us-east-1");
  const Credentials source{"AKIAIOSFODNN7EXAMPLE", Secret("s"), {}};
  const SystemTime now = At("2024-05-01T12:34:56Z");
  const std::string arn = "arn:aws:iam::123456789012:role/r";
  struct Bad {
    AssumeRoleParams params;
    const char* param;
  };
  for (const Bad& b : {
           Bad{{"", "", {}}, "role_arn"},
           Bad{{"role/BedrockGatewayRole-without-arn", "", {}}, "role_arn"},
           Bad{{arn + " x", "", {}}, "role_arn"},
           Bad{{arn, "x", {}}, "role_session_name"},
           Bad{{arn, std::string(65, 'a'), {}}, "role_session_name"},
           Bad{{arn, "has space", {}}, "role_session_name"},
           Bad{{arn, "", "s3cr3t ext"}, "external_id"},
           Bad{{arn, "", "e"}, "external_id"},
           Bad{{arn, "", std::string(1225, 'e')}, "external_id"},
           Bad{{arn, "", {}, 899}, "duration_seconds"},
           Bad{{arn, "", {}, 43201}, "duration_seconds"},
       }) {
    auto r = BuildAssumeRoleRequest(b.params, ep, source, now);
    ASSERT_FALSE(r.has_value()) << b.param;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().param, b.param);
    EXPECT_EQ(r.error().message.find("s3cr3t"), std::string::npos);
  }
  EXPECT_TRUE(ValidateExternalId("ab+=,.@:/-_9").has_value());
  EXPECT_TRUE(ValidateRoleSessionName("a_+=,.@-9").has_value());
  EXPECT_TRUE(BuildAssumeRoleRequest({arn, "", {}, 43200}, ep, source, now).has_value());

  auto no_source = BuildAssumeRoleRequest({arn, "", {}}, ep, Credentials{}, now);
  ASSERT_FALSE(no_source.has_value());
  EXPECT_NE(no_source.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Success reply.

constexpr std::string_view kSuccess = R"(<?xml version="1.0" encoding="UTF-8"?>
<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLE123456789</AccessKeyId>
      <SecretAccessKey>exampleSecretKeyValue</SecretAccessKey>
      <SessionToken>
        IQoJb3JpZ2luX2VjEXAMPLE/+=
      </SessionToken>
      <Expiration>2024-05-01T13:34:56Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLEID:enterprise-gateway</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/BedrockGatewayRole/enterprise-gateway</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>
)";

TEST(ParseAssumeRoleResponse, TakesTheFourCredentialsTrimmed) {
  auto r = ParseAssumeRoleResponse(kSuccess);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->credentials.access_key_id, "ASIAEXAMPLE123456789");
  EXPECT_EQ(r->credentials.secret_access_key.Reveal(), "exampleSecretKeyValue");
  ASSERT_TRUE(r->credentials.session_token.has_value());
  EXPECT_EQ(r->credentials.session_token->Reveal(), "IQoJb3JpZ2luX2VjEXAMPLE/+=");
  EXPECT_EQ(r->expiration, At("2024-05-01T13:34:56Z"));
  EXPECT_EQ(r->assumed_role_arn,
            "arn:aws:sts::123456789012:assumed-role/BedrockGatewayRole/enterprise-gateway");
}

TEST(ParseAssumeRoleResponse, AcceptsAnyOrderPrefixesEntitiesAndFractionalSeconds) {
  auto r = ParseAssumeRoleResponse(
      "<sts:AssumeRoleResponse xmlns:sts='x'><sts:AssumeRoleResult><sts:Credentials>"
      "<sts:Expiration>2024-05-01T13:34:56.000Z</sts:Expiration>"
      "<!-- comment --><sts:SessionToken><![CDATA[tok<en>]]></sts:SessionToken>"
      "<sts:SecretAccessKey>a&amp;b&#x2F;c&#61;</sts:SecretAccessKey>"
      "<sts:AccessKeyId>ASIAX</sts:AccessKeyId><Unknown/>"
      "</sts:Credentials></sts:AssumeRoleResult></sts:AssumeRoleResponse>");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->credentials.access_key_id, "ASIAX");
  EXPECT_EQ(r->credentials.secret_access_key.Reveal(), "a&b/c=");
  EXPECT_EQ(r->credentials.session_token->Reveal(), "tok<en>");
  EXPECT_EQ(r->expiration, At("2024-05-01T13:34:56Z"));
  EXPECT_EQ(r->assumed_role_arn, "");
}

TEST(ParseAssumeRoleResponse, RejectsMalformedOrIncompleteReplies) {
  const std::string secret = "exampleSecretKeyValue";
  std::string missing_token(kSuccess);
  missing_token.erase(
      missing_token.find("<SessionToken>"),
      missing_token.find("</SessionToken>") + 15 - missing_token.find("<SessionToken>"));
  std::string bad_expiration(kSuccess);
  bad_expiration.replace(bad_expiration.find("2024-05-01T13:34:56Z"), 20, "tomorrow");
  std::string empty_key(kSuccess);
  empty_key.replace(empty_key.find("ASIAEXAMPLE123456789"), 20, "   ");
  for (const std::string& body : {
           std::string(""),
           std::string("not xml"),
           std::string("{\"json\":true}"),
           std::string(kSuccess.substr(0, kSuccess.size() / 2)),  // truncated
           std::string(kSuccess) + "<extra/>",
           std::string("<AssumeRoleResponse><AssumeRoleResult></AssumeRoleResult>"
                       "</AssumeRoleResponse>"),
           std::string("<Other><AssumeRoleResult/></Other>"),
           std::string("<AssumeRoleResponse><A></B></AssumeRoleResponse>"),
           std::string("<AssumeRoleResponse>&bogus;</AssumeRoleResponse>"),
           std::string("<AssumeRoleResponse>&#0;</AssumeRoleResponse>"),
           std::string("<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"),
           std::string("<AssumeRoleResponse attr=\"unterminated></AssumeRoleResponse>"),
           std::string(200, '<'),
           missing_token,
           bad_expiration,
           empty_key,
       }) {
    auto r = ParseAssumeRoleResponse(body);
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kUpstreamError);
    EXPECT_EQ(r.error().reason, "upstream_error");
    EXPECT_EQ(r.error().health_cause, "provider_unavailable");
    EXPECT_EQ(r.error().message.find(secret), std::string::npos);
    EXPECT_EQ(r.error().health_message.find(secret), std::string::npos);
  }
}

TEST(ParseXml, BoundsNesting) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  auto r = ParseXml(deep);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("too deep"), std::string::npos);

  std::string ok;
  for (int i = 0; i < 10; ++i) ok += "<a x='1' y=\"/>\">";
  ok += "t";
  for (int i = 0; i < 10; ++i) ok += "</a >";
  auto parsed = ParseXml(ok);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->name, "a");
  ASSERT_NE(parsed->Child("a"), nullptr);
  EXPECT_EQ(parsed->Child("b"), nullptr);
}

TEST(ParseXml, DecodesCharacterReferencesToUtf8) {
  auto r = ParseXml("<m>&#233;&#x1F600;&lt;&gt;&quot;&apos;</m>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->text, "\xC3\xA9\xF0\x9F\x98\x80<>\"'");
}

// ---------------------------------------------------------------------------------------------
// Error replies.

std::string ErrorXml(std::string_view code, std::string_view message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
         "</Type><Code>" +
         std::string(code) + "</Code><Message>" + std::string(message) +
         "</Message></Error><RequestId>c6104cbe</RequestId></ErrorResponse>";
}

TEST(ParseStsError, ReadsCodeAndMessage) {
  auto e = ParseStsError(
      403,
      ErrorXml("AccessDenied",
               "User: arn:aws:iam::111122223333:user/gw is not authorized to perform: "
               "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/BedrockGatewayRole"));
  EXPECT_EQ(e.name, "AccessDenied");
  EXPECT_EQ(e.http_status, 403);
  EXPECT_NE(e.message.find("sts:AssumeRole"), std::string::npos);
}

TEST(ClassifyStsError, EveryStsCodeOfSection21) {
  struct Want {
    const char* code;
    int status;
    const char* cause;
    const char* reason;
    bool retryable;
  };
  for (const Want& w : {
           Want{"AccessDenied", 403, "permission_denied", "upstream_auth_failed", false},
           Want{"InvalidClientTokenId", 403, "credentials_invalid", "upstream_auth_failed", false},
           Want{"SignatureDoesNotMatch", 403, "credentials_invalid", "upstream_auth_failed", false},
           Want{"ExpiredToken", 400, "credentials_invalid", "upstream_auth_failed", false},
           Want{"RegionDisabledException", 403, "permission_denied", "upstream_auth_failed", false},
           Want{"MalformedPolicyDocument", 400, "permission_denied", "upstream_error", false},
           Want{"PackedPolicyTooLarge", 400, "permission_denied", "upstream_error", false},
           Want{"Throttling", 400, "throttled", "upstream_rate_limited", true},
           Want{"InternalFailure", 500, "provider_unavailable", "upstream_error", true},
           Want{"ServiceUnavailable", 503, "provider_unavailable", "upstream_error", true},
       }) {
    auto c =
        ClassifyStsError(w.status, ErrorXml(w.code, "User: arn:aws:iam::111122223333:user/gw"));
    EXPECT_EQ(c.error.health_cause, w.cause) << w.code;
    EXPECT_EQ(c.error.reason, w.reason) << w.code;
    EXPECT_EQ(c.retryable(), w.retryable) << w.code;
    EXPECT_EQ(c.error.health_message.find("111122223333"), std::string::npos);
    EXPECT_EQ(c.error.message.find("arn:aws"), std::string::npos);
  }
  auto denied = ClassifyStsError(403, ErrorXml("AccessDenied", "no"));
  EXPECT_NE(denied.error.health_message.find("cannot assume role"), std::string::npos);
}

TEST(ClassifyStsError, MalformedErrorBodiesFallBackToTheStatus) {
  auto html = ClassifyStsError(503, "<html><body>Service Unavailable</body></html>");
  EXPECT_EQ(html.error.health_cause, "provider_unavailable");
  EXPECT_TRUE(html.retryable());
  auto garbage = ClassifyStsError(403, "<ErrorResponse><Error><Code>AccessDenied");
  EXPECT_EQ(garbage.error.health_cause, "permission_denied");
  EXPECT_EQ(garbage.error.reason, "upstream_error");
  auto no_error = ClassifyStsError(400, "<ErrorResponse><RequestId>x</RequestId></ErrorResponse>");
  EXPECT_EQ(ParseStsError(400, "<ErrorResponse/>").name, "");
  EXPECT_EQ(no_error.error.health_cause, "permission_denied");
}

}  // namespace
}  // namespace mg::aws
