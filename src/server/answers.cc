#include "server/answers.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>

#include "audit/json.h"

namespace interlock::server {

HttpError HttpErrorOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return {400, "invalid"};
    case ErrorKind::kPermissionDenied:
      return {403, "forbidden"};
    case ErrorKind::kNotFound:
      return {404, "not_found"};
    case ErrorKind::kAlreadyExists:
    case ErrorKind::kConflict:
      return {409, "conflict"};
    case ErrorKind::kIo:
    case ErrorKind::kUnavailable:
      return {503, "unavailable"};
    case ErrorKind::kNotRecorded:
      return {503, "audit_unavailable"};
    case ErrorKind::kCorruption:
    case ErrorKind::kInternal:
      break;
  }
  return {500, "internal"};
}

HttpResponse JsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = audit::Dump(body);
  r.body += '\n';
  return r;
}

HttpResponse RawJsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.body += '\n';
  return r;
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse r = JsonResponse(status, {{"error", {{"code", code}, {"message", message}}}});
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

HttpResponse ErrorResponse(const Error& e) {
  HttpError h = HttpErrorOf(e.kind());
  return ErrorResponse(h.status, h.code, e.message());
}

HttpResponse MethodNotAllowed(std::string_view path, std::string_view method,
                              std::span<const std::string_view> allowed) {
  HttpResponse r = ErrorResponse(
      405, "method_not_allowed",
      fmt::format("{} does not accept {} (only {})", path, method, fmt::join(allowed, ", ")));
  r.headers.emplace_back("Allow", fmt::format("{}", fmt::join(allowed, ", ")));
  return r;
}

HttpResponse NotRecorded(std::string_view what, const Error& e) {
  return ErrorResponse(Error::NotRecorded(what, e));
}

Result<std::optional<uint64_t>> IndexParam(const HttpRequest& r, std::string_view name,
                                           bool required) {
  auto v = r.Query(name);
  if (!v) {
    if (required) {
      return std::unexpected(
          Error::InvalidArgument(fmt::format("query parameter {}: required", name)));
    }
    return std::optional<uint64_t>();
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty()) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("query parameter {}: expected a non-negative integer, got \"{}\"", name, *v)));
  }
  return std::optional<uint64_t>(n);
}

}  // namespace interlock::server
