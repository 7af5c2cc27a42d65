// The network sender's side of HTTP delivery, on a fake client: what each
// channel type posts, and how each kind of answer is taken.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "net/fake_http_client.h"
#include "notify/notifier.h"

namespace interlock::notify {
namespace {

using json = nlohmann::json;

class NetworkSenderTest : public ::testing::Test {
 protected:
  NetworkSenderTest() {
    auto fake = std::make_unique<net::FakeHttpClient>();
    http_ = fake.get();
    sender_ = NewNetworkSender(std::move(fake));
    message_.id = "ntf_0123456789abcdef";
    message_.channel = "hooks";
    message_.type = "webhook";
    message_.subject = "Approval apr_1 is pending";
    message_.text = "needs you";
    message_.severity = "info";
    message_.about = "approval apr_1";
    message_.recipients = {{"alice", "alice@example.com", "UALICE"}};
    message_.created_at = 1'790'000'000'000;
  }

  // The one call the sender made.
  net::HttpCall Call() const {
    std::vector<net::HttpCall> calls = http_->calls();
    EXPECT_EQ(calls.size(), 1u);
    return calls.empty() ? net::HttpCall{} : calls[0];
  }

  net::FakeHttpClient* http_ = nullptr;
  std::unique_ptr<Sender> sender_;
  Message message_;
  ChannelDelivery hooks_{.id = "hooks",
                         .type = "webhook",
                         .url = "https://hooks.example.com/interlock?team=a",
                         .secret = "s3cret",
                         .ca_file = "/etc/interlock/ca.pem"};
};

TEST_F(NetworkSenderTest, AWebhookIsPostedSignedToTheWholeUrl) {
  ASSERT_TRUE(sender_->Send(message_, hooks_, 1'790'000'123'456).has_value());
  net::HttpCall call = Call();
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://hooks.example.com/interlock?team=a");
  EXPECT_EQ(call.ca_file, "/etc/interlock/ca.pem");
  EXPECT_EQ(call.body, WebhookBody(message_));
  EXPECT_EQ(call.headers, (net::HttpHeaders{{"Content-Type", "application/json"},
                                            {"User-Agent", "interlock"},
                                            {"X-Interlock-Timestamp", "1790000123"},
                                            {"X-Interlock-Signature",
                                             WebhookSignature("s3cret", "1790000123", call.body)},
                                            {"X-Interlock-Delivery", "ntf_0123456789abcdef"}}));
}

TEST_F(NetworkSenderTest, SlackAndPagerDutyGetTheirOwnBodies) {
  message_.type = "slack";
  ChannelDelivery slack{.id = "slack", .type = "slack", .url = "https://hooks.slack.com/s/T/B/X"};
  ASSERT_TRUE(sender_->Send(message_, slack, 0).has_value());
  message_.type = "pagerduty";
  ChannelDelivery pd{.id = "pd",
                     .type = "pagerduty",
                     .url = "https://events.pagerduty.com/v2/enqueue",
                     .secret = "R0UT1NG"};
  ASSERT_TRUE(sender_->Send(message_, pd, 0).has_value());
  std::vector<net::HttpCall> calls = http_->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].url, "https://hooks.slack.com/s/T/B/X");
  EXPECT_EQ(calls[0].body, SlackBody(message_));
  EXPECT_EQ(calls[1].body, PagerDutyBody(message_, "R0UT1NG"));
  EXPECT_EQ(json::parse(calls[1].body)["routing_key"], "R0UT1NG");
  for (const net::HttpCall& call : calls) {
    EXPECT_EQ(call.headers, (net::HttpHeaders{{"Content-Type", "application/json"},
                                              {"User-Agent", "interlock"}}));
  }
}

TEST_F(NetworkSenderTest, EveryTwoHundredIsDelivery) {
  for (int status : {200, 201, 202, 204, 299}) {
    http_->Answer(status);
    EXPECT_TRUE(sender_->Send(message_, hooks_, 0).has_value()) << status;
  }
}

TEST_F(NetworkSenderTest, TimeoutsThrottlingAndServerErrorsAreTemporary) {
  for (int status : {408, 429, 500, 502, 503, 599}) {
    http_->Answer(status, "try later");
    auto sent = sender_->Send(message_, hooks_, 0);
    ASSERT_FALSE(sent.has_value()) << status;
    EXPECT_EQ(sent.error().kind(), ErrorKind::kUnavailable) << status;
    EXPECT_EQ(sent.error().message(), fmt::format("hooks answered {}: try later", status));
  }
}

TEST_F(NetworkSenderTest, OtherAnswersAreRefusalsForGood) {
  for (int status : {100, 301, 400, 401, 403, 404, 410, 422}) {
    http_->Answer(status, std::string(300, 'x'));
    auto sent = sender_->Send(message_, hooks_, 0);
    ASSERT_FALSE(sent.has_value()) << status;
    EXPECT_EQ(sent.error().kind(), ErrorKind::kInvalidArgument) << status;
    // The body is quoted, cut after 200 bytes.
    EXPECT_EQ(sent.error().message(),
              fmt::format("hooks answered {}: {}", status, std::string(200, 'x')));
  }
}

TEST_F(NetworkSenderTest, TransportFailuresComeBackAsTheyAre) {
  http_->Script(std::unexpected(
      Error::Unavailable("cannot reach https://hooks.example.com: Connection refused")));
  auto sent = sender_->Send(message_, hooks_, 0);
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(sent.error().message(), "cannot reach https://hooks.example.com: Connection refused");
}

}  // namespace
}  // namespace interlock::notify
