// Bedrock Converse translation (providers/bedrock/converse_codec): ChatRequest -> Converse body,
// Converse response JSON -> ChatResponse, and ConverseStream events -> StreamEvent, one per
// delta. Reported in items (translations / events) per second.
//
// The OpenAI-JSON -> ChatRequest step is not measured: the data-plane codec library
// (src/api/data_plane/codec.cmake) does not exist yet, so the ChatRequest is built in code as
// api/data_plane/openai_codec's ParseChatRequest would produce it.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "providers/aws/eventstream.h"
#include "providers/bedrock/converse_codec.h"
#include "providers/types.h"

namespace mg::providers::bedrock {
namespace {

// What ParseChatRequest yields for a typical tool-using OpenAI chat request (~1.5 KiB of JSON):
// system prompt, a four-message history with a tool call and its result, two tools.
ChatRequest TypicalRequest() {
  ChatRequest r;
  r.system.push_back("You are a helpful assistant for the operations team. Answer briefly.");
  Message user1;
  user1.role = Role::kUser;
  user1.content.push_back(TextPart{"What is the weather in Paris, and should the Thursday "
                                   "outdoor maintenance window go ahead?"});
  Message assistant;
  assistant.role = Role::kAssistant;
  assistant.content.push_back(TextPart{"Let me check the forecast."});
  assistant.tool_calls.push_back(
      ToolCall{"call_kZJMlvQmRJ6eAyJE5GIl7Q", "get_weather", R"({"city":"Paris","unit":"C"})"});
  Message tool;
  tool.role = Role::kTool;
  tool.tool_call_id = "call_kZJMlvQmRJ6eAyJE5GIl7Q";
  tool.content.push_back(
      TextPart{R"({"city":"Paris","forecast":[{"day":"Thu","high":14,"low":7,)"
               R"("precip_mm":11,"wind_kmh":38}]})"});
  Message user2;
  user2.role = Role::kUser;
  user2.content.push_back(TextPart{"Give me a yes/no with one sentence of justification."});
  r.messages = {user1, assistant, tool, user2};
  r.tools.push_back(ToolDefinition{
      "get_weather", "Current weather and a 3-day forecast for a city.",
      R"({"type":"object","properties":{"city":{"type":"string","description":"City name"},)"
      R"("unit":{"type":"string","enum":["C","F"]}},"required":["city"]})"});
  r.tools.push_back(ToolDefinition{
      "create_ticket", "Open a change-management ticket.",
      R"({"type":"object","properties":{"title":{"type":"string"},"body":{"type":"string"},)"
      R"("priority":{"type":"string","enum":["low","medium","high"]}},)"
      R"("required":["title","body"]})"});
  r.tool_choice.mode = ToolChoice::Mode::kAuto;
  r.max_tokens = 1024;
  r.temperature = 0.2;
  r.top_p = 0.9;
  r.stop = {"\n\nHuman:"};
  return r;
}

void BM_Converse_BuildBody(benchmark::State& state) {
  const ChatRequest request = TypicalRequest();
  size_t size = 0;
  for (auto _ : state) {
    std::string body = BuildConverseBody(request);
    size = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  state.SetLabel("body=" + std::to_string(size) + "B");
}
BENCHMARK(BM_Converse_BuildBody);

// A Converse 200 body: one text block and one toolUse block, ~900 bytes.
constexpr std::string_view kConverseResponse =
    R"({"output":{"message":{"role":"assistant","content":[{"text":"No. Thursday brings )"
    R"(11 mm of rain and 38 km/h gusts in Paris, which exceeds the outdoor work limits in )"
    R"(the maintenance runbook; I have opened a ticket to move the window to Friday morning, )"
    R"(when the forecast is dry with light winds."},{"toolUse":{"toolUseId":)"
    R"("tooluse_Q2xhdWRlIGlzIGEgbW9kZWw","name":"create_ticket","input":{"title":)"
    R"("Reschedule Thursday outdoor maintenance","body":"Forecast for Thursday: 11 mm )"
    R"(precipitation, wind 38 km/h. Proposing Friday 08:00-12:00 instead.","priority":)"
    R"("medium"}}}]}},"stopReason":"tool_use","usage":{"inputTokens":412,"outputTokens":97,)"
    R"("totalTokens":509,"cacheReadInputTokens":0,"cacheWriteInputTokens":0},"metrics":)"
    R"({"latencyMs":1834}})";

void BM_Converse_ParseResponse(benchmark::State& state) {
  for (auto _ : state) {
    auto response = ParseConverseResponse(kConverseResponse);
    if (!response) {
      state.SkipWithError("ParseConverseResponse failed");
      break;
    }
    benchmark::DoNotOptimize(response->text->data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kConverseResponse.size()));
}
BENCHMARK(BM_Converse_ParseResponse);

// One text delta, as most ConverseStream events are.
void BM_Converse_ParseStreamEvent_TextDelta(benchmark::State& state) {
  constexpr std::string_view kPayload =
      R"({"contentBlockIndex":0,"delta":{"text":" the gateway retried the request on )"
      R"(another region"},"p":"abcdefghijklmnop"})";
  for (auto _ : state) {
    auto event = ParseStreamEvent("contentBlockDelta", kPayload);
    if (!event || !*event) {
      state.SkipWithError("ParseStreamEvent failed");
      break;
    }
    benchmark::DoNotOptimize(&*event);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Converse_ParseStreamEvent_TextDelta);

// One tool-argument delta (ToolCallDelta).
void BM_Converse_ParseStreamEvent_ToolDelta(benchmark::State& state) {
  constexpr std::string_view kPayload =
      R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":\"Par"}}})";
  for (auto _ : state) {
    auto event = ParseStreamEvent("contentBlockDelta", kPayload);
    if (!event || !*event) {
      state.SkipWithError("ParseStreamEvent failed");
      break;
    }
    benchmark::DoNotOptimize(&*event);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Converse_ParseStreamEvent_ToolDelta);

// The whole provider side of a streamed answer: event-stream decode (64-byte pieces, as a
// socket delivers them) + ConverseStreamState per frame. Items = frames.
void BM_Converse_StreamPipeline(benchmark::State& state) {
  using aws::EventHeader;
  const std::vector<EventHeader> delta_headers{
      {":event-type", std::string("contentBlockDelta")},
      {":content-type", std::string("application/json")},
      {":message-type", std::string("event")}};
  auto frame = [](std::string_view type, std::string_view payload) {
    const std::vector<EventHeader> headers{{":event-type", std::string(type)},
                                           {":content-type", std::string("application/json")},
                                           {":message-type", std::string("event")}};
    return *aws::EncodeMessage(headers, payload);
  };
  std::string input = frame("messageStart", R"({"role":"assistant"})");
  for (int i = 0; i < 256; ++i) {
    input += frame("contentBlockDelta",
                   R"({"contentBlockIndex":0,"delta":{"text":" the gateway retried the )"
                   R"(request on another region"},"p":"abcdefghijklmnop"})");
  }
  input += frame("contentBlockStop", R"({"contentBlockIndex":0})");
  input += frame("messageStop", R"({"stopReason":"end_turn"})");
  input += frame("metadata", R"({"metrics":{"latencyMs":412},)"
                             R"("usage":{"inputTokens":18,"outputTokens":1024,"totalTokens":1042}})");
  constexpr size_t kPiece = 64;
  std::vector<aws::EventMessage> messages;
  size_t frames = 0;
  for (auto _ : state) {
    aws::EventStreamDecoder decoder;
    ConverseStreamState stream;
    std::string_view rest = input;
    frames = 0;
    while (!rest.empty()) {
      const size_t n = std::min(kPiece, rest.size());
      messages.clear();
      if (!decoder.Feed(rest.substr(0, n), messages)) {
        state.SkipWithError("decode failed");
        return;
      }
      rest.remove_prefix(n);
      for (const auto& m : messages) {
        auto event = stream.Parse(m.Header(":event-type").value_or(""), m.payload);
        if (!event) {
          state.SkipWithError("Parse failed");
          return;
        }
        benchmark::DoNotOptimize(&event);
        ++frames;
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.SetLabel(std::to_string(frames) + " frames, " + std::to_string(input.size()) + "B");
}
BENCHMARK(BM_Converse_StreamPipeline);

}  // namespace
}  // namespace mg::providers::bedrock
