// The emergency stop's routes: GET /api/emergency-stop, every stop's state
// from a lock-free snapshot, and POST /api/emergency-stop, whose actions run
// on the stop lane, which nothing but other stop actions can be ahead of.
#include <fmt/format.h>

#include "audit/event.h"
#include "audit/json.h"
#include "core/json.h"
#include "server/service_impl.h"

namespace interlock::server {

void Service::Impl::GetStop(Call& c) {
  std::shared_ptr<const app::StopMap> snapshot = stops.Snapshot();
  const app::StopMap& all = *snapshot;
  json out = StopJson(*c.g, all.at("global"));
  json scoped = json::array();
  for (const auto& [key, st] : all) {
    if (st.scope.kind == safety::ScopeKind::kAll) continue;
    json one = {{"scope", st.scope.ToJson()}};
    one.update(StopJson(*c.g, st));
    scoped.push_back(std::move(one));
  }
  out["scoped"] = std::move(scoped);
  c.respond(JsonResponse(200, out));
}

void Service::Impl::PostStop(Call& c) {
  const HttpRequest& r = c.request;
  const GovernancePtr& g = c.g;
  const Principal& actor = *c.actor;
  Respond& respond = c.respond;
  static constexpr std::string_view kFields[] = {
      "action", "reason", "scope", "post_incident_review", "root_cause", "prevention_measures"};
  static constexpr std::string_view kScopeFields[] = {"environment", "service", "agent"};
  auto body = ::interlock::json::ReadObject(r.body, kFields);
  if (!body) {
    respond(ErrorResponse(body.error()));
    return;
  }
  auto action = body->fields.String("action");
  if (!action) {
    respond(ErrorResponse(action.error()));
    return;
  }
  safety::Scope scope;
  auto scope_in = body->fields.OptionalObject("scope", kScopeFields);
  if (!scope_in) {
    respond(ErrorResponse(scope_in.error()));
    return;
  }
  if (*scope_in) {
    json given = json::object();
    for (std::string_view key : kScopeFields) {
      auto value = (*scope_in)->OptionalString(key);
      if (!value) {
        respond(ErrorResponse(value.error()));
        return;
      }
      if (*value) given[std::string(key)] = std::string(**value);
    }
    auto parsed = safety::Scope::FromJson(*g, given);
    if (!parsed) {
      respond(ErrorResponse(parsed.error()));
      return;
    }
    scope = std::move(*parsed);
  }
  std::map<std::string, std::string> fields;
  for (const char* name : {"reason", "post_incident_review", "root_cause", "prevention_measures"}) {
    auto value = body->fields.OptionalString(name);
    if (!value) {
      respond(ErrorResponse(value.error()));
      return;
    }
    if (*value && !(*value)->empty()) fields[name] = std::string(**value);
  }
  if (*action != "activate" && *action != "deactivate" && *action != "reenable_ai_agents") {
    respond(ErrorResponse(400, "invalid",
                          fmt::format("action: expected activate, deactivate or "
                                      "reenable_ai_agents, got \"{}\"",
                                      *action)));
    return;
  }
  StopAction(g, actor, std::move(scope), std::string(*action), std::move(fields),
             AnswerWith(std::move(respond)));
}

void Service::Impl::StopAction(const GovernancePtr& g, const Principal& actor, safety::Scope scope,
                               const std::string& action, std::map<std::string, std::string> fields,
                               const std::function<void(Outcome)>& done) {
  // The stop lane is the only writer of `stops`: no lock is taken here, and
  // nothing but other stop actions can be ahead of this one.
  auto task = [this, g, actor, scope = std::move(scope), action, fields = std::move(fields),
               done]() mutable {
    UnixMillis now = options.clock->Now();
    std::string key = scope.Key();
    std::shared_ptr<const app::StopMap> before = stops.Snapshot();
    auto found = before->find(key);
    safety::StopState current = found != before->end() ? found->second : safety::StopState{scope};
    std::string reason = fields.count("reason") ? fields["reason"] : "";
    auto change = action == "activate"     ? safety::Activate(*g, current, actor, reason, now)
                  : action == "deactivate" ? safety::Deactivate(*g, current, actor, fields, now)
                                           : safety::ReenableAiAgents(*g, current, actor, reason);
    if (!change) {
      done(std::unexpected(ErrorResponse(change.error())));
      return;
    }
    auto event = audit::ParseEvent(audit::Dump(change->event), now);
    if (!event) {
      done(std::unexpected(ErrorResponse(500, "internal", event.error().message())));
      return;
    }
    auto messages = AnnounceStop(*g, *change, action);
    if (!messages) {
      done(std::unexpected(ErrorResponse(messages.error())));
      return;
    }
    std::vector<audit::StateChange> changes = {app::StopBoard::Row(change->next)};
    for (const notify::Message& m : *messages) changes.push_back(notify::Notifier::Row(m));
    auto appended = log->Commit(std::move(*event), std::move(changes));
    if (!appended) {
      done(std::unexpected(NotRecorded("the change was not made", appended.error())));
      return;
    }
    stops.Put(change->next);
    notifier->Enqueue(std::move(*messages));
    json out = StopJson(*g, change->next);
    if (scope.kind != safety::ScopeKind::kAll) out["scope"] = scope.ToJson();
    out["audit_index"] = appended->index;
    out["message"] = change->summary;
    done(std::move(out));
  };
  Post(
      *stop_lane, actor.id,
      [done](HttpResponse refused) { done(std::unexpected(std::move(refused))); }, std::move(task));
}

Result<std::vector<notify::Message>> Service::Impl::AnnounceStop(const Governance& g,
                                                                 const safety::StopChange& change,
                                                                 std::string_view action) {
  notify::Announcement an;
  governance::RoleSet roles = g.emergency_stop.activate_roles | g.emergency_stop.deactivate_roles;
  for (size_t i = 0; i < g.roles.size(); ++i) {
    if (roles.test(i)) an.roles.push_back(g.roles[i].id);
  }
  for (const std::string& role : *approvals->PendingRoles()) an.roles.push_back(role);
  const safety::StopState& next = change.next;
  an.subject = action == "activate"     ? "EMERGENCY STOP ACTIVATED"
               : next.active            ? "Emergency stop: deactivation signed"
               : action == "deactivate" ? "Emergency stop deactivated"
                                        : "AI agents re-enabled";
  an.text = change.summary;
  an.severity = action == "activate" ? "critical" : "warning";
  an.about = fmt::format("emergency_stop {}", next.incident);
  return notifier->Compose(g, an, g.emergency_stop.notify);
}

}  // namespace interlock::server
