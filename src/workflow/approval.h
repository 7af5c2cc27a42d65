// The approval state machine (seed 000, sections 6.1-6.3): a change that the
// decision sent to require_approval waits here for the right humans.
//
//   Open ──> pending ──approve (complete)──> approved
//              │  ▲ ───reject──────────────> rejected
//              │  │ ───request_changes─────> changes_requested ──resubmit──┐
//              │  └────────────────────────────────────────────────────────┘
//              ├──escalate, or timeout────> escalated ──timeout──> blocked
//              └──timeout, workflow without an escalation role──> blocked
//
// An escalated request takes the same actions as a pending one; a request
// resubmitted after an escalation stays escalated (the higher authority
// stays involved). approved, rejected and blocked are final.
//
// Pure: no I/O, no clock, no locks. Time comes in as `now`; every call
// returns the new state with the audit event and notifications it implies,
// so the caller commits the state and its audit record in one transaction
// and then hands the notifications to the outbox.
//
// An ApprovalRequest holds names (principals, roles, workflow), never
// indices, and a copy of the workflow's timeout and escalation role taken at
// Open: a governance reload neither corrupts it nor changes the rules of a
// request already under review. Who holds which role is read from the
// governance passed to each call.
//
// Thread safety: every function is reentrant; values are plain data.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/duration.h"
#include "core/names.h"
#include "core/status.h"
#include "decision/engine.h"
#include "decision/request.h"
#include "governance/model.h"

namespace interlock::workflow {

enum class ApprovalState : uint8_t {
  kPending,
  kApproved,
  kRejected,
  kChangesRequested,
  kEscalated,
  kBlocked,
};
inline constexpr std::array<std::string_view, 6> kApprovalStateNames = {
    "pending", "approved", "rejected", "changes_requested", "escalated", "blocked"};

// approved, rejected and blocked accept no further action.
bool IsFinal(ApprovalState state);

// What happened to a request. Act takes kApprove..kResubmit; kOpen and
// kTimeout are recorded by Open and OnTimeout (Act refuses them).
enum class Action : uint8_t {
  kOpen,
  kApprove,
  kReject,
  kRequestChanges,
  kEscalate,
  kDelegate,
  kResubmit,
  kTimeout,
};
inline constexpr std::array<std::string_view, 8> kActionNames = {
    "open", "approve", "reject", "request_changes", "escalate", "delegate", "resubmit", "timeout"};

// The id Interlock acts under for timeouts (actor type service).
inline constexpr std::string_view kSystemActor = "interlock";

// A rationale is at most this long, so that an audit event stays far below
// the audit log's event limit. Default: 4096 bytes.
inline constexpr size_t kMaxRationaleBytes = 4096;

// What an approver sees (seed 000, section 6.3), copied from the decision
// request at Open.
struct ChangeDetails {
  std::optional<std::string> summary;
  ChangeType type = ChangeType::kCode;
  Environment environment = Environment::kDev;
  std::optional<std::string> service;
  std::optional<std::string> version;
  std::optional<std::string> previous_version;
  Bump bump = Bump::kPatch;
  RiskLevel risk = RiskLevel::kCritical;
  std::optional<bool> tests_passed;
  std::optional<bool> scan_passed;
  std::optional<Severity> scan_max_severity;
  std::optional<std::string> rollback_plan;  // metadata.rollback_plan
  // Set only when the requester is an ai_agent (its recommendation).
  std::optional<double> ai_confidence;
  std::optional<std::string> ai_rationale;
};

// One person's approval of the current revision.
struct Approval {
  std::string principal;
  // Every role the approver held when approving; a mandatory role counts
  // the approvals of its holders (one approver fills one mandatory role).
  std::vector<std::string> roles;
  std::string rationale;
  UnixMillis at = 0;
};

// An approver handing their review to another eligible human. It records
// the handover and notifies `to`; it grants no role.
struct Delegation {
  std::string from;
  std::string to;
  std::string role;  // the eligible role `from` was asked to review in
  UnixMillis at = 0;
};

struct HistoryEntry {
  std::string actor;  // principal id, or kSystemActor
  ActorType actor_type = ActorType::kHuman;
  Action action = Action::kOpen;
  std::string rationale;  // empty for kOpen
  UnixMillis at = 0;
  int revision = 1;  // after the action: a resubmit records the new revision
};

struct ApprovalRequest {
  std::string id;
  int revision = 1;  // bumped by each resubmit
  ApprovalState state = ApprovalState::kPending;
  std::string requester;
  ActorType requester_type = ActorType::kHuman;
  // The people a service or agent asked for (the request's metadata.author
  // and metadata.triggered_by, as given: a principal id or an e-mail
  // address). They are requesters too and may not review the change.
  std::vector<std::string> on_behalf_of;
  ChangeDetails change;

  std::string workflow;
  Millis timeout{0};                           // the workflow's, at Open
  std::optional<std::string> escalation_role;  // the workflow's, at Open
  int required_approvals = 1;                  // distinct humans
  std::vector<std::string> mandatory_roles;    // each needs its own approver
  std::vector<std::string> eligible_roles;     // includes the mandatory roles
  bool escalated = false;                      // escalation_role was added

  std::vector<Approval> approvals;  // of the current revision only
  std::vector<Delegation> delegations;
  UnixMillis created_at = 0;
  UnixMillis deadline = 0;  // meaningful while pending or escalated
  std::vector<HistoryEntry> history;
};

// Mandatory roles that no approval of the current revision fills, one
// approver filling at most one role (a maximum matching, so the order of the
// approvals does not matter). Empty when every mandatory role is filled.
std::vector<std::string> MissingRoles(const ApprovalRequest& request);

// A message for the notification outbox: every principal listed and every
// holder of a role listed, on the workflow's channels.
struct Notification {
  std::vector<std::string> principals;
  std::vector<std::string> roles;
  std::string text;  // one line
};

// The outcome of one step: the request to store, the audit event to store
// with it (an object that audit::ParseEvent accepts: event_type
// "approval_<action>", timestamp, actor, approval {id, revision, state, ...},
// environment, rationale), and whom to tell.
struct Transition {
  ApprovalRequest request;
  nlohmann::json audit_event;
  std::vector<Notification> notifications;
};

// Opens the approval that `decision` requires: its approvals count and
// mandatory roles, its eligible roles, and its workflow's timeout (the
// deadline is now + timeout) and escalation role. Notifies the eligible
// roles. InvalidArgument if the decision is not require_approval with a
// workflow, `id` is empty, or an ai_agent requester gave no ai.rationale
// (approvers must see why it recommends the change).
// REQUIRES: `decision` is Decide(g, request, ...).
Result<Transition> Open(const governance::Governance& g, const decision::Request& request,
                        const decision::Decision& decision, std::string id, UnixMillis now);

// `actor` takes `action` on `request`. Rules (PermissionDenied or
// InvalidArgument, in words for the actor):
//  - only a pending or escalated request takes approve, reject,
//    request_changes, escalate and delegate; only a changes_requested one
//    takes resubmit, and only from its requester;
//  - those five are for humans holding an eligible role who did not request
//    the change: an ai_agent or a service never takes them;
//  - a rationale (non-empty after trimming, valid UTF-8, at most
//    kMaxRationaleBytes) is required for every action;
//  - `to` is given for delegate only: a known human holding an eligible
//    role, neither the requester nor the delegator, who has not approved
//    this revision;
//  - approve completes the request when required_approvals distinct
//    humans approved the current revision and MissingRoles is empty; while
//    the emergency stop is active an approval that would complete it is
//    refused (others are recorded; reject and the rest are unaffected);
//  - a repeated approval by the same person is not an error: it counts
//    once, changes nothing but the history, and is audited with
//    approval.counted false;
//  - escalate adds the escalation role as eligible and mandatory and starts
//    a new deadline; it needs an escalation role and a request not already
//    escalated;
//  - resubmit bumps the revision, clears the approvals, starts a new
//    deadline and returns the request to pending (escalated if it was).
Result<Transition> Act(const governance::Governance& g, const ApprovalRequest& request,
                       const governance::Principal& actor, Action action,
                       std::string_view rationale, const std::optional<std::string>& to,
                       UnixMillis now, bool emergency_stop_active);

// If the deadline of a pending or escalated request has passed
// (now >= deadline): pending escalates (as escalate does; blocked when
// there is no escalation role), escalated is blocked; the requester and
// every eligible role are told. nullopt when nothing is due.
std::optional<Transition> OnTimeout(const ApprovalRequest& request, UnixMillis now);

// The stored form: a JSON object with "format": 1, times as RFC 3339.
nlohmann::json ToJson(const ApprovalRequest& request);
// Reads ToJson's form back, checking types, names and invariants. Errors are
// kCorruption, naming the field, e.g.
//   approvals[1].at: expected an RFC 3339 timestamp, found "yesterday"
// Never throws.
Result<ApprovalRequest> FromJson(const nlohmann::json& record);

}  // namespace interlock::workflow

namespace interlock {
template <>
struct EnumNames<workflow::ApprovalState> {
  static constexpr const auto& kNames = workflow::kApprovalStateNames;
};
template <>
struct EnumNames<workflow::Action> {
  static constexpr const auto& kNames = workflow::kActionNames;
};
}  // namespace interlock
