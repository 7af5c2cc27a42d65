// Outbound HTTP: one request and its whole answer per call, behind one
// interface so that the notification channels and the command-line clients
// can be given a fake in tests (net/fake_http_client.h).
//
// Nothing in this header throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fs.h"
#include "core/status.h"

namespace interlock::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpCall {
  // An upper-case token: "GET", "POST", ... Default: GET.
  std::string method = "GET";
  // "http://host[:port][/path][?query]" or "https://...", percent-encoded;
  // the host is a name, an IPv4 address or an IPv6 address in brackets.
  // Credentials and fragments are refused. Error messages name only its
  // scheme and authority (the origin), never its path or query, which may
  // be secret (a Slack webhook). Required.
  std::string url;
  // Header fields sent as given, after Host. Names are tokens; values are
  // printable ASCII, spaces and tabs. Nothing else is added apart from
  // Content-Length (for a POST or a body); in particular no Content-Type.
  HttpHeaders headers;
  // The request body; sent for any method when non-empty, and as an empty
  // body (Content-Length: 0) for POST.
  std::string body;
  // A PEM file of the certificate authorities to trust for https. Default:
  // empty, the system's trust store. Certificates and host names are always
  // verified, over TLS 1.2 or newer.
  std::string ca_file;
  // From the start of connecting to the end of the TLS handshake. Must be
  // positive. Default: 10 s.
  std::chrono::milliseconds connect_timeout{10000};
  // The whole exchange, connecting included. Must be positive. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
  // Larger answer bodies fail the call. Default: 64 MiB.
  size_t body_limit = size_t{64} << 20;
};

struct HttpReply {
  int status = 0;
  // The header fields of the final answer, names lower-cased, in order.
  HttpHeaders headers;
  std::string body;

  // The value of the first header field named `name` (lower case), or
  // nullptr.
  const std::string* Header(std::string_view name) const;
};

// Thread safety: Send may be called from any number of threads at once.
class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `call` and reads the whole answer, whatever its status. Redirects
  // are not followed, and no proxy is used. Fails with:
  //   kInvalidArgument  a URL that is not http(s)://host[:port][/path] (the
  //                     message says why, without quoting it); a method or
  //                     header that cannot go into a request; a
  //                     non-positive timeout; a CA file that cannot be read
  //                     or holds no PEM certificate (the message names it)
  //   kUnavailable      "cannot reach ORIGIN: WHY": the host cannot be
  //                     resolved or reached, the TLS handshake fails (no TLS
  //                     on the port, an untrusted certificate, a host name it
  //                     does not cover), or no connection within
  //                     connect_timeout; "no answer from ORIGIN: WHY": the
  //                     timeout passes, the connection breaks, or the answer
  //                     is malformed or over body_limit
  //   kInternal         anything unexpected (out of memory, libcurl failing
  //                     to initialise)
  virtual Result<HttpReply> Send(const HttpCall& call) = 0;
};

// The real one, on libcurl: a fresh connection per call. `fs` reads CA
// files and must outlive the client.
std::unique_ptr<HttpClient> NewCurlHttpClient(const FileSystem& fs);
// The same, reading CA files from the real file system.
std::unique_ptr<HttpClient> NewCurlHttpClient();

}  // namespace interlock::net
