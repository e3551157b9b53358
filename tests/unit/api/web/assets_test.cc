#include "api/web/assets.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "crypto/crypto.h"

namespace mg::api::web {
namespace {

std::string Str(std::string_view v) { return std::string(v); }

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

server::Request Get(std::string_view if_none_match = {}) {
  server::Request r;
  r.method = "GET";
  r.path = "/";
  if (!if_none_match.empty()) r.headers.Set("If-None-Match", std::string(if_none_match));
  return r;
}

// ---------------------------------------------------------------------------------------------
// The embedded table

TEST(EmbeddedFiles, HoldTheConsoleSortedWithBuildTimeHashes) {
  auto files = EmbeddedFiles();
  ASSERT_GE(files.size(), 5u);
  std::set<std::string> paths;
  for (size_t i = 0; i < files.size(); ++i) {
    const EmbeddedFile& f = files[i];
    if (i > 0) EXPECT_LT(files[i - 1].path, f.path) << "sorted, unique";
    EXPECT_FALSE(f.body.empty()) << f.path;
    EXPECT_EQ(f.sha256, crypto::Sha256Hex(f.body)) << f.path;
    EXPECT_NE(f.path.front(), '/') << f.path;
    paths.insert(Str(f.path));
  }
  for (auto p : {"index.html", "app.css", "favicon.svg", "js/app.js", "js/api.js", "js/ui.js"}) {
    EXPECT_TRUE(paths.count(p)) << p;
    EXPECT_NE(FindEmbeddedFile(p), nullptr) << p;
  }
  EXPECT_EQ(FindEmbeddedFile("missing.js"), nullptr);
  EXPECT_EQ(FindEmbeddedFile("/index.html"), nullptr);
  EXPECT_EQ(FindEmbeddedFile(""), nullptr);
}

TEST(EmbeddedFiles, BodiesAreTheFilesBytesExactly) {
  const EmbeddedFile* index = FindEmbeddedFile("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->body.substr(0, 15), "<!doctype html>");
  EXPECT_EQ(index->body.back(), '\n');
  EXPECT_EQ(index->body.find('\0'), std::string_view::npos);
}

// The console must work offline and under the strict CSP: no other origin, no inline script or
// style, no HTML built from strings, and the API key never kept by the page.
TEST(EmbeddedFiles, UseNoExternalOriginNoInlineScriptAndNoStoredSecrets) {
  for (const EmbeddedFile& f : EmbeddedFiles()) {
    std::string body = Str(f.body);
    // The SVG namespace URI is a name, not a fetch.
    for (size_t at = body.find("http://www.w3.org/"); at != std::string::npos;
         at = body.find("http://www.w3.org/")) {
      body.erase(at, 18);
    }
    EXPECT_FALSE(Contains(body, "http://")) << f.path;
    EXPECT_FALSE(Contains(body, "https://")) << f.path;
    EXPECT_FALSE(Contains(body, "@import")) << f.path;
    EXPECT_FALSE(Contains(body, "fonts.googleapis")) << f.path;
    if (f.path.ends_with(".html")) {
      EXPECT_FALSE(Contains(body, "<script>")) << f.path << ": inline script";
      EXPECT_FALSE(Contains(body, "style=")) << f.path << ": inline style";
      EXPECT_FALSE(Contains(body, "onclick=")) << f.path << ": inline handler";
      EXPECT_FALSE(Contains(body, "onload=")) << f.path << ": inline handler";
    }
    if (f.path.ends_with(".js")) {
      EXPECT_FALSE(Contains(body, "innerHTML")) << f.path;
      EXPECT_FALSE(Contains(body, "outerHTML")) << f.path;
      EXPECT_FALSE(Contains(body, "insertAdjacentHTML")) << f.path;
      EXPECT_FALSE(Contains(body, "eval(")) << f.path;
      EXPECT_FALSE(Contains(body, "new Function")) << f.path;
      EXPECT_FALSE(Contains(body, "localStorage")) << f.path;
      EXPECT_FALSE(Contains(body, "sessionStorage")) << f.path;
      EXPECT_FALSE(Contains(body, "document.cookie")) << f.path;
      EXPECT_FALSE(Contains(body, "setAttribute('style'")) << f.path;
    }
  }
}

// Every relative module import and every asset index.html references is embedded.
TEST(EmbeddedFiles, EveryReferencedFileIsEmbedded) {
  const EmbeddedFile* index = FindEmbeddedFile("index.html");
  ASSERT_NE(index, nullptr);
  for (auto ref : {"href=\"/app.css\"", "src=\"/js/app.js\"", "href=\"/favicon.svg\""}) {
    EXPECT_TRUE(Contains(index->body, ref)) << ref;
  }
  int imports = 0;
  for (const EmbeddedFile& f : EmbeddedFiles()) {
    if (!f.path.ends_with(".js")) continue;
    std::string_view body = f.body;
    std::string dir = Str(f.path.substr(0, f.path.rfind('/') + 1));
    for (size_t at = body.find("from '"); at != std::string_view::npos;
         at = body.find("from '", at + 1)) {
      size_t start = at + 6;
      size_t end = body.find('\'', start);
      std::string spec = Str(body.substr(start, end - start));
      if (spec.rfind("./", 0) != 0 && spec.rfind("../", 0) != 0) continue;
      std::string resolved = dir;
      std::string rest = spec;
      while (rest.rfind("../", 0) == 0) {
        rest = rest.substr(3);
        resolved.pop_back();
        resolved = resolved.substr(0, resolved.rfind('/') + 1);
      }
      if (rest.rfind("./", 0) == 0) rest = rest.substr(2);
      resolved += rest;
      EXPECT_NE(FindEmbeddedFile(resolved), nullptr) << f.path << " imports " << spec;
      ++imports;
    }
  }
  EXPECT_GT(imports, 10);
}

// ---------------------------------------------------------------------------------------------
// Headers

TEST(ContentTypeFor, ByExtension) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("js/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("a.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("a.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("LICENSE"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.js.map"), "application/octet-stream");
}

TEST(IfNoneMatch, WeakComparisonListsAndStar) {
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches(" \"x\" ,W/\"abc\" ", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("abc", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches(",", "\"abc\""));
}

TEST(ContentSecurityPolicy, IsStrict) {
  std::string_view csp = ContentSecurityPolicy();
  EXPECT_TRUE(Contains(csp, "default-src 'none'"));
  EXPECT_TRUE(Contains(csp, "script-src 'self'"));
  EXPECT_TRUE(Contains(csp, "connect-src 'self'"));
  EXPECT_TRUE(Contains(csp, "frame-ancestors 'none'"));
  EXPECT_TRUE(Contains(csp, "base-uri 'none'"));
  EXPECT_FALSE(Contains(csp, "unsafe-inline"));
  EXPECT_FALSE(Contains(csp, "unsafe-eval"));
  EXPECT_FALSE(Contains(csp, "*"));
  EXPECT_FALSE(Contains(csp, "http"));
}

TEST(AssetResponse, ServesTheFileWithTypeCachingAndSecurityHeaders) {
  const EmbeddedFile* f = FindEmbeddedFile("js/app.js");
  ASSERT_NE(f, nullptr);
  server::Response r = AssetResponse(*f, Get());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, f->body);
  EXPECT_EQ(r.headers.Get("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.headers.Get("etag"), ETagFor(*f));
  EXPECT_EQ(ETagFor(*f), "\"" + Str(f->sha256.substr(0, 24)) + "\"");
  EXPECT_EQ(r.headers.Get("cache-control"), "no-cache");
  EXPECT_EQ(r.headers.Get("content-security-policy"), ContentSecurityPolicy());
  EXPECT_EQ(r.headers.Get("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.headers.Get("x-frame-options"), "DENY");
  EXPECT_EQ(r.headers.Get("referrer-policy"), "no-referrer");
  EXPECT_EQ(r.headers.Get("cross-origin-opener-policy"), "same-origin");
  EXPECT_FALSE(r.stream);
}

TEST(AssetResponse, AnswersNotModifiedWhenTheETagMatches) {
  const EmbeddedFile* f = FindEmbeddedFile("index.html");
  ASSERT_NE(f, nullptr);
  std::string etag = ETagFor(*f);
  server::Response r = AssetResponse(*f, Get(etag));
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.headers.Get("etag"), etag);
  EXPECT_EQ(r.headers.Get("cache-control"), "no-cache");
  EXPECT_EQ(r.headers.Get("x-content-type-options"), "nosniff");
  EXPECT_EQ(AssetResponse(*f, Get("W/" + etag)).status, 304);
  server::Response changed = AssetResponse(*f, Get("\"0000\""));
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, f->body);
}

TEST(AssetResponse, DifferentContentGetsADifferentETag) {
  std::set<std::string> etags;
  for (const EmbeddedFile& f : EmbeddedFiles()) etags.insert(ETagFor(f));
  EXPECT_EQ(etags.size(), EmbeddedFiles().size());
}

}  // namespace
}  // namespace mg::api::web
