// The client-facing codec (api/data_plane/openai_codec.h): parsing the benchmark harness's small
// OpenAI chat request and a ~1.5 KiB tool-using one, rendering the chat.completion body, and
// re-encoding a 50-delta stream as SSE chunks (what modelgate does per streamed answer).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "api/data_plane/openai_codec.h"

namespace mg::api::data_plane {
namespace {

constexpr std::string_view kSmallRequest =
    R"({"model":"amazon.nova-lite-v1:0","messages":[{"role":"user","content":"Say hello to )"
    R"(the benchmark in one short sentence."}],"max_tokens":64})";

constexpr std::string_view kToolRequest =
    R"({"model":"anthropic.claude-3-haiku-20240307-v1:0","temperature":0.2,"top_p":0.9,)"
    R"("max_tokens":1024,"stop":["\n\nHuman:"],"messages":[{"role":"system","content":"You )"
    R"(are a helpful assistant for the operations team. Answer briefly."},{"role":"user",)"
    R"("content":"What is the weather in Paris, and should the Thursday outdoor maintenance )"
    R"(window go ahead?"},{"role":"assistant","content":"Let me check the forecast.",)"
    R"("tool_calls":[{"id":"call_kZJMlvQmRJ6eAyJE5GIl7Q","type":"function","function":)"
    R"({"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"C\"}"}}]},)"
    R"({"role":"tool","tool_call_id":"call_kZJMlvQmRJ6eAyJE5GIl7Q","content":"{\"city\":)"
    R"(\"Paris\",\"forecast\":[{\"day\":\"Thu\",\"high\":14,\"low\":7,\"precip_mm\":11,)"
    R"(\"wind_kmh\":38}]}"},{"role":"user","content":"Give me a yes/no with one sentence of )"
    R"(justification."}],"tools":[{"type":"function","function":{"name":"get_weather",)"
    R"("description":"Current weather and a 3-day forecast for a city.","parameters":)"
    R"({"type":"object","properties":{"city":{"type":"string","description":"City name"},)"
    R"("unit":{"type":"string","enum":["C","F"]}},"required":["city"]}}},{"type":"function",)"
    R"("function":{"name":"create_ticket","description":"Open a change-management ticket.",)"
    R"("parameters":{"type":"object","properties":{"title":{"type":"string"},"body":)"
    R"({"type":"string"},"priority":{"type":"string","enum":["low","medium","high"]}},)"
    R"("required":["title","body"]}}}],"tool_choice":"auto"})";

void ParseBenchmark(benchmark::State& state, std::string_view body) {
  for (auto _ : state) {
    auto parsed = ParseChatRequest(body, Dialect::kOpenAi);
    if (!parsed) state.SkipWithError(parsed.error().message.c_str());
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetLabel("body=" + std::to_string(body.size()) + "B");
}
void BM_OpenAi_ParseSmallRequest(benchmark::State& state) { ParseBenchmark(state, kSmallRequest); }
BENCHMARK(BM_OpenAi_ParseSmallRequest);
void BM_OpenAi_ParseToolRequest(benchmark::State& state) { ParseBenchmark(state, kToolRequest); }
BENCHMARK(BM_OpenAi_ParseToolRequest);

void BM_OpenAi_RenderChatResponse(benchmark::State& state) {
  providers::ChatResponse r;
  r.text = "The quick brown fox jumps over the lazy dog and keeps running along the river bank "
           "until dusk.";
  r.finish_reason = providers::FinishReason::kStop;
  r.usage.prompt_tokens = 12;
  r.usage.completion_tokens = 18;
  r.usage.total_tokens = 30;
  size_t size = 0;
  for (auto _ : state) {
    std::string body = RenderChatResponse(r, Dialect::kOpenAi,
                                          "chatcmpl-0c8f4a3e-3b1d-4b8e-9a51-6f1d2e3c4b5a",
                                          1764806400, "amazon.nova-lite-v1:0");
    size = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetLabel("body=" + std::to_string(size) + "B");
}
BENCHMARK(BM_OpenAi_RenderChatResponse);

// One streamed answer: role chunk, 50 text deltas, the closing chunk and [DONE].
void BM_OpenAi_StreamEncode50Deltas(benchmark::State& state) {
  std::vector<providers::StreamEvent> events;
  events.push_back(providers::MessageStart{});
  for (int i = 0; i < 50; ++i) events.push_back(providers::TextDelta{"tok" + std::to_string(i) + " "});
  providers::MessageStop stop;
  stop.finish_reason = providers::FinishReason::kStop;
  events.push_back(stop);
  providers::Metadata meta;
  meta.usage.prompt_tokens = 12;
  meta.usage.completion_tokens = 50;
  meta.usage.total_tokens = 62;
  events.push_back(meta);
  size_t bytes = 0;
  for (auto _ : state) {
    ChatStreamEncoder::Options options;
    options.id = "chatcmpl-0c8f4a3e-3b1d-4b8e-9a51-6f1d2e3c4b5a";
    options.created = 1764806400;
    options.model = "amazon.nova-lite-v1:0";
    options.dialect = Dialect::kOpenAi;
    ChatStreamEncoder encoder(std::move(options));
    bytes = 0;
    for (const auto& e : events) bytes += encoder.OnEvent(e).size();
    bytes += encoder.Finish().size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
  state.SetLabel(std::to_string(bytes) + "B of SSE");
}
BENCHMARK(BM_OpenAi_StreamEncode50Deltas);

}  // namespace
}  // namespace mg::api::data_plane
