#include "api/data_plane/openai_codec.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <limits>

#include "providers/json_text.h"
#include "server/error_body.h"

namespace mg::api::data_plane {
namespace {

namespace json = boost::json;
using providers::AppendJsonNumber;
using providers::AppendJsonString;
using providers::ChatRequest;
using providers::ContentPart;
using providers::FinishReason;
using providers::ImagePart;
using providers::Message;
using providers::Role;
using providers::TextPart;
using providers::ToolCall;
using providers::ToolChoice;

// ---------------------------------------------------------------------------------------------
// Errors (client-api §7.2 rows "invalid_json", "invalid_parameter", "unsupported_parameter")

Error InvalidJson() {
  return Error(ErrorCode::kInvalidArgument, "invalid_json",
               "The request body must be a JSON object.");
}

Error Invalid(std::string param, std::string_view what) {
  std::string message = "Invalid '";
  message += param;
  message += "': ";
  message += what;
  return InvalidArgument(std::move(message), std::move(param));
}

Error Unsupported(std::string param, std::string_view what) {
  std::string message = "Unsupported value for '";
  message += param;
  message += "': ";
  message += what;
  return InvalidArgument(std::move(message), std::move(param), "unsupported_parameter");
}

// "messages[2]" + ".content" style paths, built only when an error is reported.
std::string Path(std::string_view base, size_t index, std::string_view suffix = {}) {
  std::string path(base);
  path += '[';
  path += std::to_string(index);
  path += ']';
  path += suffix;
  return path;
}

// ---------------------------------------------------------------------------------------------
// JSON access

std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }

// The member, or nullptr when absent or null (the contract treats null as absent).
const json::value* Find(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<int64_t> AsInteger(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > uint64_t{std::numeric_limits<int64_t>::max()}) return std::nullopt;
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    // Integral doubles such as 256.0 are integers in JSON's number model.
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e18) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<double> AsDouble(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

Result<json::value> ParseObject(std::string_view body, json::storage_ptr storage) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 128;  // tool schemas nest deeper than Boost's default of 32
  json::value value = json::parse(json::string_view(body.data(), body.size()), ec,
                                  std::move(storage), options);
  if (ec || !value.is_object()) return InvalidJson();
  return value;
}

// ---------------------------------------------------------------------------------------------
// Fields common to chat and completions

Result<void> ParseModel(const json::object& root, std::string& model) {
  const json::value* v = Find(root, "model");
  if (v == nullptr) return Invalid("model", "is required.");
  if (!v->is_string() || v->get_string().empty()) {
    return Invalid("model", "must be a non-empty string.");
  }
  model = View(v->get_string());
  return {};
}

Result<std::optional<double>> ParseRange(const json::object& root, std::string_view key,
                                         double lo, double hi) {
  const json::value* v = Find(root, key);
  if (v == nullptr) return std::optional<double>();
  const auto d = AsDouble(*v);
  if (!d || !(*d >= lo && *d <= hi)) {
    std::string what = "must be a number between ";
    AppendJsonNumber(what, lo);
    what += " and ";
    AppendJsonNumber(what, hi);
    what += '.';
    return Invalid(std::string(key), what);
  }
  return d;
}

Result<std::optional<int64_t>> ParsePositiveInt(const json::object& root, std::string_view key) {
  const json::value* v = Find(root, key);
  if (v == nullptr) return std::optional<int64_t>();
  const auto n = AsInteger(*v);
  if (!n || *n < 1) return Invalid(std::string(key), "must be an integer of at least 1.");
  return n;
}

Result<std::optional<int64_t>> ParseInt(const json::object& root, std::string_view key) {
  const json::value* v = Find(root, key);
  if (v == nullptr) return std::optional<int64_t>();
  const auto n = AsInteger(*v);
  if (!n) return Invalid(std::string(key), "must be an integer.");
  return n;
}

Result<void> ParseStop(const json::object& root, std::vector<std::string>& stop) {
  const json::value* v = Find(root, "stop");
  if (v == nullptr) return {};
  constexpr std::string_view kRule = "must be a non-empty string or at most 4 non-empty strings.";
  if (v->is_string()) {
    if (v->get_string().empty()) return Invalid("stop", kRule);
    stop.emplace_back(View(v->get_string()));
    return {};
  }
  if (!v->is_array() || v->get_array().size() > 4) return Invalid("stop", kRule);
  for (const json::value& item : v->get_array()) {
    if (!item.is_string() || item.get_string().empty()) return Invalid("stop", kRule);
    stop.emplace_back(View(item.get_string()));
  }
  return {};
}

Result<void> ParseStreamFlags(const json::object& root, ChatRequest& request) {
  if (const json::value* v = Find(root, "stream")) {
    if (!v->is_bool()) return Invalid("stream", "must be a boolean.");
    request.stream = v->get_bool();
  }
  if (const json::value* v = Find(root, "stream_options")) {
    if (!v->is_object()) return Invalid("stream_options", "must be an object.");
    if (const json::value* usage = Find(v->get_object(), "include_usage")) {
      if (!usage->is_bool()) return Invalid("stream_options.include_usage", "must be a boolean.");
      request.include_usage = usage->get_bool();
    }
  }
  return {};
}

// §3.5: known-but-unsupported fields are accepted only absent, null or at their neutral value.
enum class Neutral { kOne, kFalseOrZero, kZero, kEmptyObject, kFalse, kEmptyString };

Result<void> CheckNeutral(const json::object& root, std::string_view key, Neutral neutral) {
  const json::value* v = Find(root, key);
  if (v == nullptr) return {};
  std::string param(key);
  switch (neutral) {
    case Neutral::kOne: {
      const auto n = AsInteger(*v);
      if (!n) return Invalid(std::move(param), "must be an integer.");
      if (*n != 1) return Unsupported(std::move(param), "only 1 is supported.");
      return {};
    }
    case Neutral::kFalseOrZero: {
      if (v->is_bool()) {
        if (v->get_bool()) return Unsupported(std::move(param), "log probabilities are not supported.");
        return {};
      }
      const auto n = AsInteger(*v);
      if (!n) return Invalid(std::move(param), "must be a boolean or an integer.");
      if (*n != 0) return Unsupported(std::move(param), "log probabilities are not supported.");
      return {};
    }
    case Neutral::kZero: {
      const auto d = AsDouble(*v);
      if (!d) return Invalid(std::move(param), "must be a number.");
      if (*d != 0) return Unsupported(std::move(param), "only 0 is supported.");
      return {};
    }
    case Neutral::kEmptyObject:
      if (!v->is_object()) return Invalid(std::move(param), "must be an object.");
      if (!v->get_object().empty()) return Unsupported(std::move(param), "must be empty.");
      return {};
    case Neutral::kFalse:
      if (!v->is_bool()) return Invalid(std::move(param), "must be a boolean.");
      if (v->get_bool()) return Unsupported(std::move(param), "only false is supported.");
      return {};
    case Neutral::kEmptyString:
      if (!v->is_string()) return Invalid(std::move(param), "must be a string.");
      if (!v->get_string().empty()) return Unsupported(std::move(param), "must be empty.");
      return {};
  }
  return {};
}

// Fields §5.1 and §6.1 share: sampling, limits, stop, stream, seed.
Result<void> ParseCommonFields(const json::object& root, ChatRequest& request) {
  MG_TRY(request.temperature, ParseRange(root, "temperature", 0, 2));
  MG_TRY(request.top_p, ParseRange(root, "top_p", 0, 1));
  MG_TRY(request.max_tokens, ParsePositiveInt(root, "max_tokens"));
  MG_TRY_VOID(ParseStop(root, request.stop));
  MG_TRY_VOID(ParseStreamFlags(root, request));
  MG_TRY(request.seed, ParseInt(root, "seed"));
  for (std::string_view key : {"presence_penalty", "frequency_penalty"}) {
    MG_TRY_VOID(CheckNeutral(root, key, Neutral::kZero));
  }
  MG_TRY_VOID(CheckNeutral(root, "logit_bias", Neutral::kEmptyObject));
  MG_TRY_VOID(CheckNeutral(root, "n", Neutral::kOne));
  MG_TRY_VOID(CheckNeutral(root, "logprobs", Neutral::kFalseOrZero));
  return {};
}

// ---------------------------------------------------------------------------------------------
// Messages (§5.2)

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != prefix[i]) return false;
  }
  return true;
}

// `data:image/<format>;base64,<data>` -> ImagePart (bedrock.md §8.1 image row).
Result<ImagePart> ParseImageUrl(std::string_view url, const std::string& param) {
  if (StartsWithNoCase(url, "http://") || StartsWithNoCase(url, "https://")) {
    return Unsupported(param,
                       "image URLs are not fetched; send the image inline as a "
                       "data:image/...;base64 URI.");
  }
  if (!StartsWithNoCase(url, "data:")) {
    return Invalid(param, "must be a data:image/...;base64 URI.");
  }
  std::string_view rest = url.substr(5);
  const size_t comma = rest.find(',');
  if (comma == std::string_view::npos) return Invalid(param, "is not a valid data URI.");
  std::string_view media = rest.substr(0, comma);
  std::string_view data = rest.substr(comma + 1);
  constexpr std::string_view kBase64 = ";base64";
  if (media.size() < kBase64.size() ||
      !StartsWithNoCase(media.substr(media.size() - kBase64.size()), kBase64)) {
    return Invalid(param, "the data URI must be base64-encoded.");
  }
  media.remove_suffix(kBase64.size());
  if (!StartsWithNoCase(media, "image/")) return Invalid(param, "the data URI is not an image.");
  std::string format(media.substr(6));
  std::transform(format.begin(), format.end(), format.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (format == "jpg") format = "jpeg";
  if (format != "png" && format != "jpeg" && format != "gif" && format != "webp") {
    return Unsupported(param, "images must be png, jpeg, gif or webp.");
  }
  if (data.empty()) return Invalid(param, "the image data is empty.");
  return ImagePart{std::move(format), std::string(data)};
}

enum class PartPolicy {
  kTextAndImages,  // user
  kTextOnly,       // system, developer, tool
  kAssistant,      // text; refusal parts are ignored
};

// Appends the parts of an array `content` to `parts`.
Result<void> ParseParts(const json::array& array, size_t message_index, PartPolicy policy,
                        std::vector<ContentPart>& parts) {
  parts.reserve(parts.size() + array.size());
  for (size_t j = 0; j < array.size(); ++j) {
    auto part_path = [&](std::string_view suffix) {
      return Path(Path("messages", message_index, ".content"), j, suffix);
    };
    const json::object* part = array[j].if_object();
    if (part == nullptr) return Invalid(part_path(""), "must be an object.");
    const json::value* type = Find(*part, "type");
    if (type == nullptr || !type->is_string()) {
      return Invalid(part_path(".type"), "must be a string.");
    }
    const std::string_view type_name = View(type->get_string());
    if (type_name == "text") {
      const json::value* text = Find(*part, "text");
      if (text == nullptr || !text->is_string()) {
        return Invalid(part_path(".text"), "must be a string.");
      }
      parts.push_back(TextPart{std::string(View(text->get_string()))});
    } else if (type_name == "image_url") {
      if (policy != PartPolicy::kTextAndImages) {
        return Invalid(part_path(".type"), "image parts are allowed in user messages only.");
      }
      const json::value* image = Find(*part, "image_url");
      if (image == nullptr || !image->is_object()) {
        return Invalid(part_path(".image_url"), "must be an object with a 'url'.");
      }
      const json::value* url = Find(image->get_object(), "url");
      if (url == nullptr || !url->is_string()) {
        return Invalid(part_path(".image_url.url"), "must be a string.");
      }
      MG_TRY(ImagePart parsed, ParseImageUrl(View(url->get_string()), part_path(".image_url.url")));
      parts.push_back(std::move(parsed));
    } else if (type_name == "refusal" && policy == PartPolicy::kAssistant) {
      continue;  // a refusal the model gave earlier: nothing to forward
    } else if (type_name == "input_audio" || type_name == "file") {
      return Unsupported(part_path(".type"), "audio and file parts are not supported.");
    } else {
      return Invalid(part_path(".type"), "must be 'text' or 'image_url'.");
    }
  }
  return {};
}

// `content` of message i: string or array of parts; null/absent -> no parts (`*present` false).
Result<void> ParseContent(const json::object& message, size_t i, PartPolicy policy,
                          std::vector<ContentPart>& parts, bool* present) {
  const json::value* content = Find(message, "content");
  *present = content != nullptr;
  if (content == nullptr) return {};
  if (content->is_string()) {
    parts.push_back(TextPart{std::string(View(content->get_string()))});
    return {};
  }
  if (content->is_array()) return ParseParts(content->get_array(), i, policy, parts);
  return Invalid(Path("messages", i, ".content"), "must be a string or an array of parts.");
}

// JSON text of a tool call's `arguments` -> compact JSON object text ("" -> "{}").
Result<std::string> CompactArguments(std::string_view arguments, const std::string& param) {
  if (arguments.empty()) return std::string("{}");
  std::array<unsigned char, 1024> buffer;
  json::monotonic_resource resource(buffer.data(), buffer.size());
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 128;
  json::value value = json::parse(json::string_view(arguments.data(), arguments.size()), ec,
                                  &resource, options);
  if (ec || !value.is_object()) return Invalid(param, "must be a JSON object encoded as a string.");
  return json::serialize(value);
}

Result<void> ParseToolCalls(const json::value& value, size_t i, std::vector<ToolCall>& calls) {
  if (!value.is_array()) return Invalid(Path("messages", i, ".tool_calls"), "must be an array.");
  const json::array& array = value.get_array();
  calls.reserve(array.size());
  for (size_t j = 0; j < array.size(); ++j) {
    auto call_path = [&](std::string_view suffix) {
      return Path(Path("messages", i, ".tool_calls"), j, suffix);
    };
    const json::object* call = array[j].if_object();
    if (call == nullptr) return Invalid(call_path(""), "must be an object.");
    const json::value* id = Find(*call, "id");
    if (id == nullptr || !id->is_string() || id->get_string().empty()) {
      return Invalid(call_path(".id"), "must be a non-empty string.");
    }
    if (const json::value* type = Find(*call, "type")) {
      if (!type->is_string()) return Invalid(call_path(".type"), "must be a string.");
      if (type->get_string() != "function") {
        return Unsupported(call_path(".type"), "only 'function' tool calls are supported.");
      }
    }
    const json::value* function = Find(*call, "function");
    if (function == nullptr || !function->is_object()) {
      return Invalid(call_path(".function"), "must be an object.");
    }
    const json::value* name = Find(function->get_object(), "name");
    if (name == nullptr || !name->is_string() || name->get_string().empty()) {
      return Invalid(call_path(".function.name"), "must be a non-empty string.");
    }
    std::string_view arguments;
    if (const json::value* args = Find(function->get_object(), "arguments")) {
      if (!args->is_string()) {
        return Invalid(call_path(".function.arguments"), "must be a JSON object encoded as a string.");
      }
      arguments = View(args->get_string());
    }
    // Only build the path when the arguments are bad.
    std::string compact;
    if (auto parsed = CompactArguments(arguments, {}); parsed) {
      compact = std::move(*parsed);
    } else {
      return Invalid(call_path(".function.arguments"), "must be a JSON object encoded as a string.");
    }
    calls.push_back(ToolCall{std::string(View(id->get_string())),
                             std::string(View(name->get_string())), std::move(compact)});
  }
  return {};
}

Result<void> ParseMessage(const json::value& value, size_t i, ChatRequest& request) {
  const json::object* message = value.if_object();
  if (message == nullptr) return Invalid(Path("messages", i), "must be an object.");
  const json::value* role_value = Find(*message, "role");
  if (role_value == nullptr || !role_value->is_string()) {
    return Invalid(Path("messages", i, ".role"), "must be a string.");
  }
  const std::string_view role = View(role_value->get_string());
  bool has_content = false;

  if (role == "system" || role == "developer") {
    std::vector<ContentPart> parts;
    MG_TRY_VOID(ParseContent(*message, i, PartPolicy::kTextOnly, parts, &has_content));
    if (!has_content) return Invalid(Path("messages", i, ".content"), "is required.");
    for (ContentPart& part : parts) {
      std::string& text = std::get<TextPart>(part).text;
      if (!text.empty()) request.system.push_back(std::move(text));
    }
    return {};
  }

  Message out;
  if (role == "user") {
    out.role = Role::kUser;
    MG_TRY_VOID(ParseContent(*message, i, PartPolicy::kTextAndImages, out.content, &has_content));
    if (!has_content) return Invalid(Path("messages", i, ".content"), "is required.");
  } else if (role == "assistant") {
    out.role = Role::kAssistant;
    MG_TRY_VOID(ParseContent(*message, i, PartPolicy::kAssistant, out.content, &has_content));
    if (const json::value* calls = Find(*message, "tool_calls")) {
      MG_TRY_VOID(ParseToolCalls(*calls, i, out.tool_calls));
    }
    if (!has_content && out.tool_calls.empty()) {
      return Invalid(Path("messages", i, ".content"),
                     "is required unless the assistant message carries tool_calls.");
    }
  } else if (role == "tool") {
    out.role = Role::kTool;
    const json::value* id = Find(*message, "tool_call_id");
    if (id == nullptr || !id->is_string() || id->get_string().empty()) {
      return Invalid(Path("messages", i, ".tool_call_id"), "is required for tool messages.");
    }
    out.tool_call_id = View(id->get_string());
    MG_TRY_VOID(ParseContent(*message, i, PartPolicy::kTextOnly, out.content, &has_content));
    if (!has_content) return Invalid(Path("messages", i, ".content"), "is required.");
  } else if (role == "function") {
    return Unsupported(Path("messages", i, ".role"),
                       "the legacy 'function' role is not supported; use 'tool'.");
  } else {
    return Invalid(Path("messages", i, ".role"),
                   "must be one of system, developer, user, assistant, tool.");
  }
  if (out.role != Role::kAssistant && Find(*message, "tool_calls") != nullptr) {
    return Invalid(Path("messages", i, ".tool_calls"), "is allowed on assistant messages only.");
  }
  request.messages.push_back(std::move(out));
  return {};
}

Result<void> ParseMessages(const json::object& root, ChatRequest& request) {
  const json::value* v = Find(root, "messages");
  if (v == nullptr) return Invalid("messages", "is required.");
  if (!v->is_array() || v->get_array().empty()) {
    return Invalid("messages", "must be a non-empty array.");
  }
  const json::array& messages = v->get_array();
  request.messages.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    MG_TRY_VOID(ParseMessage(messages[i], i, request));
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Tools (§5.3)

bool IsValidToolName(std::string_view name) {
  // Both Converse and OpenAI require [a-zA-Z0-9_-]{1,64}.
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

Result<void> ParseTools(const json::object& root, ChatRequest& request) {
  const json::value* v = Find(root, "tools");
  if (v == nullptr) return {};
  if (!v->is_array()) return Invalid("tools", "must be an array.");
  const json::array& tools = v->get_array();
  request.tools.reserve(tools.size());
  for (size_t i = 0; i < tools.size(); ++i) {
    const json::object* tool = tools[i].if_object();
    if (tool == nullptr) return Invalid(Path("tools", i), "must be an object.");
    const json::value* type = Find(*tool, "type");
    if (type == nullptr || !type->is_string()) {
      return Invalid(Path("tools", i, ".type"), "must be a string.");
    }
    if (type->get_string() != "function") {
      // Writer's hosted tools (graph, llm, translation, vision, web_search) and OpenAI's custom
      // tools are not offered through the gateway.
      return Unsupported(Path("tools", i, ".type"), "only 'function' tools are supported.");
    }
    const json::value* function = Find(*tool, "function");
    if (function == nullptr || !function->is_object()) {
      return Invalid(Path("tools", i, ".function"), "must be an object.");
    }
    const json::object& fn = function->get_object();
    const json::value* name = Find(fn, "name");
    if (name == nullptr || !name->is_string() || !IsValidToolName(View(name->get_string()))) {
      return Invalid(Path("tools", i, ".function.name"),
                     "must be 1-64 characters of a-z, A-Z, 0-9, '_' and '-'.");
    }
    providers::ToolDefinition definition;
    definition.name = View(name->get_string());
    for (const providers::ToolDefinition& earlier : request.tools) {
      if (earlier.name == definition.name) {
        return Invalid(Path("tools", i, ".function.name"), "duplicates an earlier tool's name.");
      }
    }
    if (const json::value* description = Find(fn, "description")) {
      if (!description->is_string()) {
        return Invalid(Path("tools", i, ".function.description"), "must be a string.");
      }
      definition.description = View(description->get_string());
    }
    if (const json::value* parameters = Find(fn, "parameters")) {
      if (!parameters->is_object()) {
        return Invalid(Path("tools", i, ".function.parameters"), "must be a JSON Schema object.");
      }
      definition.parameters_json = json::serialize(*parameters);
    }
    request.tools.push_back(std::move(definition));
  }
  return {};
}

Result<void> ParseToolChoice(const json::object& root, ChatRequest& request) {
  const json::value* v = Find(root, "tool_choice");
  if (v == nullptr) return {};
  std::string param = "tool_choice";
  // The Writer SDK types tool_choice as {"value": <choice>}: unwrap it.
  if (v->is_object() && Find(v->get_object(), "type") == nullptr) {
    if (const json::value* inner = Find(v->get_object(), "value")) {
      v = inner;
      param = "tool_choice.value";
    }
  }
  ToolChoice& choice = request.tool_choice;
  if (v->is_string()) {
    const std::string_view mode = View(v->get_string());
    if (mode == "auto") {
      choice.mode = ToolChoice::Mode::kAuto;
    } else if (mode == "none") {
      choice.mode = ToolChoice::Mode::kNone;
    } else if (mode == "required") {
      choice.mode = ToolChoice::Mode::kRequired;
    } else {
      return Invalid(std::move(param), "must be 'none', 'auto', 'required' or a named function.");
    }
  } else if (v->is_object()) {
    const json::object& named = v->get_object();
    const json::value* type = Find(named, "type");
    if (type == nullptr || !type->is_string() || type->get_string() != "function") {
      return Invalid(param + ".type", "must be 'function'.");
    }
    const json::value* function = Find(named, "function");
    const json::value* name =
        function != nullptr && function->is_object() ? Find(function->get_object(), "name")
                                                      : nullptr;
    if (name == nullptr || !name->is_string()) {
      return Invalid(param + ".function.name", "must be a string.");
    }
    choice.mode = ToolChoice::Mode::kNamed;
    choice.name = View(name->get_string());
    const bool declared =
        std::any_of(request.tools.begin(), request.tools.end(),
                    [&](const providers::ToolDefinition& t) { return t.name == choice.name; });
    if (!declared) {
      return Invalid(param + ".function.name", "must name one of the declared tools.");
    }
  } else {
    return Invalid(std::move(param), "must be a string or an object.");
  }
  if (choice.mode == ToolChoice::Mode::kRequired && request.tools.empty()) {
    return Invalid(std::move(param), "'required' needs at least one tool in 'tools'.");
  }
  return {};
}

Result<void> ParseResponseFormat(const json::object& root, ChatRequest& request) {
  const json::value* v = Find(root, "response_format");
  if (v == nullptr) return {};
  if (!v->is_object()) return Invalid("response_format", "must be an object.");
  const json::object& format = v->get_object();
  const json::value* type = Find(format, "type");
  if (type == nullptr || !type->is_string()) {
    return Invalid("response_format.type", "must be a string.");
  }
  providers::ResponseFormat& out = request.response_format;
  const std::string_view type_name = View(type->get_string());
  if (type_name == "text") {
    out.type = providers::ResponseFormat::Type::kText;
    return {};
  }
  if (type_name == "json_object") {
    out.type = providers::ResponseFormat::Type::kJsonObject;
    return {};
  }
  if (type_name != "json_schema") {
    return Invalid("response_format.type", "must be 'text', 'json_object' or 'json_schema'.");
  }
  out.type = providers::ResponseFormat::Type::kJsonSchema;
  const json::value* schema_value = Find(format, "json_schema");
  if (schema_value == nullptr || !schema_value->is_object()) {
    return Invalid("response_format.json_schema", "must be an object.");
  }
  const json::object& schema = schema_value->get_object();
  const json::value* name = Find(schema, "name");
  if (name == nullptr || !name->is_string() || name->get_string().empty()) {
    return Invalid("response_format.json_schema.name", "must be a non-empty string.");
  }
  out.name = View(name->get_string());
  if (const json::value* description = Find(schema, "description")) {
    if (!description->is_string()) {
      return Invalid("response_format.json_schema.description", "must be a string.");
    }
    out.description = View(description->get_string());
  }
  if (const json::value* body = Find(schema, "schema")) {
    if (!body->is_object()) {
      return Invalid("response_format.json_schema.schema", "must be a JSON Schema object.");
    }
    out.schema_json = json::serialize(*body);
  }
  if (const json::value* strict = Find(schema, "strict")) {
    if (!strict->is_bool()) return Invalid("response_format.json_schema.strict", "must be a boolean.");
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Rendering

void AppendUsage(std::string& out, const providers::Usage& usage) {
  out += "{\"prompt_tokens\":";
  AppendJsonNumber(out, usage.prompt_tokens);
  out += ",\"completion_tokens\":";
  AppendJsonNumber(out, usage.completion_tokens);
  out += ",\"total_tokens\":";
  AppendJsonNumber(out, usage.total_tokens);
  out += '}';
}

// `"id":..,"object":..,"created":..,"model":..` (no braces).
void AppendEnvelope(std::string& out, std::string_view id, std::string_view object,
                    int64_t created, std::string_view model) {
  out += "\"id\":";
  AppendJsonString(out, id);
  out += ",\"object\":\"";
  out += object;
  out += "\",\"created\":";
  AppendJsonNumber(out, created);
  out += ",\"model\":";
  AppendJsonString(out, model);
}

// Completions have no tool_calls finish reason (§6.2).
const char* CompletionFinishReason(FinishReason reason) {
  return reason == FinishReason::kToolCalls ? "stop" : providers::FinishReasonName(reason);
}

void AppendQuoted(std::string& out, const char* reason) {
  out.push_back('"');
  out += reason;
  out.push_back('"');
}

constexpr std::string_view kDone = "data: [DONE]\n\n";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Requests

Result<ParsedChat> ParseChatRequest(std::string_view body, Dialect /*dialect*/) {
  json::monotonic_resource resource;
  MG_TRY(json::value root_value, ParseObject(body, &resource));
  const json::object& root = root_value.get_object();
  ParsedChat parsed;
  ChatRequest& request = parsed.request;
  MG_TRY_VOID(ParseModel(root, parsed.model));
  MG_TRY_VOID(ParseMessages(root, request));
  MG_TRY_VOID(ParseCommonFields(root, request));
  // max_completion_tokens wins over max_tokens when both are set.
  MG_TRY(std::optional<int64_t> max_completion_tokens,
         ParsePositiveInt(root, "max_completion_tokens"));
  if (max_completion_tokens) request.max_tokens = max_completion_tokens;
  MG_TRY_VOID(CheckNeutral(root, "top_logprobs", Neutral::kZero));
  MG_TRY_VOID(ParseTools(root, request));
  MG_TRY_VOID(ParseToolChoice(root, request));
  MG_TRY_VOID(ParseResponseFormat(root, request));
  return parsed;
}

Result<ParsedChat> ParseCompletionRequest(std::string_view body) {
  json::monotonic_resource resource;
  MG_TRY(json::value root_value, ParseObject(body, &resource));
  const json::object& root = root_value.get_object();
  ParsedChat parsed;
  ChatRequest& request = parsed.request;
  MG_TRY_VOID(ParseModel(root, parsed.model));

  const json::value* prompt = Find(root, "prompt");
  if (prompt == nullptr) return Invalid("prompt", "is required.");
  std::string_view text;
  if (prompt->is_string()) {
    text = View(prompt->get_string());
  } else if (prompt->is_array()) {
    const json::array& prompts = prompt->get_array();
    if (prompts.size() != 1 || !prompts[0].is_string()) {
      return Unsupported("prompt", "only a string or a one-element array of strings is supported.");
    }
    text = View(prompts[0].get_string());
  } else {
    return Invalid("prompt", "must be a string.");
  }
  request.messages.push_back(Message{Role::kUser, {TextPart{std::string(text)}}, {}, {}});

  MG_TRY_VOID(ParseCommonFields(root, request));
  if (!request.seed) {
    MG_TRY(request.seed, ParseInt(root, "random_seed"));
  }
  MG_TRY_VOID(CheckNeutral(root, "best_of", Neutral::kOne));
  MG_TRY_VOID(CheckNeutral(root, "echo", Neutral::kFalse));
  MG_TRY_VOID(CheckNeutral(root, "suffix", Neutral::kEmptyString));
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Non-stream responses

std::string RenderChatResponse(const providers::ChatResponse& response, Dialect dialect,
                               std::string_view id, int64_t created, std::string_view model) {
  std::string out;
  out.reserve(256 + id.size() + model.size() + (response.text ? response.text->size() : 0));
  out += '{';
  AppendEnvelope(out, id, "chat.completion", created, model);
  out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
  if (response.text) {
    AppendJsonString(out, *response.text);
  } else {
    // [O] types content as nullable; [W] as a non-null string.
    out += dialect == Dialect::kOpenAi ? "null" : "\"\"";
  }
  out += ",\"refusal\":null";
  if (!response.tool_calls.empty()) {
    out += ",\"tool_calls\":[";
    bool first = true;
    for (const ToolCall& call : response.tool_calls) {
      if (!first) out.push_back(',');
      first = false;
      out += "{\"id\":";
      AppendJsonString(out, call.id);
      out += ",\"type\":\"function\",\"function\":{\"name\":";
      AppendJsonString(out, call.name);
      out += ",\"arguments\":";
      AppendJsonString(out, call.arguments_json);
      out += "}}";
    }
    out += ']';
  }
  out += "},\"finish_reason\":";
  AppendQuoted(out, providers::FinishReasonName(response.finish_reason));
  out += ",\"logprobs\":null}],\"usage\":";
  AppendUsage(out, response.usage);
  out += '}';
  return out;
}

std::string RenderCompletionResponse(const providers::ChatResponse& response,
                                     std::string_view id, int64_t created,
                                     std::string_view model) {
  std::string out;
  out.reserve(256 + id.size() + model.size() + (response.text ? response.text->size() : 0));
  out += '{';
  AppendEnvelope(out, id, "text_completion", created, model);
  out += ",\"choices\":[{\"index\":0,\"text\":";
  AppendJsonString(out, response.text ? std::string_view(*response.text) : std::string_view());
  out += ",\"finish_reason\":";
  AppendQuoted(out, CompletionFinishReason(response.finish_reason));
  out += ",\"logprobs\":null,\"log_probs\":null}],\"usage\":";
  AppendUsage(out, response.usage);
  out += '}';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Models

std::string RenderModel(const ModelListEntry& model) {
  std::string out = "{\"id\":";
  AppendJsonString(out, model.id);
  out += ",\"object\":\"model\",\"created\":";
  AppendJsonNumber(out, model.created_unix);
  out += ",\"owned_by\":";
  AppendJsonString(out, model.owned_by);
  out += ",\"name\":";
  AppendJsonString(out, model.name);
  out += '}';
  return out;
}

std::string RenderModelList(std::vector<ModelListEntry> models) {
  std::sort(models.begin(), models.end(),
            [](const ModelListEntry& a, const ModelListEntry& b) { return a.id < b.id; });
  std::string out = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += RenderModel(models[i]);
  }
  out += "],\"models\":[";
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"id\":";
    AppendJsonString(out, models[i].id);
    out += ",\"name\":";
    AppendJsonString(out, models[i].name);
    out += '}';
  }
  out += "]}";
  return out;
}

std::string RenderStreamErrorFrame(const Error& error, std::string_view request_id) {
  std::string out = "event: error\ndata: ";
  out += server::RenderErrorBody(error, request_id);
  out += "\n\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Chat stream (§5.5)

ChatStreamEncoder::ChatStreamEncoder(Options options) : options_(std::move(options)) {
  chunk_head_ = "data: {";
  AppendEnvelope(chunk_head_, options_.id, "chat.completion.chunk", options_.created,
                 options_.model);
  chunk_head_ += ",\"choices\":[";
}

void ChatStreamEncoder::AppendChoiceChunk(std::string& out, std::string_view delta_json,
                                          std::string_view finish_reason_json) {
  out += chunk_head_;
  out += "{\"index\":0,\"delta\":";
  out += delta_json;
  out += ",\"finish_reason\":";
  out += finish_reason_json;
  out += ",\"logprobs\":null}]";
  // With include_usage, [O] streams carry "usage":null until the usage chunk.
  out += options_.include_usage ? ",\"usage\":null}\n\n" : "}\n\n";
}

void ChatStreamEncoder::AppendRoleChunkIfDue(std::string& out) {
  if (sent_role_) return;
  sent_role_ = true;
  AppendChoiceChunk(out, R"({"role":"assistant","content":""})", "null");
}

void ChatStreamEncoder::AppendCompletion(std::string& out) {
  finished_ = true;
  if (options_.include_usage) {
    out += chunk_head_;
    out += "],\"usage\":";
    AppendUsage(out, usage_);
    out += "}\n\n";
  }
  if (options_.dialect == Dialect::kOpenAi || options_.writer_done_sentinel) out += kDone;
}

std::string ChatStreamEncoder::OnEvent(const providers::StreamEvent& event) {
  std::string out;
  if (finished_) return out;
  if (const auto* metadata = std::get_if<providers::Metadata>(&event)) {
    usage_ = metadata->usage;
    // Bedrock's metadata is the last event: complete the stream now if the message is done.
    if (saw_stop_) AppendCompletion(out);
    return out;
  }
  if (saw_stop_) return out;  // nothing may follow the closing chunk but usage
  AppendRoleChunkIfDue(out);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, providers::TextDelta>) {
          if (e.text.empty()) return;
          std::string delta = "{\"content\":";
          AppendJsonString(delta, e.text);
          delta += '}';
          AppendChoiceChunk(out, delta, "null");
        } else if constexpr (std::is_same_v<T, providers::ToolCallStart>) {
          std::string delta = "{\"tool_calls\":[{\"index\":";
          AppendJsonNumber(delta, int64_t{e.index});
          delta += ",\"id\":";
          AppendJsonString(delta, e.id);
          delta += ",\"type\":\"function\",\"function\":{\"name\":";
          AppendJsonString(delta, e.name);
          delta += ",\"arguments\":\"\"}}]}";
          AppendChoiceChunk(out, delta, "null");
        } else if constexpr (std::is_same_v<T, providers::ToolCallDelta>) {
          if (e.fragment.empty()) return;
          std::string delta = "{\"tool_calls\":[{\"index\":";
          AppendJsonNumber(delta, int64_t{e.index});
          delta += ",\"function\":{\"arguments\":";
          AppendJsonString(delta, e.fragment);
          delta += "}}]}";
          AppendChoiceChunk(out, delta, "null");
        } else if constexpr (std::is_same_v<T, providers::MessageStop>) {
          saw_stop_ = true;
          std::string reason;
          AppendQuoted(reason, providers::FinishReasonName(e.finish_reason));
          AppendChoiceChunk(out, "{}", reason);
        }
        // MessageStart: the role chunk above is all it produces.
      },
      event);
  return out;
}

std::string ChatStreamEncoder::Finish() {
  std::string out;
  if (finished_ || !saw_stop_) return out;
  AppendCompletion(out);
  return out;
}

std::string ChatStreamEncoder::ErrorFrame(const Error& error, std::string_view request_id) {
  finished_ = true;
  return RenderStreamErrorFrame(error, request_id);
}

// ---------------------------------------------------------------------------------------------
// Completion stream (§6.3)

CompletionStreamEncoder::CompletionStreamEncoder(Options options) : options_(std::move(options)) {
  chunk_middle_ = ",";
  AppendEnvelope(chunk_middle_, options_.id, "text_completion", options_.created,
                 options_.model);
  chunk_middle_ += ",\"choices\":[";
}

void CompletionStreamEncoder::AppendTextChunk(std::string& out, std::string_view text,
                                              std::string_view finish_reason_json) {
  out += "data: {\"value\":";
  const size_t value_start = out.size();
  AppendJsonString(out, text);
  const size_t value_end = out.size();
  out += chunk_middle_;
  out += "{\"index\":0,\"text\":";
  // value == choices[0].text: reuse the escaped text written above.
  out.append(out, value_start, value_end - value_start);
  out += ",\"finish_reason\":";
  out += finish_reason_json;
  out += ",\"logprobs\":null}]";
  out += options_.include_usage ? ",\"usage\":null}\n\n" : "}\n\n";
}

void CompletionStreamEncoder::AppendCompletion(std::string& out) {
  finished_ = true;
  if (options_.include_usage) {
    out += "data: {\"value\":\"\"";
    out += chunk_middle_;
    out += "],\"usage\":";
    AppendUsage(out, usage_);
    out += "}\n\n";
  }
  out += kDone;
}

std::string CompletionStreamEncoder::OnEvent(const providers::StreamEvent& event) {
  std::string out;
  if (finished_) return out;
  if (const auto* metadata = std::get_if<providers::Metadata>(&event)) {
    usage_ = metadata->usage;
    if (saw_stop_) AppendCompletion(out);
    return out;
  }
  if (saw_stop_) return out;
  if (const auto* text = std::get_if<providers::TextDelta>(&event)) {
    if (!text->text.empty()) AppendTextChunk(out, text->text, "null");
  } else if (const auto* stop = std::get_if<providers::MessageStop>(&event)) {
    saw_stop_ = true;
    std::string reason;
    AppendQuoted(reason, CompletionFinishReason(stop->finish_reason));
    AppendTextChunk(out, "", reason);
  }
  // MessageStart and tool events produce nothing on /v1/completions.
  return out;
}

std::string CompletionStreamEncoder::Finish() {
  std::string out;
  if (finished_ || !saw_stop_) return out;
  AppendCompletion(out);
  return out;
}

std::string CompletionStreamEncoder::ErrorFrame(const Error& error,
                                                std::string_view request_id) {
  finished_ = true;
  return RenderStreamErrorFrame(error, request_id);
}

}  // namespace mg::api::data_plane
