// Fuzzes the Bedrock Converse parsers with the whole input as the JSON body / event payload:
// ParseConverseResponse, ParseStreamEvent for every event type, ConverseStreamState,
// ParseFoundationModels / ParseFoundationModel. Besides ASan/UBSan, checks that whatever JSON
// text the parsers hand on (tool-call arguments) is itself valid JSON.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>

#include <boost/json.hpp>

#include "providers/bedrock/converse_codec.h"

namespace {

namespace bedrock = mg::providers::bedrock;

#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

bool IsJson(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  return !ec;
}

constexpr std::string_view kEventTypes[] = {
    "messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop",
    "messageStop",  "metadata",          "unknownEvent"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto response = bedrock::ParseConverseResponse(input)) {
    for (const auto& call : response->tool_calls) FUZZ_CHECK(IsJson(call.arguments_json));
    (void)mg::providers::FinishReasonName(response->finish_reason);
  }

  bedrock::ConverseStreamState stream;
  for (std::string_view type : kEventTypes) {
    auto stateless = bedrock::ParseStreamEvent(type, input);
    auto stateful = stream.Parse(type, input);
    // The state only renumbers tool calls: success and event kind must agree, except that a
    // tool delta for an unknown block is rejected by the state.
    if (stateless && stateful) {
      FUZZ_CHECK(stateless->has_value() == stateful->has_value());
      if (stateless->has_value()) FUZZ_CHECK((*stateless)->index() == (*stateful)->index());
    } else if (!stateless) {
      FUZZ_CHECK(!stateful);
    } else {
      FUZZ_CHECK(stateless->has_value() &&
                 std::holds_alternative<mg::providers::ToolCallDelta>(**stateless));
    }
  }

  (void)bedrock::ParseFoundationModels(input);
  (void)bedrock::ParseFoundationModel(input);
  (void)bedrock::IsAnomalousStopReason(input);
  (void)bedrock::MapStopReason(input);
  return 0;
}
