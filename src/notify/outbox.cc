#include "notify/outbox.h"

#include <fmt/format.h>

#include <algorithm>

#include "audit/json.h"
#include "core/digest.h"
#include "core/hmac.h"
#include "notify/slack.h"

namespace interlock::notify {
namespace {

using json = nlohmann::json;

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

Result<std::string> StringMember(const json& j, const char* name, bool required = true) {
  auto it = j.find(name);
  if (it == j.end() && !required) return std::string();
  if (it == j.end() || !it->is_string()) {
    return std::unexpected(Error::Corruption(fmt::format("{}: expected a string", name)));
  }
  return it->get<std::string>();
}

Result<int64_t> IntegerMember(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) {
    return std::unexpected(Error::Corruption(fmt::format("{}: expected an integer", name)));
  }
  return it->get<int64_t>();
}

json RecipientsJson(const Message& m) {
  json list = json::array();
  for (const Recipient& r : m.recipients) {
    json one = {{"principal", r.principal}};
    if (!r.email.empty()) one["email"] = r.email;
    if (!r.slack_id.empty()) one["slack_id"] = r.slack_id;
    list.push_back(std::move(one));
  }
  return list;
}

}  // namespace

json ToJson(const Message& m) {
  return {{"format", 1},
          {"id", m.id},
          {"channel", m.channel},
          {"type", m.type},
          {"subject", m.subject},
          {"text", m.text},
          {"severity", m.severity},
          {"about", m.about},
          {"recipients", RecipientsJson(m)},
          {"created_at", m.created_at},
          {"attempts", m.attempts},
          {"next_attempt", m.next_attempt},
          {"last_error", m.last_error}};
}

Result<Message> FromJson(const json& j) {
  if (!j.is_object()) return std::unexpected(Error::Corruption("expected a JSON object"));
  auto format = IntegerMember(j, "format");
  if (!format) return std::unexpected(format.error());
  if (*format != 1) {
    return std::unexpected(Error::Corruption(fmt::format("format {} is not known", *format)));
  }
  Message m;
  for (auto [name, into] : {std::pair{"id", &m.id}, std::pair{"channel", &m.channel},
                            std::pair{"type", &m.type}, std::pair{"subject", &m.subject},
                            std::pair{"text", &m.text}, std::pair{"severity", &m.severity},
                            std::pair{"about", &m.about}, std::pair{"last_error", &m.last_error}}) {
    auto value = StringMember(j, name);
    if (!value) return std::unexpected(value.error());
    *into = std::move(*value);
  }
  for (auto [name, into] :
       {std::pair{"created_at", &m.created_at}, std::pair{"next_attempt", &m.next_attempt}}) {
    auto value = IntegerMember(j, name);
    if (!value) return std::unexpected(value.error());
    *into = *value;
  }
  auto attempts = IntegerMember(j, "attempts");
  if (!attempts) return std::unexpected(attempts.error());
  if (*attempts < 0 || *attempts > 1'000'000) {
    return std::unexpected(
        Error::Corruption(fmt::format("attempts: {} is out of range", *attempts)));
  }
  m.attempts = static_cast<int>(*attempts);
  auto list = j.find("recipients");
  if (list == j.end() || !list->is_array()) {
    return std::unexpected(Error::Corruption("recipients: expected an array"));
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    Recipient r;
    auto principal = item.is_object() ? StringMember(item, "principal") : std::string();
    auto email = item.is_object() ? StringMember(item, "email", false) : std::string();
    auto slack = item.is_object() ? StringMember(item, "slack_id", false) : std::string();
    if (!item.is_object() || !principal || !email || !slack || principal->empty()) {
      return std::unexpected(Error::Corruption(
          fmt::format("recipients[{}]: expected {{\"principal\", \"email\"?, \"slack_id\"?}}", i)));
    }
    m.recipients.push_back({std::move(*principal), std::move(*email), std::move(*slack)});
  }
  if (m.id.empty() || m.channel.empty()) {
    return std::unexpected(Error::Corruption("id and channel must not be empty"));
  }
  return m;
}

std::vector<Message> Compose(const governance::Governance& g, const Announcement& a,
                             const std::vector<std::string>& targets, UnixMillis now,
                             const std::function<std::string()>& ids) {
  governance::RoleSet roles;
  for (const std::string& role : a.roles) {
    if (auto index = g.FindRole(role)) roles.set(*index);
  }
  for (const std::string& target : targets) {
    if (auto index = g.FindRole(target)) roles.set(*index);
  }
  std::vector<Recipient> recipients;
  for (const governance::Principal& p : g.principals) {
    if (p.type != ActorType::kHuman) continue;
    if ((p.roles & roles).any() || Contains(a.principals, p.id)) {
      recipients.push_back({p.id, p.email, p.slack_id});
    }
  }
  std::vector<Message> out;
  for (const governance::Channel& channel : g.channels) {
    if (!Contains(targets, channel.id)) continue;
    Message m;
    m.id = ids();
    m.channel = channel.id;
    m.type = channel.type;
    m.subject = a.subject;
    m.text = a.text;
    m.severity = a.severity;
    m.about = a.about;
    m.recipients = recipients;
    m.created_at = now;
    m.next_attempt = now;
    out.push_back(std::move(m));
  }
  return out;
}

UnixMillis NextAttempt(int attempts, UnixMillis now, uint64_t jitter) {
  constexpr int64_t kFirst = 5'000;
  constexpr int64_t kMost = int64_t{15} * 60 * 1000;
  int64_t delay = kFirst;
  for (int i = 1; i < attempts && delay < kMost; ++i) delay *= 2;
  delay = std::min(delay, kMost);
  return now + delay + static_cast<int64_t>(jitter % static_cast<uint64_t>(delay / 5 + 1));
}

std::string SlackBody(const Message& m) {
  std::string mentions;
  for (const Recipient& r : m.recipients) {
    if (!r.slack_id.empty()) mentions += SlackMention(r.slack_id) + " ";
  }
  return audit::Dump(json{
      {"text", fmt::format("{}*{}*\n{}", mentions, SlackEscape(m.subject), SlackEscape(m.text))}});
}

std::string PagerDutyBody(const Message& m, std::string_view routing_key) {
  std::string summary = m.subject + ": " + m.text;
  if (summary.size() > 1024) summary.resize(1024);  // the API's limit
  std::string severity = m.severity == "critical"  ? "critical"
                         : m.severity == "warning" ? "warning"
                                                   : "info";
  return audit::Dump(
      json{{"routing_key", routing_key},
           {"event_action", "trigger"},
           {"dedup_key", m.about.empty() ? m.id : m.about},
           {"payload",
            {{"summary", summary},
             {"source", "interlock"},
             {"severity", severity},
             {"timestamp", FormatTimestamp(m.created_at)},
             {"custom_details", {{"notification", m.id}, {"recipients", RecipientsJson(m)}}}}}});
}

std::string WebhookBody(const Message& m) {
  return audit::Dump(json{{"id", m.id},
                          {"channel", m.channel},
                          {"subject", m.subject},
                          {"text", m.text},
                          {"severity", m.severity},
                          {"about", m.about},
                          {"created_at", FormatTimestamp(m.created_at)},
                          {"recipients", RecipientsJson(m)}});
}

std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body) {
  std::string message = fmt::format("{}.{}", timestamp, body);
  auto mac = HmacSha256({reinterpret_cast<const uint8_t*>(secret.data()), secret.size()}, message);
  return "sha256=" + ToHex(mac.data(), mac.size());
}

}  // namespace interlock::notify
