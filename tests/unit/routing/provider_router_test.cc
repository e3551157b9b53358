// ProviderRouter: calls the model's provider with its credential, region and provider model id,
// and reports real outcomes (not abandoned calls) to the outcome hook.
#include "routing/provider_router.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <vector>

namespace mg::routing {
namespace {

namespace asio = boost::asio;
using providers::ChatRequest;
using providers::ChatResponse;
using providers::StreamEvent;

struct Call {
  std::string credential_id, region, provider_model_id;
};

class FakeStream final : public providers::ChatStream {
 public:
  explicit FakeStream(std::deque<Result<std::optional<StreamEvent>>> events)
      : events_(std::move(events)) {}
  asio::awaitable<Result<std::optional<StreamEvent>>> Next() override {
    if (events_.empty()) co_return std::optional<StreamEvent>();
    auto e = std::move(events_.front());
    events_.pop_front();
    co_return e;
  }

 private:
  std::deque<Result<std::optional<StreamEvent>>> events_;
};

class FakeProvider final : public providers::Provider {
 public:
  std::vector<Call> calls;
  std::optional<Error> fail;
  std::deque<Result<std::optional<StreamEvent>>> stream_events;

  asio::awaitable<Result<std::vector<providers::CatalogModel>>> ListModels(
      providers::ProviderCredential, std::string) override {
    co_return std::vector<providers::CatalogModel>{};
  }
  asio::awaitable<Result<size_t>> TestCredential(providers::ProviderCredential,
                                                 std::string) override {
    co_return size_t{0};
  }
  asio::awaitable<Result<ChatResponse>> Chat(providers::ProviderCredential c, std::string region,
                                             std::string id, ChatRequest) override {
    calls.push_back({c.id, region, id});
    if (fail) co_return *fail;
    ChatResponse r;
    r.text = "hi";
    co_return r;
  }
  asio::awaitable<Result<std::unique_ptr<providers::ChatStream>>> StartChatStream(
      providers::ProviderCredential c, std::string region, std::string id, ChatRequest) override {
    calls.push_back({c.id, region, id});
    if (fail) co_return *fail;
    co_return std::unique_ptr<providers::ChatStream>(std::make_unique<FakeStream>(stream_events));
  }
  asio::awaitable<providers::ProbeResult> Probe(providers::ProviderCredential, std::string,
                                                std::string) override {
    co_return providers::ProbeResult{};
  }
};

struct Outcome {
  std::string model_id;
  std::optional<std::string> cause;  // nullopt = success
};

class ProviderRouterTest : public ::testing::Test {
 protected:
  ProviderRouterTest()
      : router_([this](std::string_view id) -> providers::Provider* {
                  return id == "bedrock" ? &provider_ : nullptr;
                },
                clock_,
                [this](const std::string& model, const Error* e, std::chrono::milliseconds) {
                  outcomes_.push_back({model, e ? std::optional(e->health_cause) : std::nullopt});
                }) {
    credential_.record.id = "cred_1";
    credential_.provider.id = "cred_1";
    model_.record.id = "my-model";
    model_.record.provider = "bedrock";
    model_.record.provider_model_id = "amazon.nova-lite-v1:0";
    model_.record.region = "eu-west-1";
    model_.credential = &credential_;
  }

  template <class T>
  T Run(asio::awaitable<T> op) {
    std::optional<T> out;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(op)); },
                   asio::detached);
    io_.restart();
    io_.run();
    return std::move(*out);
  }

  static Error Upstream(std::string cause, std::string reason = "upstream_error") {
    Error e(ErrorCode::kUpstreamError, std::move(reason), "failed");
    e.health_cause = std::move(cause);
    return e;
  }

  RealClock clock_;
  asio::io_context io_;
  FakeProvider provider_;
  state::CredentialEntry credential_;
  state::ModelEntry model_;
  std::vector<Outcome> outcomes_;
  ProviderRouter router_;
};

TEST_F(ProviderRouterTest, ChatUsesTheModelsCredentialRegionAndProviderId) {
  auto r = Run(router_.Chat(model_, ChatRequest{}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "hi");
  ASSERT_EQ(provider_.calls.size(), 1u);
  EXPECT_EQ(provider_.calls[0].credential_id, "cred_1");
  EXPECT_EQ(provider_.calls[0].region, "eu-west-1");
  EXPECT_EQ(provider_.calls[0].provider_model_id, "amazon.nova-lite-v1:0");
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_EQ(outcomes_[0].model_id, "my-model");
  EXPECT_FALSE(outcomes_[0].cause);
}

TEST_F(ProviderRouterTest, FailuresAreReportedWithTheirCause) {
  provider_.fail = Upstream("credentials_invalid", "upstream_auth_failed");
  auto r = Run(router_.Chat(model_, ChatRequest{}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "upstream_auth_failed");
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_EQ(outcomes_[0].cause, "credentials_invalid");
}

TEST_F(ProviderRouterTest, AbandonedCallsAreNotReported) {
  provider_.fail = Upstream("", "cancelled");
  EXPECT_FALSE(Run(router_.Chat(model_, ChatRequest{})));
  EXPECT_TRUE(outcomes_.empty());
}

TEST_F(ProviderRouterTest, UnknownProviderIsAnUpstreamErrorWithoutACall) {
  model_.record.provider = "nvidia";
  auto r = Run(router_.Chat(model_, ChatRequest{}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamError);
  EXPECT_TRUE(provider_.calls.empty());
}

TEST_F(ProviderRouterTest, StreamReportsSuccessOnceAtItsEnd) {
  provider_.stream_events.push_back(std::optional<StreamEvent>(providers::MessageStart{}));
  provider_.stream_events.push_back(std::optional<StreamEvent>(providers::TextDelta{"a"}));
  auto stream = Run(router_.StartStream(model_, ChatRequest{}));
  ASSERT_TRUE(stream);
  EXPECT_TRUE(Run((*stream)->Next()).value().has_value());
  EXPECT_TRUE(outcomes_.empty());  // not before the end
  EXPECT_TRUE(Run((*stream)->Next()).value().has_value());
  EXPECT_FALSE(Run((*stream)->Next()).value().has_value());  // end
  EXPECT_FALSE(Run((*stream)->Next()).value().has_value());
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_FALSE(outcomes_[0].cause);
}

TEST_F(ProviderRouterTest, StreamReportsAMidStreamError) {
  provider_.stream_events.push_back(std::optional<StreamEvent>(providers::MessageStart{}));
  provider_.stream_events.push_back(Upstream("provider_unavailable"));
  auto stream = Run(router_.StartStream(model_, ChatRequest{}));
  ASSERT_TRUE(stream);
  EXPECT_TRUE(Run((*stream)->Next()));
  EXPECT_FALSE(Run((*stream)->Next()));
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_EQ(outcomes_[0].cause, "provider_unavailable");
}

TEST_F(ProviderRouterTest, StreamDestroyedEarlyReportsNothing) {
  provider_.stream_events.push_back(std::optional<StreamEvent>(providers::MessageStart{}));
  {
    auto stream = Run(router_.StartStream(model_, ChatRequest{}));
    ASSERT_TRUE(stream);
    EXPECT_TRUE(Run((*stream)->Next()));
  }
  EXPECT_TRUE(outcomes_.empty());
}

}  // namespace
}  // namespace mg::routing
