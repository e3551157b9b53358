#include "app/app.h"

#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "api/admin/admin_api.h"
#include "api/data_plane/data_plane.h"
#include "api/web/web.h"
#include "app/provider_gateway.h"
#include "auth/auth.h"
#include "auth/session.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/time.h"
#include "credentials/vault.h"
#include "health/health_monitor.h"
#include "net/http_client.h"
#include "providers/bedrock/client.h"
#include "routing/provider_router.h"
#include "server/blocking.h"
#include "server/metrics.h"
#include "server/server.h"
#include "state/publisher.h"
#include "store/sqlite/sqlite_store.h"
#include "usage/usage_recorder.h"

namespace mg::app {
namespace {

namespace asio = boost::asio;

LogLevel ParseLevel(const std::string& s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "warn") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

Result<void> EnsureDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Error(ErrorCode::kInternal, "data_dir",
                 "cannot create data directory '" + dir + "': " + ec.message());
  }
  ::chmod(dir.c_str(), 0700);
  return {};
}

// Creates the bootstrap org_admin when the store holds no user (admin-api "Bootstrap").
Result<void> Bootstrap(store::Store& store, const Clock& clock) {
  MG_TRY(int64_t users, store.CountUsers());
  if (users > 0) return {};
  std::string key;
  bool generated = false;
  if (auto env = config::RealGetEnv("MODELGATE_ADMIN_KEY"); env && !env->empty()) {
    if (env->size() < 16 || env->size() > 256) {
      return InvalidArgument("MODELGATE_ADMIN_KEY must be 16-256 characters long", "",
                             "invalid_config");
    }
    key = *env;
  } else {
    key = auth::GenerateApiKey().key;
    generated = true;
  }
  SystemTime now = clock.Now();
  store::User admin;
  admin.id = NewId("user", now);
  admin.name = "admin";
  admin.email = "admin@localhost";
  admin.role = store::Role::kOrgAdmin;
  admin.created_at = admin.updated_at = now;
  store::ApiKey k;
  k.id = NewId("key", now);
  k.user_id = admin.id;
  k.name = "bootstrap";
  k.prefix = key.substr(0, 12);
  k.hash = auth::HashApiKey(key);
  k.created_at = now;
  store::AuditEvent audit;
  audit.at = now;
  audit.actor = "system";
  audit.action = "user.bootstrap";
  audit.target = admin.id;
  audit.details = R"({"name":"admin","role":"org_admin"})";
  MG_TRY_VOID(store.CreateUser(admin, k, audit));
  if (generated) {
    // Printed once, on stderr, as the contract says; it is never stored in plaintext.
    std::cerr << "bootstrap admin API key (shown once): " << key << std::endl;
  }
  log::Info("bootstrap_admin_created", {{"user_id", admin.id}, {"key_prefix", k.prefix}});
  return {};
}

std::vector<api::admin::ProviderInfo> ProviderTable(bool bedrock_available) {
  return {
      {"bedrock", "AWS Bedrock", bedrock_available, true, {"access_keys", "role_arn"},
       // Regions where Bedrock Runtime (Converse) is offered.
       {"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
        "eu-west-2", "eu-west-3", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "us-gov-east-1",
        "us-gov-west-1"}},
      {"huggingface", "HuggingFace", false, false, {"api_key"}, {}},
      {"nvidia", "Nvidia", false, false, {"api_key"}, {}},
  };
}

// Writes API keys' last_used_at to the store every few seconds, off the request path.
asio::awaitable<void> FlushKeyUsage(state::SnapshotPublisher& publisher, store::Store& store,
                                    asio::thread_pool& pool) {
  std::unordered_map<std::string, int64_t> flushed;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::seconds(5));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto snap = publisher.Current();
    std::vector<std::pair<std::string, SystemTime>> used;
    for (const auto& [id, entry] : snap->keys_by_id()) {
      int64_t ms = entry.last_used_ms->load(std::memory_order_relaxed);
      if (ms > 0 && flushed[id] != ms) {
        used.emplace_back(id, FromUnixMillis(ms));
        flushed[id] = ms;
      }
    }
    if (!used.empty()) {
      // At shutdown the coroutine is cancelled and may not await any more: the final flush
      // blocks this (exiting) strand instead.
      // (An if, not a ?: around co_await: GCC 12 miscompiles that with non-trivial types.)
      Result<void> r;
      if (ec) {
        r = store.TouchApiKeys(used);
      } else {
        r = co_await server::RunBlocking(pool, [&] { return store.TouchApiKeys(used); });
      }
      if (!r) log::Warn("api_key_touch_failed", {{"message", r.error().message}});
    }
    if (ec) co_return;  // cancelled at shutdown, after a final flush
  }
}

// The data plane's usage event as the store keeps it.
store::UsageRecord ToUsageRecord(api::data_plane::UsageEvent e) {
  store::UsageRecord r;
  r.at = e.time;
  r.request_id = std::move(e.request_id);
  r.user_id = std::move(e.user_id);
  r.team_id = std::move(e.team_id);
  r.model_id = std::move(e.model_id);
  r.input_tokens = e.input_tokens;
  r.output_tokens = e.output_tokens;
  r.latency_ms = e.latency_ms;
  r.outcome = std::move(e.outcome);
  return r;
}

// Blocking: writes the queued usage records.
void FlushUsage(usage::UsageRecorder& recorder) {
  auto r = recorder.Flush();
  if (!r) log::Warn("usage_flush_failed", {{"message", r.error().message}});
}

// Writes usage records every second, off the request path; a final flush at shutdown.
asio::awaitable<void> FlushUsagePeriodically(usage::UsageRecorder& recorder,
                                             asio::thread_pool& pool) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      FlushUsage(recorder);  // cancelled at shutdown: may not await any more
      co_return;
    }
    co_await server::RunBlocking(pool, [&recorder] { FlushUsage(recorder); });
  }
}

// Bedrock timeouts from the configuration (bedrock.md §1).
providers::bedrock::BedrockOptions BedrockOptionsFor(const config::Config& cfg) {
  providers::bedrock::BedrockOptions o;
  const config::UpstreamTimeouts& t = cfg.upstream;
  o.converse_timeouts = {t.connect, t.converse, t.stream_idle, t.converse};
  o.stream_timeouts = {t.connect, t.stream_first_event, t.stream_idle, t.converse};
  o.control_timeouts = {t.connect, t.control_plane, t.control_plane, t.control_plane};
  o.sts_timeouts = {t.connect, t.control_plane, t.control_plane, t.control_plane};
  o.probe_timeouts = {t.connect, t.probe, t.probe, t.probe};
  o.max_retries = t.max_retries;
  o.retry_backoff = t.retry_backoff;
  return o;
}

void AddOpsRoutes(server::Router& router, store::Store& store, asio::thread_pool& pool,
                  server::Metrics& metrics) {
  router.Add("GET", "/healthz", [](server::Request) -> asio::awaitable<server::Response> {
    server::Response r = server::JsonResponse(200, R"({"status":"ok"})");
    co_return r;
  });
  router.Add("GET", "/readyz",
             [&store, &pool](server::Request req) -> asio::awaitable<server::Response> {
               auto ok = co_await server::RunBlocking(pool, [&] { return store.Ping(); });
               if (!ok) {
                 Error e(ErrorCode::kUnavailable, "store_unavailable",
                         "The store is not reachable: " + ok.error().message);
                 co_return server::ErrorResponse(e, req);
               }
               co_return server::JsonResponse(200, R"({"status":"ready"})");
             });
  router.Add("GET", "/metrics", [&metrics](server::Request) -> asio::awaitable<server::Response> {
    server::Response r;
    r.status = 200;
    r.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = metrics.Render();
    co_return r;
  });
}

}  // namespace

int Serve(const config::Config& cfg) {
  log::SetLevel(ParseLevel(cfg.log_level));
  auto fail = [](const Error& e) {
    log::Error("startup_failed", {{"reason", e.reason}, {"message", e.message}});
    std::cerr << "modelgate: " << e.message << std::endl;
    return 1;
  };
  RealClock clock;
  if (auto r = EnsureDataDir(cfg.data_dir); !r) return fail(r.error());

  auto store_or = store::sqlite::SqliteStore::Open(cfg.data_dir + "/modelgate.db");
  if (!store_or) return fail(store_or.error());
  std::unique_ptr<store::Store> store = std::move(*store_or);

  auto keyring = credentials::MasterKeyring::Load(cfg.data_dir, config::RealGetEnv);
  if (!keyring) return fail(keyring.error());
  auto vault_or = credentials::Vault::Open(*store, std::move(*keyring), clock);
  if (!vault_or) return fail(vault_or.error());
  std::unique_ptr<credentials::Vault> vault = std::move(*vault_or);

  if (auto r = Bootstrap(*store, clock); !r) return fail(r.error());

  state::SnapshotPublisher publisher(
      *store, [&vault](const store::SealedSecret& s, std::string_view aad) {
        return vault->Open(s, aad);
      });
  if (auto r = publisher.Rebuild(); !r) return fail(r.error());

  // Store calls block: they run here, never on I/O threads.
  asio::thread_pool store_pool(4);
  server::Metrics metrics;
  server::Router router;
  AddOpsRoutes(router, *store, store_pool, metrics);

  // Providers. Their HTTP client needs the server's io_context, which exists only once the
  // server is built (after the routes): handlers reach them through these holders, filled
  // before the server starts.
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<providers::bedrock::BedrockProvider> bedrock;
  std::unique_ptr<ProviderGateway> bedrock_gateway;
  routing::ProviderLookup provider_lookup =
      [&bedrock](std::string_view id) -> providers::Provider* {
    return id == "bedrock" ? bedrock.get() : nullptr;
  };

  // Passive health: every real call's outcome. The health monitor subscribes here.
  routing::OutcomeHook on_outcome;
  // Health monitoring runs on its own io_context and thread, with its own HTTP client and
  // provider instance, so probes never run on (or queue behind) the request threads. Filled
  // below, before the server starts; the hooks here reach the monitor through `health`.
  asio::io_context health_io;
  std::unique_ptr<net::HttpClient> health_http;
  std::unique_ptr<providers::bedrock::BedrockProvider> health_bedrock;
  std::unique_ptr<health::HealthMonitor> health;
  routing::ProviderRouter upstream(provider_lookup, clock,
                                   [&on_outcome](const std::string& model_id, const Error* error,
                                                 std::chrono::milliseconds latency) {
                                     if (on_outcome) on_outcome(model_id, error, latency);
                                   });

  usage::UsageRecorder usage_recorder(
      [&store](const std::vector<store::UsageRecord>& batch) { return store->AppendUsage(batch); });

  api::admin::Deps admin_deps{
      .store = *store,
      .publisher = publisher,
      .store_pool = store_pool,
      .clock = clock,
      .config = cfg,
      .seal = [&vault](const Secret& s, std::string_view aad) { return vault->Seal(s, aad); },
      .providers = ProviderTable(true),
      .gateway = [&bedrock_gateway](std::string_view provider) -> api::admin::ProviderGateway* {
        return provider == "bedrock" ? bedrock_gateway.get() : nullptr;
      },
      .on_credential_changed =
          [&health](const std::string& id) {
            if (health) health->CheckCredentialNow(id);
          },
      .on_models_changed =
          [&health](const std::vector<std::string>& ids) {
            if (health) health->CheckModelsNow(ids);
          },
      .flush_usage = [&usage_recorder] { FlushUsage(usage_recorder); },
      .health_state = [&health](std::string_view id) -> std::optional<store::HealthState> {
        return health ? health->State(id) : std::nullopt;
      },
  };
  admin_deps.check_now =
      [&health](std::string id) -> asio::awaitable<Result<api::admin::HealthCheckResult>> {
    if (!health) {
      co_return Error(ErrorCode::kUnavailable, "health_checks_unavailable",
                      "Health checks are not running on this gateway.");
    }
    auto r = co_await health->CheckNow(std::move(id));
    if (!r) co_return r.error();
    co_return api::admin::HealthCheckResult{std::move(r->state), std::move(r->check)};
  };
  // Browser sessions of the web console: the session cookie authenticates admin and data-plane
  // calls too (auth/session.h). In memory only: a restart signs browsers out.
  auth::SessionStore sessions;
  admin_deps.sessions = &sessions;
  api::admin::RegisterRoutes(router, admin_deps);
  api::web::Deps web_deps{.publisher = publisher, .clock = clock, .sessions = sessions};
  api::web::RegisterRoutes(router, web_deps);

  api::data_plane::Deps data_plane_deps{
      .publisher = publisher,
      .clock = clock,
      .config = cfg,
      .upstream = upstream,
      .record_usage = [&usage_recorder](api::data_plane::UsageEvent e) {
        usage_recorder.Record(ToUsageRecord(std::move(e)));
      },
      .pool_status = [&health](std::string_view id) -> api::data_plane::PoolStatus {
        if (!health) return {};
        const health::PoolStatus s = health->PoolState(id);
        return {s.in_pool, s.retry_after};
      },
  };
  data_plane_deps.sessions = &sessions;
  api::data_plane::RegisterRoutes(router, data_plane_deps);

  server::ServerOptions opts;
  opts.host = cfg.listen_host;
  opts.port = cfg.listen_port;
  opts.max_body_bytes = cfg.max_body_bytes;
  opts.max_header_bytes = cfg.max_header_bytes;
  opts.header_timeout = cfg.header_timeout;
  opts.body_timeout = cfg.body_timeout;
  opts.idle_timeout = cfg.idle_timeout;
  opts.shutdown_grace = cfg.shutdown_grace;
  opts.threads = cfg.threads;
  server::Server server(opts, std::move(router), metrics);

  net::HttpClient::Options http_options;
  if (auto ca = config::RealGetEnv("AWS_CA_BUNDLE"); ca && !ca->empty()) {
    http_options.ca_bundle_path = *ca;
  }
  http = std::make_unique<net::HttpClient>(server.io_context().get_executor(), http_options);
  bedrock = std::make_unique<providers::bedrock::BedrockProvider>(*http, BedrockOptionsFor(cfg));
  bedrock_gateway = std::make_unique<ProviderGateway>(*bedrock);

  health_http = std::make_unique<net::HttpClient>(health_io.get_executor(), http_options);
  health_bedrock =
      std::make_unique<providers::bedrock::BedrockProvider>(*health_http, BedrockOptionsFor(cfg));
  health::HealthMonitorOptions health_options;
  health_options.interval = cfg.health_interval;
  health_options.cooldown = cfg.health_cooldown;
  health_options.concurrency = cfg.health_concurrency;
  health_options.history = cfg.health_history;
  health_options.passive_threshold = cfg.health_passive_threshold;
  // Checks reach the store in batches of up to 100 ms: one commit (and fsync) for many checks.
  health_options.write_coalesce = std::chrono::milliseconds(100);
  health = std::make_unique<health::HealthMonitor>(
      health_io,
      [&health_bedrock](std::string_view id) -> providers::Provider* {
        return id == "bedrock" ? health_bedrock.get() : nullptr;
      },
      *store, store_pool, clock, metrics, health_options);
  on_outcome = [m = health.get()](const std::string& model_id, const Error* error,
                                  std::chrono::milliseconds latency) {
    m->RecordOutcome(model_id, error, latency);
  };
  publisher.OnPublish([m = health.get()](const std::shared_ptr<const state::Snapshot>& snap) {
    m->OnSnapshot(snap);
  });
  health->OnSnapshot(publisher.Current());

  if (auto r = server.Start(); !r) return fail(r.error());
  log::Info("config_loaded", {{"data_dir", cfg.data_dir},
                              {"health_interval", FormatDuration(cfg.health_interval)},
                              {"health_cooldown", FormatDuration(cfg.health_cooldown)}});

  server.Spawn([&] { return FlushKeyUsage(publisher, *store, store_pool); }, "key_usage_flush");
  server.Spawn([&] { return FlushUsagePeriodically(usage_recorder, store_pool); }, "usage_flush");
  auto health_work = asio::make_work_guard(health_io);
  std::thread health_thread([&health_io] { health_io.run(); });
  // The scheduler runs on health_io; the server's task group cancels it at shutdown.
  server.Spawn([&health] { return health->Run(); }, "health_monitor");
  server.Run();
  health_work.reset();
  health_io.stop();
  health_thread.join();
  store_pool.join();
  FlushUsage(usage_recorder);  // what the last requests recorded after the final periodic flush
  // The provider's pooled upstream sockets belong to the server's io_context, which `server`
  // destroys when it goes out of scope: close them first (declared before it, they would go
  // after it and touch a destroyed reactor).
  bedrock_gateway.reset();
  bedrock.reset();
  http.reset();
  log::Info("shutdown_complete");
  log::Flush();
  return 0;
}

int RotateVaultKey(const config::Config& cfg, std::ostream& out) {
  RealClock clock;
  auto store_or = store::sqlite::SqliteStore::Open(cfg.data_dir + "/modelgate.db");
  if (!store_or) {
    std::cerr << "modelgate: " << store_or.error().message << std::endl;
    return 1;
  }
  auto report = credentials::RotateMasterKey(**store_or, cfg.data_dir, config::RealGetEnv, clock);
  if (!report) {
    std::cerr << "modelgate: " << report.error().message << std::endl;
    return 1;
  }
  out << report->summary << std::endl;
  return 0;
}

}  // namespace mg::app
