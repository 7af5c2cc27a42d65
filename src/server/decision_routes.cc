// The decision routes: POST /v1/decisions, which decides, records and
// answers once the record is durable, and POST /v1/decisions/simulate.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/compliance_gate.h"
#include "core/json.h"
#include "core/text.h"
#include "decision/render.h"
#include "decision/request.h"
#include "safety/freeze.h"
#include "server/service_impl.h"

namespace interlock::server {

void Service::Impl::SafetyOf(const Governance& g, const decision::Request& request,
                             std::string_view actor, UnixMillis at, Safety* out) const {
  std::shared_ptr<const app::StopMap> stops_now = stops->Snapshot();
  if (const safety::StopState* stop =
          app::Covering(*stops_now, request.environment, request.service, actor)) {
    out->stop_reason = app::CoveringReason(*stop, request.service);
    out->state.emergency_stop = true;
    out->state.stop_reason = out->stop_reason;
  }
  if (auto frozen = state->freezes().FrozenAsNamed(g, request.environment, request.service,
                                                   request.change_type, at)) {
    out->freeze_reason = safety::Describe(g, *frozen);
    out->state.freeze = static_cast<uint32_t>(frozen->window);
    out->state.freeze_reason = out->freeze_reason;
  }
}

void Service::Impl::DecideGated(const Governance& g, const decision::Request& request, Safety* safe,
                                decision::Decision* d) const {
  decision::Decide(g, request, safe->state, d);
  std::shared_ptr<const app::ControlStatus> controls;
  if (d->required_controls.any()) controls = control_status.load();
  safe->findings = app::AllFindings(g, request, *d, {.controls = controls.get(), .log = log.get()});
  if (safe->findings.empty()) return;
  safe->state.findings = safe->findings;
  decision::Decide(g, request, safe->state, d);
}

void Service::Impl::PostDecision(Call& c) {
  const HttpRequest& r = c.request;
  const GovernancePtr& g = c.g;
  const Principal& actor = *c.actor;
  Respond& respond = c.respond;
  decision::RequestLimits limits;
  auto request = decision::ParseRequest(r.body, limits);
  if (!request) {
    respond(ErrorResponse(400, "invalid_request", request.error().message()));
    return;
  }
  // The actor is the token's; a body may name it, and must then name it
  // right.
  if (!request->actor_given) {
    request->actor_id = actor.id;
    request->actor_type = actor.type;
  } else if (request->actor_id != actor.id || request->actor_type != actor.type) {
    respond(ErrorResponse(
        403, "forbidden",
        fmt::format("the request names actor {} ({}), but the token belongs to {} ({})",
                    request->actor_id, Name(request->actor_type), actor.id, Name(actor.type))));
    return;
  }
  // Roles and team are the governance's, never the body's.
  request->actor_roles.clear();
  for (size_t i = 0; i < g->roles.size(); ++i) {
    if (actor.roles.test(i)) request->actor_roles.push_back(g->roles[i].id);
  }
  request->actor_team = actor.team.empty() ? std::nullopt : std::optional<std::string>(actor.team);
  if (auto ok = decision::CheckRequest(*g, *request); !ok) {
    respond(ErrorResponse(400, "invalid_request", ok.error().message()));
    return;
  }
  // AI agents under a global or their own stop were refused in Handle;
  // those under an environment's or a service's are refused here.
  if (actor.type == ActorType::kAiAgent) {
    if (auto refusal = AiRefusal(actor.id, request->environment, request->service)) {
      respond(ErrorResponse(423, "locked", *refusal));
      return;
    }
  }
  Safety safe;
  SafetyOf(*g, *request, actor.id, options.clock->Now(), &safe);
  decision::Decision d;
  DecideGated(*g, *request, &safe, &d);
  const decision::SafetyState& safety = safe.state;
  std::vector<std::string> reasons = decision::ReasonTexts(*g, *request, safety, d);
  std::string why = fmt::format("{}", fmt::join(reasons, "; "));
  std::string body = decision::DecisionText(*g, *request, safety, d, {.reasons = &reasons});

  pending_decisions.fetch_add(1);
  state->RecordDecision(
      *g, *request, d, why,
      [this, respond = std::move(respond), body = std::move(body),
       kind = d.kind](Result<app::RecordedDecision> recorded) mutable {
        if (recorded) {
          decisions[static_cast<size_t>(kind)].fetch_add(1);
          std::string index = std::to_string(recorded->index);
          std::string id;
          bool opened = !recorded->approval_id.empty();
          if (opened) ::interlock::json::AppendQuoted(&id, recorded->approval_id);
          decision::ExtraMember extra[] = {{"audit_index", index}, {"approval_id", id}};
          decision::AppendMembers(&body, std::span(extra, opened ? 2 : 1));
          respond(RawJsonResponse(200, std::move(body)));
        } else if (recorded.error().kind() == ErrorKind::kNotRecorded) {
          // Fail closed: no durable record, no permission.
          decision_failures.fetch_add(1);
          respond(JsonResponse(
              503, {{"decision", "deny"},
                    {"error",
                     {{"code", "audit_unavailable"}, {"message", recorded.error().message()}}}}));
        } else if (recorded.error().kind() == ErrorKind::kInvalidArgument) {
          respond(ErrorResponse(400, "invalid_request", recorded.error().message()));
        } else {
          respond(ErrorResponse(recorded.error()));
        }
        MutexLock lock(&pending_mu);
        pending_decisions.fetch_sub(1);
        pending_cv.SignalAll();
      });
}

void Service::Impl::PostSimulation(Call& c) {
  const HttpRequest& r = c.request;
  const Governance& g = *c.g;
  const Principal& caller = *c.actor;
  const Respond& respond = c.respond;
  auto request = decision::ParseRequest(r.body, decision::RequestLimits{});
  if (!request) {
    respond(ErrorResponse(400, "invalid_request", request.error().message()));
    return;
  }
  // Without an actor, the caller is simulated.
  if (!request->actor_given) {
    request->actor_id = caller.id;
    request->actor_type = caller.type;
  }
  // A principal of principals.yaml named without roles is simulated with
  // the roles and team the governance gives it.
  if (const Principal* p = g.FindPrincipal(request->actor_id); p && request->actor_roles.empty()) {
    for (size_t i = 0; i < g.roles.size(); ++i) {
      if (p->roles.test(i)) request->actor_roles.push_back(g.roles[i].id);
    }
    if (!request->actor_team && !p->team.empty()) request->actor_team = p->team;
  }
  if (auto ok = decision::CheckRequest(g, *request); !ok) {
    respond(ErrorResponse(400, "invalid_request", ok.error().message()));
    return;
  }
  // The freeze windows are those in force now, or at the query's `at`.
  UnixMillis at = options.clock->Now();
  if (auto given = r.Query("at")) {
    auto parsed = ParseTimestamp(*given);
    if (!parsed) {
      respond(ErrorResponse(400, "invalid_request", "at: " + parsed.error().message()));
      return;
    }
    at = *parsed;
  }
  Safety safe;
  SafetyOf(g, *request, request->actor_id, at, &safe);
  decision::Decision d;
  DecideGated(g, *request, &safe, &d);
  const decision::SafetyState& safety = safe.state;
  std::string windows = FreezeWindowsJson(g, at).dump();
  decision::ExtraMember extra[] = {{"simulated", "true"}, {"freeze_windows", windows}};
  respond(RawJsonResponse(
      200, decision::DecisionText(g, *request, safety, d, {.explain = true, .extra = extra})));
}

}  // namespace interlock::server
