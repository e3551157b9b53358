#include "cli/api_error.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cli/table.h"

namespace mg::cli {
namespace {

namespace json = boost::json;

std::string StringMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->as_string());
}

}  // namespace

ApiError ParseApiError(int status, std::string_view body) {
  ApiError e;
  e.status = status;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const json::value* err = v.as_object().if_contains("error");
    if (err != nullptr && err->is_object()) {
      const json::object& o = err->as_object();
      e.type = StringMember(o, "type");
      e.code = StringMember(o, "code");
      e.message = StringMember(o, "message");
      e.param = StringMember(o, "param");
    }
  }
  if (e.message.empty()) {
    e.message = "the server answered HTTP " + std::to_string(status) + " without an error message";
  }
  return e;
}

std::string FormatApiError(const ApiError& error) {
  std::string out = SanitizeCell(error.message);
  std::string details;
  auto add = [&](std::string_view label, const std::string& value) {
    if (value.empty()) return;
    if (!details.empty()) details += ", ";
    details += std::string(label) + SanitizeCell(value);
  };
  add("param: ", error.param);
  add("code: ", error.code);
  add("HTTP ", std::to_string(error.status));
  return out + " (" + details + ")";
}

}  // namespace mg::cli
