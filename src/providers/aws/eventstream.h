// @file eventstream.h
// @brief The `application/vnd.amazon.eventstream` framing (bedrock.md §5.2): an incremental
// decoder for ConverseStream bodies and an encoder (for the fake AWS and benchmarks).
//
// Frame: uint32 total_length, uint32 headers_length, uint32 prelude_crc (CRC-32 of bytes 0..7),
// headers, payload, uint32 message_crc (CRC-32 of everything before it); big-endian.
// The decoder trusts no length before the prelude CRC matches, bounds every read, and caps the
// memory one message may claim. Any framing error is final: the stream is a protocol error.
//
// Thread-safety: EventStreamDecoder is not thread-safe (one per response stream); the free
// functions are pure.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"

namespace mg::aws {

// Wire type codes of header values (§5.2 table).
enum class EventHeaderType : uint8_t {
  kBoolTrue = 0,
  kBoolFalse = 1,
  kByte = 2,
  kShort = 3,
  kInteger = 4,
  kLong = 5,
  kByteArray = 6,
  kString = 7,
  kTimestamp = 8,
  kUuid = 9,
};

// Type 6: raw bytes (distinct from type 7 strings).
struct EventByteArray {
  std::string bytes;
  friend bool operator==(const EventByteArray&, const EventByteArray&) = default;
};
// Type 8: milliseconds since the Unix epoch.
using EventTimestamp = std::chrono::sys_time<std::chrono::milliseconds>;
// Type 9: 16 raw bytes.
struct EventUuid {
  std::array<uint8_t, 16> bytes{};
  friend bool operator==(const EventUuid&, const EventUuid&) = default;
};

// bool covers types 0 and 1; the integer widths map one to one to types 2-5.
using EventHeaderValue = std::variant<bool, int8_t, int16_t, int32_t, int64_t, EventByteArray,
                                      std::string, EventTimestamp, EventUuid>;

struct EventHeader {
  std::string name;  // 1-255 bytes
  EventHeaderValue value;
  friend bool operator==(const EventHeader&, const EventHeader&) = default;
};

// One decoded message. Headers are kept in wire order (order carries no meaning, but keeping it
// lets a message be re-encoded byte for byte).
struct EventMessage {
  std::vector<EventHeader> headers;
  std::string payload;

  // The value of the first string header named `name`; nullopt when absent or not a string.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The first header named `name`, whatever its type.
  const EventHeaderValue* FindHeader(std::string_view name) const;
};

inline constexpr size_t kEventStreamPreludeBytes = 12;
inline constexpr size_t kEventStreamMinMessageBytes = 16;
// Default cap on one message: well above the service limits (24 MiB payload, 128 KiB headers).
inline constexpr size_t kEventStreamDefaultMaxMessageBytes = 32 * 1024 * 1024;

// Decodes a byte stream split anywhere into messages.
//
// Errors are mg::Error{kUpstreamError, "upstream_error"} with a message naming the fault
// ("event-stream: prelude CRC mismatch ..."). After an error the decoder stays failed and every
// call returns that error.
class EventStreamDecoder {
 public:
  explicit EventStreamDecoder(size_t max_message_bytes = kEventStreamDefaultMaxMessageBytes);

  // Consumes `bytes`, appending every message completed by them to `out`. Messages completed
  // before an error are still appended.
  Result<void> Feed(std::string_view bytes, std::vector<EventMessage>& out);
  // Convenience form returning the messages completed by `bytes`.
  Result<std::vector<EventMessage>> Feed(std::string_view bytes);

  // End of input: an error when the stream stopped inside a message.
  Result<void> Finish() const;

  // True when some bytes of an incomplete message are buffered.
  bool HasPartialMessage() const { return !buffer_.empty(); }

 private:
  Result<void> Fail(Error error);
  // Validates the 12-byte prelude at `p`; sets expected_total_.
  Result<void> CheckPrelude(const char* p);
  Result<void> DecodeFrame(std::string_view frame, std::vector<EventMessage>& out);

  size_t max_message_bytes_;
  std::string buffer_;         // bytes of the current incomplete message
  size_t expected_total_ = 0;  // total_length once the prelude is verified, else 0
  std::optional<Error> failure_;
};

// Decodes exactly one complete frame (no trailing bytes).
Result<EventMessage> DecodeMessage(std::string_view frame,
                                   size_t max_message_bytes = kEventStreamDefaultMaxMessageBytes);

// Encodes one frame. Errors (kInvalidArgument): a header name empty or longer than 255 bytes, a
// string/byte-array value longer than 65535 bytes, a frame longer than 4 GiB.
Result<std::string> EncodeMessage(std::span<const EventHeader> headers, std::string_view payload);

}  // namespace mg::aws
