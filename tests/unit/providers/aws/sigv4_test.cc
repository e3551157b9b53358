#include "providers/aws/sigv4.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/time.h"

namespace mg::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

const fs::path kSigV4Dir = fs::path(MG_TEST_DATA_DIR) / "sigv4";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SystemTime At(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(SystemTime{});
}

// ---------------------------------------------------------------------------------------------
// The official AWS SigV4 suite: one test per case directory.

struct RawRequest {
  std::string method;
  std::string path;
  std::string query;
  HttpHeaders headers;
  std::string body;
};

// Parses a suite .req: request line (the path may contain spaces), header lines with folded
// continuation lines and repeated names, blank line, body.
RawRequest ParseReq(const std::string& text) {
  RawRequest r;
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    pos = nl + 1;
  }
  const std::string& first = lines.at(0);
  const size_t sp1 = first.find(' ');
  const size_t sp2 = first.rfind(' ');
  r.method = first.substr(0, sp1);
  const std::string target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  size_t i = 1;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    const std::string& line = lines[i];
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      r.headers.back().second += "\n" + line;  // folded continuation
      continue;
    }
    const size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  for (size_t j = i + 1; j < lines.size(); ++j) {
    if (j > i + 1) r.body += "\n";
    r.body += lines[j];
  }
  return r;
}

std::vector<std::string> SuiteCases() {
  std::vector<std::string> cases;
  for (const auto& entry : fs::recursive_directory_iterator(kSigV4Dir / "aws4_testsuite")) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    if (fs::exists(entry.path() / (name + ".req"))) {
      cases.push_back(fs::relative(entry.path(), kSigV4Dir / "aws4_testsuite").string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class Aws4TestSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(Aws4TestSuite, MatchesCanonicalRequestStringToSignAndAuthorization) {
  const fs::path dir = kSigV4Dir / "aws4_testsuite" / GetParam();
  const std::string name = dir.filename().string();
  const RawRequest req = ParseReq(ReadFile(dir / (name + ".req")));
  const std::string creq = ReadFile(dir / (name + ".creq"));

  Credentials creds{"AKIDEXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), {}};
  // Per README: a session token only where the .creq signs one; take it from that line.
  const std::string token_prefix = "\nx-amz-security-token:";
  if (const size_t at = creq.find(token_prefix); at != std::string::npos) {
    const size_t start = at + token_prefix.size();
    creds.session_token = Secret(creq.substr(start, creq.find('\n', start) - start));
  }
  SigningRequest sr;
  sr.method = req.method;
  sr.path = req.path;
  sr.query = req.query;
  sr.headers = req.headers;
  sr.payload = req.body;
  sr.region = "us-east-1";
  sr.service = "service";
  sr.now = At("2015-08-30T12:36:00Z");

  auto signed_req = SignRequest(sr, creds);
  ASSERT_TRUE(signed_req.has_value()) << signed_req.error().message;
  EXPECT_EQ(signed_req->canonical_request, creq);
  EXPECT_EQ(signed_req->string_to_sign, ReadFile(dir / (name + ".sts")));
  EXPECT_EQ(signed_req->authorization, ReadFile(dir / (name + ".authz")));
}

INSTANTIATE_TEST_SUITE_P(Cases, Aws4TestSuite, ::testing::ValuesIn(SuiteCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(Aws4TestSuiteData, HasAllThirtyFourCases) { EXPECT_EQ(SuiteCases().size(), 34u); }

// ---------------------------------------------------------------------------------------------
// bedrock-cases.json: Bedrock Runtime, control plane and STS vectors from the AWS JS signer.

json::array LoadBedrockCases() {
  return json::parse(ReadFile(kSigV4Dir / "bedrock-cases.json")).at("cases").as_array();
}

std::vector<std::string> BedrockCaseIds() {
  std::vector<std::string> ids;
  for (const auto& c : LoadBedrockCases()) ids.emplace_back(c.at("id").as_string());
  return ids;
}

class BedrockCases : public ::testing::TestWithParam<std::string> {
 protected:
  json::object Case() const {
    for (const auto& c : LoadBedrockCases()) {
      if (c.at("id").as_string() == GetParam()) return c.as_object();
    }
    ADD_FAILURE() << "no case " << GetParam();
    return {};
  }
};

TEST_P(BedrockCases, MatchesTheAwsJavaScriptSigner) {
  const json::object c = Case();
  const json::object& in = c.at("input").as_object();
  const json::object& want = c.at("expected").as_object();

  HttpHeaders headers;
  for (const auto& [k, v] : in.at("headers").as_object()) {
    headers.emplace_back(std::string(k), std::string(v.as_string()));
  }
  const std::string url(in.at("url").as_string());
  const size_t q = url.find('?');
  const std::string query = q == std::string::npos ? "" : url.substr(q + 1);
  const std::string path(in.at("path").as_string());
  const std::string body = in.at("body").is_null() ? "" : std::string(in.at("body").as_string());

  Credentials creds{std::string(in.at("access_key_id").as_string()),
                    Secret(std::string(in.at("secret_access_key").as_string())),
                    {}};
  if (!in.at("session_token").is_null()) {
    creds.session_token = Secret(std::string(in.at("session_token").as_string()));
  }
  const std::string region(in.at("region").as_string());
  const std::string service(in.at("service").as_string());

  SigningRequest sr;
  sr.method = in.at("method").as_string();
  sr.path = path;
  sr.query = query;
  sr.headers = headers;
  sr.payload = body;
  sr.region = region;
  sr.service = service;
  sr.now = At(std::string(in.at("date").as_string()));

  auto got = SignRequest(sr, creds);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->canonical_request, want.at("canonical_request").as_string());
  EXPECT_EQ(got->string_to_sign, want.at("string_to_sign").as_string());
  EXPECT_EQ(got->signature, want.at("signature").as_string());
  EXPECT_EQ(got->authorization, want.at("authorization").as_string());
  const std::string date = got->amz_date.substr(0, 8);
  EXPECT_EQ(DeriveSigningKey(creds.secret_access_key, date, region, service).Hex(),
            want.at("signing_key_hex").as_string());

  // The headers to set complete the input into headers_after_signing.
  HttpHeaders after = headers;
  for (const auto& h : got->headers_to_set) {
    std::string lower = h.first;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    after.emplace_back(lower, h.second);
  }
  const json::object& want_after = want.at("headers_after_signing").as_object();
  EXPECT_EQ(after.size(), want_after.size());
  for (const auto& [k, v] : after) {
    ASSERT_TRUE(want_after.contains(k)) << k;
    EXPECT_EQ(want_after.at(k).as_string(), v) << k;
  }

  // A cached key gives the same signature.
  auto key = DeriveSigningKey(creds.secret_access_key, date, region, service);
  auto cached = SignRequestWithKey(sr, creds.access_key_id, creds.session_token, key);
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->authorization, got->authorization);

  // A precomputed payload hash gives the same signature.
  const std::string body_sha(in.at("body_sha256").as_string());
  SigningRequest hashed = sr;
  hashed.payload = {};
  hashed.payload_sha256_hex = body_sha;
  auto pre = SignRequest(hashed, creds);
  ASSERT_TRUE(pre.has_value());
  EXPECT_EQ(pre->signature, got->signature);
}

INSTANTIATE_TEST_SUITE_P(Cases, BedrockCases, ::testing::ValuesIn(BedrockCaseIds()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(BedrockCasesData, HasAllElevenCases) { EXPECT_EQ(BedrockCaseIds().size(), 11u); }

// ---------------------------------------------------------------------------------------------
// Canonical pieces.

TEST(CanonicalUri, NormalisesAndEncodesTheWirePathOnceMore) {
  EXPECT_EQ(CanonicalUri(""), "/");
  EXPECT_EQ(CanonicalUri("/"), "/");
  EXPECT_EQ(CanonicalUri("//"), "/");
  EXPECT_EQ(CanonicalUri("//example//"), "/example/");
  EXPECT_EQ(CanonicalUri("/a/./b/../c"), "/a/c");
  EXPECT_EQ(CanonicalUri("/a/b/../.."), "/");
  EXPECT_EQ(CanonicalUri("/../a"), "/a");
  EXPECT_EQ(CanonicalUri("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"),
            "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse");
}

TEST(CanonicalQuery, DecodesReencodesAndSorts) {
  EXPECT_EQ(CanonicalQuery(""), "");
  EXPECT_EQ(CanonicalQuery("b=2&a=1&a=0"), "a=0&a=1&b=2");
  EXPECT_EQ(CanonicalQuery("byProvider=Stability%20AI&x"), "byProvider=Stability%20AI&x=");
  EXPECT_EQ(CanonicalQuery("k=a/b+c"), "k=a%2Fb%2Bc");
  EXPECT_EQ(CanonicalQuery("a=1&&b=2"), "a=1&b=2");
}

TEST(NormalizeHeaderValue, TrimsFoldsAndCollapses) {
  EXPECT_EQ(NormalizeHeaderValue("  a   b\t\tc  "), "a b c");
  EXPECT_EQ(NormalizeHeaderValue("v1\n   v2\r\n v3"), "v1 v2 v3");
  EXPECT_EQ(NormalizeHeaderValue(""), "");
}

TEST(AmzDate, FormatsAndParsesUtc) {
  const SystemTime t = At("2024-05-01T12:34:56Z");
  EXPECT_EQ(FormatAmzDate(t), "20240501T123456Z");
  EXPECT_EQ(FormatAmzDate(t + 999ms), "20240501T123456Z");
  EXPECT_EQ(ParseAmzDate("20240501T123456Z"), t);
  EXPECT_FALSE(ParseAmzDate("20240501T123456").has_value());
  EXPECT_FALSE(ParseAmzDate("20241301T000000Z").has_value());
  EXPECT_FALSE(ParseAmzDate("2024050xT000000Z").has_value());
}

// ---------------------------------------------------------------------------------------------
// Signer edge cases.

struct Fixture {
  HttpHeaders headers{{"Host", "bedrock-runtime.us-east-1.amazonaws.com"},
                      {"Content-Type", "application/json"},
                      {"User-Agent", "modelgate/0.1"}};
  std::string body = R"({"messages":[]})";
  SigningRequest Request(SystemTime now) const {
    SigningRequest r;
    r.method = "POST";
    r.path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    r.headers = headers;
    r.payload = body;
    r.region = "us-east-1";
    r.service = "bedrock";
    r.now = now;
    return r;
  }
};

TEST(SignRequest, RequiresHost) {
  Fixture f;
  f.headers.erase(f.headers.begin());
  auto r = SignRequest(f.Request(At("2024-05-01T12:34:56Z")),
                       Credentials{"AKIAIOSFODNN7EXAMPLE", Secret("s"), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(SignRequest, NeverSignsUserAgentAndReplacesStaleDate) {
  Fixture f;
  f.headers.emplace_back("X-Amz-Date", "19990101T000000Z");
  f.headers.emplace_back("Authorization", "stale");
  auto r = SignRequest(f.Request(At("2024-05-01T12:34:56Z")),
                       Credentials{"AKIAIOSFODNN7EXAMPLE", Secret("s"), {}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->signed_headers, "content-type;host;x-amz-date");
  EXPECT_NE(r->canonical_request.find("x-amz-date:20240501T123456Z\n"), std::string::npos);
  EXPECT_EQ(r->canonical_request.find("1999"), std::string::npos);
}

TEST(SignRequest, RejectsMismatchedContentSha256) {
  Fixture f;
  f.headers.emplace_back("X-Amz-Content-Sha256", std::string(kEmptyPayloadSha256));
  auto r = SignRequest(f.Request(At("2024-05-01T12:34:56Z")),
                       Credentials{"AKIAIOSFODNN7EXAMPLE", Secret("s"), {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().param, "x-amz-content-sha256");
}

TEST(SignRequest, TemporaryCredentialsSignAndSetTheSecurityToken) {
  Fixture f;
  const SystemTime now = At("2024-05-01T12:34:56Z");
  auto temp = SignRequest(f.Request(now),
                          Credentials{"ASIAIOSFODNN7EXAMPLE", Secret("s"), Secret("tok/+=")});
  ASSERT_TRUE(temp.has_value());
  EXPECT_EQ(temp->signed_headers, "content-type;host;x-amz-date;x-amz-security-token");
  EXPECT_NE(temp->canonical_request.find("\nx-amz-security-token:tok/+=\n"), std::string::npos);
  ASSERT_EQ(temp->headers_to_set.size(), 3u);
  EXPECT_EQ(temp->headers_to_set[1], (HttpHeader{"X-Amz-Security-Token", "tok/+="}));

  // A stale token already among the headers is replaced, not signed twice.
  f.headers.emplace_back("x-amz-security-token", "stale");
  auto replaced = SignRequest(f.Request(now),
                              Credentials{"ASIAIOSFODNN7EXAMPLE", Secret("s"), Secret("tok/+=")});
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ(replaced->canonical_request, temp->canonical_request);
  f.headers.pop_back();

  auto fixed = SignRequest(f.Request(now), Credentials{"AKIAIOSFODNN7EXAMPLE", Secret("s"), {}});
  ASSERT_TRUE(fixed.has_value());
  EXPECT_EQ(fixed->signed_headers.find("x-amz-security-token"), std::string::npos);
  for (const auto& h : fixed->headers_to_set) EXPECT_NE(h.first, "X-Amz-Security-Token");
}

TEST(SignRequestWithKey, RejectsAKeyForAnotherDay) {
  Fixture f;
  const auto key = DeriveSigningKey(Secret("s"), "20240430", "us-east-1", "bedrock");
  auto r = SignRequestWithKey(f.Request(At("2024-05-01T00:00:01Z")), "AKIAIOSFODNN7EXAMPLE",
                              std::nullopt, key);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("derive a new key"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Verifier.

class VerifyRequestTest : public ::testing::Test {
 protected:
  const SystemTime now_ = At("2024-05-01T12:34:56Z");
  Fixture f_;
  std::optional<KeyInfo> static_key_ = KeyInfo{Secret("static-secret"), {}, {}, false};
  std::optional<KeyInfo> temp_key_ =
      KeyInfo{Secret("temp-secret"), Secret("token/+="), At("2024-05-01T13:00:00Z"), false};

  KeyLookup Lookup() {
    return [this](std::string_view id) -> std::optional<KeyInfo> {
      if (id == "AKIASTATIC0000000000") return static_key_;
      if (id == "ASIATEMP000000000000") return temp_key_;
      return std::nullopt;
    };
  }

  // Signs, then builds the headers as received.
  HttpHeaders SignedHeaders(const Credentials& creds, SystemTime signed_at,
                            std::string_view region = "us-east-1",
                            std::string_view service = "bedrock") {
    SigningRequest r = f_.Request(signed_at);
    r.region = region;
    r.service = service;
    auto s = SignRequest(r, creds);
    EXPECT_TRUE(s.has_value());
    HttpHeaders out = f_.headers;
    for (const auto& h : s->headers_to_set) out.push_back(h);
    return out;
  }

  VerifyResult Verify(const HttpHeaders& headers, std::string_view body,
                      std::string_view service = "bedrock") {
    ReceivedRequest rr{"POST", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", "",
                       headers, body};
    return VerifyRequest(rr, VerifyPolicy{service, "us-east-1", now_}, Lookup());
  }

  static Credentials Static() { return {"AKIASTATIC0000000000", Secret("static-secret"), {}}; }
  static Credentials Temp(std::string token = "token/+=") {
    return {"ASIATEMP000000000000", Secret("temp-secret"), Secret(std::move(token))};
  }
};

TEST_F(VerifyRequestTest, AcceptsWhatTheSignerSigns) {
  auto r = Verify(SignedHeaders(Static(), now_), f_.body);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->access_key_id, "AKIASTATIC0000000000");
  EXPECT_EQ(r->signed_headers, "content-type;host;x-amz-date");
  EXPECT_FALSE(r->is_temporary);

  auto t = Verify(SignedHeaders(Temp(), now_ - 4min), f_.body);
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_TRUE(t->is_temporary);
}

TEST_F(VerifyRequestTest, RejectsATamperedBody) {
  auto r = Verify(SignedHeaders(Static(), now_), R"({"messages":[1]})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, AuthErrorKind::kInvalidSignature);
  EXPECT_EQ(r.error().error_name, "InvalidSignatureException");
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_NE(r.error().message.find("does not match"), std::string::npos);
}

TEST_F(VerifyRequestTest, RejectsAWrongSecret) {
  Credentials wrong = Static();
  wrong.secret_access_key = Secret("not-the-secret");
  auto r = Verify(SignedHeaders(wrong, now_), f_.body);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error_name, "InvalidSignatureException");
}

TEST_F(VerifyRequestTest, RejectsUnknownAndRevokedKeys) {
  Credentials unknown{"AKIAUNKNOWN000000000", Secret("x"), {}};
  auto r = Verify(SignedHeaders(unknown, now_), f_.body);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error_name, "UnrecognizedClientException");
  EXPECT_EQ(r.error().message, "The security token included in the request is invalid.");

  static_key_->revoked = true;
  auto revoked = Verify(SignedHeaders(Static(), now_), f_.body);
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(revoked.error().kind, AuthErrorKind::kUnrecognizedClient);
}

TEST_F(VerifyRequestTest, RejectsWrongRegionOrService) {
  auto region = Verify(SignedHeaders(Static(), now_, "us-west-2"), f_.body);
  ASSERT_FALSE(region.has_value());
  EXPECT_EQ(region.error().error_name, "InvalidSignatureException");
  EXPECT_NE(region.error().message.find("us-west-2"), std::string::npos);

  auto service = Verify(SignedHeaders(Static(), now_, "us-east-1", "bedrock-runtime"), f_.body);
  ASSERT_FALSE(service.has_value());
  EXPECT_NE(service.error().message.find("correct service: 'bedrock'"), std::string::npos);
}

TEST_F(VerifyRequestTest, RejectsASkewedClockWithSignatureExpiredWording) {
  auto past = Verify(SignedHeaders(Static(), now_ - 5min - 1s), f_.body);
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().error_name, "InvalidSignatureException");
  EXPECT_EQ(past.error().message,
            "Signature expired: 20240501T122955Z is now earlier than 20240501T122956Z "
            "(20240501T123456Z - 5 min.)");

  auto future = Verify(SignedHeaders(Static(), now_ + 6min), f_.body);
  ASSERT_FALSE(future.has_value());
  EXPECT_EQ(future.error().message.rfind("Signature not yet current", 0), 0u);

  EXPECT_TRUE(Verify(SignedHeaders(Static(), now_ + 5min), f_.body).has_value());
}

TEST_F(VerifyRequestTest, RejectsMissingMismatchedOrExpiredSessionTokens) {
  Credentials no_token = Temp();
  no_token.session_token.reset();
  auto missing = Verify(SignedHeaders(no_token, now_), f_.body);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().error_name, "UnrecognizedClientException");

  auto mismatched = Verify(SignedHeaders(Temp("other-token"), now_), f_.body);
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_EQ(mismatched.error().kind, AuthErrorKind::kUnrecognizedClient);

  temp_key_->expires_at = now_;
  auto expired = Verify(SignedHeaders(Temp(), now_), f_.body);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().error_name, "ExpiredTokenException");
  EXPECT_EQ(expired.error().message, "The security token included in the request is expired");
}

TEST_F(VerifyRequestTest, UsesStsErrorNamesForSts) {
  auto expired_sig = Verify(SignedHeaders(Static(), now_ - 10min, "us-east-1", "sts"), f_.body,
                            "sts");
  ASSERT_FALSE(expired_sig.has_value());
  EXPECT_EQ(expired_sig.error().error_name, "SignatureDoesNotMatch");

  Credentials unknown{"AKIAUNKNOWN000000000", Secret("x"), {}};
  auto u = Verify(SignedHeaders(unknown, now_, "us-east-1", "sts"), f_.body, "sts");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().error_name, "InvalidClientTokenId");

  temp_key_->expires_at = now_ - 1s;
  auto e = Verify(SignedHeaders(Temp(), now_, "us-east-1", "sts"), f_.body, "sts");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().error_name, "ExpiredToken");
  EXPECT_EQ(e.error().http_status, 400);
}

TEST_F(VerifyRequestTest, RejectsMissingOrMalformedAuthorization) {
  auto missing = Verify(f_.headers, f_.body);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().error_name, "MissingAuthenticationTokenException");
  EXPECT_EQ(missing.error().message, "Missing Authentication Token");

  HttpHeaders incomplete = SignedHeaders(Static(), now_);
  for (auto& [k, v] : incomplete) {
    if (k == "Authorization") v = v.substr(0, v.find(", Signature="));
  }
  auto r = Verify(incomplete, f_.body);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().error_name, "IncompleteSignatureException");
  EXPECT_NE(r.error().message.find("'Signature'"), std::string::npos);

  HttpHeaders no_date = SignedHeaders(Static(), now_);
  std::erase_if(no_date, [](const HttpHeader& h) { return h.first == "X-Amz-Date"; });
  auto d = Verify(no_date, f_.body);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().kind, AuthErrorKind::kIncompleteSignature);
}

TEST_F(VerifyRequestTest, FailureMessagesNeverContainTheSignature) {
  HttpHeaders headers = SignedHeaders(Static(), now_);
  std::string signature;
  for (const auto& [k, v] : headers) {
    if (k == "Authorization") signature = v.substr(v.find("Signature=") + 10);
  }
  auto r = Verify(headers, "tampered");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.find(signature), std::string::npos);
}

}  // namespace
}  // namespace mg::aws
