// @file openai_codec.h
// @brief The client side of the data plane as pure functions (no I/O): OpenAI/Writer request
// bodies -> ChatRequest, and ChatResponse / StreamEvent -> response bodies and SSE frames.
// Spec: client-api.md §3-§6 (field names binding). The HTTP handler owns auth, routing, headers
// and the socket; it calls these.
//
// Validation failures are Error{kInvalidArgument} with the contract's code in `reason`
// ("invalid_json", "invalid_parameter", "unsupported_parameter") and the field path in `param`
// (e.g. "messages[2].content").
//
// Thread-safety: free functions are pure; an encoder belongs to one response stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/result.h"
#include "providers/types.h"

namespace mg::api::data_plane {

enum class Dialect {
  kWriter,  // POST /v1/chat
  kOpenAi,  // POST /v1/chat/completions
};

struct ParsedChat {
  std::string model;  // the gateway model id the caller asked for (non-empty)
  providers::ChatRequest request;
};

// POST /v1/chat and /v1/chat/completions (§3, §5.1-§5.3). Both paths accept the union of the
// two dialects' request schemas, so `dialect` does not change what is accepted. On success the
// ChatRequest satisfies the invariants documented in providers/types.h (compact JSON members,
// named tool_choice names a declared tool, stop <= 4 non-empty strings).
Result<ParsedChat> ParseChatRequest(std::string_view body, Dialect dialect);

// POST /v1/completions (§6.1): the prompt becomes a single user message.
Result<ParsedChat> ParseCompletionRequest(std::string_view body);

// The chat.completion body (§5.4). `id` is e.g. "chatcmpl-<uuid>", `created` Unix seconds,
// `model` the gateway model id the caller asked for. With no text, `message.content` is null
// for kOpenAi and "" for kWriter.
std::string RenderChatResponse(const providers::ChatResponse& response, Dialect dialect,
                               std::string_view id, int64_t created, std::string_view model);

// The union text_completion body (§6.2), `id` e.g. "cmpl-<uuid>".
std::string RenderCompletionResponse(const providers::ChatResponse& response,
                                     std::string_view id, int64_t created,
                                     std::string_view model);

// One model the caller may use, for GET /v1/models (§4).
struct ModelListEntry {
  std::string id;        // gateway model id
  std::string name;      // display name
  int64_t created_unix;  // the model's created_at, Unix seconds
  std::string owned_by;  // provider id, e.g. "bedrock"
};

// {"object":"list","data":[...],"models":[...]}: both arrays, same models, sorted by id.
std::string RenderModelList(std::vector<ModelListEntry> models);
// GET /v1/models/{id}: the single `data[]` item, with `name`.
std::string RenderModel(const ModelListEntry& model);

// `event: error\ndata: <client-api §7.1 body>\n\n`: a failure after the stream started.
std::string RenderStreamErrorFrame(const Error& error, std::string_view request_id);

// Turns the provider-neutral events of one chat stream into SSE frames (§5.5):
//   role chunk (always first, even when the provider sent no MessageStart), content and tool-call
//   chunks, the closing chunk with finish_reason, then - with include_usage - a usage chunk with
//   "choices":[] (earlier chunks then carry "usage":null), then `data: [DONE]`.
// Tool-call indexes are taken as given (0, 1, ... per ConverseStreamState). The provider's
// Metadata event (its last) completes the stream; if the provider ends right after MessageStop,
// Finish() completes it with zero usage. A stream that ends before MessageStop is an error: send
// ErrorFrame() instead of Finish().
// Thread-safety: one stream, one thread at a time.
class ChatStreamEncoder {
 public:
  struct Options {
    std::string id;  // "chatcmpl-<uuid>", same on every chunk
    int64_t created = 0;
    std::string model;  // gateway model id
    bool include_usage = false;
    Dialect dialect = Dialect::kOpenAi;
    // stream.writer_done_sentinel: when false, `data: [DONE]` is omitted on /v1/chat (kWriter)
    // for Writer SDKs older than 2.0. Never affects kOpenAi.
    bool writer_done_sentinel = true;
  };

  explicit ChatStreamEncoder(Options options);

  // Zero or more complete frames for `event`. Returns "" once the stream is finished.
  std::string OnEvent(const providers::StreamEvent& event);
  // The frames still due after the provider's stream ended cleanly: the usage chunk (if
  // requested and not sent yet) and the terminator. "" if already finished or if no MessageStop
  // was seen (then the caller must send ErrorFrame).
  std::string Finish();
  // The late-error frame; finishes the stream (no [DONE] follows).
  std::string ErrorFrame(const Error& error, std::string_view request_id);

  bool saw_stop() const { return saw_stop_; }
  bool finished() const { return finished_; }
  // Token usage reported so far (zeros until the provider's Metadata): for metering.
  const providers::Usage& usage() const { return usage_; }

 private:
  void AppendRoleChunkIfDue(std::string& out);
  // Appends `data: <chunk>\n\n` whose one choice has this delta object and finish_reason
  // (`null` or a quoted reason).
  void AppendChoiceChunk(std::string& out, std::string_view delta_json,
                         std::string_view finish_reason_json);
  void AppendCompletion(std::string& out);

  Options options_;
  std::string chunk_head_;  // `data: {"id":..,"object":..,"created":..,"model":..,"choices":[`
  bool sent_role_ = false;
  bool saw_stop_ = false;
  bool finished_ = false;
  providers::Usage usage_;
};

// Turns the events of one /v1/completions stream into union chunks (§6.3): every chunk carries
// both "value" (Writer) and a text_completion object (OpenAI) with value == choices[0].text; an
// extra `"value":""` chunk carries finish_reason; with include_usage a final chunk with
// "choices":[] and usage; then `data: [DONE]`. Tool events are ignored. Same completion rules as
// ChatStreamEncoder. Thread-safety: one stream, one thread at a time.
class CompletionStreamEncoder {
 public:
  struct Options {
    std::string id;  // "cmpl-<uuid>"
    int64_t created = 0;
    std::string model;
    bool include_usage = false;
  };

  explicit CompletionStreamEncoder(Options options);

  std::string OnEvent(const providers::StreamEvent& event);
  std::string Finish();
  std::string ErrorFrame(const Error& error, std::string_view request_id);

  bool saw_stop() const { return saw_stop_; }
  bool finished() const { return finished_; }
  const providers::Usage& usage() const { return usage_; }

 private:
  void AppendTextChunk(std::string& out, std::string_view text,
                       std::string_view finish_reason_json);
  void AppendCompletion(std::string& out);

  Options options_;
  std::string chunk_middle_;  // `,"id":..,"object":..,"created":..,"model":..,"choices":[`
  bool saw_stop_ = false;
  bool finished_ = false;
  providers::Usage usage_;
};

}  // namespace mg::api::data_plane
