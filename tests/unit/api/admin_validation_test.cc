// Input validation of the admin API: body parsing, field types, strict keys, names, auth objects.
#include <gtest/gtest.h>

#include "api/admin/admin_common.h"

namespace mg::api::admin::detail {
namespace {

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

TEST(ParseObjectTest, RejectsWhatIsNotAnObject) {
  EXPECT_TRUE(ParseObject(R"({"a":1})"));
  for (std::string_view bad : {"", "{", "[1]", "\"x\"", "1", "null", "{\"a\":1} trailing",
                               "{\"a\":\xff}"}) {
    auto r = ParseObject(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().reason, "invalid_json");
  }
}

TEST(FieldTest, WrongTypesNameTheParam) {
  auto o = Obj(R"({"s":"x","n":5,"b":true,"a":["t1","t2"],"bad_a":[1],"o":{"k":1}})");
  EXPECT_EQ(*ReqString(o, "s"), "x");
  auto missing = ReqString(o, "missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().param, "missing");
  auto wrong = ReqString(o, "n", "auth");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().reason, "invalid_parameter");
  EXPECT_EQ(wrong.error().param, "auth.n");
  EXPECT_FALSE(OptString(o, "absent")->has_value());
  EXPECT_EQ(**OptBool(o, "b"), true);
  EXPECT_FALSE(OptBool(o, "s"));
  EXPECT_EQ((**OptStringArray(o, "a")).size(), 2u);
  EXPECT_FALSE(OptStringArray(o, "bad_a"));
  EXPECT_NE(*OptObject(o, "o"), nullptr);
  EXPECT_FALSE(OptObject(o, "s"));
}

TEST(OnlyKeysTest, UnknownMembersAreRejected) {
  auto o = Obj(R"({"name":"a","nmae":"b"})");
  EXPECT_TRUE(OnlyKeys(o, {"name", "nmae"}));
  auto r = OnlyKeys(o, {"name"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().param, "nmae");
}

TEST(CheckNameTest, FollowsTheSpecAlphabet) {
  EXPECT_TRUE(CheckName("prod-bedrock_us.east-1", "name"));
  EXPECT_TRUE(CheckName(std::string(64, 'a'), "name"));
  for (std::string_view bad : {"", "has space", "slash/", "ü", "semi;colon", "x\n"}) {
    auto r = CheckName(bad, "name");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().param, "name");
  }
  EXPECT_FALSE(CheckName(std::string(65, 'a'), "name"));
}

ProviderInfo Bedrock() {
  ProviderInfo p;
  p.id = "bedrock";
  p.name = "AWS Bedrock";
  p.available = true;
  p.accepts_credentials = true;
  p.auth_types = {"access_keys", "role_arn"};
  p.regions = {"us-east-1"};
  return p;
}

TEST(ParseAuthTest, AccessKeysAndRoles) {
  auto keys = ParseAuth(Obj(R"({"type":"access_keys","access_key_id":"AKIAIOSFODNN7EXAMPLE",
                                "secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})"),
                        "auth", Bedrock());
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(keys->type, store::AuthType::kAccessKeys);
  EXPECT_EQ(keys->secret_access_key.Reveal(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

  auto role = ParseAuth(Obj(R"({"type":"role_arn","role_arn":"arn:aws:iam::123456789012:role/x",
                                "session_name":"modelgate"})"),
                        "auth", Bedrock());
  ASSERT_TRUE(role) << role.error().message;
  EXPECT_EQ(role->type, store::AuthType::kRoleArn);
  EXPECT_EQ(role->session_name, "modelgate");
}

TEST(ParseAuthTest, BadAuthIsRejectedWithoutEchoingSecrets) {
  const std::string secret = "CANARYsecretCANARYsecretCANARYsecret1234";
  for (std::string text : {
           std::string(R"({"type":"api_key","api_key":")") + secret + "\"}",
           std::string(R"({"type":"access_keys","secret_access_key":")") + secret + "\"}",
           std::string(R"({"type":"access_keys","access_key_id":"AKIA","secret_access_key":5})"),
           std::string(R"({"type":"role_arn","role_arn":"not-an-arn"})"),
           std::string(R"({"access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":")") + secret + "\"}",
           std::string(R"({"type":"access_keys","access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":")") +
               secret + R"(","extra":")" + secret + "\"}",
       }) {
    auto r = ParseAuth(Obj(text), "auth", Bedrock());
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << text;
    EXPECT_EQ(r.error().param.rfind("auth", 0), 0u) << r.error().param;
    EXPECT_EQ(r.error().message.find("CANARY"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace mg::api::admin::detail
