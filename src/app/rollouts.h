// The rollouts, their incidents and reviews, owned in one place.
//
// A rollout follows a change Interlock allowed (a decision's audit record)
// or approved (an approval request) through its strategy's traffic steps
// (rollout/rollout.h). Every rollout and every incident is a state row
// beside the audit log, committed with the audit event of each change and
// the messages that announce it. Memory holds only the rollouts still in
// progress or paused, for their evaluations; finished ones are read from
// their rows.
//
// After a rollback (safety/auto-rollback.yml post_rollback) an incident is
// opened, stakeholders are notified, and a review is due within
// review_deadline. Until a human submits it (root cause and actions taken),
// new rollouts of the service are refused (unless post_rollback's
// block_until_review is false; a block_and_rollback trigger's block holds
// regardless). A review past its deadline is escalated once.
//
// Metric values come from the sources the evaluation is given (a
// Prometheus instant query per metric query of canary.yml) and from values
// callers push (Push).
//
// Thread safety: every method from any thread; the changes (Open, Override,
// Push, Review, EvaluateDue) run one at a time under one lock, and reads
// take a copy.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/random.h"
#include "core/status.h"
#include "governance/model.h"
#include "notify/notifier.h"
#include "rollout/reading.h"
#include "rollout/rollout.h"
#include "safety/freeze.h"

namespace interlock::app {

constexpr std::string_view kRolloutKind = "rollout";
constexpr std::string_view kIncidentKind = "incident";

// A rollback's incident and its review.
struct Incident {
  std::string id;
  std::string rollout;
  std::string service;
  std::string environment;
  std::string trigger;
  std::string why;
  bool blocks = false;  // refuses new rollouts of the service until reviewed
  UnixMillis opened_at = 0;
  UnixMillis review_due_at = 0;
  bool escalated = false;  // the review went past its deadline and was escalated
  // The review, once submitted.
  std::string reviewed_by;
  std::string root_cause;
  std::string actions_taken;
  UnixMillis reviewed_at = 0;

  bool reviewed() const { return reviewed_at != 0; }
};

// The stored form of an incident, and the reader that takes it back
// (kCorruption naming the field otherwise).
nlohmann::ordered_json IncidentJson(const Incident& i);
Result<Incident> IncidentFromJson(std::string_view text);

// What POST /v1/rollouts asks for.
struct RolloutRequest {
  std::optional<uint64_t> audit_index;
  std::string approval_id;
  std::string strategy;          // empty: by the change's risk
  std::string baseline_version;  // empty: the change's previous version, if known
};

// One metric value pushed for a rollout.
struct PushedValue {
  std::string name;
  bool baseline = false;
  double value = 0;
};

// Reads the metric values of a rollout's metric queries at `at`: the value
// of `query` (already filled in), or a Reading without one.
using MetricSource = std::function<rollout::Reading(const std::string& query, UnixMillis at)>;

// `source` for one evaluation round: once it cannot be reached, the rest of
// the round's queries are not asked and answer its error at once, so that
// a source that hangs costs the round one timeout, not one per query.
MetricSource AskedUntilUnreachable(MetricSource source);

class Rollouts {
 public:
  // What a change commits beyond the rollout's own row and event: audit
  // events, state rows, the messages those rows hold, and what to call once
  // they are durable.
  struct Parts {
    std::vector<audit::Event> events;
    std::vector<audit::StateChange> changes;
    std::vector<notify::Message> messages;
    std::function<void()> committed;
  };
  // An approval request an escalate_to_human trigger opens, ready to be
  // committed with the rollout's change.
  struct Escalation {
    std::string approval_id;
    Parts parts;
  };

  // Reads what a change was (the decision at an audit index, or an
  // approval), and opens the approval an escalation asks for.
  struct ChangeLookup {
    // The decision event (canonical JSON) at `index`, or kNotFound.
    std::function<Result<std::string>(uint64_t index)> decision;
    // The approved request's change (opened_by: its requester); kNotFound,
    // or kConflict when it is not approved.
    std::function<Result<rollout::RolloutSpec>(const std::string& id)> approval;
    // An approval request in workflow `workflow` of `g` for rollout `r`,
    // which a trigger paused because `why`.
    std::function<Result<Escalation>(const governance::Governance& g, const rollout::Rollout& r,
                                     size_t workflow, const std::string& why)>
        escalate;
    // Told the rollbacks whose review is not in, as freeze events, whenever
    // they change (app::Freezes::SetRollbacks). Must not block.
    std::function<void(std::vector<safety::FreezeEvent>)> open_incidents;
  };

  // Each must outlive the Rollouts.
  Rollouts(audit::AuditLog& log, const Clock& clock, Random& random, notify::Notifier& notifier,
           ChangeLookup lookup);
  Rollouts(const Rollouts&) = delete;
  Rollouts& operator=(const Rollouts&) = delete;

  // Reads the rollouts in progress and the incidents from their rows.
  Result<void> Load() EXCLUDES(mu_);

  // Opens a rollout by `actor`: the decision's actor or the approval's
  // requester, or a human holding a role of rollout_overrides (else
  // kPermissionDenied). kInvalidArgument for a request naming neither or
  // both of audit_index and approval_id, or an unknown strategy; kNotFound
  // for no such decision or approval; kConflict for a change that
  // was not allowed (or not approved), one that already has a rollout, or a
  // service whose rollouts are blocked (naming the incident to review).
  Result<rollout::Rollout> Open(const governance::Governance& g, const governance::Principal& actor,
                                const RolloutRequest& request) EXCLUDES(mu_);
  // The rollout `id`, in progress or finished; nullopt if there is none.
  Result<std::optional<rollout::Rollout>> Find(const std::string& id) EXCLUDES(mu_);
  // Every rollout, in `state` if given, by id.
  Result<std::vector<rollout::Rollout>> List(std::optional<rollout::RolloutState> state)
      EXCLUDES(mu_);
  // Takes override `action` (rollout::Override) and commits it.
  Result<rollout::Rollout> Override(const governance::Governance& g,
                                    const governance::Principal& actor, const std::string& id,
                                    std::string_view action, const std::string& rationale)
      EXCLUDES(mu_);
  // Records values pushed by `actor` at `at` for rollout `id` (in progress
  // or paused; kConflict otherwise). kInvalidArgument for `at` in the
  // future. The values are evaluated at the next evaluation.
  Result<rollout::Rollout> Push(const governance::Governance& g, const governance::Principal& actor,
                                const std::string& id, UnixMillis at,
                                const std::vector<PushedValue>& values) EXCLUDES(mu_);
  // Evaluates every rollout whose evaluation is due, reading `source` (if
  // set) for each metric query of `g` first, and commits each one's new
  // state; then escalates overdue reviews. A rollout `frozen` says is
  // covered by an emergency stop does not move on (rollout::Evaluate).
  // Returns the rollouts evaluated.
  size_t EvaluateDue(const governance::Governance& g, const MetricSource& source,
                     const std::function<bool(const rollout::Rollout&)>& frozen) EXCLUDES(mu_);

  // The approval request `approval_id` finished: if a rollout in progress
  // waits for it (an escalate_to_human trigger opened it), approved resumes
  // it and anything else aborts it, committed with its audit event.
  // Callers hold no other owner's lock. Nothing if no rollout waits for it.
  Result<void> EscalationDecided(const governance::Governance& g, const std::string& approval_id,
                                 bool approved, const std::string& why) EXCLUDES(mu_);

  // The incidents, open (unreviewed) first, newest first.
  Result<std::vector<Incident>> Incidents() const EXCLUDES(mu_);
  // Submits the review of incident `id` by `actor` (a role of
  // rollout_overrides.review). kConflict if it was already reviewed.
  Result<Incident> Review(const governance::Governance& g, const governance::Principal& actor,
                          const std::string& id, const std::string& root_cause,
                          const std::string& actions_taken) EXCLUDES(mu_);

  // Rollouts in progress or paused.
  size_t ActiveCount() const EXCLUDES(mu_);
  // The incident whose review new rollouts of `service` wait for, if any.
  std::optional<Incident> BlockingIncident(const governance::Governance& g,
                                           const std::string& service) const EXCLUDES(mu_);
  // The rollouts in progress or paused of `service` in `environment`.
  std::vector<rollout::Rollout> ActiveOf(const std::string& service,
                                         const std::string& environment) const EXCLUDES(mu_);

  static audit::StateChange Row(const rollout::Rollout& r);
  static audit::StateChange Row(const Incident& i);

 private:
  // A change ready to commit: the rollout as it will be, everything its
  // commit holds (the rollout's event and row first), and the incident
  // memory takes in once they are durable.
  struct Pending {
    rollout::Rollout rollout;
    Parts parts;
    std::optional<Incident> incident;
  };
  // The change of `r` by `effect`: its event (with an incident's when it
  // rolled back) and the messages that announce it.
  Result<Pending> Prepare(const governance::Governance& g, rollout::Rollout r,
                          const rollout::Effect& effect, std::string_view actor_id,
                          std::string_view actor_type, std::string_view event_type) REQUIRES(mu_);
  // Memory after `p` is durable.
  void Apply(Pending& p) REQUIRES(mu_);
  // The incident a rollback by `effect` opens, with its row and its
  // incident_opened event in `parts` (incidents.cc).
  Result<Incident> OpenIncident(const governance::Governance& g, const rollout::Rollout& r,
                                const rollout::Effect& effect, UnixMillis now, Parts& parts);
  // Escalates, once, each review past its deadline at `now` (incidents.cc).
  void EscalateOverdueReviews(const governance::Governance& g, UnixMillis now) REQUIRES(mu_);
  // Who hears of a rollback and of an overdue review: the review roles and
  // every channel.
  static std::vector<std::string> Stakeholders(const governance::Governance& g);
  // `event` as an audit event at `now`; kInternal if it is not a valid one.
  static Result<audit::Event> AuditEvent(const nlohmann::ordered_json& event, UnixMillis now);
  // Commits `r` with the event of `effect` (and an incident and messages
  // when it rolled back), then keeps memory in step. kNotRecorded if the
  // log could not make it durable; memory is then as it was.
  Result<void> Commit(const governance::Governance& g, const rollout::Rollout& r,
                      const rollout::Effect& effect, std::string_view actor_id,
                      std::string_view actor_type, std::string_view event_type) REQUIRES(mu_);
  // The incident that refuses new rollouts of `service`, if any.
  const Incident* Blocking(const governance::Governance& g, const std::string& service) const
      REQUIRES(mu_);
  // Tells lookup_.open_incidents the incidents open now.
  void PublishIncidents() REQUIRES(mu_);
  // A fresh random id: `prefix` and 16 hex digits.
  Result<std::string> NewId(std::string_view prefix);
  // The rollout's row as stored; nullopt if there is none.
  Result<std::optional<rollout::Rollout>> Stored(const std::string& id);
  // Why rollout `id`, not in progress, cannot take `what`: kNotFound, or
  // kConflict naming its state.
  Error NotActive(const std::string& id, std::string_view what);

  audit::AuditLog& log_;
  const Clock& clock_;
  Random& random_;
  notify::Notifier& notifier_;
  ChangeLookup lookup_;
  mutable Mutex mu_;
  std::map<std::string, rollout::Rollout> active_ GUARDED_BY(mu_);  // by id
  std::map<std::string, Incident> incidents_ GUARDED_BY(mu_);       // by id
};

}  // namespace interlock::app
