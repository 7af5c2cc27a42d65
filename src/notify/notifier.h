// Delivers the outbox (notify/outbox.h) on its own thread, so that sending
// never holds up the gate: a slow or unreachable receiver delays only its
// own messages.
//
// Life of a message: the service composes it (Compose) and commits its
// state row (Row) in the same transaction as the change it announces, then
// hands it over (Enqueue). The delivery thread sends every message whose
// time has come; on success it deletes the row and appends a
// notification_delivered audit event in one transaction; on a temporary
// failure it stores the next attempt (5 s, doubling, at most 15 minutes
// apart); on a permanent failure (the receiver refuses it: a 4xx answer, a
// 5xx SMTP reply, a channel without settings) or after a day it deletes the
// row and appends notification_failed. A restart loads the rows still in
// the outbox and goes on. Delivery is at least once: a crash between
// sending and recording the success sends the message again.
//
// The emergency stop's messages (about "emergency_stop ...") never wait
// behind others: once Start has run, Enqueue sends each of them at once on
// a thread of its own, to every channel in parallel; retries of them come
// first on the delivery thread.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "net/http_client.h"
#include "notify/delivery.h"
#include "notify/outbox.h"

namespace interlock::audit {
class AuditLog;
struct StateChange;
}  // namespace interlock::audit

namespace interlock::notify {

// Sends one message over one channel. Errors: kInvalidArgument when the
// receiver refuses the message for good (do not retry); any other kind when
// a later attempt may succeed.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual Result<void> Send(const Message& m, const ChannelDelivery& channel, UnixMillis now) = 0;
};

// The real one: Slack, PagerDuty and webhooks posted as JSON through `http`
// (net::NewCurlHttpClient() in the server), e-mail over SMTP (notify/smtp.h).
// A 2xx answer is delivery; 408, 429 and the 5xx are temporary failures;
// any other status is a refusal for good.
std::unique_ptr<Sender> NewNetworkSender(std::unique_ptr<net::HttpClient> http);

struct NotifierStats {
  uint64_t delivered = 0;
  uint64_t failed = 0;   // given up
  uint64_t retried = 0;  // failed attempts that will be retried
  size_t pending = 0;    // in the outbox now
};

class Notifier {
 public:
  // `log`, `clock`, `random` and `sender` must outlive the Notifier.
  Notifier(audit::AuditLog& log, const Clock& clock, Random& random, Sender& sender,
           DeliveryConfig delivery);
  ~Notifier();  // stops the delivery thread; undelivered messages stay stored
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Loads the messages left in the outbox by an earlier run.
  Result<void> Load();
  // Starts the delivery thread. Without it, DeliverDue does the work (tests).
  void Start();
  // New settings (a reload); messages already queued keep their channel.
  void SetDelivery(DeliveryConfig delivery);
  DeliveryConfig delivery() const;

  // The messages announcing `a` on `targets` (channel and role ids), for
  // the channels that have delivery settings. Ids are random.
  Result<std::vector<Message>> Compose(const governance::Governance& g, const Announcement& a,
                                       const std::vector<std::string>& targets);
  // The state row that stores `m` in the outbox.
  static audit::StateChange Row(const Message& m);
  // Queues messages whose rows are durable, and wakes the delivery thread.
  void Enqueue(std::vector<Message> messages);

  // Tries every message due on the clock now, in order of due time; returns
  // the number of attempts made.
  size_t DeliverDue();
  // The messages in the outbox now, by id.
  std::vector<Message> Pending() const;
  NotifierStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace interlock::notify
