#include "providers/aws/endpoints.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace mg::aws {
namespace {

GetEnvFn Env(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    if (auto it = vars.find(name); it != vars.end()) return it->second;
    return std::nullopt;
  };
}

TEST(ResolveEndpoint, DefaultsPerServiceAndRegion) {
  auto rt = ResolveEndpoint(AwsService::kBedrockRuntime, "us-east-1", Env({}));
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(rt->UrlFor("/model/m/converse"),
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse");
  EXPECT_EQ(rt->host_header, "bedrock-runtime.us-east-1.amazonaws.com");
  EXPECT_EQ(rt->port, 443);
  EXPECT_EQ(rt->signing_region, "us-east-1");
  EXPECT_EQ(rt->signing_service, "bedrock");
  EXPECT_EQ(rt->source, "");

  auto cp = ResolveEndpoint(AwsService::kBedrock, "eu-central-1", Env({}));
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->UrlFor("/foundation-models"),
            "https://bedrock.eu-central-1.amazonaws.com/foundation-models");
  EXPECT_EQ(cp->signing_service, "bedrock");

  auto sts = ResolveEndpoint(AwsService::kSts, "us-west-2", Env({}));
  ASSERT_TRUE(sts.has_value());
  EXPECT_EQ(sts->UrlFor("/"), "https://sts.us-west-2.amazonaws.com/");
  EXPECT_EQ(sts->PathFor("/"), "/");
  EXPECT_EQ(sts->signing_service, "sts");
}

TEST(ResolveEndpoint, ServiceSpecificOverrideWinsOverGlobal) {
  auto env = Env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"},
                  {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9001"},
                  {"AWS_ENDPOINT_URL_BEDROCK", "http://127.0.0.1:9002"},
                  {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9003"}});
  auto rt = ResolveEndpoint(AwsService::kBedrockRuntime, "us-east-1", env);
  auto cp = ResolveEndpoint(AwsService::kBedrock, "us-east-1", env);
  auto sts = ResolveEndpoint(AwsService::kSts, "us-east-1", env);
  ASSERT_TRUE(rt && cp && sts);
  EXPECT_EQ(rt->host_header, "127.0.0.1:9001");
  EXPECT_EQ(rt->source, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
  EXPECT_EQ(cp->host_header, "127.0.0.1:9002");
  EXPECT_EQ(sts->host_header, "127.0.0.1:9003");
  EXPECT_EQ(sts->signing_service, "sts");
  EXPECT_EQ(rt->signing_service, "bedrock");
  EXPECT_EQ(rt->signing_region, "us-east-1");
}

TEST(ResolveEndpoint, GlobalOverrideCoversServicesWithoutTheirOwn) {
  auto env = Env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"},
                  {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9003"}});
  auto rt = ResolveEndpoint(AwsService::kBedrockRuntime, "us-east-1", env);
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(rt->UrlFor("/model/x/converse"), "http://127.0.0.1:9000/model/x/converse");
  EXPECT_EQ(rt->source, "AWS_ENDPOINT_URL");
  EXPECT_EQ(rt->scheme, "http");
  EXPECT_EQ(rt->port, 9000);
}

TEST(ResolveEndpoint, EmptyValueCountsAsUnset) {
  auto env = Env(
      {{"AWS_ENDPOINT_URL", "http://localhost:8080"}, {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", ""}});
  auto rt = ResolveEndpoint(AwsService::kBedrockRuntime, "us-east-1", env);
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(rt->host_header, "localhost:8080");

  auto none = ResolveEndpoint(AwsService::kBedrock, "us-east-1", Env({{"AWS_ENDPOINT_URL", ""}}));
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->host, "bedrock.us-east-1.amazonaws.com");
}

TEST(ResolveEndpoint, IgnoreConfiguredEndpointUrls) {
  for (const char* value : {"true", "TRUE", "True"}) {
    auto env = Env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"},
                    {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9003"},
                    {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", value}});
    auto sts = ResolveEndpoint(AwsService::kSts, "us-east-1", env);
    ASSERT_TRUE(sts.has_value());
    EXPECT_EQ(sts->host, "sts.us-east-1.amazonaws.com") << value;
  }
  for (const char* value : {"false", "", "1"}) {
    auto env = Env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"},
                    {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", value}});
    auto sts = ResolveEndpoint(AwsService::kSts, "us-east-1", env);
    ASSERT_TRUE(sts.has_value());
    EXPECT_EQ(sts->host_header, "127.0.0.1:9000") << value;
  }
}

TEST(ResolveEndpoint, JoinsPathsAndDropsTrailingSlash) {
  auto env = Env({{"AWS_ENDPOINT_URL", "https://proxy.example.com/aws/bedrock/"}});
  auto rt = ResolveEndpoint(AwsService::kBedrockRuntime, "us-east-1", env);
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(rt->base_path, "/aws/bedrock");
  EXPECT_EQ(rt->PathFor("/model/m%3A0/converse"), "/aws/bedrock/model/m%3A0/converse");
  EXPECT_EQ(rt->UrlFor("/model/m/converse"),
            "https://proxy.example.com/aws/bedrock/model/m/converse");
  EXPECT_EQ(rt->host_header, "proxy.example.com");
  EXPECT_EQ(rt->PathFor("/"), "/aws/bedrock/");

  auto root = ResolveEndpoint(AwsService::kSts, "us-east-1",
                              Env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1234/"}}));
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->base_path, "");
  EXPECT_EQ(root->PathFor("/"), "/");
}

TEST(ParseEndpointUrl, HostHeaderHasThePortOnlyWhenNotDefault) {
  auto a = ParseEndpointUrl("https://h.example:443", "X");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host_header, "h.example");
  auto b = ParseEndpointUrl("http://h.example:80/p", "X");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->host_header, "h.example");
  EXPECT_EQ(b->port, 80);
  auto c = ParseEndpointUrl("https://h.example:8443", "X");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->host_header, "h.example:8443");
  auto d = ParseEndpointUrl("http://h.example:443", "X");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->host_header, "h.example:443");
  auto v6 = ParseEndpointUrl("http://[::1]:8080", "X");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->host_header, "[::1]:8080");
  auto upper = ParseEndpointUrl("HTTPS://Bedrock.Example.COM", "X");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(upper->scheme, "https");
  EXPECT_EQ(upper->host_header, "bedrock.example.com");
}

TEST(ParseEndpointUrl, RejectsMalformedUrls) {
  for (const char* bad : {"127.0.0.1:9000", "ftp://h", "http://", "http://:80", "http://h:",
                          "http://h:0", "http://h:65536", "http://h:8o", "http://h/p?x=1",
                          "http://h#f", "http://[::1", "http://[::1]x", "http://h st"}) {
    auto r = ParseEndpointUrl(bad, "AWS_ENDPOINT_URL");
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(r.error().message.find("AWS_ENDPOINT_URL"), std::string::npos);
    }
  }
}

TEST(ParseEndpointUrl, NeverEchoesUserInfo) {
  auto r = ParseEndpointUrl("https://user:hunter2@h.example", "AWS_ENDPOINT_URL");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);
}

TEST(ResolveEndpoint, RejectsBadRegionsAndBadOverrides) {
  EXPECT_FALSE(ResolveEndpoint(AwsService::kBedrockRuntime, "", Env({})).has_value());
  EXPECT_FALSE(ResolveEndpoint(AwsService::kBedrockRuntime, "US-EAST-1", Env({})).has_value());
  EXPECT_FALSE(ResolveEndpoint(AwsService::kBedrockRuntime, "us-east-1/../x", Env({})).has_value());
  auto bad =
      ResolveEndpoint(AwsService::kSts, "us-east-1", Env({{"AWS_ENDPOINT_URL_STS", "not a url"}}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().param, "AWS_ENDPOINT_URL_STS");
}

TEST(ResolveEndpoint, EnvVarNames) {
  EXPECT_EQ(EndpointEnvVar(AwsService::kBedrockRuntime), "AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
  EXPECT_EQ(EndpointEnvVar(AwsService::kBedrock), "AWS_ENDPOINT_URL_BEDROCK");
  EXPECT_EQ(EndpointEnvVar(AwsService::kSts), "AWS_ENDPOINT_URL_STS");
  EXPECT_EQ(SigningService(AwsService::kBedrockRuntime), "bedrock");
}

TEST(ProcessEnv, ReadsTheRealEnvironment) {
  auto env = ProcessEnv();
  EXPECT_FALSE(env("MG_SURELY_UNSET_VARIABLE_FOR_THIS_TEST").has_value());
  EXPECT_TRUE(env("PATH").has_value());
}

}  // namespace
}  // namespace mg::aws
