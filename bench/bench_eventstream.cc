// Event-stream (application/vnd.amazon.eventstream) decoding of ConverseStream bodies, fed
// either as one buffer or in 64-byte pieces (the slow, buffering path). Reported in bytes/s.
//
// Inputs:
//   text  - tests/data/eventstream/converse-stream-text.bin (6 frames, 1021 bytes, as recorded)
//   long  - a synthetic 1 + 256 + 1 + 1 frame answer built with EncodeMessage (~45 KiB), closer
//           to a real multi-paragraph answer.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench_util.h"
#include "providers/aws/eventstream.h"

namespace mg::aws {
namespace {

std::string Frame(std::string_view event_type, std::string_view payload) {
  const std::vector<EventHeader> headers{
      {":event-type", std::string(event_type)},
      {":content-type", std::string("application/json")},
      {":message-type", std::string("event")}};
  auto frame = EncodeMessage(headers, payload);
  if (!frame) throw std::runtime_error("EncodeMessage failed");
  return *std::move(frame);
}

const std::string& TextStream() {
  static const std::string data = bench::ReadTestData("eventstream/converse-stream-text.bin");
  return data;
}

const std::string& LongStream() {
  static const std::string data = [] {
    std::string s = Frame("messageStart", R"({"p":"abcdefghijklm","role":"assistant"})");
    for (int i = 0; i < 256; ++i) {
      s += Frame("contentBlockDelta",
                 R"({"contentBlockIndex":0,"delta":{"text":" the gateway retried the )"
                 R"(request on another region"},"p":"abcdefghijklmnop"})");
    }
    s += Frame("contentBlockStop", R"({"contentBlockIndex":0,"p":"abcdefghijklmnopqrstuv"})");
    s += Frame("messageStop", R"({"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",)"
                              R"("stopReason":"end_turn"})");
    s += Frame("metadata", R"({"metrics":{"latencyMs":412},"p":"abcdefghi",)"
                           R"("usage":{"inputTokens":18,"outputTokens":1024,"totalTokens":1042}})");
    return s;
  }();
  return data;
}

// range(0): 0 = text stream, 1 = long stream; range(1): piece size, 0 = whole buffer.
void BM_EventStream_Decode(benchmark::State& state) {
  const std::string& input = state.range(0) == 0 ? TextStream() : LongStream();
  const size_t piece = state.range(1) == 0 ? input.size() : static_cast<size_t>(state.range(1));
  std::vector<EventMessage> messages;
  size_t frames = 0;
  for (auto _ : state) {
    EventStreamDecoder decoder;
    messages.clear();
    std::string_view rest = input;
    while (!rest.empty()) {
      const size_t n = std::min(piece, rest.size());
      if (!decoder.Feed(rest.substr(0, n), messages)) {
        state.SkipWithError("decode failed");
        return;
      }
      rest.remove_prefix(n);
    }
    if (!decoder.Finish()) {
      state.SkipWithError("stream ended inside a message");
      return;
    }
    frames = messages.size();
    benchmark::DoNotOptimize(messages.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
  state.SetLabel(std::string(state.range(0) == 0 ? "text" : "long") + " " +
                 std::to_string(input.size()) + "B " + std::to_string(frames) + " frames " +
                 (state.range(1) == 0 ? std::string("whole") : std::to_string(piece) + "B pieces"));
}
BENCHMARK(BM_EventStream_Decode)->ArgsProduct({{0, 1}, {0, 64}});

// Encoding one contentBlockDelta frame (the fake AWS's hot path).
void BM_EventStream_EncodeDelta(benchmark::State& state) {
  const std::vector<EventHeader> headers{
      {":event-type", std::string("contentBlockDelta")},
      {":content-type", std::string("application/json")},
      {":message-type", std::string("event")}};
  const std::string payload = R"({"contentBlockIndex":0,"delta":{"text":"Hello, world"}})";
  size_t bytes = 0;
  for (auto _ : state) {
    auto frame = EncodeMessage(headers, payload);
    bytes += frame->size();
    benchmark::DoNotOptimize(frame->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventStream_EncodeDelta);

}  // namespace
}  // namespace mg::aws
