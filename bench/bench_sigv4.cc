// SigV4 (AWS4-HMAC-SHA256) signing and verification of a realistic Bedrock Converse request:
// POST /model/anthropic.claude-3-haiku-20240307-v1:0/converse, ~1 KiB JSON body, temporary
// credentials (session token). Reported as signatures (or verifications) per second.
#include <benchmark/benchmark.h>

#include <chrono>
#include <optional>
#include <string>

#include "providers/aws/sigv4.h"

namespace mg::aws {
namespace {

constexpr std::string_view kAccessKeyId = "ASIAQNZGKIQYEXAMPLE1";
constexpr std::string_view kSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
// The path as sent: the model id label percent-encoded once (':' -> %3A).
constexpr std::string_view kPath = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";

// A deterministic, STS-sized (~800 characters) base64-ish session token.
std::string SessionToken() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string token = "IQoJb3JpZ2luX2VjE";
  uint32_t x = 0x12345678;
  while (token.size() < 808) {
    x = x * 1664525u + 1013904223u;
    token.push_back(kAlphabet[(x >> 24) % 64]);
  }
  token += "==";
  return token;
}

// A Converse body of about 1 KiB: system prompt, a short history, inference config.
std::string ConverseBody() {
  std::string body =
      R"({"messages":[{"role":"user","content":[{"text":"Summarise the following incident )"
      R"(report for the on-call channel in three bullet points."}]},{"role":"assistant",)"
      R"("content":[{"text":"Sure - please paste the report."}]},{"role":"user","content":)"
      R"([{"text":")";
  const std::string_view filler =
      "At 02:14 UTC the eu-west-1 gateway pool began returning 502 responses for roughly 4% "
      "of requests after a configuration push raised the upstream connect timeout. ";
  while (body.size() < 900) body += filler;
  body +=
      R"("}]}],"system":[{"text":"You are a concise assistant for SRE teams."}],)"
      R"("inferenceConfig":{"maxTokens":512,"temperature":0.2,"topP":0.9}})";
  return body;
}

SystemTime Now() {
  // 2024-05-01T12:34:56Z
  return SystemTime(std::chrono::seconds(1714566896));
}

struct Fixture {
  std::string body = ConverseBody();
  std::string token = SessionToken();
  HttpHeaders headers{{"Host", "bedrock-runtime.us-east-1.amazonaws.com"},
                      {"Content-Type", "application/json"},
                      {"Accept", "application/json"},
                      {"User-Agent", "modelgate/0.1"}};
  Credentials credentials{std::string(kAccessKeyId), Secret(std::string(kSecretKey)),
                          Secret(token)};

  SigningRequest Request() const {
    SigningRequest r;
    r.method = "POST";
    r.path = kPath;
    r.headers = headers;
    r.payload = body;
    r.region = "us-east-1";
    r.service = "bedrock";
    r.now = Now();
    return r;
  }
};

// Full signing: body hash, canonical request, key derivation (4 HMACs), signature.
void BM_SigV4_Sign(benchmark::State& state) {
  Fixture f;
  const SigningRequest request = f.Request();
  for (auto _ : state) {
    auto signed_request = SignRequest(request, f.credentials);
    if (!signed_request) {
      state.SkipWithError("SignRequest failed");
      break;
    }
    benchmark::DoNotOptimize(signed_request->authorization.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("body=" + std::to_string(f.body.size()) + "B");
}
BENCHMARK(BM_SigV4_Sign);

// The hot path: signing key derived once per (day, region, service) and cached.
void BM_SigV4_SignWithCachedKey(benchmark::State& state) {
  Fixture f;
  const SigningRequest request = f.Request();
  const SigningKey key = DeriveSigningKey(f.credentials.secret_access_key, "20240501",
                                          "us-east-1", "bedrock");
  for (auto _ : state) {
    auto signed_request =
        SignRequestWithKey(request, kAccessKeyId, f.credentials.session_token, key);
    if (!signed_request) {
      state.SkipWithError("SignRequestWithKey failed");
      break;
    }
    benchmark::DoNotOptimize(signed_request->authorization.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("body=" + std::to_string(f.body.size()) + "B");
}
BENCHMARK(BM_SigV4_SignWithCachedKey);

// Key derivation alone (what the cache saves per request).
void BM_SigV4_DeriveSigningKey(benchmark::State& state) {
  const Secret secret{std::string(kSecretKey)};
  for (auto _ : state) {
    SigningKey key = DeriveSigningKey(secret, "20240501", "us-east-1", "bedrock");
    benchmark::DoNotOptimize(key.bytes().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigV4_DeriveSigningKey);

// Verification as the fake AWS does it: parse Authorization, look the key up, re-sign, compare.
void BM_SigV4_Verify(benchmark::State& state) {
  Fixture f;
  auto signed_request = SignRequest(f.Request(), f.credentials);
  if (!signed_request) {
    state.SkipWithError("SignRequest failed");
    return;
  }
  HttpHeaders received = f.headers;
  for (const auto& h : signed_request->headers_to_set) received.push_back(h);
  const KeyInfo info{Secret(std::string(kSecretKey)), Secret(f.token),
                     Now() + std::chrono::hours(1), false};
  const KeyLookup lookup = [&info](std::string_view id) -> std::optional<KeyInfo> {
    if (id == kAccessKeyId) return info;
    return std::nullopt;
  };
  const ReceivedRequest request{"POST", kPath, "", received, f.body};
  const VerifyPolicy policy{"bedrock", "us-east-1", Now()};
  for (auto _ : state) {
    VerifyResult r = VerifyRequest(request, policy, lookup);
    if (!r) {
      state.SkipWithError("VerifyRequest rejected a valid signature");
      break;
    }
    benchmark::DoNotOptimize(r->access_key_id.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigV4_Verify);

}  // namespace
}  // namespace mg::aws
