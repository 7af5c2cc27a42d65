// A safety drill's documentation (seed 000 section 3.5) as a caller
// records it: which drill, the scenario, the expected and the actual
// outcome, whether it passed, the issues found and their remediation. The
// date is when it is recorded and the next date follows from the drill's
// controls (`within`); the sign-off by an engineering lead is an approval.
// Here it is only read and checked, naming the field of a malformed one.
//
// Pure; thread safety: the functions are reentrant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/duration.h"
#include "core/status.h"
#include "governance/model.h"

namespace interlock::compliance {

inline constexpr size_t kMaxDrillTextBytes = 4096;
inline constexpr size_t kMaxDrillIssues = 32;

struct DrillReport {
  std::string drill;  // one of governance::kDrillNames
  std::string scenario;
  std::string expected;
  std::string actual;
  bool passed = false;
  std::vector<std::string> issues;  // none when nothing was found
  std::string remediation;          // what is done about the issues; "" when there are none
};

// Reads a JSON object with the members drill, scenario, expected, actual
// (non-blank strings of at most kMaxDrillTextBytes), passed (a boolean),
// issues (at most kMaxDrillIssues non-blank strings) and remediation
// (required, non-blank, when there are issues or the drill failed), and no
// others. kInvalidArgument naming the field.
Result<DrillReport> ParseDrillReport(std::string_view body);

// How often `drill` must pass: the shortest `within` among g's controls of
// check: drill for it; nullopt when no control asks for it.
std::optional<Millis> DrillInterval(const governance::Governance& g, std::string_view drill);

}  // namespace interlock::compliance
