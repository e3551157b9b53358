#include "providers/bedrock/converse_codec.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace mg::providers::bedrock {
namespace {

namespace json = boost::json;

Message User(std::string text) { return Message{Role::kUser, {TextPart{std::move(text)}}, {}, {}}; }
Message Assistant(std::string text, std::vector<ToolCall> calls = {}) {
  Message m{Role::kAssistant, {}, std::move(calls), {}};
  if (!text.empty()) m.content.push_back(TextPart{std::move(text)});
  return m;
}
Message ToolResult(std::string id, std::string text) {
  return Message{Role::kTool, {TextPart{std::move(text)}}, {}, std::move(id)};
}
ToolDefinition WeatherTool() {
  return ToolDefinition{"get_weather", "Current weather",
                        R"({"type":"object","properties":{"city":{"type":"string"}}})"};
}

ChatRequest OneUserTurn(std::string text = "Hi") {
  ChatRequest r;
  r.messages.push_back(User(std::move(text)));
  return r;
}

json::object Body(const ChatRequest& r) {
  const std::string text = BuildConverseBody(r);
  // Every body must be valid JSON with no null members.
  EXPECT_EQ(text.find("null"), std::string::npos) << text;
  return json::parse(text).as_object();
}

// ---------------------------------------------------------------------------------------------
// §8.1 request mapping

TEST(BuildConverseBody, UserStringBecomesOneTextBlock) {
  EXPECT_EQ(BuildConverseBody(OneUserTurn("What is the weather in Paris?")),
            R"({"messages":[{"role":"user","content":[{"text":"What is the weather in Paris?"}]}]})");
}

TEST(BuildConverseBody, SystemTextsGoToSystemInOrderAndEmptyOnesAreDropped) {
  ChatRequest r = OneUserTurn();
  r.system = {"Answer briefly.", "", "Be kind."};
  EXPECT_EQ(json::serialize(Body(r).at("system")),
            R"([{"text":"Answer briefly."},{"text":"Be kind."}])");
}

TEST(BuildConverseBody, OmitsSystemWhenAllTextsAreEmpty) {
  ChatRequest r = OneUserTurn();
  r.system = {""};
  EXPECT_FALSE(Body(r).contains("system"));
}

TEST(BuildConverseBody, UserPartsBecomeBlocksInOrderWithImages) {
  ChatRequest r;
  r.messages.push_back(Message{Role::kUser,
                               {TextPart{"What is this?"}, ImagePart{"png", "iVBORw0KGgo="},
                                ImagePart{"jpg", "/9j/4AAQ"}, TextPart{"Thanks"}},
                               {},
                               {}});
  EXPECT_EQ(json::serialize(Body(r).at("messages")),
            R"([{"role":"user","content":[{"text":"What is this?"},)"
            R"({"image":{"format":"png","source":{"bytes":"iVBORw0KGgo="}}},)"
            R"({"image":{"format":"jpeg","source":{"bytes":"/9j/4AAQ"}}},{"text":"Thanks"}]}])");
}

TEST(BuildConverseBody, AssistantTextFirstThenToolUsesWithParsedArguments) {
  ChatRequest r = OneUserTurn("Weather?");
  r.tools.push_back(WeatherTool());
  r.messages.push_back(Assistant("Let me check.", {ToolCall{"call_1", "get_weather",
                                                            R"({"city":"Paris"})"},
                                                   ToolCall{"call_2", "get_weather", ""}}));
  r.messages.push_back(ToolResult("call_1", "18C"));
  r.messages.push_back(ToolResult("call_2", "20C"));
  const json::array messages = Body(r).at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(json::serialize(messages[1]),
            R"({"role":"assistant","content":[{"text":"Let me check."},)"
            R"({"toolUse":{"toolUseId":"call_1","name":"get_weather","input":{"city":"Paris"}}},)"
            R"({"toolUse":{"toolUseId":"call_2","name":"get_weather","input":{}}}]})");
}

TEST(BuildConverseBody, ToolMessageBecomesUserToolResult) {
  ChatRequest r = OneUserTurn();
  r.messages.push_back(Assistant("", {ToolCall{"call_1", "get_weather", "{}"}}));
  r.messages.push_back(ToolResult("call_1", "18C and sunny"));
  const json::array messages = Body(r).at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(json::serialize(messages[2]),
            R"({"role":"user","content":[{"toolResult":{"toolUseId":"call_1",)"
            R"("content":[{"text":"18C and sunny"}],"status":"success"}}]})");
}

TEST(BuildConverseBody, ToolResultArrayContentKeepsEachNonEmptyTextPart) {
  ChatRequest r = OneUserTurn();
  r.messages.push_back(Assistant("", {ToolCall{"call_1", "get_weather", "{}"}}));
  r.messages.push_back(
      Message{Role::kTool, {TextPart{"a"}, TextPart{""}, TextPart{"b"}}, {}, "call_1"});
  const json::array messages = Body(r).at("messages").as_array();
  EXPECT_EQ(json::serialize(messages[2].at("content").at(0).at("toolResult").at("content")),
            R"([{"text":"a"},{"text":"b"}])");
}

TEST(BuildConverseBody, EmptyOrBlankToolResultBecomesPlaceholder) {
  for (const std::string content : {"", "  \n"}) {
    ChatRequest r = OneUserTurn();
    r.messages.push_back(Assistant("", {ToolCall{"call_1", "get_weather", "{}"}}));
    r.messages.push_back(ToolResult("call_1", content));
    const json::array messages = Body(r).at("messages").as_array();
    EXPECT_EQ(json::serialize(messages[2].at("content").at(0).at("toolResult").at("content")),
              R"js([{"text":"(empty)"}])js");
  }
}

TEST(BuildConverseBody, ToolResultWithNoPartsBecomesPlaceholder) {
  ChatRequest r = OneUserTurn();
  r.messages.push_back(Assistant("", {ToolCall{"call_1", "get_weather", "{}"}}));
  r.messages.push_back(Message{Role::kTool, {}, {}, "call_1"});
  const json::array messages = Body(r).at("messages").as_array();
  EXPECT_EQ(json::serialize(messages[2].at("content").at(0).at("toolResult").at("content")),
            R"js([{"text":"(empty)"}])js");
}

TEST(BuildConverseBody, MergesConsecutiveUserTurnsWithToolResultsFirst) {
  ChatRequest r = OneUserTurn("Weather in Paris and Rome?");
  r.messages.push_back(Assistant("", {ToolCall{"a", "get_weather", R"({"city":"Paris"})"},
                                      ToolCall{"b", "get_weather", R"({"city":"Rome"})"}}));
  r.messages.push_back(ToolResult("a", "18C"));
  r.messages.push_back(User("Also, be brief."));
  r.messages.push_back(ToolResult("b", "25C"));
  const json::array messages = Body(r).at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u);
  const json::array& content = messages[2].at("content").as_array();
  ASSERT_EQ(content.size(), 3u);
  EXPECT_EQ(content[0].at("toolResult").at("toolUseId"), "a");
  EXPECT_EQ(content[1].at("toolResult").at("toolUseId"), "b");
  EXPECT_EQ(content[2].at("text"), "Also, be brief.");
}

TEST(BuildConverseBody, MergesConsecutiveUserMessages) {
  ChatRequest r = OneUserTurn("one");
  r.messages.push_back(User("two"));
  EXPECT_EQ(json::serialize(Body(r).at("messages")),
            R"([{"role":"user","content":[{"text":"one"},{"text":"two"}]}])");
}

TEST(BuildConverseBody, MergesSplitAssistantTurnsInOrder) {
  ChatRequest r = OneUserTurn();
  r.messages.push_back(Assistant("first"));
  r.messages.push_back(Assistant("second", {ToolCall{"c", "f", "{}"}}));
  const json::array messages = Body(r).at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(json::serialize(messages[1].at("content")),
            R"([{"text":"first"},{"text":"second"},)"
            R"({"toolUse":{"toolUseId":"c","name":"f","input":{}}}])");
}

TEST(BuildConverseBody, DropsAssistantMessageWithNoBlockAndMergesAcrossIt) {
  ChatRequest r = OneUserTurn("one");
  r.messages.push_back(Assistant(""));
  r.messages.push_back(Message{Role::kAssistant, {TextPart{"  "}}, {}, {}});
  r.messages.push_back(User("two"));
  EXPECT_EQ(json::serialize(Body(r).at("messages")),
            R"([{"role":"user","content":[{"text":"one"},{"text":"two"}]}])");
}

TEST(BuildConverseBody, SendsFirstAssistantMessageAsIs) {
  ChatRequest r;
  r.messages.push_back(Assistant("I start"));
  r.messages.push_back(User("ok"));
  const json::array messages = Body(r).at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("role"), "assistant");
}

TEST(BuildConverseBody, ToolsBecomeToolSpecsAndAutoChoiceIsOmitted) {
  ChatRequest r = OneUserTurn();
  r.tools.push_back(WeatherTool());
  r.tools.push_back(ToolDefinition{"no_params", "", ""});
  EXPECT_EQ(json::serialize(Body(r).at("toolConfig")),
            R"({"tools":[{"toolSpec":{"name":"get_weather","description":"Current weather",)"
            R"("inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}},)"
            R"({"toolSpec":{"name":"no_params","inputSchema":{"json":)"
            R"({"type":"object","properties":{}}}}}]})");
}

TEST(BuildConverseBody, RequiredToolChoiceBecomesAny) {
  ChatRequest r = OneUserTurn();
  r.tools.push_back(WeatherTool());
  r.tool_choice.mode = ToolChoice::Mode::kRequired;
  EXPECT_EQ(json::serialize(Body(r).at("toolConfig").at("toolChoice")), R"({"any":{}})");
}

TEST(BuildConverseBody, NamedToolChoiceBecomesTool) {
  ChatRequest r = OneUserTurn();
  r.tools.push_back(WeatherTool());
  r.tool_choice = ToolChoice{ToolChoice::Mode::kNamed, "get_weather"};
  EXPECT_EQ(json::serialize(Body(r).at("toolConfig").at("toolChoice")),
            R"({"tool":{"name":"get_weather"}})");
}

TEST(BuildConverseBody, NoneToolChoiceWithoutToolHistorySendsNoToolConfig) {
  ChatRequest r = OneUserTurn();
  r.tools.push_back(WeatherTool());
  r.tool_choice.mode = ToolChoice::Mode::kNone;
  EXPECT_FALSE(Body(r).contains("toolConfig"));
}

TEST(BuildConverseBody, NoneToolChoiceWithToolHistorySendsToolsWithoutChoice) {
  ChatRequest r = OneUserTurn();
  r.tools.push_back(WeatherTool());
  r.tool_choice.mode = ToolChoice::Mode::kNone;
  r.messages.push_back(Assistant("", {ToolCall{"c", "get_weather", "{}"}}));
  r.messages.push_back(ToolResult("c", "ok"));
  const json::object body = Body(r);
  ASSERT_TRUE(body.contains("toolConfig"));
  EXPECT_EQ(body.at("toolConfig").at("tools").as_array().size(), 1u);
  EXPECT_FALSE(body.at("toolConfig").as_object().contains("toolChoice"));
}

TEST(BuildConverseBody, RebuildsToolConfigFromHistoryWhenNoToolsGiven) {
  ChatRequest r = OneUserTurn();
  r.messages.push_back(Assistant("", {ToolCall{"a", "get_weather", "{}"},
                                      ToolCall{"b", "get_time", "{}"},
                                      ToolCall{"c", "get_weather", "{}"}}));
  r.messages.push_back(ToolResult("a", "x"));
  r.messages.push_back(ToolResult("b", "y"));
  r.messages.push_back(ToolResult("c", "z"));
  EXPECT_EQ(json::serialize(Body(r).at("toolConfig")),
            R"({"tools":[{"toolSpec":{"name":"get_weather","inputSchema":{"json":{"type":"object"}}}},)"
            R"({"toolSpec":{"name":"get_time","inputSchema":{"json":{"type":"object"}}}}]})");
}

TEST(BuildConverseBody, NoToolsAndNoToolHistoryMeansNoToolConfig) {
  EXPECT_FALSE(Body(OneUserTurn()).contains("toolConfig"));
}

TEST(BuildConverseBody, InferenceConfigCarriesLimitsSamplingAndStops) {
  ChatRequest r = OneUserTurn();
  r.max_tokens = 256;
  r.temperature = 0.5;
  r.top_p = 0.9;
  r.stop = {"END", "STOP"};
  // Compared as values: re-serialising with Boost.JSON spells doubles as "5E-1".
  EXPECT_EQ(Body(r).at("inferenceConfig"),
            json::parse(
                R"({"maxTokens":256,"temperature":0.5,"topP":0.9,"stopSequences":["END","STOP"]})"));
  EXPECT_NE(BuildConverseBody(r).find(R"("temperature":0.5,"topP":0.9)"), std::string::npos);
}

TEST(BuildConverseBody, TemperatureAboveOneIsForwardedUnchanged) {
  ChatRequest r = OneUserTurn();
  r.temperature = 1.7;
  EXPECT_EQ(Body(r).at("inferenceConfig"), json::parse(R"({"temperature":1.7})"));
  EXPECT_NE(BuildConverseBody(r).find(R"("temperature":1.7)"), std::string::npos);
}

TEST(BuildConverseBody, OmitsInferenceConfigWhenNothingIsSet) {
  EXPECT_FALSE(Body(OneUserTurn()).contains("inferenceConfig"));
}

TEST(BuildConverseBody, SeedIsNotForwarded) {
  ChatRequest r = OneUserTurn();
  r.seed = 7;
  EXPECT_EQ(BuildConverseBody(r), BuildConverseBody(OneUserTurn()));
}

TEST(BuildConverseBody, JsonSchemaResponseFormatBecomesOutputConfigWithSchemaString) {
  ChatRequest r = OneUserTurn();
  r.response_format = ResponseFormat{ResponseFormat::Type::kJsonSchema, "city", "A city",
                                     R"({"type":"object"})"};
  EXPECT_EQ(json::serialize(Body(r).at("outputConfig")),
            R"({"textFormat":{"type":"json_schema","structure":{"jsonSchema":)"
            R"({"schema":"{\"type\":\"object\"}","name":"city","description":"A city"}}}})");
}

TEST(BuildConverseBody, TextResponseFormatSendsNoOutputConfig) {
  ChatRequest r = OneUserTurn();
  r.response_format.type = ResponseFormat::Type::kText;
  EXPECT_FALSE(Body(r).contains("outputConfig"));
}

TEST(BuildConverseBody, EscapesTextInJson) {
  ChatRequest r = OneUserTurn("say \"hi\"\n\\");
  EXPECT_EQ(Body(r).at("messages").at(0).at("content").at(0).at("text"), "say \"hi\"\n\\");
}

TEST(BuildProbeBody, IsTheSpecifiedPing) {
  EXPECT_EQ(BuildProbeBody(),
            R"({"messages":[{"role":"user","content":[{"text":"ping"}]}],"inferenceConfig":{"maxTokens":1}})");
}

// ---------------------------------------------------------------------------------------------
// §8.2 response mapping

constexpr std::string_view kToolUseResponse =
    R"({"output":{"message":{"role":"assistant","content":[
   {"text":"Let me check."},
   {"reasoningContent":{"reasoningText":{"text":"hmm"}}},
   {"toolUse":{"toolUseId":"tooluse_kZJMlvQmRJ6eAyJE5GIl7Q","name":"get_weather","input":{"city": "Paris"}}}]}},
 "stopReason":"tool_use",
 "usage":{"inputTokens":120,"outputTokens":41,"totalTokens":161,"cacheReadInputTokens":0},
 "metrics":{"latencyMs":988}, "trace":{}, "newMember":[1,2]})";

TEST(ParseConverseResponse, MapsTextToolUseStopReasonAndUsage) {
  auto response = ParseConverseResponse(kToolUseResponse);
  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->text, "Let me check.");
  ASSERT_EQ(response->tool_calls.size(), 1u);
  EXPECT_EQ(response->tool_calls[0].id, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
  EXPECT_EQ(response->tool_calls[0].name, "get_weather");
  EXPECT_EQ(response->tool_calls[0].arguments_json, R"({"city":"Paris"})");
  EXPECT_EQ(response->finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(response->usage.prompt_tokens, 120);
  EXPECT_EQ(response->usage.completion_tokens, 41);
  EXPECT_EQ(response->usage.total_tokens, 161);
  EXPECT_EQ(response->provider_stop_reason, "tool_use");
  EXPECT_EQ(response->provider_latency_ms, 988);
}

std::string ResponseWith(std::string_view content, std::string_view stop = "end_turn") {
  return std::string(R"({"output":{"message":{"role":"assistant","content":)") +
         std::string(content) + R"(}},"stopReason":")" + std::string(stop) +
         R"(","usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3},"metrics":{"latencyMs":5}})";
}

TEST(ParseConverseResponse, ConcatenatesTextBlocksWithoutSeparator) {
  auto response = ParseConverseResponse(ResponseWith(R"([{"text":"Par"},{"text":"is"}])"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->text, "Paris");
  EXPECT_TRUE(response->tool_calls.empty());
}

TEST(ParseConverseResponse, NoTextBlockMeansNoText) {
  auto response = ParseConverseResponse(ResponseWith("[]"));
  ASSERT_TRUE(response.has_value());
  EXPECT_FALSE(response->text.has_value());
}

TEST(ParseConverseResponse, MapsEveryStopReason) {
  const std::pair<std::string_view, FinishReason> cases[] = {
      {"end_turn", FinishReason::kStop},
      {"stop_sequence", FinishReason::kStop},
      {"max_tokens", FinishReason::kLength},
      {"model_context_window_exceeded", FinishReason::kLength},
      {"tool_use", FinishReason::kToolCalls},
      {"guardrail_intervened", FinishReason::kContentFilter},
      {"content_filtered", FinishReason::kContentFilter},
      {"malformed_model_output", FinishReason::kStop},
      {"malformed_tool_use", FinishReason::kStop},
      {"something_new", FinishReason::kStop},
  };
  for (const auto& [stop, expected] : cases) {
    auto response = ParseConverseResponse(ResponseWith(R"([{"text":"x"}])", stop));
    ASSERT_TRUE(response.has_value()) << stop;
    EXPECT_EQ(response->finish_reason, expected) << stop;
    EXPECT_EQ(MapStopReason(stop), expected) << stop;
  }
}

TEST(IsAnomalousStopReason, FlagsMalformedAndUnknownReasonsOnly) {
  EXPECT_FALSE(IsAnomalousStopReason("end_turn"));
  EXPECT_FALSE(IsAnomalousStopReason("max_tokens"));
  EXPECT_FALSE(IsAnomalousStopReason("guardrail_intervened"));
  EXPECT_TRUE(IsAnomalousStopReason("malformed_model_output"));
  EXPECT_TRUE(IsAnomalousStopReason("malformed_tool_use"));
  EXPECT_TRUE(IsAnomalousStopReason("brand_new"));
}

void ExpectMalformed(const Result<ChatResponse>& r) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamError);
  EXPECT_EQ(r.error().reason, "upstream_error");
}

TEST(ParseConverseResponse, RejectsNonJsonAndNonObjectBodies) {
  ExpectMalformed(ParseConverseResponse("not json"));
  ExpectMalformed(ParseConverseResponse("[1]"));
  ExpectMalformed(ParseConverseResponse(""));
}

TEST(ParseConverseResponse, RejectsBodiesMissingRequiredMembers) {
  const std::string usage = R"("usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3})";
  const std::string metrics = R"("metrics":{"latencyMs":5})";
  const std::string output = R"("output":{"message":{"role":"assistant","content":[]}})";
  const std::string stop = R"("stopReason":"end_turn")";
  ExpectMalformed(ParseConverseResponse("{" + stop + "," + usage + "," + metrics + "}"));
  ExpectMalformed(ParseConverseResponse("{" + output + "," + usage + "," + metrics + "}"));
  ExpectMalformed(ParseConverseResponse("{" + output + "," + stop + "," + metrics + "}"));
  ExpectMalformed(ParseConverseResponse("{" + output + "," + stop + "," + usage + "}"));
  ExpectMalformed(ParseConverseResponse(
      "{" + output + "," + stop + R"(,"usage":{"inputTokens":1,"outputTokens":2},)" + metrics +
      "}"));
  ExpectMalformed(ParseConverseResponse(ResponseWith(R"([{"toolUse":{"name":"f","input":{}}}])")));
  ExpectMalformed(ParseConverseResponse(ResponseWith("[7]")));
  ExpectMalformed(ParseConverseResponse(ResponseWith("{}")));
}

// ---------------------------------------------------------------------------------------------
// §5.3 / §8.3 stream events

template <class T>
T Expect(const Result<std::optional<StreamEvent>>& r) {
  EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().message);
  if (!r.has_value() || !r->has_value()) {
    ADD_FAILURE() << "no event";
    return T{};
  }
  const T* event = std::get_if<T>(&**r);
  if (event == nullptr) {
    ADD_FAILURE() << "wrong event type";
    return T{};
  }
  return *event;
}

void ExpectNothing(const Result<std::optional<StreamEvent>>& r) {
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->has_value());
}

TEST(ParseStreamEvent, MessageStartStartsTheMessage) {
  Expect<MessageStart>(ParseStreamEvent("messageStart", R"({"role":"assistant","p":"abcd"})"));
}

TEST(ParseStreamEvent, TextDeltaCarriesText) {
  EXPECT_EQ(Expect<TextDelta>(ParseStreamEvent(
                "contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Par"},"p":"ab"})"))
                .text,
            "Par");
}

TEST(ParseStreamEvent, EmptyTextDeltaGivesNothing) {
  ExpectNothing(
      ParseStreamEvent("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":""}})"));
}

TEST(ParseStreamEvent, ToolUseStartCarriesIdAndName) {
  const auto start = Expect<ToolCallStart>(ParseStreamEvent(
      "contentBlockStart",
      R"({"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tu_1","name":"get_weather"}}})"));
  EXPECT_EQ(start.index, 1);
  EXPECT_EQ(start.id, "tu_1");
  EXPECT_EQ(start.name, "get_weather");
}

TEST(ParseStreamEvent, ToolUseDeltaCarriesInputFragment) {
  const auto delta = Expect<ToolCallDelta>(ParseStreamEvent(
      "contentBlockDelta",
      R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}})"));
  EXPECT_EQ(delta.index, 1);
  EXPECT_EQ(delta.fragment, R"({"city":)");
}

TEST(ParseStreamEvent, IgnoredEventsGiveNothing) {
  ExpectNothing(ParseStreamEvent("contentBlockStop", R"({"contentBlockIndex":0})"));
  ExpectNothing(ParseStreamEvent(
      "contentBlockDelta",
      R"({"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"thinking"}}})"));
  ExpectNothing(ParseStreamEvent("contentBlockStart",
                                 R"({"contentBlockIndex":0,"start":{"image":{}}})"));
  ExpectNothing(ParseStreamEvent("someFutureEvent", "not even json"));
}

TEST(ParseStreamEvent, MessageStopMapsStopReason) {
  const auto stop =
      Expect<MessageStop>(ParseStreamEvent("messageStop", R"({"stopReason":"max_tokens"})"));
  EXPECT_EQ(stop.finish_reason, FinishReason::kLength);
  EXPECT_EQ(stop.provider_stop_reason, "max_tokens");
}

TEST(ParseStreamEvent, MetadataCarriesUsage) {
  const auto metadata = Expect<Metadata>(ParseStreamEvent(
      "metadata",
      R"({"usage":{"inputTokens":5,"outputTokens":1,"totalTokens":6},"metrics":{"latencyMs":412}})"));
  EXPECT_EQ(metadata.usage.prompt_tokens, 5);
  EXPECT_EQ(metadata.usage.completion_tokens, 1);
  EXPECT_EQ(metadata.usage.total_tokens, 6);
}

TEST(ParseStreamEvent, MalformedPayloadsAreUpstreamErrors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"contentBlockDelta", "{"},
      {"contentBlockDelta", R"({"delta":{"text":"x"}})"},
      {"contentBlockStart", R"({"contentBlockIndex":1,"start":{"toolUse":{"name":"f"}}})"},
      {"messageStop", "{}"},
      {"metadata", R"({"usage":{"inputTokens":5}})"},
  };
  for (const auto& [type, payload] : cases) {
    const auto r = ParseStreamEvent(type, payload);
    ASSERT_FALSE(r.has_value()) << type << " " << payload;
    EXPECT_EQ(r.error().code, ErrorCode::kUpstreamError);
    EXPECT_EQ(r.error().reason, "upstream_error");
  }
}

TEST(ConverseStreamState, NumbersToolBlocksFromZeroInOrder) {
  ConverseStreamState state;
  Expect<MessageStart>(state.Parse("messageStart", R"({"role":"assistant"})"));
  Expect<TextDelta>(
      state.Parse("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})"));
  EXPECT_EQ(Expect<ToolCallStart>(
                state.Parse("contentBlockStart",
                            R"({"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"a","name":"f"}}})"))
                .index,
            0);
  EXPECT_EQ(Expect<ToolCallStart>(
                state.Parse("contentBlockStart",
                            R"({"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"b","name":"g"}}})"))
                .index,
            1);
  EXPECT_EQ(Expect<ToolCallDelta>(
                state.Parse("contentBlockDelta",
                            R"({"contentBlockIndex":2,"delta":{"toolUse":{"input":"{}"}}})"))
                .index,
            1);
  EXPECT_EQ(Expect<ToolCallDelta>(
                state.Parse("contentBlockDelta",
                            R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"{}"}}})"))
                .index,
            0);
}

TEST(ConverseStreamState, ToolDeltaWithoutStartIsUpstreamError) {
  ConverseStreamState state;
  const auto r = state.Parse("contentBlockDelta",
                             R"({"contentBlockIndex":3,"delta":{"toolUse":{"input":"{}"}}})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "upstream_error");
}

// ---------------------------------------------------------------------------------------------
// §6.1 catalog

constexpr std::string_view kFoundationModels = R"({"modelSummaries":[
  {"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
   "modelId":"anthropic.claude-3-haiku-20240307-v1:0","modelName":"Claude 3 Haiku",
   "providerName":"Anthropic","inputModalities":["TEXT","IMAGE"],"outputModalities":["TEXT"],
   "responseStreamingSupported":true,"customizationsSupported":[],
   "inferenceTypesSupported":["ON_DEMAND"],
   "modelLifecycle":{"status":"ACTIVE"}},
  {"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
   "modelId":"anthropic.claude-sonnet-4-20250514-v1:0","modelName":"Claude Sonnet 4",
   "providerName":"Anthropic","inputModalities":["TEXT","IMAGE"],"outputModalities":["TEXT"],
   "responseStreamingSupported":true,"inferenceTypesSupported":["INFERENCE_PROFILE"],
   "modelLifecycle":{"status":"ACTIVE"}},
  {"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v1",
   "modelId":"amazon.titan-embed-text-v1","modelName":"Titan Embeddings G1",
   "providerName":"Amazon","inputModalities":["TEXT"],"outputModalities":["EMBEDDING"],
   "inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"LEGACY"}},
  {"modelArn":"arn:x","modelId":"anthropic.claude-3-haiku-20240307-v1:0:200k",
   "outputModalities":["TEXT"],"inferenceTypesSupported":["PROVISIONED"]}]})";

TEST(ParseFoundationModels, MapsSummariesToCatalogModels) {
  auto models = ParseFoundationModels(kFoundationModels);
  ASSERT_TRUE(models.has_value()) << models.error().message;
  ASSERT_EQ(models->size(), 4u);
  const CatalogModel& haiku = (*models)[0];
  EXPECT_EQ(haiku.provider_model_id, "anthropic.claude-3-haiku-20240307-v1:0");
  EXPECT_EQ(haiku.name, "Claude 3 Haiku");
  EXPECT_EQ(haiku.vendor, "Anthropic");
  EXPECT_EQ(haiku.input_modalities, (std::vector<std::string>{"TEXT", "IMAGE"}));
  EXPECT_EQ(haiku.output_modalities, (std::vector<std::string>{"TEXT"}));
  EXPECT_TRUE(haiku.streaming);
  EXPECT_EQ(haiku.lifecycle, "ACTIVE");
  EXPECT_EQ(haiku.inference_types, (std::vector<std::string>{"ON_DEMAND"}));
  EXPECT_TRUE(haiku.chat_capable);
}

TEST(ParseFoundationModels, ChatCapableNeedsTextOutputAndOnDemandOrProfile) {
  auto models = ParseFoundationModels(kFoundationModels);
  ASSERT_TRUE(models.has_value());
  EXPECT_TRUE((*models)[1].chat_capable);   // INFERENCE_PROFILE only
  EXPECT_FALSE((*models)[2].chat_capable);  // EMBEDDING output
  EXPECT_EQ((*models)[2].lifecycle, "LEGACY");
  EXPECT_FALSE((*models)[2].streaming);     // absent -> false
  EXPECT_FALSE((*models)[3].chat_capable);  // PROVISIONED only
  EXPECT_EQ((*models)[3].name, "");
  EXPECT_EQ((*models)[3].lifecycle, "");
}

TEST(ParseFoundationModels, RejectsMalformedBodies) {
  EXPECT_FALSE(ParseFoundationModels("{}").has_value());
  EXPECT_FALSE(ParseFoundationModels("nope").has_value());
  auto r = ParseFoundationModels(R"({"modelSummaries":[{"modelName":"x"}]})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, "upstream_error");
}

TEST(ParseFoundationModels, EmptyListIsValid) {
  auto models = ParseFoundationModels(R"({"modelSummaries":[]})");
  ASSERT_TRUE(models.has_value());
  EXPECT_TRUE(models->empty());
}

TEST(ParseFoundationModel, ReadsModelDetails) {
  auto model = ParseFoundationModel(
      R"({"modelDetails":{"modelArn":"arn:x","modelId":"amazon.nova-lite-v1:0","modelName":"Nova Lite",
          "providerName":"Amazon","outputModalities":["TEXT"],"inferenceTypesSupported":["ON_DEMAND"],
          "responseStreamingSupported":true}})");
  ASSERT_TRUE(model.has_value()) << model.error().message;
  EXPECT_EQ(model->provider_model_id, "amazon.nova-lite-v1:0");
  EXPECT_EQ(model->name, "Nova Lite");
  EXPECT_TRUE(model->chat_capable);
  EXPECT_FALSE(ParseFoundationModel(R"({"modelSummaries":[]})").has_value());
}

}  // namespace
}  // namespace mg::providers::bedrock
