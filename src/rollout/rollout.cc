#include "rollout/rollout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace interlock::rollout {
namespace {

using governance::CheckSettings;
using governance::Governance;
using governance::TriggerAction;

constexpr std::string_view kStateNames[] = {"progressing", "paused", "promoted", "rolled_back",
                                            "aborted"};
constexpr std::string_view kEffectNames[] = {"none",        "step",    "promoted",
                                             "rolled_back", "blocked", "escalated",
                                             "paused",      "resumed", "aborted"};
constexpr std::string_view kRollbackWhen = "rollback_when";
constexpr std::string_view kPromoteWhen = "promote_when";

std::string_view ActionName(TriggerAction a) {
  switch (a) {
    case TriggerAction::kRollback:
      return "rollback";
    case TriggerAction::kBlockAndRollback:
      return "block_and_rollback";
    case TriggerAction::kEscalateToHuman:
      return "escalate_to_human";
  }
  return "rollback";
}

// What a check of a rollout is, as the governance defines it now.
struct Definition {
  const expr::Program* condition = nullptr;
  CheckSettings settings;
  std::string action;
  std::optional<size_t> workflow;
  std::vector<std::string> notification;
};

std::optional<Definition> Define(const Governance& g, const Rollout& r, const Check& c) {
  const governance::CanaryStrategy* strategy = g.FindCanary(r.spec.strategy);
  if (c.name == kRollbackWhen || c.name == kPromoteWhen) {
    if (strategy == nullptr) return std::nullopt;
    const auto& program = c.criterion ? strategy->promote_when : strategy->rollback_when;
    if (!program) return std::nullopt;
    return Definition{&*program, strategy->analysis, c.criterion ? "promote" : "rollback", {}, {}};
  }
  for (const governance::RollbackTrigger& t : g.rollback.triggers) {
    if (t.name == c.name) {
      return Definition{&t.condition, t.check, std::string(ActionName(t.action)), t.workflow,
                        t.notification};
    }
  }
  return std::nullopt;
}

void Note(Rollout& r, UnixMillis now, std::string event, std::string by, std::string why) {
  r.history.push_back({now, std::move(event), r.state, r.step, std::move(by), std::move(why)});
  r.updated_at = now;
}

// Moves to the next step, or promotes after the last.
Effect Advance(Rollout& r, UnixMillis now, std::string by, std::string why) {
  if (r.step + 1 >= r.steps.size()) {
    r.state = RolloutState::kPromoted;
    Note(r, now, "promoted", std::move(by), why);
    return {Effect::Kind::kPromoted, "", std::move(why), {}, {}};
  }
  r.step += 1;
  r.step_started_at = now;
  Note(r, now, "step", std::move(by), why);
  return {Effect::Kind::kStep, "", std::move(why), {}, {}};
}

std::string Finding(const Check& c) {
  std::string values;
  for (const MetricValue& v : c.values) {
    if (!values.empty()) values += ", ";
    values +=
        v.value ? fmt::format("{} = {}", v.name, *v.value) : fmt::format("{}: no data", v.name);
    if (v.judged) {
      const Judgement& j = *v.judged;
      values += fmt::format(" (Mann-Whitney: shift {:+g}, {:g}% interval [{:g}, {:g}], p = {:.3g})",
                            j.effect, j.confidence * 100, j.ci_low, j.ci_high, j.p_value);
    }
  }
  return fmt::format("{} ({}){}", c.name, c.condition, values.empty() ? "" : ": " + values);
}

const governance::RoleSet* OverrideRoles(const Governance& g, std::string_view action) {
  const governance::RolloutOverrides& o = g.rollout_overrides;
  if (action == "promote") return &o.promote;
  if (action == "abort") return &o.abort;
  if (action == "pause") return &o.pause;
  if (action == "resume") return &o.resume;
  if (action == "skip_step") return &o.skip_step;
  return nullptr;
}

}  // namespace

std::string_view RolloutStateName(RolloutState s) { return kStateNames[static_cast<size_t>(s)]; }

std::optional<RolloutState> ParseRolloutState(std::string_view name) {
  for (size_t i = 0; i < std::size(kStateNames); ++i) {
    if (kStateNames[i] == name) return static_cast<RolloutState>(i);
  }
  return std::nullopt;
}

bool IsFinal(RolloutState s) {
  return s == RolloutState::kPromoted || s == RolloutState::kRolledBack ||
         s == RolloutState::kAborted;
}

std::string_view EffectName(Effect::Kind k) { return kEffectNames[static_cast<size_t>(k)]; }

Rollout Start(const Governance& g, const governance::CanaryStrategy& strategy, std::string id,
              RolloutSpec spec, UnixMillis now) {
  Rollout r;
  r.id = std::move(id);
  r.spec = std::move(spec);
  r.spec.strategy = strategy.id;
  r.steps = strategy.traffic_steps;
  r.monitoring_ms = strategy.monitoring_duration.count();
  r.interval_ms = strategy.interval.count();
  r.created_at = r.step_started_at = r.updated_at = now;
  r.next_evaluation_at = now + r.interval_ms;
  auto add = [&](std::string name, bool criterion, const expr::Program& condition,
                 std::string action, bool dry_run) {
    Check c;
    c.name = std::move(name);
    c.criterion = criterion;
    c.condition = condition.source();
    c.action = std::move(action);
    c.dry_run = dry_run;
    c.thresholds = ThresholdsOf(condition, g.metric_names);
    r.checks.push_back(std::move(c));
  };
  if (strategy.rollback_when) {
    add(std::string(kRollbackWhen), false, *strategy.rollback_when, "rollback",
        strategy.analysis.dry_run);
  }
  for (const governance::RollbackTrigger& t : g.rollback.triggers) {
    add(t.name, false, t.condition, std::string(ActionName(t.action)), t.check.dry_run);
  }
  if (strategy.promote_when) {
    add(std::string(kPromoteWhen), true, *strategy.promote_when, "promote",
        strategy.analysis.dry_run);
  }
  Note(r, now, "started", r.spec.opened_by,
       fmt::format("strategy {}, {} step{}", strategy.id, r.steps.size(),
                   r.steps.size() == 1 ? "" : "s"));
  return r;
}

Effect Evaluate(const Governance& g, Rollout& r, UnixMillis now, bool frozen) {
  if (IsFinal(r.state)) return {};
  r.evaluations += 1;
  r.next_evaluation_at = now + r.interval_ms;
  r.updated_at = now;
  // The strongest firing trigger acts: block, then rollback, then escalate.
  const Check* acting = nullptr;
  std::optional<Definition> acting_definition;
  auto strength = [](std::string_view action) {
    return action == "block_and_rollback" ? 3 : action == "rollback" ? 2 : 1;
  };
  bool all_criteria_pass = true;
  bool any_trigger_passes = false;
  bool any_criterion = false;
  for (Check& c : r.checks) {
    std::optional<Definition> d = Define(g, r, c);
    c.at = now;
    if (!d) {
      c.result = CheckResult::kError;
      c.values.clear();
      c.detail = "the governance no longer defines this check";
      c.firing = false;
      if (c.criterion) {
        any_criterion = true;
        all_criteria_pass = false;
      }
      continue;
    }
    CheckOutcome outcome =
        rollout::Evaluate(*d->condition, g.metric_names, c.criterion, d->settings, r.metrics, now);
    c.result = outcome.result;
    c.values = std::move(outcome.values);
    c.detail = std::move(outcome.detail);
    c.dry_run = d->settings.dry_run;
    c.action = d->action;
    c.condition = d->condition->source();
    c.thresholds = ThresholdsOf(*d->condition, g.metric_names);
    if (c.criterion) {
      any_criterion = true;
      // A dry run records its result and never promotes.
      all_criteria_pass = all_criteria_pass && c.result == CheckResult::kPass && !c.dry_run;
      continue;
    }
    std::optional<bool> counted = Counted(*c.result, d->settings, false);
    any_trigger_passes = any_trigger_passes || c.result == CheckResult::kPass;
    if (counted) {
      c.recent.push_back(*counted);
      size_t keep = static_cast<size_t>(d->settings.fail_n);
      if (c.recent.size() > keep) {
        c.recent.erase(c.recent.begin(), c.recent.end() - static_cast<std::ptrdiff_t>(keep));
      }
    }
    c.firing = Fires(c.recent, d->settings);
    if (c.firing && !c.dry_run &&
        (acting == nullptr || strength(c.action) > strength(acting->action))) {
      acting = &c;
      acting_definition = std::move(d);
    }
  }
  if (acting != nullptr) {
    std::string why = Finding(*acting);
    std::string by = "trigger:" + acting->name;
    Effect e;
    e.trigger = acting->name;
    e.why = why;
    e.notification = acting_definition->notification;
    if (acting->action == "escalate_to_human") {
      if (r.state == RolloutState::kPaused) return {};  // already waiting for people
      r.state = RolloutState::kPaused;
      e.kind = Effect::Kind::kEscalated;
      e.workflow = acting_definition->workflow;
      Note(r, now, "escalated", std::move(by), std::move(why));
      return e;
    }
    r.state = RolloutState::kRolledBack;
    e.kind =
        acting->action == "block_and_rollback" ? Effect::Kind::kBlocked : Effect::Kind::kRolledBack;
    Note(r, now, "rolled_back", std::move(by), std::move(why));
    return e;
  }
  if (r.state != RolloutState::kProgressing || frozen) return {};
  if (now - r.step_started_at < r.monitoring_ms) return {};
  // Without a criterion, something must have been watched: a trigger that
  // passes on data.
  bool ready = any_criterion ? all_criteria_pass : any_trigger_passes;
  if (!ready) return {};
  return Advance(r, now, "analysis",
                 any_criterion ? "promote_when passed after the monitoring duration"
                               : "no trigger fired during the monitoring duration");
}

Effect Resume(Rollout& r, UnixMillis now, std::string by, const std::string& why) {
  r.state = RolloutState::kProgressing;
  r.escalation.clear();
  // Failures seen before the pause were judged by whoever resumed it: they
  // do not fire a trigger again.
  for (Check& c : r.checks) {
    c.recent.clear();
    c.firing = false;
  }
  // The step's monitoring starts again: what was seen before the pause
  // does not count towards promotion.
  r.step_started_at = now;
  Note(r, now, "resumed", std::move(by), why);
  return Effect{Effect::Kind::kResumed, "", why, {}, {}};
}

Effect Abort(Rollout& r, UnixMillis now, std::string by, const std::string& why) {
  r.state = RolloutState::kAborted;
  Note(r, now, "aborted", std::move(by), why);
  return Effect{Effect::Kind::kAborted, "", why, {}, {}};
}

Result<Effect> ResolveEscalation(Rollout& r, const std::string& approval_id, bool approved,
                                 const std::string& why, UnixMillis now) {
  if (r.state != RolloutState::kPaused || r.escalation != approval_id) {
    return std::unexpected(Error::Conflict(
        fmt::format("rollout {} does not wait for approval request {}", r.id, approval_id)));
  }
  std::string by = "approval:" + approval_id;
  return approved ? Resume(r, now, std::move(by), why) : Abort(r, now, std::move(by), why);
}

Result<Effect> Override(const Governance& g, Rollout& r, std::string_view action,
                        const governance::Principal& actor, const std::string& rationale,
                        UnixMillis now) {
  const governance::RoleSet* roles = OverrideRoles(g, action);
  if (roles == nullptr) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "action: expected one of promote, abort, pause, resume, skip_step, found \"{}\"", action)));
  }
  if (actor.type != ActorType::kHuman || (actor.roles & *roles).none()) {
    return std::unexpected(Error::PermissionDenied(fmt::format(
        "{} may not {} a rollout: it takes a human holding one of: {}", actor.id, action,
        roles->none() ? "(no role is named in canary.yml rollout_overrides)"
                      : g.RoleNames(*roles))));
  }
  if (rationale.empty()) {
    return std::unexpected(Error::InvalidArgument("rationale: required"));
  }
  if (IsFinal(r.state)) {
    return std::unexpected(Error::Conflict(
        fmt::format("rollout {} is {}: nothing can change it", r.id, RolloutStateName(r.state))));
  }
  std::string by = actor.id;
  if (action == "promote") {
    r.step = r.steps.size() - 1;
    r.state = RolloutState::kPromoted;
    Note(r, now, "promoted", std::move(by), rationale);
    return Effect{Effect::Kind::kPromoted, "", rationale, {}, {}};
  }
  if (action == "abort") return Abort(r, now, std::move(by), rationale);
  if (action == "pause") {
    if (r.state == RolloutState::kPaused) {
      return std::unexpected(Error::Conflict(fmt::format("rollout {} is already paused", r.id)));
    }
    r.state = RolloutState::kPaused;
    Note(r, now, "paused", std::move(by), rationale);
    return Effect{Effect::Kind::kPaused, "", rationale, {}, {}};
  }
  if (action == "resume") {
    if (r.state != RolloutState::kPaused) {
      return std::unexpected(Error::Conflict(fmt::format("rollout {} is not paused", r.id)));
    }
    return Resume(r, now, std::move(by), rationale);
  }
  // skip_step
  if (r.state != RolloutState::kProgressing) {
    return std::unexpected(
        Error::Conflict(fmt::format("rollout {} is paused: resume it first", r.id)));
  }
  return Advance(r, now, std::move(by), rationale);
}

int64_t LongestWindow(const Governance& g, const Rollout& r) {
  int64_t longest = 0;
  for (const Check& c : r.checks) {
    if (auto d = Define(g, r, c)) longest = std::max(longest, d->settings.window.count());
  }
  return longest;
}

}  // namespace interlock::rollout
