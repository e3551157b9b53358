// @file json_cells.h
// @brief Turning admin-API JSON into table cells and "key: value" fields for human output.
// (`--json` output never goes through here: it is the API's body, unchanged.)
//
// Thread-safety: pure functions over borrowed values.
#pragma once

#include <boost/json/fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::cli {

// The member at a dotted path ("health.status") of an object, or nullptr when any step is
// missing or not an object.
const boost::json::value* Find(const boost::json::value& root, std::string_view dotted_path);

// Text for one cell: a string as is; true/false as "yes"/"no"; a number in decimal; null or
// missing as "" (shown "-"); an array of scalars joined with ","; an array of objects by each
// one's "name" (else "id") joined with ","; any other object as compact JSON.
std::string CellText(const boost::json::value* v);

// CellText(Find(root, dotted_path)).
std::string Cell(const boost::json::value& root, std::string_view dotted_path);

// Flattens an object for RenderFields: nested objects become dotted keys ("auth.type"), other
// values go through CellText. Members named in `skip` (top level only) are left out.
std::vector<std::pair<std::string, std::string>> FlattenFields(
    const boost::json::value& root, const std::vector<std::string_view>& skip = {});

// One table column: its header and the dotted path of each row's cell.
struct Column {
  std::string header;
  std::string path;
};

// `answer`'s array at `list` as a table of these columns (no rows when it is missing); the last
// column is cut at `last_width` code points when that is not 0.
std::string RenderList(const boost::json::value& answer, std::string_view list,
                       const std::vector<Column>& columns, size_t last_width = 0);

// One object as "key: value" lines (FlattenFields, then RenderFields).
std::string RenderObject(const boost::json::value& root);

}  // namespace mg::cli
