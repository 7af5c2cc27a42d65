#include "server/web.h"

#include <fmt/format.h>

#include <map>
#include <string>
#include <string_view>

#include "core/digest.h"

namespace interlock::server {
namespace {

struct Asset {
  std::string_view contents;
  std::string_view content_type;
  std::string etag;  // quoted, as sent
};

std::string_view ContentType(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [suffix, type] : kTypes) {
    if (path.ends_with(suffix)) return type;
  }
  return "application/octet-stream";
}

// The embedded files by the path they are served at, built once.
const std::map<std::string, Asset, std::less<>>& Assets() {
  static const auto* assets = [] {
    auto* out = new std::map<std::string, Asset, std::less<>>;
    for (size_t i = 0; i < kWebFilesCount; ++i) {
      const EmbeddedFile& f = kWebFiles[i];
      Sha256Hasher h;
      h.Update(f.contents);
      std::string etag = fmt::format("\"{}\"", ToHex(h.Finish()).substr(0, 32));
      std::string path =
          f.path == "index.html" ? std::string("/") : fmt::format("/assets/{}", f.path);
      (*out)[path] = Asset{f.contents, ContentType(f.path), std::move(etag)};
    }
    return out;
  }();
  return *assets;
}

// Whether an If-None-Match value names `etag` ("*" names every one).
bool Matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    size_t comma = if_none_match.find(',');
    std::string_view item = if_none_match.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);  // weak comparison (RFC 9110 13.1.2)
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool IsWebPath(std::string_view path) { return path == "/" || path.starts_with("/assets/"); }

std::optional<HttpResponse> WebResponse(const HttpRequest& request) {
  const auto& assets = Assets();
  auto it = assets.find(request.path);
  if (it == assets.end()) return std::nullopt;
  const Asset& a = it->second;
  HttpResponse r;
  r.headers = {{"ETag", a.etag},
               {"Cache-Control", "no-cache"},
               {"Content-Security-Policy", std::string(kWebContentSecurityPolicy)},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               {"X-Frame-Options", "DENY"},
               {"Cross-Origin-Opener-Policy", "same-origin"}};
  if (auto inm = request.Header("if-none-match"); inm && Matches(*inm, a.etag)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.status = 200;
  r.content_type = std::string(a.content_type);
  r.body = std::string(a.contents);
  return r;
}

}  // namespace interlock::server
