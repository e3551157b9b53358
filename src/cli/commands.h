// @file commands.h
// @brief The `modelgate` client subcommands over the admin API (admin-api.md): credentials,
// models (with catalog and health), teams, users, keys, me, providers, health, audit, usage.
// main.cc adds them to its CLI11 app next to `serve` and `vault`, parses, and runs the one
// chosen. Output is a table (human) by default and the API's JSON unchanged with --json;
// errors go to stderr; exit codes are those of cli/exit_codes.h.
//
// Thread-safety: not thread-safe; one per process, used from main().
#pragma once

#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace CLI {
class App;
}  // namespace CLI

namespace mg::cli {

class ClientCommands {
 public:
  using GetEnv = std::function<std::optional<std::string>(std::string_view)>;

  // Adds the client subcommands to `root`. The streams and `getenv` must outlive this object.
  ClientCommands(CLI::App& root, std::istream& in, std::ostream& out, std::ostream& err,
                 GetEnv getenv);
  ~ClientCommands();
  ClientCommands(const ClientCommands&) = delete;
  ClientCommands& operator=(const ClientCommands&) = delete;

  // After a successful parse: did it select a client subcommand?
  bool selected() const;
  // Runs the selected subcommand; returns the process exit code.
  int Run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Hides the values of --api-key ("--api-key K" and "--api-key=K") in argv, so the key does not
// stay visible in /proc/<pid>/cmdline (ps) while the command runs. Call after parsing.
void ScrubApiKeyArguments(int argc, char** argv);

// CLI11 failure message that never echoes an unexpected argument's value (it might be a secret
// typed where it does not belong): "unexpected argument(s): --secret-access-key (+1 value)".
// Other errors print as CLI11's default does. Returns the text to print.
std::string FailureMessage(const CLI::App* app, const std::exception& error);

}  // namespace mg::cli
