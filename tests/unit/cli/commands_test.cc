#include "cli/commands.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "cli/exit_codes.h"

namespace mg::cli {
namespace {

// argv as main() gets it: writable strings.
struct Argv {
  explicit Argv(std::vector<std::string> args) : storage(std::move(args)) {
    for (auto& s : storage) ptrs.push_back(s.data());
  }
  int argc() { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> storage;
  std::vector<char*> ptrs;
};

TEST(ScrubApiKeyArguments, HidesBothFormsAndNothingElse) {
  Argv a({"modelgate", "me", "--api-key", "mg_secret", "--url", "http://h", "--api-key=mg_two"});
  ScrubApiKeyArguments(a.argc(), a.argv());
  EXPECT_STREQ(a.argv()[3], "xxxxxxxxx");
  EXPECT_STREQ(a.argv()[5], "http://h");
  EXPECT_STREQ(a.argv()[6], "--api-key=xxxxxx");
}

TEST(ScrubApiKeyArguments, AFlagAtTheEndIsLeftAlone) {
  Argv a({"modelgate", "me", "--api-key"});
  ScrubApiKeyArguments(a.argc(), a.argv());
  EXPECT_STREQ(a.argv()[2], "--api-key");
}

// Parses `args` with the client commands added; returns what the failure message printed.
std::string ParseFailure(std::vector<std::string> args) {
  CLI::App app{"test"};
  app.require_subcommand(1);
  app.failure_message(FailureMessage);
  std::istringstream in;
  std::ostringstream out, err;
  ClientCommands commands(app, in, out, err, nullptr);
  Argv a(std::move(args));
  try {
    app.parse(a.argc(), a.argv());
  } catch (const CLI::ParseError& e) {
    std::ostringstream o, x;
    app.exit(e, o, x);
    return x.str();
  }
  return "(parsed)";
}

TEST(FailureMessage, AnUnexpectedValueIsNeverEchoed) {
  std::string msg = ParseFailure({"modelgate", "credentials", "add", "--name", "n", "--region",
                                  "us-east-1", "--access-key-id", "AKIAIOSFODNN7EXAMPLE",
                                  "--secret-access-key", "TOP-SECRET-VALUE"});
  EXPECT_EQ(msg.find("TOP-SECRET-VALUE"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected argument(s): --secret-access-key (+1 value)"), std::string::npos)
      << msg;
}

TEST(FailureMessage, AnInlineValueIsCutOffTheFlag) {
  std::string msg = ParseFailure({"modelgate", "me", "--secret-access-key=TOP-SECRET"});
  EXPECT_EQ(msg.find("TOP-SECRET"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--secret-access-key"), std::string::npos) << msg;
}

TEST(FailureMessage, OtherErrorsReadAsCli11Does) {
  std::string msg = ParseFailure({"modelgate", "credentials", "add", "--region", "us-east-1"});
  EXPECT_NE(msg.find("--name is required"), std::string::npos) << msg;
}

TEST(ClientCommands, SelectsOnlyClientSubcommands) {
  CLI::App app{"test"};
  app.require_subcommand(1);
  app.add_subcommand("serve", "server");
  std::istringstream in;
  std::ostringstream out, err;
  ClientCommands commands(app, in, out, err, nullptr);
  Argv serve({"modelgate", "serve"});
  app.parse(serve.argc(), serve.argv());
  EXPECT_FALSE(commands.selected());
  Argv me({"modelgate", "me"});
  app.parse(me.argc(), me.argv());
  EXPECT_TRUE(commands.selected());
}

TEST(ClientCommands, NoApiKeyIsAUsageErrorBeforeAnyRequest) {
  CLI::App app{"test"};
  std::istringstream in;
  std::ostringstream out, err;
  ClientCommands commands(app, in, out, err,
                          [](std::string_view) -> std::optional<std::string> { return {}; });
  Argv me({"modelgate", "me", "--url", "http://127.0.0.1:1"});
  app.parse(me.argc(), me.argv());
  EXPECT_EQ(commands.Run(), kExitUsage);
  EXPECT_EQ(err.str(),
            "modelgate: no API key: set MODELGATE_API_KEY, or pass --api-key-file FILE\n");
  EXPECT_EQ(out.str(), "");
}

TEST(ClientCommands, BadUrlIsAUsageError) {
  CLI::App app{"test"};
  std::istringstream in;
  std::ostringstream out, err;
  ClientCommands commands(app, in, out, err,
                          [](std::string_view name) -> std::optional<std::string> {
                            if (name == "MODELGATE_API_KEY") return "mg_k";
                            return {};
                          });
  Argv me({"modelgate", "me", "--url", "not a url"});
  app.parse(me.argc(), me.argv());
  EXPECT_EQ(commands.Run(), kExitUsage);
  EXPECT_NE(err.str().find("--url:"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace mg::cli
