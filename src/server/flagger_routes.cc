// Flagger's webhooks: POST /v1/integrations/flagger/{hook}, with Flagger's
// body {name, namespace, phase, checksum, metadata}. Flagger sends no
// headers of its own, so the bearer token travels in metadata.token. The
// canary's namespace maps to an environment (and perhaps a service) through
// integrations/kubernetes.yml; its name is the service otherwise.
//
// Flagger reads 200 as go and anything else as "not now": gates answer 403
// for wait or no, never 5xx (which Flagger retries). The rollback hook's
// 200 means "roll back now". Event and post-rollout hooks are recorded in
// the audit log, and answer 503 if the record cannot be made (retried).
#include <fmt/format.h>

#include "app/stop_board.h"
#include "audit/event.h"
#include "core/json.h"
#include "core/text.h"
#include "server/service_impl.h"

namespace interlock::server {
namespace {

constexpr std::string_view kGates[] = {"confirm-rollout", "pre-rollout", "rollout",
                                       "confirm-traffic-increase", "confirm-promotion"};
constexpr std::string_view kRecorded[] = {"event", "post-rollout"};

bool OneOf(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

void Service::Impl::FlaggerHook(Call& c) {
  const std::string& hook = c.Param("hook");
  const Governance& g = *c.g;
  auto answer = [&](int status, std::string_view decision, const std::string& reason,
                    const json& extra = json::object()) {
    json body = {{"hook", hook}, {"decision", decision}, {"reason", reason}};
    body.update(extra);
    c.respond(JsonResponse(status, body));
  };
  bool gate = OneOf(kGates, hook);
  if (!gate && hook != "rollback" && !OneOf(kRecorded, hook)) {
    c.respond(ErrorResponse(
        404, "not_found",
        fmt::format("no Flagger hook {} (expected confirm-rollout, pre-rollout, rollout, "
                    "confirm-traffic-increase, confirm-promotion, post-rollout, rollback or event)",
                    hook)));
    return;
  }
  static constexpr std::string_view kFields[] = {"name", "namespace", "phase", "checksum",
                                                 "metadata"};
  auto body = ::interlock::json::ReadObject(c.request.body, kFields);
  if (!body) {
    c.respond(ErrorResponse(400, "invalid_request", body.error().message()));
    return;
  }
  const ::interlock::json::ObjectReader& f = body->fields;
  // name and namespace are required; phase and checksum are not.
  std::string fields[4];
  for (size_t i = 0; i < 4; ++i) {
    auto v = f.OptionalString(kFields[i]);
    if (v && !*v && i < 2) v = std::unexpected(f.String(kFields[i]).error());  // "required"
    if (!v) {
      c.respond(ErrorResponse(400, "invalid_request", v.error().message()));
      return;
    }
    fields[i] = std::string(v->value_or(""));
  }
  const std::string& name = fields[0];
  const std::string& ns = fields[1];
  // metadata: Flagger's map of strings.
  std::map<std::string, std::string> metadata;
  if (auto m = f.Find("metadata")) {
    if (!m->is_object()) {
      c.respond(ErrorResponse(400, "invalid_request",
                              f.WrongType("metadata", "an object of strings", *m).message()));
      return;
    }
    for (const ::interlock::json::Member& member : m->members()) {
      ::interlock::json::Value v = member.value();
      if (!v.is_string()) {
        c.respond(ErrorResponse(400, "invalid_request",
                                fmt::format("body.metadata.{}: expected a string, found {}",
                                            member.key, ::interlock::json::TypeName(v.type()))));
        return;
      }
      metadata.emplace(std::string(member.key), std::string(v.AsString()));
    }
  }
  // The token, from the metadata.
  auto token = metadata.find("token");
  if (token == metadata.end() || token->second.empty()) {
    c.respond(ErrorResponse(401, "unauthorized",
                            "Flagger sends no Authorization header: put the bearer token in the "
                            "webhook's metadata.token"));
    return;
  }
  auto actor = AuthenticateToken(token->second, g);
  if (!actor) {
    c.respond(std::move(actor.error()));
    return;
  }
  const Principal& p = **actor;

  // The canary's environment and service.
  const governance::KubernetesNamespace* mapped = g.kubernetes.FindNamespace(ns);
  std::string service =
      mapped && !mapped->service.empty() ? mapped->service : CanonicalService(name).value_or(name);
  if (OneOf(kRecorded, hook)) {
    nlohmann::json event = {
        {"event_type", "flagger_" + std::string(hook == "event" ? "event" : "post_rollout")},
        {"actor", {{"type", Name(p.type)}, {"id", p.id}}},
        {"flagger",
         {{"hook", hook},
          {"name", name},
          {"namespace", ns},
          {"phase", fields[2]},
          {"checksum", fields[3]}}},
        {"change", {{"service", service}}}};
    if (mapped) event["change"]["environment"] = Name(mapped->environment);
    for (std::string_view key : {"eventMessage", "eventType", "timestamp"}) {
      if (auto it = metadata.find(std::string(key)); it != metadata.end()) {
        event["flagger"][std::string(key)] = it->second;
      }
    }
    if (p.type == ActorType::kAiAgent) {
      event["decision"] = {{"rationale", "a Flagger event, recorded as it came"}};
    }
    auto made = audit::MakeEvent(std::move(event), options.clock->Now());
    if (!made) {
      c.respond(ErrorResponse(400, "invalid_request", made.error().message()));
      return;
    }
    std::vector<audit::Event> events;
    events.push_back(std::move(*made));
    log->CommitAsync(
        std::move(events), {}, [respond = c.respond, hook](Result<std::vector<audit::Appended>> r) {
          if (!r) {
            respond(NotRecorded("the Flagger event was not recorded", r.error()));
            return;
          }
          respond(JsonResponse(
              200, {{"hook", hook}, {"recorded", true}, {"audit_index", r->front().index}}));
        });
    return;
  }
  if (!mapped) {
    std::string why = fmt::format(
        "namespace {} is not mapped to an environment in integrations/kubernetes.yml", ns);
    // Unknown is not a reason to roll back, nor to go on.
    return answer(403, hook == "rollback" ? "allow" : "deny", why);
  }
  if (p.type == ActorType::kAiAgent) {
    if (auto refusal = AiRefusal(p.id, mapped->environment, service)) {
      return answer(hook == "rollback" ? 200 : 403, "deny", *refusal);
    }
  }
  Hold h = HoldOf(g, mapped->environment, service, p.id, std::nullopt);
  json shown = {{"rollout", h.rollout ? RolloutSummary(*h.rollout) : json(nullptr)},
                {"service", service},
                {"environment", Name(mapped->environment)}};
  if (hook == "rollback") {
    // Roll back on a deny (a stop, a rolled back or firing rollout); a
    // freeze or a pause only holds.
    bool back = h.decision == "deny";
    return answer(back ? 200 : 403, h.decision,
                  back ? "roll back: " + h.reason : "no reason to roll back: " + h.reason, shown);
  }
  answer(h.decision == "allow" ? 200 : 403, h.decision, h.reason, shown);
}

}  // namespace interlock::server
