// Waivers of compliance controls (POST /v1/waivers): a request to let a
// control fail until a date, reviewed through the approval workflow
// kWaiverWorkflow of the governance like any other approval request (so
// it is listed, announced and acted on by the approval routes, its
// requester never approves it and an AI never does). One state row per
// waiver (kind kWaiverKind) holds what was asked and the id of its
// approval request, committed with the request's audit event; where the
// waiver stands is its approval request's state, read when facts are
// gathered. compliance::Evaluate applies an approved waiver until it
// expires.
//
// Thread safety: the functions may be called from any thread; requests
// commit through the audit log, which orders concurrent commits.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "compliance/evaluate.h"
#include "compliance/waiver.h"
#include "core/clock.h"
#include "core/status.h"
#include "governance/model.h"
#include "workflow/approval.h"

namespace interlock::app {

class State;

constexpr std::string_view kWaiverKind = "waiver";
// The approval workflow of approvals/workflow.yml that reviews waivers; a
// governance without it refuses waiver requests.
constexpr std::string_view kWaiverWorkflow = "compliance_waiver";

struct Waiver {
  std::string id;  // "wvr_" and the hex of its approval request's id
  compliance::WaiverRequest asked;
  std::string requested_by;
  UnixMillis requested_at = 0;
  std::string approval_id;
  uint64_t audit_index = 0;  // of its waiver_requested event; 0 in the row itself
};

nlohmann::ordered_json WaiverJson(const Waiver& w);
// The stored form read back; kCorruption naming the field otherwise.
Result<Waiver> WaiverFromJson(std::string_view text);

// A waiver with its approval request as it stands now (nullopt if the
// request's row is missing).
struct WaiverStatus {
  Waiver waiver;
  std::optional<workflow::ApprovalRequest> approval;
};

// Requests the waiver `asked` (compliance::ParseWaiverRequest checked it)
// as `actor`, a human (kPermissionDenied otherwise): opens its approval
// request in kWaiverWorkflow and commits the waiver's row and its
// waiver_requested event with it.
Result<WaiverStatus> RequestWaiver(State& state, const governance::Governance& g,
                                   const governance::Principal& actor,
                                   const compliance::WaiverRequest& asked, UnixMillis now);

// Every waiver, by id, with its approval request.
Result<std::vector<WaiverStatus>> LoadWaivers(audit::AuditLog& log);

// A waiver as compliance::Evaluate reads it.
compliance::WaiverFact WaiverFactOf(const WaiverStatus& w);

}  // namespace interlock::app
