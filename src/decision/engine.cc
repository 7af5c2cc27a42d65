#include "decision/engine.h"

namespace interlock::decision {
namespace {

using governance::Governance;
using governance::Outcome;

// Adds `extra` to `into`: the larger count, every mandatory role, and the
// stricter workflow (more required approvers; the first on a tie).
void Merge(const Governance& g, const Outcome& extra, Outcome* into) {
  into->approvals.count = std::max(into->approvals.count, extra.approvals.count);
  into->approvals.mandatory |= extra.approvals.mandatory;
  if (extra.workflow && (!into->workflow || g.workflows[*extra.workflow].required_approvers >
                                                g.workflows[*into->workflow].required_approvers)) {
    into->workflow = extra.workflow;
  }
}

const governance::RiskTier* FindTier(const Governance& g, RiskLevel level) {
  for (const governance::RiskTier& tier : g.tiers) {
    if (tier.level == level) return &tier;
  }
  return nullptr;
}

}  // namespace

bool RowMatches(const governance::MatrixRow& row, const Request& request) {
  return row.change_types[static_cast<size_t>(request.change_type)] &&
         row.environments[static_cast<size_t>(request.environment)] &&
         row.bumps[static_cast<size_t>(request.bump)];
}

void Decide(const Governance& g, const Request& request, const SafetyState& safety, Decision* out) {
  *out = Decision();
  Decision& d = *out;
  ReasonList& why = d.reasons;
  RequestEnv env(g, request);
  bool deny = false;

  if (safety.emergency_stop) {
    why.Add(ReasonKind::kEmergencyStop);
    deny = true;
  }
  why.Add(ReasonKind::kBump);

  // 1. Classify.
  for (size_t index = 0; index < g.tiers.size(); ++index) {
    if (g.tiers[index].when.Evaluate(env) == expr::Tri::kTrue) {
      d.tier = index;
      break;
    }
  }
  // 2. Row or tier.
  for (size_t index = 0; index < g.matrix.size(); ++index) {
    if (RowMatches(g.matrix[index], request)) {
      d.row = index;
      break;
    }
  }
  Outcome outcome;
  bool have_risk = false;
  if (d.row) {
    const governance::MatrixRow& row = g.matrix[*d.row];
    why.Add(ReasonKind::kMatrixRow, static_cast<uint32_t>(*d.row));
    outcome = row.outcome;
    d.required_controls = row.requires_controls;
    if (row.risk) {
      d.risk = *row.risk;
      have_risk = true;
    }
  } else if (d.tier) {
    why.Add(ReasonKind::kTierOutcome, static_cast<uint32_t>(*d.tier));
    outcome = g.tiers[*d.tier].outcome;
  } else {
    // Load refuses governance with gaps; this is the fail-closed backstop.
    why.Add(ReasonKind::kNoCoverage);
    deny = true;
  }
  if (d.tier && (!have_risk || g.tiers[*d.tier].level > d.risk)) {
    d.risk = g.tiers[*d.tier].level;
    have_risk = true;
    why.Add(ReasonKind::kRiskFromTier, static_cast<uint32_t>(*d.tier));
  } else if (d.row && have_risk) {
    why.Add(ReasonKind::kRiskFromRow, static_cast<uint32_t>(*d.row));
  }
  if (!have_risk) d.risk = RiskLevel::kCritical;

  // 3. Critical risk is human only.
  if (d.risk == RiskLevel::kCritical) {
    if (outcome.ai_agent_role != AiRole::kHumanOnly) {
      outcome.ai_agent_role = AiRole::kHumanOnly;
      why.Add(ReasonKind::kCriticalHumanOnly);
    }
    if (outcome.approvals.count == 0) {
      if (const governance::RiskTier* critical = FindTier(g, RiskLevel::kCritical)) {
        Merge(g, critical->outcome, &outcome);
      }
      outcome.approvals.count = std::max(outcome.approvals.count, 1);
      why.Add(ReasonKind::kCriticalApproval);
    }
  }

  // 4. Rules.
  for (size_t index = 0; index < g.rules.size(); ++index) {
    const governance::Rule& rule = g.rules[index];
    expr::Tri result = rule.when.Evaluate(env);
    if (result == expr::Tri::kFalse) continue;
    bool unknown = result == expr::Tri::kUnknown;
    auto subject = static_cast<uint32_t>(index);
    d.required_controls |= rule.requires_controls;
    if (rule.effect == governance::RuleEffect::kDeny) {
      why.Add(unknown ? ReasonKind::kRuleDenyUnknown : ReasonKind::kRuleDeny, subject);
      deny = true;
    } else {
      why.Add(unknown ? ReasonKind::kRuleApprovalUnknown : ReasonKind::kRuleApproval, subject);
      Merge(g, rule.outcome, &outcome);
    }
  }

  // 5. Security scan.
  if (request.scan_passed == false) {
    if (!request.scan_max_severity) {
      why.Add(ReasonKind::kScanFailedUnknownSeverity);
      deny = true;
    } else if (*request.scan_max_severity >= Severity::kHigh) {
      why.Add(ReasonKind::kScanFailedDeny);
      deny = true;
    } else {
      why.Add(ReasonKind::kScanFailedBelowThreshold);
    }
  }

  // 6. AI agents.
  if (request.actor_type == ActorType::kAiAgent) {
    switch (outcome.ai_agent_role) {
      case AiRole::kAutoDeploy:
        why.Add(ReasonKind::kAiAutoDeploy);
        break;
      case AiRole::kRecommend:
        why.Add(ReasonKind::kAiRecommend);
        outcome.approvals.count = std::max(outcome.approvals.count, 1);
        break;
      case AiRole::kAnalyze:
      case AiRole::kHumanOnly:
        why.Add(ReasonKind::kAiDenied);
        deny = true;
        break;
    }
  }

  // 8. Freeze windows.
  if (safety.freeze && *safety.freeze < g.freeze_windows.size()) {
    const governance::FreezeWindow& w = g.freeze_windows[*safety.freeze];
    if (w.break_glass) {
      why.Add(ReasonKind::kFrozenBreakGlass, *safety.freeze);
      outcome.approvals.count =
          std::max(outcome.approvals.count, g.workflows[*w.break_glass].required_approvers);
      outcome.workflow = w.break_glass;
    } else {
      why.Add(ReasonKind::kFrozen, *safety.freeze);
      deny = true;
    }
  }

  // 9. The compliance gate's findings.
  for (size_t i = 0; i < safety.findings.size(); ++i) {
    why.Add(ReasonKind::kGateFinding, static_cast<uint32_t>(i));
    deny = true;
  }

  d.approvals = outcome.approvals;
  d.ai_agent_role = outcome.ai_agent_role;
  // A workflow only runs when someone must approve.
  if (d.approvals.count > 0) {
    d.workflow = outcome.workflow;
    d.eligible_roles = outcome.approvals.mandatory;
    if (d.workflow) d.eligible_roles |= g.workflows[*d.workflow].approver_roles;
  }
  if (deny) {
    d.kind = DecisionKind::kDeny;
  } else if (d.approvals.count > 0) {
    d.kind = DecisionKind::kRequireApproval;
    why.Add(ReasonKind::kApprovalsNeeded);
  } else {
    d.kind = DecisionKind::kAllow;
    why.Add(ReasonKind::kNoApprovalNeeded);
  }
}

}  // namespace interlock::decision
