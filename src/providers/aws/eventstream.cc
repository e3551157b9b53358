// Event-stream framing per bedrock.md §5.2 (the AWS event-stream encoding).
#include "providers/aws/eventstream.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "providers/aws/crc32.h"

namespace mg::aws {
namespace {

uint32_t ReadU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) << 24 | static_cast<uint32_t>(u[1]) << 16 |
         static_cast<uint32_t>(u[2]) << 8 | static_cast<uint32_t>(u[3]);
}

uint64_t ReadU64(const char* p) {
  return static_cast<uint64_t>(ReadU32(p)) << 32 | ReadU32(p + 4);
}

uint16_t ReadU16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] << 8 | u[1]);
}

void AppendU32(std::string& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}

void AppendU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void AppendU64(std::string& out, uint64_t v) {
  AppendU32(out, static_cast<uint32_t>(v >> 32));
  AppendU32(out, static_cast<uint32_t>(v));
}

Error FrameError(std::string message) {
  return Error(ErrorCode::kUpstreamError, "upstream_error", "event-stream: " + std::move(message));
}

// Parses the header block. Every read is bounds-checked against the block.
Result<std::vector<EventHeader>> DecodeHeaders(std::string_view block) {
  std::vector<EventHeader> headers;
  size_t pos = 0;
  auto need = [&](size_t n) { return block.size() - pos >= n; };
  while (pos < block.size()) {
    const auto name_len = static_cast<uint8_t>(block[pos++]);
    if (name_len == 0) return FrameError("header with an empty name");
    if (!need(static_cast<size_t>(name_len) + 1)) return FrameError("header name overruns block");
    EventHeader h;
    h.name.assign(block.data() + pos, name_len);
    pos += name_len;
    const auto type = static_cast<uint8_t>(block[pos++]);
    const char* p = block.data() + pos;
    switch (static_cast<EventHeaderType>(type)) {
      case EventHeaderType::kBoolTrue:
        h.value = true;
        break;
      case EventHeaderType::kBoolFalse:
        h.value = false;
        break;
      case EventHeaderType::kByte:
        if (!need(1)) return FrameError("byte header value overruns block");
        h.value = static_cast<int8_t>(p[0]);
        pos += 1;
        break;
      case EventHeaderType::kShort:
        if (!need(2)) return FrameError("short header value overruns block");
        h.value = static_cast<int16_t>(ReadU16(p));
        pos += 2;
        break;
      case EventHeaderType::kInteger:
        if (!need(4)) return FrameError("integer header value overruns block");
        h.value = static_cast<int32_t>(ReadU32(p));
        pos += 4;
        break;
      case EventHeaderType::kLong:
        if (!need(8)) return FrameError("long header value overruns block");
        h.value = static_cast<int64_t>(ReadU64(p));
        pos += 8;
        break;
      case EventHeaderType::kByteArray:
      case EventHeaderType::kString: {
        if (!need(2)) return FrameError("header value length overruns block");
        const size_t len = ReadU16(p);
        pos += 2;
        if (!need(len)) return FrameError("header value overruns block");
        std::string bytes(block.data() + pos, len);
        pos += len;
        if (type == static_cast<uint8_t>(EventHeaderType::kString)) {
          h.value = std::move(bytes);
        } else {
          h.value = EventByteArray{std::move(bytes)};
        }
        break;
      }
      case EventHeaderType::kTimestamp:
        if (!need(8)) return FrameError("timestamp header value overruns block");
        h.value = EventTimestamp(std::chrono::milliseconds(static_cast<int64_t>(ReadU64(p))));
        pos += 8;
        break;
      case EventHeaderType::kUuid: {
        if (!need(16)) return FrameError("uuid header value overruns block");
        EventUuid u;
        std::memcpy(u.bytes.data(), p, 16);
        h.value = u;
        pos += 16;
        break;
      }
      default:
        return FrameError("unknown header value type " + std::to_string(type) + " for header '" +
                          h.name + "'");
    }
    headers.push_back(std::move(h));
  }
  return headers;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// EventMessage

const EventHeaderValue* EventMessage::FindHeader(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

std::optional<std::string_view> EventMessage::Header(std::string_view name) const {
  const EventHeaderValue* v = FindHeader(name);
  if (v == nullptr) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(v)) return std::string_view(*s);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// EventStreamDecoder

EventStreamDecoder::EventStreamDecoder(size_t max_message_bytes)
    : max_message_bytes_(std::max(max_message_bytes, kEventStreamMinMessageBytes)) {}

Result<void> EventStreamDecoder::Fail(Error error) {
  failure_ = error;
  buffer_.clear();
  buffer_.shrink_to_fit();
  expected_total_ = 0;
  return error;
}

Result<void> EventStreamDecoder::CheckPrelude(const char* p) {
  // §5.2: verify the prelude CRC before trusting either length.
  const uint32_t total = ReadU32(p);
  const uint32_t headers_length = ReadU32(p + 4);
  const uint32_t prelude_crc = ReadU32(p + 8);
  const uint32_t computed = Crc32Extend(0, p, 8);
  if (computed != prelude_crc) {
    return Fail(FrameError("prelude CRC mismatch (frame says " + std::to_string(prelude_crc) +
                           ", computed " + std::to_string(computed) + ")"));
  }
  if (total < kEventStreamMinMessageBytes) {
    return Fail(FrameError("total_length " + std::to_string(total) + " is below 16"));
  }
  if (headers_length > total - kEventStreamMinMessageBytes) {
    return Fail(FrameError("headers_length " + std::to_string(headers_length) +
                           " exceeds total_length " + std::to_string(total) + " - 16"));
  }
  if (total > max_message_bytes_) {
    return Fail(FrameError("message of " + std::to_string(total) + " bytes exceeds the cap of " +
                           std::to_string(max_message_bytes_) + " bytes"));
  }
  expected_total_ = total;
  return {};
}

Result<void> EventStreamDecoder::DecodeFrame(std::string_view frame,
                                             std::vector<EventMessage>& out) {
  // Preconditions (CheckPrelude): frame.size() == total_length >= 16, prelude CRC valid.
  const size_t total = frame.size();
  const uint32_t headers_length = ReadU32(frame.data() + 4);
  const uint32_t prelude_crc = ReadU32(frame.data() + 8);
  const uint32_t message_crc = ReadU32(frame.data() + total - 4);
  // CRC of bytes 0..7 is the prelude CRC, so continue from it.
  const uint32_t computed = Crc32Extend(prelude_crc, frame.data() + 8, total - 12);
  if (computed != message_crc) {
    return Fail(FrameError("message CRC mismatch (frame says " + std::to_string(message_crc) +
                           ", computed " + std::to_string(computed) + ")"));
  }
  auto headers = DecodeHeaders(frame.substr(kEventStreamPreludeBytes, headers_length));
  if (!headers) return Fail(std::move(headers).error());
  EventMessage message;
  message.headers = std::move(*headers);
  const size_t payload_start = kEventStreamPreludeBytes + headers_length;
  message.payload.assign(frame.data() + payload_start, total - 4 - payload_start);
  out.push_back(std::move(message));
  return {};
}

Result<void> EventStreamDecoder::Feed(std::string_view bytes, std::vector<EventMessage>& out) {
  if (failure_) return *failure_;
  while (!bytes.empty()) {
    if (buffer_.empty()) {
      // Fast path: decode whole frames straight from the input without copying them.
      while (bytes.size() >= kEventStreamPreludeBytes) {
        MG_TRY_VOID(CheckPrelude(bytes.data()));
        if (bytes.size() < expected_total_) break;
        MG_TRY_VOID(DecodeFrame(bytes.substr(0, expected_total_), out));
        bytes.remove_prefix(expected_total_);
        expected_total_ = 0;
      }
      if (!bytes.empty()) {
        buffer_.reserve(expected_total_ != 0 ? expected_total_ : kEventStreamPreludeBytes);
        buffer_.assign(bytes);
      }
      return {};
    }
    // Slow path: complete the buffered prelude, then the buffered frame.
    const size_t want = expected_total_ != 0 ? expected_total_ : kEventStreamPreludeBytes;
    const size_t take = std::min(want - buffer_.size(), bytes.size());
    buffer_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (buffer_.size() < want) return {};
    if (expected_total_ == 0) {
      MG_TRY_VOID(CheckPrelude(buffer_.data()));
      buffer_.reserve(expected_total_);
      continue;  // total_length >= 16 > 12: more bytes are needed
    }
    MG_TRY_VOID(DecodeFrame(buffer_, out));
    buffer_.clear();
    expected_total_ = 0;
  }
  return {};
}

Result<std::vector<EventMessage>> EventStreamDecoder::Feed(std::string_view bytes) {
  std::vector<EventMessage> out;
  MG_TRY_VOID(Feed(bytes, out));
  return out;
}

Result<void> EventStreamDecoder::Finish() const {
  if (failure_) return *failure_;
  if (!buffer_.empty()) {
    return FrameError("stream ended inside a message (" + std::to_string(buffer_.size()) +
                      " of " +
                      (expected_total_ != 0 ? std::to_string(expected_total_) : "at least 16") +
                      " bytes received)");
  }
  return {};
}

Result<EventMessage> DecodeMessage(std::string_view frame, size_t max_message_bytes) {
  EventStreamDecoder decoder(max_message_bytes);
  std::vector<EventMessage> messages;
  MG_TRY_VOID(decoder.Feed(frame, messages));
  MG_TRY_VOID(decoder.Finish());
  if (messages.size() != 1) {
    return FrameError("expected exactly one message, found " + std::to_string(messages.size()));
  }
  return std::move(messages.front());
}

// ---------------------------------------------------------------------------------------------
// Encoder

Result<std::string> EncodeMessage(std::span<const EventHeader> headers, std::string_view payload) {
  size_t headers_length = 0;
  for (const auto& h : headers) {
    if (h.name.empty() || h.name.size() > 255) {
      return InvalidArgument("event-stream header name must be 1-255 bytes, got " +
                             std::to_string(h.name.size()));
    }
    headers_length += 2 + h.name.size();
    const size_t value_size = std::visit(
        [](const auto& v) -> size_t {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) return 0;
          else if constexpr (std::is_same_v<T, EventByteArray>) return 2 + v.bytes.size();
          else if constexpr (std::is_same_v<T, std::string>) return 2 + v.size();
          else if constexpr (std::is_same_v<T, EventTimestamp>) return 8;
          else if constexpr (std::is_same_v<T, EventUuid>) return 16;
          else return sizeof(T);
        },
        h.value);
    if (value_size > 2 + std::numeric_limits<uint16_t>::max()) {
      return InvalidArgument("event-stream header '" + h.name +
                             "': value longer than 65535 bytes");
    }
    headers_length += value_size;
  }
  const uint64_t total = kEventStreamMinMessageBytes + headers_length + payload.size();
  if (total > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgument("event-stream message longer than 4 GiB");
  }
  std::string out;
  out.reserve(total);
  AppendU32(out, static_cast<uint32_t>(total));
  AppendU32(out, static_cast<uint32_t>(headers_length));
  AppendU32(out, Crc32(out));
  for (const auto& h : headers) {
    out.push_back(static_cast<char>(h.name.size()));
    out.append(h.name);
    std::visit(
        [&out](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          auto type = [&out](EventHeaderType t) { out.push_back(static_cast<char>(t)); };
          if constexpr (std::is_same_v<T, bool>) {
            type(v ? EventHeaderType::kBoolTrue : EventHeaderType::kBoolFalse);
          } else if constexpr (std::is_same_v<T, int8_t>) {
            type(EventHeaderType::kByte);
            out.push_back(static_cast<char>(v));
          } else if constexpr (std::is_same_v<T, int16_t>) {
            type(EventHeaderType::kShort);
            AppendU16(out, static_cast<uint16_t>(v));
          } else if constexpr (std::is_same_v<T, int32_t>) {
            type(EventHeaderType::kInteger);
            AppendU32(out, static_cast<uint32_t>(v));
          } else if constexpr (std::is_same_v<T, int64_t>) {
            type(EventHeaderType::kLong);
            AppendU64(out, static_cast<uint64_t>(v));
          } else if constexpr (std::is_same_v<T, EventByteArray>) {
            type(EventHeaderType::kByteArray);
            AppendU16(out, static_cast<uint16_t>(v.bytes.size()));
            out.append(v.bytes);
          } else if constexpr (std::is_same_v<T, std::string>) {
            type(EventHeaderType::kString);
            AppendU16(out, static_cast<uint16_t>(v.size()));
            out.append(v);
          } else if constexpr (std::is_same_v<T, EventTimestamp>) {
            type(EventHeaderType::kTimestamp);
            AppendU64(out, static_cast<uint64_t>(v.time_since_epoch().count()));
          } else {
            type(EventHeaderType::kUuid);
            out.append(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size());
          }
        },
        h.value);
  }
  out.append(payload);
  AppendU32(out, Crc32(out));
  return out;
}

}  // namespace mg::aws
