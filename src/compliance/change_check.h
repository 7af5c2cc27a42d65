// Cross-checks of a change record (compliance/change_record.h) against what
// Interlock itself recorded about the change: its decisions and the
// approvals in the audit log. Pure: the facts come in as values (the caller
// reads the log), findings go out. docs/changes.md describes the checks.
//
// Thread safety: every function is reentrant; values are plain data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compliance/change_record.h"
#include "core/clock.h"
#include "core/names.h"
#include "core/status.h"
#include "governance/model.h"

namespace interlock::compliance {

// A person the governance knows: a principal's id and e-mail ("" if none).
struct Person {
  std::string id;
  std::string email;
};

// The principals of `g` as people.
std::vector<Person> PeopleOf(const governance::Governance& g);

// A decision the gate recorded for the change (an audit event of type
// "decision", app/decision_event.h).
struct DecisionFact {
  uint64_t audit_index = 0;
  UnixMillis at = 0;
  Environment environment = Environment::kProduction;
  RiskLevel risk = RiskLevel::kCritical;  // the risk the gate computed
  DecisionKind kind = DecisionKind::kDeny;
  std::optional<std::string> approval_id;  // the approval it opened
};

// An approval recorded in the audit log (an event of type
// "approval_approve", workflow/approval.h).
struct ApprovalFact {
  uint64_t audit_index = 0;
  std::string approval_id;
  std::string approver;  // the principal's id
  std::string email;     // the principal's e-mail, "" if unknown
  UnixMillis at = 0;
  bool granted = false;  // this approval completed the request: the change may proceed
};

// What Interlock knows about the change.
struct ChangeFacts {
  // False: no audit log was read, and the checks that need one are not
  // checked; `why_not_read` says why.
  bool log_read = false;
  std::string why_not_read;
  // True: `decisions` and `approvals` are those tied to this change (the
  // caller named them). False: nothing tied any decision to it, so
  // `decisions` is empty and `approvals` holds every approval of the log.
  bool tied = false;
  std::string why_not_tied;
  std::vector<DecisionFact> decisions;
  std::vector<ApprovalFact> approvals;
};

// The checks, in the order they run and are reported.
enum class ChangeCheck : uint8_t {
  kApproverIndependent,    // no approver is the author (the owner may approve)
  kApprovalsBeforeDeploy,  // approvals come before the act that let the change proceed
  kApprovalsInLog,         // every approval claimed is one the audit log holds
  kRiskNotUnderstated,     // risk_level is not below the risk the gate computed
  kTestsRunForProduction,  // tests_run is not empty for a production change
};
inline constexpr std::array<std::string_view, 5> kChangeCheckNames = {
    "approver_independent", "approvals_before_deploy", "approvals_in_log", "risk_not_understated",
    "tests_run_for_production"};

enum class CheckStatus : uint8_t { kPassed, kFailed, kNotChecked };
inline constexpr std::array<std::string_view, 3> kCheckStatusNames = {"passed", "failed",
                                                                      "not_checked"};

struct CheckResult {
  ChangeCheck check = ChangeCheck::kApproverIndependent;
  CheckStatus status = CheckStatus::kNotChecked;
  std::string note;  // why not checked, or what a pass rests on; may be ""
};

// One problem: the record's member at fault and the audit entry the
// finding relies on, if any.
struct Finding {
  ChangeCheck check = ChangeCheck::kApproverIndependent;
  std::string path;  // "change_metadata.approvals[0].approver"
  std::optional<uint64_t> audit_index;
  std::string message;
};

struct ChangeReport {
  std::vector<CheckResult> checks;  // one per ChangeCheck, in order
  std::vector<Finding> findings;
  // True when a check failed.
  bool Failed() const { return !findings.empty(); }
};

// Runs every check. Two times are the same when they fall in the same UTC
// second: a record written by hand gives whole seconds, the log
// milliseconds; so an approval claimed at 11:00:00Z is the log's approval
// at 11:00:00.250Z, and one claimed in the same second as the act that let
// the change proceed is not after it. A name (author, owner, approver) is matched to a person
// by principal id or by e-mail, case-insensitively for e-mails; `people`
// (PeopleOf) joins a principal's id to its e-mail, so "alice" and
// "alice@example.com" are one person when the governance says so.
ChangeReport CrossCheck(const ChangeRecord& record, const ChangeFacts& facts,
                        std::span<const Person> people);

// The fact of a decision event (its canonical JSON, at `audit_index`).
// kInvalidArgument if it is not a decision event or lacks what a decision
// event holds (timestamp, environment, decision.outcome and .risk_level).
Result<DecisionFact> DecisionFromEvent(uint64_t audit_index, std::string_view event);

// The fact of an "approval_approve" event; the approver's e-mail from
// `people`. kInvalidArgument as above.
Result<ApprovalFact> ApprovalFromEvent(uint64_t audit_index, std::string_view event,
                                       std::span<const Person> people);

// approval.id of an event, if it has one that is a string.
std::optional<std::string> ApprovalIdOfEvent(std::string_view event);

}  // namespace interlock::compliance

namespace interlock {
template <>
struct EnumNames<compliance::ChangeCheck> {
  static constexpr const auto& kNames = compliance::kChangeCheckNames;
};
template <>
struct EnumNames<compliance::CheckStatus> {
  static constexpr const auto& kNames = compliance::kCheckStatusNames;
};
}  // namespace interlock
