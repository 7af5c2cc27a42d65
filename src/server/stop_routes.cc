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
  std::shared_ptr<const app::StopMap> snapshot = stops->Snapshot();
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
    auto applied = state->ChangeStop(*g, actor, scope, action, fields);
    if (!applied) {
      done(std::unexpected(ErrorResponse(applied.error())));
      return;
    }
    json out = StopJson(*g, applied->next);
    if (scope.kind != safety::ScopeKind::kAll) out["scope"] = scope.ToJson();
    out["audit_index"] = applied->record.index;
    out["message"] = applied->summary;
    done(std::move(out));
  };
  Post(
      *stop_lane, actor.id,
      [done](HttpResponse refused) { done(std::unexpected(std::move(refused))); }, std::move(task));
}

}  // namespace interlock::server
