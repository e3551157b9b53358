// @file config.h
// @brief Typed configuration of `modelgate serve`, with defaults in the member initialisers.
//
// Sources, later ones winning: defaults < TOML file (--config / MODELGATE_CONFIG) <
// MODELGATE_* environment variables < command-line flags. Unknown keys in the file are errors
// naming the key path. Secrets never come from the file (master key, admin key, AWS identity
// are environment variables read by their owners). Thread-safety: value type, read-only after
// loading.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/result.h"

namespace mg::config {

struct UpstreamTimeouts {
  std::chrono::milliseconds connect{10000};
  std::chrono::milliseconds converse{120000};      // whole non-streaming call
  std::chrono::milliseconds stream_first_event{30000};
  std::chrono::milliseconds stream_idle{60000};
  std::chrono::milliseconds control_plane{30000};  // catalog, STS
  std::chrono::milliseconds probe{30000};
  // Data-plane retries of retryable upstream failures (bedrock.md §7.2): at most max_retries,
  // backoff retry_backoff * 2^n with jitter.
  int max_retries = 2;
  std::chrono::milliseconds retry_backoff{500};
};

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string data_dir = "./var";
  std::chrono::milliseconds health_interval{5 * 60 * 1000};
  std::chrono::milliseconds health_cooldown{60 * 1000};
  int health_concurrency = 16;        // probes in flight at once
  int health_history = 50;            // checks kept per model
  // Consecutive failed real requests (provider 5xx, timeouts, network) that take a model out of
  // the pool; credential and permission failures need one. 0 turns passive detection off.
  int health_passive_threshold = 3;
  std::string log_level = "info";     // debug, info, warn, error
  int credential_rotation_days = 90;  // rotation_due after this many days
  bool hide_ungranted_models = false; // 404 instead of 403 for models not shared with the caller
  bool writer_done_sentinel = true;   // send data: [DONE] on /v1/chat streams
  // SSE comment sent on a stream after this long without a chunk (client-api §5.5: 15 s).
  std::chrono::milliseconds stream_heartbeat_interval{15000};
  // HTTP server limits.
  size_t max_body_bytes = 10 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds shutdown_grace{10000};
  int threads = 0;  // I/O threads; 0 = number of cores
  UpstreamTimeouts upstream;
  // The gateway's own limit per API key on model calls (429 rate_limit_exceeded); 0 = none.
  int key_requests_per_minute = 0;
  int key_burst = 0;  // tokens a key may spend at once; 0 = key_requests_per_minute
};

using GetEnv = std::function<std::optional<std::string>(std::string_view)>;

// Parses "HOST:PORT" ("127.0.0.1:0", "[::1]:8080", "localhost:80").
Result<std::pair<std::string, uint16_t>> ParseListen(std::string_view s);

// Applies a TOML document to `cfg`. Errors name the key path: "server.max_body_bytes: ...".
Result<void> ApplyToml(std::string_view toml_text, std::string_view source_name, Config& cfg);
// Applies MODELGATE_* variables (LISTEN, DATA_DIR, HEALTH_INTERVAL, HEALTH_COOLDOWN, LOG_LEVEL,
// CREDENTIAL_ROTATION_DAYS, MAX_BODY_BYTES).
Result<void> ApplyEnv(const GetEnv& getenv, Config& cfg);
// Reads the file and applies it.
Result<void> ApplyFile(const std::string& path, Config& cfg);
// Cross-field checks (ranges, non-empty dirs).
Result<void> Validate(const Config& cfg);

// The real environment.
std::optional<std::string> RealGetEnv(std::string_view name);

}  // namespace mg::config
