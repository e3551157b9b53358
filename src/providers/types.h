// @file types.h
// @brief Provider-neutral chat types: what the data plane hands a provider (ChatRequest) and what
// a provider hands back (ChatResponse, StreamEvent), plus a provider's catalog entry.
//
// The data plane (api/data_plane/openai_codec) fills ChatRequest from an OpenAI/Writer body and
// renders ChatResponse/StreamEvent back; each provider (e.g. providers/bedrock/converse_codec)
// translates them to and from its wire format. Nothing here knows either wire format.
//
// Invariant for every std::string holding JSON text (`*_json` members): it is empty or a valid,
// compact JSON document (the parsers that produce these types guarantee it), so codecs may splice
// it into their output without parsing it again.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mg::providers {

// ---------------------------------------------------------------------------------------------
// Request

struct TextPart {
  std::string text;
};

// An inline image. `format` is one of "png", "jpeg", "gif", "webp"; `data_base64` is the
// base64 text exactly as the caller sent it (no decoding, no re-encoding).
struct ImagePart {
  std::string format;
  std::string data_base64;
};

using ContentPart = std::variant<TextPart, ImagePart>;

// A tool call made by the assistant (in history, or in a response).
struct ToolCall {
  std::string id;
  std::string name;
  // The arguments as a compact JSON object text ("{}" when the caller sent "").
  std::string arguments_json;
};

enum class Role {
  kUser,
  kAssistant,
  kTool,  // a tool result; `tool_call_id` names the call it answers
};

// One non-system message. System/developer messages live in ChatRequest::system.
struct Message {
  Role role = Role::kUser;
  std::vector<ContentPart> content;  // text only for kAssistant and kTool
  std::vector<ToolCall> tool_calls;  // kAssistant only
  std::string tool_call_id;          // kTool only
};

struct ToolDefinition {
  std::string name;
  std::string description;      // empty when none was given
  std::string parameters_json;  // JSON Schema object text; empty when none was given
};

struct ToolChoice {
  enum class Mode {
    kAuto,      // the model decides (also the default when absent)
    kNone,      // the model must not call tools
    kRequired,  // the model must call some tool
    kNamed,     // the model must call `name`
  };
  Mode mode = Mode::kAuto;
  std::string name;  // kNamed only; always one of ChatRequest::tools
};

struct ResponseFormat {
  enum class Type { kText, kJsonObject, kJsonSchema };
  Type type = Type::kText;
  // kJsonSchema only:
  std::string name;
  std::string description;  // empty when none was given
  std::string schema_json;  // empty when none was given
};

struct ChatRequest {
  std::vector<std::string> system;  // non-empty system texts, in order
  std::vector<Message> messages;
  std::vector<ToolDefinition> tools;
  ToolChoice tool_choice;
  std::optional<int64_t> max_tokens;  // >= 1
  std::optional<double> temperature;  // [0, 2] as accepted from the caller
  std::optional<double> top_p;        // [0, 1]
  std::vector<std::string> stop;      // at most 4, each non-empty
  std::optional<int64_t> seed;        // forwarded only by providers that support one
  ResponseFormat response_format;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage (only meaningful with stream)
};

// True when any message carries an image part (for "image sent to a text-only model" checks).
bool HasImages(const ChatRequest& request);

// ---------------------------------------------------------------------------------------------
// Response

enum class FinishReason { kStop, kLength, kToolCalls, kContentFilter };

// The contract spelling: "stop", "length", "tool_calls", "content_filter".
const char* FinishReasonName(FinishReason reason);

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
};

struct ChatResponse {
  std::optional<std::string> text;  // absent when the model produced no text block
  std::vector<ToolCall> tool_calls;
  FinishReason finish_reason = FinishReason::kStop;
  Usage usage;
  // For logs and metrics only: the provider's own stop reason and latency, when it reports them.
  std::string provider_stop_reason;
  std::optional<int64_t> provider_latency_ms;
};

// ---------------------------------------------------------------------------------------------
// Streaming: the provider-neutral events a provider stream decodes into.

struct MessageStart {};
struct TextDelta {
  std::string text;
};
// `index` counts tool calls of this response: 0, 1, ... in the order they start.
struct ToolCallStart {
  int index = 0;
  std::string id;
  std::string name;
};
struct ToolCallDelta {
  int index = 0;
  std::string fragment;  // a piece of the arguments JSON text
};
struct MessageStop {
  FinishReason finish_reason = FinishReason::kStop;
  std::string provider_stop_reason;  // for logs
};
struct Metadata {
  Usage usage;
};

using StreamEvent =
    std::variant<MessageStart, TextDelta, ToolCallStart, ToolCallDelta, MessageStop, Metadata>;

// ---------------------------------------------------------------------------------------------
// Catalog: one model a provider offers in a region (admin-api "Catalog").

struct CatalogModel {
  std::string provider_model_id;
  std::string name;
  std::string vendor;
  std::vector<std::string> input_modalities;   // e.g. "TEXT", "IMAGE"
  std::vector<std::string> output_modalities;  // e.g. "TEXT", "EMBEDDING"
  bool streaming = false;
  std::string lifecycle;  // "ACTIVE" or "LEGACY"; empty when the provider did not say
  std::vector<std::string> inference_types;  // e.g. "ON_DEMAND", "INFERENCE_PROFILE"
  bool chat_capable = false;
};

}  // namespace mg::providers
