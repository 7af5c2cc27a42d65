// Evaluating the control catalogue (governance compliance/controls.yml):
// facts in, one result per control out. Pure: the caller gathers the facts
// (from the audit log, the state rows, the server's configuration) and
// passes the time; nothing here reads a file or a clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compliance/result.h"
#include "core/clock.h"
#include "governance/model.h"

namespace interlock::compliance {

// The audit trail as one verification found it.
struct AuditFacts {
  bool verified = false;
  std::string problem;  // why it did not verify; empty when verified
  uint64_t size = 0;    // records verified
  uint64_t pruned = 0;  // of which payloads were pruned (their leaves verify)
  std::string root;     // hex of the root at `size`
  std::optional<uint64_t> first_bad_index;
};

// The audit log's data keys (their material never leaves the log).
struct KeyFacts {
  std::string cipher;  // "AES-256-GCM"
  uint64_t data_keys = 0;
  // When the period of the newest data key ends; 0 when there is none.
  UnixMillis newest_period_end = 0;
  std::string master_key_source;  // where the master key is kept ("file ...", "environment")
};

// A route of `interlock serve` and how it authenticates its caller: "" when
// it does not.
struct RouteFact {
  std::string method;
  std::string pattern;
  std::string authentication;
};

// A policy document (policies/*.md) and its review date.
struct PolicyFact {
  std::string file;
  std::optional<UnixMillis> next_review;  // midnight UTC of "Next review date"
  std::string owner;                      // "" when the document names none
  std::string problem;                    // why the date could not be read; "" if it was
};

// Evidence a person attested for a control (POST /v1/evidence).
struct AttestationFact {
  std::string control;
  std::string attested_by;
  std::string text;
  UnixMillis at = 0;
  UnixMillis expires = 0;  // 0: does not expire
  uint64_t audit_index = 0;
};

// A drill's record (interlock drill).
struct DrillFact {
  std::string drill;  // one of governance::kDrillNames
  bool passed = false;
  UnixMillis at = 0;
  std::string summary;
  uint64_t audit_index = 0;
};

// A waiver of a control (POST /v1/waivers, compliance/waiver.h) and where
// its approval stands. Only an approved one that has not expired applies.
struct WaiverFact {
  std::string id;
  std::string control;
  std::string justification;
  UnixMillis expires = 0;
  bool run = true;  // true: the control is evaluated and its outcome shown beside the waiver
  std::string requested_by;
  std::string approval_id;
  std::string approval_state;  // workflow::kApprovalStateNames
  std::vector<std::string> approved_by;
  uint64_t audit_index = 0;  // of the waiver's request; 0 when the run does not know it
};

// The latest scan a decision used (checks.secret_scan / checks.pii_scan).
struct ScanFact {
  uint64_t findings = 0;
  UnixMillis at = 0;
  uint64_t audit_index = 0;
};

// A violation and when it was reported: an incident (an automatic rollback)
// and its review.
struct ViolationFact {
  std::string id;
  std::string what;
  UnixMillis opened_at = 0;
  UnixMillis reported_at = 0;  // 0: not yet
};

// Everything a run knows. An optional fact left empty is one this run could
// not learn: the controls that need it come to kError, saying so.
struct Facts {
  UnixMillis now = 0;
  std::optional<AuditFacts> audit;
  std::optional<KeyFacts> keys;
  std::optional<bool> server_tls;  // whether the server serves TLS 1.3 itself
  std::optional<std::vector<RouteFact>> routes;
  std::optional<std::vector<PolicyFact>> policies;
  std::vector<AttestationFact> attestations;
  std::vector<DrillFact> drills;
  std::vector<WaiverFact> waivers;
  // The latest scans; scans_known false when this run could not learn them.
  bool scans_known = false;
  std::optional<ScanFact> secret_scan;
  std::optional<ScanFact> pii_scan;
  std::optional<std::vector<ViolationFact>> violations;
  std::string unknown_why;  // said with each kError: why facts are missing
};

// One control's result.
struct ControlResult {
  const governance::Control* control = nullptr;
  Outcome outcome = Outcome::kError;
  std::string reason;                     // one sentence: why this outcome
  std::vector<std::string> evidence;      // values, audit indexes, proofs
  std::optional<UnixMillis> evidence_at;  // when the evidence was made
  std::optional<UnixMillis> expires_at;   // when it stops counting
  // The waiver shown with the result: the one in force (outcome kWaived),
  // else the latest approved one that expired (the real outcome stands).
  std::optional<WaiverFact> waiver;
  bool waiver_expired = false;
  // Under a waiver with run: true, what the evaluation itself came to.
  std::optional<Outcome> evaluated;
};

struct Report {
  UnixMillis at = 0;
  std::string framework;  // "" for all
  std::vector<ControlResult> results;
  Counts counts;
};

// Evaluates every control of g's catalogue, or those mapping to `framework`
// (an id of frameworks.yml, compared exactly) when it is not empty. The
// report points into `g`, which must outlive it.
Report Evaluate(const governance::Governance& g, const Facts& facts, std::string_view framework);

// The routes that may answer without authenticating: the dashboard's static
// files and the liveness probe, which hold no state.
bool MayBeOpen(const RouteFact& route);

}  // namespace interlock::compliance
