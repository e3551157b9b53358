#include "api/web/assets.h"

#include <algorithm>
#include <string>

namespace mg::api::web {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view WithoutWeakPrefix(std::string_view tag) {
  if (tag.size() >= 2 && (tag[0] == 'W' || tag[0] == 'w') && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

}  // namespace

const EmbeddedFile* FindEmbeddedFile(std::string_view path) {
  std::span<const EmbeddedFile> files = EmbeddedFiles();
  auto it = std::lower_bound(files.begin(), files.end(), path,
                             [](const EmbeddedFile& f, std::string_view p) { return f.path < p; });
  if (it == files.end() || it->path != path) return nullptr;
  return &*it;
}

std::string_view ContentTypeFor(std::string_view path) {
  struct Kind {
    std::string_view extension, type;
  };
  static constexpr Kind kKinds[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Kind& k : kKinds) {
    if (EndsWith(path, k.extension)) return k.type;
  }
  return "application/octet-stream";
}

std::string ETagFor(const EmbeddedFile& file) {
  // 96 bits of the SHA-256 are plenty to tell versions of one file apart.
  return "\"" + std::string(file.sha256.substr(0, 24)) + "\"";
}

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  std::string_view want = WithoutWeakPrefix(etag);
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (tag == "*") return true;
    if (!tag.empty() && WithoutWeakPrefix(tag) == want) return true;
  }
  return false;
}

std::string_view ContentSecurityPolicy() {
  // Only our own files: no inline script or style, no eval, no other origin, no framing.
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
         "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
         "form-action 'self'; frame-ancestors 'none'";
}

void AddSecurityHeaders(server::Headers& h) {
  h.Set("Content-Security-Policy", std::string(ContentSecurityPolicy()));
  h.Set("X-Content-Type-Options", "nosniff");
  h.Set("X-Frame-Options", "DENY");
  h.Set("Referrer-Policy", "no-referrer");
  h.Set("Cross-Origin-Opener-Policy", "same-origin");
  h.Set("Cross-Origin-Resource-Policy", "same-origin");
}

server::Response AssetResponse(const EmbeddedFile& file, const server::Request& request) {
  server::Response r;
  std::string etag = ETagFor(file);
  std::optional<std::string_view> inm = request.headers.Get("if-none-match");
  if (inm && IfNoneMatchMatches(*inm, etag)) {
    r.status = 304;
  } else {
    r.status = 200;
    r.headers.Set("Content-Type", std::string(ContentTypeFor(file.path)));
    r.body = std::string(file.body);
  }
  r.headers.Set("ETag", etag);
  // File names carry no version, so browsers revalidate every time; the 304 keeps that cheap.
  r.headers.Set("Cache-Control", "no-cache");
  AddSecurityHeaders(r.headers);
  return r;
}

}  // namespace mg::api::web
