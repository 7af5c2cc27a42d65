// A generic asynchronous HTTP/1.1 server: it accepts connections, parses
// requests, hands each one to a Handler and writes back whatever the handler
// answers. It knows nothing about the application; `interlock serve` puts the
// routes on top.
//
// Requests are read with Boost.Beast on a pool of IO threads, one connection
// at a time per strand: a connection reads its next request only once the
// current one has been answered, so responses always go out in request order.
// Keep-alive follows HTTP/1.1 (and HTTP/1.0 "Connection: keep-alive");
// "Connection: close" and "Expect: 100-continue" are honoured. With a
// certificate and key the server speaks TLS 1.3 and nothing older.
//
// What the server answers by itself, each with a JSON body such as
// {"error":{"code":"payload_too_large","message":"the request body exceeds
// 1048576 bytes"}}:
//   400 bad_request          malformed HTTP; the connection is closed
//   400 bad_request          a Transfer-Encoding whose last coding is not
//                            chunked (or that names chunked twice), or both
//                            Transfer-Encoding and Content-Length: the body
//                            cannot be delimited safely (RFC 9112 section
//                            6.1), so the connection is closed
//   400 bad_request          a target that is not a path with valid
//                            percent-encoding; the connection stays usable
//   413 payload_too_large    a body (Content-Length or chunked) over
//                            body_limit, or over preauth_body_limit when
//                            ServerOptions::authenticated said no; the
//                            connection is closed
//   431 headers_too_large    a request line and headers over header_limit;
//                            the connection is closed
//   500 internal             the handler threw, dropped its Respond, or
//                            answered with an invalid status or header
//   503 too_many_connections a new connection while max_connections are
//                            open: answered over plain HTTP as soon as it is
//                            accepted, without reading a request, with
//                            "Connection: close"; over TLS closed at once
//                            without an answer
// A client that sends a request too slowly, or stays idle between requests
// too long, is disconnected without an answer.
//
// Nothing in this header throws, and no exception from the handler escapes.
//
// Thread safety: every method of HttpServer may be called from any thread;
// Shutdown and the destructor not from the server's own IO threads (that is,
// not from inside a Handler).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace interlock::server {

struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", ...
  // The raw request target, e.g. "/v1/approvals?state=pending". An
  // absolute-form target ("http://host/x") is kept here as sent.
  std::string target;
  // The percent-decoded path without the query, always starting with "/".
  // "+" is not decoded in the path.
  std::string path;
  // The query's name=value pairs in order, percent-decoded with "+" as a
  // space; a name without "=" has the value "".
  std::vector<std::pair<std::string, std::string>> query;
  // In the order received, names lower-cased, values as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked when sent chunked
  // The peer: "127.0.0.1:54321" or "[::1]:54321" (an IPv4-mapped IPv6 peer is
  // shown as IPv4).
  std::string remote;
  bool tls = false;

  // The value of the first header named `name` (compared ignoring ASCII
  // case), or nullopt. The view points into this request.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The value of the first query parameter named `name`, or nullopt. The view
  // points into this request.
  std::optional<std::string_view> Query(std::string_view name) const;
};

// Decodes application/x-www-form-urlencoded text (a query, or a form body):
// name=value pairs separated by "&", percent-decoded with "+" as a space; a
// name without "=" has the value "". Nullopt for a "%" not followed by two
// hex digits.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view text);

struct HttpResponse {
  // Must be 200-599; anything else is replaced by a 500. 204 and 304 are sent
  // without a body.
  int status = 200;
  // Sent as Content-Type unless empty.
  std::string content_type = "application/json";
  // Extra headers. Names must be tokens and values free of control
  // characters, and Content-Length, Transfer-Encoding and Connection are the
  // server's: a response breaking these rules is replaced by a 500. A
  // "Server" header here replaces the default "Interlock".
  std::vector<std::pair<std::string, std::string>> headers;
  // Its length is sent as Content-Length. For a HEAD request answer as for
  // GET: the length is sent and the body is not.
  std::string body;
};

// Sends the response to a request. Call it once, from any thread, at any time,
// even after the server has shut down or the client has gone (the response is
// then dropped). Later calls are ignored. If every copy is destroyed without a
// call, the client gets a 500. Never throws.
using Respond = std::function<void(HttpResponse)>;

// Called once per request on an IO thread. It must not block: work that waits
// (a disk, a lock held long, another service) belongs on another thread, which
// calls Respond when done. If the handler throws, the client gets a 500 (unless
// it had already been answered) and the exception is reported to
// ServerOptions::log.
using Handler = std::function<void(HttpRequest, Respond)>;

struct ServerOptions {
  // "host:port": an IPv4 address, or an IPv6 address in brackets
  // ("[::1]:8080"). Host names are not resolved. Port 0 picks a free port;
  // HttpServer::address() tells which. Default: "127.0.0.1:8080".
  std::string listen = "127.0.0.1:8080";
  // PEM files: the certificate chain (leaf first) and its private key. Both
  // empty: plain HTTP (the default). Both set: TLS 1.3 only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Larger request bodies get 413. Default: 1 MiB.
  size_t body_limit = size_t{1} << 20;
  // Tells, from a request's head, whether its sender has proved who it is
  // (e.g. a valid bearer token), before the server reads the body. Called
  // once for each request that has a body, on an IO thread, with method,
  // target, path, query, headers, remote and tls filled in and the body
  // empty; not called for a target the server answers with 400 (that request
  // is taken as unauthenticated). It must be thread safe, must not block and
  // should not throw (a throw is reported to `log` and counts as false).
  // Default: empty, every request is taken as authenticated.
  std::function<bool(const HttpRequest&)> authenticated;
  // Larger request bodies get 413 when `authenticated` is set and answers
  // false, so that an unauthenticated client cannot make the server hold
  // body_limit bytes. A limit above body_limit changes nothing. Default:
  // 64 KiB.
  size_t preauth_body_limit = size_t{64} << 10;
  // Connections open at once; one more is answered with 503 and closed (see
  // the top of this file). Must be positive. Default: 1024.
  size_t max_connections = 1024;
  // Larger request lines plus headers get 431. Default: 16 KiB.
  size_t header_limit = size_t{16} << 10;
  // IO threads. Default 0: one per core.
  size_t threads = 0;
  // How long a client may take to send one whole request, counted from its
  // first byte (on a new connection, from the accept). The TLS handshake is
  // given as long again. Default: 10 s.
  std::chrono::milliseconds read_timeout{10000};
  // How long a keep-alive connection may wait for its next request.
  // Default: 60 s.
  std::chrono::milliseconds idle_timeout{60000};
  // How long writing one response may take. Default: 10 s.
  std::chrono::milliseconds write_timeout{10000};
  // Receives one line for each event an operator should see: a handler that
  // threw or answered wrongly, a failed accept. Called from IO threads, so it
  // must be thread safe and must not block; it must not throw (that ends the
  // process). Default: none.
  std::function<void(std::string_view)> log;
};

struct HttpStats {
  // Responses written completely, the server's own error answers included.
  uint64_t requests_served = 0;
  uint64_t connections_accepted = 0;
  // Connections currently open, from accept to close.
  uint64_t connections_open = 0;
  // Connections turned away because max_connections were open; not counted
  // in connections_accepted.
  uint64_t connections_refused = 0;
};

class HttpServer {
 public:
  // Binds options.listen, loads the TLS files if given, and starts serving on
  // options.threads IO threads. Fails, having started nothing, with:
  //   kInvalidArgument  a bad listen string (`listen address "x": expected
  //                     host:port`); only one of the TLS files; a timeout,
  //                     header_limit or max_connections that is not
  //                     positive; an empty handler;
  //                     a TLS file that is not valid PEM, or a key that does
  //                     not match the certificate (the message names the file)
  //   kNotFound / kIo   a TLS file that cannot be read (names the file)
  //   kUnavailable      the address is in use
  //   kPermissionDenied the port needs privileges
  //   kIo               any other refusal to listen
  static Result<std::unique_ptr<HttpServer>> Start(ServerOptions options, Handler handler);

  // Shutdown(kDefaultGrace) if Shutdown was not called.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  static constexpr std::chrono::milliseconds kDefaultGrace{2000};

  // The bound address, port resolved: "127.0.0.1:41234", "[::1]:41234".
  std::string address() const;
  uint16_t port() const;

  // Stops accepting (new connections are refused from here on), closes
  // connections that are idle or still receiving a request, and lets requests
  // already handed to the handler be answered and their responses written;
  // then those connections close too (a response not yet being written when
  // Shutdown began says "Connection: close"). Returns when every connection
  // has closed, or after `grace`, when the remaining ones are cut. Either way
  // the IO threads have been joined and every socket closed on return.
  // A connection's last response is followed by up to a second of reading
  // what the client still sends, so that closing does not reset the
  // connection before the client has read it; a shorter grace may cut that.
  // Calls after the first return at once.
  // REQUIRES: not called from a Handler or another IO-thread callback.
  void Shutdown(std::chrono::milliseconds grace);

  HttpStats stats() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace interlock::server
