// The fields a condition may read, and the slots they compile to.
//
// Request conditions (risk tiers, rules) read the decision request:
//   actor.type actor.id actor.team
//   change.type change.environment change.service change.version
//   change.previous_version change.bump change.summary
//   ai.confidence ai.rationale
//   checks.tests_passed checks.security_scan.passed checks.security_scan.max_severity
//   metadata.<path>   (any field of the request's change metadata)
//
// Metric conditions (rollback triggers, canary analysis) read named metrics:
// any field path is a metric name, resolved when metrics are supplied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expr.h"

namespace interlock::governance {

enum class RequestField : uint32_t {
  kActorType,
  kActorId,
  kActorTeam,
  kChangeType,
  kEnvironment,
  kService,
  kVersion,
  kPreviousVersion,
  kBump,
  kSummary,
  kAiConfidence,
  kAiRationale,
  kTestsPassed,
  kScanPassed,
  kScanMaxSeverity,
  kSecretScanFindings,
  kPiiScanFindings,
  kCount,
};

// Slots at or above this refer to metadata paths: slot - kMetadataSlotBase
// indexes the metadata path list.
inline constexpr uint32_t kMetadataSlotBase = 1024;

// Binds request field paths. Metadata paths are appended to *metadata_paths
// (each stored split on '.'); the list must outlive the schema.
class RequestSchema final : public expr::Schema {
 public:
  explicit RequestSchema(std::vector<std::vector<std::string>>* metadata_paths)
      : metadata_paths_(metadata_paths) {}
  std::optional<expr::Field> Bind(std::string_view path) override;

 private:
  std::vector<std::vector<std::string>>* metadata_paths_;
};

// Binds any path as a metric of any type; names are appended to *names.
class MetricSchema final : public expr::Schema {
 public:
  explicit MetricSchema(std::vector<std::string>* names) : names_(names) {}
  std::optional<expr::Field> Bind(std::string_view path) override;

 private:
  std::vector<std::string>* names_;
};

}  // namespace interlock::governance
