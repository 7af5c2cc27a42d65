// Over 600 lines on purpose: one file so that Boost.Beast stays out of every
// other translation unit (and out of the build's other compile times): the
// connection, its TLS variant and the server's own answers all need it.
#include "server/http.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "core/mutex.h"

namespace interlock::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr std::string_view kServerName = "Interlock";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// After the last response on a connection the server keeps reading, and
// discarding, what the client still sends for this long: closing a socket with
// unread input sends a reset, which can destroy the response before the client
// has read it (typically a 413 answered while the body is still arriving).
constexpr std::chrono::milliseconds kLinger{1000};
// Pause before accepting again after accept failed (out of file descriptors),
// so that the failure does not spin.
constexpr std::chrono::milliseconds kAcceptRetry{100};
// Bytes read at once while waiting for a keep-alive connection's next request.
constexpr size_t kIdleRead = 4096;
// The read buffer holds at most this much besides header_limit; it bounds
// what Beast keeps of a chunk-size line, which no other limit covers.
constexpr size_t kReadBufferMin = size_t{64} << 10;

// Beast in Boost 1.74 speaks boost::string_view.
std::string_view View(beast::string_view text) { return {text.data(), text.size()}; }
beast::string_view BeastView(std::string_view text) { return {text.data(), text.size()}; }

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string JsonEscaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out;
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body =
      fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, JsonEscaped(message));
  return response;
}

HttpResponse InternalError() {
  return ErrorResponse(500, "internal", "the server failed to handle the request");
}

// RFC 9110 section 5.6.2.
bool IsToken(std::string_view text) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSymbols.find(c) != kSymbols.npos;
  });
}

// RFC 9110 section 5.5: no control characters but horizontal tab.
bool IsFieldValue(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Nullopt for a "%" not followed by two hex digits.
std::optional<std::string> PercentDecoded(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = HexDigit(text[i + 1]);
      int low = HexDigit(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == text.npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto name = PercentDecoded(pair.substr(0, eq), true);
    auto value = PercentDecoded(eq == pair.npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

namespace {

// Fills request.path and request.query from request.target. False if the
// target is not origin-form or absolute-form, or its encoding is invalid.
bool ParseTarget(HttpRequest& request) {
  std::string_view path = request.target;
  std::string_view query;
  if (size_t mark = path.find('?'); mark != path.npos) {
    query = path.substr(mark + 1);
    path = path.substr(0, mark);
  }
  if (!path.starts_with('/')) {
    size_t scheme_end = path.find("://");
    if (scheme_end == path.npos) return false;
    path.remove_prefix(scheme_end + 3);
    size_t slash = path.find('/');
    path = slash == path.npos ? std::string_view("/") : path.substr(slash);
  }
  auto decoded_path = PercentDecoded(path, false);
  if (!decoded_path) return false;
  request.path = std::move(*decoded_path);
  auto pairs = ParseForm(query);
  if (!pairs) return false;
  request.query = std::move(*pairs);
  return true;
}

constexpr std::string_view kBothFramings =
    "a request must not carry both Transfer-Encoding and Content-Length";
constexpr std::string_view kChunkedLast = "Transfer-Encoding must end in chunked and name it once";

// Why the body of a request with this head cannot be delimited safely, or
// empty. RFC 9112 section 6.1: only a final chunked coding delimits a request
// body, and a Content-Length beside a Transfer-Encoding is a smuggling
// attempt or a broken intermediary.
std::string_view FramingProblem(const http::request<http::string_body>& message) {
  auto [first, last] = message.equal_range(http::field::transfer_encoding);
  if (first == last) return {};
  if (message.find(http::field::content_length) != message.end()) return kBothFramings;
  std::vector<std::string_view> codings;
  for (auto field = first; field != last; ++field) {
    std::string_view list = View(field->value());
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view coding = list.substr(0, comma);
      list = comma == list.npos ? std::string_view() : list.substr(comma + 1);
      coding = coding.substr(0, coding.find(';'));  // the coding's parameters
      size_t begin = coding.find_first_not_of(" \t");
      if (begin == coding.npos) continue;  // an empty list element
      coding = coding.substr(begin, coding.find_last_not_of(" \t") - begin + 1);
      codings.push_back(coding);
    }
  }
  size_t chunked = static_cast<size_t>(std::count_if(
      codings.begin(), codings.end(), [](std::string_view c) { return IEquals(c, "chunked"); }));
  if (codings.empty() || !IEquals(codings.back(), "chunked") || chunked != 1) return kChunkedLast;
  return {};
}

// Fills everything of `request` that the head of `message` gives: method,
// target, path, query and headers. False if the target is not a path with
// valid percent-encoding.
bool FillHead(const http::request<http::string_body>& message, HttpRequest& request) {
  request.method = std::string(View(message.method_string()));
  request.target = std::string(View(message.target()));
  request.headers.reserve(static_cast<size_t>(std::distance(message.begin(), message.end())));
  for (const auto& field : message) {
    std::string name(View(field.name_string()));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers.emplace_back(std::move(name), std::string(View(field.value())));
  }
  return ParseTarget(request);
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  net::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

Result<tcp::endpoint> ParseListen(std::string_view listen) {
  auto bad = [&](std::string_view why) -> Result<tcp::endpoint> {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("listen address \"{}\": {}", listen, why)));
  };
  std::string_view host;
  std::string_view port;
  bool bracketed = listen.starts_with('[');
  if (bracketed) {
    size_t close = listen.find(']');
    if (close == listen.npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return bad("expected host:port");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == listen.npos) return bad("expected host:port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != host.npos) {
      return bad("an IPv6 address must be in brackets, as in [::1]:8080");
    }
  }
  if (host.empty()) return bad("expected host:port");
  unsigned long port_number = 0;
  bool port_ok = !port.empty() && port.size() <= 5 &&
                 std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (port_ok) port_number = std::stoul(std::string(port));
  if (!port_ok || port_number > 65535) return bad("expected a port number from 0 to 65535");
  boost::system::error_code ec;
  net::ip::address address;
  if (bracketed) {
    address = net::ip::make_address_v6(std::string(host), ec);
  } else {
    address = net::ip::make_address_v4(std::string(host), ec);
  }
  if (ec) return bad("expected an IPv4 address, or an IPv6 address in brackets, as host");
  return tcp::endpoint(address, static_cast<uint16_t>(port_number));
}

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  auto failed = [&](int errnum) -> Result<std::string> {
    std::string message =
        fmt::format("{} \"{}\": cannot read it: {}", what, path, std::strerror(errnum));
    if (errnum == ENOENT) return std::unexpected(Error::NotFound(std::move(message)));
    return std::unexpected(Error::Io(std::move(message)));
  };
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return failed(errno);
  std::string contents;
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) contents.append(chunk, n);
  int errnum = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (errnum != 0) return failed(errnum);
  return contents;
}

Result<void> LoadTls(ssl::context& context, const ServerOptions& options) {
  SSL_CTX* native = context.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1) {
    return std::unexpected(Error::Internal("OpenSSL cannot restrict the server to TLS 1.3"));
  }
  auto cert = ReadFile(options.tls_cert_file, "TLS certificate file");
  if (!cert) return std::unexpected(cert.error());
  auto key = ReadFile(options.tls_key_file, "TLS key file");
  if (!key) return std::unexpected(key.error());
  boost::system::error_code ec;
  if (context.use_certificate_chain(net::buffer(*cert), ec)) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("TLS certificate file \"{}\": not a PEM certificate chain ({})",
                    options.tls_cert_file, ec.message())));
  }
  if (context.use_private_key(net::buffer(*key), ssl::context::pem, ec)) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("TLS key file \"{}\": not a PEM private key matching the certificate ({})",
                    options.tls_key_file, ec.message())));
  }
  return Ok();
}

Error ListenError(std::string_view listen, const boost::system::error_code& ec) {
  std::string message = fmt::format("cannot listen on {}: {}", listen, ec.message());
  if (ec == net::error::address_in_use) return Error::Unavailable(std::move(message));
  if (ec == net::error::access_denied) return Error::PermissionDenied(std::move(message));
  return Error::Io(std::move(message));
}

class ConnectionBase;

// What the server, its connections and every outstanding Respond share. A
// Respond may outlive the server, so this does not own the IO context.
struct Shared {
  Shared(ServerOptions o, Handler h)
      : options(std::move(o)), handler(std::move(h)), refusal(RefusalBytes(options)) {}

  // The whole answer to a connection over max_connections.
  static std::string RefusalBytes(const ServerOptions& options) {
    HttpResponse response = ErrorResponse(
        503, "too_many_connections",
        fmt::format("the server is at its limit of {} open connections; try again later",
                    options.max_connections));
    return fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nServer: {}\r\nContent-Type: {}\r\n"
        "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        kServerName, response.content_type, response.body.size(), response.body);
  }

  void Log(std::string_view line) const noexcept {
    if (options.log) options.log(line);
  }

  // Adds a just-accepted connection; false once the server is shutting down.
  bool Register(std::shared_ptr<ConnectionBase> connection) {
    MutexLock lock(&mutex);
    if (shutting_down) return false;
    const ConnectionBase* key = connection.get();
    connections.emplace(key, std::move(connection));
    return true;
  }

  // Whether options.max_connections are open. Only the acceptor adds
  // connections, so for it a false stays false until its next Register.
  bool Full() {
    MutexLock lock(&mutex);
    return connections.size() >= options.max_connections;
  }

  void Unregister(const ConnectionBase* connection) {
    std::shared_ptr<ConnectionBase> released;  // dropped after the lock
    MutexLock lock(&mutex);
    auto it = connections.find(connection);
    if (it == connections.end()) return;
    released = std::move(it->second);
    connections.erase(it);
    if (connections.empty()) drained.SignalAll();
  }

  const ServerOptions options;
  // Cleared once the IO threads have stopped, releasing what it captured.
  Handler handler;
  std::atomic<bool> shutting_down{false};
  std::atomic<uint64_t> requests_served{0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  const std::string refusal;

  // Answers from handlers on other threads (the audit log's writer answers a
  // whole group commit at once), handed to the IO context by one posted
  // function per group rather than one wake-up per answer.
  struct Answer {
    std::shared_ptr<ConnectionBase> connection;
    uint64_t seq;
    HttpResponse response;
  };
  // Runs on an IO thread: each waiting answer goes to its connection.
  void DeliverAnswers();

  // The IO context's executor; set before the IO threads start.
  net::any_io_executor io;
  Mutex mutex;
  CondVar drained;  // signalled when `connections` becomes empty
  std::vector<Answer> answers GUARDED_BY(mutex);
  // Set when the IO threads are about to stop: from then on nothing may be
  // posted to the IO context, which may be destroyed.
  bool stopped GUARDED_BY(mutex) = false;
  // Every open connection; the server's owning reference while no
  // asynchronous operation holds one (a request being handled).
  std::unordered_map<const ConnectionBase*, std::shared_ptr<ConnectionBase>> connections
      GUARDED_BY(mutex);
};

class ConnectionBase : public std::enable_shared_from_this<ConnectionBase> {
 public:
  explicit ConnectionBase(net::any_io_executor strand) : strand_(std::move(strand)) {}
  virtual ~ConnectionBase() = default;
  ConnectionBase(const ConnectionBase&) = delete;
  ConnectionBase& operator=(const ConnectionBase&) = delete;

  // The connection's strand; every method below but CloseSocket runs on it.
  const net::any_io_executor& strand() const { return strand_; }

  virtual void Start() = 0;
  // The answer to request number `seq`, unless that request is no longer the
  // one being handled.
  virtual void OnResponse(uint64_t seq, HttpResponse response) = 0;
  virtual void OnShutdown() = 0;
  // REQUIRES: the IO threads have stopped.
  virtual void CloseSocket() = 0;

 private:
  const net::any_io_executor strand_;
};

// The state behind one Respond and its copies: answers once, and answers 500
// if the handler lost every copy without answering.
class Responder {
 public:
  Responder(std::shared_ptr<Shared> shared, std::weak_ptr<ConnectionBase> connection, uint64_t seq)
      : shared_(std::move(shared)), connection_(std::move(connection)), seq_(seq) {}
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  ~Responder() {
    if (answered_.exchange(true)) return;
    if (Deliver(InternalError())) {
      shared_->Log("a handler dropped its Respond without calling it; the client got a 500");
    }
  }

  void Send(HttpResponse response) {
    if (!answered_.exchange(true)) Deliver(std::move(response));
  }

 private:
  // Posts the response to the connection's strand; false if the server or the
  // connection is gone.
  bool Deliver(HttpResponse response) noexcept {
    try {
      MutexLock lock(&shared_->mutex);
      if (shared_->stopped) return false;
      std::shared_ptr<ConnectionBase> connection = connection_.lock();
      if (!connection) return false;
      // Moved into the queue so that this thread never holds the last
      // reference: a connection must not outlive the IO context.
      bool first = shared_->answers.empty();
      shared_->answers.push_back({std::move(connection), seq_, std::move(response)});
      if (first) net::post(shared_->io, [shared = shared_] { shared->DeliverAnswers(); });
      return true;
    } catch (...) {  // allocation failed; the connection is cut at shutdown
      return false;
    }
  }

  const std::shared_ptr<Shared> shared_;
  const std::weak_ptr<ConnectionBase> connection_;
  const uint64_t seq_;
  std::atomic<bool> answered_{false};
};

void Shared::DeliverAnswers() {
  std::vector<Answer> batch;
  {
    MutexLock lock(&mutex);
    batch.swap(answers);
  }
  for (Answer& a : batch) {
    net::any_io_executor strand = a.connection->strand();
    net::post(strand, [connection = std::move(a.connection), seq = a.seq,
                       response = std::move(a.response)]() mutable {
      connection->OnResponse(seq, std::move(response));
    });
  }
}

// A plain-HTTP connection over max_connections: it gets Shared::refusal
// without being read, then the server lingers as after a last response and
// closes. Kept alive only by its own pending operations, which the IO context
// destroys at shutdown; it is not among Shared::connections.
class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  Refusal(std::shared_ptr<Shared> shared, tcp::socket socket)
      : shared_(std::move(shared)), stream_(std::move(socket)) {}

  void Start() {
    stream_.expires_after(shared_->options.write_timeout);
    net::async_write(
        stream_, net::buffer(shared_->refusal),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->stream_.close();
          if (self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec)) {
            return self->stream_.close();
          }
          self->stream_.expires_after(std::min(kLinger, self->shared_->options.read_timeout));
          self->Drain();
        });
  }

 private:
  void Drain() {
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->stream_.close();
                              self->Drain();
                            });
  }

  const std::shared_ptr<Shared> shared_;
  beast::tcp_stream stream_;
  std::array<char, kIdleRead> discard_;
};

// One client connection over Stream: beast::tcp_stream, or
// beast::ssl_stream<beast::tcp_stream> for TLS.
template <class Stream>
class Connection final : public ConnectionBase {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... StreamArgs>
  Connection(std::shared_ptr<Shared> shared, std::string remote, net::any_io_executor strand,
             StreamArgs&&... stream_args)
      : ConnectionBase(std::move(strand)),
        shared_(std::move(shared)),
        options_(shared_->options),
        remote_(std::move(remote)),
        stream_(std::forward<StreamArgs>(stream_args)...),
        buffer_(std::max(options_.header_limit, kReadBufferMin)) {}

  void Start() override {
    net::dispatch(strand(), [self = Self()] { self->Begin(); });
  }

  void OnResponse(uint64_t seq, HttpResponse response) override {
    if (state_ != State::kHandling || seq != seq_) return;
    Write(std::move(response));
  }

  void OnShutdown() override {
    if (state_ == State::kHandshake || state_ == State::kIdle || state_ == State::kReading) {
      Finish();
    }
  }

  void CloseSocket() override { Lowest().close(); }

 private:
  enum class State { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing, kClosed };

  std::shared_ptr<Connection> Self() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    if (state_ == State::kClosed) return;  // shut down before it began
    if constexpr (kTls) {
      Lowest().expires_after(options_.read_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        if (ec) return self->Finish();
        self->ReadRequest(/*first=*/true);
      });
    } else {
      ReadRequest(/*first=*/true);
    }
  }

  void ReadRequest(bool first) {
    // A keep-alive response may have been started just before shutdown.
    if (shared_->shutting_down) return GracefulClose();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(options_.header_limit, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(static_cast<uint64_t>(options_.body_limit));
    preauth_limited_ = false;
    // Between requests the idle timeout applies until the next one begins;
    // bytes already buffered (pipelining) mean it has begun.
    if (first || buffer_.size() > 0) return ReadHeader();
    state_ = State::kIdle;
    Lowest().expires_after(options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kIdleRead),
                            [self = Self()](beast::error_code ec, size_t n) {
                              if (ec) return self->Finish();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    state_ = State::kReading;
    Lowest().expires_after(options_.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code ec, size_t) {
                              if (ec) return self->OnReadError(ec);
                              self->OnHeader();
                            });
  }

  void OnHeader() {
    const auto& header = parser_->get();
    if (std::string_view problem = FramingProblem(header); !problem.empty()) {
      return Reject(400, "bad_request", problem);
    }
    if (parser_->is_done()) return Handle();
    // A body announced within the pre-authentication limit needs no early
    // check (the handler authenticates it); only a larger or chunked one
    // does, before it is read.
    auto length = parser_->content_length();
    if (options_.preauth_body_limit < options_.body_limit &&
        !(length && *length <= options_.preauth_body_limit) && !Authenticated()) {
      if (length) return RejectPreauth();
      // No body byte has been parsed yet: async_read_header stops at the
      // end of the head.
      parser_->body_limit(static_cast<uint64_t>(options_.preauth_body_limit));
      preauth_limited_ = true;
    }
    // Clients that ask wait for this before sending the body; one over the
    // limit was refused already, when its Content-Length was parsed.
    if (header.version() >= 11 && IEquals(View(header[http::field::expect]), "100-continue")) {
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = Self()](beast::error_code ec, size_t) {
                         if (ec) return self->Finish();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->Handle();
    });
  }

  // What ServerOptions::authenticated says of the request whose head was
  // just read; true when it is not set.
  bool Authenticated() {
    if (!options_.authenticated) return true;
    HttpRequest request;
    if (!FillHead(parser_->get(), request)) return false;
    request.remote = remote_;
    request.tls = kTls;
    try {
      return options_.authenticated(request);
    } catch (const std::exception& e) {
      shared_->Log(fmt::format("the authentication check for {} {} threw: {}", request.method,
                               request.target, e.what()));
    } catch (...) {
      shared_->Log(fmt::format("the authentication check for {} {} threw a non-standard exception",
                               request.method, request.target));
    }
    return false;
  }

  void RejectPreauth() {
    Reject(413, "payload_too_large",
           fmt::format("the request body exceeds the pre-authentication limit of {} bytes",
                       options_.preauth_body_limit));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      if (preauth_limited_) return RejectPreauth();
      return Reject(413, "payload_too_large",
                    fmt::format("the request body exceeds {} bytes", options_.body_limit));
    }
    // Beast refuses these itself when it meets the second field; its words
    // would not say why.
    if (ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length) {
      const auto& header = parser_->get();
      bool content_length = header.find(http::field::content_length) != header.end();
      bool transfer_encoding = header.find(http::field::transfer_encoding) != header.end();
      if (ec == http::error::bad_transfer_encoding) {
        return Reject(400, "bad_request", content_length ? kBothFramings : kChunkedLast);
      }
      if (transfer_encoding) return Reject(400, "bad_request", kBothFramings);
    }
    if (ec == http::error::header_limit) {
      return Reject(431, "headers_too_large",
                    fmt::format("the request headers exceed {} bytes", options_.header_limit));
    }
    // Any other parse error is the client's malformed input; end_of_stream
    // and partial_message only mean that the client left.
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Reject(400, "bad_request", fmt::format("malformed HTTP request: {}", ec.message()));
    }
    Finish();  // the client left or was too slow, or the server is shutting down
  }

  // Answers a request that could not be read, then closes: the rest of the
  // input cannot be trusted to start at a request boundary.
  void Reject(int status, std::string_view code, std::string_view message) {
    keep_alive_ = false;
    version_ = 11;
    head_ = false;
    Write(ErrorResponse(status, code, message));
  }

  void Handle() {
    state_ = State::kHandling;
    Lowest().expires_never();  // the handler takes as long as it takes
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    head_ = message.method() == http::verb::head;
    ++seq_;

    HttpRequest request;
    if (!FillHead(message, request)) {
      return Write(ErrorResponse(400, "bad_request",
                                 "the request target is not a path with valid percent-encoding"));
    }
    request.body = std::move(message.body());
    request.remote = remote_;
    request.tls = kTls;

    auto responder = std::make_shared<Responder>(shared_, weak_from_this(), seq_);
    Respond respond = [responder](HttpResponse response) { responder->Send(std::move(response)); };
    try {
      shared_->handler(std::move(request), respond);
    } catch (const std::exception& e) {
      shared_->Log(fmt::format("the handler for {} {} threw: {}", View(message.method_string()),
                               View(message.target()), e.what()));
      respond(InternalError());
    } catch (...) {
      shared_->Log(fmt::format("the handler for {} {} threw a non-standard exception",
                               View(message.method_string()), View(message.target())));
      respond(InternalError());
    }
  }

  void Write(HttpResponse response) {
    state_ = State::kWriting;
    std::string problem;
    try {
      problem = BuildResponse(response);
    } catch (const std::exception& e) {
      problem = fmt::format("the handler's response could not be encoded: {}", e.what());
    }
    if (!problem.empty()) {
      shared_->Log(problem);
      HttpResponse fallback = InternalError();
      BuildResponse(fallback);
    }
    Lowest().expires_after(options_.write_timeout);
    http::async_write(stream_, response_, [self = Self()](beast::error_code ec, size_t) {
      if (ec) return self->Finish();
      self->shared_->requests_served.fetch_add(1, std::memory_order_relaxed);
      bool keep_alive = self->response_.keep_alive();
      self->response_ = {};  // release the body while idle
      if (!keep_alive) return self->GracefulClose();
      self->ReadRequest(/*first=*/false);
    });
  }

  // Fills response_ from `response`; a non-empty result says what is wrong
  // with it, and response_ is then to be rebuilt.
  std::string BuildResponse(HttpResponse& response) {
    if (response.status < 200 || response.status > 599) {
      return fmt::format("the handler answered with status {}, outside 200-599", response.status);
    }
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(response.status));
    response_.set(http::field::server, BeastView(kServerName));
    if (!response.content_type.empty()) {
      if (!IsFieldValue(response.content_type)) {
        return "the handler answered with a control character in the content type";
      }
      response_.set(http::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : response.headers) {
      if (!IsToken(name) || !IsFieldValue(value)) {
        return fmt::format("the handler answered with an invalid header \"{}\"", JsonEscaped(name));
      }
      if (IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
          IEquals(name, "connection")) {
        return fmt::format("the handler set the header \"{}\", which is the server's", name);
      }
      if (IEquals(name, "server")) {
        response_.set(http::field::server, value);
      } else {
        response_.insert(name, value);
      }
    }
    response_.keep_alive(keep_alive_ && !shared_->shutting_down);
    // RFC 9110 sections 15.3.5 and 15.4.5: neither has content nor a length.
    if (response.status != 204 && response.status != 304) {
      response_.body() = std::move(response.body);
      response_.prepare_payload();
      // RFC 9110 section 9.3.2: the length of what GET would send, without it.
      if (head_) response_.body().clear();
    }
    return {};
  }

  void GracefulClose() {
    state_ = State::kClosing;
    Lowest().expires_after(std::min(kLinger, options_.read_timeout));
    if constexpr (kTls) {
      stream_.async_shutdown([self = Self()](beast::error_code) { self->Finish(); });
    } else {
      beast::error_code ec;
      if (Lowest().socket().shutdown(tcp::socket::shutdown_send, ec)) return Finish();
      Drain();
    }
  }

  void Drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kIdleRead),
                            [self = Self()](beast::error_code ec, size_t) {
                              if (ec) return self->Finish();
                              self->Drain();
                            });
  }

  void Finish() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    Lowest().close();
    shared_->Unregister(this);
  }

  const std::shared_ptr<Shared> shared_;
  const ServerOptions& options_;  // shared_->options
  const std::string remote_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  State state_ = kTls ? State::kHandshake : State::kReading;
  uint64_t seq_ = 0;  // the number of the request being handled
  // Whether the request being read is held to preauth_body_limit.
  bool preauth_limited_ = false;
  // Of the request being answered.
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool head_ = false;
};

using PlainConnection = Connection<beast::tcp_stream>;
using TlsConnection = Connection<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (IEquals(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string_view> HttpRequest::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

// Members are destroyed in reverse order: the acceptor before the IO context,
// whose destruction destroys the connections still referenced by queued
// handlers, and the TLS context after both.
struct HttpServer::Impl {
  Impl(std::shared_ptr<Shared> s, size_t thread_count)
      : shared(std::move(s)),
        io(static_cast<int>(thread_count)),
        work(io.get_executor()),
        acceptor(net::make_strand(io)),
        accept_retry(acceptor.get_executor()) {
    shared->io = io.get_executor();
  }

  void Accept() {
    acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        shared->Log(fmt::format("accepting a connection failed: {}", ec.message()));
        accept_retry.expires_after(kAcceptRetry);
        accept_retry.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) Accept();
        });
        return;
      }
      try {
        Serve(std::move(socket));
      } catch (const std::exception& e) {
        shared->Log(fmt::format("setting up a connection failed: {}", e.what()));
      }
      Accept();
    });
  }

  void Serve(tcp::socket socket) {
    beast::error_code ec;
    tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec || socket.set_option(tcp::no_delay(true), ec)) return;  // the client is gone already
    if (shared->Full()) {
      shared->connections_refused.fetch_add(1, std::memory_order_relaxed);
      // A TLS client could not read a plain answer, and a handshake is
      // work that the limit is there to refuse: the socket just closes.
      if (!tls) std::make_shared<Refusal>(shared, std::move(socket))->Start();
      return;
    }
    shared->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    std::string remote = FormatEndpoint(peer);
    net::any_io_executor strand = socket.get_executor();
    std::shared_ptr<ConnectionBase> connection;
    if (tls) {
      connection = std::make_shared<TlsConnection>(shared, std::move(remote), strand,
                                                   std::move(socket), *tls);
    } else {
      connection =
          std::make_shared<PlainConnection>(shared, std::move(remote), strand, std::move(socket));
    }
    if (!shared->Register(connection)) return;
    connection->Start();
  }

  void CloseAcceptor() {
    beast::error_code ec;
    if (acceptor.close(ec)) {
      shared->Log(fmt::format("closing the listening socket failed: {}", ec.message()));
    }
  }

  void Run() {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        shared->Log(fmt::format("an IO thread caught: {}", e.what()));
      }
    }
  }

  std::shared_ptr<Shared> shared;
  std::optional<ssl::context> tls;
  net::io_context io;
  // Keeps the IO threads running while a connection waits for its handler
  // and so has no operation pending.
  net::executor_work_guard<net::io_context::executor_type> work;
  tcp::acceptor acceptor;  // used on its own strand
  net::steady_timer accept_retry;
  tcp::endpoint local;
  std::vector<std::thread> threads;

  Mutex shutdown_mutex;
  bool shut_down GUARDED_BY(shutdown_mutex) = false;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(kDefaultGrace); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(ServerOptions options, Handler handler) {
  if (!handler) return std::unexpected(Error::InvalidArgument("the HTTP handler is empty"));
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return std::unexpected(Error::InvalidArgument(
        "tls_cert_file and tls_key_file must be given together, or neither"));
  }
  for (auto [name, value] : {std::pair{"read_timeout", options.read_timeout},
                             std::pair{"idle_timeout", options.idle_timeout},
                             std::pair{"write_timeout", options.write_timeout}}) {
    if (value.count() <= 0) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("{} must be positive, not {} ms", name, value.count())));
    }
  }
  if (options.header_limit == 0) {
    return std::unexpected(Error::InvalidArgument("header_limit must be positive"));
  }
  if (options.max_connections == 0) {
    return std::unexpected(Error::InvalidArgument("max_connections must be positive"));
  }
  auto endpoint = ParseListen(options.listen);
  if (!endpoint) return std::unexpected(endpoint.error());

  try {
    size_t thread_count = options.threads;
    if (thread_count == 0) thread_count = std::max(1u, std::thread::hardware_concurrency());
    auto shared = std::make_shared<Shared>(std::move(options), std::move(handler));
    auto impl = std::make_unique<Impl>(shared, thread_count);
    const ServerOptions& opts = shared->options;

    if (!opts.tls_cert_file.empty()) {
      impl->tls.emplace(ssl::context::tls_server);
      if (auto loaded = LoadTls(*impl->tls, opts); !loaded) {
        return std::unexpected(loaded.error());
      }
    }

    tcp::acceptor& acceptor = impl->acceptor;
    beast::error_code ec;
    if (acceptor.open(endpoint->protocol(), ec) ||
        acceptor.set_option(net::socket_base::reuse_address(true), ec) ||
        acceptor.bind(*endpoint, ec) ||
        acceptor.listen(net::socket_base::max_listen_connections, ec)) {
      return std::unexpected(ListenError(opts.listen, ec));
    }
    impl->local = acceptor.local_endpoint(ec);
    if (ec) return std::unexpected(ListenError(opts.listen, ec));

    impl->Accept();
    std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
    Impl& started = *server->impl_;
    try {
      for (size_t i = 0; i < thread_count; ++i) {
        started.threads.emplace_back([&started] { started.Run(); });
      }
    } catch (const std::system_error& e) {
      server->Shutdown(std::chrono::milliseconds(0));
      return std::unexpected(Error::Io(fmt::format("cannot start the IO threads: {}", e.what())));
    }
    return server;
  } catch (const std::exception& e) {  // allocation or an unexpected Boost failure
    return std::unexpected(
        Error::Internal(fmt::format("cannot start the HTTP server: {}", e.what())));
  }
}

std::string HttpServer::address() const { return FormatEndpoint(impl_->local); }

uint16_t HttpServer::port() const { return impl_->local.port(); }

HttpStats HttpServer::stats() const {
  Shared& shared = *impl_->shared;
  HttpStats stats;
  stats.requests_served = shared.requests_served.load(std::memory_order_relaxed);
  stats.connections_accepted = shared.connections_accepted.load(std::memory_order_relaxed);
  stats.connections_refused = shared.connections_refused.load(std::memory_order_relaxed);
  MutexLock lock(&shared.mutex);
  stats.connections_open = shared.connections.size();
  return stats;
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  Impl& impl = *impl_;
  {
    MutexLock lock(&impl.shutdown_mutex);
    if (impl.shut_down) return;
    impl.shut_down = true;
  }
  Shared& shared = *impl.shared;
  auto deadline = std::chrono::steady_clock::now() + grace;

  std::vector<std::shared_ptr<ConnectionBase>> open;
  {
    MutexLock lock(&shared.mutex);
    shared.shutting_down = true;
    open.reserve(shared.connections.size());
    for (const auto& [key, connection] : shared.connections) open.push_back(connection);
  }
  net::post(impl.acceptor.get_executor(), [&impl] {
    impl.CloseAcceptor();
    impl.accept_retry.cancel();
  });
  for (auto& connection : open) {
    net::post(connection->strand(), [connection] { connection->OnShutdown(); });
  }
  open.clear();

  {
    MutexLock lock(&shared.mutex);
    for (auto now = std::chrono::steady_clock::now(); !shared.connections.empty() && now < deadline;
         now = std::chrono::steady_clock::now()) {
      shared.drained.WaitFor(&shared.mutex, deadline - now);
    }
    shared.stopped = true;
  }
  impl.work.reset();
  impl.io.stop();
  for (auto& thread : impl.threads) thread.join();

  // Nothing runs on the IO context any more: cut what outlived the grace.
  impl.CloseAcceptor();
  decltype(shared.connections) leftover;
  std::vector<Shared::Answer> undelivered;  // their DeliverAnswers never ran
  {
    MutexLock lock(&shared.mutex);
    leftover.swap(shared.connections);
    undelivered.swap(shared.answers);
  }
  // Each socket is closed on its own, so the order does not matter.
  // NOLINTNEXTLINE(bugprone-nondeterministic-pointer-iteration-order)
  for (auto& [key, connection] : leftover) connection->CloseSocket();
  leftover.clear();
  undelivered.clear();
  shared.handler = nullptr;
}

}  // namespace interlock::server
