// The latest scan results the gate used: one state row per scanner
// ("secrets", "pii"), replaced by each decision whose request carries
// checks.secret_scan or checks.pii_scan, in the decision's own commit
// (app::State::RecordDecision writes them). The compliance checks
// secret_scan_clean and pii_scan_clean read them, so they need no pass over
// the audit log.
#pragma once

#include <optional>
#include <string_view>

#include "audit/log.h"
#include "core/clock.h"
#include "core/status.h"
#include "decision/request.h"

namespace interlock::app {

constexpr std::string_view kScanKind = "scan";

struct ScanResult {
  uint64_t findings = 0;
  UnixMillis at = 0;        // when the decision that used it was made
  std::string service;      // the decision's change.service ("" when none)
  std::string environment;  // the decision's change.environment
};

struct LatestScans {
  std::optional<ScanResult> secrets;
  std::optional<ScanResult> pii;
};

// The rows that record the scans `request` carries, decided at `at`; none
// when it carries none.
std::vector<audit::StateChange> ScanRows(const decision::Request& request, UnixMillis at);

// The rows as stored; a row that cannot be read is kCorruption naming it.
Result<LatestScans> LoadLatestScans(audit::AuditLog& log);

}  // namespace interlock::app
