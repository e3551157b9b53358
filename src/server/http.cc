#include "server/http.h"

#include <algorithm>
#include <set>

#include "core/check.h"
#include "server/error_body.h"

namespace mg::server {
namespace {

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits a path ("/a/b") into raw segments ("a", "b"). "/" yields no segment. The caller has
// already removed one trailing slash.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      break;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// Finds `name` in a raw query string. Returns: nullopt when absent; an Error when the matching
// pair (or a preceding key) is badly encoded; else the decoded value.
Result<std::optional<std::string>> FindQueryParam(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view raw_key = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    std::optional<std::string> key = PercentDecode(raw_key, /*plus_as_space=*/true);
    if (!key) {
      return InvalidArgument("query string is not valid percent-encoding", std::string(name));
    }
    if (*key != name) continue;
    std::optional<std::string> value = PercentDecode(raw_value, /*plus_as_space=*/true);
    if (!value) {
      return InvalidArgument("query parameter '" + std::string(name) +
                                 "' is not valid percent-encoding",
                             std::string(name));
    }
    return std::optional<std::string>(std::move(*value));
  }
  return std::optional<std::string>();
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

std::optional<std::string> PercentDecode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;  // NUL never belongs in an id or a path
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void Headers::Set(std::string name, std::string value) {
  Remove(name);
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& f) { return EqualsIgnoreCase(f.first, name); });
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  auto r = FindQueryParam(query, name);
  if (!r) return std::nullopt;
  return std::move(*r);
}

Result<std::optional<std::string>> Request::QueryParamChecked(std::string_view name) const {
  return FindQueryParam(query, name);
}

Response JsonResponse(int status, std::string json_body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(json_body);
  return r;
}

Response ErrorResponse(const Error& e, const Request& req) {
  Response r = JsonResponse(HttpStatus(e.code), RenderErrorBody(e, req.request_id));
  for (auto& [name, value] : ErrorHeaders(e)) r.headers.Set(std::move(name), std::move(value));
  r.log_fields.emplace_back("error", e.reason.empty() ? "internal_error" : e.reason);
  return r;
}

void Router::Add(std::string method, std::string pattern, Handler h) {
  MG_CHECK(!pattern.empty() && pattern.front() == '/', "route pattern must start with '/'");
  Route route;
  route.method = std::move(method);
  std::string_view trimmed = pattern;
  if (trimmed.size() > 1 && trimmed.back() == '/') trimmed.remove_suffix(1);
  std::vector<std::string_view> parts = SplitPath(trimmed);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    Segment seg;
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      std::string_view name = p.substr(1, p.size() - 2);
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        MG_CHECK(i + 1 == parts.size(), "a {name...} segment must be the last of its pattern");
        seg.kind = Segment::Kind::kRest;
        name.remove_suffix(3);
      } else {
        seg.kind = Segment::Kind::kParam;
      }
      MG_CHECK(!name.empty(), "route parameter needs a name");
      seg.text = std::string(name);
    } else {
      MG_CHECK(p.find('{') == std::string_view::npos && p.find('}') == std::string_view::npos,
               "braces in a route pattern must enclose a whole segment");
      seg.kind = Segment::Kind::kLiteral;
      seg.text = std::string(p);
      ++route.literal_count;
    }
    route.segments.push_back(std::move(seg));
  }
  route.pattern = std::move(pattern);
  route.handler = std::move(h);
  routes_.push_back(std::move(route));
}

bool Router::Match(const Route& route, const std::vector<std::string>& segments,
                   std::unordered_map<std::string, std::string>* params) {
  size_t i = 0;
  for (const Segment& seg : route.segments) {
    switch (seg.kind) {
      case Segment::Kind::kLiteral:
        if (i >= segments.size() || segments[i] != seg.text) return false;
        ++i;
        break;
      case Segment::Kind::kParam:
        if (i >= segments.size() || segments[i].empty()) return false;
        if (params) (*params)[seg.text] = segments[i];
        ++i;
        break;
      case Segment::Kind::kRest: {
        if (params) {
          std::string rest;
          for (size_t j = i; j < segments.size(); ++j) {
            if (j > i) rest.push_back('/');
            rest.append(segments[j]);
          }
          (*params)[seg.text] = std::move(rest);
        }
        return true;
      }
    }
  }
  return i == segments.size();
}

std::variant<const Handler*, Response> Router::Resolve(Request& req) const {
  std::string_view path = req.path;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> segments;
  for (std::string_view raw : SplitPath(path)) {
    std::optional<std::string> decoded = PercentDecode(raw);
    if (!decoded) {
      return ErrorResponse(InvalidArgument("request path is not valid percent-encoding", "path"),
                           req);
    }
    segments.push_back(std::move(*decoded));
  }

  const Route* best = nullptr;       // matches path and method
  const Route* best_head = nullptr;  // GET route usable for HEAD
  const Route* any_path = nullptr;   // matches path only (for 405)
  std::set<std::string> allowed;
  for (const Route& route : routes_) {
    if (!Match(route, segments, nullptr)) continue;
    if (!any_path || route.literal_count > any_path->literal_count) any_path = &route;
    allowed.insert(route.method);
    if (route.method == req.method) {
      if (!best || route.literal_count > best->literal_count) best = &route;
    } else if (req.method == "HEAD" && route.method == "GET") {
      if (!best_head || route.literal_count > best_head->literal_count) best_head = &route;
    }
  }
  if (!best) best = best_head;
  if (best) {
    req.route = best->pattern;
    req.path_params.clear();
    Match(*best, segments, &req.path_params);
    return &best->handler;
  }
  if (any_path) {
    req.route = any_path->pattern;
    if (allowed.count("GET")) allowed.insert("HEAD");
    std::string allow;
    for (const std::string& m : allowed) {
      if (!allow.empty()) allow.append(", ");
      allow.append(m);
    }
    Response r = ErrorResponse(Error(ErrorCode::kMethodNotAllowed, "method_not_allowed",
                                     "method " + req.method + " is not allowed on this path; " +
                                         "allowed: " + allow),
                               req);
    r.headers.Set("Allow", std::move(allow));
    return r;
  }
  return ErrorResponse(NotFound("route_not_found", "no route for " + req.method + " " +
                                                      std::string(path)),
                       req);
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

}  // namespace mg::server
