#include "cli/encoding.h"

namespace mg::cli {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void AppendEncoded(std::string& out, std::string_view in, bool encode_dots) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) && !(encode_dots && c == '.')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

}  // namespace

std::string EncodePathSegment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  // RFC 3986 §5.2.4: "." and ".." segments are dot-segments that a proxy may resolve away.
  AppendEncoded(out, segment, segment == "." || segment == "..");
  return out;
}

std::string PathWithIds(std::string_view literal_prefix,
                        std::initializer_list<std::string_view> segments) {
  std::string out(literal_prefix);
  for (std::string_view s : segments) {
    out.push_back('/');
    out += EncodePathSegment(s);
  }
  return out;
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out.push_back(out.empty() ? '?' : '&');
    AppendEncoded(out, key, false);
    out.push_back('=');
    AppendEncoded(out, value, false);
  }
  return out;
}

}  // namespace mg::cli
