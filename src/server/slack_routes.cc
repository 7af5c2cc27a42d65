// POST /slack/commands: Slack's slash commands (/emergency-stop, /approve,
// /rollout),
// authenticated by Slack's v0 signature instead of a token, their Slack
// user mapped to a principal by its slack_id.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

#include "core/digest.h"
#include "core/hmac.h"
#include "notify/slack.h"
#include "server/service_impl.h"

namespace interlock::server {
namespace {

// Slack's answer to a slash command: shown to the user only, or posted in
// the channel for everyone.
// Every word of it is text, never markup: reasons and summaries come from
// users (notify/slack.h).
HttpResponse SlackReply(bool in_channel, std::string_view text) {
  return JsonResponse(200, {{"response_type", in_channel ? "in_channel" : "ephemeral"},
                            {"text", notify::SlackEscape(text)}});
}

// The words of an error response, for a Slack reply.
std::string ErrorText(const HttpResponse& r) {
  json body = json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].contains("message") &&
      body["error"]["message"].is_string()) {
    return body["error"]["message"].get<std::string>();
  }
  return fmt::format("failed with status {}", r.status);
}

}  // namespace

bool Service::Impl::SlackOn() const { return !notifier->delivery().slack_signing_secret.empty(); }

HttpResponse Service::Impl::SlackOff() {
  return ErrorResponse(404, "not_found",
                       "Slack commands are off: the delivery settings name no "
                       "slack_commands.signing_secret");
}

void Service::Impl::PostSlackCommand(Call& c) {
  const HttpRequest& r = c.request;
  const Respond& respond = c.respond;
  const GovernancePtr& g = c.g;
  std::string secret = notifier->delivery().slack_signing_secret;
  if (secret.empty()) {
    // Turned off by a reload since the routes table looked.
    respond(SlackOff());
    return;
  }
  // Slack's v0 signature: HMAC-SHA256 of "v0:<timestamp>:<body>".
  auto timestamp = r.Header("x-slack-request-timestamp");
  auto signature = r.Header("x-slack-signature");
  if (!timestamp || !signature) {
    respond(ErrorResponse(401, "unauthorized",
                          "X-Slack-Request-Timestamp and X-Slack-Signature are required"));
    return;
  }
  // Seconds since 1970 as ASCII digits only: no sign, nothing that could
  // overflow the difference below.
  int64_t sent = 0;
  bool digits = !timestamp->empty() && timestamp->size() <= 12 &&
                std::all_of(timestamp->begin(), timestamp->end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  auto [end, ec] = std::from_chars(timestamp->data(), timestamp->data() + timestamp->size(), sent);
  int64_t now = options.clock->Now() / 1000;
  if (!digits || ec != std::errc() || end != timestamp->data() + timestamp->size() ||
      sent > now + 300 || sent < now - 300) {
    respond(ErrorResponse(401, "unauthorized",
                          "X-Slack-Request-Timestamp is not within 5 minutes of now; the request "
                          "is refused as a possible replay"));
    return;
  }
  auto mac = HmacSha256({reinterpret_cast<const uint8_t*>(secret.data()), secret.size()},
                        fmt::format("v0:{}:{}", *timestamp, r.body));
  if (!ConstantTimeEqual("v0=" + ToHex(mac.data(), mac.size()), *signature)) {
    respond(ErrorResponse(401, "unauthorized", "the Slack signature does not match the body"));
    return;
  }
  {
    // A signed request replayed inside the 5 minutes is refused too.
    MutexLock lock(&slack_mu);
    std::erase_if(slack_seen, [&](const auto& seen) { return seen.second < now - 300; });
    if (!slack_seen.emplace(std::string(*signature), sent).second) {
      respond(ErrorResponse(401, "unauthorized", "this Slack request was already received"));
      return;
    }
  }
  auto form = ParseForm(r.body);
  if (!form) {
    respond(ErrorResponse(400, "invalid", "the body is not application/x-www-form-urlencoded"));
    return;
  }
  std::string user, command, text;
  for (const auto& [name, value] : *form) {
    if (name == "user_id") user = value;
    if (name == "command") command = value;
    if (name == "text") text = value;
  }
  const Principal* actor = nullptr;
  for (const Principal& p : g->principals) {
    if (!p.slack_id.empty() && p.slack_id == user) actor = &p;
  }
  if (!actor) {
    respond(SlackReply(false, fmt::format("Your Slack user {} is not linked to a principal: add "
                                          "slack_id: {} to principals.yaml",
                                          user, user)));
    return;
  }
  std::string_view rest = text;
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  std::string word(rest.substr(0, rest.find(' ')));
  rest.remove_prefix(word.size());
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  auto reply = [respond](bool in_channel, std::function<std::string(const json&)> say) {
    return [respond, in_channel, say = std::move(say)](Outcome outcome) {
      respond(outcome ? SlackReply(in_channel, say(*outcome))
                      : SlackReply(false, "Refused: " + ErrorText(outcome.error())));
    };
  };
  if (command == "/emergency-stop" && word == "status") {
    safety::StopState st = Stop();
    respond(SlackReply(
        false, st.active
                   ? fmt::format("The emergency stop is ACTIVE since {} by {}: {}{}",
                                 FormatTimestamp(st.activated_at), st.activated_by, st.reason,
                                 st.signatures.empty()
                                     ? ""
                                     : fmt::format(" (deactivation pending: {})",
                                                   fmt::join(safety::PendingRoles(*g, st), ", ")))
                   : "The emergency stop is not active."));
  } else if (command == "/emergency-stop" && word == "activate") {
    StopAction(g, *actor, {}, "activate", {{"reason", std::string(rest)}},
               reply(true, [](const json& out) { return out["message"].get<std::string>(); }));
  } else if (command == "/approve" && !word.empty()) {
    ApprovalAction(g, *actor, word, workflow::Action::kApprove, std::string(rest), "",
                   reply(true, [actor](const json& out) {
                     return fmt::format("{} approved {}: it is now {}", actor->id,
                                        out["id"].get<std::string>(),
                                        out["state"].get<std::string>());
                   }));
  } else if (command == "/rollout" && (word == "promote" || word == "abort" || word == "pause" ||
                                       word == "resume" || word == "skip_step")) {
    // /rollout <action> <rollout id> <rationale>
    std::string id(rest.substr(0, rest.find(' ')));
    rest.remove_prefix(id.size());
    while (rest.starts_with(' ')) rest.remove_prefix(1);
    if (id.empty() || rest.empty()) {
      respond(SlackReply(false, fmt::format("Usage: /rollout {} <rollout id> <rationale>", word)));
      return;
    }
    RolloutOverride(g, *actor, id, word, std::string(rest),
                    reply(true, [actor, word](const json& out) {
                      return fmt::format(
                          "{} took {} on rollout {}: it is {} at step {} of {} ({}% "
                          "of traffic)",
                          actor->id, word, out["id"].get<std::string>(),
                          out["state"].get<std::string>(), out["step"].get<int>(),
                          out["steps"].get<int>(), out["traffic_percent"].get<double>());
                    }));
  } else {
    respond(SlackReply(false,
                       "Usage: /emergency-stop activate <reason> | /emergency-stop status | "
                       "/approve <approval id> <rationale> | "
                       "/rollout promote|abort|pause|resume|skip_step <rollout id> <rationale>"));
  }
}

}  // namespace interlock::server
