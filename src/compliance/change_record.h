// A change record: the change_metadata.json every change carries (seed 003,
// "Change Metadata Requirements"), read strictly into a typed value.
// docs/changes.md describes the format for users.
//
// Thread safety: ParseChangeRecord may run on several threads at once; a
// ChangeRecord is a plain value (move-only: it owns the document that
// compatibility_report points into).
//
// ---------------------------------------------------------------------------
// Accepted input
//
// The text is read by the one JSON reader (core/json.h, "Accepted input"):
// at most kMaxRecordBytes of well-formed UTF-8 holding one JSON object, no
// duplicate keys, nesting at most kMaxRecordDepth deep. Its members:
//
//   change_id      required  string, 1-kMaxIdBytes bytes, one line
//   author         required  string, 1-kMaxIdBytes bytes, one line
//   owner          required  string, 1-kMaxIdBytes bytes, one line
//   timestamp      required  RFC 3339 date-time
//   rationale      required  string, 1-kMaxTextBytes bytes
//   impact         required  string, 1-kMaxTextBytes bytes
//   tests_run      required  array (may be empty) of at most kMaxItems
//                            strings of 1-kMaxItemBytes bytes, one line each
//   artifacts      required  the same
//   approvals      required  array (may be empty) of at most kMaxApprovals
//                            objects, each with exactly:
//     approver       required  string, 1-kMaxIdBytes bytes, one line
//     timestamp      required  RFC 3339 date-time
//     rationale      required  string, 1-kMaxTextBytes bytes
//   rollback_plan  required  string, 1-kMaxTextBytes bytes
//   risk_level     required  "low" | "medium" | "high" | "critical"
//   type           optional  "feature" | "bugfix" | "refactor" | "security"
//   compatibility_report  optional  an object (kept as it is, unchecked)
//   provenance     optional  an object (model updates), each member required:
//     model_id, training_dataset, training_config
//                            strings, 1-kMaxIdBytes bytes, one line
//     training_timestamp     RFC 3339 date-time
//     metrics                an object of at most kMaxItems numbers, its
//                            names 1-kMaxIdBytes bytes
//
// A member given as null counts as absent. A string that holds only
// whitespace counts as empty. "One line": no control characters (U+0000 to
// U+001F, U+007F). Every other member is refused.
//
// Errors are kInvalidArgument and start with the member's path under the
// subject "change_metadata", then say what was expected and what was found:
//   change_metadata.approvals[0].timestamp: expected an RFC 3339 date-time, found "yesterday"
//   change_metadata.risk_level: expected one of low, medium, high, critical, found "severe"
//   change_metadata.tests_run: expected an array of strings, found a string
//   change_metadata.rollback_plan: expected a non-empty string, found ""
//   change_metadata.author: expected at most 256 bytes, found 300
//   change_metadata.artifacts: expected at most 10000 items, found 10001
//   change_metadata.owner: required
//   change_metadata: unknown field "x" (expected one of: change_id, ...)
//   change_metadata.approvals[1]: duplicate key "approver" at line 9, column 7
// ---------------------------------------------------------------------------
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/names.h"
#include "core/status.h"

namespace interlock::compliance {

inline constexpr size_t kMaxRecordBytes = size_t{1} << 20;  // 1 MiB
inline constexpr int kMaxRecordDepth = 16;
inline constexpr size_t kMaxIdBytes = 256;                  // ids, names, approvers
inline constexpr size_t kMaxItemBytes = 1024;               // one test or artifact
inline constexpr size_t kMaxTextBytes = size_t{16} * 1024;  // rationales, impact, rollback plan
inline constexpr size_t kMaxItems = 10'000;                 // tests_run, artifacts, metrics
inline constexpr size_t kMaxApprovals = 100;

// The kind of change, as seed 003's governance document template names it.
enum class ChangeCategory : uint8_t { kFeature, kBugfix, kRefactor, kSecurity };
inline constexpr std::array<std::string_view, 4> kChangeCategoryNames = {"feature", "bugfix",
                                                                         "refactor", "security"};

// One approval the record claims.
struct RecordedApproval {
  std::string approver;
  UnixMillis timestamp = 0;
  std::string rationale;
};

// Where a model update came from (seed 003, "Model Update Safeguards").
struct ModelProvenance {
  std::string model_id;
  std::string training_dataset;
  std::string training_config;
  UnixMillis training_timestamp = 0;
  std::vector<std::pair<std::string, double>> metrics;  // in input order
};

struct ChangeRecord {
  std::string change_id;
  std::string author;
  std::string owner;
  UnixMillis timestamp = 0;
  std::string rationale;
  std::string impact;
  std::vector<std::string> tests_run;
  std::vector<std::string> artifacts;
  std::vector<RecordedApproval> approvals;
  std::string rollback_plan;
  RiskLevel risk_level = RiskLevel::kCritical;
  std::optional<ChangeCategory> type;
  std::optional<ModelProvenance> provenance;
  // An object of `document`, as given; valid while this record lives.
  std::optional<json::Value> compatibility_report;

  json::Document document;  // the parsed input
};

// Reads a change record (see "Accepted input"). Never throws.
Result<ChangeRecord> ParseChangeRecord(std::string_view text);

// Reads a change record from `object`, a member of a document the caller
// holds (a decision request's metadata), naming fields under `subject`
// ("metadata.risk_level: ..."). Members named in `also_allowed` are left
// for other readers; any other unknown member is refused. The record's
// `document` is empty and its compatibility_report points into the
// caller's document, which must outlive it.
Result<ChangeRecord> ReadChangeRecord(json::Value object, std::string_view subject,
                                      std::span<const std::string_view> also_allowed = {});

}  // namespace interlock::compliance

namespace interlock {
template <>
struct EnumNames<compliance::ChangeCategory> {
  static constexpr const auto& kNames = compliance::kChangeCategoryNames;
};
}  // namespace interlock
