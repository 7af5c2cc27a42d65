// Decisions as JSON and as words. Allocates; not on the hot path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "decision/engine.h"

namespace interlock::decision {

// One sentence per reason, answering "why?".
std::vector<std::string> ReasonTexts(const governance::Governance& g, const Request& request,
                                     const SafetyState& safety, const Decision& d);

// Every matrix row, tier and rule considered, and why it matched or not.
std::vector<std::string> Explain(const governance::Governance& g, const Request& request);

// The decision JSON of `interlock decide` (README.md).
nlohmann::ordered_json DecisionJson(const governance::Governance& g, const Request& request,
                                    const SafetyState& safety, const Decision& d, bool explain);
// The same, pretty-printed.
// `explain` adds an "explain" array.
std::string RenderDecision(const governance::Governance& g, const Request& request,
                           const SafetyState& safety, const Decision& d, bool explain);

// Exit code of `interlock decide`: 0 allow, 10 require_approval, 20 deny.
int ExitCode(DecisionKind kind);

}  // namespace interlock::decision
