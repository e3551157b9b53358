#include "api/data_plane/openai_codec.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace mg::api::data_plane {
namespace {

namespace json = boost::json;
using providers::ChatResponse;
using providers::FinishReason;
using providers::ImagePart;
using providers::Role;
using providers::TextPart;
using providers::ToolChoice;

ParsedChat ParseOk(const std::string& body, Dialect dialect = Dialect::kOpenAi) {
  auto r = ParseChatRequest(body, dialect);
  EXPECT_TRUE(r.has_value()) << body << " -> " << (r ? "" : r.error().message);
  return r ? *r : ParsedChat{};
}

// Expects a 400 with the contract reason and param.
void ExpectReject(const std::string& body, std::string_view reason, std::string_view param) {
  auto r = ParseChatRequest(body, Dialect::kOpenAi);
  ASSERT_FALSE(r.has_value()) << body;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << body;
  EXPECT_EQ(r.error().reason, reason) << body;
  EXPECT_EQ(r.error().param, param) << body;
}

void ExpectCompletionReject(const std::string& body, std::string_view reason,
                            std::string_view param) {
  auto r = ParseCompletionRequest(body);
  ASSERT_FALSE(r.has_value()) << body;
  EXPECT_EQ(r.error().reason, reason) << body;
  EXPECT_EQ(r.error().param, param) << body;
}

std::string Chat(const std::string& extra) {
  return R"({"model":"m","messages":[{"role":"user","content":"hi"}])" + extra + "}";
}

// Splits an SSE text into frames ("data: ...\n\n" each), checking the framing.
std::vector<std::string> Frames(const std::string& sse) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < sse.size()) {
    size_t end = sse.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated frame: " << sse.substr(pos);
    if (end == std::string::npos) break;
    out.push_back(sse.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

json::object DataJson(const std::string& frame) {
  EXPECT_EQ(frame.rfind("data: ", 0), 0u) << frame;
  EXPECT_EQ(frame.find('\n'), std::string::npos) << "multi-line frame: " << frame;
  return json::parse(frame.substr(6)).as_object();
}

// ------------------------------------------------------------------------------------------
// Request parsing: chat

TEST(ParseChat, MinimalRequest) {
  ParsedChat p = ParseOk(Chat(""));
  EXPECT_EQ(p.model, "m");
  ASSERT_EQ(p.request.messages.size(), 1u);
  EXPECT_EQ(p.request.messages[0].role, Role::kUser);
  ASSERT_EQ(p.request.messages[0].content.size(), 1u);
  EXPECT_EQ(std::get<TextPart>(p.request.messages[0].content[0]).text, "hi");
  EXPECT_FALSE(p.request.stream);
  EXPECT_FALSE(p.request.include_usage);
  EXPECT_FALSE(p.request.max_tokens);
  EXPECT_FALSE(p.request.temperature);
  EXPECT_EQ(p.request.tool_choice.mode, ToolChoice::Mode::kAuto);
}

TEST(ParseChat, InvalidJsonAndNonObject) {
  ExpectReject("not json", "invalid_json", "");
  ExpectReject("[1,2]", "invalid_json", "");
  ExpectReject("", "invalid_json", "");
  ExpectReject("\"str\"", "invalid_json", "");
}

TEST(ParseChat, ModelRequired) {
  ExpectReject(R"({"messages":[{"role":"user","content":"hi"}]})", "invalid_parameter", "model");
  ExpectReject(R"({"model":5,"messages":[{"role":"user","content":"hi"}]})", "invalid_parameter",
               "model");
  ExpectReject(R"({"model":"","messages":[{"role":"user","content":"hi"}]})", "invalid_parameter",
               "model");
}

TEST(ParseChat, MessagesRequiredAndNonEmpty) {
  ExpectReject(R"({"model":"m"})", "invalid_parameter", "messages");
  ExpectReject(R"({"model":"m","messages":[]})", "invalid_parameter", "messages");
  ExpectReject(R"({"model":"m","messages":"hi"})", "invalid_parameter", "messages");
  ExpectReject(R"({"model":"m","messages":[5]})", "invalid_parameter", "messages[0]");
}

TEST(ParseChat, SystemAndDeveloperBecomeSystem) {
  ParsedChat p = ParseOk(R"({"model":"m","messages":[
    {"role":"system","content":"be brief"},
    {"role":"developer","content":[{"type":"text","text":"be kind"}]},
    {"role":"system","content":""},
    {"role":"user","content":"hi","name":"bob"}]})");
  EXPECT_EQ(p.request.system, (std::vector<std::string>{"be brief", "be kind"}));
  ASSERT_EQ(p.request.messages.size(), 1u);
}

TEST(ParseChat, RolesAndMessageRules) {
  ExpectReject(R"({"model":"m","messages":[{"role":"function","content":"x","name":"f"}]})",
               "unsupported_parameter", "messages[0].role");
  ExpectReject(R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})",
               "invalid_parameter", "messages[0].role");
  ExpectReject(R"({"model":"m","messages":[{"content":"x"}]})", "invalid_parameter",
               "messages[0].role");
  ExpectReject(R"({"model":"m","messages":[{"role":"user"}]})", "invalid_parameter",
               "messages[0].content");
  ExpectReject(R"({"model":"m","messages":[{"role":"user","content":null}]})",
               "invalid_parameter", "messages[0].content");
  ExpectReject(R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":5}]})",
               "invalid_parameter", "messages[1].content");
  ExpectReject(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})", "invalid_parameter",
               "messages[0].tool_call_id");
  ExpectReject(R"({"model":"m","messages":[{"role":"assistant","content":null}]})",
               "invalid_parameter", "messages[0].content");
}

TEST(ParseChat, ContentParts) {
  ParsedChat p = ParseOk(R"({"model":"m","messages":[{"role":"user","content":[
    {"type":"text","text":"look"},
    {"type":"image_url","image_url":{"url":"data:image/PNG;base64,QUJD","detail":"high"}},
    {"type":"image_url","image_url":{"url":"data:image/jpg;base64,REVG"}}]}]})");
  const auto& content = p.request.messages[0].content;
  ASSERT_EQ(content.size(), 3u);
  EXPECT_EQ(std::get<TextPart>(content[0]).text, "look");
  EXPECT_EQ(std::get<ImagePart>(content[1]).format, "png");
  EXPECT_EQ(std::get<ImagePart>(content[1]).data_base64, "QUJD");
  EXPECT_EQ(std::get<ImagePart>(content[2]).format, "jpeg");
  EXPECT_TRUE(providers::HasImages(p.request));
}

TEST(ParseChat, ContentPartRejections) {
  auto with_part = [](const std::string& part, const std::string& role = "user") {
    return R"({"model":"m","messages":[{"role":")" + role + R"(","content":[)" + part + "]}]}";
  };
  ExpectReject(with_part(R"({"type":"input_audio","input_audio":{}})"), "unsupported_parameter",
               "messages[0].content[0].type");
  ExpectReject(with_part(R"({"type":"file","file":{}})"), "unsupported_parameter",
               "messages[0].content[0].type");
  ExpectReject(with_part(R"({"type":"video"})"), "invalid_parameter",
               "messages[0].content[0].type");
  ExpectReject(with_part(R"({"type":"text"})"), "invalid_parameter",
               "messages[0].content[0].text");
  ExpectReject(with_part(R"({"type":"image_url","image_url":{"url":"https://x/y.png"}})"),
               "unsupported_parameter", "messages[0].content[0].image_url.url");
  ExpectReject(with_part(R"({"type":"image_url","image_url":{"url":"data:image/bmp;base64,QQ"}})"),
               "unsupported_parameter", "messages[0].content[0].image_url.url");
  ExpectReject(with_part(R"({"type":"image_url","image_url":{"url":"data:text/plain;base64,QQ"}})"),
               "invalid_parameter", "messages[0].content[0].image_url.url");
  ExpectReject(with_part(R"({"type":"image_url","image_url":{"url":"data:image/png;base64,QQ"}})",
                         "system"),
               "invalid_parameter", "messages[0].content[0].type");
}

TEST(ParseChat, AssistantToolCallsAndToolResults) {
  ParsedChat p = ParseOk(R"({"model":"m","messages":[
    {"role":"user","content":"weather?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
      "function":{"name":"get_weather","arguments":"{ \"city\" : \"Paris\" }"}}]},
    {"role":"assistant","tool_calls":[{"id":"call_2","type":"function",
      "function":{"name":"noop","arguments":""}}]},
    {"role":"tool","tool_call_id":"call_1","content":"sunny"}]})");
  ASSERT_EQ(p.request.messages.size(), 4u);
  const auto& a = p.request.messages[1];
  EXPECT_EQ(a.role, Role::kAssistant);
  EXPECT_TRUE(a.content.empty());
  ASSERT_EQ(a.tool_calls.size(), 1u);
  EXPECT_EQ(a.tool_calls[0].id, "call_1");
  EXPECT_EQ(a.tool_calls[0].name, "get_weather");
  EXPECT_EQ(a.tool_calls[0].arguments_json, R"({"city":"Paris"})");
  EXPECT_EQ(p.request.messages[2].tool_calls[0].arguments_json, "{}");
  EXPECT_EQ(p.request.messages[3].role, Role::kTool);
  EXPECT_EQ(p.request.messages[3].tool_call_id, "call_1");

  ExpectReject(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c",
    "function":{"name":"f","arguments":"[1]"}}]}]})",
               "invalid_parameter", "messages[0].tool_calls[0].function.arguments");
  ExpectReject(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c",
    "function":{"name":"f","arguments":{"a":1}}}]}]})",
               "invalid_parameter", "messages[0].tool_calls[0].function.arguments");
  ExpectReject(R"({"model":"m","messages":[{"role":"user","content":"x","tool_calls":[]}]})",
               "invalid_parameter", "messages[0].tool_calls");
}

TEST(ParseChat, Tools) {
  ParsedChat p = ParseOk(Chat(R"(,"tools":[{"type":"function","function":{"name":"get_weather",
    "description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
    {"type":"function","function":{"name":"noop"}}])"));
  ASSERT_EQ(p.request.tools.size(), 2u);
  EXPECT_EQ(p.request.tools[0].name, "get_weather");
  EXPECT_EQ(p.request.tools[0].description, "Weather");
  EXPECT_EQ(p.request.tools[0].parameters_json,
            R"({"type":"object","properties":{"city":{"type":"string"}}})");
  EXPECT_EQ(p.request.tools[1].parameters_json, "");
  EXPECT_EQ(p.request.tool_choice.mode, ToolChoice::Mode::kAuto);
}

TEST(ParseChat, ToolRejections) {
  for (const char* builtin : {"graph", "llm", "translation", "vision", "web_search"}) {
    ExpectReject(Chat(std::string(R"(,"tools":[{"type":")") + builtin + R"("}])"),
                 "unsupported_parameter", "tools[0].type");
  }
  ExpectReject(Chat(R"(,"tools":{})"), "invalid_parameter", "tools");
  ExpectReject(Chat(R"(,"tools":[{"type":"function","function":{"name":"bad name"}}])"),
               "invalid_parameter", "tools[0].function.name");
  ExpectReject(Chat(R"(,"tools":[{"type":"function","function":{"name":"a"}},
                               {"type":"function","function":{"name":"a"}}])"),
               "invalid_parameter", "tools[1].function.name");
  ExpectReject(Chat(R"(,"tools":[{"type":"function","function":{"name":"a","parameters":"x"}}])"),
               "invalid_parameter", "tools[0].function.parameters");
}

TEST(ParseChat, ToolChoiceForms) {
  const std::string tools = R"(,"tools":[{"type":"function","function":{"name":"f"}}])";
  EXPECT_EQ(ParseOk(Chat(tools + R"(,"tool_choice":"none")")).request.tool_choice.mode,
            ToolChoice::Mode::kNone);
  EXPECT_EQ(ParseOk(Chat(tools + R"(,"tool_choice":"auto")")).request.tool_choice.mode,
            ToolChoice::Mode::kAuto);
  EXPECT_EQ(ParseOk(Chat(tools + R"(,"tool_choice":"required")")).request.tool_choice.mode,
            ToolChoice::Mode::kRequired);
  ParsedChat named =
      ParseOk(Chat(tools + R"(,"tool_choice":{"type":"function","function":{"name":"f"}})"));
  EXPECT_EQ(named.request.tool_choice.mode, ToolChoice::Mode::kNamed);
  EXPECT_EQ(named.request.tool_choice.name, "f");
  // The Writer SDK's {"value": ...} wrapper.
  EXPECT_EQ(ParseOk(Chat(tools + R"(,"tool_choice":{"value":"required"})"), Dialect::kWriter)
                .request.tool_choice.mode,
            ToolChoice::Mode::kRequired);
  ParsedChat wrapped = ParseOk(
      Chat(tools + R"(,"tool_choice":{"value":{"type":"function","function":{"name":"f"}}})"));
  EXPECT_EQ(wrapped.request.tool_choice.name, "f");

  ExpectReject(Chat(tools + R"(,"tool_choice":"sometimes")"), "invalid_parameter", "tool_choice");
  ExpectReject(Chat(tools + R"(,"tool_choice":{"type":"function","function":{"name":"g"}})"),
               "invalid_parameter", "tool_choice.function.name");
  ExpectReject(Chat(R"(,"tool_choice":"required")"), "invalid_parameter", "tool_choice");
  ExpectReject(Chat(tools + R"(,"tool_choice":5)"), "invalid_parameter", "tool_choice");
}

TEST(ParseChat, SamplingAndLimits) {
  ParsedChat p = ParseOk(Chat(R"(,"temperature":0.5,"top_p":1,"max_tokens":256,"seed":7)"));
  EXPECT_DOUBLE_EQ(*p.request.temperature, 0.5);
  EXPECT_DOUBLE_EQ(*p.request.top_p, 1.0);
  EXPECT_EQ(*p.request.max_tokens, 256);
  EXPECT_EQ(*p.request.seed, 7);
  EXPECT_EQ(*ParseOk(Chat(R"(,"temperature":2)")).request.temperature, 2.0);
  EXPECT_EQ(*ParseOk(Chat(R"(,"max_tokens":256.0)")).request.max_tokens, 256);
  // max_completion_tokens wins over max_tokens.
  EXPECT_EQ(*ParseOk(Chat(R"(,"max_tokens":10,"max_completion_tokens":20)")).request.max_tokens,
            20);
  EXPECT_EQ(*ParseOk(Chat(R"(,"max_completion_tokens":20,"max_tokens":10)")).request.max_tokens,
            20);
  // null is absent.
  EXPECT_FALSE(ParseOk(Chat(R"(,"temperature":null)")).request.temperature);

  ExpectReject(Chat(R"(,"temperature":2.5)"), "invalid_parameter", "temperature");
  ExpectReject(Chat(R"(,"temperature":-0.1)"), "invalid_parameter", "temperature");
  ExpectReject(Chat(R"(,"temperature":"hot")"), "invalid_parameter", "temperature");
  ExpectReject(Chat(R"(,"top_p":1.5)"), "invalid_parameter", "top_p");
  ExpectReject(Chat(R"(,"max_tokens":0)"), "invalid_parameter", "max_tokens");
  ExpectReject(Chat(R"(,"max_tokens":1.5)"), "invalid_parameter", "max_tokens");
  ExpectReject(Chat(R"(,"max_completion_tokens":-1)"), "invalid_parameter",
               "max_completion_tokens");
  ExpectReject(Chat(R"(,"seed":"x")"), "invalid_parameter", "seed");
}

TEST(ParseChat, Stop) {
  EXPECT_EQ(ParseOk(Chat(R"(,"stop":"END")")).request.stop, (std::vector<std::string>{"END"}));
  EXPECT_EQ(ParseOk(Chat(R"(,"stop":["a","b","c","d"])")).request.stop.size(), 4u);
  EXPECT_TRUE(ParseOk(Chat(R"(,"stop":[])")).request.stop.empty());
  ExpectReject(Chat(R"(,"stop":["a","b","c","d","e"])"), "invalid_parameter", "stop");
  ExpectReject(Chat(R"(,"stop":"")"), "invalid_parameter", "stop");
  ExpectReject(Chat(R"(,"stop":["a",""])"), "invalid_parameter", "stop");
  ExpectReject(Chat(R"(,"stop":[1])"), "invalid_parameter", "stop");
  ExpectReject(Chat(R"(,"stop":5)"), "invalid_parameter", "stop");
}

TEST(ParseChat, StreamAndStreamOptions) {
  EXPECT_TRUE(ParseOk(Chat(R"(,"stream":true)")).request.stream);
  EXPECT_FALSE(ParseOk(Chat(R"(,"stream":false)")).request.stream);
  EXPECT_FALSE(ParseOk(Chat(R"(,"stream":null)")).request.stream);
  ParsedChat p = ParseOk(Chat(R"(,"stream":true,"stream_options":{"include_usage":true,
                               "include_obfuscation":false})"));
  EXPECT_TRUE(p.request.include_usage);
  ExpectReject(Chat(R"(,"stream":"yes")"), "invalid_parameter", "stream");
  ExpectReject(Chat(R"(,"stream_options":true)"), "invalid_parameter", "stream_options");
  ExpectReject(Chat(R"(,"stream_options":{"include_usage":1})"), "invalid_parameter",
               "stream_options.include_usage");
}

TEST(ParseChat, NeutralOnlyParameters) {
  // Neutral values are accepted (§3.5).
  ParseOk(Chat(R"(,"n":1,"logprobs":false,"top_logprobs":0,"presence_penalty":0,
                 "frequency_penalty":0.0,"logit_bias":{})"));
  ParseOk(Chat(R"(,"logprobs":null,"n":null)"));
  ExpectReject(Chat(R"(,"n":2)"), "unsupported_parameter", "n");
  ExpectReject(Chat(R"(,"n":"2")"), "invalid_parameter", "n");
  ExpectReject(Chat(R"(,"logprobs":true)"), "unsupported_parameter", "logprobs");
  ExpectReject(Chat(R"(,"top_logprobs":3)"), "unsupported_parameter", "top_logprobs");
  ExpectReject(Chat(R"(,"presence_penalty":0.5)"), "unsupported_parameter", "presence_penalty");
  ExpectReject(Chat(R"(,"frequency_penalty":-1)"), "unsupported_parameter", "frequency_penalty");
  ExpectReject(Chat(R"(,"logit_bias":{"50256":-100})"), "unsupported_parameter", "logit_bias");
}

TEST(ParseChat, AdvisoryAndUnknownFieldsIgnored) {
  ParsedChat p = ParseOk(Chat(R"(,"user":"u1","metadata":{"a":"b"},"store":true,
    "service_tier":"auto","parallel_tool_calls":false,"safety_identifier":"s",
    "prompt_cache_key":"k","some_future_field":{"x":[1,2]})"));
  EXPECT_EQ(p.model, "m");
}

TEST(ParseChat, ResponseFormat) {
  using Type = providers::ResponseFormat::Type;
  EXPECT_EQ(ParseOk(Chat(R"(,"response_format":{"type":"text"})")).request.response_format.type,
            Type::kText);
  EXPECT_EQ(
      ParseOk(Chat(R"(,"response_format":{"type":"json_object"})")).request.response_format.type,
      Type::kJsonObject);
  ParsedChat p = ParseOk(Chat(R"(,"response_format":{"type":"json_schema","json_schema":
    {"name":"person","description":"d","schema":{"type":"object"},"strict":true}})"));
  EXPECT_EQ(p.request.response_format.type, Type::kJsonSchema);
  EXPECT_EQ(p.request.response_format.name, "person");
  EXPECT_EQ(p.request.response_format.description, "d");
  EXPECT_EQ(p.request.response_format.schema_json, R"({"type":"object"})");
  ExpectReject(Chat(R"(,"response_format":{"type":"yaml"})"), "invalid_parameter",
               "response_format.type");
  ExpectReject(Chat(R"(,"response_format":{"type":"json_schema"})"), "invalid_parameter",
               "response_format.json_schema");
  ExpectReject(Chat(R"(,"response_format":{"type":"json_schema","json_schema":{}})"),
               "invalid_parameter", "response_format.json_schema.name");
}

// ------------------------------------------------------------------------------------------
// Request parsing: completions (§6.1)

TEST(ParseCompletion, PromptBecomesOneUserMessage) {
  auto r = ParseCompletionRequest(
      R"({"model":"m","prompt":"Once","max_tokens":16,"temperature":0.2,"stop":["\n"],
          "random_seed":3,"best_of":1,"n":1,"logprobs":0,"echo":false,"suffix":"",
          "stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->model, "m");
  ASSERT_EQ(r->request.messages.size(), 1u);
  EXPECT_EQ(r->request.messages[0].role, Role::kUser);
  EXPECT_EQ(std::get<TextPart>(r->request.messages[0].content[0]).text, "Once");
  EXPECT_EQ(*r->request.max_tokens, 16);
  EXPECT_EQ(*r->request.seed, 3);
  EXPECT_EQ(r->request.stop, (std::vector<std::string>{"\n"}));
  EXPECT_TRUE(r->request.stream);
  EXPECT_TRUE(r->request.include_usage);
  // [O] seed wins over [W] random_seed when both are set.
  EXPECT_EQ(*ParseCompletionRequest(R"({"model":"m","prompt":"x","seed":1,"random_seed":2})")
                 ->request.seed,
            1);
  auto one = ParseCompletionRequest(R"({"model":"m","prompt":["only"]})");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(std::get<TextPart>(one->request.messages[0].content[0]).text, "only");
}

TEST(ParseCompletion, Rejections) {
  ExpectCompletionReject("nope", "invalid_json", "");
  ExpectCompletionReject(R"({"model":"m"})", "invalid_parameter", "prompt");
  ExpectCompletionReject(R"({"prompt":"x"})", "invalid_parameter", "model");
  ExpectCompletionReject(R"({"model":"m","prompt":5})", "invalid_parameter", "prompt");
  ExpectCompletionReject(R"({"model":"m","prompt":["a","b"]})", "unsupported_parameter",
                         "prompt");
  ExpectCompletionReject(R"({"model":"m","prompt":[[1,2]]})", "unsupported_parameter", "prompt");
  ExpectCompletionReject(R"({"model":"m","prompt":"x","best_of":2})", "unsupported_parameter",
                         "best_of");
  ExpectCompletionReject(R"({"model":"m","prompt":"x","n":3})", "unsupported_parameter", "n");
  ExpectCompletionReject(R"({"model":"m","prompt":"x","logprobs":5})", "unsupported_parameter",
                         "logprobs");
  ExpectCompletionReject(R"({"model":"m","prompt":"x","echo":true})", "unsupported_parameter",
                         "echo");
  ExpectCompletionReject(R"({"model":"m","prompt":"x","suffix":"end"})",
                         "unsupported_parameter", "suffix");
  ExpectCompletionReject(R"({"model":"m","prompt":"x","max_tokens":0})", "invalid_parameter",
                         "max_tokens");
  ExpectCompletionReject(R"({"model":"m","prompt":"x","presence_penalty":1})",
                         "unsupported_parameter", "presence_penalty");
}

// ------------------------------------------------------------------------------------------
// Non-stream rendering

ChatResponse TextResponse(std::string text, FinishReason reason = FinishReason::kStop) {
  ChatResponse r;
  r.text = std::move(text);
  r.finish_reason = reason;
  r.usage = {21, 9, 30};
  return r;
}

TEST(RenderChat, TextResponseHasEveryContractField) {
  json::object o = json::parse(RenderChatResponse(TextResponse("Paris \"is\" it."),
                                                  Dialect::kOpenAi, "chatcmpl-1", 1750000000,
                                                  "claude/x:1"))
                       .as_object();
  EXPECT_EQ(o["id"], "chatcmpl-1");
  EXPECT_EQ(o["object"], "chat.completion");
  EXPECT_EQ(o["created"], 1750000000);
  EXPECT_EQ(o["model"], "claude/x:1");
  auto& choice = o["choices"].as_array().at(0).as_object();
  EXPECT_EQ(choice["index"], 0);
  EXPECT_EQ(choice["finish_reason"], "stop");
  EXPECT_TRUE(choice["logprobs"].is_null());
  auto& message = choice["message"].as_object();
  EXPECT_EQ(message["role"], "assistant");
  EXPECT_EQ(message["content"], "Paris \"is\" it.");
  ASSERT_TRUE(message.contains("refusal"));
  EXPECT_TRUE(message["refusal"].is_null());
  EXPECT_FALSE(message.contains("tool_calls"));
  EXPECT_EQ(o["usage"].as_object()["prompt_tokens"], 21);
  EXPECT_EQ(o["usage"].as_object()["completion_tokens"], 9);
  EXPECT_EQ(o["usage"].as_object()["total_tokens"], 30);
  EXPECT_FALSE(o.contains("system_fingerprint"));
}

TEST(RenderChat, FinishReasons) {
  const std::pair<FinishReason, const char*> cases[] = {
      {FinishReason::kStop, "stop"},
      {FinishReason::kLength, "length"},
      {FinishReason::kToolCalls, "tool_calls"},
      {FinishReason::kContentFilter, "content_filter"}};
  for (const auto& [reason, name] : cases) {
    json::value v = json::parse(
        RenderChatResponse(TextResponse("x", reason), Dialect::kWriter, "i", 1, "m"));
    EXPECT_EQ(v.at("choices").at(0).at("finish_reason"), name);
  }
}

TEST(RenderChat, ToolCallsContentPerDialect) {
  ChatResponse r;
  r.tool_calls.push_back({"call_1", "get_weather", R"({"city":"Paris"})"});
  r.finish_reason = FinishReason::kToolCalls;
  r.usage = {1, 2, 3};
  json::value openai = json::parse(RenderChatResponse(r, Dialect::kOpenAi, "i", 1, "m"));
  json::value writer = json::parse(RenderChatResponse(r, Dialect::kWriter, "i", 1, "m"));
  EXPECT_TRUE(openai.at("choices").at(0).at("message").at("content").is_null());
  EXPECT_EQ(writer.at("choices").at(0).at("message").at("content"), "");
  for (const json::value* v : {&openai, &writer}) {
    const auto& call = v->at("choices").at(0).at("message").at("tool_calls").at(0);
    EXPECT_EQ(call.at("id"), "call_1");
    EXPECT_EQ(call.at("type"), "function");
    EXPECT_EQ(call.at("function").at("name"), "get_weather");
    // arguments is a JSON string, not an object.
    EXPECT_EQ(call.at("function").at("arguments"), R"({"city":"Paris"})");
    EXPECT_EQ(v->at("choices").at(0).at("finish_reason"), "tool_calls");
  }
}

TEST(RenderCompletion, UnionShape) {
  json::object o = json::parse(RenderCompletionResponse(TextResponse("upon a time"), "cmpl-1", 5,
                                                        "m"))
                       .as_object();
  EXPECT_EQ(o["id"], "cmpl-1");
  EXPECT_EQ(o["object"], "text_completion");
  EXPECT_EQ(o["created"], 5);
  EXPECT_EQ(o["model"], "m");
  auto& choice = o["choices"].as_array().at(0).as_object();
  EXPECT_EQ(choice["index"], 0);
  EXPECT_EQ(choice["text"], "upon a time");
  EXPECT_EQ(choice["finish_reason"], "stop");
  EXPECT_TRUE(choice["logprobs"].is_null());
  ASSERT_TRUE(choice.contains("log_probs"));
  EXPECT_TRUE(choice["log_probs"].is_null());
  EXPECT_EQ(o["usage"].as_object()["total_tokens"], 30);
  // No text block -> "", and tool_calls is not a completion finish reason.
  ChatResponse empty;
  empty.finish_reason = FinishReason::kToolCalls;
  json::value e = json::parse(RenderCompletionResponse(empty, "c", 1, "m"));
  EXPECT_EQ(e.at("choices").at(0).at("text"), "");
  EXPECT_EQ(e.at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_EQ(json::parse(RenderCompletionResponse(TextResponse("x", FinishReason::kLength), "c", 1,
                                                 "m"))
                .at("choices")
                .at(0)
                .at("finish_reason"),
            "length");
}

TEST(RenderModels, BothArraysSameOrderSortedById) {
  json::object o = json::parse(RenderModelList({{"zeta", "Zeta", 20, "bedrock"},
                                                {"alpha/1:0", "Alpha", 10, "bedrock"}}))
                       .as_object();
  EXPECT_EQ(o["object"], "list");
  auto& data = o["data"].as_array();
  auto& models = o["models"].as_array();
  ASSERT_EQ(data.size(), 2u);
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(data[0].at("id"), "alpha/1:0");
  EXPECT_EQ(data[0].at("object"), "model");
  EXPECT_EQ(data[0].at("created"), 10);
  EXPECT_EQ(data[0].at("owned_by"), "bedrock");
  EXPECT_EQ(data[0].at("name"), "Alpha");
  EXPECT_EQ(models[0].at("id"), "alpha/1:0");
  EXPECT_EQ(models[0].at("name"), "Alpha");
  EXPECT_EQ(models[0].as_object().size(), 2u);
  EXPECT_EQ(data[1].at("id"), "zeta");
  EXPECT_EQ(models[1].at("id"), "zeta");
  EXPECT_EQ(RenderModelList({}), R"({"object":"list","data":[],"models":[]})");
  json::object one = json::parse(RenderModel({"a", "A", 1, "bedrock"})).as_object();
  EXPECT_EQ(one["id"], "a");
  EXPECT_EQ(one["name"], "A");
  EXPECT_EQ(one["object"], "model");
}

TEST(RenderStreamError, EventErrorFrameWithContractBody) {
  Error e(ErrorCode::kTimeout, "upstream_timeout", "The model did not answer in time.");
  std::string frame = RenderStreamErrorFrame(e, "req_1");
  ASSERT_EQ(frame.rfind("event: error\ndata: ", 0), 0u);
  ASSERT_EQ(frame.substr(frame.size() - 2), "\n\n");
  std::string data = frame.substr(std::string("event: error\ndata: ").size());
  data.resize(data.size() - 2);
  EXPECT_EQ(data.find('\n'), std::string::npos);
  json::object body = json::parse(data).as_object();
  EXPECT_EQ(body["error"].at("code"), "upstream_timeout");
  EXPECT_EQ(body["error"].at("type"), "timeout_error");
  EXPECT_EQ(body["message"], "The model did not answer in time.");
  EXPECT_EQ(body["tpe"], "GatewayTimeout");
  EXPECT_EQ(body["extras"].at("request_id"), "req_1");
  EXPECT_EQ(body["errors"].at(0).at("key"), "upstream_timeout");
}

// ------------------------------------------------------------------------------------------
// Chat stream encoder (§5.5)

std::string RunChat(ChatStreamEncoder& enc, const std::vector<providers::StreamEvent>& events) {
  std::string out;
  for (const auto& e : events) out += enc.OnEvent(e);
  return out;
}

TEST(ChatStream, MinimalStreamWithUsage) {
  ChatStreamEncoder enc({"chatcmpl-1", 1750000000, "m", /*include_usage=*/true,
                         Dialect::kOpenAi, true});
  std::string sse = RunChat(enc, {providers::MessageStart{}, providers::TextDelta{"Hi"},
                                  providers::MessageStop{FinishReason::kStop, "end_turn"},
                                  providers::Metadata{{5, 1, 6}}});
  EXPECT_TRUE(enc.finished());
  EXPECT_EQ(enc.Finish(), "");
  EXPECT_EQ(sse.find("event:"), std::string::npos);
  auto frames = Frames(sse);
  ASSERT_EQ(frames.size(), 5u) << sse;
  for (size_t i = 0; i < 4; ++i) {
    json::object c = DataJson(frames[i]);
    EXPECT_EQ(c["id"], "chatcmpl-1");
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["created"], 1750000000);
    EXPECT_EQ(c["model"], "m");
  }
  json::object first = DataJson(frames[0]);
  EXPECT_EQ(first["choices"].at(0).at("delta").at("role"), "assistant");
  EXPECT_EQ(first["choices"].at(0).at("delta").at("content"), "");
  EXPECT_TRUE(first["choices"].at(0).at("finish_reason").is_null());
  EXPECT_TRUE(first["usage"].is_null());
  json::object text = DataJson(frames[1]);
  EXPECT_EQ(text["choices"].at(0).at("delta").at("content"), "Hi");
  json::object close = DataJson(frames[2]);
  EXPECT_TRUE(close["choices"].at(0).at("delta").as_object().empty());
  EXPECT_EQ(close["choices"].at(0).at("finish_reason"), "stop");
  json::object usage = DataJson(frames[3]);
  EXPECT_TRUE(usage["choices"].as_array().empty());
  EXPECT_EQ(usage["usage"].at("prompt_tokens"), 5);
  EXPECT_EQ(usage["usage"].at("completion_tokens"), 1);
  EXPECT_EQ(usage["usage"].at("total_tokens"), 6);
  EXPECT_EQ(frames[4], "data: [DONE]");
  EXPECT_EQ(enc.usage().total_tokens, 6);
}

TEST(ChatStream, WithoutIncludeUsageNoChunkCarriesUsage) {
  ChatStreamEncoder enc({"c", 1, "m", false, Dialect::kOpenAi, true});
  std::string sse = RunChat(enc, {providers::TextDelta{"a"},
                                  providers::MessageStop{FinishReason::kLength, ""},
                                  providers::Metadata{{1, 2, 3}}});
  EXPECT_EQ(sse.find("usage"), std::string::npos);
  auto frames = Frames(sse);
  ASSERT_EQ(frames.size(), 4u);  // role (synthesised), text, close, [DONE]
  EXPECT_EQ(DataJson(frames[0])["choices"].at(0).at("delta").at("role"), "assistant");
  EXPECT_EQ(DataJson(frames[2])["choices"].at(0).at("finish_reason"), "length");
  EXPECT_EQ(frames[3], "data: [DONE]");
}

TEST(ChatStream, FinishCompletesWhenProviderEndsAfterStop) {
  ChatStreamEncoder enc({"c", 1, "m", true, Dialect::kOpenAi, true});
  RunChat(enc, {providers::TextDelta{"a"}, providers::MessageStop{}});
  EXPECT_FALSE(enc.finished());
  auto frames = Frames(enc.Finish());
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(DataJson(frames[0])["usage"].at("total_tokens"), 0);
  EXPECT_EQ(frames[1], "data: [DONE]");
  EXPECT_TRUE(enc.finished());
}

TEST(ChatStream, FinishWithoutStopIsEmpty) {
  ChatStreamEncoder enc({"c", 1, "m", false, Dialect::kOpenAi, true});
  RunChat(enc, {providers::TextDelta{"a"}});
  EXPECT_EQ(enc.Finish(), "");
  EXPECT_FALSE(enc.finished());
  EXPECT_FALSE(enc.saw_stop());
}

TEST(ChatStream, ToolCallDeltas) {
  ChatStreamEncoder enc({"c", 1, "m", false, Dialect::kOpenAi, true});
  std::string sse = RunChat(enc, {providers::MessageStart{},
                                  providers::ToolCallStart{0, "call_1", "get_weather"},
                                  providers::ToolCallDelta{0, "{\"city\":"},
                                  providers::ToolCallDelta{0, "\"Paris\"}"},
                                  providers::ToolCallStart{1, "call_2", "noop"},
                                  providers::MessageStop{FinishReason::kToolCalls, "tool_use"},
                                  providers::Metadata{}});
  auto frames = Frames(sse);
  ASSERT_EQ(frames.size(), 7u) << sse;
  auto start = DataJson(frames[1])["choices"].at(0).at("delta").at("tool_calls").at(0);
  EXPECT_EQ(start.at("index"), 0);
  EXPECT_EQ(start.at("id"), "call_1");
  EXPECT_EQ(start.at("type"), "function");
  EXPECT_EQ(start.at("function").at("name"), "get_weather");
  EXPECT_EQ(start.at("function").at("arguments"), "");
  auto delta = DataJson(frames[2])["choices"].at(0).at("delta").at("tool_calls").at(0);
  EXPECT_EQ(delta.at("index"), 0);
  EXPECT_FALSE(delta.as_object().contains("id"));
  EXPECT_EQ(delta.at("function").at("arguments"), "{\"city\":");
  EXPECT_EQ(DataJson(frames[4])["choices"].at(0).at("delta").at("tool_calls").at(0).at("index"),
            1);
  EXPECT_EQ(DataJson(frames[5])["choices"].at(0).at("finish_reason"), "tool_calls");
  EXPECT_EQ(frames[6], "data: [DONE]");
}

TEST(ChatStream, WriterDoneSentinelOnlyAffectsWriter) {
  ChatStreamEncoder writer({"c", 1, "m", false, Dialect::kWriter, /*writer_done_sentinel=*/false});
  std::string w = RunChat(writer, {providers::TextDelta{"a"}, providers::MessageStop{},
                                   providers::Metadata{}});
  EXPECT_EQ(w.find("[DONE]"), std::string::npos);
  EXPECT_TRUE(writer.finished());
  ChatStreamEncoder writer_on({"c", 1, "m", false, Dialect::kWriter, true});
  EXPECT_NE(RunChat(writer_on, {providers::MessageStop{}, providers::Metadata{}}).find("[DONE]"),
            std::string::npos);
  ChatStreamEncoder openai({"c", 1, "m", false, Dialect::kOpenAi, false});
  EXPECT_NE(RunChat(openai, {providers::MessageStop{}, providers::Metadata{}}).find("[DONE]"),
            std::string::npos);
}

TEST(ChatStream, ErrorFrameEndsWithoutDone) {
  ChatStreamEncoder enc({"c", 1, "m", false, Dialect::kOpenAi, true});
  std::string sse = RunChat(enc, {providers::TextDelta{"a"}});
  std::string err = enc.ErrorFrame(
      Error(ErrorCode::kUpstreamError, "upstream_error", "The model failed."), "req_9");
  EXPECT_EQ(err.rfind("event: error\ndata: {", 0), 0u);
  EXPECT_TRUE(enc.finished());
  EXPECT_EQ(enc.OnEvent(providers::MessageStop{}), "");
  EXPECT_EQ(enc.Finish(), "");
  EXPECT_EQ((sse + err).find("[DONE]"), std::string::npos);
}

TEST(ChatStream, EscapesTextAndIgnoresEmptyDeltas) {
  ChatStreamEncoder enc({"c", 1, "m", false, Dialect::kOpenAi, true});
  std::string sse = RunChat(enc, {providers::TextDelta{""}, providers::TextDelta{"line1\nline2 \"q\""}});
  auto frames = Frames(sse);
  ASSERT_EQ(frames.size(), 2u);  // role + one text chunk; the empty delta produced nothing
  EXPECT_EQ(DataJson(frames[1])["choices"].at(0).at("delta").at("content"), "line1\nline2 \"q\"");
}

// ------------------------------------------------------------------------------------------
// Completion stream encoder (§6.3)

TEST(CompletionStream, UnionChunksValueEqualsText) {
  CompletionStreamEncoder enc({"cmpl-1", 1750000000, "m", /*include_usage=*/true});
  std::string sse;
  for (const providers::StreamEvent& e :
       std::vector<providers::StreamEvent>{providers::MessageStart{}, providers::TextDelta{"Once"},
                                           providers::ToolCallStart{0, "x", "y"},
                                           providers::TextDelta{" upon"},
                                           providers::MessageStop{FinishReason::kStop, ""},
                                           providers::Metadata{{4, 2, 6}}}) {
    sse += enc.OnEvent(e);
  }
  auto frames = Frames(sse);
  ASSERT_EQ(frames.size(), 5u) << sse;
  for (size_t i = 0; i < 3; ++i) {
    json::object c = DataJson(frames[i]);
    EXPECT_EQ(c["id"], "cmpl-1");
    EXPECT_EQ(c["object"], "text_completion");
    EXPECT_EQ(c["created"], 1750000000);
    EXPECT_EQ(c["model"], "m");
    EXPECT_EQ(c["value"], c["choices"].at(0).at("text"));
    EXPECT_TRUE(c["choices"].at(0).at("logprobs").is_null());
  }
  EXPECT_EQ(DataJson(frames[0])["value"], "Once");
  EXPECT_TRUE(DataJson(frames[0])["choices"].at(0).at("finish_reason").is_null());
  EXPECT_EQ(DataJson(frames[1])["value"], " upon");
  json::object last = DataJson(frames[2]);
  EXPECT_EQ(last["value"], "");
  EXPECT_EQ(last["choices"].at(0).at("finish_reason"), "stop");
  json::object usage = DataJson(frames[3]);
  EXPECT_EQ(usage["value"], "");
  EXPECT_TRUE(usage["choices"].as_array().empty());
  EXPECT_EQ(usage["usage"].at("total_tokens"), 6);
  EXPECT_EQ(frames[4], "data: [DONE]");
}

TEST(CompletionStream, NoUsageAndFinishAndError) {
  CompletionStreamEncoder enc({"c", 1, "m", false});
  std::string sse = enc.OnEvent(providers::TextDelta{"a"}) +
                    enc.OnEvent(providers::MessageStop{FinishReason::kLength, ""});
  EXPECT_EQ(sse.find("usage"), std::string::npos);
  auto tail = Frames(enc.Finish());
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0], "data: [DONE]");

  CompletionStreamEncoder cut({"c", 1, "m", false});
  cut.OnEvent(providers::TextDelta{"a"});
  EXPECT_EQ(cut.Finish(), "");
  std::string err = cut.ErrorFrame(Error(ErrorCode::kTimeout, "upstream_timeout", "t"), "r");
  EXPECT_EQ(err.rfind("event: error\n", 0), 0u);
  EXPECT_TRUE(cut.finished());
}

}  // namespace
}  // namespace mg::api::data_plane
