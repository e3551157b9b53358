#include "cli/json_cells.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cli/table.h"

namespace mg::cli {
namespace {

namespace json = boost::json;

std::string Scalar(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.as_string());
    case json::kind::bool_:
      return v.as_bool() ? "yes" : "no";
    case json::kind::int64:
      return std::to_string(v.as_int64());
    case json::kind::uint64:
      return std::to_string(v.as_uint64());
    case json::kind::double_:
      return json::serialize(v);
    case json::kind::null:
      return {};
    default:
      return json::serialize(v);
  }
}

void Flatten(const json::object& o, const std::string& prefix,
             const std::vector<std::string_view>& skip,
             std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& member : o) {
    std::string_view key = member.key();
    if (prefix.empty() && std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
    std::string path = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
    if (member.value().is_object() && !member.value().as_object().empty()) {
      Flatten(member.value().as_object(), path, {}, out);
    } else {
      out.emplace_back(path, CellText(&member.value()));
    }
  }
}

}  // namespace

const json::value* Find(const json::value& root, std::string_view dotted_path) {
  const json::value* v = &root;
  while (!dotted_path.empty()) {
    size_t dot = dotted_path.find('.');
    std::string_view step = dotted_path.substr(0, dot);
    if (!v->is_object()) return nullptr;
    v = v->as_object().if_contains(step);
    if (v == nullptr) return nullptr;
    dotted_path = dot == std::string_view::npos ? std::string_view() : dotted_path.substr(dot + 1);
  }
  return v;
}

std::string CellText(const json::value* v) {
  if (v == nullptr) return {};
  if (v->is_array()) {
    std::string out;
    for (const json::value& e : v->as_array()) {
      std::string item;
      if (e.is_object()) {
        const json::value* label = e.as_object().if_contains("name");
        if (label == nullptr || !label->is_string() || label->as_string().empty()) {
          label = e.as_object().if_contains("id");
        }
        item = label != nullptr && label->is_string() ? std::string(label->as_string())
                                                      : json::serialize(e);
      } else {
        item = Scalar(e);
      }
      if (!out.empty()) out.push_back(',');
      out += item;
    }
    return out;
  }
  return Scalar(*v);
}

std::string Cell(const json::value& root, std::string_view dotted_path) {
  return CellText(Find(root, dotted_path));
}

std::vector<std::pair<std::string, std::string>> FlattenFields(
    const json::value& root, const std::vector<std::string_view>& skip) {
  std::vector<std::pair<std::string, std::string>> out;
  if (root.is_object()) Flatten(root.as_object(), "", skip, out);
  return out;
}

std::string RenderList(const json::value& answer, std::string_view list,
                       const std::vector<Column>& columns, size_t last_width) {
  std::vector<std::string> headers;
  for (const auto& c : columns) headers.push_back(c.header);
  Table t(std::move(headers));
  if (last_width > 0) t.LimitWidth(columns.size() - 1, last_width);
  if (const json::value* items = Find(answer, list); items != nullptr && items->is_array()) {
    for (const json::value& item : items->as_array()) {
      std::vector<std::string> cells;
      for (const auto& c : columns) cells.push_back(Cell(item, c.path));
      t.AddRow(std::move(cells));
    }
  }
  return t.Render();
}

std::string RenderObject(const json::value& root) { return RenderFields(FlattenFields(root)); }

}  // namespace mg::cli
