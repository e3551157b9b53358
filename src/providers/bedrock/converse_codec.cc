#include "providers/bedrock/converse_codec.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <limits>

#include "providers/json_text.h"

namespace mg::providers::bedrock {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Request

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

const char* ConverseRole(Role role) { return role == Role::kAssistant ? "assistant" : "user"; }

// §8.1: a message left with no content block is dropped (before merging).
bool HasBlocks(const Message& m) {
  switch (m.role) {
    case Role::kTool: return true;
    case Role::kUser: return !m.content.empty();
    case Role::kAssistant:
      if (!m.tool_calls.empty()) return true;
      return std::any_of(m.content.begin(), m.content.end(), [](const ContentPart& p) {
        const auto* t = std::get_if<TextPart>(&p);
        return t != nullptr && !IsBlank(t->text);
      });
  }
  return false;
}

// Separates blocks inside one content array.
class BlockList {
 public:
  explicit BlockList(std::string& out) : out_(out) {}
  std::string& Next() {
    if (!first_) out_.push_back(',');
    first_ = false;
    return out_;
  }
  bool Empty() const { return first_; }

 private:
  std::string& out_;
  bool first_ = true;
};

void AppendTextBlock(BlockList& blocks, std::string_view text) {
  std::string& out = blocks.Next();
  out += "{\"text\":";
  AppendJsonString(out, text);
  out += '}';
}

std::string_view ImageFormat(std::string_view format) {
  // §8.1: data:image/jpg is accepted and sent as "jpeg".
  return format == "jpg" ? std::string_view("jpeg") : format;
}

void AppendUserBlocks(BlockList& blocks, const Message& m) {
  for (const ContentPart& part : m.content) {
    if (const auto* text = std::get_if<TextPart>(&part)) {
      AppendTextBlock(blocks, text->text);
    } else {
      const auto& image = std::get<ImagePart>(part);
      std::string& out = blocks.Next();
      out += "{\"image\":{\"format\":";
      AppendJsonString(out, ImageFormat(image.format));
      out += ",\"source\":{\"bytes\":";
      AppendJsonString(out, image.data_base64);
      out += "}}}";
    }
  }
}

void AppendToolResultBlock(BlockList& blocks, const Message& m) {
  std::string& out = blocks.Next();
  out += "{\"toolResult\":{\"toolUseId\":";
  AppendJsonString(out, m.tool_call_id);
  out += ",\"content\":[";
  BlockList results(out);
  for (const ContentPart& part : m.content) {
    const auto* text = std::get_if<TextPart>(&part);
    if (text != nullptr && !IsBlank(text->text)) AppendTextBlock(results, text->text);
  }
  // A text block may not be blank (§4.1 check 3), so an empty result still says something.
  if (results.Empty()) AppendTextBlock(results, "(empty)");
  out += "],\"status\":\"success\"}}";
}

void AppendAssistantBlocks(BlockList& blocks, const Message& m) {
  for (const ContentPart& part : m.content) {
    const auto* text = std::get_if<TextPart>(&part);
    if (text != nullptr && !IsBlank(text->text)) AppendTextBlock(blocks, text->text);
  }
  for (const ToolCall& call : m.tool_calls) {
    std::string& out = blocks.Next();
    out += "{\"toolUse\":{\"toolUseId\":";
    AppendJsonString(out, call.id);
    out += ",\"name\":";
    AppendJsonString(out, call.name);
    out += ",\"input\":";
    out += call.arguments_json.empty() ? std::string_view("{}") : call.arguments_json;
    out += "}}";
  }
}

// Writes the merged Converse messages: consecutive messages with the same Converse role become
// one, and in a merged user message every toolResult block comes first (§8.1).
void AppendMessages(std::string& out, const std::vector<Message>& messages) {
  bool first_message = true;
  size_t i = 0;
  while (i < messages.size()) {
    if (!HasBlocks(messages[i])) {
      ++i;
      continue;
    }
    const char* role = ConverseRole(messages[i].role);
    const bool is_user = messages[i].role != Role::kAssistant;
    // [i, end) is the run of messages (skipping empty ones) that share this Converse role.
    size_t end = i + 1;
    while (end < messages.size() &&
           (!HasBlocks(messages[end]) || (messages[end].role != Role::kAssistant) == is_user)) {
      ++end;
    }
    if (!first_message) out.push_back(',');
    first_message = false;
    out += "{\"role\":\"";
    out += role;
    out += "\",\"content\":[";
    BlockList blocks(out);
    if (is_user) {
      for (size_t j = i; j < end; ++j) {
        if (messages[j].role == Role::kTool) AppendToolResultBlock(blocks, messages[j]);
      }
      for (size_t j = i; j < end; ++j) {
        if (messages[j].role == Role::kUser) AppendUserBlocks(blocks, messages[j]);
      }
    } else {
      for (size_t j = i; j < end; ++j) AppendAssistantBlocks(blocks, messages[j]);
    }
    out += "]}";
    i = end;
  }
}

bool HistoryHasToolBlocks(const std::vector<Message>& messages) {
  return std::any_of(messages.begin(), messages.end(), [](const Message& m) {
    return m.role == Role::kTool || (m.role == Role::kAssistant && !m.tool_calls.empty());
  });
}

void AppendToolSpec(std::string& out, std::string_view name, std::string_view description,
                    std::string_view schema_json) {
  out += "{\"toolSpec\":{\"name\":";
  AppendJsonString(out, name);
  if (!description.empty()) {
    out += ",\"description\":";
    AppendJsonString(out, description);
  }
  out += ",\"inputSchema\":{\"json\":";
  out += schema_json;
  out += "}}}";
}

// toolConfig per the §8.1 tool rows; writes nothing when no toolConfig is due.
void AppendToolConfig(std::string& out, const ChatRequest& r) {
  const bool history_has_tools = HistoryHasToolBlocks(r.messages);
  if (!r.tools.empty()) {
    // "none": Converse cannot forbid calls, so leave tools out unless the history needs them.
    if (r.tool_choice.mode == ToolChoice::Mode::kNone && !history_has_tools) return;
    out += ",\"toolConfig\":{\"tools\":[";
    bool first = true;
    for (const ToolDefinition& tool : r.tools) {
      if (!first) out.push_back(',');
      first = false;
      AppendToolSpec(out, tool.name, tool.description,
                     tool.parameters_json.empty()
                         ? std::string_view("{\"type\":\"object\",\"properties\":{}}")
                         : std::string_view(tool.parameters_json));
    }
    out += ']';
    switch (r.tool_choice.mode) {
      case ToolChoice::Mode::kRequired: out += ",\"toolChoice\":{\"any\":{}}"; break;
      case ToolChoice::Mode::kNamed:
        out += ",\"toolChoice\":{\"tool\":{\"name\":";
        AppendJsonString(out, r.tool_choice.name);
        out += "}}";
        break;
      case ToolChoice::Mode::kAuto:  // Bedrock's default
      case ToolChoice::Mode::kNone: break;
    }
    out += '}';
    return;
  }
  if (!history_has_tools) return;
  // Bedrock requires a toolConfig once the history holds tool blocks: rebuild one spec per
  // distinct tool name the history used.
  std::vector<std::string_view> names;
  for (const Message& m : r.messages) {
    for (const ToolCall& call : m.tool_calls) {
      if (std::find(names.begin(), names.end(), call.name) == names.end()) {
        names.push_back(call.name);
      }
    }
  }
  if (names.empty()) return;
  out += ",\"toolConfig\":{\"tools\":[";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendToolSpec(out, names[i], {}, "{\"type\":\"object\"}");
  }
  out += "]}";
}

void AppendInferenceConfig(std::string& out, const ChatRequest& r) {
  if (!r.max_tokens && !r.temperature && !r.top_p && r.stop.empty()) return;
  out += ",\"inferenceConfig\":{";
  bool first = true;
  auto key = [&](std::string_view name) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out += name;
    out += "\":";
  };
  if (r.max_tokens) {
    key("maxTokens");
    AppendJsonNumber(out, *r.max_tokens);
  }
  if (r.temperature) {
    key("temperature");
    AppendJsonNumber(out, *r.temperature);
  }
  if (r.top_p) {
    key("topP");
    AppendJsonNumber(out, *r.top_p);
  }
  if (!r.stop.empty()) {
    key("stopSequences");
    out.push_back('[');
    for (size_t i = 0; i < r.stop.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonString(out, r.stop[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
}

void AppendOutputConfig(std::string& out, const ResponseFormat& format) {
  if (format.type != ResponseFormat::Type::kJsonSchema) return;
  out += ",\"outputConfig\":{\"textFormat\":{\"type\":\"json_schema\",\"structure\":{"
         "\"jsonSchema\":{\"schema\":";
  // Converse takes the schema as a JSON string, not an object.
  AppendJsonString(out, format.schema_json.empty() ? std::string_view("{}")
                                                   : std::string_view(format.schema_json));
  if (!format.name.empty()) {
    out += ",\"name\":";
    AppendJsonString(out, format.name);
  }
  if (!format.description.empty()) {
    out += ",\"description\":";
    AppendJsonString(out, format.description);
  }
  out += "}}}}";
}

size_t EstimateBodySize(const ChatRequest& r) {
  size_t size = 256;
  for (const std::string& s : r.system) size += s.size() + 16;
  for (const Message& m : r.messages) {
    size += 48 + m.tool_call_id.size();
    for (const ContentPart& p : m.content) {
      size += 24 + std::visit(
                       [](const auto& part) {
                         if constexpr (std::is_same_v<std::decay_t<decltype(part)>, TextPart>) {
                           return part.text.size();
                         } else {
                           return part.data_base64.size() + 48;
                         }
                       },
                       p);
    }
    for (const ToolCall& c : m.tool_calls) {
      size += 64 + c.id.size() + c.name.size() + c.arguments_json.size();
    }
  }
  for (const ToolDefinition& t : r.tools) {
    size += 80 + t.name.size() + t.description.size() + t.parameters_json.size();
  }
  return size + r.response_format.schema_json.size() * 2;
}

// ---------------------------------------------------------------------------------------------
// Responses

Error Malformed(std::string_view what) {
  std::string message = "Bedrock sent a malformed reply: ";
  message += what;
  return Error(ErrorCode::kUpstreamError, "upstream_error", std::move(message));
}

// Parses into `storage`; the caller keeps the resource alive while it reads the value.
Result<json::value> ParseJson(std::string_view body, json::storage_ptr storage) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 128;
  json::value value = json::parse(json::string_view(body.data(), body.size()), ec,
                                  std::move(storage), options);
  if (ec) return Malformed("body is not JSON");
  if (!value.is_object()) return Malformed("body is not a JSON object");
  return value;
}

const json::object* GetObject(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  return v != nullptr ? v->if_object() : nullptr;
}

const json::array* GetArray(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  return v != nullptr ? v->if_array() : nullptr;
}

std::optional<std::string_view> GetString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const json::string& s = v->get_string();
  return std::string_view(s.data(), s.size());
}

std::optional<int64_t> GetInt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= uint64_t{std::numeric_limits<int64_t>::max()}) {
    return static_cast<int64_t>(v->get_uint64());
  }
  if (v->is_double()) {
    const double d = v->get_double();
    // Casting a double outside [-2^63, 2^63) to int64_t is undefined: range-check first.
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
        d == static_cast<double>(static_cast<int64_t>(d))) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

Result<Usage> ParseUsage(const json::object& parent) {
  const json::object* usage = GetObject(parent, "usage");
  if (usage == nullptr) return Malformed("missing usage");
  const auto input = GetInt(*usage, "inputTokens");
  const auto output = GetInt(*usage, "outputTokens");
  const auto total = GetInt(*usage, "totalTokens");
  if (!input || !output || !total) return Malformed("usage lacks a token count");
  return Usage{*input, *output, *total};
}

std::vector<std::string> StringList(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const json::array* array = GetArray(o, key);
  if (array == nullptr) return out;
  out.reserve(array->size());
  for (const json::value& v : *array) {
    if (v.is_string()) out.emplace_back(v.get_string().data(), v.get_string().size());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

Result<CatalogModel> ParseModelSummary(const json::value& value) {
  const json::object* summary = value.if_object();
  if (summary == nullptr) return Malformed("model summary is not an object");
  const auto model_id = GetString(*summary, "modelId");
  if (!model_id) return Malformed("model summary lacks modelId");
  CatalogModel model;
  model.provider_model_id = *model_id;
  model.name = GetString(*summary, "modelName").value_or("");
  model.vendor = GetString(*summary, "providerName").value_or("");
  model.input_modalities = StringList(*summary, "inputModalities");
  model.output_modalities = StringList(*summary, "outputModalities");
  model.inference_types = StringList(*summary, "inferenceTypesSupported");
  const json::value* streaming = summary->if_contains("responseStreamingSupported");
  model.streaming = streaming != nullptr && streaming->is_bool() && streaming->get_bool();
  if (const json::object* lifecycle = GetObject(*summary, "modelLifecycle")) {
    model.lifecycle = GetString(*lifecycle, "status").value_or("");
  }
  model.chat_capable = Contains(model.output_modalities, "TEXT") &&
                       (Contains(model.inference_types, "ON_DEMAND") ||
                        Contains(model.inference_types, "INFERENCE_PROFILE"));
  return model;
}

}  // namespace

std::string BuildConverseBody(const ChatRequest& request) {
  std::string out;
  out.reserve(EstimateBodySize(request));
  out += "{\"messages\":[";
  AppendMessages(out, request.messages);
  out += ']';
  bool first_system = true;
  for (const std::string& text : request.system) {
    if (text.empty()) continue;
    out += first_system ? ",\"system\":[" : ",";
    first_system = false;
    out += "{\"text\":";
    AppendJsonString(out, text);
    out += '}';
  }
  if (!first_system) out += ']';
  AppendInferenceConfig(out, request);
  AppendToolConfig(out, request);
  AppendOutputConfig(out, request.response_format);
  out += '}';
  return out;
}

std::string BuildProbeBody() {
  return R"({"messages":[{"role":"user","content":[{"text":"ping"}]}],)"
         R"("inferenceConfig":{"maxTokens":1}})";
}

FinishReason MapStopReason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return FinishReason::kLength;
  }
  if (stop_reason == "tool_use") return FinishReason::kToolCalls;
  if (stop_reason == "guardrail_intervened" || stop_reason == "content_filtered") {
    return FinishReason::kContentFilter;
  }
  // end_turn, stop_sequence, malformed_model_output, malformed_tool_use and anything unknown.
  return FinishReason::kStop;
}

bool IsAnomalousStopReason(std::string_view stop_reason) {
  static constexpr std::array<std::string_view, 7> kExpected = {
      "end_turn",           "stop_sequence",    "max_tokens",
      "tool_use",           "guardrail_intervened", "content_filtered",
      "model_context_window_exceeded"};
  return std::find(kExpected.begin(), kExpected.end(), stop_reason) == kExpected.end();
}

Result<ChatResponse> ParseConverseResponse(std::string_view body) {
  json::monotonic_resource resource;
  MG_TRY(json::value root_value, ParseJson(body, &resource));
  const json::object& root = root_value.get_object();

  const json::object* output = GetObject(root, "output");
  const json::object* message = output != nullptr ? GetObject(*output, "message") : nullptr;
  if (message == nullptr) return Malformed("missing output.message");
  const json::array* content = GetArray(*message, "content");
  if (content == nullptr) return Malformed("missing output.message.content");
  const auto stop_reason = GetString(root, "stopReason");
  if (!stop_reason) return Malformed("missing stopReason");
  MG_TRY(Usage usage, ParseUsage(root));
  const json::object* metrics = GetObject(root, "metrics");
  const json::value* latency = metrics != nullptr ? metrics->if_contains("latencyMs") : nullptr;
  if (latency == nullptr || !latency->is_number()) return Malformed("missing metrics.latencyMs");

  ChatResponse response;
  for (const json::value& block_value : *content) {
    const json::object* block = block_value.if_object();
    if (block == nullptr) return Malformed("content block is not an object");
    if (const auto text = GetString(*block, "text")) {
      if (!response.text) response.text.emplace();
      response.text->append(*text);
    } else if (const json::object* tool_use = GetObject(*block, "toolUse")) {
      const auto id = GetString(*tool_use, "toolUseId");
      const auto name = GetString(*tool_use, "name");
      const json::value* input = tool_use->if_contains("input");
      if (!id || !name || input == nullptr) return Malformed("toolUse block is incomplete");
      response.tool_calls.push_back(
          ToolCall{std::string(*id), std::string(*name), json::serialize(*input)});
    }
    // reasoningContent and other block types are dropped (§8.2).
  }
  response.finish_reason = MapStopReason(*stop_reason);
  response.provider_stop_reason = *stop_reason;
  response.usage = usage;
  response.provider_latency_ms = GetInt(*metrics, "latencyMs");
  return response;
}

Result<std::optional<StreamEvent>> ParseStreamEvent(std::string_view event_type,
                                                    std::string_view payload_json) {
  using Event = std::optional<StreamEvent>;
  // Events whose payload carries nothing we forward are not parsed at all.
  if (event_type == "messageStart") return Event(MessageStart{});
  if (event_type != "contentBlockStart" && event_type != "contentBlockDelta" &&
      event_type != "messageStop" && event_type != "metadata") {
    return Event();  // contentBlockStop and unknown events
  }
  // Stream payloads are small: parse them into a stack buffer first.
  std::array<unsigned char, 2048> buffer;
  json::monotonic_resource resource(buffer.data(), buffer.size());
  MG_TRY(json::value root_value, ParseJson(payload_json, &resource));
  const json::object& root = root_value.get_object();

  if (event_type == "contentBlockDelta") {
    const auto index = GetInt(root, "contentBlockIndex");
    const json::object* delta = GetObject(root, "delta");
    if (!index || delta == nullptr) return Malformed("contentBlockDelta is incomplete");
    if (const auto text = GetString(*delta, "text")) {
      if (text->empty()) return Event();
      return Event(TextDelta{std::string(*text)});
    }
    if (const json::object* tool_use = GetObject(*delta, "toolUse")) {
      const auto input = GetString(*tool_use, "input");
      if (!input) return Malformed("toolUse delta lacks input");
      if (input->empty()) return Event();
      return Event(ToolCallDelta{static_cast<int>(*index), std::string(*input)});
    }
    return Event();  // reasoningContent and other deltas
  }
  if (event_type == "contentBlockStart") {
    const auto index = GetInt(root, "contentBlockIndex");
    const json::object* start = GetObject(root, "start");
    if (!index || start == nullptr) return Malformed("contentBlockStart is incomplete");
    const json::object* tool_use = GetObject(*start, "toolUse");
    if (tool_use == nullptr) return Event();  // image / toolResult starts: nothing to forward
    const auto id = GetString(*tool_use, "toolUseId");
    const auto name = GetString(*tool_use, "name");
    if (!id || !name) return Malformed("toolUse start is incomplete");
    return Event(ToolCallStart{static_cast<int>(*index), std::string(*id), std::string(*name)});
  }
  if (event_type == "messageStop") {
    const auto stop_reason = GetString(root, "stopReason");
    if (!stop_reason) return Malformed("messageStop lacks stopReason");
    return Event(MessageStop{MapStopReason(*stop_reason), std::string(*stop_reason)});
  }
  // metadata
  MG_TRY(Usage usage, ParseUsage(root));
  return Event(Metadata{usage});
}

Result<std::optional<StreamEvent>> ConverseStreamState::Parse(std::string_view event_type,
                                                              std::string_view payload_json) {
  MG_TRY(std::optional<StreamEvent> event, ParseStreamEvent(event_type, payload_json));
  if (!event) return event;
  if (auto* start = std::get_if<ToolCallStart>(&*event)) {
    const int k = static_cast<int>(tool_blocks_.size());
    tool_blocks_.emplace_back(start->index, k);
    start->index = k;
  } else if (auto* delta = std::get_if<ToolCallDelta>(&*event)) {
    const int block = delta->index;
    const auto it = std::find_if(tool_blocks_.begin(), tool_blocks_.end(),
                                 [block](const auto& entry) { return entry.first == block; });
    if (it == tool_blocks_.end()) return Malformed("toolUse delta for a block that never started");
    delta->index = it->second;
  }
  return event;
}

Result<std::vector<CatalogModel>> ParseFoundationModels(std::string_view body) {
  json::monotonic_resource resource;
  MG_TRY(json::value root_value, ParseJson(body, &resource));
  const json::array* summaries = GetArray(root_value.get_object(), "modelSummaries");
  if (summaries == nullptr) return Malformed("missing modelSummaries");
  std::vector<CatalogModel> models;
  models.reserve(summaries->size());
  for (const json::value& summary : *summaries) {
    MG_TRY(CatalogModel model, ParseModelSummary(summary));
    models.push_back(std::move(model));
  }
  return models;
}

Result<CatalogModel> ParseFoundationModel(std::string_view body) {
  json::monotonic_resource resource;
  MG_TRY(json::value root_value, ParseJson(body, &resource));
  const json::value* details = root_value.get_object().if_contains("modelDetails");
  if (details == nullptr) return Malformed("missing modelDetails");
  return ParseModelSummary(*details);
}

}  // namespace mg::providers::bedrock
