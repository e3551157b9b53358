// Fuzzes the event-stream decoder with the whole input as the byte stream (so the seed corpus is
// plain recorded ConverseStream bodies, e.g. tests/data/eventstream/*.bin).
//
// Properties checked (a violation aborts, which libFuzzer reports as a crash):
//  1. No crash / UB / leak for any input (ASan + UBSan).
//  2. Split invariance: feeding the bytes whole, one byte at a time, or in pseudo-random pieces
//     gives the same messages and the same final error (or none).
//  3. Round trip: every decoded frame re-encodes byte for byte to the input bytes it came from,
//     and DecodeMessage of those bytes gives the same message back.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "providers/aws/crc32.h"
#include "providers/aws/eventstream.h"

namespace {

using mg::aws::EventMessage;
using mg::aws::EventStreamDecoder;

// Small cap so the fuzzer explores the "message too large" branch too and stays fast.
constexpr size_t kMaxMessageBytes = 64 * 1024;

#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

struct Outcome {
  std::vector<EventMessage> messages;
  bool ok = true;           // no Feed error
  std::string error;        // Feed error message, or the Finish error message
  bool finished_ok = true;  // Finish() succeeded
};

bool SameMessage(const EventMessage& a, const EventMessage& b) {
  return a.headers == b.headers && a.payload == b.payload;
}

// Feeds `input` in pieces whose sizes come from `next_piece`.
template <class NextPiece>
Outcome Decode(std::string_view input, NextPiece next_piece) {
  Outcome o;
  EventStreamDecoder decoder(kMaxMessageBytes);
  while (!input.empty()) {
    const size_t n = std::min(next_piece(), input.size());
    auto r = decoder.Feed(input.substr(0, n), o.messages);
    input.remove_prefix(n);
    if (!r) {
      o.ok = false;
      o.error = r.error().message;
      // A failed decoder stays failed.
      auto again = decoder.Feed("x", o.messages);
      FUZZ_CHECK(!again && again.error().message == o.error);
      break;
    }
  }
  auto fin = decoder.Finish();
  o.finished_ok = fin.has_value();
  if (o.ok && !fin) o.error = fin.error().message;
  FUZZ_CHECK(o.ok || !o.finished_ok);
  return o;
}

void CheckSame(const Outcome& a, const Outcome& b) {
  FUZZ_CHECK(a.messages.size() == b.messages.size());
  for (size_t i = 0; i < a.messages.size(); ++i) {
    FUZZ_CHECK(SameMessage(a.messages[i], b.messages[i]));
  }
  FUZZ_CHECK(a.ok == b.ok);
  FUZZ_CHECK(a.finished_ok == b.finished_ok);
  FUZZ_CHECK(a.error == b.error);
}

uint32_t ReadU32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const Outcome whole = Decode(input, [&] { return input.size(); });
  const Outcome bytewise = Decode(input, [] { return size_t{1}; });
  CheckSame(whole, bytewise);
  // Pseudo-random piece sizes 1..97, seeded by the input so runs are reproducible.
  uint32_t state = mg::aws::Crc32(input) | 1;
  const Outcome random = Decode(input, [&] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return size_t{1} + state % 97;
  });
  CheckSame(whole, random);

  // Round trip: decoded frames are consecutive from the start of the input.
  size_t offset = 0;
  for (const EventMessage& m : whole.messages) {
    FUZZ_CHECK(size - offset >= mg::aws::kEventStreamMinMessageBytes);
    const uint32_t total = ReadU32(data + offset);
    FUZZ_CHECK(total <= size - offset);
    const std::string_view frame = input.substr(offset, total);
    auto encoded = mg::aws::EncodeMessage(m.headers, m.payload);
    FUZZ_CHECK(encoded.has_value());
    FUZZ_CHECK(*encoded == frame);
    auto single = mg::aws::DecodeMessage(frame, kMaxMessageBytes);
    FUZZ_CHECK(single.has_value());
    FUZZ_CHECK(SameMessage(*single, m));
    // Header accessors must be safe on whatever was decoded.
    (void)m.Header(":event-type");
    (void)m.FindHeader(":message-type");
    offset += total;
  }
  if (whole.ok && whole.finished_ok) FUZZ_CHECK(offset == size);
  return 0;
}
