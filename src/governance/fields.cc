#include "governance/fields.h"

#include <algorithm>
#include <array>

namespace interlock::governance {
namespace {

struct FixedField {
  std::string_view path;
  RequestField field;
  expr::Type type;
};

constexpr std::array<FixedField, static_cast<size_t>(RequestField::kCount)> kFixed = {{
    {"actor.type", RequestField::kActorType, expr::Type::kString},
    {"actor.id", RequestField::kActorId, expr::Type::kString},
    {"actor.team", RequestField::kActorTeam, expr::Type::kString},
    {"change.type", RequestField::kChangeType, expr::Type::kString},
    {"change.environment", RequestField::kEnvironment, expr::Type::kString},
    {"change.service", RequestField::kService, expr::Type::kString},
    {"change.version", RequestField::kVersion, expr::Type::kString},
    {"change.previous_version", RequestField::kPreviousVersion, expr::Type::kString},
    {"change.bump", RequestField::kBump, expr::Type::kString},
    {"change.summary", RequestField::kSummary, expr::Type::kString},
    {"ai.confidence", RequestField::kAiConfidence, expr::Type::kNumber},
    {"ai.rationale", RequestField::kAiRationale, expr::Type::kString},
    {"checks.tests_passed", RequestField::kTestsPassed, expr::Type::kBool},
    {"checks.security_scan.passed", RequestField::kScanPassed, expr::Type::kBool},
    {"checks.security_scan.max_severity", RequestField::kScanMaxSeverity, expr::Type::kString},
    {"checks.secret_scan.findings", RequestField::kSecretScanFindings, expr::Type::kNumber},
    {"checks.pii_scan.findings", RequestField::kPiiScanFindings, expr::Type::kNumber},
}};

}  // namespace

std::optional<expr::Field> RequestSchema::Bind(std::string_view path) {
  for (const FixedField& fixed : kFixed) {
    if (fixed.path == path) return expr::Field{static_cast<uint32_t>(fixed.field), fixed.type};
  }
  constexpr std::string_view kMetadata = "metadata.";
  if (!path.starts_with(kMetadata) || path.size() == kMetadata.size()) return std::nullopt;
  std::vector<std::string> segments;
  std::string_view rest = path.substr(kMetadata.size());
  while (true) {
    size_t dot = rest.find('.');
    segments.emplace_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  auto it = std::find(metadata_paths_->begin(), metadata_paths_->end(), segments);
  size_t index = static_cast<size_t>(it - metadata_paths_->begin());
  if (it == metadata_paths_->end()) metadata_paths_->push_back(std::move(segments));
  return expr::Field{kMetadataSlotBase + static_cast<uint32_t>(index), expr::Type::kUnknown};
}

std::optional<expr::Field> MetricSchema::Bind(std::string_view path) {
  auto it = std::find(names_->begin(), names_->end(), path);
  size_t index = static_cast<size_t>(it - names_->begin());
  if (it == names_->end()) names_->emplace_back(path);
  return expr::Field{static_cast<uint32_t>(index), expr::Type::kUnknown};
}

}  // namespace interlock::governance
