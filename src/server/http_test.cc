#include "server/http.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace interlock::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Response = http::response<http::string_body>;
using namespace std::chrono_literals;

std::string Str(beast::string_view text) { return std::string(text.data(), text.size()); }

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return fmt::format("GET {} HTTP/1.1\r\nHost: test\r\n{}\r\n", target, extra_headers);
}

std::string Post(std::string_view target, std::string_view body,
                 std::string_view extra_headers = "") {
  return fmt::format("POST {} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n{}\r\n{}", target,
                     body.size(), extra_headers, body);
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  return fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
}

// The client calls below block without a timeout, so a test whose server
// never answers would hang the run; it is ended by SIGALRM instead. Only
// this file's tests: the listener sees every test of the binary, and others
// (the crash tests) take longer than a minute on a loaded machine.
class Watchdog : public testing::EmptyTestEventListener {
  void OnTestStart(const testing::TestInfo& test) override {
    if (Ours(test)) ::alarm(60);
  }
  void OnTestEnd(const testing::TestInfo& test) override {
    if (Ours(test)) ::alarm(0);
  }
  static bool Ours(const testing::TestInfo& test) {
    return std::string_view(test.file()).ends_with("http_test.cc");
  }
};
[[maybe_unused]] const bool kWatchdogInstalled = [] {
  testing::UnitTest::GetInstance()->listeners().Append(new Watchdog);  // gtest owns it
  return true;
}();

// `head`: the response to a HEAD request, which has no body whatever its
// Content-Length says.
template <class Stream>
Response ReadResponse(Stream& stream, beast::flat_buffer& buffer, bool head = false) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  parser.skip(head);
  beast::error_code ec;
  http::read(stream, buffer, parser, ec);
  if (ec) {
    ADD_FAILURE() << "reading a response: " << ec.message();
    return {};
  }
  return parser.release();
}

// The error that ends the stream once everything the server sent has been
// read: eof when the server closed the connection cleanly.
template <class Stream>
beast::error_code ReadToEnd(Stream& stream, beast::flat_buffer& buffer) {
  beast::error_code ec;
  while (!ec) {
    buffer.consume(buffer.size());
    buffer.commit(stream.read_some(buffer.prepare(4096), ec));
  }
  return ec;
}

// A blocking plain-HTTP client over one connection.
class Client {
 public:
  explicit Client(uint16_t port, const std::string& host = "127.0.0.1") : socket_(io_) {
    beast::error_code ec;
    socket_.connect(tcp::endpoint(net::ip::make_address(host), port), ec);
    EXPECT_FALSE(ec) << "connecting: " << ec.message();
  }

  void Send(std::string_view bytes) {
    beast::error_code ec;
    net::write(socket_, net::buffer(bytes.data(), bytes.size()), ec);
    EXPECT_FALSE(ec) << "sending: " << ec.message();
  }
  Response Read(bool head = false) { return ReadResponse(socket_, buffer_, head); }
  Response Exchange(std::string_view request) {
    Send(request);
    return Read();
  }
  beast::error_code ReadToEnd() { return server::ReadToEnd(socket_, buffer_); }
  void Close() {
    beast::error_code ec;
    socket_.close(ec);
  }

 private:
  net::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

bool ConnectionRefused(uint16_t port) {
  net::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  return ec == net::error::connection_refused;
}

// Lines given to ServerOptions::log.
class LogLines {
 public:
  std::function<void(std::string_view)> Sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Remembers the requests the server handed over and answers each with 200
// and the request target as body.
class Recorder {
 public:
  Handler handler() {
    return [this](HttpRequest request, Respond respond) {
      HttpResponse response;
      response.content_type = "text/plain";
      response.body = request.target;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
      }
      respond(std::move(response));
    };
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
};

// Runs tasks in order on a thread of its own, as an application's worker.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

ServerOptions LoopbackOptions() {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  return options;
}

std::unique_ptr<HttpServer> MustStart(ServerOptions options, Handler handler) {
  auto server = HttpServer::Start(std::move(options), std::move(handler));
  EXPECT_TRUE(server.has_value()) << server.error().message();
  return server ? std::move(*server) : nullptr;
}

// A fresh directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "http_test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(std::string_view name) const { return fmt::format("{}/{}", path_, name); }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, std::string_view contents) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  std::fwrite(contents.data(), 1, contents.size(), file);
  std::fclose(file);
}

struct TlsFiles {
  std::string cert;
  std::string key;
};

// A fresh P-256 key and a self-signed certificate for "localhost", as PEM
// files named <prefix>.crt and <prefix>.key in `dir`.
TlsFiles MakeSelfSigned(const TempDir& dir, std::string_view prefix) {
  TlsFiles files{dir.File(fmt::format("{}.crt", prefix)), dir.File(fmt::format("{}.key", prefix))};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  EXPECT_TRUE(key && cert);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  EXPECT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);

  std::FILE* cert_file = std::fopen(files.cert.c_str(), "wb");
  std::FILE* key_file = std::fopen(files.key.c_str(), "wb");
  EXPECT_TRUE(cert_file && key_file);
  if (cert_file) {
    EXPECT_EQ(PEM_write_X509(cert_file, cert.get()), 1);
    std::fclose(cert_file);
  }
  if (key_file) {
    EXPECT_EQ(PEM_write_PrivateKey(key_file, key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
    std::fclose(key_file);
  }
  return files;
}

// A blocking TLS client that trusts `cert`; `max_version` caps the protocol.
class TlsClient {
 public:
  TlsClient(uint16_t port, const std::string& cert, int max_version = TLS1_3_VERSION)
      : context_(ssl::context::tls_client), stream_(io_, context_) {
    SSL_set_max_proto_version(stream_.native_handle(), max_version);
    context_.load_verify_file(cert);
    stream_.set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    stream_.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    EXPECT_FALSE(ec) << "connecting: " << ec.message();
  }

  beast::error_code Handshake() {
    beast::error_code ec;
    stream_.handshake(ssl::stream_base::client, ec);
    return ec;
  }
  Response Exchange(std::string_view request) {
    beast::error_code ec;
    net::write(stream_, net::buffer(request.data(), request.size()), ec);
    EXPECT_FALSE(ec) << "sending: " << ec.message();
    return ReadResponse(stream_, buffer_);
  }
  std::string version() { return SSL_get_version(stream_.native_handle()); }

 private:
  net::io_context io_;
  ssl::context context_;
  ssl::stream<tcp::socket> stream_;
  beast::flat_buffer buffer_;
};

// ---------------------------------------------------------------------------
// Requests and responses

TEST(HttpServer, GetRoundTripShowsTheHandlerTheDecodedRequest) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response =
      client.Exchange(Get("/v1/a%20b/c+d?state=pending&x=a%2Bb+c&empty=&flag&&z=%C3%A9",
                          "X-Custom-Header: Some Value\r\n"));

  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "/v1/a%20b/c+d?state=pending&x=a%2Bb+c&empty=&flag&&z=%C3%A9");
  EXPECT_EQ(Str(response[http::field::server]), "Interlock");
  EXPECT_EQ(Str(response[http::field::content_type]), "text/plain");
  EXPECT_EQ(Str(response[http::field::content_length]), std::to_string(response.body().size()));
  auto requests = recorder.requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& request = requests[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/v1/a b/c+d");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(
      request.query,
      (Pairs{
          {"state", "pending"}, {"x", "a+b c"}, {"empty", ""}, {"flag", ""}, {"z", "\xC3\xA9"}}));
  EXPECT_EQ(request.Query("state"), "pending");
  EXPECT_EQ(request.Query("missing"), std::nullopt);
  EXPECT_EQ(request.headers, (Pairs{{"host", "test"}, {"x-custom-header", "Some Value"}}));
  EXPECT_EQ(request.Header("x-custom-header"), "Some Value");
  EXPECT_EQ(request.Header("X-Custom-Header"), "Some Value");
  EXPECT_EQ(request.body, "");
  EXPECT_EQ(request.remote.rfind("127.0.0.1:", 0), 0u) << request.remote;
  EXPECT_FALSE(request.tls);
}

TEST(HttpServer, PostRoundTripCarriesBodyStatusAndHeaders) {
  auto server = MustStart(LoopbackOptions(), [](HttpRequest request, Respond respond) {
    HttpResponse response;
    response.status = 201;
    response.headers = {{"X-Method", request.method},
                        {"X-Type", std::string(request.Header("content-type").value_or(""))},
                        {"Server", "Custom"}};
    response.body = "got " + request.body;
    respond(std::move(response));
  });
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response =
      client.Exchange(Post("/items", "{\"name\":\"x\"}", "Content-Type: application/json\r\n"));

  EXPECT_EQ(response.result_int(), 201);
  EXPECT_EQ(response.body(), "got {\"name\":\"x\"}");
  EXPECT_EQ(Str(response["X-Method"]), "POST");
  EXPECT_EQ(Str(response["X-Type"]), "application/json");
  EXPECT_EQ(Str(response[http::field::server]), "Custom");
  EXPECT_EQ(Str(response[http::field::content_type]), "application/json");
}

TEST(HttpServer, ChunkedBodyWithinTheLimitIsDechunked) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response = client.Exchange(
      "POST /c HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");

  EXPECT_EQ(response.result_int(), 200);
  ASSERT_EQ(recorder.requests().size(), 1u);
  EXPECT_EQ(recorder.requests()[0].body, "hello world");
}

TEST(HttpServer, AbsoluteFormTargetGivesThePath) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  EXPECT_EQ(client.Exchange(Get("http://test:8080/a/b?q=1")).result_int(), 200);

  ASSERT_EQ(recorder.requests().size(), 1u);
  EXPECT_EQ(recorder.requests()[0].path, "/a/b");
  EXPECT_EQ(recorder.requests()[0].Query("q"), "1");
}

TEST(HttpServer, ExpectContinueGetsAnInterimResponseBeforeTheBody) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  client.Send(
      "POST /e HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 100);
  Response response = client.Exchange("body");

  EXPECT_EQ(response.result_int(), 200);
  ASSERT_EQ(recorder.requests().size(), 1u);
  EXPECT_EQ(recorder.requests()[0].body, "body");
}

// ---------------------------------------------------------------------------
// Connections

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  for (int i = 0; i < 5; ++i) {
    Response response = client.Exchange(Get(fmt::format("/r{}", i)));
    EXPECT_EQ(response.body(), fmt::format("/r{}", i));
    EXPECT_TRUE(response.keep_alive());
  }

  EXPECT_EQ(server->stats().connections_accepted, 1u);
  auto requests = recorder.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].remote, requests[4].remote);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  client.Send(Get("/first") + Post("/second", "2") + Get("/third"));

  EXPECT_EQ(client.Read().body(), "/first");
  EXPECT_EQ(client.Read().body(), "/second");
  EXPECT_EQ(client.Read().body(), "/third");
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response = client.Exchange(Get("/bye", "Connection: close\r\n"));

  EXPECT_EQ(response.result_int(), 200);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(Str(response[http::field::connection]), "close");
  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
}

TEST(HttpServer, Http10IsClosedUnlessItAsksForKeepAlive) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);

  Client keep(server->port());
  Response first = keep.Exchange("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(first.version(), 10u);
  EXPECT_EQ(Str(first[http::field::connection]), "keep-alive");
  EXPECT_EQ(keep.Exchange("GET /b HTTP/1.0\r\n\r\n").body(), "/b");
  EXPECT_EQ(keep.ReadToEnd(), net::error::eof);
}

TEST(HttpServer, SlowClientIsClosedAfterTheReadTimeout) {
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.read_timeout = 200ms;
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  client.Send("GET / HTTP/1.1\r\nHost: te");

  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.idle_timeout = 200ms;
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  EXPECT_EQ(client.Exchange(Get("/")).result_int(), 200);

  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
}

// ---------------------------------------------------------------------------
// Limits and malformed input

TEST(HttpServer, OversizedContentLengthGets413AndIsClosed) {
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.body_limit = 1024;
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response =
      client.Exchange("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 1025\r\n\r\n");

  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(Str(response[http::field::content_type]), "application/json");
  EXPECT_EQ(response.body(), ErrorBody("payload_too_large", "the request body exceeds 1024 bytes"));
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpServer, OversizedChunkedBodyGets413) {
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.body_limit = 1024;
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  std::string request = "POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(512, 'x') + "\r\n";
  request += "0\r\n\r\n";
  Response response = client.Exchange(request);

  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(response.body(), ErrorBody("payload_too_large", "the request body exceeds 1024 bytes"));
  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpServer, HugeHeadersGet431) {
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.header_limit = 1024;
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response = client.Exchange(Get("/", "X-Big: " + std::string(2000, 'a') + "\r\n"));

  EXPECT_EQ(response.result_int(), 431);
  EXPECT_EQ(response.body(),
            ErrorBody("headers_too_large", "the request headers exceed 1024 bytes"));
  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpServer, GarbageGets400AndIsClosed) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response = client.Exchange(std::string("\x16\x03\x01\x00garbage\r\n\r\n", 14));

  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(response.body(), ErrorBody("bad_request", "malformed HTTP request: bad method"));
  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  EXPECT_TRUE(recorder.requests().empty());
}

// A body framed by anything but a final chunked coding could end anywhere;
// what follows it must not be served as the next request.
TEST(HttpServer, TransferEncodingNotEndingInChunkedGets400AndNothingAfterItIsServed) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);

  for (std::string_view codings :
       {"gzip", "gzip, identity", "chunked, gzip", "chunked, chunked", "chunked;x=1, chunked", "",
        "gzip\r\nTransfer-Encoding: identity", "chunked\r\nTransfer-Encoding: gzip"}) {
    SCOPED_TRACE(codings);
    Client client(server->port());
    Response response = client.Exchange(
        fmt::format("POST /first HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: {}\r\n\r\n{}",
                    codings, Get("/smuggled")));

    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(response.body(),
              ErrorBody("bad_request", "Transfer-Encoding must end in chunked and name it once"));
    EXPECT_FALSE(response.keep_alive());
    EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  }
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpServer, TransferEncodingWithContentLengthGets400AndNothingAfterItIsServed) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);

  for (std::string_view fields : {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                                  "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                  "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n",
                                  "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n"}) {
    SCOPED_TRACE(fields);
    Client client(server->port());
    Response response = client.Exchange(fmt::format(
        "POST /first HTTP/1.1\r\nHost: test\r\n{}\r\n0\r\n\r\n{}", fields, Get("/smuggled")));

    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(response.body(),
              ErrorBody("bad_request",
                        "a request must not carry both Transfer-Encoding and Content-Length"));
    EXPECT_FALSE(response.keep_alive());
    EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  }
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpServer, ChunkedAfterOtherCodingsIsAccepted) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response = client.Exchange(
      "POST /x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n"
      "Transfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");

  EXPECT_EQ(response.result_int(), 200);
  ASSERT_EQ(recorder.requests().size(), 1u);
  EXPECT_EQ(recorder.requests()[0].body, "abc");
}

// Waits for `condition`, which the server makes true on its own threads;
// false if it is still false after 10 s.
bool Eventually(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(HttpServer, ConnectionOverTheLimitGets503UntilOneCloses) {
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.max_connections = 2;
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  auto first = std::make_unique<Client>(server->port());
  Client second(server->port());
  ASSERT_TRUE(Eventually([&] { return server->stats().connections_open == 2; }));

  Client third(server->port());
  Response refused = third.Read();
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_EQ(Str(refused[http::field::content_type]), "application/json");
  EXPECT_EQ(refused.body(),
            ErrorBody("too_many_connections",
                      "the server is at its limit of 2 open connections; try again later"));
  EXPECT_FALSE(refused.keep_alive());
  EXPECT_EQ(third.ReadToEnd(), net::error::eof);
  EXPECT_EQ(server->stats().connections_refused, 1u);

  first.reset();
  ASSERT_TRUE(Eventually([&] { return server->stats().connections_open == 1; }));
  Client fourth(server->port());
  EXPECT_EQ(fourth.Exchange(Get("/fourth")).body(), "/fourth");
  EXPECT_EQ(second.Exchange(Get("/second")).body(), "/second");
  EXPECT_EQ(recorder.requests().size(), 2u);
  EXPECT_EQ(server->stats().connections_accepted, 3u);
}

TEST(HttpServer, ZeroMaxConnectionsIsRefused) {
  ServerOptions options = LoopbackOptions();
  options.max_connections = 0;
  auto server = HttpServer::Start(options, Recorder().handler());
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().message(), "max_connections must be positive");
}

// Options where a request is authenticated when it says "Authorization: ok",
// and every head the check saw, in order.
struct PreauthServer {
  PreauthServer() {
    ServerOptions options = LoopbackOptions();
    options.body_limit = 4096;
    options.preauth_body_limit = 1024;
    options.authenticated = [this](const HttpRequest& request) {
      std::lock_guard lock(mutex);
      seen.push_back(request);
      return request.Header("Authorization") == "ok";
    };
    server = MustStart(options, recorder.handler());
  }
  std::vector<HttpRequest> Seen() {
    std::lock_guard lock(mutex);
    return seen;
  }

  Recorder recorder;
  std::mutex mutex;
  std::vector<HttpRequest> seen;
  std::unique_ptr<HttpServer> server;
};

std::string PreauthLimitBody() {
  return ErrorBody("payload_too_large",
                   "the request body exceeds the pre-authentication limit of 1024 bytes");
}

TEST(HttpServer, UnauthenticatedBodyOverThePreauthLimitGets413AndIsClosed) {
  PreauthServer p;
  ASSERT_TRUE(p.server);

  Client at_limit(p.server->port());
  EXPECT_EQ(at_limit.Exchange(Post("/at", std::string(1024, 'a'))).result_int(), 200);

  Client over(p.server->port());
  Response response = over.Exchange(Post("/over?x=1", std::string(1025, 'a')));
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(response.body(), PreauthLimitBody());
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(over.ReadToEnd(), net::error::eof);

  // The check sees the head only, and only of a body announced over the
  // limit: one within it cannot be refused early, and the handler
  // authenticates it.
  std::vector<HttpRequest> seen = p.Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/over?x=1");
  EXPECT_EQ(seen[0].path, "/over");
  EXPECT_EQ(seen[0].Query("x"), "1");
  EXPECT_EQ(seen[0].Header("content-length"), "1025");
  EXPECT_EQ(seen[0].body, "");
  ASSERT_EQ(p.recorder.requests().size(), 1u);
  EXPECT_EQ(p.recorder.requests()[0].body.size(), 1024u);
}

TEST(HttpServer, UnauthenticatedChunkedBodyOverThePreauthLimitGets413) {
  PreauthServer p;
  ASSERT_TRUE(p.server);
  Client client(p.server->port());

  std::string request = "POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(512, 'x') + "\r\n";
  request += "0\r\n\r\n";
  Response response = client.Exchange(request);

  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(response.body(), PreauthLimitBody());
  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  EXPECT_TRUE(p.recorder.requests().empty());
}

TEST(HttpServer, UnauthenticatedExpectContinueOverThePreauthLimitGets413WithoutContinue) {
  PreauthServer p;
  ASSERT_TRUE(p.server);
  Client client(p.server->port());

  client.Send(
      "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 2000\r\n"
      "Expect: 100-continue\r\n\r\n");
  Response response = client.Read();  // a 100 Continue here would be read as the answer

  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(response.body(), PreauthLimitBody());
}

TEST(HttpServer, AuthenticatedBodyIsHeldToTheBodyLimit) {
  PreauthServer p;
  ASSERT_TRUE(p.server);

  Client at_limit(p.server->port());
  Response accepted = at_limit.Exchange(Post("/", std::string(4096, 'a'), "Authorization: ok\r\n"));
  EXPECT_EQ(accepted.result_int(), 200);

  Client over(p.server->port());
  Response refused = over.Exchange(Post("/", std::string(4097, 'a'), "Authorization: ok\r\n"));
  EXPECT_EQ(refused.result_int(), 413);
  EXPECT_EQ(refused.body(), ErrorBody("payload_too_large", "the request body exceeds 4096 bytes"));
  ASSERT_EQ(p.recorder.requests().size(), 1u);
  EXPECT_EQ(p.recorder.requests()[0].body.size(), 4096u);
}

TEST(HttpServer, ThrowingAuthenticationCheckCountsAsUnauthenticated) {
  LogLines log;
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.preauth_body_limit = 10;
  options.log = log.Sink();
  options.authenticated = [](const HttpRequest&) -> bool { throw std::runtime_error("boom"); };
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  EXPECT_EQ(client.Exchange(Post("/small", "0123456789")).result_int(), 200);
  EXPECT_EQ(client.Exchange(Post("/large", "0123456789a")).result_int(), 413);
  EXPECT_EQ(log.lines(),
            (std::vector<std::string>{"the authentication check for POST /large threw: boom"}));
}

TEST(HttpServer, InvalidPercentEncodingGets400OnAConnectionThatStaysOpen) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  for (std::string_view target : {"/a%zz", "/a%2", "/a?x=%G0", "relative"}) {
    Response response = client.Exchange(Get(target));
    EXPECT_EQ(response.result_int(), 400) << target;
    EXPECT_EQ(
        response.body(),
        ErrorBody("bad_request", "the request target is not a path with valid percent-encoding"));
  }
  EXPECT_EQ(client.Exchange(Get("/ok")).result_int(), 200);
  EXPECT_EQ(recorder.requests().size(), 1u);
}

// ---------------------------------------------------------------------------
// Handlers

TEST(HttpServer, HandlerMayAnswerLaterFromAnotherThread) {
  Worker worker;
  auto server = MustStart(LoopbackOptions(), [&worker](HttpRequest request, Respond respond) {
    worker.Post([request = std::move(request), respond = std::move(respond)] {
      std::this_thread::sleep_for(20ms);  // as a group commit waiting for its fsync
      HttpResponse response;
      response.body = "late " + request.path;
      respond(std::move(response));
    });
  });
  ASSERT_TRUE(server);
  Client client(server->port());

  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.Exchange(Get(fmt::format("/{}", i))).body(), fmt::format("late /{}", i));
  }
}

TEST(HttpServer, ThrowingHandlerGets500AndTheServerKeepsServing) {
  LogLines log;
  ServerOptions options = LoopbackOptions();
  options.log = log.Sink();
  auto server = MustStart(options, [](HttpRequest request, Respond respond) {
    if (request.path == "/throw") throw std::runtime_error("boom");
    respond(HttpResponse{.body = "fine"});
  });
  ASSERT_TRUE(server);
  Client client(server->port());

  Response failed = client.Exchange(Get("/throw"));
  Response next = client.Exchange(Get("/next"));

  EXPECT_EQ(failed.result_int(), 500);
  EXPECT_EQ(failed.body(), ErrorBody("internal", "the server failed to handle the request"));
  EXPECT_TRUE(failed.keep_alive());
  EXPECT_EQ(next.result_int(), 200);
  EXPECT_EQ(next.body(), "fine");
  EXPECT_EQ(log.lines(), std::vector<std::string>{"the handler for GET /throw threw: boom"});
}

TEST(HttpServer, DroppedRespondGets500) {
  LogLines log;
  ServerOptions options = LoopbackOptions();
  options.log = log.Sink();
  auto server = MustStart(options, [](HttpRequest, Respond) {});
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response = client.Exchange(Get("/"));

  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(response.body(), ErrorBody("internal", "the server failed to handle the request"));
  EXPECT_EQ(log.lines(),
            std::vector<std::string>{
                "a handler dropped its Respond without calling it; the client got a 500"});
}

TEST(HttpServer, SecondRespondIsIgnored) {
  std::atomic<int> calls{0};
  auto server = MustStart(LoopbackOptions(), [&](HttpRequest, Respond respond) {
    int call = ++calls;
    respond(HttpResponse{.body = fmt::format("first {}", call)});
    respond(HttpResponse{.body = fmt::format("second {}", call)});
  });
  ASSERT_TRUE(server);
  Client client(server->port());

  EXPECT_EQ(client.Exchange(Get("/")).body(), "first 1");
  EXPECT_EQ(client.Exchange(Get("/")).body(), "first 2");
}

TEST(HttpServer, InvalidResponsesAreReplacedBy500) {
  LogLines log;
  ServerOptions options = LoopbackOptions();
  options.log = log.Sink();
  auto server = MustStart(options, [](HttpRequest request, Respond respond) {
    HttpResponse response;
    if (request.path == "/status") response.status = 42;
    if (request.path == "/crlf") response.headers = {{"X-A", "1\r\nX-Injected: 1"}};
    if (request.path == "/name") response.headers = {{"Bad Name", "1"}};
    if (request.path == "/length") response.headers = {{"Content-Length", "3"}};
    respond(std::move(response));
  });
  ASSERT_TRUE(server);
  Client client(server->port());

  for (std::string_view path : {"/status", "/crlf", "/name", "/length"}) {
    Response response = client.Exchange(Get(path));
    EXPECT_EQ(response.result_int(), 500) << path;
    EXPECT_EQ(Str(response["X-Injected"]), "");
  }
  EXPECT_EQ(client.Exchange(Get("/fine")).result_int(), 200);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "the handler answered with status 42, outside 200-599",
                             "the handler answered with an invalid header \"X-A\"",
                             "the handler answered with an invalid header \"Bad Name\"",
                             "the handler set the header \"Content-Length\", which is the server's",
                         }));
}

TEST(HttpServer, NoContentIsSentWithoutBodyOrLength) {
  auto server = MustStart(LoopbackOptions(), [](HttpRequest, Respond respond) {
    respond(HttpResponse{.status = 204, .body = "ignored"});
  });
  ASSERT_TRUE(server);
  Client client(server->port());

  Response response = client.Exchange(Get("/"));
  Response again = client.Exchange(Get("/"));

  EXPECT_EQ(response.result_int(), 204);
  EXPECT_EQ(response.body(), "");
  EXPECT_EQ(response.count(http::field::content_length), 0u);
  EXPECT_EQ(again.result_int(), 204);
}

TEST(HttpServer, HeadGetsTheLengthWithoutTheBody) {
  Recorder recorder;
  auto server = MustStart(LoopbackOptions(), recorder.handler());
  ASSERT_TRUE(server);
  Client client(server->port());

  client.Send("HEAD /ten-chars HTTP/1.1\r\nHost: test\r\n\r\n");
  Response head = client.Read(/*head=*/true);
  Response next = client.Exchange(Get("/after"));

  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(Str(head[http::field::content_length]), "10");
  EXPECT_EQ(head.body(), "");
  EXPECT_EQ(next.body(), "/after");
  ASSERT_EQ(recorder.requests().size(), 2u);
  EXPECT_EQ(recorder.requests()[0].method, "HEAD");
}

TEST(HttpServer, ManyConcurrentConnectionsAreAllAnswered) {
  constexpr int kClients = 50;
  constexpr int kRequestsEach = 20;
  std::atomic<int> handled{0};
  auto server = MustStart(LoopbackOptions(), [&](HttpRequest request, Respond respond) {
    ++handled;
    respond(HttpResponse{.body = request.target});
  });
  ASSERT_TRUE(server);

  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Client client(server->port());
      for (int r = 0; r < kRequestsEach; ++r) {
        std::string target = fmt::format("/client/{}/request/{}", c, r);
        if (client.Exchange(Get(target)).body() == target) ++answered;
      }
    });
  }
  for (auto& thread : clients) thread.join();
  server->Shutdown(HttpServer::kDefaultGrace);

  EXPECT_EQ(answered, kClients * kRequestsEach);
  EXPECT_EQ(handled, kClients * kRequestsEach);
  HttpStats stats = server->stats();
  EXPECT_EQ(stats.requests_served, uint64_t{kClients * kRequestsEach});
  EXPECT_EQ(stats.connections_accepted, uint64_t{kClients});
  EXPECT_EQ(stats.connections_open, 0u);
}

// ---------------------------------------------------------------------------
// Shutdown

TEST(HttpServer, ShutdownDeliversTheResponseInFlightThenRefusesConnections) {
  std::promise<Respond> handed;
  auto server = MustStart(LoopbackOptions(), [&](HttpRequest request, Respond respond) {
    if (request.path == "/slow") return handed.set_value(std::move(respond));
    respond(HttpResponse{});
  });
  ASSERT_TRUE(server);
  uint16_t port = server->port();
  Client busy(port);
  Client idle(port);
  EXPECT_EQ(idle.Exchange(Get("/quick")).result_int(), 200);
  busy.Send(Get("/slow"));
  Respond respond = handed.get_future().get();

  std::thread stopper([&] { server->Shutdown(10s); });
  // Shutdown closes the listening socket first; wait for that.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!ConnectionRefused(port) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(idle.ReadToEnd(), net::error::eof);
  respond(HttpResponse{.body = "finished"});
  Response response = busy.Read();
  EXPECT_EQ(busy.ReadToEnd(), net::error::eof);
  busy.Close();
  stopper.join();

  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "finished");
  EXPECT_EQ(Str(response[http::field::connection]), "close");
  EXPECT_TRUE(ConnectionRefused(port));
  EXPECT_EQ(server->stats().connections_open, 0u);
}

TEST(HttpServer, RespondAfterShutdownIsIgnored) {
  std::promise<Respond> handed;
  auto server = MustStart(LoopbackOptions(), [&](HttpRequest, Respond respond) {
    handed.set_value(std::move(respond));
  });
  ASSERT_TRUE(server);
  Client client(server->port());
  client.Send(Get("/never"));
  Respond respond = handed.get_future().get();

  server->Shutdown(50ms);  // the handler does not answer in time: the connection is cut
  server.reset();
  respond(HttpResponse{.body = "too late"});

  beast::error_code ec = client.ReadToEnd();
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
}

// ---------------------------------------------------------------------------
// Addresses

TEST(HttpServer, Ipv6Loopback) {
  {
    net::io_context io;
    tcp::acceptor probe(io);
    beast::error_code ec;
    probe.open(tcp::v6(), ec);
    if (!ec) probe.bind(tcp::endpoint(net::ip::make_address("::1"), 0), ec);
    if (ec) GTEST_SKIP() << "no IPv6 loopback: " << ec.message();
  }
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.listen = "[::1]:0";
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  EXPECT_EQ(server->address(), fmt::format("[::1]:{}", server->port()));
  Client client(server->port(), "::1");

  EXPECT_EQ(client.Exchange(Get("/six")).body(), "/six");

  ASSERT_EQ(recorder.requests().size(), 1u);
  EXPECT_EQ(recorder.requests()[0].remote.rfind("[::1]:", 0), 0u) << recorder.requests()[0].remote;
}

TEST(HttpServer, AddressNamesTheBoundPort) {
  auto server = MustStart(LoopbackOptions(), Recorder().handler());
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->address(), fmt::format("127.0.0.1:{}", server->port()));
}

TEST(HttpServer, BadListenAddressesAreRefused) {
  struct Case {
    std::string listen;
    std::string why;
  };
  const std::string kHostPort = "expected host:port";
  const std::string kPort = "expected a port number from 0 to 65535";
  const std::string kHost = "expected an IPv4 address, or an IPv6 address in brackets, as host";
  for (const Case& c : std::vector<Case>{
           {"x", kHostPort},
           {"", kHostPort},
           {"127.0.0.1", kHostPort},
           {":8080", kHostPort},
           {"[::1]8080", kHostPort},
           {"[::1", kHostPort},
           {"[]:80", kHostPort},
           {"127.0.0.1:", kPort},
           {"127.0.0.1:65536", kPort},
           {"127.0.0.1:80a", kPort},
           {"127.0.0.1:-1", kPort},
           {"127.0.0.1:000080", kPort},
           {"localhost:8080", kHost},
           {"256.0.0.1:80", kHost},
           {"[127.0.0.1]:80", kHost},
           {"::1:8080", "an IPv6 address must be in brackets, as in [::1]:8080"},
       }) {
    ServerOptions options;
    options.listen = c.listen;
    auto server = HttpServer::Start(options, Recorder().handler());
    ASSERT_FALSE(server.has_value()) << c.listen;
    EXPECT_EQ(server.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(server.error().message(), fmt::format("listen address \"{}\": {}", c.listen, c.why));
  }
}

TEST(HttpServer, PortInUseIsAnError) {
  auto first = MustStart(LoopbackOptions(), Recorder().handler());
  ASSERT_TRUE(first);
  ServerOptions options = LoopbackOptions();
  options.listen = first->address();

  auto second = HttpServer::Start(options, Recorder().handler());

  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(second.error().message(),
            fmt::format("cannot listen on {}: Address already in use", first->address()));
}

TEST(HttpServer, BadOptionsAreRefused) {
  ServerOptions options = LoopbackOptions();
  options.idle_timeout = 0ms;
  auto server = HttpServer::Start(options, Recorder().handler());
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().message(), "idle_timeout must be positive, not 0 ms");

  options = LoopbackOptions();
  options.tls_cert_file = "cert.pem";
  server = HttpServer::Start(options, Recorder().handler());
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().message(),
            "tls_cert_file and tls_key_file must be given together, or neither");

  server = HttpServer::Start(LoopbackOptions(), nullptr);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().message(), "the HTTP handler is empty");
}

// ---------------------------------------------------------------------------
// TLS

TEST(HttpServer, TlsRoundTripUsesTls13) {
  TempDir dir;
  TlsFiles files = MakeSelfSigned(dir, "server");
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.tls_cert_file = files.cert;
  options.tls_key_file = files.key;
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  TlsClient client(server->port(), files.cert);

  ASSERT_FALSE(client.Handshake());
  Response first = client.Exchange(Get("/secure?a=1"));
  Response second = client.Exchange(Post("/secure", "payload"));

  EXPECT_EQ(client.version(), "TLSv1.3");
  EXPECT_EQ(first.body(), "/secure?a=1");
  EXPECT_EQ(second.body(), "/secure");
  auto requests = recorder.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].tls);
  EXPECT_EQ(requests[1].body, "payload");
}

TEST(HttpServer, TlsRefusesA12OnlyClient) {
  TempDir dir;
  TlsFiles files = MakeSelfSigned(dir, "server");
  Recorder recorder;
  ServerOptions options = LoopbackOptions();
  options.tls_cert_file = files.cert;
  options.tls_key_file = files.key;
  auto server = MustStart(options, recorder.handler());
  ASSERT_TRUE(server);
  TlsClient client(server->port(), files.cert, TLS1_2_VERSION);

  EXPECT_TRUE(client.Handshake());
  EXPECT_TRUE(recorder.requests().empty());
}

TEST(HttpServer, TlsHandshakeTimesOut) {
  TempDir dir;
  TlsFiles files = MakeSelfSigned(dir, "server");
  ServerOptions options = LoopbackOptions();
  options.tls_cert_file = files.cert;
  options.tls_key_file = files.key;
  options.read_timeout = 200ms;
  auto server = MustStart(options, Recorder().handler());
  ASSERT_TRUE(server);
  Client silent(server->port());  // plain TCP: never starts the handshake

  EXPECT_EQ(silent.ReadToEnd(), net::error::eof);
}

TEST(HttpServer, BadTlsFilesAreNamedInTheError) {
  TempDir dir;
  TlsFiles good = MakeSelfSigned(dir, "good");
  TlsFiles other = MakeSelfSigned(dir, "other");
  std::string garbage = dir.File("garbage.pem");
  WriteFile(garbage, "not a certificate\n");
  std::string missing = dir.File("missing.pem");

  auto start = [](const std::string& cert, const std::string& key) {
    ServerOptions options = LoopbackOptions();
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    return HttpServer::Start(options, Recorder().handler());
  };

  auto no_cert = start(missing, good.key);
  ASSERT_FALSE(no_cert.has_value());
  EXPECT_EQ(no_cert.error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(no_cert.error().message(),
            fmt::format("TLS certificate file \"{}\": cannot read it: No such file or directory",
                        missing));

  auto no_key = start(good.cert, missing);
  ASSERT_FALSE(no_key.has_value());
  EXPECT_EQ(no_key.error().message(),
            fmt::format("TLS key file \"{}\": cannot read it: No such file or directory", missing));

  auto bad_cert = start(garbage, good.key);
  ASSERT_FALSE(bad_cert.has_value());
  EXPECT_EQ(bad_cert.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(
      bad_cert.error().message().rfind(
          fmt::format("TLS certificate file \"{}\": not a PEM certificate chain", garbage), 0),
      0u)
      << bad_cert.error().message();

  auto bad_key = start(good.cert, garbage);
  ASSERT_FALSE(bad_key.has_value());
  EXPECT_EQ(bad_key.error().message().rfind(
                fmt::format("TLS key file \"{}\": not a PEM private key", garbage), 0),
            0u)
      << bad_key.error().message();

  auto mismatched = start(good.cert, other.key);
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_EQ(mismatched.error().message().rfind(
                fmt::format("TLS key file \"{}\": not a PEM private key matching", other.key), 0),
            0u)
      << mismatched.error().message();
}

}  // namespace
}  // namespace interlock::server
