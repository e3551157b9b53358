// modelgate: parses the command line, loads configuration and runs the app (serve, vault), or
// runs a client subcommand against a running server's admin API (src/cli). Nothing else.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/app.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "config/config.h"
#include "core/time.h"

namespace {

// Loads defaults < file < environment < flags into `cfg`; prints the error and returns false
// on a problem.
bool LoadConfig(const std::string& config_file, const std::optional<std::string>& listen,
                const std::optional<std::string>& data_dir,
                const std::optional<std::string>& health_interval,
                const std::optional<std::string>& health_cooldown, mg::config::Config& cfg) {
  auto report = [](const mg::Error& e) {
    std::cerr << "modelgate: " << e.message << std::endl;
    return false;
  };
  std::string file = config_file;
  if (file.empty()) file = mg::config::RealGetEnv("MODELGATE_CONFIG").value_or("");
  if (!file.empty()) {
    if (auto r = mg::config::ApplyFile(file, cfg); !r) return report(r.error());
  }
  if (auto r = mg::config::ApplyEnv(mg::config::RealGetEnv, cfg); !r) return report(r.error());
  if (listen) {
    auto hp = mg::config::ParseListen(*listen);
    if (!hp) return report(mg::InvalidArgument("--listen: " + hp.error().message));
    cfg.listen_host = hp->first;
    cfg.listen_port = hp->second;
  }
  if (data_dir) cfg.data_dir = *data_dir;
  if (health_interval) {
    auto d = mg::ParseDuration(*health_interval);
    if (!d) return report(mg::InvalidArgument("--health-interval: " + d.error().message));
    cfg.health_interval = *d;
  }
  if (health_cooldown) {
    auto d = mg::ParseDuration(*health_cooldown);
    if (!d) return report(mg::InvalidArgument("--health-cooldown: " + d.error().message));
    cfg.health_cooldown = *d;
  }
  if (auto r = mg::config::Validate(cfg); !r) return report(r.error());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"modelgate: govern the external AI models your teams use"};
  cli.require_subcommand(1);

  std::string config_file;
  std::optional<std::string> listen, data_dir, health_interval, health_cooldown;
  CLI::App* serve = cli.add_subcommand("serve", "Run the gateway (admin API, data plane, UI)");
  serve->add_option("--config", config_file, "TOML configuration file");
  serve->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  serve->add_option("--data-dir", data_dir, "Directory for the database and key file (./var)");
  serve->add_option("--health-interval", health_interval, "Time between checks (default 5m)");
  serve->add_option("--health-cooldown", health_cooldown,
                    "Wait before re-probing an unhealthy model (default 1m)");

  CLI::App* vault = cli.add_subcommand("vault", "Manage the secrets vault");
  vault->require_subcommand(1);
  CLI::App* rotate = vault->add_subcommand(
      "rotate-key", "Re-wrap every data key under a new master key (no downtime)");
  rotate->add_option("--config", config_file, "TOML configuration file");
  rotate->add_option("--data-dir", data_dir, "Data directory (default ./var)");

  // Client subcommands (admin API), added after serve and vault so that only the client
  // subcommands inherit the exit-code footer.
  cli.footer(std::string(mg::cli::kExitCodesHelp));
  cli.failure_message(mg::cli::FailureMessage);
  mg::cli::ClientCommands client(cli, std::cin, std::cout, std::cerr, mg::config::RealGetEnv);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and succeeds; every other parse failure is a usage error.
    return cli.exit(e) == 0 ? 0 : mg::cli::kExitUsage;
  }
  mg::cli::ScrubApiKeyArguments(argc, argv);
  if (client.selected()) return client.Run();

  mg::config::Config cfg;
  if (!LoadConfig(config_file, listen, data_dir, health_interval, health_cooldown, cfg)) {
    return 2;
  }
  if (serve->parsed()) return mg::app::Serve(cfg);
  if (rotate->parsed()) return mg::app::RotateVaultKey(cfg, std::cout);
  return 2;
}
