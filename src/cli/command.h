// @file command.h
// @brief What every command group of the CLI shares (internal to src/cli): the streams, the
// connection flags every client subcommand takes, the Session a command talks through, the
// Registry that wires a leaf subcommand to its run function, and the provider auth flags of
// credentials and models (secrets from stdin or a file only).
//
// Thread-safety: none of these are synchronised; the CLI runs on one thread.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/fwd.hpp>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/admin_client.h"
#include "core/result.h"
#include "core/secret.h"

namespace mg::cli {

// The process's streams and environment, injected so nothing here names std::cout.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  std::function<std::optional<std::string>(std::string_view)> getenv;
};

// Flags every client subcommand accepts (added to each leaf by Registry::AddConnectionFlags).
struct ConnectionFlags {
  std::optional<std::string> url;      // --url, else env MODELGATE_URL, else local 8080
  std::optional<std::string> api_key;  // --api-key (MODELGATE_API_KEY is read when absent)
  std::optional<std::string> api_key_file;
  std::optional<std::string> ca_bundle;  // --ca-bundle, else env MODELGATE_CA_BUNDLE
  std::string timeout = "120s";
  bool json = false;
};

// One invocation's connection and output mode. Commands call the API through Call(), which
// prints any failure (API error or transport) to stderr and returns its exit code.
class Session {
 public:
  Session(Io& io, bool json, std::unique_ptr<AdminClient> client);

  struct Reply {
    int exit_code = 0;  // 0 for a 2xx/3xx answer; else the exit_codes.h code (already printed)
    int status = 0;     // HTTP status, 0 when the server could not be reached
    std::string body;
  };
  Reply Call(std::string_view method, std::string_view target, std::string body = {});

  bool json() const { return json_; }
  Io& io() { return io_; }

  // --json output: the API's body unchanged, plus a final newline. Nothing for an empty body.
  void PrintRaw(const std::string& body);
  // Parses a successful answer for human output; on a body that is not JSON prints why and
  // returns nullopt (exit code kExitApiError).
  std::optional<boost::json::value> ParseBody(const std::string& body);
  // Prints "modelgate: <message>" on stderr and returns `exit_code`.
  int Fail(int exit_code, std::string_view message);
  // The usual end of a command: a failed call's exit code; with --json the body unchanged;
  // otherwise `render` of the parsed body on stdout. Returns the exit code.
  int Show(const Reply& r, const std::function<std::string(const boost::json::value&)>& render);

 private:
  Io& io_;
  bool json_;
  std::unique_ptr<AdminClient> client_;
};

using RunFn = std::function<int(Session&)>;

// Owns the leaf subcommands' run functions; Run() executes the one the parse selected.
class Registry {
 public:
  Registry(Io& io, ConnectionFlags& flags) : io_(io), flags_(flags) {}

  // Adds leaf `name` under `parent`; `run` runs when it is chosen.
  CLI::App* Add(CLI::App& parent, std::string name, std::string description, RunFn run);
  // Adds the ConnectionFlags options (--url, --api-key, --api-key-file, --ca-bundle,
  // --timeout, --json) to every leaf added so far. Called once, after all groups.
  void AddConnectionFlags();

  // True when the parse selected one of the leaves added here.
  bool selected() const;
  // Builds the Session (usage errors: no API key, bad --url or --timeout) and runs the leaf.
  int Run();

 private:
  struct Leaf {
    CLI::App* app;
    RunFn run;
  };
  Io& io_;
  ConnectionFlags& flags_;
  std::vector<Leaf> leaves_;
};

// Provider auth flags (admin-api "Credentials": access_keys or role_arn). A secret is never a
// flag value: --secret-access-key-stdin / --secret-access-key-file FILE, and the same for the
// optional session token.
struct AuthFlags {
  std::string access_key_id;
  bool secret_stdin = false;
  std::string secret_file;
  bool token_stdin = false;
  std::string token_file;
  std::string role_arn;
  std::string session_name;
  std::string external_id;

  // True when any auth flag was given.
  bool given() const { return !access_key_id.empty() || !role_arn.empty(); }
};

// Adds the auth flags to `app`, with their exclusions (keys xor role, stdin xor file).
void AddAuthFlags(CLI::App* app, AuthFlags& flags);

// Reads the secrets the flags point at and builds the "auth" object. Returns nullopt when no
// auth flag was given. Errors (kInvalidArgument, exit kExitUsage): an access key id without a
// secret source, a secret flag without --access-key-id, both secrets from stdin, an empty
// stdin or file, a file that cannot be read. Messages never contain a secret.
Result<std::optional<boost::json::object>> ReadAuth(const AuthFlags& flags, Io& io);

// Reads a secret from `in` (stdin) or a file: the whole content with trailing CR/LF removed.
// Errors (kInvalidArgument): empty, or the file cannot be read (the message names `what` and
// the path, never the content).
Result<Secret> ReadSecretStream(std::istream& in, std::string_view what);
Result<Secret> ReadSecretFile(const std::string& path, std::string_view what);

// Command groups (one file each).
void AddCredentialCommands(CLI::App& root, Registry& registry);
void AddModelCommands(CLI::App& root, Registry& registry);
void AddIdentityCommands(CLI::App& root, Registry& registry);  // teams, users, keys, me
void AddReportCommands(CLI::App& root, Registry& registry);    // providers, health, audit, usage

}  // namespace mg::cli
