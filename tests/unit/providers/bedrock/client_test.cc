// BedrockProvider against the local fake AWS (tests/fakes/fake-aws.mjs, started here as a
// subprocess on port 0): catalog, credential test, Converse, ConverseStream, AssumeRole and its
// cache, error classification (throttling, mid-stream exception, dropped connection, corrupt
// frame, expired token) and health probes.
#include "providers/bedrock/client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace mg::providers::bedrock {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kKeyId = "AKIDMODELGATETEST";
constexpr const char* kSecret = "modelgate/test/secret/key/0000000000000000";
constexpr const char* kRole = "arn:aws:iam::123456789012:role/modelgate-test";
constexpr const char* kModel = "amazon.nova-lite-v1:0";

// The fake AWS process, shared by all tests of the suite.
struct FakeAws {
  pid_t pid = -1;
  uint16_t port = 0;
  std::string error;

  void Start() {
    int fds[2];
    if (pipe(fds) != 0) {
      error = "pipe failed";
      return;
    }
    const std::string script = std::string(MG_REPO_DIR) + "/tests/fakes/fake-aws.mjs";
    pid = fork();
    if (pid == 0) {
      // The fake dies with this test binary, even when a test crashes it.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      execl(MG_NODE_EXECUTABLE, MG_NODE_EXECUTABLE, script.c_str(), "--port", "0",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[256];
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    const std::string prefix = "fake-aws listening on http://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) {
      error = "fake-aws did not start; first output: " + line.substr(0, 200);
      return;
    }
    port = static_cast<uint16_t>(std::stoi(line.substr(prefix.size())));
  }

  void Stop() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int status = 0;
      waitpid(pid, &status, 0);
      pid = -1;
    }
  }
};

FakeAws* g_fake = nullptr;

class BedrockClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_fake = new FakeAws();
    g_fake->Start();
  }
  static void TearDownTestSuite() {
    g_fake->Stop();
    delete g_fake;
    g_fake = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(g_fake->error.empty()) << g_fake->error;
    http_ = std::make_unique<net::HttpClient>(io_.get_executor(), net::HttpClient::Options{});
    // The fake's control calls get their own pool, so they never leave a kept-alive connection
    // for the provider to reuse (which would change the request counts the tests assert).
    control_http_ =
        std::make_unique<net::HttpClient>(io_.get_executor(), net::HttpClient::Options{});
    provider_ = MakeProvider();
    ASSERT_EQ(Control("POST", "/__fake/reset", "").status, 200);
  }

  std::unique_ptr<BedrockProvider> MakeProvider(std::string identity_key = kKeyId) {
    BedrockOptions options;
    const std::string url = "http://127.0.0.1:" + std::to_string(g_fake->port);
    options.getenv = [url, identity_key](std::string_view name) -> std::optional<std::string> {
      if (name == "AWS_ENDPOINT_URL") return url;
      if (name == "AWS_ACCESS_KEY_ID") return identity_key;
      if (name == "AWS_SECRET_ACCESS_KEY") return std::string(kSecret);
      return std::nullopt;
    };
    options.retry_backoff = 1ms;
    options.probe_backoff = {5ms, 10ms};
    options.stream_timeouts.idle = 2s;
    return std::make_unique<BedrockProvider>(*http_, std::move(options));
  }

  template <class T>
  T Run(asio::awaitable<T> op) {
    std::optional<T> out;
    bool done = false;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(op)); },
        [&](std::exception_ptr e) {
          done = true;
          if (e) ADD_FAILURE() << "coroutine threw";
          io_.stop();
        });
    io_.restart();
    io_.run_for(30s);
    EXPECT_TRUE(done) << "operation did not complete";
    return std::move(*out);
  }

  net::ClientResponse Control(std::string method, std::string path, std::string body) {
    net::ClientRequest r;
    r.method = std::move(method);
    r.endpoint = net::Endpoint{"http", "127.0.0.1", g_fake->port};
    r.target = std::move(path);
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    auto response = Run(control_http_->Send(std::move(r), net::Timeouts{}));
    EXPECT_TRUE(response.has_value());
    return response ? std::move(*response) : net::ClientResponse{};
  }

  void Script(const std::string& json_text) {
    ASSERT_EQ(Control("POST", "/__fake/script", json_text).status, 200);
  }

  // The fake's request log, as (op, key) pairs.
  json::array Requests() {
    return json::parse(Control("GET", "/__fake/requests", "").body).as_array();
  }
  int CountOp(const json::array& log, std::string_view op) {
    int n = 0;
    for (const auto& r : log) n += r.as_object().at("op").as_string() == op ? 1 : 0;
    return n;
  }

  static ProviderCredential StaticCred(std::string secret = kSecret) {
    ProviderCredential c;
    c.id = "cred-static";
    c.cache_key = "cred-static@1";
    c.auth = AccessKeysAuth{kKeyId, Secret(std::move(secret)), Secret()};
    c.region = "us-east-1";
    return c;
  }
  static ProviderCredential RoleCred(std::string version = "1") {
    ProviderCredential c;
    c.id = "cred-role";
    c.cache_key = "cred-role@" + version;
    c.auth = RoleArnAuth{kRole, "", std::nullopt};
    c.region = "us-east-1";
    return c;
  }
  static ChatRequest Ask(std::string text) {
    ChatRequest r;
    r.messages.push_back(Message{Role::kUser, {TextPart{std::move(text)}}, {}, {}});
    return r;
  }

  // Reads the stream to its end or first error.
  struct Drained {
    std::vector<StreamEvent> events;
    std::optional<Error> error;
  };
  Drained Drain(ChatStream& stream) {
    Drained d;
    for (int i = 0; i < 1000; ++i) {
      auto next = Run(stream.Next());
      if (!next) {
        d.error = next.error();
        break;
      }
      if (!next->has_value()) break;
      d.events.push_back(std::move(**next));
    }
    return d;
  }

  asio::io_context io_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<net::HttpClient> control_http_;
  std::unique_ptr<BedrockProvider> provider_;
};

TEST_F(BedrockClientTest, ListsCatalog) {
  auto models = Run(provider_->ListModels(StaticCred(), ""));
  ASSERT_TRUE(models.has_value()) << models.error().message;
  bool found = false;
  bool some_not_chat = false;
  for (const auto& m : *models) {
    if (m.provider_model_id == kModel) {
      found = true;
      EXPECT_TRUE(m.chat_capable);
      EXPECT_EQ(m.lifecycle, "ACTIVE");
    }
    some_not_chat = some_not_chat || !m.chat_capable;
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(some_not_chat);
  auto log = Requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at("op").as_string(), "list");
  EXPECT_EQ(log[0].at("region").as_string(), "us-east-1");
}

TEST_F(BedrockClientTest, TestCredentialCountsVisibleModels) {
  auto n = Run(provider_->TestCredential(StaticCred(), "eu-west-1"));
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_GT(*n, 5u);
}

TEST_F(BedrockClientTest, TestCredentialWithBadSecretIsCredentialsInvalid) {
  auto n = Run(provider_->TestCredential(StaticCred("wrong-secret-value"), ""));
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().health_cause, "credentials_invalid");
  EXPECT_EQ(n.error().reason, "upstream_auth_failed");
  EXPECT_EQ(n.error().message.find("wrong-secret-value"), std::string::npos);
  EXPECT_EQ(n.error().health_message.find("wrong-secret-value"), std::string::npos);
}

TEST_F(BedrockClientTest, TestCredentialWithRevokedKeyIsCredentialsInvalid) {
  ASSERT_EQ(Control("POST", "/__fake/keys",
                    R"({"id":"AKIDREVOKED","secret":"revoked-secret-0000","revoked":true})")
                .status,
            200);
  ProviderCredential c = StaticCred("revoked-secret-0000");
  c.auth = AccessKeysAuth{"AKIDREVOKED", Secret("revoked-secret-0000"), Secret()};
  auto n = Run(provider_->TestCredential(c, ""));
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().health_cause, "credentials_invalid");
}

TEST_F(BedrockClientTest, ConverseEchoes) {
  auto r = Run(provider_->Chat(StaticCred(), "", kModel, Ask("hello there world")));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->text, "echo: hello there world");
  EXPECT_EQ(r->finish_reason, FinishReason::kStop);
  EXPECT_GT(r->usage.total_tokens, 0);
  EXPECT_EQ(r->usage.total_tokens, r->usage.prompt_tokens + r->usage.completion_tokens);
}

TEST_F(BedrockClientTest, ConverseWithInferenceProfileAndArnIds) {
  auto profile = Run(provider_->Chat(StaticCred(), "", "us.anthropic.claude-sonnet-4-20250514-v1:0",
                                     Ask("via profile")));
  ASSERT_TRUE(profile.has_value()) << profile.error().message;
  EXPECT_EQ(profile->text, "echo: via profile");
  auto arn = Run(provider_->Chat(
      StaticCred(), "", "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
      Ask("via arn")));
  ASSERT_TRUE(arn.has_value()) << arn.error().message;
  EXPECT_EQ(arn->text, "echo: via arn");
}

TEST_F(BedrockClientTest, ConverseValidationErrorIsNotRetried) {
  ChatRequest r = Ask("hi");
  r.temperature = 1.5;
  auto out = Run(provider_->Chat(StaticCred(), "", kModel, r));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().health_cause, "model_rejected_request");
  EXPECT_EQ(CountOp(Requests(), "converse"), 1);
}

TEST_F(BedrockClientTest, StreamDecodesDeltasAndUsage) {
  auto stream = Run(provider_->StartChatStream(StaticCred(), "", kModel, Ask("one two three")));
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  Drained d = Drain(**stream);
  ASSERT_FALSE(d.error) << d.error->message;
  int deltas = 0;
  std::string text;
  bool stop = false;
  std::optional<Usage> usage;
  ASSERT_FALSE(d.events.empty());
  EXPECT_TRUE(std::holds_alternative<MessageStart>(d.events.front()));
  for (const auto& e : d.events) {
    if (const auto* t = std::get_if<TextDelta>(&e)) {
      ++deltas;
      text += t->text;
    } else if (std::holds_alternative<MessageStop>(e)) {
      stop = true;
    } else if (const auto* m = std::get_if<Metadata>(&e)) {
      usage = m->usage;
    }
  }
  EXPECT_GE(deltas, 2);
  EXPECT_EQ(text, "echo: one two three");
  EXPECT_TRUE(stop);
  ASSERT_TRUE(usage.has_value());
  EXPECT_GT(usage->total_tokens, 0);
  // The end is sticky.
  auto again = Run((*stream)->Next());
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value());
}

TEST_F(BedrockClientTest, AssumeRoleUsesTemporaryCredentials) {
  auto r = Run(provider_->Chat(RoleCred(), "", kModel, Ask("as role")));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->text, "echo: as role");
  auto log = Requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].at("op").as_string(), "assume-role");
  EXPECT_EQ(log[0].at("key").as_string(), kKeyId);
  EXPECT_EQ(log[1].at("op").as_string(), "converse");
  // Temporary key: the fake only accepts it with its X-Amz-Security-Token.
  EXPECT_EQ(std::string(log[1].at("key").as_string()).rfind("ASIA", 0), 0u);
  EXPECT_EQ(provider_->cached_sessions(), 1u);
}

TEST_F(BedrockClientTest, AssumeRoleIsCachedAndSharedByConcurrentCalls) {
  // Four concurrent calls, then two more: one AssumeRole in all.
  int ok = 0;
  int finished = 0;
  for (int i = 0; i < 4; ++i) {
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          auto r = co_await provider_->Chat(RoleCred(), "", kModel, Ask("concurrent"));
          ok += r.has_value() ? 1 : 0;
          if (++finished == 4) io_.stop();
        },
        [](std::exception_ptr) {});
  }
  io_.restart();
  io_.run_for(30s);
  EXPECT_EQ(ok, 4);
  ASSERT_TRUE(Run(provider_->ListModels(RoleCred(), "")).has_value());
  ASSERT_TRUE(Run(provider_->Chat(RoleCred(), "", kModel, Ask("again"))).has_value());
  auto log = Requests();
  EXPECT_EQ(CountOp(log, "assume-role"), 1);
  EXPECT_EQ(CountOp(log, "converse"), 5);
  // A new credential version does not reuse the session.
  ASSERT_TRUE(Run(provider_->Chat(RoleCred("2"), "", kModel, Ask("rotated"))).has_value());
  EXPECT_EQ(CountOp(Requests(), "assume-role"), 2);
}

TEST_F(BedrockClientTest, ExpiredTokenReassumesOnceAndRetries) {
  ASSERT_TRUE(Run(provider_->Chat(RoleCred(), "", kModel, Ask("warm"))).has_value());
  Script(R"({"match":{"op":"converse"},"error":"ExpiredTokenException","times":1})");
  auto r = Run(provider_->Chat(RoleCred(), "", kModel, Ask("after expiry")));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->text, "echo: after expiry");
  auto log = Requests();
  EXPECT_EQ(CountOp(log, "assume-role"), 2);
  EXPECT_EQ(CountOp(log, "converse"), 3);
}

TEST_F(BedrockClientTest, AssumeRoleDeniedIsPermissionDenied) {
  provider_ = MakeProvider("AKIDUNKNOWNSOURCE");
  auto r = Run(provider_->TestCredential(RoleCred(), ""));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().health_cause, "credentials_invalid");
  Script(R"({"match":{"op":"assume-role"},"error":"AccessDenied"})");
  provider_ = MakeProvider();
  auto denied = Run(provider_->TestCredential(RoleCred(), ""));
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().health_cause, "permission_denied");
}

TEST_F(BedrockClientTest, ThrottlingIsRetriedThenClassified) {
  Script(R"({"match":{"op":"converse"},"error":"ThrottlingException"})");
  auto r = Run(provider_->Chat(StaticCred(), "", kModel, Ask("busy")));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(r.error().health_cause, "throttled");
  EXPECT_EQ(CountOp(Requests(), "converse"), 3);  // 1 + 2 retries
}

TEST_F(BedrockClientTest, ThrottlingOnceThenSuccess) {
  Script(R"({"match":{"op":"converse-stream"},"error":"ThrottlingException","times":1})");
  auto stream = Run(provider_->StartChatStream(StaticCred(), "", kModel, Ask("retry me")));
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  Drained d = Drain(**stream);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(CountOp(Requests(), "converse-stream"), 2);
}

TEST_F(BedrockClientTest, MidStreamExceptionBecomesError) {
  Script(
      R"({"match":{"op":"converse-stream"},"error":"ModelStreamErrorException","after_events":2})");
  auto stream = Run(provider_->StartChatStream(StaticCred(), "", kModel, Ask("a b c d")));
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  Drained d = Drain(**stream);
  EXPECT_EQ(d.events.size(), 2u);
  ASSERT_TRUE(d.error.has_value());
  EXPECT_EQ(d.error->health_cause, "provider_unavailable");
  EXPECT_EQ(d.error->code, ErrorCode::kUpstreamError);
  // Errors are sticky.
  auto again = Run((*stream)->Next());
  EXPECT_FALSE(again.has_value());
}

TEST_F(BedrockClientTest, MidStreamThrottlingIsThrottled) {
  Script(R"({"match":{"op":"converse-stream"},"error":"ThrottlingException","after_events":1})");
  auto stream = Run(provider_->StartChatStream(StaticCred(), "", kModel, Ask("a b c")));
  ASSERT_TRUE(stream.has_value());
  Drained d = Drain(**stream);
  ASSERT_TRUE(d.error.has_value());
  EXPECT_EQ(d.error->health_cause, "throttled");
}

TEST_F(BedrockClientTest, DroppedConnectionMidStreamIsNetworkError) {
  Script(R"({"match":{"op":"converse-stream"},"drop":true,"after_events":2})");
  auto stream = Run(provider_->StartChatStream(StaticCred(), "", kModel, Ask("a b c d")));
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  Drained d = Drain(**stream);
  ASSERT_TRUE(d.error.has_value());
  EXPECT_TRUE(d.error->health_cause == "network" || d.error->health_cause == "provider_unavailable")
      << d.error->health_cause << ": " << d.error->message;
}

TEST_F(BedrockClientTest, DroppedConnectionBeforeResponseIsRetriedNetworkError) {
  Script(R"({"match":{"op":"converse"},"drop":true})");
  auto r = Run(provider_->Chat(StaticCred(), "", kModel, Ask("drop")));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().health_cause, "network");
  EXPECT_EQ(CountOp(Requests(), "converse"), 3);
}

TEST_F(BedrockClientTest, CorruptFrameIsProtocolError) {
  Script(R"({"match":{"op":"converse-stream"},"corrupt_frame":true,"after_events":1})");
  auto stream = Run(provider_->StartChatStream(StaticCred(), "", kModel, Ask("a b c")));
  ASSERT_TRUE(stream.has_value());
  Drained d = Drain(**stream);
  EXPECT_EQ(d.events.size(), 1u);
  ASSERT_TRUE(d.error.has_value());
  EXPECT_EQ(d.error->health_cause, "provider_unavailable");
}

TEST_F(BedrockClientTest, ProbeHealthy) {
  ProbeResult p = Run(provider_->Probe(StaticCred(), "", kModel));
  EXPECT_TRUE(p.ok) << (p.error ? p.error->message : "");
  EXPECT_EQ(p.attempts, 1);
  EXPECT_GE(p.latency_ms, 0);
  EXPECT_FALSE(p.error.has_value());
}

TEST_F(BedrockClientTest, ProbeWithRoleCredentials) {
  ProbeResult p = Run(provider_->Probe(RoleCred(), "", kModel));
  EXPECT_TRUE(p.ok) << (p.error ? p.error->message : "");
}

TEST_F(BedrockClientTest, ProbeRetriesRetryableCausesThenUnhealthy) {
  Script(R"({"match":{"op":"converse"},"error":"ServiceUnavailableException"})");
  ProbeResult p = Run(provider_->Probe(StaticCred(), "", kModel));
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.attempts, 3);
  ASSERT_TRUE(p.error.has_value());
  EXPECT_EQ(p.error->health_cause, "provider_unavailable");
  EXPECT_EQ(CountOp(Requests(), "converse"), 3);
}

TEST_F(BedrockClientTest, ProbeRecoversWithinTheCheck) {
  Script(R"({"match":{"op":"converse"},"error":"ThrottlingException","times":1})");
  ProbeResult p = Run(provider_->Probe(StaticCred(), "", kModel));
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.attempts, 2);
}

TEST_F(BedrockClientTest, ProbeOfProfileOnlyModelByPlainIdIsNotAvailable) {
  ProbeResult p = Run(provider_->Probe(StaticCred(), "", "anthropic.claude-sonnet-4-20250514-v1:0"));
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.attempts, 1);
  ASSERT_TRUE(p.error.has_value());
  EXPECT_EQ(p.error->health_cause, "model_not_available_in_region");
}

TEST_F(BedrockClientTest, ProbeWithBadSecretIsCredentialsInvalid) {
  ProbeResult p = Run(provider_->Probe(StaticCred("bad-secret"), "", kModel));
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.attempts, 1);
  ASSERT_TRUE(p.error.has_value());
  EXPECT_EQ(p.error->health_cause, "credentials_invalid");
}

}  // namespace
}  // namespace mg::providers::bedrock
