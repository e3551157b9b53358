#include "config/config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "core/time.h"

namespace mg::config {
namespace {

Error KeyError(std::string_view path, std::string message) {
  return InvalidArgument(std::string(path) + ": " + message, std::string(path), "invalid_config");
}

Result<std::chrono::milliseconds> DurationFrom(std::string_view path, std::string_view text) {
  auto d = ParseDuration(text);
  if (!d) return KeyError(path, d.error().message);
  return *d;
}

Result<int64_t> IntFrom(std::string_view path, std::string_view text, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return KeyError(path, "expected an integer, got '" + std::string(text) + "'");
  }
  if (v < lo || v > hi) {
    return KeyError(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return v;
}

Result<bool> BoolFrom(std::string_view path, std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return KeyError(path, "expected true or false, got '" + std::string(text) + "'");
}

Result<std::string> LevelFrom(std::string_view path, std::string_view text) {
  if (text == "debug" || text == "info" || text == "warn" || text == "error") {
    return std::string(text);
  }
  return KeyError(path, "expected one of debug, info, warn, error");
}

// One settable option: how to apply a textual value (env, flags) to the config. The TOML reader
// converts scalars to text first, so all three sources share these setters and their checks.
struct Option {
  std::string_view key;  // TOML path
  std::string_view env;  // MODELGATE_* name, empty when not settable by env
  std::function<Result<void>(std::string_view path, std::string_view value, Config&)> set;
};

template <class F>
Option Dur(std::string_view key, std::string_view env, F field) {
  return {key, env, [field](std::string_view p, std::string_view v, Config& c) -> Result<void> {
            MG_TRY(auto d, DurationFrom(p, v));
            field(c) = d;
            return {};
          }};
}

template <class F>
Option Int(std::string_view key, std::string_view env, int64_t lo, int64_t hi, F field) {
  return {key, env, [=](std::string_view p, std::string_view v, Config& c) -> Result<void> {
            MG_TRY(auto n, IntFrom(p, v, lo, hi));
            field(c) = static_cast<std::remove_reference_t<decltype(field(c))>>(n);
            return {};
          }};
}

template <class F>
Option Bool(std::string_view key, std::string_view env, F field) {
  return {key, env, [=](std::string_view p, std::string_view v, Config& c) -> Result<void> {
            MG_TRY(auto b, BoolFrom(p, v));
            field(c) = b;
            return {};
          }};
}

const std::vector<Option>& Options() {
  static const std::vector<Option> options = {
      {"listen", "MODELGATE_LISTEN",
       [](std::string_view p, std::string_view v, Config& c) -> Result<void> {
         auto hp = ParseListen(v);
         if (!hp) return KeyError(p, hp.error().message);
         c.listen_host = hp->first;
         c.listen_port = hp->second;
         return {};
       }},
      {"data_dir", "MODELGATE_DATA_DIR",
       [](std::string_view p, std::string_view v, Config& c) -> Result<void> {
         if (v.empty()) return KeyError(p, "must not be empty");
         c.data_dir = std::string(v);
         return {};
       }},
      {"log_level", "MODELGATE_LOG_LEVEL",
       [](std::string_view p, std::string_view v, Config& c) -> Result<void> {
         MG_TRY(c.log_level, LevelFrom(p, v));
         return {};
       }},
      Dur("health_interval", "MODELGATE_HEALTH_INTERVAL",
          [](Config& c) -> auto& { return c.health_interval; }),
      Dur("health_cooldown", "MODELGATE_HEALTH_COOLDOWN",
          [](Config& c) -> auto& { return c.health_cooldown; }),
      Int("health_concurrency", "MODELGATE_HEALTH_CONCURRENCY", 1, 1024,
          [](Config& c) -> auto& { return c.health_concurrency; }),
      Int("health_history", "", 1, 1000, [](Config& c) -> auto& { return c.health_history; }),
      Int("health_passive_threshold", "", 0, 1000,
          [](Config& c) -> auto& { return c.health_passive_threshold; }),
      Int("credential_rotation_days", "MODELGATE_CREDENTIAL_ROTATION_DAYS", 1, 3650,
          [](Config& c) -> auto& { return c.credential_rotation_days; }),
      Bool("hide_ungranted_models", "MODELGATE_HIDE_UNGRANTED_MODELS",
           [](Config& c) -> auto& { return c.hide_ungranted_models; }),
      Bool("stream.writer_done_sentinel", "",
           [](Config& c) -> auto& { return c.writer_done_sentinel; }),
      Dur("stream.heartbeat_interval", "",
          [](Config& c) -> auto& { return c.stream_heartbeat_interval; }),
      Int("server.max_body_bytes", "MODELGATE_MAX_BODY_BYTES", 1024, int64_t{1} << 30,
          [](Config& c) -> auto& { return c.max_body_bytes; }),
      Int("server.max_header_bytes", "", 1024, 1 << 20,
          [](Config& c) -> auto& { return c.max_header_bytes; }),
      Int("server.threads", "MODELGATE_THREADS", 0, 256, [](Config& c) -> auto& { return c.threads; }),
      Dur("server.header_timeout", "", [](Config& c) -> auto& { return c.header_timeout; }),
      Dur("server.body_timeout", "", [](Config& c) -> auto& { return c.body_timeout; }),
      Dur("server.idle_timeout", "", [](Config& c) -> auto& { return c.idle_timeout; }),
      Dur("server.shutdown_grace", "", [](Config& c) -> auto& { return c.shutdown_grace; }),
      Dur("upstream.connect_timeout", "", [](Config& c) -> auto& { return c.upstream.connect; }),
      Dur("upstream.converse_timeout", "",
          [](Config& c) -> auto& { return c.upstream.converse; }),
      Dur("upstream.stream_first_event_timeout", "",
          [](Config& c) -> auto& { return c.upstream.stream_first_event; }),
      Dur("upstream.stream_idle_timeout", "",
          [](Config& c) -> auto& { return c.upstream.stream_idle; }),
      Dur("upstream.control_plane_timeout", "",
          [](Config& c) -> auto& { return c.upstream.control_plane; }),
      Dur("upstream.probe_timeout", "", [](Config& c) -> auto& { return c.upstream.probe; }),
      Int("upstream.max_retries", "", 0, 10, [](Config& c) -> auto& { return c.upstream.max_retries; }),
      Dur("upstream.retry_backoff", "", [](Config& c) -> auto& { return c.upstream.retry_backoff; }),
      Int("limits.key_requests_per_minute", "MODELGATE_KEY_REQUESTS_PER_MINUTE", 0, 10000000,
          [](Config& c) -> auto& { return c.key_requests_per_minute; }),
      Int("limits.key_burst", "", 0, 10000000, [](Config& c) -> auto& { return c.key_burst; }),
  };
  return options;
}

const Option* FindOption(std::string_view key) {
  for (const Option& o : Options()) {
    if (o.key == key) return &o;
  }
  return nullptr;
}

bool IsSection(std::string_view key) {
  for (const Option& o : Options()) {
    if (o.key.size() > key.size() && o.key.substr(0, key.size()) == key &&
        o.key[key.size()] == '.') {
      return true;
    }
  }
  return false;
}

Result<void> ApplyTable(const toml::table& table, const std::string& prefix, Config& cfg) {
  for (const auto& [k, node] : table) {
    std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = node.as_table()) {
      if (!IsSection(path)) return KeyError(path, "unknown section");
      MG_TRY_VOID(ApplyTable(*sub, path, cfg));
      continue;
    }
    const Option* opt = FindOption(path);
    if (!opt) return KeyError(path, "unknown key");
    std::string text;
    if (auto s = node.value<std::string>()) {
      text = *s;
    } else if (auto b = node.as_boolean()) {
      text = b->get() ? "true" : "false";
    } else if (auto i = node.as_integer()) {
      text = std::to_string(i->get());
    } else {
      return KeyError(path, "expected a string, integer or boolean");
    }
    MG_TRY_VOID(opt->set(path, text, cfg));
  }
  return {};
}

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseListen(std::string_view s) {
  auto bad = [&](std::string why) {
    return InvalidArgument("invalid listen address '" + std::string(s) + "': " + why +
                           " (expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:0)");
  };
  std::string host;
  std::string_view port_text;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return bad("unterminated IPv6 address");
    }
    host = std::string(s.substr(1, close - 1));
    port_text = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    host = std::string(s.substr(0, colon));
    port_text = s.substr(colon + 1);
  }
  if (host.empty()) return bad("missing host");
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad("port must be 0-65535");
  }
  return std::pair<std::string, uint16_t>{host, static_cast<uint16_t>(port)};
}

Result<void> ApplyToml(std::string_view toml_text, std::string_view source_name, Config& cfg) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << source_name << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
       << e.description();
    return InvalidArgument(os.str(), "", "invalid_config");
  }
  return ApplyTable(table, "", cfg);
}

Result<void> ApplyFile(const std::string& path, Config& cfg) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read config file '" + path + "'", "", "invalid_config");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ApplyToml(ss.str(), path, cfg);
}

Result<void> ApplyEnv(const GetEnv& getenv, Config& cfg) {
  for (const Option& o : Options()) {
    if (o.env.empty()) continue;
    auto v = getenv(o.env);
    if (!v || v->empty()) continue;
    MG_TRY_VOID(o.set(o.env, *v, cfg));
  }
  return {};
}

Result<void> Validate(const Config& cfg) {
  if (cfg.health_interval.count() <= 0) {
    return KeyError("health_interval", "must be greater than 0");
  }
  if (cfg.health_cooldown.count() <= 0) {
    return KeyError("health_cooldown", "must be greater than 0");
  }
  return {};
}

std::optional<std::string> RealGetEnv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

}  // namespace mg::config
