#include "decision/render.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "governance/fields.h"

namespace interlock::decision {
namespace {

using governance::Governance;

// The field paths a condition reads that the request does not supply.
std::string MissingFields(const Governance& g, const Request& request, const expr::Program& p) {
  RequestEnv env(g, request);
  std::vector<std::vector<std::string>> metadata_paths;
  governance::RequestSchema schema(&metadata_paths);
  std::vector<std::string> missing;
  for (const std::string& path : p.fields()) {
    auto field = schema.Bind(path);
    if (!field) continue;
    expr::Value value =
        field->slot >= governance::kMetadataSlotBase
            ? LookupMetadata(request, metadata_paths[field->slot - governance::kMetadataSlotBase])
            : env.Lookup(field->slot);
    if (value.type == expr::Type::kUnknown) missing.push_back(path);
  }
  if (missing.empty()) return "a value of the expected type";
  return fmt::format("{}", fmt::join(missing, ", "));
}

std::string OutcomeText(const Governance& g, const governance::Outcome& o) {
  if (o.approvals.count == 0) return "no approval";
  std::string text =
      fmt::format("{} approval{}", o.approvals.count, o.approvals.count == 1 ? "" : "s");
  if (o.approvals.mandatory.any())
    text += fmt::format(" including {}", g.RoleNames(o.approvals.mandatory));
  if (o.workflow) text += fmt::format(" (workflow {})", g.workflows[*o.workflow].id);
  return text;
}

std::string_view Verdict(expr::Tri t) {
  switch (t) {
    case expr::Tri::kTrue:
      return "true: matches";
    case expr::Tri::kFalse:
      return "false: does not match";
    case expr::Tri::kUnknown:
      break;
  }
  return "unknown (data missing): a tier does not match; a rule fires";
}

std::string Cell(const Request& r) {
  return fmt::format("{} x {} x {}", Name(r.change_type), Name(r.environment), Name(r.bump));
}

}  // namespace

std::vector<std::string> ReasonTexts(const Governance& g, const Request& r,
                                     const SafetyState& safety, const Decision& d) {
  std::vector<std::string> out;
  for (const Reason& reason : d.reasons) {
    switch (reason.kind) {
      case ReasonKind::kEmergencyStop:
        out.push_back(safety.stop_reason.empty()
                          ? std::string("the emergency stop is active: all automation is paused")
                          : fmt::format("the emergency stop is active: {}", safety.stop_reason));
        break;
      case ReasonKind::kFrozen:
        out.push_back(fmt::format("{}; a frozen change is denied", safety.freeze_reason));
        break;
      case ReasonKind::kFrozenBreakGlass:
        out.push_back(fmt::format(
            "{}; a frozen change needs approval through break-glass workflow '{}'",
            safety.freeze_reason, g.workflows[*g.freeze_windows[reason.subject].break_glass].id));
        break;
      case ReasonKind::kGateFinding:
        out.push_back(fmt::format("{}; denied", safety.findings[reason.subject]));
        break;
      case ReasonKind::kBump:
        if (r.bump_given) {
          out.push_back(fmt::format("the change is a {} change (change.bump)", Name(r.bump)));
        } else {
          out.push_back(fmt::format("the change is a {} change ({} -> {})", Name(r.bump),
                                    r.previous_version.value_or("?"), r.version.value_or("?")));
        }
        break;
      case ReasonKind::kMatrixRow: {
        const governance::MatrixRow& row = g.matrix[reason.subject];
        out.push_back(fmt::format("decision matrix row '{}' matches {}{}", row.id, Cell(r),
                                  row.description.empty() ? "" : ": " + row.description));
        break;
      }
      case ReasonKind::kTierOutcome: {
        const governance::RiskTier& tier = g.tiers[reason.subject];
        out.push_back(fmt::format("no decision matrix row matches {}; the {} risk tier decides: {}",
                                  Cell(r), Name(tier.level), OutcomeText(g, tier.outcome)));
        break;
      }
      case ReasonKind::kNoCoverage:
        out.push_back(
            fmt::format("no decision matrix row and no risk tier covers {}; denied", Cell(r)));
        break;
      case ReasonKind::kRiskFromTier: {
        const governance::RiskTier& tier = g.tiers[reason.subject];
        out.push_back(fmt::format("risk is {}: {} ({})", Name(tier.level), tier.when.source(),
                                  tier.description));
        break;
      }
      case ReasonKind::kRiskFromRow:
        out.push_back(fmt::format("risk is {} as matrix row '{}' sets", Name(d.risk),
                                  g.matrix[reason.subject].id));
        break;
      case ReasonKind::kCriticalHumanOnly:
        out.push_back("critical risk is human only: the AI agent role is human_only");
        break;
      case ReasonKind::kCriticalApproval:
        out.push_back("critical risk always needs human approval");
        break;
      case ReasonKind::kRuleDeny: {
        const governance::Rule& rule = g.rules[reason.subject];
        out.push_back(
            fmt::format("rule '{}' denies: {}", rule.id,
                        rule.description.empty() ? rule.when.source() : rule.description));
        break;
      }
      case ReasonKind::kRuleDenyUnknown: {
        const governance::Rule& rule = g.rules[reason.subject];
        out.push_back(
            fmt::format("rule '{}' cannot be cleared because the request lacks {}; denied "
                        "until it is supplied",
                        rule.id, MissingFields(g, r, rule.when)));
        break;
      }
      case ReasonKind::kRuleApproval: {
        const governance::Rule& rule = g.rules[reason.subject];
        out.push_back(
            fmt::format("rule '{}' requires {}: {}", rule.id, OutcomeText(g, rule.outcome),
                        rule.description.empty() ? rule.when.source() : rule.description));
        break;
      }
      case ReasonKind::kRuleApprovalUnknown: {
        const governance::Rule& rule = g.rules[reason.subject];
        out.push_back(
            fmt::format("rule '{}' cannot be cleared because the request lacks {}; it "
                        "requires {}",
                        rule.id, MissingFields(g, r, rule.when), OutcomeText(g, rule.outcome)));
        break;
      }
      case ReasonKind::kScanFailedDeny:
        out.push_back(fmt::format("the security scan failed with {} severity; denied",
                                  Name(*r.scan_max_severity)));
        break;
      case ReasonKind::kScanFailedUnknownSeverity:
        out.push_back("the security scan failed and its severity is not given; denied");
        break;
      case ReasonKind::kScanFailedBelowThreshold:
        out.push_back(
            fmt::format("the security scan failed with {} severity, below the high "
                        "severity that denies",
                        Name(*r.scan_max_severity)));
        break;
      case ReasonKind::kAiAutoDeploy:
        out.push_back("the actor is an AI agent; auto_deploy treats it as a human would be");
        break;
      case ReasonKind::kAiRecommend:
        out.push_back(
            "the actor is an AI agent that may only recommend this change: a human must approve");
        break;
      case ReasonKind::kAiDenied:
        out.push_back(fmt::format("the actor is an AI agent and this change is {}: {}",
                                  Name(d.ai_agent_role),
                                  d.ai_agent_role == AiRole::kAnalyze
                                      ? "an AI agent may analyse it but not make it; denied"
                                      : "only humans may make it; denied"));
        break;
      case ReasonKind::kApprovalsNeeded: {
        std::string text = fmt::format("needs {} distinct human approval{}", d.approvals.count,
                                       d.approvals.count == 1 ? "" : "s");
        if (d.approvals.mandatory.any()) {
          text +=
              fmt::format(", at least one from each of: {}", g.RoleNames(d.approvals.mandatory));
        }
        if (d.workflow) text += fmt::format(" (workflow {})", g.workflows[*d.workflow].id);
        text += fmt::format("; eligible roles: {}", g.RoleNames(d.eligible_roles));
        out.push_back(std::move(text));
        break;
      }
      case ReasonKind::kNoApprovalNeeded:
        out.push_back("no approval needed: automated approval");
        break;
    }
  }
  return out;
}

std::vector<std::string> Explain(const Governance& g, const Request& r) {
  std::vector<std::string> out;
  RequestEnv env(g, r);
  bool matched = false;
  for (const governance::MatrixRow& row : g.matrix) {
    std::string why;
    if (!row.change_types[static_cast<size_t>(r.change_type)]) {
      why = fmt::format("change type {} not in the row", Name(r.change_type));
    } else if (!row.environments[static_cast<size_t>(r.environment)]) {
      why = fmt::format("environment {} not in the row", Name(r.environment));
    } else if (!row.bumps[static_cast<size_t>(r.bump)]) {
      why = fmt::format("bump {} not in the row", Name(r.bump));
    } else {
      why = matched ? "matches, but an earlier row (which agrees) was used" : "matches";
      matched = true;
    }
    out.push_back(fmt::format("matrix row '{}' ({}:{}): {}", row.id, row.origin.file,
                              row.origin.mark.line, why));
  }
  for (const governance::RiskTier& tier : g.tiers) {
    out.push_back(fmt::format("risk tier {} ({}:{}): {} is {}", Name(tier.level), tier.origin.file,
                              tier.origin.mark.line, tier.when.source(),
                              Verdict(tier.when.Evaluate(env))));
  }
  for (const governance::Rule& rule : g.rules) {
    out.push_back(fmt::format("rule '{}' ({}:{}): {} is {}", rule.id, rule.origin.file,
                              rule.origin.mark.line, rule.when.source(),
                              Verdict(rule.when.Evaluate(env))));
  }
  return out;
}

nlohmann::ordered_json DecisionJson(const Governance& g, const Request& r,
                                    const SafetyState& safety, const Decision& d, bool explain) {
  using Json = nlohmann::ordered_json;
  auto names = [&](const governance::RoleSet& set) {
    Json list = Json::array();
    for (size_t index = 0; index < g.roles.size(); ++index) {
      if (set[index]) list.push_back(g.roles[index].id);
    }
    return list;
  };
  Json out;
  out["decision"] = Name(d.kind);
  out["risk_level"] = Name(d.risk);
  out["required_approvals"] = {{"count", d.approvals.count},
                               {"roles", names(d.approvals.mandatory)},
                               {"eligible_roles", names(d.eligible_roles)}};
  out["ai_agent_role"] = Name(d.ai_agent_role);
  out["workflow"] = d.workflow ? Json(g.workflows[*d.workflow].id) : Json();
  if (d.row) {
    out["matched_rule"] = fmt::format("matrix:{}", g.matrix[*d.row].id);
  } else if (d.tier) {
    out["matched_rule"] = fmt::format("risk_tier:{}", Name(g.tiers[*d.tier].level));
  } else {
    out["matched_rule"] = nullptr;
  }
  out["reasons"] = ReasonTexts(g, r, safety, d);
  out["governance_version"] = g.version;
  if (explain) out["explain"] = Explain(g, r);
  return out;
}

std::string DecisionText(const Governance& g, const Request& r, const SafetyState& safety,
                         const Decision& d, const DecisionTextOptions& options) {
  std::string out;
  out.reserve(1024);
  json::Writer w(&out, options.indent);
  auto names = [&](const governance::RoleSet& set) {
    w.BeginArray();
    for (size_t index = 0; index < g.roles.size(); ++index) {
      if (set[index]) w.String(g.roles[index].id);
    }
    w.EndArray();
  };
  w.BeginObject();
  w.Key("decision");
  w.String(Name(d.kind));
  w.Key("risk_level");
  w.String(Name(d.risk));
  w.Key("required_approvals");
  w.BeginObject();
  w.Key("count");
  w.Int(d.approvals.count);
  w.Key("roles");
  names(d.approvals.mandatory);
  w.Key("eligible_roles");
  names(d.eligible_roles);
  w.EndObject();
  w.Key("ai_agent_role");
  w.String(Name(d.ai_agent_role));
  w.Key("workflow");
  if (d.workflow) {
    w.String(g.workflows[*d.workflow].id);
  } else {
    w.Null();
  }
  w.Key("matched_rule");
  if (d.row) {
    w.String(fmt::format("matrix:{}", g.matrix[*d.row].id));
  } else if (d.tier) {
    w.String(fmt::format("risk_tier:{}", Name(g.tiers[*d.tier].level)));
  } else {
    w.Null();
  }
  w.Key("reasons");
  w.BeginArray();
  if (options.reasons != nullptr) {
    for (const std::string& reason : *options.reasons) w.String(reason);
  } else {
    for (const std::string& reason : ReasonTexts(g, r, safety, d)) w.String(reason);
  }
  w.EndArray();
  w.Key("governance_version");
  w.String(g.version);
  if (options.explain) {
    w.Key("explain");
    w.BeginArray();
    for (const std::string& line : Explain(g, r)) w.String(line);
    w.EndArray();
  }
  for (const ExtraMember& member : options.extra) {
    w.Key(member.key);
    w.Raw(member.json);
  }
  w.EndObject();
  return out;
}

void AppendMembers(std::string* object, std::span<const ExtraMember> extra) {
  if (extra.empty()) return;
  object->pop_back();  // the closing brace
  bool empty = object->back() == '{';
  for (const ExtraMember& member : extra) {
    if (!empty) *object += ',';
    empty = false;
    json::AppendQuoted(object, member.key);
    *object += ':';
    *object += member.json;
  }
  *object += '}';
}

std::string RenderDecision(const Governance& g, const Request& r, const SafetyState& safety,
                           const Decision& d, bool explain) {
  return DecisionText(g, r, safety, d, {.explain = explain, .indent = 2});
}

int ExitCode(DecisionKind kind) {
  switch (kind) {
    case DecisionKind::kAllow:
      return 0;
    case DecisionKind::kRequireApproval:
      return 10;
    case DecisionKind::kDeny:
      return 20;
  }
  return 20;
}

}  // namespace interlock::decision
