// @file app.h
// @brief The composition root: builds and owns every long-lived service (store, vault, snapshot
// publisher, providers, health monitor, server) and runs `modelgate serve`. The only place that
// names concrete backends and providers.
#pragma once

#include <ostream>
#include <string>

#include "config/config.h"

namespace mg::app {

// Runs the server until SIGTERM/SIGINT. Returns the process exit code (0 after a graceful
// shutdown). Start-up problems are printed as one clear line and return 1.
int Serve(const config::Config& config);

// `modelgate vault rotate-key`: re-wraps every data key under a new master key and writes a
// one-line summary to `out`.
int RotateVaultKey(const config::Config& config, std::ostream& out);

}  // namespace mg::app
