#include "server/error_body.h"

#include <boost/json.hpp>

namespace mg::server {

std::string RenderErrorBody(const Error& e, std::string_view request_id) {
  namespace json = boost::json;
  json::object error;
  error["message"] = e.message;
  error["type"] = ErrorType(e.code);
  error["code"] = e.reason.empty() ? std::string("internal_error") : e.reason;
  if (e.param.empty()) {
    error["param"] = nullptr;
  } else {
    error["param"] = e.param;
  }
  json::object body;
  body["error"] = std::move(error);
  body["message"] = e.message;
  body["tpe"] = ErrorTpe(e.code);
  json::object item;
  item["description"] = e.message;
  item["key"] = e.reason.empty() ? std::string("internal_error") : e.reason;
  item["extras"] = json::object();
  body["errors"] = json::array{std::move(item)};
  json::object extras;
  extras["request_id"] = request_id;
  body["extras"] = std::move(extras);
  return json::serialize(body);
}

std::vector<std::pair<std::string, std::string>> ErrorHeaders(const Error& e) {
  std::vector<std::pair<std::string, std::string>> h;
  if (e.retry_after) {
    auto ms = e.retry_after->count();
    if (ms < 0) ms = 0;
    int64_t secs = (ms + 999) / 1000;
    if (secs < 1) secs = 1;
    h.emplace_back("Retry-After", std::to_string(secs));
    h.emplace_back("retry-after-ms", std::to_string(ms));
  }
  if (e.no_retry) h.emplace_back("x-should-retry", "false");
  return h;
}

}  // namespace mg::server
