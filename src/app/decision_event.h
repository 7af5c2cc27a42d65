// The audit event of one decision, written straight into its canonical text
// (audit::EventWriter): it is built for every decision the gate answers.
//
//   event_type          "decision"
//   actor               {id, type}
//   action              {type, service?, version?}
//   environment         the change's environment
//   decision            {outcome, risk_level, confidence_score?, rationale?}
//   reason              why the decision is what it is
//   ai_agent.involved   whether the actor is an AI agent
//   approval            {required: true, id} when the decision opened one
//   governance_version  the digest of the governance that decided
//   summary             the change's summary, when given
//
// decision.rationale is the AI agent's own rationale (ai.rationale) when the
// request gave one; an AI agent without one is audited with the reason as its
// rationale (seed 000, section 5.1); a human's decision has the reason only.
//
// Thread safety: a pure function.
#pragma once

#include <optional>
#include <string_view>

#include "audit/event.h"
#include "core/clock.h"
#include "core/status.h"
#include "decision/engine.h"
#include "decision/request.h"
#include "governance/model.h"

namespace interlock::app {

// `approval_id` names the approval request the decision opened, if any.
Result<audit::Event> DecisionEvent(const governance::Governance& g,
                                   const decision::Request& request, const decision::Decision& d,
                                   std::string_view why,
                                   std::optional<std::string_view> approval_id, UnixMillis now);

}  // namespace interlock::app
