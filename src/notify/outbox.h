// The notification outbox's messages: what is composed when an approval or
// the emergency stop changes, how it is stored, and what each kind of
// channel is sent. Pure: no I/O, no clock (the Notifier, notify/notifier.h,
// does the sending).
//
// A message is addressed to one channel of the governance's interlock.yaml
// and names its recipients: principals, with the e-mail address and Slack
// user id principals.yaml gives them. It is stored as a state row of kind
// kOutboxKind in the same transaction as the change it reports, so a change
// that is durable is never left unannounced, and a restart resends whatever
// was not yet delivered.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "governance/model.h"

namespace interlock::notify {

inline constexpr std::string_view kOutboxKind = "outbox";

struct Recipient {
  std::string principal;
  std::string email;     // empty when principals.yaml gives none
  std::string slack_id;  // empty when principals.yaml gives none
};

struct Message {
  std::string id;       // "ntf_<16 hex>", unique
  std::string channel;  // a channel id of interlock.yaml
  std::string type;     // its type: slack | email | pagerduty | webhook
  std::string subject;  // one line: "Approval apr_1a2b escalated"
  std::string text;     // one line or a few
  // critical for the emergency stop, warning for timeouts and escalations,
  // info otherwise (PagerDuty's severity).
  std::string severity;
  // What it is about, for grouping on the receiving side (PagerDuty's
  // dedup_key): "approval apr_1a2b", "emergency_stop global".
  std::string about;
  std::vector<Recipient> recipients;
  UnixMillis created_at = 0;
  int attempts = 0;             // deliveries tried so far
  UnixMillis next_attempt = 0;  // not before
  std::string last_error;       // of the last failed attempt
};

// The stored form: a JSON object with "format": 1. FromJson checks every
// field and names the bad one (kCorruption).
nlohmann::json ToJson(const Message& m);
Result<Message> FromJson(const nlohmann::json& j);

// What to announce: who (principals by id, and every holder of a role) and
// what. Composed into one Message per channel.
struct Announcement {
  std::vector<std::string> principals;
  std::vector<std::string> roles;
  std::string subject;
  std::string text;
  std::string severity = "info";
  std::string about;
};

// One message per channel named in `targets` (ids of interlock.yaml's
// channels or roles: a role among them adds its holders as recipients),
// each with a fresh id from `ids` (called once per message). Recipients are
// humans only (an AI agent or a service is not paged), each once, in
// principals.yaml order. No channel among the targets: no messages.
std::vector<Message> Compose(const governance::Governance& g, const Announcement& a,
                             const std::vector<std::string>& targets, UnixMillis now,
                             const std::function<std::string()>& ids);

// When to try again after `attempts` failed deliveries: 5 s, doubling, at
// most 15 minutes, plus up to a fifth more from `jitter` (any value; spread
// so that many messages do not retry at once).
UnixMillis NextAttempt(int attempts, UnixMillis now, uint64_t jitter);
// Messages are given up after this long in the outbox: one day.
inline constexpr Millis kGiveUpAfter{24 * 60 * 60 * 1000};

// The bodies each channel type is sent.
// Slack incoming webhook: {"text": "<@U1> <@U2> *subject*\ntext"}, the
// mentions made from the recipients' slack_id, subject and text escaped with
// SlackEscape so that nothing in them is read as markup.
std::string SlackBody(const Message& m);
// PagerDuty Events API v2: an event_action "trigger" with dedup_key `about`.
std::string PagerDutyBody(const Message& m, std::string_view routing_key);
// A generic webhook: {"id", "channel", "subject", "text", "severity",
// "about", "created_at", "recipients": [{"principal", "email"?, "slack_id"?}]}.
std::string WebhookBody(const Message& m);
// The webhook's signature header value: "sha256=" + hex(HMAC-SHA256(secret,
// timestamp + "." + body)), timestamp in Unix seconds as sent in
// X-Interlock-Timestamp. Receivers recompute it and compare in constant time.
std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body);

}  // namespace interlock::notify
