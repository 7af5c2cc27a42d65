// The service's JSON answers: bodies, error bodies, query parameters, and
// the one mapping from an ErrorKind to an HTTP status and error code. For
// the files of server/ that answer routes; docs/api/openapi.yaml lists the
// codes by status.
//
// Thread safety: every function here is pure and may be called from any
// thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "server/http.h"

namespace interlock::server {

using json = nlohmann::ordered_json;

// The status and error code of an expected failure of one kind.
struct HttpError {
  int status;
  std::string_view code;
};

// The HTTP status and error code of an error of `kind`, the one place that
// says which is which:
//   kInvalidArgument             400 invalid
//   kPermissionDenied            403 forbidden
//   kNotFound                    404 not_found
//   kAlreadyExists, kConflict    409 conflict
//   kCorruption, kInternal       500 internal
//   kIo, kUnavailable            503 unavailable
// A route that knows more refines the code, never the status, except where
// docs/api/openapi.yaml says otherwise (a refused token is 401, an invalid
// governance directory on reload 422).
HttpError HttpErrorOf(ErrorKind kind);

// `body` written out with a final newline, as application/json.
HttpResponse JsonResponse(int status, const json& body);
// A JSON body already written (decision/render.h), with a final newline.
HttpResponse RawJsonResponse(int status, std::string body);
// {"error": {"code": `code`, "message": `message`}}; a 401 carries
// "WWW-Authenticate: Bearer".
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message);
// The answer to `e`, by HttpErrorOf, with its message.
HttpResponse ErrorResponse(const Error& e);
// 405 with the Allow header RFC 9110 asks for: `allowed` in the order given.
HttpResponse MethodNotAllowed(std::string_view path, std::string_view method,
                              std::span<const std::string_view> allowed);
// The answer to a state change whose audit record could not be made
// durable: 503 audit_unavailable, "`what`: <the error's message>".
HttpResponse NotRecorded(std::string_view what, const Error& e);

// Query parameter `name` as a non-negative integer; nullopt when absent and
// not `required`. Fails with kInvalidArgument naming the parameter.
Result<std::optional<uint64_t>> IndexParam(const HttpRequest& r, std::string_view name,
                                           bool required);

}  // namespace interlock::server
