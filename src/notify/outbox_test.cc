#include "notify/outbox.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../../tests/test_util.h"
#include "core/memory_fs.h"
#include "notify/delivery.h"

namespace interlock::notify {
namespace {

using json = nlohmann::json;
using governance::Governance;

const Governance& WithContacts() { return interlock::testing::ContactGovernance(); }

std::function<std::string()> Counter() {
  auto n = std::make_shared<int>(0);
  return [n] { return "ntf_" + std::to_string((*n)++); };
}

std::vector<std::string> Principals(const Message& m) {
  std::vector<std::string> out;
  for (const Recipient& r : m.recipients) out.push_back(r.principal);
  return out;
}

TEST(OutboxTest, ComposesOneMessagePerChannelToHumansOfTheRolesAndThePrincipals) {
  const Governance& g = WithContacts();
  Announcement a;
  a.principals = {"alice", "deployment-agent-01"};
  a.roles = {"engineering-lead"};
  a.subject = "Approval apr_1 is pending";
  a.text = "needs you";
  a.about = "approval apr_1";
  // security-lead is a role among the targets: its holders are recipients.
  auto messages = Compose(g, a, {"email", "slack", "security-lead"}, 1000, Counter());
  ASSERT_EQ(messages.size(), 2u);
  // interlock.yaml order: slack before email.
  EXPECT_EQ(messages[0].channel, "slack");
  EXPECT_EQ(messages[0].type, "slack");
  EXPECT_EQ(messages[1].channel, "email");
  EXPECT_EQ(messages[0].id, "ntf_0");
  EXPECT_EQ(messages[1].id, "ntf_1");
  // The AI agent is not paged; principals.yaml order.
  EXPECT_EQ(Principals(messages[0]), (std::vector<std::string>{"alice", "dave", "erin"}));
  EXPECT_EQ(messages[0].recipients[1].slack_id, "UDAVE");
  EXPECT_EQ(messages[0].recipients[0].email, "alice@example.com");
  EXPECT_EQ(messages[1].recipients[2].email, "erin@example.com");
  EXPECT_EQ(messages[0].created_at, 1000);
  EXPECT_EQ(messages[0].next_attempt, 1000);
  EXPECT_TRUE(Compose(g, a, {"security-lead"}, 1000, Counter()).empty());
}

TEST(OutboxTest, StoredFormRoundTripsAndRefusesDamage) {
  const Governance& g = WithContacts();
  Announcement a{{"dave"}, {}, "s", "t", "critical", "emergency_stop SEV-1-1"};
  Message m = Compose(g, a, {"pagerduty"}, 5, Counter()).at(0);
  m.attempts = 3;
  m.last_error = "refused";
  json j = ToJson(m);
  auto back = FromJson(j);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(ToJson(*back), j);

  for (auto [field, value] : {std::pair{"attempts", json("3")}, std::pair{"format", json(2)},
                              std::pair{"recipients", json::array({json{{"email", "x"}}})},
                              std::pair{"channel", json(7)}, std::pair{"created_at", json(1.5)}}) {
    json bad = j;
    bad[field] = value;
    auto parsed = FromJson(bad);
    ASSERT_FALSE(parsed.has_value()) << field;
    EXPECT_EQ(parsed.error().kind(), ErrorKind::kCorruption);
  }
  EXPECT_FALSE(FromJson(json::array()).has_value());
}

TEST(OutboxTest, RetriesBackOffExponentiallyToFifteenMinutesWithBoundedJitter) {
  EXPECT_EQ(NextAttempt(1, 0, 0), 5'000);
  EXPECT_EQ(NextAttempt(2, 0, 0), 10'000);
  EXPECT_EQ(NextAttempt(3, 100, 0), 20'100);
  EXPECT_EQ(NextAttempt(9, 0, 0), 900'000);
  EXPECT_EQ(NextAttempt(1000, 0, 0), 900'000);
  for (uint64_t jitter : {1ull, 999ull, ~0ull}) {
    UnixMillis at = NextAttempt(2, 0, jitter);
    EXPECT_GE(at, 10'000);
    EXPECT_LE(at, 12'000);
  }
}

TEST(OutboxTest, BodiesForEachChannelType) {
  const Governance& g = WithContacts();
  Announcement a{{"dave", "alice"},   {},         "EMERGENCY STOP ACTIVATED",
                 "by carol: \"bad\"", "critical", "emergency_stop SEV-1-9"};
  Message m = Compose(g, a, {"slack"}, 1'790'000'000'000, Counter()).at(0);
  json slack = json::parse(SlackBody(m));
  EXPECT_EQ(slack["text"], "<@UALICE> <@UDAVE> *EMERGENCY STOP ACTIVATED*\nby carol: \"bad\"");

  json pd = json::parse(PagerDutyBody(m, "R0UT1NG"));
  EXPECT_EQ(pd["routing_key"], "R0UT1NG");
  EXPECT_EQ(pd["event_action"], "trigger");
  EXPECT_EQ(pd["dedup_key"], "emergency_stop SEV-1-9");
  EXPECT_EQ(pd["payload"]["severity"], "critical");
  EXPECT_EQ(pd["payload"]["source"], "interlock");
  EXPECT_EQ(pd["payload"]["summary"], "EMERGENCY STOP ACTIVATED: by carol: \"bad\"");
  EXPECT_EQ(pd["payload"]["timestamp"], "2026-09-21T14:13:20.000Z");
  m.text = std::string(3000, 'x');
  EXPECT_EQ(json::parse(PagerDutyBody(m, "k"))["payload"]["summary"].get<std::string>().size(),
            1024u);

  json hook = json::parse(WebhookBody(m));
  EXPECT_EQ(hook["id"], m.id);
  EXPECT_EQ(hook["recipients"][0],
            (json{{"principal", "alice"}, {"email", "alice@example.com"}, {"slack_id", "UALICE"}}));
  EXPECT_EQ(hook["recipients"][1]["slack_id"], "UDAVE");
}

TEST(OutboxTest, SlackBodyEscapesMarkupInSubjectAndTextButKeepsItsMentions) {
  const Governance& g = WithContacts();
  Announcement a{{"alice"},
                 {},
                 "Approval apr_1 <!here> is pending",
                 "deploy: <!channel> see <https://evil.example|docs> & more",
                 "info",
                 "apr_1"};
  Message m = Compose(g, a, {"slack"}, 1'790'000'000'000, Counter()).at(0);
  json slack = json::parse(SlackBody(m));
  EXPECT_EQ(slack["text"],
            "<@UALICE> *Approval apr_1 &lt;!here&gt; is pending*\n"
            "deploy: &lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; more");
}

TEST(OutboxTest, WebhookSignatureIsHmacSha256OfTimestampDotBody) {
  // Known answer: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
  EXPECT_EQ(WebhookSignature("s3cret", "1700000000", "{\"a\":1}"),
            "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940");
}

// --- delivery settings ----------------------------------------------------

class DeliveryTest : public ::testing::Test {
 protected:
  Result<DeliveryConfig> Parse(const std::string& text) {
    return ParseDelivery("delivery.yaml", text, g_, fs_, [this](const std::string& name) {
      auto it = env_.find(name);
      return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
  }
  std::string Error(const std::string& text) {
    auto parsed = Parse(text);
    EXPECT_FALSE(parsed.has_value()) << text;
    return parsed ? "" : parsed.error().message();
  }

  const Governance& g_ = interlock::testing::ContactGovernance();
  MemoryFileSystem fs_;
  std::map<std::string, std::string> env_ = {{"PD_KEY", "R0UT1NG"}};
};

TEST_F(DeliveryTest, ReadsEveryChannelTypeAndSecretsFromEnvAndFiles) {
  ASSERT_TRUE(
      fs_.WriteFile("/secrets/slack", "  https://hooks.slack.com/services/T/B/X\n").has_value());
  auto parsed = Parse(R"(version: 1
channels:
  slack:
    url_file: /secrets/slack
  pagerduty:
    routing_key_env: PD_KEY
  email:
    smtp_url: smtp://127.0.0.1:2525
    from: interlock@example.com
    starttls: false
    username: bot
    password: pw
  hooks:
    url: http://127.0.0.1:9/hook
    secret: s3cret
slack_commands:
  signing_secret: abc
)");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->channels.at("slack").url, "https://hooks.slack.com/services/T/B/X");
  EXPECT_EQ(parsed->channels.at("pagerduty").secret, "R0UT1NG");
  EXPECT_EQ(parsed->channels.at("pagerduty").url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(parsed->channels.at("email").smtp.url, "smtp://127.0.0.1:2525");
  EXPECT_FALSE(parsed->channels.at("email").smtp.starttls);
  EXPECT_EQ(parsed->channels.at("email").smtp.password, "pw");
  EXPECT_EQ(parsed->channels.at("hooks").secret, "s3cret");
  EXPECT_EQ(parsed->slack_signing_secret, "abc");
  EXPECT_EQ(parsed->undelivered, std::vector<std::string>{"security-team"});
}

TEST_F(DeliveryTest, PlainHttpIsAcceptedOnlyForAWholeLoopbackHost) {
  auto hook = [](std::string_view url) {
    return fmt::format("version: 1\nchannels:\n  hooks:\n    url: '{}'\n    secret: s\n", url);
  };
  for (std::string_view url : {"http://127.0.0.1:9/hook", "http://[::1]:8080/", "http://localhost/",
                               "https://hooks.example.com/x"}) {
    SCOPED_TRACE(url);
    auto parsed = Parse(hook(url));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    EXPECT_EQ(parsed->channels.at("hooks").url, url);
  }
  for (auto [url, why] :
       {std::pair{"http://127.0.0.1.evil.example/",
                  "the URL must be https:// (plain http:// only to a loopback address)"},
        std::pair{"http://localhost.evil/",
                  "the URL must be https:// (plain http:// only to a loopback address)"},
        std::pair{"http://127.0.0.1@evil.example/",
                  "the URL must not carry credentials (user@host)"},
        std::pair{"http://user@127.0.0.1/", "the URL must not carry credentials (user@host)"},
        std::pair{"http://[::1].x/", "the URL is not valid: expected :port after ]"},
        std::pair{"ftp://127.0.0.1/",
                  "the URL must be https:// (plain http:// only to a loopback address)"}}) {
    SCOPED_TRACE(url);
    EXPECT_EQ(Error(hook(url)), fmt::format("delivery.yaml:4:10: channels.hooks: {}", why));
  }
}

TEST_F(DeliveryTest, ErrorsSayWhatAndWhere) {
  EXPECT_EQ(Error("version: 1\nchannels:\n  teams:\n    url: https://x\n"),
            "delivery.yaml:3:3: channels: \"teams\" is not a channel of interlock.yaml (known: "
            "slack, email, pagerduty, security-team, hooks)");
  EXPECT_EQ(Error("version: 1\nchannels:\n  pagerduty:\n    routing_key_env: NOPE\n"),
            "delivery.yaml:4:22: channels.pagerduty: routing_key_env: the environment variable "
            "NOPE is not set");
  EXPECT_EQ(Error("version: 1\nchannels:\n  slack:\n    url: http://hooks.example.com/x\n"),
            "delivery.yaml:4:5: channels.slack: the URL must be https:// (plain http:// only to a "
            "loopback address)");
  EXPECT_NE(Error("version: 1\nchannels:\n  slack:\n    url: https://a\n    url_env: PD_KEY\n")
                .find("give url one way only"),
            std::string::npos);
  EXPECT_NE(Error("version: 1\nchannels:\n  email:\n    from: a@b\n")
                .find("smtp_url and from are required"),
            std::string::npos);
  EXPECT_NE(Error("version: 1\nchannels:\n  email:\n    smtp_url: http://x\n    from: a@b\n")
                .find("smtp_url must be smtp://"),
            std::string::npos);
  EXPECT_NE(Error("version: 1\nchannels:\n  slack:\n    url_file: /nope\n").find("url_file"),
            std::string::npos);
  EXPECT_NE(Error("version: 1\nchannels:\n  slack:\n    hook: x\n").find("unknown key \"hook\""),
            std::string::npos);
  EXPECT_EQ(Error("version: 2\n"), "delivery.yaml:1:10: version: expected 1");
  EXPECT_NE(Error("channels: [\n").find("delivery.yaml:"), std::string::npos);
  EXPECT_NE(Error("- 1\n").find("the file: expected a mapping"), std::string::npos);
}

}  // namespace
}  // namespace interlock::notify
