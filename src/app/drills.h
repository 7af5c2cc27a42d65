// Safety drills' records (POST /v1/drills): the documentation of seed 000
// section 3.5 for one run of a drill (interlock drill), signed off by an
// engineering lead through an approval request in the governance's
// workflow kDrillSignOffWorkflow, opened as a waiver's is (State::
// RequestApproval), so that its recorder never signs it and an AI never
// does. One state row per record (kind kDrillKind), committed with its
// drill_recorded event and the approval request; whether it is signed off
// is that request's state. Only a passed, signed-off record counts for the
// drill controls: the latest per drill.
//
// Thread safety: the functions may be called from any thread; records
// commit through the audit log, which orders concurrent commits.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "compliance/drill.h"
#include "compliance/evaluate.h"
#include "core/clock.h"
#include "core/status.h"
#include "governance/model.h"
#include "workflow/approval.h"

namespace interlock::app {

class State;

constexpr std::string_view kDrillKind = "drill";
// The approval workflow of approvals/workflow.yml that signs drills off; a
// governance without it refuses drill records.
constexpr std::string_view kDrillSignOffWorkflow = "drill_sign_off";
// The service a drill runs on and its sign-off is filed under.
constexpr std::string_view kDrillService = "interlock-drill";

struct DrillRecord {
  std::string id;  // "drl_" and the hex of its sign-off request's id
  compliance::DrillReport report;
  std::string recorded_by;
  UnixMillis at = 0;               // the test date
  std::optional<UnixMillis> next;  // the next test date, from the drill's controls
  std::string approval_id;         // the sign-off
  uint64_t audit_index = 0;        // of its drill_recorded event; 0 in the row itself
};

nlohmann::ordered_json DrillRecordJson(const DrillRecord& r);
// The stored form read back; kCorruption naming the field otherwise.
Result<DrillRecord> DrillRecordFromJson(std::string_view text);

struct DrillStatus {
  DrillRecord record;
  std::optional<workflow::ApprovalRequest> sign_off;  // nullopt if its row is missing
  bool SignedOff() const {
    return sign_off && sign_off->state == workflow::ApprovalState::kApproved;
  }
};

// Records `report` by `actor`, a human (kPermissionDenied otherwise), at
// `now`, and asks for its sign-off.
Result<DrillStatus> RecordDrill(State& state, const governance::Governance& g,
                                const governance::Principal& actor,
                                const compliance::DrillReport& report, UnixMillis now);

// Every record, by id, with its sign-off.
Result<std::vector<DrillStatus>> LoadDrills(audit::AuditLog& log);

// The latest passed, signed-off record of each drill, as the controls read
// them.
std::vector<compliance::DrillFact> DrillFacts(const std::vector<DrillStatus>& records);

}  // namespace interlock::app
