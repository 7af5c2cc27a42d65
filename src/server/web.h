// The dashboard: the files of web/, compiled into the binary by
// cmake/embed.cmake, served by `interlock serve` without authentication (the
// pages hold no data; every call they make to the API carries the user's
// token).
//
//   GET /               web/index.html
//   GET /assets/<path>  web/<path>
//
// Every answer carries a strict Content-Security-Policy (scripts, styles and
// connections to this origin only; no inline code, no frames), an ETag
// (revalidated with If-None-Match: 304) and "Cache-Control: no-cache", so a
// browser picks up a new binary's pages at once.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/embedded.h"
#include "server/http.h"

namespace interlock::server {

extern const EmbeddedFile kWebFiles[];
extern const size_t kWebFilesCount;

// The Content-Security-Policy of the dashboard's pages.
inline constexpr std::string_view kWebContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Whether `path` is the dashboard's: "/" or under "/assets/".
bool IsWebPath(std::string_view path);

// The answer to a GET or HEAD of a dashboard path: the file, or 304 when
// If-None-Match names its ETag. Nullopt when no file is served there.
std::optional<HttpResponse> WebResponse(const HttpRequest& request);

}  // namespace interlock::server
