// The application's state, in one place: every kind of state Interlock
// keeps beside its audit log, the one owner of each, how they all load, and
// the changes that span owners (an approval's step with the messages that
// announce it, an emergency stop action with its announcements), each
// committed together with the audit record that explains it.
//
// Each kind is a set of state rows (audit/log.h, StateChange), written in
// the transaction of the record it belongs to and bound to that record by
// digest. The rows are the truth. What an owner holds in memory is a cache
// of them: loaded here at start, and, where it may go stale, checked against
// the row it came from (a row's value is its version: see
// Approvals::Parsed), or read again when the store's version of its kind
// changed (AuditLog::StateVersion: the stops, the tokens), so that several
// processes or servers may share one store.
//
// Thread safety: every method from any thread, except ChangeStop and
// RefreshStops, which run on one thread at a time (the service's stop lane;
// StopBoard::Put).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/approvals.h"
#include "app/compliance_gate.h"
#include "app/decision_stats.h"
#include "app/drills.h"
#include "app/evidence.h"
#include "app/freezes.h"
#include "app/rollouts.h"
#include "app/scan_results.h"
#include "app/stop_board.h"
#include "app/tokens.h"
#include "app/waivers.h"
#include "audit/log.h"
#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "decision/engine.h"
#include "decision/request.h"
#include "governance/model.h"
#include "notify/notifier.h"
#include "notify/outbox.h"
#include "safety/stop.h"
#include "workflow/approval.h"

namespace interlock::app {

// A kind of state row and its owner.
struct StateKind {
  std::string_view kind;
  std::string_view owner;
  std::string_view holds;
};

// Every kind of state row there is. A new kind of state gets its row here,
// with its owner, and loads in State::Open.
inline constexpr StateKind kStateKinds[] = {
    {kApprovalKind, "app::Approvals", "approval requests, open and finished"},
    {kStopKind, "app::StopBoard", "the emergency stops, one row per scope"},
    {kTokenKind, "app::Tokens", "the API tokens, with their secrets hashed"},
    {kStatsKind, "app::DecisionStats", "the dashboard's decisions per hour"},
    {kRolloutKind, "app::Rollouts", "the rollouts, in progress and finished, with their metrics"},
    {kIncidentKind, "app::Rollouts", "the rollbacks' incidents and their reviews"},
    {kFreezeKind, "app::Freezes", "the model updates that start freeze windows"},
    {kScanKind, "app::State (RecordDecision)", "the latest secret and PII scans the gate used"},
    {kEvidenceKind, "app/evidence.h (Attest)", "the latest attested evidence of each control"},
    {kModelArtifactKind, "app::State (RecordDecision)",
     "the artifact digests each model version is pinned to"},
    {kWaiverKind, "app/waivers.h (RequestWaiver)",
     "the waivers of controls asked for, each with its approval request's id"},
    {kDrillKind, "app/drills.h (RecordDrill)",
     "the safety drills' records, each with its sign-off request's id"},
    {notify::kOutboxKind, "notify::Notifier", "notifications not yet delivered"},
};

struct StateOptions {
  // Each must outlive the State.
  audit::AuditLog* log = nullptr;
  const Clock* clock = nullptr;
  Random* random = nullptr;
  notify::Sender* sender = nullptr;
  notify::DeliveryConfig delivery;
};

// What recording a decision left: its audit record's index, and the id of
// the approval request it opened ("" when none).
struct RecordedDecision {
  uint64_t index = 0;
  std::string approval_id;
};

// What an emergency stop action made.
struct StopApplied {
  safety::StopState next;
  std::string summary;
  audit::Appended record;
};

class State {
 public:
  // Creates every owner and loads its rows. Notifications are not sent
  // until StartDelivery.
  static Result<std::unique_ptr<State>> Open(StateOptions options);
  ~State();
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // Starts the delivery of notifications (notify::Notifier::Start).
  void StartDelivery();

  Tokens& tokens() { return *tokens_; }
  StopBoard& stops() { return stops_; }
  Approvals& approvals() { return *approvals_; }
  DecisionStats& stats() { return *stats_; }
  Rollouts& rollouts() { return *rollouts_; }
  Freezes& freezes() { return *freezes_; }
  notify::Notifier& notifier() { return *notifier_; }

  // --- decisions ---------------------------------------------------------

  // Records decision `d` on `request` (whose actor is the caller's own), in
  // one commit: its audit event, and, when it requires approval, the
  // request opened (workflow::Open) with its record and announcements.
  // Calls `done` once: at once with an error if nothing could be committed
  // (kInvalidArgument: the approval cannot be opened; kInternal), else once
  // the commit is durable, on the audit log's writer thread: the result, or
  // kNotRecorded, and then nothing was opened or counted (fail closed).
  void RecordDecision(const governance::Governance& g, const decision::Request& request,
                      const decision::Decision& d, const std::string& why,
                      std::function<void(Result<RecordedDecision>)> done);

  // --- approvals ---------------------------------------------------------

  // Records that `reader` saw the approval requests `ids`, other people's
  // (a list of them when `listed`, else one request's page), then calls
  // `done` once: at once with kInternal if the record cannot be made, else
  // once the commit is durable, on the audit log's writer thread, with
  // kNotRecorded if it could not be, and the read is then refused.
  void RecordApprovalRead(const governance::Principal& reader, bool listed,
                          std::vector<std::string> ids, std::function<void(Result<void>)> done);

  // The outbox messages for an approval's notifications, on its workflow's
  // channels.
  Result<std::vector<notify::Message>> AnnounceApproval(
      const governance::Governance& g, const workflow::ApprovalRequest& a,
      const std::vector<workflow::Notification>& ns);
  // Takes `act` by `actor` on the open request `id`: refused while a stop
  // covers it (workflow::Act), committed with its record and messages.
  // kNotRecorded when the record could not be made durable.
  Result<std::pair<workflow::Transition, audit::Appended>> ActOnApproval(
      const governance::Governance& g, const governance::Principal& actor, const std::string& id,
      workflow::Action act, const std::string& rationale, const std::string& to);
  // Opens an approval request for a subject that is not a decision (a
  // waiver, a drill's sign-off): `subject` describes it as approvers see it
  // (its actor the requester; change_type, environment, service, summary),
  // reviewed in g's workflow `workflow` (its approvers count and roles, at
  // the given risk). `made` gives the subject's own audit event and state
  // rows for the new request's id; they are committed in one transaction
  // with the request's row, its audit record and its announcements, the
  // subject's event first. Returns the request and the subject event's
  // index. kNotFound: no such workflow; kInvalidArgument: the request cannot
  // be opened, or `made`'s error; kNotRecorded: nothing was committed.
  struct Made {
    audit::Event event;
    std::vector<audit::StateChange> rows;
  };
  struct Requested {
    workflow::ApprovalRequest request;
    uint64_t index = 0;
  };
  Result<Requested> RequestApproval(const governance::Governance& g,
                                    const decision::Request& subject, std::string_view workflow,
                                    RiskLevel risk,
                                    const std::function<Result<Made>(const std::string& id)>& made);
  // Times out every open request past its deadline.
  void TimeOutApprovals(const governance::Governance& g);
  // Requests finished since start, and their summed time to finish.
  uint64_t approvals_finished() const { return approvals_finished_.load(); }
  uint64_t approval_latency_ms() const { return approval_latency_ms_.load(); }

  // --- the emergency stop ------------------------------------------------

  // Takes `action` (activate, deactivate, reenable_ai_agents) by `actor` on
  // the stop of `scope`, with the body's `fields` (reason,
  // post_incident_review, root_cause, prevention_measures): the rules of
  // safety/stop.h decide, the new state is committed with its record and
  // announcements, then published to every reader. kNotRecorded when the
  // record could not be made durable; the stop is then as it was.
  Result<StopApplied> ChangeStop(const governance::Governance& g,
                                 const governance::Principal& actor, const safety::Scope& scope,
                                 std::string_view action,
                                 const std::map<std::string, std::string>& fields);
  // Reads the stops again if another process or server changed one
  // (StopBoard::Refresh); true if it did. The service runs it once a
  // second, and ChangeStop before each action, so that an action starts
  // from the stop as it is stored.
  Result<bool> RefreshStops() { return stops_.Refresh(*options_.log); }

 private:
  explicit State(StateOptions options);
  // An approval request that `d` (require_approval) opens for `request`,
  // with its audit event and the messages announcing it, not yet
  // committed. kInvalidArgument when it cannot be opened.
  struct OpenedApproval {
    workflow::ApprovalRequest request;
    audit::Event event;
    std::vector<notify::Message> messages;
  };
  Result<OpenedApproval> OpenApproval(const governance::Governance& g,
                                      const decision::Request& request, const decision::Decision& d,
                                      UnixMillis now);
  // The approval request a rollout's escalate_to_human trigger opens in
  // workflow `workflow`, for Rollouts to commit with the rollout's pause.
  Result<Rollouts::Escalation> Escalate(const governance::Governance& g, const rollout::Rollout& r,
                                        size_t workflow, const std::string& why);
  // Resolves the rollout an escalation paused for request `a`, once `a` is
  // final (approved: resumed; otherwise: aborted). Holds no lock.
  void Decided(const governance::Governance& g, const workflow::ApprovalRequest& a,
               const std::string& by, const std::string& rationale);
  // Stores `t`'s request with its audit event and its notifications;
  // kNotRecorded when the log could not make them durable.
  Result<audit::Appended> CommitApproval(const governance::Governance& g,
                                         const workflow::Transition& t);
  // The announcements of a stop change: on the stop policy's notify
  // targets, to the roles that activate and deactivate it and every
  // approver of an open request (whose approvals cannot complete now).
  Result<std::vector<notify::Message>> AnnounceStop(const governance::Governance& g,
                                                    const safety::StopChange& change,
                                                    std::string_view action);

  StateOptions options_;
  std::unique_ptr<notify::Notifier> notifier_;
  std::unique_ptr<Tokens> tokens_;
  StopBoard stops_;
  std::unique_ptr<DecisionStats> stats_;
  std::unique_ptr<Approvals> approvals_;
  std::unique_ptr<Freezes> freezes_;
  std::unique_ptr<Rollouts> rollouts_;
  std::atomic<uint64_t> approvals_finished_{0};
  std::atomic<uint64_t> approval_latency_ms_{0};
};

}  // namespace interlock::app
