// The compliance gate: what a decision request's metadata must satisfy,
// each failure a finding that denies (decision::SafetyState::findings).
// docs/changes.md and docs/contracts.md describe the rules for users:
//
//   - Metadata with a change_id is a change record (compliance/
//     change_record.h), read strictly under the subject "metadata". Beside
//     the record's own members it may hold only what the governance's rules
//     read (metadata.<name> in a condition) and pipeline context (commit,
//     triggered_by, run_url, pipeline_url). Its risk_level may not be lower
//     than the risk the decision computed, and tests_run may not be empty
//     for production.
//   - metadata.compatibility_report is a compatibility report (compliance/
//     contract.h), and the version change must fit its change_type.
//   - A model_update carries a change record with provenance, names
//     change.version, and lists its artifacts by sha256 digest
//     ("sha256:<hex>" or "<name>@sha256:<hex>"). Once a model version's
//     digests are recorded (the first decision on it that is not a deny),
//     a request for that version with other digests is denied.
//   - The controls the matched matrix row and the rules that fire require
//     (requires_controls) must pass, or stand waived, in the latest
//     evaluation of the catalogue; without one they are findings too.
//
// Thread safety: the functions may be called from any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "compliance/evaluate.h"
#include "core/clock.h"
#include "decision/engine.h"
#include "decision/request.h"
#include "governance/model.h"

namespace interlock::app {

// The most findings one request gets (the decision's reason list is fixed
// in size); the last says how many more there were.
inline constexpr size_t kMaxFindings = 8;

// How the controls stood at an evaluation (GET /v1/compliance, or the
// server's refresh): what the gate reads for the controls a matrix row or a
// rule requires (governance::MatrixRow::requires_controls), so a decision
// never waits for an evaluation.
struct ControlStanding {
  compliance::Outcome outcome = compliance::Outcome::kError;
  std::string reason;
};
struct ControlStatus {
  UnixMillis at = 0;
  std::map<std::string, ControlStanding, std::less<>> by_id;

  static ControlStatus Of(const compliance::Report& report);
};

// The findings for the controls `required` names that do not pass or stand
// waived in `status`; each required control is a finding when `status` is
// null (no evaluation yet: fail closed). Pure.
std::vector<std::string> ControlFindings(const governance::Governance& g,
                                         const governance::ControlSet& required,
                                         const ControlStatus* status);

// What the request's metadata gets wrong, given the risk the decision
// computed without the gate; empty when nothing. Pure.
std::vector<std::string> GateFindings(const governance::Governance& g,
                                      const decision::Request& request, RiskLevel computed);

// What the gate reads beside the request.
struct GateContext {
  // The latest evaluation of the controls; null when there is none.
  const ControlStatus* controls = nullptr;
  // The log whose model_artifact rows pin artifacts; null offline, where
  // nothing is pinned.
  audit::AuditLog* log = nullptr;
};

// Every finding for `request`, decided as `d` without the gate:
// GateFindings, ControlFindings for d.required_controls, and
// ArtifactConflict; at most kMaxFindings.
std::vector<std::string> AllFindings(const governance::Governance& g,
                                     const decision::Request& request, const decision::Decision& d,
                                     const GateContext& context);

// The artifacts a model_update names, for the record that pins them.
struct ModelArtifacts {
  std::string model_id;
  std::string version;
  std::vector<std::string> digests;  // "sha256:<hex>", sorted, unique
};

// The state rows that pin model versions' artifacts.
constexpr std::string_view kModelArtifactKind = "model_artifact";

// The artifacts `request` names: nullopt unless it is a model_update whose
// metadata GateFindings accepts.
std::optional<ModelArtifacts> ModelArtifactsOf(const governance::Governance& g,
                                               const decision::Request& request);

// The row that pins `a`, decided at `at` for `service`.
audit::StateChange ModelArtifactRow(const ModelArtifacts& a, std::string_view service,
                                    UnixMillis at);

// A finding when the log pins other digests for a's model version, or
// when the pinned ones cannot be read (fail closed); nullopt when a fits.
std::optional<std::string> ArtifactConflict(audit::AuditLog& log, const ModelArtifacts& a);

}  // namespace interlock::app
