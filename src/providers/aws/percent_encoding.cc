#include "providers/aws/percent_encoding.h"

#include <array>

namespace mg::aws {
namespace {

constexpr std::array<bool, 256> MakeUnreserved() {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  t['-'] = t['_'] = t['.'] = t['~'] = true;
  return t;
}
constexpr std::array<bool, 256> kUnreserved = MakeUnreserved();
constexpr char kHexUpper[] = "0123456789ABCDEF";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

void AppendPercentEncoded(std::string& out, std::string_view in, SlashPolicy slash) {
  const bool keep_slash = slash == SlashPolicy::kKeep;
  for (char ch : in) {
    const auto b = static_cast<unsigned char>(ch);
    if (kUnreserved[b] || (keep_slash && ch == '/')) {
      out.push_back(ch);
    } else {
      const char enc[3] = {'%', kHexUpper[b >> 4], kHexUpper[b & 0x0F]};
      out.append(enc, 3);
    }
  }
}

std::string PercentEncode(std::string_view in, SlashPolicy slash) {
  std::string out;
  out.reserve(in.size() + in.size() / 2);
  AppendPercentEncoded(out, in, slash);
  return out;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi << 4 | lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

}  // namespace mg::aws
