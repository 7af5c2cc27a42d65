// The compatibility report a contract change carries, and whether a release
// fits it (the contract change process; docs/contracts.md).
//
// A report, strictly read (unknown fields refused):
//   {"contract": "contracts/openapi.yaml#/components/schemas/BassSpec",
//    "change_type": "breaking" | "non_breaking" | "additive",
//    "consumers": [{"module": "bass", "impact": "high" | "medium" | "low",
//                   "migration_required": true}],
//    "migration_guide": "Migration steps"}
// contract and change_type are required; consumers may be absent (no known
// consumer); migration_guide is required, and not blank, when change_type is
// breaking or any consumer needs a migration. Every consumer's three fields
// are required, and a module is listed once.
//
// ContractDenyReasons is the one check a decision or a command calls: pure,
// no I/O, thread-safe on distinct or shared const arguments.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compliance/openapi_diff.h"
#include "core/json.h"
#include "core/names.h"
#include "core/semver.h"
#include "core/status.h"

namespace interlock::compliance {

enum class Impact : uint8_t { kHigh, kMedium, kLow };

inline constexpr std::array<std::string_view, 3> kImpactNames = {"high", "medium", "low"};

struct ContractConsumer {
  std::string module;
  Impact impact = Impact::kLow;
  bool migration_required = false;
};

struct CompatibilityReport {
  std::string contract;
  ChangeClass change_type = ChangeClass::kNonBreaking;
  std::vector<ContractConsumer> consumers;
  std::string migration_guide;  // empty when not given
};

struct ReportLimits {
  size_t max_bytes = size_t{1} << 20;  // Default: 1 MiB of report text.
  size_t max_consumers = 1000;         // Default: 1000 consumers.
  size_t max_text = size_t{64} << 10;  // Default: 64 KiB per string field.
};

// Reads a report from `report`, naming fields from `path` in errors
// ("compatibility_report.consumers[1].impact: expected one of high, medium,
// low, found \"huge\""). Errors are kInvalidArgument. `report` need not be an
// object (that is an error too).
Result<CompatibilityReport> ReadCompatibilityReport(json::Value report,
                                                    std::string_view path = "compatibility_report",
                                                    const ReportLimits& limits = {});

// Parses JSON text holding one report (see core/json.h for the text's own
// errors), then reads it as above.
Result<CompatibilityReport> ParseCompatibilityReport(std::string_view text,
                                                     const ReportLimits& limits = {});

// The version change a release made: the bump, and the two versions when
// they are known (then `bump` is BumpBetween(from, to)).
struct VersionChange {
  Bump bump = Bump::kPatch;
  std::optional<SemVer> from;
  std::optional<SemVer> to;

  static VersionChange OfBump(Bump bump) { return {bump, std::nullopt, std::nullopt}; }
  // Errors (kInvalidArgument) name which version is not a semantic version:
  // "from version: expected a semantic version such as 2.5.4 or v2.5.4, found 'x'".
  static Result<VersionChange> Between(std::string_view from, std::string_view to);
};

// The bump a change of class `c` needs: major for breaking, minor for
// additive and non_breaking.
Bump NeededBump(ChangeClass c);

// Why a version change does not fit a change of class `claimed` (`what`
// says who claims it: "the report claims", "the diff finds"); nullopt when
// it fits. A version that does not go up never fits; a bump larger than
// needed does not fit either (it tells consumers to migrate for nothing),
// except that when `unchanged` (a diff found no change at all, so the
// release is a fix) a patch bump fits too.
std::optional<std::string> BumpReason(ChangeClass claimed, std::string_view what,
                                      const VersionChange& change, bool unchanged = false);

// Every reason to deny a release of a contract change; empty when it fits:
//   - the version change does not fit the report's change_type (BumpReason;
//     not checked when `change` is nullopt, the versions being unknown);
//   - with `diff`, the report claims less than the diff finds (naming the
//     first three findings of the worst class found).
// `diff` may be null (no diff available); when given, it must outlive the call.
std::vector<std::string> ContractDenyReasons(const CompatibilityReport& report,
                                             const std::optional<VersionChange>& change,
                                             const ContractDiff* diff);

}  // namespace interlock::compliance

namespace interlock {
template <>
struct EnumNames<compliance::Impact> {
  static constexpr const auto& kNames = compliance::kImpactNames;
};
}  // namespace interlock
