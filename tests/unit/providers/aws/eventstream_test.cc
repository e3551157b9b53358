#include "providers/aws/eventstream.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "crypto/crypto.h"
#include "providers/aws/crc32.h"

namespace mg::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kDir = fs::path(MG_TEST_DATA_DIR) / "eventstream";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << p;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const json::object& Cases() {
  static const json::object* cases =
      new json::object(json::parse(ReadFile(kDir / "cases.json")).as_object());
  return *cases;
}

std::vector<std::string> Files(std::string_view section) {
  std::vector<std::string> files;
  for (const auto& m : Cases().at(section).as_array()) {
    files.emplace_back(m.at("file").as_string());
  }
  return files;
}

const json::object& MessageCase(std::string_view file) {
  for (const auto& m : Cases().at("messages").as_array()) {
    if (m.at("file").as_string() == file) return m.as_object();
  }
  ADD_FAILURE() << "no case " << file;
  static const json::object empty;
  return empty;
}

// Builds the expected headers from a cases.json entry.
std::vector<EventHeader> ExpectedHeaders(const json::object& c) {
  std::vector<EventHeader> out;
  for (const auto& jv : c.at("headers").as_array()) {
    const json::object& h = jv.as_object();
    EventHeader eh;
    eh.name = h.at("name").as_string();
    const std::string_view type = h.at("type").as_string();
    const json::value& v = h.at("value");
    if (type == "boolean") eh.value = v.as_bool();
    else if (type == "byte") eh.value = static_cast<int8_t>(v.to_number<int64_t>());
    else if (type == "short") eh.value = static_cast<int16_t>(v.to_number<int64_t>());
    else if (type == "integer") eh.value = static_cast<int32_t>(v.to_number<int64_t>());
    else if (type == "long") eh.value = static_cast<int64_t>(std::stoll(std::string(v.as_string())));
    else if (type == "binary") eh.value = EventByteArray{*crypto::HexDecode(v.as_string())};
    else if (type == "string") eh.value = std::string(v.as_string());
    else if (type == "timestamp") {
      eh.value = EventTimestamp(std::chrono::milliseconds(v.to_number<int64_t>()));
    } else if (type == "uuid") {
      std::string hex(v.as_string());
      std::erase(hex, '-');
      const std::string raw = *crypto::HexDecode(hex);
      EventUuid u;
      std::memcpy(u.bytes.data(), raw.data(), 16);
      eh.value = u;
    } else {
      ADD_FAILURE() << "unknown type in cases.json: " << type;
    }
    out.push_back(std::move(eh));
  }
  return out;
}

std::string Name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

// Decodes `bytes` fed in pieces of at most `chunk` bytes.
Result<std::vector<EventMessage>> DecodeInChunks(std::string_view bytes, size_t chunk) {
  EventStreamDecoder decoder;
  std::vector<EventMessage> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    MG_TRY_VOID(decoder.Feed(bytes.substr(i, chunk), out));
  }
  MG_TRY_VOID(decoder.Finish());
  return out;
}

// ---------------------------------------------------------------------------------------------

class EventStreamFrames : public ::testing::TestWithParam<std::string> {};

TEST_P(EventStreamFrames, DecodesToWhatCasesJsonSays) {
  const json::object& c = MessageCase(GetParam());
  const std::string bytes = ReadFile(kDir / GetParam());
  ASSERT_EQ(crypto::HexEncode(bytes), c.at("hex").as_string());
  ASSERT_EQ(bytes.size(), c.at("total_length").to_number<size_t>());

  auto message = DecodeMessage(bytes);
  ASSERT_TRUE(message.has_value()) << message.error().message;
  EXPECT_EQ(message->headers, ExpectedHeaders(c));
  EXPECT_EQ(message->payload, c.at("payload_utf8").as_string());
}

TEST_P(EventStreamFrames, DecodesAtEverySplitPoint) {
  const std::string bytes = ReadFile(kDir / GetParam());
  const auto expected = DecodeMessage(bytes);
  ASSERT_TRUE(expected.has_value());
  for (size_t split = 0; split <= bytes.size(); ++split) {
    EventStreamDecoder decoder;
    std::vector<EventMessage> out;
    ASSERT_TRUE(decoder.Feed(std::string_view(bytes).substr(0, split), out).has_value());
    EXPECT_EQ(out.empty(), split < bytes.size()) << split;
    EXPECT_EQ(decoder.HasPartialMessage(), split > 0 && split < bytes.size()) << split;
    ASSERT_TRUE(decoder.Feed(std::string_view(bytes).substr(split), out).has_value());
    ASSERT_TRUE(decoder.Finish().has_value());
    ASSERT_EQ(out.size(), 1u) << split;
    EXPECT_EQ(out[0].headers, expected->headers);
    EXPECT_EQ(out[0].payload, expected->payload);
  }
}

TEST_P(EventStreamFrames, EncoderReproducesTheFrameByteForByte) {
  const json::object& c = MessageCase(GetParam());
  const std::vector<EventHeader> headers = ExpectedHeaders(c);
  auto encoded = EncodeMessage(headers, std::string(c.at("payload_utf8").as_string()));
  ASSERT_TRUE(encoded.has_value()) << encoded.error().message;
  EXPECT_EQ(crypto::HexEncode(*encoded), c.at("hex").as_string());
  EXPECT_EQ(*encoded, ReadFile(kDir / GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Files, EventStreamFrames, ::testing::ValuesIn(Files("messages")), Name);

// ---------------------------------------------------------------------------------------------

class EventStreamStreams : public ::testing::TestWithParam<std::string> {
 protected:
  const json::object& StreamCase() const {
    for (const auto& s : Cases().at("streams").as_array()) {
      if (s.at("file").as_string() == GetParam()) return s.as_object();
    }
    ADD_FAILURE();
    static const json::object empty;
    return empty;
  }
  std::vector<EventMessage> ExpectedMessages() const {
    std::vector<EventMessage> out;
    for (const auto& f : StreamCase().at("messages").as_array()) {
      auto m = DecodeMessage(ReadFile(kDir / std::string(f.as_string())));
      EXPECT_TRUE(m.has_value());
      if (m) out.push_back(std::move(*m));
    }
    return out;
  }
};

void ExpectSameMessages(const std::vector<EventMessage>& got,
                        const std::vector<EventMessage>& want, const std::string& context) {
  ASSERT_EQ(got.size(), want.size()) << context;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].headers, want[i].headers) << context << " message " << i;
    EXPECT_EQ(got[i].payload, want[i].payload) << context << " message " << i;
  }
}

TEST_P(EventStreamStreams, DecodesIntoItsMessageSequenceWholeAndByteByByte) {
  const std::string bytes = ReadFile(kDir / GetParam());
  EXPECT_EQ(bytes.size(), StreamCase().at("total_bytes").to_number<size_t>());
  const auto want = ExpectedMessages();
  for (size_t chunk : {bytes.size(), size_t{1}, size_t{7}, size_t{64}}) {
    auto got = DecodeInChunks(bytes, chunk);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    ExpectSameMessages(*got, want, "chunk " + std::to_string(chunk));
  }
}

TEST_P(EventStreamStreams, DecodesAtEverySplitPoint) {
  const std::string bytes = ReadFile(kDir / GetParam());
  const auto want = ExpectedMessages();
  for (size_t split = 0; split <= bytes.size(); ++split) {
    EventStreamDecoder decoder;
    std::vector<EventMessage> out;
    ASSERT_TRUE(decoder.Feed(std::string_view(bytes).substr(0, split), out).has_value());
    ASSERT_TRUE(decoder.Feed(std::string_view(bytes).substr(split), out).has_value());
    ASSERT_TRUE(decoder.Finish().has_value());
    ExpectSameMessages(out, want, "split " + std::to_string(split));
  }
}

INSTANTIATE_TEST_SUITE_P(Files, EventStreamStreams, ::testing::ValuesIn(Files("streams")), Name);

TEST(EventStreamStreamsContent, ThrottledStreamEndsWithTheExceptionFrame) {
  auto got = DecodeInChunks(ReadFile(kDir / "converse-stream-throttled-midway.bin"), 5);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ(got->front().Header(":event-type"), "messageStart");
  EXPECT_EQ(got->back().Header(":message-type"), "exception");
  EXPECT_EQ(got->back().Header(":exception-type"), "throttlingException");
  EXPECT_NE(got->back().payload.find("Too many tokens"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------

class EventStreamNegative : public ::testing::TestWithParam<std::string> {};

TEST_P(EventStreamNegative, IsRejectedWholeAndByteByByte) {
  const std::string bytes = ReadFile(kDir / GetParam());
  for (size_t chunk : {bytes.size(), size_t{1}, size_t{13}}) {
    auto got = DecodeInChunks(bytes, chunk);
    ASSERT_FALSE(got.has_value()) << "chunk " << chunk;
    EXPECT_EQ(got.error().code, ErrorCode::kUpstreamError);
    EXPECT_EQ(got.error().reason, "upstream_error");
    EXPECT_EQ(got.error().message.rfind("event-stream: ", 0), 0u) << got.error().message;
  }
}

TEST_P(EventStreamNegative, FailsForTheReasonCasesJsonGives) {
  // cases.json `reason` → the fault our message must name.
  static const std::pair<std::string_view, std::string_view> kWant[] = {
      {"negative-prelude-crc.bin", "prelude CRC mismatch"},
      {"negative-message-crc.bin", "message CRC mismatch"},
      {"negative-payload-flipped.bin", "message CRC mismatch"},
      {"negative-total-length-too-large.bin", "prelude CRC mismatch"},
      {"negative-headers-length-too-large.bin", "prelude CRC mismatch"},
      {"negative-truncated.bin", "stream ended inside a message"},
  };
  const auto it = std::find_if(std::begin(kWant), std::end(kWant),
                               [&](const auto& w) { return w.first == GetParam(); });
  ASSERT_NE(it, std::end(kWant)) << "new negative case without an expected error: " << GetParam();
  auto got = DecodeInChunks(ReadFile(kDir / GetParam()), 1);
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message.find(it->second), std::string::npos) << got.error().message;
  // Whole-frame decoding agrees (truncation shows up as a length mismatch there).
  auto whole = DecodeMessage(ReadFile(kDir / GetParam()));
  EXPECT_FALSE(whole.has_value());
}

INSTANTIATE_TEST_SUITE_P(Files, EventStreamNegative, ::testing::ValuesIn(Files("negative")), Name);

TEST(EventStreamData, HasEveryCaseOfCasesJson) {
  EXPECT_EQ(Files("messages").size(), 25u);
  EXPECT_EQ(Files("streams").size(), 3u);
  EXPECT_EQ(Files("negative").size(), 6u);
  for (const char* section : {"messages", "streams", "negative"}) {
    for (const auto& f : Files(section)) EXPECT_TRUE(fs::exists(kDir / f)) << f;
  }
}

// ---------------------------------------------------------------------------------------------

TEST(EventStreamDecoder, ChecksThePreludeCrcBeforeTrustingLengths) {
  std::string bytes = ReadFile(kDir / "negative-total-length-too-large.bin");
  EventStreamDecoder decoder;
  std::vector<EventMessage> out;
  // Only the 12-byte prelude: rejected at once, without waiting for the claimed length.
  auto r = decoder.Feed(std::string_view(bytes).substr(0, 12), out);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("prelude CRC"), std::string::npos);
}

TEST(EventStreamDecoder, StaysFailedAfterAnError) {
  EventStreamDecoder decoder;
  std::vector<EventMessage> out;
  ASSERT_FALSE(decoder.Feed(ReadFile(kDir / "negative-message-crc.bin"), out).has_value());
  auto again = decoder.Feed(ReadFile(kDir / "text-01-messageStart.bin"), out);
  EXPECT_FALSE(again.has_value());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(decoder.Finish().has_value());
}

TEST(EventStreamDecoder, KeepsMessagesCompletedBeforeAnError) {
  std::string bytes = ReadFile(kDir / "text-01-messageStart.bin") +
                      ReadFile(kDir / "negative-payload-flipped.bin");
  EventStreamDecoder decoder;
  std::vector<EventMessage> out;
  EXPECT_FALSE(decoder.Feed(bytes, out).has_value());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].Header(":event-type"), "messageStart");
}

TEST(EventStreamDecoder, ReportsEofInsideAMessage) {
  const std::string bytes = ReadFile(kDir / "text-01-messageStart.bin");
  for (size_t cut : {size_t{1}, size_t{11}, size_t{12}, bytes.size() - 1}) {
    EventStreamDecoder decoder;
    std::vector<EventMessage> out;
    ASSERT_TRUE(decoder.Feed(std::string_view(bytes).substr(0, cut), out).has_value());
    auto finish = decoder.Finish();
    ASSERT_FALSE(finish.has_value()) << cut;
    EXPECT_NE(finish.error().message.find("ended inside a message"), std::string::npos);
  }
  EventStreamDecoder empty;
  EXPECT_TRUE(empty.Finish().has_value());
}

TEST(EventStreamDecoder, EnforcesTheMemoryCap) {
  auto big = EncodeMessage({}, std::string(1000, 'x'));
  ASSERT_TRUE(big.has_value());
  EventStreamDecoder decoder(512);
  auto r = decoder.Feed(std::string_view(*big).substr(0, 12));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("exceeds the cap"), std::string::npos);
  EXPECT_TRUE(EventStreamDecoder(2048).Feed(*big).has_value());
}

void AppendU32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(v >> s));
}

// A frame with valid CRCs around arbitrary (possibly inconsistent) lengths and header bytes.
std::string HandMadeFrame(uint32_t total, uint32_t headers_length, std::string_view body) {
  std::string f;
  AppendU32(f, total);
  AppendU32(f, headers_length);
  AppendU32(f, Crc32(f));
  f.append(body);
  AppendU32(f, Crc32(f));
  return f;
}

TEST(EventStreamDecoder, RejectsLengthsThatCannotHold) {
  auto too_short = EventStreamDecoder().Feed(HandMadeFrame(15, 0, ""));
  ASSERT_FALSE(too_short.has_value());
  EXPECT_NE(too_short.error().message.find("below 16"), std::string::npos);

  auto headers_too_long = EventStreamDecoder().Feed(HandMadeFrame(20, 5, "abcd"));
  ASSERT_FALSE(headers_too_long.has_value());
  EXPECT_NE(headers_too_long.error().message.find("headers_length"), std::string::npos);
}

TEST(EventStreamDecoder, RejectsUnknownHeaderTypes) {
  const std::string block = std::string("\x01x\x0a", 3);  // name "x", type 10
  auto r = DecodeMessage(HandMadeFrame(16 + 3, 3, block));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("unknown header value type 10"), std::string::npos);
}

TEST(EventStreamDecoder, RejectsHeaderValuesThatOverrunTheBlock) {
  const std::vector<std::string> blocks = {
      std::string("\x00", 1),                   // empty name
      std::string("\x05" "ab", 3),                 // name longer than the block
      std::string("\x01x\x04\x00\x00", 5),      // integer cut short
      std::string("\x01x\x07\x00\x09" "abc", 8),   // string length beyond the block
      std::string("\x01x\x09" "0123456789", 13),  // uuid cut short
  };
  for (const auto& block : blocks) {
    const auto len = static_cast<uint32_t>(block.size());
    auto r = DecodeMessage(HandMadeFrame(16 + len, len, block));
    EXPECT_FALSE(r.has_value()) << crypto::HexEncode(block);
  }
}

// ---------------------------------------------------------------------------------------------

TEST(EncodeMessage, RoundTripsEveryHeaderType) {
  std::vector<EventHeader> headers = {
      {"t", true},
      {"f", false},
      {"b", int8_t{-128}},
      {"s", int16_t{32767}},
      {"i", int32_t{-2147483647 - 1}},
      {"l", int64_t{9007199254740993}},
      {"bytes", EventByteArray{std::string("\x00\xff", 2)}},
      {"str", std::string(65535, 'z')},
      {"ts", EventTimestamp(std::chrono::milliseconds(-1))},
      {"uuid", EventUuid{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}},
  };
  const std::string payload("\x00payload\xff", 9);
  auto encoded = EncodeMessage(headers, payload);
  ASSERT_TRUE(encoded.has_value());
  auto decoded = DecodeMessage(*encoded);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(decoded->headers, headers);
  EXPECT_EQ(decoded->payload, payload);
  EXPECT_EQ(decoded->Header("str")->size(), 65535u);
  EXPECT_FALSE(decoded->Header("t").has_value());  // not a string header
  EXPECT_NE(decoded->FindHeader("t"), nullptr);
  EXPECT_FALSE(decoded->Header("missing").has_value());
}

TEST(EncodeMessage, EmptyMessageIsSixteenBytes) {
  auto encoded = EncodeMessage({}, "");
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(encoded->size(), 16u);
  EXPECT_TRUE(DecodeMessage(*encoded).has_value());
}

TEST(EncodeMessage, RejectsUnencodableHeaders) {
  EventHeader empty_name{"", std::string("v")};
  EXPECT_FALSE(EncodeMessage(std::span<const EventHeader>(&empty_name, 1), "").has_value());
  EventHeader long_name{std::string(256, 'n'), true};
  EXPECT_FALSE(EncodeMessage(std::span<const EventHeader>(&long_name, 1), "").has_value());
  EventHeader long_value{"n", std::string(65536, 'v')};
  EXPECT_FALSE(EncodeMessage(std::span<const EventHeader>(&long_value, 1), "").has_value());
}

}  // namespace
}  // namespace mg::aws
