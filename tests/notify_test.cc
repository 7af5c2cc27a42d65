// The notification outbox end to end: a real audit log in a temporary
// directory, messages delivered to local receivers (HTTP and SMTP), time on
// a ManualClock.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "audit/log.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/random.h"
#include "http_receiver.h"
#include "notify/notifier.h"
#include "smtp_receiver.h"
#include "test_util.h"

namespace interlock::notify {
namespace {

using json = nlohmann::json;
using testing::HttpReceiver;
using testing::TempDir;

// Answers what the test tells it, and remembers what it was asked.
class ScriptedSender final : public Sender {
 public:
  Result<void> Send(const Message& m, const ChannelDelivery&, UnixMillis) override {
    sent.push_back(m.id);
    if (answers.empty()) return Ok();
    Result<void> a = answers.front();
    answers.erase(answers.begin());
    return a;
  }
  std::vector<std::string> sent;
  std::vector<Result<void>> answers;
};

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() { OpenLog(); }

  void OpenLog() { log_ = testing::OpenTestLog(dir_.path(), fs_, clock_, random_); }

  DeliveryConfig Everything() {
    DeliveryConfig d;
    for (const governance::Channel& c : g_.channels) d.channels[c.id] = {c.id, c.type};
    return d;
  }

  // Composes, stores and queues one announcement; returns its messages.
  std::vector<Message> Announce(Notifier& n, const std::vector<std::string>& targets) {
    Announcement a{{"alice"}, {"engineering-lead"}, "Approval apr_1 is pending", "needs you",
                   "info",    "approval apr_1"};
    auto messages = n.Compose(g_, a, targets);
    EXPECT_TRUE(messages.has_value());
    std::vector<audit::StateChange> rows;
    for (const Message& m : *messages) rows.push_back(Notifier::Row(m));
    EXPECT_TRUE(log_->Commit(std::vector<audit::Event>{}, rows).has_value());
    n.Enqueue(*messages);
    return *messages;
  }

  // The event types in the log, in order.
  std::vector<std::string> EventTypes() {
    audit::Reader all{"test", "human", audit::ReadScope::kAll};
    auto entries = log_->Query(all, {});
    EXPECT_TRUE(entries.has_value());
    std::vector<std::string> out;
    for (const audit::Entry& e : entries.value_or(std::vector<audit::Entry>{})) {
      std::string type = json::parse(e.event)["event_type"];
      // Reads, and the records that bind outbox rows stored without an
      // event of their own (docs/audit-format.md, 6a), are not the
      // notifier's.
      if (type != "audit_read" && type != "state_changed") out.push_back(type);
    }
    return out;
  }

  const governance::Governance& g_ = testing::ContactGovernance();
  TempDir dir_;
  RealFileSystem fs_;
  ManualClock clock_{1'790'000'000'000};
  SeededRandom random_{11};
  std::unique_ptr<audit::AuditLog> log_;
  ScriptedSender sender_;
};

TEST_F(NotifierTest, OnlyChannelsWithSettingsGetMessages) {
  DeliveryConfig d;
  d.channels["email"] = {"email", "email"};
  Notifier n(*log_, clock_, random_, sender_, d);
  auto messages = n.Compose(g_, {{"alice"}, {}, "s", "t"}, {"slack", "email", "security-lead"});
  ASSERT_TRUE(messages.has_value());
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].channel, "email");
  EXPECT_EQ((*messages)[0].recipients.size(), 2u);  // alice, erin (security-lead)
}

TEST_F(NotifierTest, DeliveredMessagesLeaveTheOutboxWithAnAuditRecord) {
  Notifier n(*log_, clock_, random_, sender_, Everything());
  auto messages = Announce(n, {"slack", "email"});
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(n.stats().pending, 2u);
  EXPECT_EQ(n.DeliverDue(), 2u);
  EXPECT_EQ(sender_.sent.size(), 2u);
  EXPECT_EQ(n.stats().delivered, 2u);
  EXPECT_EQ(n.stats().pending, 0u);
  EXPECT_EQ(EventTypes(),
            (std::vector<std::string>{"notification_delivered", "notification_delivered"}));
  auto rows = log_->LoadState(std::string(kOutboxKind));
  ASSERT_TRUE(rows.has_value());
  EXPECT_TRUE(rows->empty());
}

TEST_F(NotifierTest, TemporaryFailuresRetryWithBackoffOnTheClock) {
  Notifier n(*log_, clock_, random_, sender_, Everything());
  Announce(n, {"pagerduty"});
  sender_.answers = {std::unexpected(Error::Unavailable("connection refused")),
                     std::unexpected(Error::Unavailable("503"))};
  EXPECT_EQ(n.DeliverDue(), 1u);
  Message after = n.Pending().at(0);
  EXPECT_EQ(after.attempts, 1);
  EXPECT_EQ(after.last_error, "connection refused");
  EXPECT_GE(after.next_attempt, clock_.Now() + 5'000);
  EXPECT_LE(after.next_attempt, clock_.Now() + 6'000);
  EXPECT_EQ(n.DeliverDue(), 0u);  // not yet due
  clock_.Advance(6'000);
  EXPECT_EQ(n.DeliverDue(), 1u);
  after = n.Pending().at(0);
  EXPECT_EQ(after.attempts, 2);
  EXPECT_GE(after.next_attempt, clock_.Now() + 10'000);
  clock_.Advance(12'000);
  EXPECT_EQ(n.DeliverDue(), 1u);
  EXPECT_EQ(n.stats().delivered, 1u);
  EXPECT_EQ(n.stats().retried, 2u);
  EXPECT_EQ(EventTypes(), std::vector<std::string>{"notification_delivered"});
  audit::Reader all{"test", "human", audit::ReadScope::kAll};
  audit::QueryFilter delivered;
  delivered.event_type = "notification_delivered";
  auto entries = log_->Query(all, delivered);
  ASSERT_TRUE(entries.has_value());
  EXPECT_EQ(json::parse(entries->at(0).event)["notification"]["attempts"], 3);
}

TEST_F(NotifierTest, PermanentRefusalsAndOldMessagesAreGivenUpAndAudited) {
  Notifier n(*log_, clock_, random_, sender_, Everything());
  Announce(n, {"slack"});
  sender_.answers = {std::unexpected(Error::InvalidArgument("slack answered 404: no_service"))};
  n.DeliverDue();
  EXPECT_EQ(n.stats().failed, 1u);
  EXPECT_EQ(n.stats().pending, 0u);

  Announce(n, {"email"});
  for (int i = 0; i < 40 && n.stats().pending > 0; ++i) {
    sender_.answers = {std::unexpected(Error::Unavailable("down"))};
    n.DeliverDue();
    clock_.Advance(60 * 60 * 1000);  // beyond any backoff; a day passes in 24
  }
  EXPECT_EQ(n.stats().pending, 0u);
  EXPECT_EQ(n.stats().failed, 2u);
  EXPECT_EQ(EventTypes(), (std::vector<std::string>{"notification_failed", "notification_failed"}));
  audit::Reader all{"test", "human", audit::ReadScope::kAll};
  audit::QueryFilter failed;
  failed.event_type = "notification_failed";
  auto entries = log_->Query(all, failed);
  ASSERT_TRUE(entries.has_value());
  EXPECT_EQ(json::parse(entries->at(0).event)["reason"], "slack answered 404: no_service");
  EXPECT_EQ(json::parse(entries->at(1).event)["reason"], "down");
}

TEST_F(NotifierTest, AChannelWithoutSettingsAnymoreFailsItsMessages) {
  Notifier n(*log_, clock_, random_, sender_, Everything());
  Announce(n, {"slack"});
  n.SetDelivery({});
  n.DeliverDue();
  EXPECT_TRUE(sender_.sent.empty());
  EXPECT_EQ(n.stats().failed, 1u);
}

TEST_F(NotifierTest, ARestartResendsWhatWasNotDelivered) {
  {
    Notifier n(*log_, clock_, random_, sender_, Everything());
    Announce(n, {"slack", "email", "pagerduty"});
    n.DeliverDue();
    sender_.answers = {std::unexpected(Error::Unavailable("down"))};
    Announce(n, {"hooks"});
    n.DeliverDue();
    EXPECT_EQ(n.stats().pending, 1u);
  }
  log_.reset();
  OpenLog();
  Notifier again(*log_, clock_, random_, sender_, Everything());
  ASSERT_TRUE(again.Load().has_value());
  ASSERT_EQ(again.Pending().size(), 1u);
  EXPECT_EQ(again.Pending()[0].channel, "hooks");
  EXPECT_EQ(again.Pending()[0].attempts, 1);
  clock_.Advance(60'000);
  again.DeliverDue();
  EXPECT_EQ(again.stats().delivered, 1u);
}

TEST_F(NotifierTest, TheDeliveryThreadSendsWithoutBeingAsked) {
  Notifier n(*log_, clock_, random_, sender_, Everything());
  n.Start();
  Announce(n, {"slack"});
  for (int i = 0; i < 200 && n.stats().delivered == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(n.stats().delivered, 1u);
}

// --- the network sender against local receivers ----------------------------

TEST_F(NotifierTest, NetworkSenderSpeaksSlackPagerDutyAndSignedWebhooks) {
  HttpReceiver receiver;
  DeliveryConfig d;
  d.channels["slack"] = {"slack", "slack", receiver.Url("/services/T0/B0/XYZ")};
  d.channels["pagerduty"] = {"pagerduty", "pagerduty", receiver.Url("/v2/enqueue"), "R0UT1NG"};
  d.channels["hooks"] = {"hooks", "webhook", receiver.Url("/hook?team=a"), "s3cret"};
  auto sender = NewNetworkSender(net::NewCurlHttpClient());
  Notifier n(*log_, clock_, random_, *sender, d);
  Announce(n, {"slack", "pagerduty", "hooks"});
  n.DeliverDue();
  auto got = receiver.WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(n.stats().delivered, 3u);
  std::map<std::string, server::HttpRequest> by_path;
  for (const server::HttpRequest& r : got) by_path[r.path] = r;
  const server::HttpRequest& slack = by_path.at("/services/T0/B0/XYZ");
  EXPECT_EQ(slack.method, "POST");
  EXPECT_EQ(json::parse(slack.body)["text"],
            "<@UALICE> <@UDAVE> *Approval apr_1 is pending*\nneeds you");
  EXPECT_EQ(json::parse(by_path.at("/v2/enqueue").body)["routing_key"], "R0UT1NG");
  const server::HttpRequest& hook = by_path.at("/hook");
  EXPECT_EQ(hook.target, "/hook?team=a");
  std::string timestamp(hook.Header("x-interlock-timestamp").value_or(""));
  EXPECT_EQ(timestamp, std::to_string(clock_.Now() / 1000));
  EXPECT_EQ(hook.Header("x-interlock-signature").value_or(""),
            WebhookSignature("s3cret", timestamp, hook.body));
  EXPECT_NE(WebhookSignature("other", timestamp, hook.body),
            hook.Header("x-interlock-signature").value_or(""));
}

TEST_F(NotifierTest, NetworkSenderTellsRefusalsFromOutages) {
  HttpReceiver receiver;
  DeliveryConfig d;
  d.channels["slack"] = {"slack", "slack", receiver.Url("/s")};
  auto sender = NewNetworkSender(net::NewCurlHttpClient());
  Notifier n(*log_, clock_, random_, *sender, d);
  receiver.AnswerWith(503);
  Announce(n, {"slack"});
  n.DeliverDue();
  EXPECT_EQ(n.stats().retried, 1u);
  EXPECT_NE(n.Pending().at(0).last_error.find("503"), std::string::npos);
  receiver.AnswerWith(403);
  clock_.Advance(60'000);
  n.DeliverDue();
  EXPECT_EQ(n.stats().failed, 1u);
  EXPECT_EQ(receiver.Received().size(), 2u);
}

TEST_F(NotifierTest, NetworkSenderMailsTheRecipientsAddresses) {
  testing::SmtpReceiver smtp;
  DeliveryConfig d;
  ChannelDelivery email{"email", "email"};
  email.smtp.url = smtp.url();
  email.smtp.starttls = false;
  email.from = "interlock@example.com";
  d.channels["email"] = email;
  auto sender = NewNetworkSender(net::NewCurlHttpClient());
  Notifier n(*log_, clock_, random_, *sender, d);
  Announce(n, {"email"});
  n.DeliverDue();
  auto got = smtp.WaitFor(1, std::chrono::seconds(20));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from, "interlock@example.com");
  EXPECT_EQ(got[0].to, (std::vector<std::string>{"alice@example.com", "dave@example.com"}));
  EXPECT_NE(got[0].data.find("Subject: [Interlock] Approval apr_1 is pending"), std::string::npos);
  EXPECT_NE(got[0].data.find("needs you"), std::string::npos);
  EXPECT_EQ(n.stats().delivered, 1u);
}

// Holds every message that is not the emergency stop's until released, as a
// receiver that takes 40 s to answer would.
class StallingSender final : public Sender {
 public:
  Result<void> Send(const Message& m, const ChannelDelivery&, UnixMillis) override {
    std::unique_lock lock(mu);
    sent.push_back(m.about);
    cv.notify_all();
    if (!m.about.starts_with("emergency_stop")) cv.wait(lock, [&] { return released; });
    return Ok();
  }
  // Waits until `about` has been sent.
  bool WaitFor(const std::string& about) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(60),
                       [&] { return std::find(sent.begin(), sent.end(), about) != sent.end(); });
  }
  void Release() {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> sent;
  bool released = false;
};

TEST_F(NotifierTest, TheStopsMessagesDoNotWaitBehindAStalledDelivery) {
  StallingSender stalling;
  Notifier n(*log_, clock_, random_, stalling, Everything());
  n.Start();
  // Given a delivery stalled on an approval's message,
  Announce(n, {"slack"});
  ASSERT_TRUE(stalling.WaitFor("approval apr_1"));
  // when the stop is announced on three channels,
  Announcement stop{{},           {"engineering-lead"}, "EMERGENCY STOP ACTIVATED",
                    "db on fire", "critical",           "emergency_stop SEV-1-1"};
  auto messages = n.Compose(g_, stop, {"slack", "email", "pagerduty"});
  ASSERT_TRUE(messages.has_value());
  ASSERT_EQ(messages->size(), 3u);
  std::vector<audit::StateChange> rows;
  for (const Message& m : *messages) rows.push_back(Notifier::Row(m));
  ASSERT_TRUE(log_->Commit(std::vector<audit::Event>{}, rows).has_value());
  n.Enqueue(*messages);
  // then all three go out while the approval's is still held.
  {
    std::unique_lock lock(stalling.mu);
    EXPECT_TRUE(stalling.cv.wait_for(lock, std::chrono::seconds(60), [&] {
      return std::count(stalling.sent.begin(), stalling.sent.end(), "emergency_stop SEV-1-1") == 3;
    }));
    EXPECT_FALSE(stalling.released);
  }
  stalling.Release();
}

}  // namespace
}  // namespace interlock::notify
