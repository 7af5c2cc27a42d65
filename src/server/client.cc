#include "server/client.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <exception>
#include <optional>
#include <string_view>

#include "core/fs.h"
#include "core/url.h"

namespace interlock::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// Far more than a bundle of every public root.
constexpr size_t kCaFileLimit = size_t{4} << 20;

// Beast in Boost 1.74 speaks boost::string_view.
beast::string_view BeastView(std::string_view text) { return {text.data(), text.size()}; }

// Where the requests go, from ClientOptions::server.
struct ServerUrl {
  bool tls = false;
  std::string host;    // without brackets
  std::string port;    // digits
  std::string prefix;  // "" or "/path" without a trailing "/"
  std::string host_header;
};

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  auto invalid = [url](std::string_view why) {
    return std::unexpected(Error::InvalidArgument(fmt::format("server URL \"{}\": {}", url, why)));
  };
  if (url.find("://") == std::string_view::npos) {
    return invalid("expected http://host[:port] or https://...");
  }
  Result<Url> parsed = ParseUrl(url);
  if (!parsed) return invalid(parsed.error().message());
  ServerUrl u;
  if (parsed->scheme == "https") {
    u.tls = true;
  } else if (parsed->scheme != "http") {
    return invalid("the scheme must be http or https");
  }
  if (parsed->userinfo)
    return invalid("credentials do not go in the URL; the token is given apart");
  if (parsed->query || parsed->fragment) return invalid("a query or fragment is not allowed");
  u.host = parsed->host;
  u.port = std::to_string(parsed->port.value_or(u.tls ? 443 : 80));
  u.prefix = parsed->path;
  while (u.prefix.ends_with('/')) u.prefix.pop_back();
  u.host_header = parsed->authority;
  return u;
}

// Visible ASCII only: what may go into a request line or a header value
// without changing the request's meaning.
bool Visible(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

std::string Seconds(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
  return fmt::format("{}ms", d.count());
}

// Starts one asynchronous operation on `io`, whose only work it is, and runs
// it to completion. Asio's synchronous operations cannot be given a timeout;
// these run on a beast::tcp_stream whose deadline ends them instead.
template <class Start>
beast::error_code RunOne(net::io_context& io, Start start) {
  beast::error_code result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

class Exchange {
 public:
  Exchange(const ClientOptions& options, const ClientRequest& request, ServerUrl url)
      : options_(options), request_(request), url_(std::move(url)) {}

  Result<ClientAnswer> Run() {
    // The trusted certificates first, so that a bad CA file is reported as
    // such whether or not the server can be reached.
    std::optional<ssl::context> context;
    if (url_.tls) {
      context.emplace(ssl::context::tls_client);
      if (auto ok = Trust(*context); !ok) return std::unexpected(ok.error());
    }
    beast::error_code ec;
    tcp::resolver resolver(io_);
    // Blocking: the system resolver bounds it with its own timeouts.
    auto endpoints = resolver.resolve(url_.host, url_.port, tcp::resolver::numeric_service, ec);
    if (ec) return Unreachable(fmt::format("cannot resolve {}: {}", url_.host, ec.message()));
    if (!context) {
      beast::tcp_stream stream(io_);
      if (auto ok = Connect(stream, endpoints); !ok) return std::unexpected(ok.error());
      return Send(stream);
    }
    beast::ssl_stream<beast::tcp_stream> stream(io_, *context);
    if (auto ok = Connect(beast::get_lowest_layer(stream), endpoints); !ok) {
      return std::unexpected(ok.error());
    }
    if (auto ok = Handshake(stream); !ok) return std::unexpected(ok.error());
    return Send(stream);
  }

 private:
  std::unexpected<Error> Unreachable(std::string_view why) const {
    return std::unexpected(
        Error::Unavailable(fmt::format("cannot reach {}: {}", options_.server, why)));
  }
  std::unexpected<Error> NoAnswer(std::string_view why) const {
    return std::unexpected(
        Error::Unavailable(fmt::format("no answer from {}: {}", options_.server, why)));
  }

  Result<void> Trust(ssl::context& context) {
    if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
      return std::unexpected(Error::Internal("OpenSSL cannot require TLS 1.2 or newer"));
    }
    beast::error_code ec;
    if (options_.ca_file.empty()) {
      if (context.set_default_verify_paths(ec)) {
        return std::unexpected(Error::Unavailable(
            fmt::format("the system's trust store cannot be loaded: {}", ec.message())));
      }
    } else {
      // Read here rather than by OpenSSL, whose error for a missing file
      // does not say so.
      auto pem = RealFileSystem().ReadFile(options_.ca_file, kCaFileLimit);
      if (!pem) {
        return std::unexpected(Error::InvalidArgument("CA file " + pem.error().message()));
      }
      if (context.add_certificate_authority(net::buffer(*pem), ec)) {
        return std::unexpected(Error::InvalidArgument(fmt::format(
            "CA file {}: not a PEM file of certificates ({})", options_.ca_file, ec.message())));
      }
    }
    context.set_verify_mode(ssl::verify_peer);
    return Ok();
  }

  Result<void> Connect(beast::tcp_stream& stream, const tcp::resolver::results_type& endpoints) {
    stream.expires_after(options_.connect_timeout);
    beast::error_code ec =
        RunOne(io_, [&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec == beast::error::timeout) {
      return Unreachable(fmt::format("no connection within {}", Seconds(options_.connect_timeout)));
    }
    if (ec) return Unreachable(ec.message());
    return Ok();
  }

  Result<void> Handshake(beast::ssl_stream<beast::tcp_stream>& stream) {
    SSL* native = stream.native_handle();
    boost::system::error_code not_an_address;
    net::ip::make_address(url_.host, not_an_address);
    X509_VERIFY_PARAM* param = SSL_get0_param(native);
    // The certificate must name the host as given: an IP address against
    // its IP addresses, a name against its DNS names. Only a name is sent
    // as SNI (RFC 6066 forbids addresses there).
    bool named = not_an_address ? SSL_set_tlsext_host_name(native, url_.host.c_str()) == 1 &&
                                      X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), 0) == 1
                                : X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str()) == 1;
    if (!named) return std::unexpected(Error::Internal("OpenSSL refused the server's host name"));
    beast::get_lowest_layer(stream).expires_after(options_.connect_timeout);
    beast::error_code ec = RunOne(io_, [&](auto handler) {
      stream.async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (!ec) return Ok();
    if (ec == beast::error::timeout) {
      return Unreachable(
          fmt::format("no TLS handshake within {}", Seconds(options_.connect_timeout)));
    }
    if (long verify = SSL_get_verify_result(native); verify != X509_V_OK) {
      return Unreachable(fmt::format("the server's certificate is not trusted: {}",
                                     X509_verify_cert_error_string(verify)));
    }
    return Unreachable(fmt::format("TLS handshake failed: {}", ec.message()));
  }

  template <class Stream>
  Result<ClientAnswer> Send(Stream& stream) {
    http::request<http::string_body> message;
    message.version(11);
    message.method_string(BeastView(request_.method));
    message.target(BeastView(url_.prefix + request_.target));
    message.set(http::field::host, url_.host_header);
    message.set(http::field::user_agent, "interlock-cli");
    message.set(http::field::accept, "application/json");
    if (!request_.token.empty()) {
      message.set(http::field::authorization, "Bearer " + request_.token);
    }
    if (!request_.body.empty()) message.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : request_.headers) message.set(BeastView(name), value);
    message.body() = request_.body;
    message.keep_alive(false);
    message.prepare_payload();

    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(options_.timeout);
    beast::error_code ec =
        RunOne(io_, [&](auto handler) { http::async_write(stream, message, std::move(handler)); });
    if (ec == beast::error::timeout) {
      return NoAnswer(
          fmt::format("the request could not be sent within {}", Seconds(options_.timeout)));
    }
    if (ec) return NoAnswer(fmt::format("sending the request failed: {}", ec.message()));

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.body_limit);
    parser.skip(request_.method == "HEAD");  // its answer has a length but no body
    // The header first: a whole-message read of Beast 1.74 parses eagerly,
    // which loses the body_limit error of a Content-Length over the limit
    // (boostorg/beast#2183).
    ec = RunOne(io_, [&](auto handler) {
      http::async_read_header(stream, buffer, parser, std::move(handler));
    });
    if (!ec) {
      ec = RunOne(
          io_, [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    }
    if (ec == beast::error::timeout) {
      return NoAnswer(fmt::format("nothing within {}", Seconds(options_.timeout)));
    }
    if (ec == http::error::body_limit) {
      return NoAnswer(fmt::format("the answer is larger than {} bytes", options_.body_limit));
    }
    if (ec == http::error::end_of_stream) {
      return NoAnswer("the connection closed before an answer");
    }
    if (ec) return NoAnswer(fmt::format("reading the answer failed: {}", ec.message()));
    // The stream closes as it goes out of scope, without a TLS close_notify:
    // the whole answer is read and the request said "Connection: close".
    return ClientAnswer{static_cast<int>(parser.get().result_int()),
                        std::move(parser.get().body())};
  }

  const ClientOptions& options_;
  const ClientRequest& request_;
  ServerUrl url_;
  net::io_context io_;
};

}  // namespace

Result<ClientAnswer> Call(const ClientOptions& options, const ClientRequest& request) {
  auto url = ParseServerUrl(options.server);
  if (!url) return std::unexpected(url.error());
  if (request.method.empty() || !std::all_of(request.method.begin(), request.method.end(),
                                             [](unsigned char c) { return std::isupper(c); })) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("\"{}\" is not an HTTP method", request.method)));
  }
  if (!request.target.starts_with('/') || !Visible(request.target)) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("\"{}\" is not a percent-encoded path", request.target)));
  }
  if (!Visible(request.token)) {
    return std::unexpected(Error::InvalidArgument(
        "the token has spaces or control characters; a token is itk_<id>_<secret>"));
  }
  for (const auto& [name, value] : request.headers) {
    bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '_';
    });
    bool text = std::all_of(value.begin(), value.end(),
                            [](unsigned char c) { return c == ' ' || (c > 0x20 && c < 0x7f); });
    if (!token || !text) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("the header \"{}\" has characters that cannot go into a request", name)));
    }
  }
  try {
    return Exchange(options, request, std::move(*url)).Run();
  } catch (const std::exception& e) {
    // The Beast and Asio calls above take error codes; what remains is
    // allocation and the SSL context's construction.
    return std::unexpected(Error::Internal(fmt::format("HTTP client: {}", e.what())));
  }
}

}  // namespace interlock::server
