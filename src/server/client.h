// A small blocking HTTP/1.1 client for the command-line clients of a running
// `interlock serve`: one request per call on a fresh connection, over plain
// HTTP or over TLS 1.2 or newer with the server's certificate verified (chain
// and host name). Redirects are not followed.
//
// Nothing in this header throws.
//
// Thread safety: Call may be run from any number of threads at once; each
// call has its own connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace interlock::server {

struct ClientOptions {
  // The server: "http://host[:port][/prefix]" or "https://...". The host is
  // a name, an IPv4 address or an IPv6 address in brackets; the port
  // defaults to 80 or 443; a path prefix (a server behind a reverse proxy)
  // goes before every request's target. Required.
  std::string server;
  // A PEM file of the certificate authorities to trust for https. Default:
  // empty, the system's trust store.
  std::string ca_file;
  // From the start of connecting (after the host name is resolved, which
  // the system resolver bounds) to the end of the TLS handshake. Default: 10 s.
  std::chrono::milliseconds connect_timeout{10000};
  // From the first byte of the request sent to the last byte of the answer
  // read. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
  // Larger answer bodies fail the call. Default: 64 MiB.
  size_t body_limit = size_t{64} << 20;
};

struct ClientRequest {
  std::string method;  // "GET", "POST", ...
  // The path and query, percent-encoded: "/v1/approvals?state=pending".
  std::string target;
  // Sent as "Authorization: Bearer <token>" unless empty.
  std::string token;
  // Sent with "Content-Type: application/json" unless empty.
  std::string body;
  // More header fields, e.g. a signature. Names are tokens; values are
  // visible ASCII and spaces.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ClientAnswer {
  int status = 0;
  std::string body;
};

// Sends `request` to `options.server` and reads the whole answer, whatever
// its status. Fails with:
//   kInvalidArgument  a server URL that is not http(s)://host[:port][/path]
//                     (the message quotes it); a target, method, token or
//                     header with characters that cannot go into a request; a CA
//                     file that cannot be loaded (the message names it)
//   kUnavailable      the host cannot be resolved or reached, the TLS
//                     handshake fails (an untrusted certificate, a host name
//                     it does not cover), a timeout passes, the connection
//                     breaks, or the answer is malformed or over body_limit;
//                     the message names the server as given
//   kInternal         anything unexpected (out of memory)
Result<ClientAnswer> Call(const ClientOptions& options, const ClientRequest& request);

}  // namespace interlock::server
