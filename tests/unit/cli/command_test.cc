#include "cli/command.h"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace mg::cli {
namespace {

namespace json = boost::json;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

struct IoHarness {
  std::istringstream in;
  std::ostringstream out, err;
  Io io{in, out, err, nullptr};
  explicit IoHarness(std::string stdin_text = "") : in(std::move(stdin_text)) {}
};

std::string TempFile(const std::string& content) {
  std::string path = ::testing::TempDir() + "mg_cli_secret_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(ReadSecretStream, TakesEverythingAndDropsTrailingNewlines) {
  std::istringstream in(std::string(kSecret) + "\r\n\n");
  auto s = ReadSecretStream(in, "--secret-access-key-stdin");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->Reveal(), kSecret);
}

TEST(ReadSecretStream, EmptyStdinIsAUsageErrorNamingTheFlag) {
  std::istringstream in("\n");
  auto s = ReadSecretStream(in, "--secret-access-key-stdin");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("--secret-access-key-stdin: nothing on stdin"),
            std::string::npos);
}

TEST(ReadSecretFile, ReadsTheFileAndNeverQuotesItsContent) {
  auto ok = ReadSecretFile(TempFile(std::string(kSecret) + "\n"), "--secret-access-key-file");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->Reveal(), kSecret);
  auto empty = ReadSecretFile(TempFile("\n"), "--api-key-file");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("is empty"), std::string::npos);
  auto missing = ReadSecretFile("/nonexistent/mg-secret", "--api-key-file");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "--api-key-file: cannot read '/nonexistent/mg-secret'");
}

TEST(ReadAuth, NoAuthFlagsMeansNoAuth) {
  IoHarness h;
  auto a = ReadAuth(AuthFlags{}, h.io);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->has_value());
}

TEST(ReadAuth, AccessKeysWithTheSecretFromStdin) {
  IoHarness h(std::string(kSecret) + "\n");
  AuthFlags f;
  f.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  f.secret_stdin = true;
  auto a = ReadAuth(f, h.io);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ(json::serialize(**a),
            std::string(R"({"type":"access_keys","access_key_id":"AKIAIOSFODNN7EXAMPLE",)") +
                R"("secret_access_key":")" + kSecret + R"("})");
}

TEST(ReadAuth, SessionTokenFromAFileNextToTheSecretFromStdin) {
  IoHarness h(kSecret);
  AuthFlags f;
  f.access_key_id = "ASIAIOSFODNN7EXAMPLE";
  f.secret_stdin = true;
  f.token_file = TempFile("token-value\n");
  auto a = ReadAuth(f, h.io);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ((**a).at("session_token").as_string(), "token-value");
}

TEST(ReadAuth, RoleArnNeedsNoSecret) {
  IoHarness h;
  AuthFlags f;
  f.role_arn = "arn:aws:iam::123456789012:role/modelgate-test";
  f.session_name = "cli";
  f.external_id = "ext-1";
  auto a = ReadAuth(f, h.io);
  ASSERT_TRUE(a);
  EXPECT_EQ(json::serialize(**a),
            R"({"type":"role_arn","role_arn":"arn:aws:iam::123456789012:role/modelgate-test",)"
            R"("session_name":"cli","external_id":"ext-1"})");
}

TEST(ReadAuth, AccessKeyIdWithoutASecretSourceIsAUsageError) {
  IoHarness h;
  AuthFlags f;
  f.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  auto a = ReadAuth(f, h.io);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("--secret-access-key-stdin"), std::string::npos);
}

TEST(ReadAuth, SecretFlagWithoutAccessKeyIdIsAUsageError) {
  IoHarness h(kSecret);
  AuthFlags f;
  f.secret_stdin = true;
  EXPECT_FALSE(ReadAuth(f, h.io));
}

TEST(ReadAuth, EmptyStdinIsAUsageError) {
  IoHarness h("");
  AuthFlags f;
  f.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  f.secret_stdin = true;
  auto a = ReadAuth(f, h.io);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace mg::cli
