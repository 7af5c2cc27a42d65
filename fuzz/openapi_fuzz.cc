// Fuzzes the contract change checks (compliance/openapi_diff.h,
// compliance/contract.h). Any bytes are refused with a message or read into
// a result that keeps its contract: a document compared with itself has no
// findings; a diff's counts, verdict and kept findings agree; a report that
// reads gives deny reasons that are never empty strings.
//
// Input: byte 0 picks what is fuzzed; the rest is its text.
//   0: a compatibility report
//   1: one OpenAPI document, compared with itself
//   2: two OpenAPI documents, split at the first NUL byte (or in the middle)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "compliance/contract.h"
#include "compliance/openapi_diff.h"

namespace {

using interlock::Bump;
using interlock::compliance::ChangeClass;
using interlock::compliance::ContractDiff;
using interlock::compliance::ContractFinding;
using interlock::compliance::OpenApiLimits;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

constexpr OpenApiLimits kLimits{.max_bytes = 64 << 10,
                                .max_depth = 32,
                                .max_nodes = 20'000,
                                .max_schema_depth = 32,
                                .max_comparisons = 20'000,
                                .max_findings = 50};

void CheckDiff(const ContractDiff& diff) {
  Check(diff.findings.size() <= kLimits.max_findings);
  size_t total = 0;
  ChangeClass worst = ChangeClass::kNonBreaking;
  for (size_t c = 0; c < diff.counts.size(); ++c) {
    total += diff.counts[c];
    if (diff.counts[c] > 0) worst = static_cast<ChangeClass>(c);
  }
  Check(total == diff.findings.size() + diff.omitted);
  Check(diff.verdict == worst);
  for (const ContractFinding& f : diff.findings) {
    Check(!f.message.empty());
    Check(f.change_class <= diff.verdict);
  }
  Check(!interlock::compliance::DiffText(diff).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto report = interlock::compliance::ParseCompatibilityReport(text);
      if (!report) {
        Check(!report.error().message().empty());
        return 0;
      }
      Check(!report->contract.empty());
      Check(report->change_type != ChangeClass::kBreaking || !report->migration_guide.empty());
      for (Bump bump : {Bump::kPatch, Bump::kMinor, Bump::kMajor}) {
        auto change = interlock::compliance::VersionChange::OfBump(bump);
        for (const std::string& reason :
             interlock::compliance::ContractDenyReasons(*report, change, nullptr)) {
          Check(!reason.empty());
        }
      }
      return 0;
    }
    case 1: {
      auto diff = interlock::compliance::DiffOpenApi({"a", text}, {"b", text}, kLimits);
      if (!diff) {
        Check(!diff.error().message().empty());
        return 0;
      }
      CheckDiff(*diff);
      Check(diff->findings.empty() && diff->verdict == ChangeClass::kNonBreaking);
      return 0;
    }
    default: {
      size_t split = text.find('\0');
      std::string_view before =
          split == std::string_view::npos ? text.substr(0, text.size() / 2) : text.substr(0, split);
      std::string_view after =
          split == std::string_view::npos ? text.substr(text.size() / 2) : text.substr(split + 1);
      auto diff = interlock::compliance::DiffOpenApi({"old", before}, {"new", after}, kLimits);
      if (!diff) {
        Check(!diff.error().message().empty());
        return 0;
      }
      CheckDiff(*diff);
      return 0;
    }
  }
}
