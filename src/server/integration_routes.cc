// The routes of the tools that run rollouts and ask Interlock whether to
// go on. Argo Rollouts' Web metric provider: it reads any 2xx answer as a
// measurement and any other as an error, so every answer here is 200 and
// "no" is said in the body.
#include <fmt/format.h>

#include "app/rollouts.h"
#include "app/stop_board.h"
#include "core/json.h"
#include "safety/freeze.h"
#include "server/service_impl.h"

namespace interlock::server {

// The rollout as the integrations show it: where it stands, not its data.
json Service::Impl::RolloutSummary(const rollout::Rollout& r) {
  json checks = json::array();
  for (const rollout::Check& c : r.checks) {
    checks.push_back({{"name", c.name},
                      {"result", c.result ? json(rollout::CheckResultName(*c.result)) : json()},
                      {"firing", c.firing}});
  }
  return {{"id", r.id},
          {"state", rollout::RolloutStateName(r.state)},
          {"step", r.step + 1},
          {"steps", r.steps.size()},
          {"traffic_percent", r.traffic() * 100},
          {"service", r.spec.service},
          {"environment", r.spec.environment},
          {"checks", std::move(checks)}};
}

namespace {

struct Verdict {
  std::string_view decision;  // allow | require_approval | deny
  std::string reason;
};

// What a rollout's own state says.
Verdict OfRollout(const rollout::Rollout& r) {
  std::string last = r.history.empty() ? "" : r.history.back().why;
  switch (r.state) {
    case rollout::RolloutState::kRolledBack:
      return {"deny", fmt::format("rollout {} was rolled back: {}", r.id, last)};
    case rollout::RolloutState::kAborted:
      return {"deny", fmt::format("rollout {} was aborted: {}", r.id, last)};
    case rollout::RolloutState::kPaused:
      return {"require_approval",
              r.escalation.empty()
                  ? fmt::format("rollout {} is paused: {}", r.id, last)
                  : fmt::format("rollout {} is paused until approval request {} is decided: {}",
                                r.id, r.escalation, last)};
    case rollout::RolloutState::kPromoted:
      return {"allow", fmt::format("rollout {} is promoted", r.id)};
    case rollout::RolloutState::kProgressing:
      break;
  }
  for (const rollout::Check& c : r.checks) {
    if (c.firing && !c.dry_run) {
      return {"deny", fmt::format("rollout {}: {} fires: {}", r.id, c.name, c.detail)};
    }
  }
  return {"allow", fmt::format("rollout {} is at step {} of {} ({}% of traffic) and no trigger "
                               "fires",
                               r.id, r.step + 1, r.steps.size(), r.traffic() * 100)};
}

}  // namespace

Service::Impl::Hold Service::Impl::HoldOf(const Governance& g, Environment environment,
                                          const std::string& service, const std::string& actor,
                                          std::optional<rollout::Rollout> named) const {
  Hold h;
  h.rollout = std::move(named);
  if (const safety::StopState* stop =
          app::Covering(*stops->Snapshot(), environment, service, actor)) {
    h.decision = "deny";
    h.reason =
        fmt::format("the emergency stop ({}) is active: {}", stop->scope.Describe(), stop->reason);
    return h;
  }
  // A window that starts in the middle of a rollout holds it where it is:
  // frozen is "wait", not "roll back".
  safety::FrozenChange change{environment, &service, ChangeType::kCode};
  if (auto frozen = state->freezes().FrozenFor(g, change, options.clock->Now())) {
    h.decision = "require_approval";
    h.reason = safety::Describe(g, *frozen);
    return h;
  }
  if (h.rollout) {
    Verdict v = OfRollout(*h.rollout);
    h.decision = v.decision;
    h.reason = std::move(v.reason);
    return h;
  }
  if (auto incident = state->rollouts().BlockingIncident(g, service)) {
    h.decision = "deny";
    h.reason = fmt::format("rollouts of {} are blocked until incident {} is reviewed", service,
                           incident->id);
    return h;
  }
  for (rollout::Rollout& active :
       state->rollouts().ActiveOf(service, std::string(Name(environment)))) {
    Verdict v = OfRollout(active);
    if (v.decision != "allow") {
      h.decision = v.decision;
      h.reason = std::move(v.reason);
      h.rollout = std::move(active);
      return h;
    }
  }
  h.reason = fmt::format("nothing holds {} in {}", service, Name(environment));
  return h;
}

void Service::Impl::ArgoAnalysis(Call& c) {
  auto answer = [&](std::string_view decision, const std::string& reason, const json& rollout) {
    c.respond(
        JsonResponse(200, {{"decision", decision}, {"reason", reason}, {"rollout", rollout}}));
  };
  // The names, from the query or from a JSON body.
  std::string id, service, environment;
  if (c.request.method == "POST" && !c.request.body.empty()) {
    static constexpr std::string_view kFields[] = {"rollout", "service", "environment"};
    auto body = ::interlock::json::ReadObject(c.request.body, kFields);
    if (!body) return answer("deny", body.error().message(), nullptr);
    for (auto [key, out] :
         {std::pair{"rollout", &id}, {"service", &service}, {"environment", &environment}}) {
      auto v = body->fields.OptionalString(key);
      if (!v) return answer("deny", v.error().message(), nullptr);
      *out = std::string(v->value_or(""));
    }
  } else {
    id = c.request.Query("rollout").value_or("");
    service = c.request.Query("service").value_or("");
    environment = c.request.Query("environment").value_or("");
  }
  std::optional<rollout::Rollout> r;
  if (!id.empty()) {
    auto found = state->rollouts().Find(id);
    if (!found) return answer("deny", found.error().message(), nullptr);
    if (!*found) return answer("deny", fmt::format("no rollout {}", id), nullptr);
    r = std::move(**found);
    service = r->spec.service;
    environment = r->spec.environment;
  } else if (service.empty() || environment.empty()) {
    return answer("deny", "name a rollout (rollout), or a service and an environment", nullptr);
  }
  auto env = ParseEnum<Environment>(environment);
  if (!env) {
    return answer("deny",
                  fmt::format("environment: expected one of dev, staging, production, found \"{}\"",
                              environment),
                  nullptr);
  }
  Hold h = HoldOf(*c.g, *env, service, c.actor->id, std::move(r));
  answer(h.decision, h.reason, h.rollout ? RolloutSummary(*h.rollout) : json(nullptr));
}

}  // namespace interlock::server
