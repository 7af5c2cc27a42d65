// Decisions as JSON and as words. Allocates; not on the decision's own hot
// path, but on every answer's, so the JSON is written straight into text.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decision/engine.h"

namespace interlock::decision {

// One sentence per reason, answering "why?".
std::vector<std::string> ReasonTexts(const governance::Governance& g, const Request& request,
                                     const SafetyState& safety, const Decision& d);

// Every matrix row, tier and rule considered, and why it matched or not.
std::vector<std::string> Explain(const governance::Governance& g, const Request& request);

// A member written after the decision's own: its value is already JSON
// text, e.g. {"audit_index", "42"} or {"approval_id", "\"apr_1\""} (quote
// strings with json::AppendQuoted).
struct ExtraMember {
  std::string_view key;
  std::string_view json;
};

struct DecisionTextOptions {
  bool explain = false;  // Default: no "explain" array.
  int indent = -1;       // Default: compact; n >= 0 as nlohmann::json's dump(n).
  // ReasonTexts(g, request, safety, d) when the caller already has them;
  // computed when null. Must outlive the call.
  const std::vector<std::string>* reasons = nullptr;
  // Members after the decision's own, in order. Default: none.
  std::span<const ExtraMember> extra = {};
};

// The decision JSON of `interlock decide` (README.md): "decision",
// "risk_level", "required_approvals" {"count", "roles", "eligible_roles"},
// "ai_agent_role", "workflow", "matched_rule", "reasons",
// "governance_version", then "explain" when asked for, then `extra`.
// Byte-identical to DecisionJson(...).dump(indent) for the same members.
std::string DecisionText(const governance::Governance& g, const Request& request,
                         const SafetyState& safety, const Decision& d,
                         const DecisionTextOptions& options = {});

// Adds members at the end of a compact JSON object written by DecisionText
// (or any compact object), without parsing it again.
// REQUIRES: `object` is a compact JSON object.
void AppendMembers(std::string* object, std::span<const ExtraMember> extra);

// The same members as DecisionText, as a JSON value to edit further.
// Slower: prefer DecisionText and `extra`.
nlohmann::ordered_json DecisionJson(const governance::Governance& g, const Request& request,
                                    const SafetyState& safety, const Decision& d, bool explain);
// DecisionText with indent 2: what `interlock decide` prints.
// `explain` adds an "explain" array.
std::string RenderDecision(const governance::Governance& g, const Request& request,
                           const SafetyState& safety, const Decision& d, bool explain);

// Exit code of `interlock decide`: 0 allow, 10 require_approval, 20 deny.
int ExitCode(DecisionKind kind);

}  // namespace interlock::decision
