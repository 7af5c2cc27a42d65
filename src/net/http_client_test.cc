// The libcurl client against a real HTTP server on loopback
// (tests/http_receiver.h), and the fake that stands in for it elsewhere.
#include "net/http_client.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../../tests/http_receiver.h"
#include "core/memory_fs.h"
#include "net/fake_http_client.h"

namespace interlock::net {
namespace {

using testing::ClosedPort;
using testing::HttpReceiver;
using testing::SilentListener;

class HttpClientTest : public ::testing::Test {
 protected:
  Result<HttpReply> Send(const HttpCall& call) { return client_->Send(call); }

  // The one request the receiver got.
  server::HttpRequest Received() {
    std::vector<server::HttpRequest> got = receiver_.Received();
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? server::HttpRequest{} : got[0];
  }

  // `call` fails with `kind` and `message`, and nothing reaches the receiver.
  void ExpectRefused(const HttpCall& call, ErrorKind kind, const std::string& message) {
    auto reply = Send(call);
    ASSERT_FALSE(reply.has_value()) << reply->status;
    EXPECT_EQ(reply.error().kind(), kind);
    EXPECT_EQ(reply.error().message(), message);
    EXPECT_TRUE(receiver_.Received().empty());
  }

  HttpReceiver receiver_;
  MemoryFileSystem fs_;
  std::unique_ptr<HttpClient> client_ = NewCurlHttpClient(fs_);
};

TEST_F(HttpClientTest, SendsTheMethodTargetHeadersAndBodyAsGiven) {
  auto reply = Send({.method = "POST",
                     .url = receiver_.Url("/hooks/a%20b?x=1&y=2"),
                     .headers = {{"Content-Type", "application/json"}, {"X-Empty", ""}},
                     .body = R"({"a":1})"});
  ASSERT_TRUE(reply.has_value()) << reply.error().message();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "ok");
  server::HttpRequest got = Received();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/hooks/a%20b?x=1&y=2");
  EXPECT_EQ(got.Header("content-type"), "application/json");
  EXPECT_EQ(got.Header("x-empty"), "");
  EXPECT_EQ(got.Header("content-length"), "7");
  EXPECT_EQ(got.body, R"({"a":1})");
}

TEST_F(HttpClientTest, AddsNoFieldTheCallerDidNotAskFor) {
  // Large enough that libcurl would otherwise ask "Expect: 100-continue".
  std::string body(100'000, 'x');
  ASSERT_TRUE(Send({.method = "POST", .url = receiver_.Url("/"), .body = body}).has_value());
  server::HttpRequest got = Received();
  std::vector<std::string> names;
  for (const auto& [name, value] : got.headers) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"host", "content-length"}));
  EXPECT_EQ(got.Header("host"), receiver_.Url("").substr(7));
  EXPECT_EQ(got.body, body);
}

TEST_F(HttpClientTest, AnEmptyPostSendsALengthOfZero) {
  ASSERT_TRUE(Send({.method = "POST", .url = receiver_.Url("/empty")}).has_value());
  server::HttpRequest got = Received();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.Header("content-length"), "0");
  EXPECT_EQ(got.body, "");
}

TEST_F(HttpClientTest, OtherMethodsAreSentByName) {
  ASSERT_TRUE(Send({.method = "DELETE", .url = receiver_.Url("/x")}).has_value());
  ASSERT_TRUE(Send({.method = "PUT", .url = receiver_.Url("/y"), .body = "z"}).has_value());
  std::vector<server::HttpRequest> got = receiver_.Received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "DELETE");
  EXPECT_EQ(got[0].path, "/x");
  EXPECT_EQ(got[1].method, "PUT");
  EXPECT_EQ(got[1].body, "z");
}

TEST_F(HttpClientTest, TheStatusHeadersAndBodyOfTheAnswerComeBackWhateverTheStatus) {
  receiver_.AnswerWith(server::HttpResponse{.status = 503,
                                            .content_type = "text/plain",
                                            .headers = {{"Retry-After", "7"}},
                                            .body = "later"});
  auto reply = Send({.url = receiver_.Url("/")});
  ASSERT_TRUE(reply.has_value()) << reply.error().message();
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body, "later");
  ASSERT_NE(reply->Header("retry-after"), nullptr);
  EXPECT_EQ(*reply->Header("retry-after"), "7");
  ASSERT_NE(reply->Header("content-type"), nullptr);
  EXPECT_EQ(*reply->Header("content-type"), "text/plain");
  EXPECT_EQ(reply->Header("x-none"), nullptr);
}

TEST_F(HttpClientTest, ARedirectIsReturnedNotFollowed) {
  receiver_.AnswerWith(server::HttpResponse{
      .status = 302, .headers = {{"Location", receiver_.Url("/elsewhere")}}, .body = "{}"});
  auto reply = Send({.url = receiver_.Url("/here")});
  ASSERT_TRUE(reply.has_value()) << reply.error().message();
  EXPECT_EQ(reply->status, 302);
  EXPECT_EQ(Received().path, "/here");
}

TEST_F(HttpClientTest, AnAnswerOverTheLimitIsRefused) {
  auto reply = Send({.url = receiver_.Url("/"), .body_limit = 1});
  ASSERT_FALSE(reply.has_value()) << reply->body;
  EXPECT_EQ(reply.error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(reply.error().message(), fmt::format("no answer from {}: the answer is larger than "
                                                 "1 bytes",
                                                 receiver_.Url("")));
  auto fits = Send({.url = receiver_.Url("/"), .body_limit = 2});
  ASSERT_TRUE(fits.has_value()) << fits.error().message();
  EXPECT_EQ(fits->body, "ok");
}

TEST_F(HttpClientTest, ARefusedConnectionIsUnavailableNamingOnlyTheOrigin) {
  std::string origin = fmt::format("http://127.0.0.1:{}", ClosedPort());
  auto reply = Send({.method = "POST", .url = origin + "/services/T0/B0/SECRET?key=k"});
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(reply.error().message(), fmt::format("cannot reach {}: Connection refused", origin));
}

TEST_F(HttpClientTest, ASilentServerTimesOut) {
  SilentListener silent;
  std::string origin = fmt::format("http://127.0.0.1:{}", silent.port());
  auto reply = Send({.url = origin + "/healthz", .timeout = std::chrono::milliseconds(300)});
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(reply.error().message(),
            fmt::format("no answer from {}: nothing within 300ms", origin));
}

TEST_F(HttpClientTest, TlsToAPlainPortFailsClosed) {
  std::string origin = "https" + receiver_.Url("").substr(4);
  auto reply = Send({.method = "POST", .url = origin + "/hook", .body = "secret"});
  ASSERT_FALSE(reply.has_value()) << reply->status;
  EXPECT_EQ(reply.error().kind(), ErrorKind::kUnavailable);
  EXPECT_TRUE(reply.error().message().starts_with(
      fmt::format("cannot reach {}: TLS handshake failed (", origin)))
      << reply.error().message();
  for (const server::HttpRequest& r : receiver_.Received()) EXPECT_EQ(r.body, "");
}

TEST_F(HttpClientTest, CallsThatCannotBeSentAreRefusedBeforeConnecting) {
  std::string url = receiver_.Url("/");
  const ErrorKind invalid = ErrorKind::kInvalidArgument;
  ExpectRefused({.method = "get", .url = url}, invalid, "\"get\" is not an HTTP method");
  ExpectRefused({.method = "", .url = url}, invalid, "\"\" is not an HTTP method");
  ExpectRefused({.url = url, .headers = {{"X-A", "1\r\nX-Evil: 1"}}}, invalid,
                "the header \"X-A\" cannot go into a request");
  ExpectRefused({.url = url, .headers = {{"X A", "1"}}}, invalid,
                "the header \"X A\" cannot go into a request");
  ExpectRefused({.url = url, .headers = {{"Host", "example.com"}}}, invalid,
                "the header \"Host\" cannot go into a request");
  ExpectRefused({.url = url, .headers = {{"content-length", "9"}}}, invalid,
                "the header \"content-length\" cannot go into a request");
  ExpectRefused({.url = "127.0.0.1/x"}, invalid, "not an http(s) URL: expected scheme://host");
  ExpectRefused({.url = "ftp://127.0.0.1/x"}, invalid, "not an http(s) URL: the scheme is \"ftp\"");
  ExpectRefused({.url = "http://user:pw@127.0.0.1/x"}, invalid,
                "not an http(s) URL: credentials do not go in the URL");
  ExpectRefused({.url = url + "#part"}, invalid, "not an http(s) URL: a fragment is not sent");
  ExpectRefused({.url = url, .timeout = std::chrono::milliseconds(0)}, invalid,
                "timeout must be positive, not 0 ms");
  ExpectRefused({.url = url, .connect_timeout = std::chrono::milliseconds(-1)}, invalid,
                "connect_timeout must be positive, not -1 ms");
}

TEST_F(HttpClientTest, ACaFileMustHoldCertificates) {
  std::string url = "https" + receiver_.Url("/").substr(4);
  ExpectRefused({.url = url, .ca_file = "/etc/ca.pem"}, ErrorKind::kInvalidArgument,
                "CA file /etc/ca.pem: no such file");
  ASSERT_TRUE(fs_.WriteFile("/etc/ca.pem", "not a certificate\n").has_value());
  ExpectRefused({.url = url, .ca_file = "/etc/ca.pem"}, ErrorKind::kInvalidArgument,
                "CA file /etc/ca.pem: not a PEM file of certificates (no start line)");
}

TEST(FakeHttpClientTest, RecordsCallsAndAnswersFromItsScript) {
  FakeHttpClient fake;
  fake.Answer(503, "busy");
  fake.Script(std::unexpected(Error::Unavailable("cannot reach https://x: Connection refused")));
  auto first = fake.Send({.method = "POST", .url = "https://x/a", .body = "1"});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 503);
  EXPECT_EQ(first->body, "busy");
  auto second = fake.Send({.url = "https://x/b"});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().message(), "cannot reach https://x: Connection refused");
  auto third = fake.Send({.url = "https://x/c"});
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->status, 200);
  std::vector<HttpCall> calls = fake.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].method, "POST");
  EXPECT_EQ(calls[0].body, "1");
  EXPECT_EQ(calls[1].url, "https://x/b");
  EXPECT_EQ(calls[2].url, "https://x/c");
}

}  // namespace
}  // namespace interlock::net
