// A rollout (seed 000 §3.4, seed 003's canary strategy) as a pure state
// machine: no I/O, no clock. It follows one change that Interlock allowed
// or approved through the traffic steps of its strategy until it is
// promoted, rolled back or aborted. Each function takes the rollout and the
// time, changes the rollout, and says what happened (Effect), so that the
// caller commits the new state with the audit event that explains it.
//
// States: progressing (at step k of n), paused, promoted, rolled_back,
// aborted; the last three are final.
//
// Evaluate, due every `interval`:
//  1. every check gets its result (rollout/analysis.h): the strategy's
//     rollback_when, each trigger of auto-rollback.yml, and the strategy's
//     promote_when (a criterion);
//  2. a trigger that fires and is not a dry run acts, the strongest first:
//     block_and_rollback, rollback (the rollout is rolled back), then
//     escalate_to_human (the rollout is paused, and an approval request is
//     opened in the trigger's workflow: app::Rollouts);
//  3. otherwise, once monitoring_duration has passed at the step, and the
//     criterion passes (a strategy without one: a trigger passes on data,
//     so that something was watched), the rollout moves to the next step,
//     or is promoted after the last.
// A paused rollout is still evaluated, and a trigger still rolls it back;
// it does not move on until it is resumed. Resuming forgets the failures
// seen before, and the step's monitoring duration starts again.
//
// Overrides, by a person holding a role of canary.yml's rollout_overrides,
// each with a rationale: promote (to 100 %, promoted), abort, pause, resume,
// skip_step (the next step now).
//
// Thread safety: values; no shared state.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "governance/model.h"
#include "rollout/analysis.h"

namespace interlock::rollout {

enum class RolloutState : uint8_t { kProgressing, kPaused, kPromoted, kRolledBack, kAborted };

// "progressing", "paused", "promoted", "rolled_back", "aborted".
std::string_view RolloutStateName(RolloutState s);
std::optional<RolloutState> ParseRolloutState(std::string_view name);
// Promoted, rolled back or aborted.
bool IsFinal(RolloutState s);

// One check of a rollout and its latest result.
struct Check {
  std::string name;        // a trigger's name, "rollback_when" or "promote_when"
  bool criterion = false;  // promote_when; else a rollback trigger
  std::string condition;   // as written
  std::string action;      // rollback | block_and_rollback | escalate_to_human | promote
  bool dry_run = false;
  std::optional<CheckResult> result;  // none before the first evaluation
  UnixMillis at = 0;
  std::vector<MetricValue> values;
  std::vector<MetricThreshold> thresholds;
  std::string detail;
  std::vector<bool> recent;  // counted results (true: failed), newest last
  bool firing = false;       // fail_m of the last fail_n failed
};

// One entry of a rollout's history: a change of state or step.
struct HistoryEntry {
  UnixMillis at = 0;
  std::string event;  // started, step, paused, resumed, promoted, rolled_back, aborted, ...
  RolloutState state = RolloutState::kProgressing;  // after it
  size_t step = 0;                                  // after it
  std::string by;   // a principal id, "trigger:NAME", or "analysis" (promotion)
  std::string why;  // the rationale, or the trigger's finding
};

// What a rollout is opened for.
struct RolloutSpec {
  std::optional<uint64_t> audit_index;  // the decision that allowed the change
  std::string approval_id;              // or the approval that approved it
  std::string service;
  std::string environment;
  std::string version;
  std::string baseline_version;
  std::string risk;  // the decision's risk level
  std::string strategy;
  std::string opened_by;  // the principal
};

struct Rollout {
  std::string id;
  RolloutSpec spec;
  // The strategy's steps (fractions), monitoring duration and interval,
  // fixed when the rollout starts.
  std::vector<double> steps;
  int64_t monitoring_ms = 0;
  int64_t interval_ms = 0;
  RolloutState state = RolloutState::kProgressing;
  size_t step = 0;  // index into steps
  UnixMillis created_at = 0;
  UnixMillis step_started_at = 0;
  UnixMillis next_evaluation_at = 0;
  UnixMillis updated_at = 0;
  uint64_t evaluations = 0;
  // The approval request an escalate_to_human trigger opened while the
  // rollout is paused for it; empty otherwise.
  std::string escalation;
  std::vector<Check> checks;
  std::vector<HistoryEntry> history;
  Metrics metrics;

  double traffic() const { return steps.empty() ? 0 : steps[step]; }
};

// What a call did to a rollout, for its audit event and notifications.
struct Effect {
  enum class Kind : uint8_t {
    kNone,  // results recorded, nothing moved
    kStep,  // moved to the next step
    kPromoted,
    kRolledBack,  // by a trigger
    kBlocked,     // rolled back by a block_and_rollback trigger
    kEscalated,   // paused by an escalate_to_human trigger
    kPaused,
    kResumed,
    kAborted,
  };
  Kind kind = Kind::kNone;
  std::string trigger;  // the trigger that acted, for kRolledBack, kBlocked, kEscalated
  std::string why;
  std::optional<size_t> workflow;         // kEscalated: the trigger's workflow
  std::vector<std::string> notification;  // the trigger's notification targets
};

// "none", "step", "promoted", "rolled_back", "blocked", "escalated", ...
std::string_view EffectName(Effect::Kind k);

// A new rollout of `spec` with strategy `strategy` of `g`, its checks set
// up, its first evaluation due one interval after `now`.
Rollout Start(const governance::Governance& g, const governance::CanaryStrategy& strategy,
              std::string id, RolloutSpec spec, UnixMillis now);

// Evaluates every check at `now` and moves the rollout as they say (see
// the top). Nothing happens to a final rollout. Sets next_evaluation_at.
// `frozen` (an emergency stop covers the rollout): it does not move on,
// while its triggers still roll it back.
Effect Evaluate(const governance::Governance& g, Rollout& r, UnixMillis now, bool frozen = false);

// Takes the override `action` (promote, abort, pause, resume, skip_step)
// by `actor` with `rationale`. kPermissionDenied when the actor holds no
// role rollout_overrides names for it (or is not human), kInvalidArgument
// for an unknown action or an empty rationale, kConflict when the rollout's
// state does not allow it (a final rollout; resume of one not paused).
Result<Effect> Override(const governance::Governance& g, Rollout& r, std::string_view action,
                        const governance::Principal& actor, const std::string& rationale,
                        UnixMillis now);

// Resumes `r` (progressing again, its triggers' earlier failures and the
// step's monitoring started over) or aborts it, with `by` and `why` in its
// history.
Effect Resume(Rollout& r, UnixMillis now, std::string by, const std::string& why);
Effect Abort(Rollout& r, UnixMillis now, std::string by, const std::string& why);

// The end of an escalate_to_human trigger's approval request
// `approval_id`, which paused `r`: approved resumes it, anything else
// (rejected, timed out) aborts it; its history names the request
// ("approval:ID"). kConflict when `r` does not wait for that request.
Result<Effect> ResolveEscalation(Rollout& r, const std::string& approval_id, bool approved,
                                 const std::string& why, UnixMillis now);

// The longest window of any check, for how long metric points are kept.
int64_t LongestWindow(const governance::Governance& g, const Rollout& r);

// The API's and the state row's form.
nlohmann::ordered_json ToJson(const Rollout& r);
// Reads ToJson's form back; kCorruption naming the field otherwise.
Result<Rollout> RolloutFromJson(std::string_view text);

}  // namespace interlock::rollout
