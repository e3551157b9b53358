#include "config/config.h"

#include <gtest/gtest.h>

#include <map>

namespace mg::config {
namespace {

using namespace std::chrono_literals;

GetEnv FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](std::string_view n) -> std::optional<std::string> {
    auto it = vars.find(std::string(n));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Config, DefaultsMatchTheCliContract) {
  Config c;
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.data_dir, "./var");
  EXPECT_EQ(c.health_interval, 5min);
  EXPECT_EQ(c.health_cooldown, 1min);
}

TEST(Config, ExampleFileLoadsAndEqualsDefaults) {
  Config c;
  ASSERT_TRUE(ApplyFile(MG_EXAMPLE_CONFIG, c)) << "docs/modelgate.example.toml must stay valid";
  Config d;
  EXPECT_EQ(c.listen_port, d.listen_port);
  EXPECT_EQ(c.max_body_bytes, d.max_body_bytes);
  EXPECT_EQ(c.upstream.converse, d.upstream.converse);
  EXPECT_TRUE(Validate(c));
}

TEST(Config, TomlSetsNestedKeys) {
  Config c;
  ASSERT_TRUE(ApplyToml("listen = \"[::1]:0\"\nhealth_interval = \"300ms\"\n"
                        "[server]\nmax_body_bytes = 2048\n[upstream]\nconnect_timeout = \"2s\"\n",
                        "t.toml", c));
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 0);
  EXPECT_EQ(c.health_interval, 300ms);
  EXPECT_EQ(c.max_body_bytes, 2048u);
  EXPECT_EQ(c.upstream.connect, 2s);
}

TEST(Config, UnknownKeysAreErrorsNamingTheKey) {
  Config c;
  auto r = ApplyToml("listen = \"127.0.0.1:1\"\nhealth_intervall = \"5m\"\n", "t.toml", c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("health_intervall"), std::string::npos);
  auto r2 = ApplyToml("[server]\nmax_bodybytes = 1\n", "t.toml", c);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("server.max_bodybytes"), std::string::npos);
  auto r3 = ApplyToml("[nope]\nx = 1\n", "t.toml", c);
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().message.find("nope"), std::string::npos);
}

TEST(Config, BadValuesNameKeyAndReason) {
  Config c;
  auto r = ApplyToml("health_cooldown = \"soon\"\n", "t.toml", c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("health_cooldown: ", 0), 0u) << r.error().message;
  auto r2 = ApplyToml("listen = \"localhost\"\n", "t.toml", c);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("missing port"), std::string::npos);
  auto r3 = ApplyToml("listen = ", "t.toml", c);
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().message.find("t.toml:1"), std::string::npos);
}

TEST(Config, EnvironmentOverridesFile) {
  Config c;
  ASSERT_TRUE(ApplyToml("data_dir = \"/from/file\"\nhealth_interval = \"10m\"\n", "t", c));
  ASSERT_TRUE(ApplyEnv(FakeEnv({{"MODELGATE_DATA_DIR", "/from/env"},
                                {"MODELGATE_HEALTH_COOLDOWN", "2s"},
                                {"MODELGATE_LISTEN", ""}}),
                       c));
  EXPECT_EQ(c.data_dir, "/from/env");
  EXPECT_EQ(c.health_interval, 10min);
  EXPECT_EQ(c.health_cooldown, 2s);
  EXPECT_EQ(c.listen_port, 8080);  // empty env var counts as unset
  auto bad = ApplyEnv(FakeEnv({{"MODELGATE_HEALTH_INTERVAL", "5 minutes"}}), c);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("MODELGATE_HEALTH_INTERVAL"), std::string::npos);
}

TEST(Config, ParseListenAcceptsIpv4Ipv6AndNames) {
  EXPECT_EQ(ParseListen("127.0.0.1:0").value(), (std::pair<std::string, uint16_t>{"127.0.0.1", 0}));
  EXPECT_EQ(ParseListen("[::1]:8080").value().first, "::1");
  EXPECT_EQ(ParseListen("localhost:80").value().second, 80);
  EXPECT_FALSE(ParseListen(":80"));
  EXPECT_FALSE(ParseListen("127.0.0.1:65536"));
  EXPECT_FALSE(ParseListen("127.0.0.1:x"));
  EXPECT_FALSE(ParseListen("[::1:80"));
}

TEST(Config, ValidateRejectsZeroIntervals) {
  Config c;
  c.health_interval = 0ms;
  EXPECT_FALSE(Validate(c));
}

}  // namespace
}  // namespace mg::config
