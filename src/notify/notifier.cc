#include "notify/notifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "audit/event.h"
#include "audit/json.h"
#include "audit/log.h"
#include "core/digest.h"
#include "core/mutex.h"
#include "workflow/approval.h"

namespace interlock::notify {
namespace {

using json = nlohmann::json;

class NetworkSender final : public Sender {
 public:
  explicit NetworkSender(std::unique_ptr<net::HttpClient> http) : http_(std::move(http)) {}

  Result<void> Send(const Message& m, const ChannelDelivery& channel, UnixMillis now) override {
    if (m.type == "email") return SendEmail(m, channel);
    net::HttpCall call;
    call.method = "POST";
    call.url = channel.url;
    call.ca_file = channel.ca_file;
    call.body_limit = 1 << 20;
    call.headers = {{"Content-Type", "application/json"}, {"User-Agent", "interlock"}};
    if (m.type == "slack") {
      call.body = SlackBody(m);
    } else if (m.type == "pagerduty") {
      call.body = PagerDutyBody(m, channel.secret);
    } else {
      call.body = WebhookBody(m);
      std::string timestamp = fmt::format("{}", now / 1000);
      call.headers.insert(
          call.headers.end(),
          {{"X-Interlock-Timestamp", timestamp},
           {"X-Interlock-Signature", WebhookSignature(channel.secret, timestamp, call.body)},
           {"X-Interlock-Delivery", m.id}});
    }
    auto answer = http_->Send(call);
    if (!answer) return std::unexpected(answer.error());
    if (answer->status >= 200 && answer->status < 300) return Ok();
    std::string body = answer->body.substr(0, 200);
    std::string what = fmt::format("{} answered {}: {}", m.channel, answer->status, body);
    // 408 and 429 and the 5xx are temporary; any other refusal is final.
    bool again = answer->status == 408 || answer->status == 429 || answer->status >= 500;
    return std::unexpected(again ? Error::Unavailable(what) : Error::InvalidArgument(what));
  }

 private:
  static Result<void> SendEmail(const Message& m, const ChannelDelivery& channel) {
    Mail mail;
    mail.from = channel.from;
    for (const Recipient& r : m.recipients) {
      if (!r.email.empty()) mail.to.push_back(r.email);
    }
    if (mail.to.empty()) {
      return std::unexpected(
          Error::InvalidArgument("no recipient has an e-mail address in principals.yaml"));
    }
    mail.subject = "[Interlock] " + m.subject;
    mail.text = m.text + "\n";
    mail.message_id = fmt::format("<{}@interlock>", m.id);
    mail.date_unix_millis = m.created_at;
    return SendMail(channel.smtp, mail);
  }

  std::unique_ptr<net::HttpClient> http_;
};

}  // namespace

std::unique_ptr<Sender> NewNetworkSender(std::unique_ptr<net::HttpClient> http) {
  return std::make_unique<NetworkSender>(std::move(http));
}

namespace {
// The emergency stop's messages.
bool IsUrgent(const Message& m) { return m.about.starts_with("emergency_stop"); }
}  // namespace

struct Notifier::Impl {
  audit::AuditLog& log;
  const Clock& clock;
  Random& random;
  Sender& sender;

  mutable Mutex mu;
  CondVar cv;
  DeliveryConfig delivery GUARDED_BY(mu);
  std::map<std::string, Message> pending GUARDED_BY(mu);  // by id
  NotifierStats counts GUARDED_BY(mu);
  bool stopping GUARDED_BY(mu) = false;
  bool poked GUARDED_BY(mu) = false;
  bool started GUARDED_BY(mu) = false;
  // Messages being sent by an urgent sender thread, which the delivery
  // thread leaves alone; and how many such threads run.
  std::set<std::string> in_flight GUARDED_BY(mu);
  size_t urgent_running GUARDED_BY(mu) = 0;
  std::thread thread;

  Impl(audit::AuditLog& l, const Clock& c, Random& r, Sender& s, DeliveryConfig d)
      : log(l), clock(c), random(r), sender(s), delivery(std::move(d)) {}

  uint64_t Jitter() {
    std::array<uint8_t, 8> bytes{};
    if (!random.Fill(bytes)) return 0;
    uint64_t v = 0;
    for (uint8_t b : bytes) v = v << 8 | b;
    return v;
  }

  // The audit event recording the end of a message's life.
  json Event(const Message& m, bool delivered, const std::string& why) const {
    json recipients = json::array();
    for (const Recipient& r : m.recipients) recipients.push_back(r.principal);
    json event = {{"event_type", delivered ? "notification_delivered" : "notification_failed"},
                  {"actor", {{"type", "service"}, {"id", workflow::kSystemActor}}},
                  {"action", {{"type", "notify"}, {"target", m.channel}}},
                  {"outcome", {{"status", delivered ? "success" : "failed"}}},
                  {"notification",
                   {{"id", m.id},
                    {"channel", m.channel},
                    {"type", m.type},
                    {"about", m.about},
                    {"subject", m.subject},
                    {"attempts", m.attempts},
                    {"recipients", recipients}}}};
    if (!why.empty()) event["reason"] = why;
    return event;
  }

  // Records the outcome of one attempt. Returns false if it could not be
  // stored (the message stays as it was, due again).
  bool Record(Message m, Result<void> sent) {
    UnixMillis now = clock.Now();
    m.attempts += 1;
    bool final_failure = !sent && (sent.error().kind() == ErrorKind::kInvalidArgument ||
                                   now - m.created_at >= kGiveUpAfter.count());
    if (!sent && !final_failure) {
      m.last_error = sent.error().message();
      m.next_attempt = NextAttempt(m.attempts, now, Jitter());
      if (!log.Commit(std::vector<audit::Event>{}, {Row(m)})) return false;
      MutexLock lock(&mu);
      counts.retried += 1;
      pending[m.id] = std::move(m);
      return true;
    }
    std::string why = sent ? "" : sent.error().message();
    auto event = audit::MakeEvent(Event(m, sent.has_value(), why), now);
    if (!event) return false;
    if (!log.Commit(std::move(*event), {{std::string(kOutboxKind), m.id, std::nullopt}})) {
      return false;
    }
    MutexLock lock(&mu);
    (sent ? counts.delivered : counts.failed) += 1;
    pending.erase(m.id);
    return true;
  }

  void Run() {
    MutexLock lock(&mu);
    while (!stopping) {
      mu.Unlock();
      Deliver();
      mu.Lock();
      // A second at most between looks: retries are due on the clock, which
      // tests move without waking anyone.
      if (!stopping && !poked) cv.WaitFor(&mu, std::chrono::seconds(1));
      poked = false;
    }
  }

  // One attempt to send `m` under `config`.
  Result<void> Attempt(const Message& m, const DeliveryConfig& config) {
    auto channel = config.channels.find(m.channel);
    if (channel == config.channels.end()) {
      return std::unexpected(
          Error::InvalidArgument(fmt::format("channel {} has no delivery settings", m.channel)));
    }
    return sender.Send(m, channel->second, clock.Now());
  }

  size_t Deliver() {
    std::vector<Message> due;
    DeliveryConfig config;
    {
      MutexLock lock(&mu);
      UnixMillis now = clock.Now();
      for (const auto& [id, m] : pending) {
        if (m.next_attempt <= now && !in_flight.count(id)) due.push_back(m);
      }
      config = delivery;
    }
    // The emergency stop's messages first, then by due time.
    std::sort(due.begin(), due.end(), [](const Message& a, const Message& b) {
      return std::pair(!IsUrgent(a), a.next_attempt) < std::pair(!IsUrgent(b), b.next_attempt);
    });
    for (Message& m : due) {
      {
        MutexLock lock(&mu);
        if (stopping) break;
      }
      Result<void> sent = Attempt(m, config);
      Record(std::move(m), std::move(sent));
    }
    return due.size();
  }

  // Sends `m` at once on a thread of its own, beside the delivery thread
  // and any other urgent message. m.id must be in in_flight.
  void SendUrgent(Message m) REQUIRES(mu) {
    ++urgent_running;
    std::thread([this, m = std::move(m)]() mutable {
      DeliveryConfig config;
      {
        MutexLock lock(&mu);
        config = delivery;
      }
      std::string id = m.id;
      Result<void> sent = Attempt(m, config);
      Record(std::move(m), std::move(sent));
      MutexLock lock(&mu);
      in_flight.erase(id);
      --urgent_running;
      cv.SignalAll();
    }).detach();
  }
};

Notifier::Notifier(audit::AuditLog& log, const Clock& clock, Random& random, Sender& sender,
                   DeliveryConfig delivery)
    : impl_(std::make_unique<Impl>(log, clock, random, sender, std::move(delivery))) {}

Notifier::~Notifier() {
  {
    MutexLock lock(&impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.SignalAll();
  if (impl_->thread.joinable()) impl_->thread.join();
  MutexLock lock(&impl_->mu);
  while (impl_->urgent_running != 0) impl_->cv.Wait(&impl_->mu);
}

Result<void> Notifier::Load() {
  auto rows = impl_->log.LoadState(std::string(kOutboxKind));
  if (!rows) return std::unexpected(rows.error());
  MutexLock lock(&impl_->mu);
  for (const auto& [id, value] : *rows) {
    auto m = FromJson(json::parse(value, nullptr, false));
    if (!m) {
      return std::unexpected(Error::Corruption(
          fmt::format("notification {} in the outbox: {}", id, m.error().message())));
    }
    impl_->pending[id] = std::move(*m);
  }
  return Ok();
}

void Notifier::Start() {
  {
    MutexLock lock(&impl_->mu);
    impl_->started = true;
  }
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void Notifier::SetDelivery(DeliveryConfig delivery) {
  MutexLock lock(&impl_->mu);
  impl_->delivery = std::move(delivery);
}

DeliveryConfig Notifier::delivery() const {
  MutexLock lock(&impl_->mu);
  return impl_->delivery;
}

Result<std::vector<Message>> Notifier::Compose(const governance::Governance& g,
                                               const Announcement& a,
                                               const std::vector<std::string>& targets) {
  std::vector<std::string> usable;
  {
    MutexLock lock(&impl_->mu);
    for (const std::string& t : targets) {
      if (!g.FindRole(t) && !impl_->delivery.channels.count(t)) continue;
      usable.push_back(t);
    }
  }
  std::optional<Error> failure;
  auto ids = [&] {
    std::array<uint8_t, 8> bytes{};
    if (auto ok = impl_->random.Fill(bytes); !ok) failure = ok.error();
    return "ntf_" + ToHex(bytes.data(), bytes.size());
  };
  auto messages = notify::Compose(g, a, usable, impl_->clock.Now(), ids);
  if (failure) return std::unexpected(*failure);
  return messages;
}

audit::StateChange Notifier::Row(const Message& m) {
  return {std::string(kOutboxKind), m.id, audit::Dump(ToJson(m))};
}

void Notifier::Enqueue(std::vector<Message> messages) {
  if (messages.empty()) return;
  {
    MutexLock lock(&impl_->mu);
    for (Message& m : messages) {
      // The emergency stop's messages do not wait behind anything: each
      // goes out at once, to every channel in parallel.
      if (impl_->started && !impl_->stopping && IsUrgent(m)) {
        impl_->in_flight.insert(m.id);
        impl_->pending[m.id] = m;
        impl_->SendUrgent(std::move(m));
        continue;
      }
      impl_->pending[m.id] = std::move(m);
    }
    impl_->poked = true;
  }
  impl_->cv.SignalAll();
}

size_t Notifier::DeliverDue() { return impl_->Deliver(); }

std::vector<Message> Notifier::Pending() const {
  MutexLock lock(&impl_->mu);
  std::vector<Message> out;
  for (const auto& [id, m] : impl_->pending) out.push_back(m);
  return out;
}

NotifierStats Notifier::stats() const {
  MutexLock lock(&impl_->mu);
  NotifierStats s = impl_->counts;
  s.pending = impl_->pending.size();
  return s;
}

}  // namespace interlock::notify
