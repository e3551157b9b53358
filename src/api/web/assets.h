// @file assets.h
// @brief The web console's static files, embedded into the binary at build time
// (embed_web.cmake turns web/** into a generated .cc), and how they are answered: Content-Type
// by extension, ETag / If-None-Match (304), Cache-Control and the security headers (a strict
// Content-Security-Policy without inline script, nosniff, frame denial, no referrer).
//
// Thread-safety: pure functions over constant data.
#pragma once

#include <span>
#include <string_view>

#include "server/http.h"

namespace mg::api::web {

struct EmbeddedFile {
  std::string_view path;    // relative to web/, e.g. "index.html", "js/app.js"
  std::string_view body;    // the file's bytes
  std::string_view sha256;  // hex SHA-256 of body, computed at build time
};

// Every file of web/, sorted by path. Defined in the generated .cc.
std::span<const EmbeddedFile> EmbeddedFiles();

// The file at `path` (relative, no leading '/'), or nullptr.
const EmbeddedFile* FindEmbeddedFile(std::string_view path);

// "text/html; charset=utf-8" for .html, "text/javascript; charset=utf-8" for .js, ... and
// "application/octet-stream" for unknown extensions.
std::string_view ContentTypeFor(std::string_view path);

// The strong ETag of a file: a quoted prefix of its SHA-256.
std::string ETagFor(const EmbeddedFile& file);

// Whether an If-None-Match header value ("*", or a comma-separated list of entity tags, weak or
// strong) matches `etag` (weak comparison, RFC 9110 §13.1.2).
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

// Adds the console's security headers: Content-Security-Policy, X-Content-Type-Options,
// X-Frame-Options, Referrer-Policy, Cross-Origin-Opener-Policy, Cross-Origin-Resource-Policy.
void AddSecurityHeaders(server::Headers& headers);

// The Content-Security-Policy every console response carries.
std::string_view ContentSecurityPolicy();

// The response for `file`: 200 with the body, or 304 without it when the request's
// If-None-Match matches; both with ETag, Cache-Control: no-cache and the security headers.
server::Response AssetResponse(const EmbeddedFile& file, const server::Request& request);

}  // namespace mg::api::web
