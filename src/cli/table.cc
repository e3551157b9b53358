#include "cli/table.h"

#include <algorithm>

#include "core/check.h"

namespace mg::cli {

std::string SanitizeCell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\t' || c == '\n' || c == '\r') {
      out.push_back(' ');
    } else if (c < 0x20 || c == 0x7f) {
      out.push_back('?');
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      // U+0080-U+009F in UTF-8: C1 controls (CSI is U+009B), which some terminals obey.
      out.push_back('?');
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

size_t DisplayWidth(std::string_view utf8) {
  return static_cast<size_t>(std::count_if(utf8.begin(), utf8.end(), [](char ch) {
    return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;  // not a continuation byte
  }));
}

std::string TruncateToWidth(std::string_view utf8, size_t max_width) {
  if (DisplayWidth(utf8) <= max_width) return std::string(utf8);
  std::string out;
  size_t points = 0;
  for (char ch : utf8) {
    bool starts_point = (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    if (starts_point && ++points > max_width - 1) break;
    out.push_back(ch);
  }
  return out + "\u2026";
}

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), max_widths_(headers_.size(), 0) {}

void Table::LimitWidth(size_t column, size_t max_width) {
  // Callers name their own columns with constants.
  MG_CHECK(column < headers_.size() && max_width >= 2, "bad table width limit");
  max_widths_[column] = max_width;
}

void Table::AddRow(std::vector<std::string> cells) {
  // Every caller builds rows from the same column list it gave the constructor.
  MG_CHECK(cells.size() == headers_.size(), "table row has a different number of cells");
  for (auto& c : cells) c = c.empty() ? std::string("-") : SanitizeCell(c);
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);

  std::vector<std::vector<std::string>> rows = rows_;
  for (auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (max_widths_[i] > 0) row[i] = TruncateToWidth(row[i], max_widths_[i]);
    }
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out.append(widths[i] - DisplayWidth(cells[i]) + 2, ' ');
    }
    out.push_back('\n');
  };
  line(headers_);
  for (const auto& row : rows) line(row);
  return out;
}

std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  // Keys may come from the server too (flattened JSON members).
  std::vector<std::string> keys;
  size_t width = 0;
  for (const auto& field : fields) {
    keys.push_back(SanitizeCell(field.first));
    width = std::max(width, DisplayWidth(keys.back()));
  }
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    out += keys[i];
    out.push_back(':');
    out.append(width - DisplayWidth(keys[i]) + 2, ' ');
    out += fields[i].second.empty() ? std::string("-") : SanitizeCell(fields[i].second);
    out.push_back('\n');
  }
  return out;
}

}  // namespace mg::cli
