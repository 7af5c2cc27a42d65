// The decision: (governance, request, safety state) -> decision. Pure: no
// I/O, no locks, no clock, no heap allocation (ReasonList is fixed-size).
//
// Semantics, in order:
//  1. The request is classified into the most severe risk tier whose
//     condition is true.
//  2. The first matrix row matching change type x environment x bump decides
//     approvals and the AI agent role, and may raise the risk; without a row,
//     the classifying tier decides.
//  3. Critical risk is human only and needs human approval (invariant).
//  4. Rules deny or add approvals; a rule whose condition is unknown (data
//     missing) acts as if true, so missing evidence never clears a change.
//  5. A failed security scan of high or critical severity (or of unknown
//     severity) is denied (invariant).
//  6. For an ai_agent actor: auto_deploy is treated as a human; recommend
//     needs at least one human approval; analyze and human_only are denied.
//  7. While the emergency stop is active everything is denied (invariant).
//  8. While a freeze window covers the change it is denied, or, if the
//     window names a break-glass workflow, needs approval through it.
//  9. Each finding of the compliance gate (SafetyState::findings: a
//     contract change whose version does not fit its compatibility report,
//     a model update without provenance, an invalid change record, a
//     required control that does not pass) denies. The matched row and the
//     rules that fire name the controls they require (required_controls);
//     the gate, not the engine, knows how they stand.
// Decision: deny if anything denied; else require_approval if any approval
// is needed; else allow.
//
// Thread safety: Decide is reentrant; the governance and request are read only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/names.h"
#include "decision/request.h"
#include "governance/model.h"

namespace interlock::decision {

struct SafetyState {
  bool emergency_stop = false;
  std::string_view stop_reason;  // must outlive the Decision
  // The freeze window in force for the change (in freeze_windows), and the
  // sentence that says which and until when (safety/freeze.h, Describe).
  std::optional<uint32_t> freeze;
  std::string_view freeze_reason;  // must outlive the Decision
  // What the compliance gate found wrong with the request, one sentence
  // each (app/compliance_gate.h); each denies. Must outlive the Decision.
  std::span<const std::string> findings;
};

enum class ReasonKind : uint8_t {
  kEmergencyStop,
  kBump,                 // subject: none; how the bump was found
  kMatrixRow,            // subject: row
  kTierOutcome,          // subject: tier; no row matched, the tier decides
  kNoCoverage,           // neither row nor tier: fail closed
  kRiskFromTier,         // subject: tier
  kRiskFromRow,          // subject: row
  kCriticalHumanOnly,    // the row's AI role was overridden
  kCriticalApproval,     // approvals raised by the critical tier
  kRuleDeny,             // subject: rule
  kRuleDenyUnknown,      // subject: rule
  kRuleApproval,         // subject: rule
  kRuleApprovalUnknown,  // subject: rule
  kScanFailedDeny,
  kScanFailedUnknownSeverity,
  kScanFailedBelowThreshold,
  kAiAutoDeploy,
  kAiRecommend,
  kAiDenied,
  kFrozen,            // subject: freeze window
  kFrozenBreakGlass,  // subject: freeze window
  kGateFinding,       // subject: index in SafetyState::findings
  kApprovalsNeeded,
  kNoApprovalNeeded,
};

struct Reason {
  ReasonKind kind;
  uint32_t subject = 0;
};

// A fixed-capacity list: Decide never allocates.
class ReasonList {
 public:
  static constexpr size_t kCapacity = 32;
  void Add(ReasonKind kind, uint32_t subject = 0) {
    if (size_ < kCapacity) items_[size_++] = {kind, subject};
  }
  const Reason* begin() const { return items_.data(); }
  const Reason* end() const { return items_.data() + size_; }
  size_t size() const { return size_; }

 private:
  std::array<Reason, kCapacity> items_{};
  size_t size_ = 0;
};

struct Decision {
  DecisionKind kind = DecisionKind::kDeny;
  RiskLevel risk = RiskLevel::kCritical;
  governance::Approvals approvals;
  governance::RoleSet eligible_roles;
  std::optional<size_t> workflow;
  AiRole ai_agent_role = AiRole::kHumanOnly;
  // The controls the matched row and the rules that fired require to
  // pass; the compliance gate checks them (app/compliance_gate.h).
  governance::ControlSet required_controls;
  std::optional<size_t> row;   // the matrix row that matched
  std::optional<size_t> tier;  // the tier that classified the risk
  ReasonList reasons;
};

// REQUIRES: CheckRequest(g, request) succeeded.
void Decide(const governance::Governance& g, const Request& request, const SafetyState& safety,
            Decision* out);

// True if `row` matches the request's change type, environment and bump.
bool RowMatches(const governance::MatrixRow& row, const Request& request);

}  // namespace interlock::decision
