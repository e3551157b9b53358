// @file table.h
// @brief Human output of the client subcommands: aligned tables and "key: value" blocks.
// Text that came from the server is sanitised here, so a name holding a newline or a terminal
// escape sequence can neither break the alignment nor drive the terminal.
//
// Thread-safety: Table is a value type (not synchronised); the functions are pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::cli {

// Replaces what must not reach a terminal: tab, CR and LF become a space; other C0 controls,
// DEL and the C1 controls (U+0080-U+009F) become '?'. Other UTF-8 passes through unchanged.
std::string SanitizeCell(std::string_view text);

// Columns the text takes on a terminal, counted as UTF-8 code points (no wide-glyph tables:
// CJK text may misalign, nothing worse).
size_t DisplayWidth(std::string_view utf8);

// `utf8` cut to at most `max_width` code points, the last being "…" when anything was cut.
std::string TruncateToWidth(std::string_view utf8, size_t max_width);

// A table with a header row: every column is as wide as its widest cell, columns are separated
// by two spaces, the last column is not padded and no line has trailing spaces.
//
//   ID        NAME
//   team_01   research
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // `cells` must have one entry per header (MG_CHECK). Cells are sanitised; an empty cell is
  // shown as "-" so columns stay readable.
  void AddRow(std::vector<std::string> cells);

  // Cells of `column` wider than `max_width` (>= 2) are cut to max_width - 1 code points plus
  // "…", so a long message cannot push a table off the screen (--json has the full text).
  void LimitWidth(size_t column, size_t max_width);

  size_t rows() const { return rows_.size(); }

  // The header line and one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<size_t> max_widths_;  // per column; 0 = unlimited
  std::vector<std::vector<std::string>> rows_;
};

// "key:  value" lines, values aligned two columns after the longest "key:"; keys and values are
// sanitised and empty values shown as "-".
std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace mg::cli
