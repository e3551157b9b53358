// The client subcommands' shared machinery: Session, Registry, auth flags and secrets, the
// CLI11 failure message, and ClientCommands (which adds every command group).
#include "cli/commands.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "cli/api_error.h"
#include "cli/command.h"
#include "cli/exit_codes.h"
#include "core/time.h"

namespace mg::cli {

namespace json = boost::json;

namespace {
constexpr std::string_view kDefaultUrl = "http://127.0.0.1:8080";
}  // namespace

// ---------------------------------------------------------------------------------------------
// Session

Session::Session(Io& io, bool json, std::unique_ptr<AdminClient> client)
    : io_(io), json_(json), client_(std::move(client)) {}

Session::Reply Session::Call(std::string_view method, std::string_view target, std::string body) {
  Reply reply;
  auto resp = client_->Send(method, target, std::move(body));
  if (!resp) {
    const Error& e = resp.error();
    if (e.reason == "tls_config") {
      reply.exit_code = Fail(kExitUsage, "--ca-bundle: " + e.message);
    } else {
      reply.exit_code = Fail(kExitUnreachable,
                             "cannot reach the server at " + client_->origin() + ": " + e.message);
    }
    return reply;
  }
  reply.status = resp->status;
  reply.body = std::move(resp->body);
  reply.exit_code = ExitCodeForStatus(reply.status);
  if (reply.exit_code != kExitOk) {
    Fail(reply.exit_code, FormatApiError(ParseApiError(reply.status, reply.body)));
  }
  return reply;
}

void Session::PrintRaw(const std::string& body) {
  if (body.empty()) return;
  io_.out << body;
  if (body.back() != '\n') io_.out << '\n';
}

std::optional<json::value> Session::ParseBody(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    Fail(kExitApiError, "the server's answer is not a JSON object; is --url a modelgate server?");
    return std::nullopt;
  }
  return v;
}

int Session::Fail(int exit_code, std::string_view message) {
  io_.err << "modelgate: " << message << '\n';
  return exit_code;
}

int Session::Show(const Reply& r, const std::function<std::string(const json::value&)>& render) {
  if (r.exit_code != kExitOk) return r.exit_code;
  if (json_) {
    PrintRaw(r.body);
    return kExitOk;
  }
  auto v = ParseBody(r.body);
  if (!v) return kExitApiError;
  io_.out << render(*v);
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// Registry

CLI::App* Registry::Add(CLI::App& parent, std::string name, std::string description, RunFn run) {
  CLI::App* app = parent.add_subcommand(std::move(name), std::move(description));
  leaves_.push_back(Leaf{app, std::move(run)});
  return app;
}

void Registry::AddConnectionFlags() {
  const char* group = "Connection";
  for (const Leaf& leaf : leaves_) {
    CLI::App* app = leaf.app;
    // The environment is read in Run(), not through CLI11's envname: CLI11 applies envname to
    // the options of every subcommand, parsed or not, and these all share one variable.
    app->add_option("--url", flags_.url, "Server base URL (env MODELGATE_URL)")
        ->default_str(std::string(kDefaultUrl))
        ->group(group);
    CLI::Option* key = app->add_option("--api-key", flags_.api_key,
                                       "API key; prefer MODELGATE_API_KEY or --api-key-file "
                                       "(arguments are visible to other local users)")
                           ->group(group);
    CLI::Option* key_file =
        app->add_option("--api-key-file", flags_.api_key_file, "Read the API key from FILE")
            ->group(group);
    key->excludes(key_file);
    app->add_option("--ca-bundle", flags_.ca_bundle,
                    "PEM file of CAs to trust for https (env MODELGATE_CA_BUNDLE)")
        ->group(group);
    app->add_option("--timeout", flags_.timeout, "Give up after this long")
        ->default_str("120s")
        ->group(group);
    app->add_flag("--json", flags_.json, "Print the API's JSON unchanged, for scripts")
        ->group(group);
  }
}

bool Registry::selected() const {
  for (const Leaf& leaf : leaves_) {
    if (leaf.app->parsed()) return true;
  }
  return false;
}

int Registry::Run() {
  const Leaf* chosen = nullptr;
  for (const Leaf& leaf : leaves_) {
    if (leaf.app->parsed()) chosen = &leaf;
  }
  if (chosen == nullptr) return kExitUsage;
  auto fail = [&](std::string_view message) {
    io_.err << "modelgate: " << message << '\n';
    return kExitUsage;
  };

  auto env = [&](std::string_view name) -> std::optional<std::string> {
    auto v = io_.getenv ? io_.getenv(name) : std::nullopt;
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  AdminClientOptions options;
  options.url = flags_.url.value_or(env("MODELGATE_URL").value_or(std::string(kDefaultUrl)));
  options.ca_bundle = flags_.ca_bundle ? flags_.ca_bundle : env("MODELGATE_CA_BUNDLE");
  auto timeout = ParseDuration(flags_.timeout);
  if (!timeout || timeout->count() <= 0) {
    return fail("--timeout: give a positive duration such as 30s or 2m");
  }
  options.timeout = *timeout;
  if (flags_.api_key) {
    options.api_key = Secret(*flags_.api_key);
  } else if (flags_.api_key_file) {
    auto key = ReadSecretFile(*flags_.api_key_file, "--api-key-file");
    if (!key) return fail(key.error().message);
    options.api_key = std::move(*key);
  } else if (auto key = env("MODELGATE_API_KEY")) {
    options.api_key = Secret(std::move(*key));
  }
  if (options.api_key.empty()) {
    return fail("no API key: set MODELGATE_API_KEY, or pass --api-key-file FILE");
  }
  std::string_view k = options.api_key.Reveal();
  if (k.find_first_of("\r\n") != std::string_view::npos) {
    return fail("the API key must be on one line");
  }
  auto client = AdminClient::Create(std::move(options));
  if (!client) return fail("--url: " + client.error().message);
  Session session(io_, flags_.json, std::move(*client));
  return chosen->run(session);
}

// ---------------------------------------------------------------------------------------------
// Secrets and auth flags

namespace {

Secret TrimTrailingNewlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return Secret(std::move(text));
}

}  // namespace

Result<Secret> ReadSecretStream(std::istream& in, std::string_view what) {
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  Secret s = TrimTrailingNewlines(std::move(text));
  if (s.empty()) {
    return InvalidArgument(std::string(what) +
                           ": nothing on stdin; pipe the secret in, e.g. "
                           "`... < secret.txt`");
  }
  return s;
}

Result<Secret> ReadSecretFile(const std::string& path, std::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return InvalidArgument(std::string(what) + ": cannot read '" + path + "'");
  std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) return InvalidArgument(std::string(what) + ": cannot read '" + path + "'");
  Secret s = TrimTrailingNewlines(std::move(text));
  if (s.empty()) return InvalidArgument(std::string(what) + ": '" + path + "' is empty");
  return s;
}

void AddAuthFlags(CLI::App* app, AuthFlags& f) {
  const char* group = "Provider auth (secrets only from stdin or a file)";
  auto* akid = app->add_option("--access-key-id", f.access_key_id, "AWS access key id (AKIA...)")
                   ->group(group);
  auto* s_in = app->add_flag("--secret-access-key-stdin", f.secret_stdin,
                             "Read the secret access key from stdin")
                   ->group(group);
  auto* s_file = app->add_option("--secret-access-key-file", f.secret_file,
                                 "Read the secret access key from FILE")
                     ->group(group);
  auto* t_in = app->add_flag("--session-token-stdin", f.token_stdin,
                             "Read an AWS session token from stdin (optional)")
                   ->group(group);
  auto* t_file = app->add_option("--session-token-file", f.token_file,
                                 "Read an AWS session token from FILE (optional)")
                     ->group(group);
  auto* role = app->add_option("--role-arn", f.role_arn,
                               "IAM role the gateway assumes (arn:aws:iam::ACCOUNT:role/NAME)")
                   ->group(group);
  app->add_option("--session-name", f.session_name, "Role session name")->group(group)->needs(role);
  app->add_option("--external-id", f.external_id, "External id the role requires")
      ->group(group)
      ->needs(role);
  s_in->excludes(s_file);
  t_in->excludes(t_file);
  s_in->excludes(t_in);
  for (CLI::Option* o : {akid, s_in, s_file, t_in, t_file}) {
    o->excludes(role);
    role->excludes(o);
  }
}

Result<std::optional<json::object>> ReadAuth(const AuthFlags& f, Io& io) {
  bool secret_flag = f.secret_stdin || !f.secret_file.empty();
  bool token_flag = f.token_stdin || !f.token_file.empty();
  if (!f.role_arn.empty()) {
    json::object auth{{"type", "role_arn"}, {"role_arn", f.role_arn}};
    if (!f.session_name.empty()) auth["session_name"] = f.session_name;
    if (!f.external_id.empty()) auth["external_id"] = f.external_id;
    return std::optional<json::object>(std::move(auth));
  }
  if (f.access_key_id.empty()) {
    if (secret_flag || token_flag) {
      return InvalidArgument("--secret-access-key-* and --session-token-* need --access-key-id");
    }
    return std::optional<json::object>();
  }
  if (!secret_flag) {
    return InvalidArgument(
        "--access-key-id needs the secret: --secret-access-key-stdin or "
        "--secret-access-key-file FILE");
  }
  Secret secret;
  if (f.secret_stdin) {
    MG_TRY(secret, ReadSecretStream(io.in, "--secret-access-key-stdin"));
  } else {
    MG_TRY(secret, ReadSecretFile(f.secret_file, "--secret-access-key-file"));
  }
  json::object auth{{"type", "access_keys"},
                    {"access_key_id", f.access_key_id},
                    {"secret_access_key", secret.Reveal()}};
  if (f.token_stdin) {
    MG_TRY(Secret token, ReadSecretStream(io.in, "--session-token-stdin"));
    auth["session_token"] = token.Reveal();
  } else if (!f.token_file.empty()) {
    MG_TRY(Secret token, ReadSecretFile(f.token_file, "--session-token-file"));
    auth["session_token"] = token.Reveal();
  }
  return std::optional<json::object>(std::move(auth));
}

// ---------------------------------------------------------------------------------------------
// ClientCommands

struct ClientCommands::State {
  State(std::istream& in, std::ostream& out, std::ostream& err, GetEnv getenv)
      : io{in, out, err, std::move(getenv)}, registry(io, flags) {}
  Io io;
  ConnectionFlags flags;
  Registry registry;
};

ClientCommands::ClientCommands(CLI::App& root, std::istream& in, std::ostream& out,
                               std::ostream& err, GetEnv getenv)
    : state_(std::make_unique<State>(in, out, err, std::move(getenv))) {
  AddCredentialCommands(root, state_->registry);
  AddModelCommands(root, state_->registry);
  AddIdentityCommands(root, state_->registry);
  AddReportCommands(root, state_->registry);
  // Last, so each leaf's help lists its own flags first.
  state_->registry.AddConnectionFlags();
}

ClientCommands::~ClientCommands() = default;

bool ClientCommands::selected() const { return state_->registry.selected(); }

int ClientCommands::Run() { return state_->registry.Run(); }

void ScrubApiKeyArguments(int argc, char** argv) {
  auto wipe = [](char* s) {
    for (char* p = s; *p != '\0'; ++p) *p = 'x';
  };
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--api-key") == 0 && i + 1 < argc) {
      wipe(argv[i + 1]);
      ++i;
    } else if (std::strncmp(argv[i], "--api-key=", 10) == 0) {
      wipe(argv[i] + 10);
    }
  }
}

std::string FailureMessage(const CLI::App* app, const std::exception& error) {
  const auto* extras = dynamic_cast<const CLI::ExtrasError*>(&error);
  if (extras == nullptr) {
    const auto* e = dynamic_cast<const CLI::Error*>(&error);
    if (e != nullptr) return CLI::FailureMessage::simple(app, *e);
    return std::string(error.what()) + "\n";
  }
  // "The following argument(s) ... not expected: a b c": keep flag names, count the rest.
  std::string what = extras->what();
  size_t colon = what.find(": ");
  std::istringstream tokens(colon == std::string::npos ? std::string() : what.substr(colon + 2));
  std::string flags;
  int values = 0;
  for (std::string t; tokens >> t;) {
    if (t.size() > 1 && t[0] == '-') {
      flags += (flags.empty() ? "" : " ") + t.substr(0, t.find('='));
    } else {
      ++values;
    }
  }
  std::string out = "unexpected argument(s):";
  if (!flags.empty()) out += " " + flags;
  if (values > 0) out += " (+" + std::to_string(values) + (values == 1 ? " value)" : " values)");
  out += "\nRun with --help for more information.\n";
  return out;
}

}  // namespace mg::cli
