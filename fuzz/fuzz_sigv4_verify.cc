// Fuzzes SigV4 verification (the fake AWS's request authentication) and the canonicalisation
// helpers. Input layout, '\n'-separated: method, path, query, then "name:value" header lines up
// to an empty line, then the body.
//
//  1. VerifyRequest on the request exactly as given (attacker-controlled Authorization,
//     X-Amz-Date, ...) must not crash, and must never accept it (the fuzzer cannot know the
//     secret; an acceptance would mean the signature is not checked).
//  2. Round trip: when the request is well-formed HTTP (token method and header names, printable
//     path/query/values), signing it with SignRequest and verifying the signed request must
//     succeed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "providers/aws/sigv4.h"

namespace {

using namespace mg::aws;

#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

constexpr std::string_view kKeyId = "AKIAFUZZ000000000000";
const mg::SystemTime kNow{std::chrono::seconds(1714566896)};  // 2024-05-01T12:34:56Z

std::string_view NextLine(std::string_view& rest) {
  const size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}
bool IsPrintable(std::string_view s, bool allow_space) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) {
      if (!(allow_space && (c == ' ' || c == '\t'))) return false;
    }
  }
  return true;
}
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view method = NextLine(rest);
  const std::string_view path = NextLine(rest);
  const std::string_view query = NextLine(rest);
  HttpHeaders headers;
  while (!rest.empty()) {
    const std::string_view line = NextLine(rest);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      headers.emplace_back(std::string(line), std::string());
    } else {
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
  }
  const std::string_view body = rest;

  // Helpers on arbitrary input.
  (void)CanonicalUri(path);
  (void)CanonicalQuery(query);
  (void)NormalizeHeaderValue(body);
  if (auto t = ParseAmzDate(query)) (void)FormatAmzDate(*t);

  const KeyLookup lookup = [](std::string_view id) -> std::optional<KeyInfo> {
    if (id == kKeyId) return KeyInfo{mg::Secret("fuzz-secret"), std::nullopt, std::nullopt, false};
    if (id == "ASIAFUZZ000000000000") {
      return KeyInfo{mg::Secret("temp-secret"), mg::Secret("token"),
                     kNow + std::chrono::minutes(10), false};
    }
    return std::nullopt;
  };

  // 1. As received.
  for (std::string_view service : {"bedrock", "sts"}) {
    const ReceivedRequest received{method, path, query, headers, body};
    VerifyResult r = VerifyRequest(received, VerifyPolicy{service, "us-east-1", kNow}, lookup);
    FUZZ_CHECK(!r.has_value());
  }

  // 2. Sign, then verify.
  if (!IsToken(method) || path.empty() || path[0] != '/' || !IsPrintable(path, false) ||
      !IsPrintable(query, false) || query.find('#') != std::string_view::npos) {
    return 0;
  }
  for (const auto& [name, value] : headers) {
    if (!IsToken(name) || !IsPrintable(value, true)) return 0;
  }
  SigningRequest request;
  request.method = method;
  request.path = path;
  request.query = query;
  request.headers = headers;
  request.payload = body;
  request.region = "us-east-1";
  request.service = "bedrock";
  request.now = kNow;
  auto signed_request =
      SignRequest(request, Credentials{std::string(kKeyId), mg::Secret("fuzz-secret"), {}});
  if (!signed_request) return 0;  // no Host, or a wrong X-Amz-Content-Sha256
  HttpHeaders sent;
  for (const auto& h : headers) {
    // The signer ignores these and supplies its own (or none): the caller must not send stale ones.
    if (EqualsIgnoreCase(h.first, "authorization") || EqualsIgnoreCase(h.first, "x-amz-date") ||
        EqualsIgnoreCase(h.first, "x-amz-security-token")) {
      continue;
    }
    sent.push_back(h);
  }
  for (const auto& s : signed_request->headers_to_set) sent.push_back(s);
  const ReceivedRequest received{method, path, query, sent, body};
  VerifyResult r = VerifyRequest(received, VerifyPolicy{"bedrock", "us-east-1", kNow}, lookup);
  if (!r) {
    std::fprintf(stderr, "round trip rejected: %s: %s\n", r.error().error_name.c_str(),
                 r.error().message.c_str());
  }
  FUZZ_CHECK(r.has_value());
  return 0;
}
