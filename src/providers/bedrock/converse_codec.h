// @file converse_codec.h
// @brief Bedrock Converse translation as pure functions (no I/O): ChatRequest -> Converse body,
// Converse / ConverseStream payloads -> ChatResponse / StreamEvent, ListFoundationModels and
// GetFoundationModel -> CatalogModel, and the health-probe body. Spec: bedrock.md §4, §5.3,
// §6.1, §8, §9. The transport (signing, HTTP, event-stream framing) lives elsewhere and calls
// these.
//
// Malformed provider payloads are Error{kUpstreamError, "upstream_error"} (client-api §7.2
// "malformed upstream reply"); unknown members and unknown event types are ignored (bedrock.md
// conventions).
//
// Thread-safety: the free functions are pure; a ConverseStreamState belongs to one stream.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "providers/types.h"

namespace mg::providers::bedrock {

// The Converse / ConverseStream request body (bedrock.md §4.1, mapping §8.1), compact JSON.
// Preconditions (ParseChatRequest guarantees them): the `*_json` members of `request` are empty
// or valid JSON objects, and a kNamed tool_choice names one of `request.tools`.
// `request.max_tokens` should already hold the model's configured default when the caller gave
// none (absent -> no maxTokens). `response_format` kJsonSchema becomes `outputConfig`; whether
// the model supports it (and kJsonObject, which Converse cannot express) is checked by the
// caller before translation. `seed` is not forwarded (Converse has none).
std::string BuildConverseBody(const ChatRequest& request);

// The health-probe body (bedrock.md §9):
// {"messages":[{"role":"user","content":[{"text":"ping"}]}],"inferenceConfig":{"maxTokens":1}}
std::string BuildProbeBody();

// Converse `stopReason` -> finish_reason (bedrock.md §8.2). Unknown values map to kStop.
FinishReason MapStopReason(std::string_view stop_reason);
// True for stop reasons §8.2 says to log as a warning (malformed_*, unknown values).
bool IsAnomalousStopReason(std::string_view stop_reason);

// A Converse 200 response body (§4.2 required: output.message, stopReason, usage.{inputTokens,
// outputTokens,totalTokens}, metrics.latencyMs) -> ChatResponse (§8.2). Text blocks are
// concatenated; toolUse blocks become tool calls with compact JSON arguments; other blocks are
// dropped.
Result<ChatResponse> ParseConverseResponse(std::string_view body);

// One ConverseStream event (`:event-type`, JSON payload) -> at most one StreamEvent (§5.3, §8.3).
// Stateless: ToolCallStart/ToolCallDelta carry Bedrock's raw `contentBlockIndex` as `index`
// (use ConverseStreamState to get the contract's 0,1,.. tool-call numbering). Events that produce
// no chunk (contentBlockStop, non-tool block starts, empty text, reasoningContent deltas, unknown
// event types) give nullopt.
Result<std::optional<StreamEvent>> ParseStreamEvent(std::string_view event_type,
                                                    std::string_view payload_json);

// Decodes the events of one ConverseStream in order, numbering tool blocks k = 0, 1, ... by
// their contentBlockIndex as §8.3 requires. A toolUse delta for a block that never started is
// an upstream_error. Thread-safety: one stream, one thread at a time.
class ConverseStreamState {
 public:
  Result<std::optional<StreamEvent>> Parse(std::string_view event_type,
                                           std::string_view payload_json);

 private:
  // (contentBlockIndex, k) for each tool block seen; a stream has few tool blocks.
  std::vector<std::pair<int, int>> tool_blocks_;
};

// ListFoundationModels body {"modelSummaries":[...]} -> catalog (§6.1 mapping and chat-capable
// rule), in the provider's order. Entries lacking `modelId` make the body malformed.
Result<std::vector<CatalogModel>> ParseFoundationModels(std::string_view body);
// GetFoundationModel body {"modelDetails":{...}} -> one catalog entry (§6.2).
Result<CatalogModel> ParseFoundationModel(std::string_view body);

}  // namespace mg::providers::bedrock
