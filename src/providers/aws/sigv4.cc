// SigV4 per bedrock.md §3 (and the AWS Signature Version 4 signing process).
#include "providers/aws/sigv4.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include <boost/throw_exception.hpp>

#include "crypto/crypto.h"
#include "providers/aws/percent_encoding.h"

namespace mg::aws {
namespace {

using std::string_view_literals::operator""sv;

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string ToLower(std::string_view s) {
  std::string out(s.size(), '\0');
  std::transform(s.begin(), s.end(), out.begin(), ToLowerAscii);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view KeyView(const std::array<uint8_t, 32>& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// One canonical header: lower-case name and its normalised value(s), already joined with ','.
struct CanonicalHeader {
  std::string name;
  std::string value;
};

void AppendDigits(std::string& out, unsigned value, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

// Sorts by name (stable, so repeated names keep their order) and joins repeated names with ','.
std::vector<CanonicalHeader> MergeSorted(std::vector<CanonicalHeader> headers) {
  std::stable_sort(headers.begin(), headers.end(),
                   [](const CanonicalHeader& a, const CanonicalHeader& b) { return a.name < b.name; });
  std::vector<CanonicalHeader> merged;
  merged.reserve(headers.size());
  for (auto& h : headers) {
    if (!merged.empty() && merged.back().name == h.name) {
      merged.back().value.push_back(',');
      merged.back().value.append(h.value);
    } else {
      merged.push_back(std::move(h));
    }
  }
  return merged;
}

std::string JoinSignedHeaders(const std::vector<CanonicalHeader>& headers) {
  std::string out;
  for (const auto& h : headers) {
    if (!out.empty()) out.push_back(';');
    out.append(h.name);
  }
  return out;
}

// §3 step 6.
std::string BuildCanonicalRequest(std::string_view method, std::string_view path,
                                  std::string_view query,
                                  const std::vector<CanonicalHeader>& headers,
                                  std::string_view signed_headers, std::string_view payload_hash) {
  size_t size = method.size() + path.size() * 2 + query.size() * 2 + signed_headers.size() +
                payload_hash.size() + 8;
  for (const auto& h : headers) size += h.name.size() + h.value.size() + 2;
  std::string out;
  out.reserve(size);
  out.append(method);
  out.push_back('\n');
  out.append(CanonicalUri(path));
  out.push_back('\n');
  out.append(CanonicalQuery(query));
  out.push_back('\n');
  for (const auto& h : headers) {
    out.append(h.name);
    out.push_back(':');
    out.append(h.value);
    out.push_back('\n');
  }
  out.push_back('\n');
  out.append(signed_headers);
  out.push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string BuildScope(std::string_view date, std::string_view region, std::string_view service) {
  std::string scope;
  scope.reserve(date.size() + region.size() + service.size() + 16);
  scope.append(date).append("/").append(region).append("/").append(service).append(
      "/aws4_request");
  return scope;
}

std::string BuildStringToSign(std::string_view amz_date, std::string_view scope,
                              std::string_view canonical_request) {
  std::string out;
  out.reserve(kSigV4Algorithm.size() + amz_date.size() + scope.size() + 64 + 3);
  out.append(kSigV4Algorithm).append("\n").append(amz_date).append("\n").append(scope).append(
      "\n");
  out.append(crypto::Sha256Hex(canonical_request));
  return out;
}

Result<SignedRequest> SignCore(const SigningRequest& request, std::string_view access_key_id,
                               const std::optional<Secret>& session_token,
                               const SigningKey* cached_key, const Secret* secret) {
  SignedRequest out;
  out.amz_date = FormatAmzDate(request.now);
  const std::string_view date = std::string_view(out.amz_date).substr(0, 8);

  std::string payload_hash = request.payload_sha256_hex.empty()
                                 ? crypto::Sha256Hex(request.payload)
                                 : std::string(request.payload_sha256_hex);

  const bool has_token = session_token.has_value();
  std::vector<CanonicalHeader> headers;
  headers.reserve(request.headers.size() + 2);
  bool has_host = false;
  for (const auto& [raw_name, raw_value] : request.headers) {
    std::string name = ToLower(raw_name);
    if (IsNeverSignedHeader(name) || name == "x-amz-date"sv) continue;
    if (has_token && name == "x-amz-security-token"sv) continue;
    if (name == "host"sv) has_host = true;
    std::string value = NormalizeHeaderValue(raw_value);
    if (name == "x-amz-content-sha256"sv && value != payload_hash) {
      return InvalidArgument(
          "x-amz-content-sha256 header does not match the SHA-256 of the payload being signed",
          "x-amz-content-sha256");
    }
    headers.push_back({std::move(name), std::move(value)});
  }
  if (!has_host) {
    return InvalidArgument("SigV4: the request has no Host header; set it before signing",
                           "host");
  }
  headers.push_back({"x-amz-date", out.amz_date});
  if (has_token) headers.push_back({"x-amz-security-token", std::string(session_token->Reveal())});
  headers = MergeSorted(std::move(headers));

  out.signed_headers = JoinSignedHeaders(headers);
  out.canonical_request = BuildCanonicalRequest(request.method, request.path, request.query,
                                                headers, out.signed_headers, payload_hash);
  const std::string scope = BuildScope(date, request.region, request.service);
  out.string_to_sign = BuildStringToSign(out.amz_date, scope, out.canonical_request);

  std::optional<SigningKey> derived;
  if (cached_key == nullptr) {
    derived.emplace(DeriveSigningKey(*secret, date, request.region, request.service));
    cached_key = &*derived;
  } else if (cached_key->date() != date || cached_key->region() != request.region ||
             cached_key->service() != request.service) {
    return InvalidArgument("SigV4: cached signing key is for " + std::string(cached_key->date()) +
                           "/" + std::string(cached_key->region()) + "/" +
                           std::string(cached_key->service()) + " but the request needs " +
                           scope + "; derive a new key");
  }
  out.signature = crypto::HmacSha256Hex(KeyView(cached_key->bytes()), out.string_to_sign);

  out.authorization.reserve(kSigV4Algorithm.size() + access_key_id.size() + scope.size() +
                            out.signed_headers.size() + out.signature.size() + 48);
  out.authorization.append(kSigV4Algorithm)
      .append(" Credential=")
      .append(access_key_id)
      .append("/")
      .append(scope)
      .append(", SignedHeaders=")
      .append(out.signed_headers)
      .append(", Signature=")
      .append(out.signature);

  out.headers_to_set.reserve(3);
  out.headers_to_set.emplace_back("X-Amz-Date", out.amz_date);
  if (has_token) {
    out.headers_to_set.emplace_back("X-Amz-Security-Token", std::string(session_token->Reveal()));
  }
  out.headers_to_set.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SigningKey

SigningKey::SigningKey(const std::array<uint8_t, 32>& bytes, std::string date, std::string region,
                       std::string service)
    : bytes_(bytes), date_(std::move(date)), region_(std::move(region)),
      service_(std::move(service)) {}

SigningKey::~SigningKey() { crypto::Cleanse(bytes_.data(), bytes_.size()); }

std::string SigningKey::Hex() const { return crypto::HexEncode(std::span<const uint8_t>(bytes_)); }

SigningKey DeriveSigningKey(const Secret& secret, std::string_view date, std::string_view region,
                            std::string_view service) {
  // §3 step 8: kDate = HMAC("AWS4"+secret, date), then region, service, "aws4_request".
  std::string seed;
  seed.reserve(4 + secret.size());
  seed.append("AWS4").append(secret.Reveal());
  auto k = crypto::HmacSha256(seed, date);
  crypto::Cleanse(seed.data(), seed.size());
  k = crypto::HmacSha256(KeyView(k), region);
  k = crypto::HmacSha256(KeyView(k), service);
  k = crypto::HmacSha256(KeyView(k), "aws4_request");
  SigningKey key(k, std::string(date), std::string(region), std::string(service));
  crypto::Cleanse(k.data(), k.size());
  return key;
}

Result<SignedRequest> SignRequest(const SigningRequest& request, const Credentials& credentials) {
  return SignCore(request, credentials.access_key_id, credentials.session_token, nullptr,
                  &credentials.secret_access_key);
}

Result<SignedRequest> SignRequestWithKey(const SigningRequest& request,
                                         std::string_view access_key_id,
                                         const std::optional<Secret>& session_token,
                                         const SigningKey& key) {
  return SignCore(request, access_key_id, session_token, &key, nullptr);
}

// ---------------------------------------------------------------------------------------------
// Canonical pieces

std::string FormatAmzDate(SystemTime t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  std::string out;
  out.reserve(16);
  AppendDigits(out, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
  AppendDigits(out, static_cast<unsigned>(ymd.month()), 2);
  AppendDigits(out, static_cast<unsigned>(ymd.day()), 2);
  out.push_back('T');
  AppendDigits(out, static_cast<unsigned>(hms.hours().count()), 2);
  AppendDigits(out, static_cast<unsigned>(hms.minutes().count()), 2);
  AppendDigits(out, static_cast<unsigned>(hms.seconds().count()), 2);
  out.push_back('Z');
  return out;
}

std::optional<SystemTime> ParseAmzDate(std::string_view s) {
  using namespace std::chrono;
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2),
             se = num(13, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  return SystemTime(sys_days(ymd) + hours(*h) + minutes(*mi) + seconds(*se));
}

std::string CanonicalUri(std::string_view wire_path) {
  // Normalise: drop empty and "." segments, ".." removes the previous one.
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= wire_path.size()) {
    size_t end = wire_path.find('/', start);
    if (end == std::string_view::npos) end = wire_path.size();
    const std::string_view seg = wire_path.substr(start, end - start);
    if (seg == ".."sv) {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != "."sv) {
      segments.push_back(seg);
    }
    start = end + 1;
  }
  std::string out;
  out.reserve(wire_path.size() + wire_path.size() / 2 + 1);
  for (const auto seg : segments) {
    out.push_back('/');
    AppendPercentEncoded(out, seg, SlashPolicy::kEncode);
  }
  if (!segments.empty() && wire_path.back() == '/') out.push_back('/');
  if (out.empty()) out.push_back('/');
  return out;
}

std::string CanonicalQuery(std::string_view raw_query) {
  if (raw_query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= raw_query.size()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    const std::string_view item = raw_query.substr(start, end - start);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      const std::string_view name = item.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      params.emplace_back(PercentEncode(PercentDecode(name)), PercentEncode(PercentDecode(value)));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());  // by encoded name, then encoded value
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string NormalizeHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = !out.empty();  // leading whitespace is dropped
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool IsNeverSignedHeader(std::string_view lower_name) {
  static constexpr std::string_view kNeverSigned[] = {
      "authorization", "user-agent", "expect", "transfer-encoding", "connection",
      "x-amzn-trace-id"};
  return std::find(std::begin(kNeverSigned), std::end(kNeverSigned), lower_name) !=
         std::end(kNeverSigned);
}

// ---------------------------------------------------------------------------------------------
// Verification

void throw_exception_from_error(const AuthFailure& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error("SigV4 verification failed: " + e.error_name),
                         loc);
}

namespace {

struct ParsedAuthorization {
  std::string_view access_key_id;
  std::string_view date;
  std::string_view region;
  std::string_view service;
  std::string_view terminator;
  std::string_view signed_headers;
  std::string_view signature;
};

AuthFailure MakeFailure(AuthErrorKind kind, std::string_view service, std::string message) {
  // Bedrock speaks the JSON protocol (…Exception names); STS the query protocol.
  const bool sts = service == "sts"sv;
  AuthFailure f{kind, {}, 403, std::move(message)};
  switch (kind) {
    case AuthErrorKind::kMissingAuthenticationToken:
      f.error_name = sts ? "MissingAuthenticationToken" : "MissingAuthenticationTokenException";
      break;
    case AuthErrorKind::kIncompleteSignature:
      f.error_name = sts ? "IncompleteSignature" : "IncompleteSignatureException";
      if (sts) f.http_status = 400;
      break;
    case AuthErrorKind::kUnrecognizedClient:
      f.error_name = sts ? "InvalidClientTokenId" : "UnrecognizedClientException";
      break;
    case AuthErrorKind::kInvalidSignature:
      f.error_name = sts ? "SignatureDoesNotMatch" : "InvalidSignatureException";
      break;
    case AuthErrorKind::kExpiredToken:
      f.error_name = sts ? "ExpiredToken" : "ExpiredTokenException";
      if (sts) f.http_status = 400;
      break;
  }
  return f;
}

std::optional<std::string_view> FindHeader(std::span<const HttpHeader> headers,
                                           std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, lower_name)) return TrimSpaces(value);
  }
  return std::nullopt;
}

// "AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request,
//  SignedHeaders=a;b, Signature=<hex>": the three parts in any order, separated by ',' and
// optional spaces. On failure returns the AWS-style message.
std::variant<ParsedAuthorization, std::string> ParseAuthorization(std::string_view value) {
  const size_t sp = value.find(' ');
  const std::string_view algorithm = value.substr(0, sp);
  if (algorithm != kSigV4Algorithm) {
    return "Unsupported AWS 'algorithm': '" + std::string(algorithm) +
           "'; expected 'AWS4-HMAC-SHA256'.";
  }
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : value.substr(sp + 1);
  std::optional<std::string_view> credential, signed_headers, signature;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view part = TrimSpaces(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return "Authorization header has a component without '=': '" + std::string(part) + "'.";
    }
    const std::string_view key = part.substr(0, eq);
    const std::string_view val = part.substr(eq + 1);
    if (key == "Credential"sv) credential = val;
    else if (key == "SignedHeaders"sv) signed_headers = val;
    else if (key == "Signature"sv) signature = val;
  }
  std::string missing;
  if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!missing.empty()) {
    missing.pop_back();
    return missing;
  }
  ParsedAuthorization p;
  std::string_view parts[5];
  std::string_view c = *credential;
  size_t n = 0;
  while (n < 5) {
    const size_t slash = c.find('/');
    parts[n++] = c.substr(0, slash);
    if (slash == std::string_view::npos) break;
    c = c.substr(slash + 1);
    if (n == 5) return std::string("Credential has too many '/'-separated parts.");
  }
  if (n != 5 || parts[0].empty()) {
    return "Credential should be '<access key id>/<date>/<region>/<service>/aws4_request', "
           "got '" + std::string(*credential) + "'.";
  }
  p.access_key_id = parts[0];
  p.date = parts[1];
  p.region = parts[2];
  p.service = parts[3];
  p.terminator = parts[4];
  p.signed_headers = *signed_headers;
  p.signature = *signature;
  if (p.signed_headers.empty() || p.signature.empty()) {
    return std::string("Authorization header has an empty 'SignedHeaders' or 'Signature'.");
  }
  return p;
}

std::string FormatSkewMessage(SystemTime signed_at, SystemTime now,
                              std::chrono::seconds max_skew) {
  const auto minutes = std::to_string(max_skew.count() / 60);
  if (signed_at < now) {
    // AWS: "Signature expired: 20240501T123456Z is now earlier than 20240501T124000Z
    // (20240501T124500Z - 5 min.)"
    return "Signature expired: " + FormatAmzDate(signed_at) + " is now earlier than " +
           FormatAmzDate(now - max_skew) + " (" + FormatAmzDate(now) + " - " + minutes +
           " min.)";
  }
  return "Signature not yet current: " + FormatAmzDate(signed_at) + " is still later than " +
         FormatAmzDate(now + max_skew) + " (" + FormatAmzDate(now) + " + " + minutes + " min.)";
}

}  // namespace

VerifyResult VerifyRequest(const ReceivedRequest& request, const VerifyPolicy& policy,
                           const KeyLookup& lookup) {
  const std::string_view svc = policy.service;
  auto fail = [&](AuthErrorKind kind, std::string message) {
    return MakeFailure(kind, svc, std::move(message));
  };

  const auto authorization = FindHeader(request.headers, "authorization");
  if (!authorization || authorization->empty()) {
    return fail(AuthErrorKind::kMissingAuthenticationToken,
                svc == "sts"sv ? "Request is missing Authentication Token"
                               : "Missing Authentication Token");
  }
  auto parsed_or_message = ParseAuthorization(*authorization);
  if (auto* message = std::get_if<std::string>(&parsed_or_message)) {
    return fail(AuthErrorKind::kIncompleteSignature, std::move(*message));
  }
  const auto& auth = std::get<ParsedAuthorization>(parsed_or_message);

  const auto amz_date = FindHeader(request.headers, "x-amz-date");
  if (!amz_date) {
    return fail(AuthErrorKind::kIncompleteSignature,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header.");
  }
  const auto signed_at = ParseAmzDate(*amz_date);
  if (!signed_at) {
    return fail(AuthErrorKind::kIncompleteSignature,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
  }

  // Scope checks (AWS answers these with the signature-mismatch error).
  if (auth.date != amz_date->substr(0, 8)) {
    return fail(AuthErrorKind::kInvalidSignature,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                "from HTTP: '" + std::string(auth.date) + "' != '" +
                    std::string(amz_date->substr(0, 8)) + "', from 'x-amz-date'.");
  }
  if (auth.region != policy.region) {
    return fail(AuthErrorKind::kInvalidSignature,
                "Credential should be scoped to a valid region, not '" + std::string(auth.region) +
                    "'. ");
  }
  if (auth.service != policy.service) {
    return fail(AuthErrorKind::kInvalidSignature,
                "Credential should be scoped to correct service: '" + std::string(policy.service) +
                    "'. ");
  }
  if (auth.terminator != "aws4_request"sv) {
    return fail(AuthErrorKind::kInvalidSignature,
                "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                    std::string(auth.terminator) + "'. ");
  }

  std::optional<KeyInfo> key = lookup(auth.access_key_id);
  if (!key || key->revoked) {
    return fail(AuthErrorKind::kUnrecognizedClient,
                "The security token included in the request is invalid.");
  }

  if (*signed_at < policy.now - policy.max_clock_skew ||
      *signed_at > policy.now + policy.max_clock_skew) {
    return fail(AuthErrorKind::kInvalidSignature,
                FormatSkewMessage(*signed_at, policy.now, policy.max_clock_skew));
  }

  const auto token = FindHeader(request.headers, "x-amz-security-token");
  if (key->session_token.has_value()) {
    if (!token || !crypto::ConstantTimeEqual(*token, key->session_token->Reveal())) {
      return fail(AuthErrorKind::kUnrecognizedClient,
                  "The security token included in the request is invalid.");
    }
    if (key->expires_at && policy.now >= *key->expires_at) {
      return fail(AuthErrorKind::kExpiredToken,
                  "The security token included in the request is expired");
    }
  } else if (token) {
    // A session token sent with a long-term key: AWS rejects the token.
    return fail(AuthErrorKind::kUnrecognizedClient,
                "The security token included in the request is invalid.");
  }

  // Canonical headers in the order SignedHeaders lists them (the signer sorted them).
  std::vector<CanonicalHeader> headers;
  bool host_signed = false;
  std::string_view list = auth.signed_headers;
  while (!list.empty()) {
    const size_t semi = list.find(';');
    const std::string_view name = list.substr(0, semi);
    list = semi == std::string_view::npos ? std::string_view() : list.substr(semi + 1);
    if (name == "host"sv) host_signed = true;
    CanonicalHeader h{std::string(name), {}};
    bool first = true;
    for (const auto& [raw_name, raw_value] : request.headers) {
      if (!EqualsIgnoreCase(raw_name, name)) continue;
      if (!first) h.value.push_back(',');
      h.value.append(NormalizeHeaderValue(raw_value));
      first = false;
    }
    headers.push_back(std::move(h));
  }
  if (!host_signed) {
    return fail(AuthErrorKind::kIncompleteSignature,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  const std::string body_hash = crypto::Sha256Hex(request.body);
  if (const auto content_sha = FindHeader(request.headers, "x-amz-content-sha256")) {
    if (*content_sha != body_hash) {
      return fail(AuthErrorKind::kInvalidSignature,
                  "The provided 'x-amz-content-sha256' header does not match what was "
                  "computed.");
    }
  }

  const std::string canonical = BuildCanonicalRequest(request.method, request.path, request.query,
                                                      headers, auth.signed_headers, body_hash);
  const std::string scope = BuildScope(auth.date, auth.region, auth.service);
  const std::string string_to_sign = BuildStringToSign(*amz_date, scope, canonical);
  const SigningKey signing_key =
      DeriveSigningKey(key->secret, auth.date, auth.region, auth.service);
  const std::string expected = crypto::HmacSha256Hex(KeyView(signing_key.bytes()), string_to_sign);
  if (!crypto::ConstantTimeEqual(expected, auth.signature)) {
    return fail(AuthErrorKind::kInvalidSignature,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
  }
  return VerifiedRequest{std::string(auth.access_key_id), std::string(auth.signed_headers),
                         key->session_token.has_value()};
}

}  // namespace mg::aws
