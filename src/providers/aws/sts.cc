// STS AssumeRole per bedrock.md §2.1.
#include "providers/aws/sts.h"

#include <cctype>
#include <cstdint>

#include "core/time.h"
#include "providers/aws/percent_encoding.h"

namespace mg::aws {
namespace {

using std::string_view_literals::operator""sv;

constexpr int kMaxXmlDepth = 32;

bool IsSessionNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '=' ||
         c == ',' || c == '.' || c == '@' || c == '-';
}

bool IsExternalIdChar(char c) { return IsSessionNameChar(c) || c == ':' || c == '/'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Error XmlError(std::string what) {
  return Error(ErrorCode::kUpstreamError, "upstream_error", "sts: malformed XML: " + what);
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class XmlReader {
 public:
  explicit XmlReader(std::string_view in) : in_(in) {}

  Result<XmlElement> Document() {
    MG_TRY_VOID(SkipMisc());
    if (pos_ >= in_.size() || in_[pos_] != '<') return XmlError("no root element");
    XmlElement root;
    MG_TRY_VOID(Element(root, 1));
    MG_TRY_VOID(SkipMisc());
    if (pos_ != in_.size()) return XmlError("content after the root element");
    return root;
  }

 private:
  bool StartsWith(std::string_view s) const { return in_.substr(pos_, s.size()) == s; }

  Result<void> SkipPast(std::string_view terminator, std::string_view what) {
    const size_t end = in_.find(terminator, pos_);
    if (end == std::string_view::npos) return XmlError("unterminated " + std::string(what));
    pos_ = end + terminator.size();
    return {};
  }

  // Whitespace, comments, processing instructions (prolog and epilog).
  Result<void> SkipMisc() {
    while (pos_ < in_.size()) {
      if (std::isspace(static_cast<unsigned char>(in_[pos_]))) {
        ++pos_;
      } else if (StartsWith("<?")) {
        MG_TRY_VOID(SkipPast("?>", "processing instruction"));
      } else if (StartsWith("<!--")) {
        MG_TRY_VOID(SkipPast("-->", "comment"));
      } else if (StartsWith("<!")) {
        return XmlError("DOCTYPE and declarations are not accepted");
      } else {
        break;
      }
    }
    return {};
  }

  std::string_view Name() {
    const size_t start = pos_;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '>' || c == '=' ||
          c == '<') {
        break;
      }
      ++pos_;
    }
    return in_.substr(start, pos_ - start);
  }

  static std::string_view LocalName(std::string_view qname) {
    const size_t colon = qname.rfind(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
  }

  Result<void> Entity(std::string& out) {
    const size_t semi = in_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return XmlError("bad entity");
    const std::string_view ent = in_.substr(pos_ + 1, semi - pos_ - 1);
    pos_ = semi + 1;
    if (ent == "amp"sv)
      out.push_back('&');
    else if (ent == "lt"sv)
      out.push_back('<');
    else if (ent == "gt"sv)
      out.push_back('>');
    else if (ent == "quot"sv)
      out.push_back('"');
    else if (ent == "apos"sv)
      out.push_back('\'');
    else if (ent.size() >= 2 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      const std::string_view digits = ent.substr(hex ? 2 : 1);
      if (digits.empty()) return XmlError("bad character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        int v;
        if (c >= '0' && c <= '9')
          v = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
          v = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F')
          v = c - 'A' + 10;
        else
          return XmlError("bad character reference");
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) return XmlError("bad character reference");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return XmlError("bad character reference");
      AppendUtf8(out, cp);
    } else {
      return XmlError("unknown entity");
    }
    return {};
  }

  // At '<' of a start tag.
  Result<void> Element(XmlElement& el, int depth) {
    if (depth > kMaxXmlDepth) return XmlError("nesting too deep");
    ++pos_;  // '<'
    const std::string_view qname = Name();
    if (qname.empty()) return XmlError("element without a name");
    el.name = std::string(LocalName(qname));
    // Attributes: skipped, honouring quotes.
    while (true) {
      if (pos_ >= in_.size()) return XmlError("unterminated start tag");
      const char c = in_[pos_];
      if (c == '"' || c == '\'') {
        const size_t close = in_.find(c, pos_ + 1);
        if (close == std::string_view::npos) return XmlError("unterminated attribute value");
        pos_ = close + 1;
      } else if (c == '/') {
        if (!StartsWith("/>")) return XmlError("stray '/' in a start tag");
        pos_ += 2;
        return {};
      } else if (c == '>') {
        ++pos_;
        break;
      } else if (c == '<') {
        return XmlError("'<' inside a start tag");
      } else {
        ++pos_;
      }
    }
    // Content.
    while (true) {
      if (pos_ >= in_.size()) return XmlError("unclosed element <" + el.name + ">");
      const char c = in_[pos_];
      if (c == '&') {
        MG_TRY_VOID(Entity(el.text));
      } else if (c != '<') {
        el.text.push_back(c);
        ++pos_;
      } else if (StartsWith("</")) {
        pos_ += 2;
        const std::string_view close = Name();
        while (pos_ < in_.size() && std::isspace(static_cast<unsigned char>(in_[pos_]))) ++pos_;
        if (pos_ >= in_.size() || in_[pos_] != '>') return XmlError("bad end tag");
        ++pos_;
        if (close != qname) return XmlError("mismatched end tag for <" + el.name + ">");
        return {};
      } else if (StartsWith("<!--")) {
        MG_TRY_VOID(SkipPast("-->", "comment"));
      } else if (StartsWith("<![CDATA[")) {
        pos_ += 9;
        const size_t end = in_.find("]]>", pos_);
        if (end == std::string_view::npos) return XmlError("unterminated CDATA");
        el.text.append(in_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (StartsWith("<?")) {
        MG_TRY_VOID(SkipPast("?>", "processing instruction"));
      } else if (StartsWith("<!")) {
        return XmlError("declarations are not accepted");
      } else {
        el.children.emplace_back();
        MG_TRY_VOID(Element(el.children.back(), depth + 1));
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

Error Protocol(std::string_view detail) { return ProtocolFailure(detail).error; }

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

Result<XmlElement> ParseXml(std::string_view xml) { return XmlReader(xml).Document(); }

Result<void> ValidateRoleSessionName(std::string_view name) {
  if (name.size() < 2 || name.size() > 64) {
    return InvalidArgument("role session name must be 2-64 characters", "role_session_name");
  }
  for (char c : name) {
    if (!IsSessionNameChar(c)) {
      return InvalidArgument("role session name may only contain letters, digits and _+=,.@-",
                             "role_session_name");
    }
  }
  return {};
}

Result<void> ValidateExternalId(std::string_view external_id) {
  if (external_id.size() < 2 || external_id.size() > 1224) {
    return InvalidArgument("external id must be 2-1224 characters", "external_id");
  }
  for (char c : external_id) {
    if (!IsExternalIdChar(c)) {
      return InvalidArgument("external id may only contain letters, digits and _+=,.@:/-",
                             "external_id");
    }
  }
  return {};
}

Result<void> ValidateAssumeRoleParams(const AssumeRoleParams& params) {
  if (params.role_arn.size() < 20 || params.role_arn.size() > 2048 ||
      params.role_arn.rfind("arn:", 0) != 0) {
    return InvalidArgument("role ARN must look like arn:aws:iam::<account>:role/<name>",
                           "role_arn");
  }
  for (char c : params.role_arn) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      return InvalidArgument("role ARN must not contain spaces or control characters", "role_arn");
    }
  }
  if (!params.role_session_name.empty()) {
    MG_TRY_VOID(ValidateRoleSessionName(params.role_session_name));
  }
  if (params.external_id) MG_TRY_VOID(ValidateExternalId(*params.external_id));
  if (params.duration_seconds &&
      (*params.duration_seconds < 900 || *params.duration_seconds > 43200)) {
    return InvalidArgument("duration must be 900-43200 seconds", "duration_seconds");
  }
  return {};
}

std::string BuildAssumeRoleBody(const AssumeRoleParams& params) {
  std::string body = "Action=AssumeRole&Version=2011-06-15&RoleArn=";
  AppendPercentEncoded(body, params.role_arn);
  body += "&RoleSessionName=";
  AppendPercentEncoded(
      body, params.role_session_name.empty() ? kDefaultRoleSessionName : params.role_session_name);
  if (params.external_id) {
    body += "&ExternalId=";
    AppendPercentEncoded(body, *params.external_id);
  }
  if (params.duration_seconds) {
    body += "&DurationSeconds=" + std::to_string(*params.duration_seconds);
  }
  return body;
}

Result<StsHttpRequest> BuildAssumeRoleRequest(const AssumeRoleParams& params,
                                              const Endpoint& endpoint, const Credentials& source,
                                              SystemTime now) {
  MG_TRY_VOID(ValidateAssumeRoleParams(params));
  if (source.access_key_id.empty() || source.secret_access_key.empty()) {
    return InvalidArgument(
        "the gateway has no AWS credentials of its own (AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY) to assume the role with",
        "AWS_ACCESS_KEY_ID");
  }
  StsHttpRequest out;
  out.method = "POST";
  out.path = endpoint.PathFor("/");
  out.url = endpoint.UrlFor("/");
  out.body = BuildAssumeRoleBody(params);
  out.headers = {{"Host", endpoint.host_header},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  SigningRequest sr;
  sr.method = out.method;
  sr.path = out.path;
  sr.headers = out.headers;
  sr.payload = out.body;
  sr.region = endpoint.signing_region;
  sr.service = endpoint.signing_service;
  sr.now = now;
  MG_TRY(SignedRequest signed_request, SignRequest(sr, source));
  for (auto& h : signed_request.headers_to_set) out.headers.push_back(std::move(h));
  return out;
}

Result<AssumedRole> ParseAssumeRoleResponse(std::string_view xml) {
  auto doc = ParseXml(xml);
  if (!doc) return Protocol("STS AssumeRole reply: " + doc.error().message);
  if (doc->name != "AssumeRoleResponse"sv) {
    return Protocol("STS AssumeRole reply: root element is <" + doc->name +
                    ">, expected <AssumeRoleResponse>");
  }
  const XmlElement* result = doc->Child("AssumeRoleResult");
  const XmlElement* creds = result ? result->Child("Credentials") : nullptr;
  if (creds == nullptr) return Protocol("STS AssumeRole reply has no AssumeRoleResult/Credentials");
  auto field = [&](std::string_view name) -> std::optional<std::string_view> {
    const XmlElement* e = creds->Child(name);
    if (e == nullptr) return std::nullopt;
    const std::string_view v = Trim(e->text);
    if (v.empty()) return std::nullopt;
    return v;
  };
  const auto key_id = field("AccessKeyId");
  const auto secret = field("SecretAccessKey");
  const auto token = field("SessionToken");
  const auto expiration = field("Expiration");
  for (const auto& [value, name] :
       {std::pair{key_id, "AccessKeyId"}, std::pair{secret, "SecretAccessKey"},
        std::pair{token, "SessionToken"}, std::pair{expiration, "Expiration"}}) {
    if (!value) return Protocol(std::string("STS AssumeRole reply lacks Credentials/") + name);
  }
  const auto expires = ParseRfc3339(*expiration);
  if (!expires) return Protocol("STS AssumeRole reply has a malformed Expiration");
  AssumedRole out;
  out.credentials.access_key_id = std::string(*key_id);
  out.credentials.secret_access_key = Secret(std::string(*secret));
  out.credentials.session_token = Secret(std::string(*token));
  out.expiration = *expires;
  if (const XmlElement* user = result->Child("AssumedRoleUser")) {
    if (const XmlElement* arn = user->Child("Arn")) out.assumed_role_arn = Trim(arn->text);
  }
  return out;
}

AwsError ParseStsError(int http_status, std::string_view xml) {
  AwsError out;
  out.http_status = http_status;
  auto doc = ParseXml(xml);
  if (!doc || doc->name != "ErrorResponse"sv) return out;
  const XmlElement* error = doc->Child("Error");
  if (error == nullptr) return out;
  if (const XmlElement* code = error->Child("Code")) out.name = CleanAwsErrorName(code->text);
  if (const XmlElement* message = error->Child("Message")) {
    out.message = std::string(Trim(message->text));
  }
  return out;
}

AwsErrorClass ClassifyStsError(int http_status, std::string_view xml) {
  return ClassifyAwsError(ParseStsError(http_status, xml));
}

}  // namespace mg::aws
