// The rollouts' routes: opening one, reading them, overrides, pushed
// metrics, and the incidents of rollbacks with their reviews. Changes run on
// the state lane; reads answer at once.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "app/rollouts.h"
#include "app/stop_board.h"
#include "core/clock.h"
#include "core/json.h"
#include "governance/checks.h"
#include "server/service_impl.h"

namespace interlock::server {
namespace {

// A rollout as the API shows it: its stored form without the metric points
// (GET /v1/rollouts/{id} adds them).
json RolloutJson(const rollout::Rollout& r, bool with_metrics) {
  json out = rollout::ToJson(r);
  out.erase("format");
  if (!with_metrics) out.erase("metrics");
  return out;
}

// Whether an emergency stop covers the rollout's service in its environment.
const safety::StopState* StopOver(const app::StopMap& stops, const rollout::Rollout& r) {
  auto env = ParseEnum<Environment>(r.spec.environment);
  return app::Covering(stops, env.value_or(Environment::kProduction), r.spec.service, "");
}

}  // namespace

void Service::Impl::PostRollout(Call& c) {
  static constexpr std::string_view kFields[] = {"audit_index", "approval_id", "strategy",
                                                 "baseline_version"};
  auto body = ::interlock::json::ReadObject(c.request.body, kFields);
  if (!body) {
    c.respond(ErrorResponse(body.error()));
    return;
  }
  const auto& f = body->fields;
  app::RolloutRequest request;
  auto index = f.OptionalNumber("audit_index", 0, 9007199254740991.0);
  auto approval = f.OptionalString("approval_id");
  auto strategy = f.OptionalString("strategy");
  auto baseline = f.OptionalString("baseline_version");
  for (const Error* e :
       {index ? nullptr : &index.error(), approval ? nullptr : &approval.error(),
        strategy ? nullptr : &strategy.error(), baseline ? nullptr : &baseline.error()}) {
    if (e != nullptr) {
      c.respond(ErrorResponse(*e));
      return;
    }
  }
  if (*index) {
    if (**index != std::floor(**index)) {
      c.respond(ErrorResponse(400, "invalid", "audit_index: expected an integer"));
      return;
    }
    request.audit_index = static_cast<uint64_t>(**index);
  }
  request.approval_id = std::string(approval->value_or(""));
  request.strategy = std::string(strategy->value_or(""));
  request.baseline_version = std::string(baseline->value_or(""));
  auto task = [this, g = c.g, actor = *c.actor, request, respond = c.respond]() {
    auto opened = state->rollouts().Open(*g, actor, request);
    if (!opened) {
      respond(ErrorResponse(opened.error()));
      return;
    }
    respond(JsonResponse(201, RolloutJson(*opened, false)));
  };
  // Nothing new starts under the global emergency stop.
  if (safety::StopState global = Stop(); global.active) {
    c.respond(ErrorResponse(
        423, "emergency_stop",
        fmt::format("no rollout starts while the emergency stop is active: {}", global.reason)));
    return;
  }
  Post(*state_lane, c.actor->id, c.respond, std::move(task));
}

void Service::Impl::GetRollouts(Call& c) {
  const std::string& id = c.Param("id");
  if (!id.empty()) {
    auto found = state->rollouts().Find(id);
    if (!found) {
      c.respond(ErrorResponse(found.error()));
      return;
    }
    if (!*found) {
      c.respond(ErrorResponse(404, "not_found", fmt::format("no rollout {}", id)));
      return;
    }
    c.respond(JsonResponse(200, RolloutJson(**found, true)));
    return;
  }
  std::optional<rollout::RolloutState> wanted;
  if (auto s = c.request.Query("state")) {
    wanted = rollout::ParseRolloutState(*s);
    if (!wanted) {
      c.respond(ErrorResponse(
          400, "invalid",
          fmt::format("state: expected one of progressing, paused, promoted, rolled_back, "
                      "aborted, found \"{}\"",
                      *s)));
      return;
    }
  }
  auto listed = state->rollouts().List(wanted);
  if (!listed) {
    c.respond(ErrorResponse(listed.error()));
    return;
  }
  json items = json::array();
  for (const rollout::Rollout& r : *listed) items.push_back(RolloutJson(r, false));
  c.respond(JsonResponse(200, {{"rollouts", std::move(items)}}));
}

void Service::Impl::PostRolloutAction(Call& c) {
  const std::string& id = c.Param("id");
  const std::string& action = c.Param("action");
  if (action == "metrics") {
    PushRolloutMetrics(c);
    return;
  }
  static constexpr std::string_view kActions[] = {"promote", "abort", "pause", "resume",
                                                  "skip_step"};
  if (std::find(std::begin(kActions), std::end(kActions), action) == std::end(kActions)) {
    c.respond(ErrorResponse(404, "not_found",
                            fmt::format("no rollout action \"{}\" (expected promote, abort, "
                                        "pause, resume, skip_step or metrics)",
                                        action)));
    return;
  }
  static constexpr std::string_view kFields[] = {"rationale"};
  auto body = ::interlock::json::ReadObject(c.request.body, kFields);
  if (!body) {
    c.respond(ErrorResponse(body.error()));
    return;
  }
  auto rationale = body->fields.String("rationale");
  if (!rationale) {
    c.respond(ErrorResponse(rationale.error()));
    return;
  }
  RolloutOverride(c.g, *c.actor, id, action, std::string(*rationale),
                  AnswerWith(std::move(c.respond)));
}

void Service::Impl::RolloutOverride(const GovernancePtr& g, const Principal& actor,
                                    const std::string& id, const std::string& action,
                                    std::string rationale,
                                    const std::function<void(Outcome)>& done) {
  auto task = [this, g, actor, id, action, rationale = std::move(rationale), done]() {
    if (action == "promote" || action == "skip_step" || action == "resume") {
      // Nothing moves forward while an emergency stop covers the rollout.
      auto found = state->rollouts().Find(id);
      if (found && *found) {
        if (const safety::StopState* stop = StopOver(*stops->Snapshot(), **found)) {
          done(std::unexpected(ErrorResponse(
              423, "emergency_stop",
              fmt::format("rollout {} cannot move forward while the emergency stop ({}) is "
                          "active: {}",
                          id, stop->scope.Describe(), stop->reason))));
          return;
        }
      }
    }
    auto changed = state->rollouts().Override(*g, actor, id, action, rationale);
    if (!changed) {
      done(std::unexpected(ErrorResponse(changed.error())));
      return;
    }
    done(RolloutJson(*changed, false));
  };
  Post(
      *state_lane, actor.id, [done](HttpResponse r) { done(std::unexpected(std::move(r))); },
      std::move(task));
}

void Service::Impl::PushRolloutMetrics(Call& c) {
  static constexpr std::string_view kFields[] = {"at", "metrics", "baseline"};
  auto body = ::interlock::json::ReadObject(c.request.body, kFields);
  if (!body) {
    c.respond(ErrorResponse(body.error()));
    return;
  }
  const auto& f = body->fields;
  UnixMillis now = options.clock->Now();
  UnixMillis at = now;
  auto when = f.OptionalString("at");
  if (!when) {
    c.respond(ErrorResponse(when.error()));
    return;
  }
  if (*when) {
    auto parsed = ParseTimestamp(**when);
    if (!parsed) {
      c.respond(ErrorResponse(400, "invalid",
                              fmt::format("at: expected an RFC 3339 date-time such as "
                                          "2026-01-15T10:30:00Z, found \"{}\"",
                                          **when)));
      return;
    }
    at = *parsed;
  }
  std::vector<app::PushedValue> values;
  for (std::string_view key : {"metrics", "baseline"}) {
    auto group = f.Find(key);
    if (!group) continue;
    if (!group->is_object()) {
      c.respond(ErrorResponse(400, "invalid",
                              fmt::format("{}: expected an object of metric names to numbers, "
                                          "found {}",
                                          key, ::interlock::json::TypeName(group->type()))));
      return;
    }
    for (::interlock::json::Member m : group->members()) {
      ::interlock::json::Value v = m.value();
      if (!v.is_number()) {
        c.respond(ErrorResponse(400, "invalid",
                                fmt::format("{}.{}: expected a number, found {}", key, m.key,
                                            ::interlock::json::TypeName(v.type()))));
        return;
      }
      if (auto ok = governance::CheckMetricName(m.key); !ok.empty()) {
        c.respond(ErrorResponse(400, "invalid", fmt::format("{}.{}: {}", key, m.key, ok)));
        return;
      }
      values.push_back({std::string(m.key), key == "baseline", v.AsNumber()});
    }
  }
  if (values.empty()) {
    c.respond(ErrorResponse(400, "invalid",
                            "metrics: required (an object of metric names to "
                            "numbers)"));
    return;
  }
  auto task = [this, g = c.g, actor = *c.actor, id = c.Param("id"), at, values = std::move(values),
               respond = c.respond]() {
    auto pushed = state->rollouts().Push(*g, actor, id, at, values);
    if (!pushed) {
      respond(ErrorResponse(pushed.error()));
      return;
    }
    respond(JsonResponse(200, RolloutJson(*pushed, false)));
  };
  Post(*state_lane, c.actor->id, c.respond, std::move(task));
}

void Service::Impl::GetIncidents(Call& c) {
  auto incidents = state->rollouts().Incidents();
  if (!incidents) {
    c.respond(ErrorResponse(incidents.error()));
    return;
  }
  json items = json::array();
  for (const app::Incident& i : *incidents) {
    json item = app::IncidentJson(i);
    item.erase("format");
    items.push_back(std::move(item));
  }
  c.respond(JsonResponse(200, {{"incidents", std::move(items)}}));
}

void Service::Impl::PostIncidentReview(Call& c) {
  static constexpr std::string_view kFields[] = {"root_cause", "actions_taken"};
  auto body = ::interlock::json::ReadObject(c.request.body, kFields);
  if (!body) {
    c.respond(ErrorResponse(body.error()));
    return;
  }
  auto root_cause = body->fields.String("root_cause");
  auto actions = body->fields.String("actions_taken");
  if (!root_cause || !actions) {
    c.respond(ErrorResponse(!root_cause ? root_cause.error() : actions.error()));
    return;
  }
  auto task = [this, g = c.g, actor = *c.actor, id = c.Param("id"),
               root_cause = std::string(*root_cause), actions = std::string(*actions),
               respond = c.respond]() {
    auto reviewed = state->rollouts().Review(*g, actor, id, root_cause, actions);
    if (!reviewed) {
      respond(ErrorResponse(reviewed.error()));
      return;
    }
    json out = app::IncidentJson(*reviewed);
    out.erase("format");
    respond(JsonResponse(200, out));
  };
  Post(*state_lane, c.actor->id, c.respond, std::move(task));
}

void Service::Impl::EvaluateRollouts() {
  GovernancePtr g = governance.load();
  app::MetricSource source;
  if (std::shared_ptr<const MetricSource> p = prometheus.load()) {
    // Held by the function, so a reload does not take it away mid-round.
    source = app::AskedUntilUnreachable(
        [p](const std::string& query, UnixMillis at) { return p->source->Query(query, at); });
  }
  state->rollouts().EvaluateDue(*g, source,
                                [stops_now = stops->Snapshot()](const rollout::Rollout& r) {
                                  return StopOver(*stops_now, r) != nullptr;
                                });
}

}  // namespace interlock::server
