#include "compliance/change_record.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/assign.h"
#include "core/text.h"

namespace interlock::compliance {
namespace {

constexpr std::string_view kSubject = "change_metadata";

constexpr std::string_view kFields[] = {"change_id",
                                        "author",
                                        "owner",
                                        "timestamp",
                                        "rationale",
                                        "impact",
                                        "tests_run",
                                        "artifacts",
                                        "approvals",
                                        "rollback_plan",
                                        "risk_level",
                                        "type",
                                        "compatibility_report",
                                        "provenance"};
constexpr std::string_view kApprovalFields[] = {"approver", "timestamp", "rationale"};
constexpr std::string_view kProvenanceFields[] = {"model_id", "training_dataset", "training_config",
                                                  "training_timestamp", "metrics"};

// How many bytes of a value a message shows.
constexpr size_t kShownBytes = 64;

Error Invalid(std::string message) { return Error::InvalidArgument(std::move(message)); }

// `text` as a JSON string, cut after kShownBytes (at a character boundary)
// with "..." after the closing quote.
std::string Shown(std::string_view text) {
  size_t keep = text.size();
  if (keep > kShownBytes) {
    keep = kShownBytes;
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  }
  std::string out;
  json::AppendQuoted(&out, text.substr(0, keep));
  if (keep < text.size()) out += "...";
  return out;
}

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

enum class Lines : uint8_t { kOne, kMany };

// A string of 1 to `max` bytes, not only whitespace; kOne: no control
// characters. `path` names it.
Result<std::string> CheckText(std::string_view path, std::string_view text, size_t max,
                              Lines lines) {
  if (TrimSpace(text).empty()) {
    return std::unexpected(
        Invalid(fmt::format("{}: expected a non-empty string, found {}", path, Shown(text))));
  }
  if (text.size() > max) {
    return std::unexpected(
        Invalid(fmt::format("{}: expected at most {} bytes, found {}", path, max, text.size())));
  }
  if (lines == Lines::kOne && HasControl(text)) {
    return std::unexpected(Invalid(fmt::format(
        "{}: expected one line without control characters, found {}", path, Shown(text))));
  }
  return std::string(text);
}

Result<std::string> Text(const json::ObjectReader& o, std::string_view key, size_t max,
                         Lines lines) {
  std::string_view text;
  INTERLOCK_ASSIGN(text, o.String(key));
  return CheckText(o.Path(key), text, max, lines);
}

Result<UnixMillis> Time(const json::ObjectReader& o, std::string_view key) {
  std::string_view text;
  INTERLOCK_ASSIGN(text, o.String(key));
  auto t = ParseTimestamp(text);
  if (!t) {
    return std::unexpected(Invalid(
        fmt::format("{}: expected an RFC 3339 date-time, found {}", o.Path(key), Shown(text))));
  }
  return *t;
}

// A required array; "what" names its elements in messages.
Result<json::Value> Array(const json::ObjectReader& o, std::string_view key, std::string_view what,
                          size_t max) {
  auto value = o.Find(key);
  if (!value) return std::unexpected(Invalid(fmt::format("{}: required", o.Path(key))));
  if (!value->is_array()) return std::unexpected(o.WrongType(key, what, *value));
  if (value->size() > max) {
    return std::unexpected(Invalid(
        fmt::format("{}: expected at most {} items, found {}", o.Path(key), max, value->size())));
  }
  return *value;
}

Result<std::vector<std::string>> Items(const json::ObjectReader& o, std::string_view key) {
  auto found = Array(o, key, "an array of strings", kMaxItems);
  if (!found) return std::unexpected(found.error());
  json::Value array = *found;
  std::vector<std::string> out;
  out.reserve(array.size());
  for (json::Value element : array.elements()) {
    std::string path = fmt::format("{}[{}]", o.Path(key), out.size());
    if (!element.is_string()) {
      return std::unexpected(Invalid(
          fmt::format("{}: expected a string, found {}", path, json::TypeName(element.type()))));
    }
    std::string item;
    INTERLOCK_ASSIGN(item, CheckText(path, element.AsString(), kMaxItemBytes, Lines::kOne));
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::vector<RecordedApproval>> Approvals(const json::ObjectReader& o) {
  auto found = Array(o, "approvals", "an array of objects", kMaxApprovals);
  if (!found) return std::unexpected(found.error());
  json::Value array = *found;
  std::vector<RecordedApproval> out;
  for (json::Value element : array.elements()) {
    std::string path = fmt::format("{}[{}]", o.Path("approvals"), out.size());
    if (!element.is_object()) {
      return std::unexpected(Invalid(
          fmt::format("{}: expected an object, found {}", path, json::TypeName(element.type()))));
    }
    std::optional<json::ObjectReader> a;
    INTERLOCK_ASSIGN(a, json::ObjectReader::Make(element, path, kSubject, kApprovalFields));
    RecordedApproval approval;
    INTERLOCK_ASSIGN(approval.approver, Text(*a, "approver", kMaxIdBytes, Lines::kOne));
    INTERLOCK_ASSIGN(approval.timestamp, Time(*a, "timestamp"));
    INTERLOCK_ASSIGN(approval.rationale, Text(*a, "rationale", kMaxTextBytes, Lines::kMany));
    out.push_back(std::move(approval));
  }
  return out;
}

Result<std::optional<ModelProvenance>> Provenance(const json::ObjectReader& o) {
  std::optional<json::ObjectReader> p;
  INTERLOCK_ASSIGN(p, o.OptionalObject("provenance", kProvenanceFields));
  if (!p) return std::nullopt;
  ModelProvenance out;
  INTERLOCK_ASSIGN(out.model_id, Text(*p, "model_id", kMaxIdBytes, Lines::kOne));
  INTERLOCK_ASSIGN(out.training_dataset, Text(*p, "training_dataset", kMaxIdBytes, Lines::kOne));
  INTERLOCK_ASSIGN(out.training_config, Text(*p, "training_config", kMaxIdBytes, Lines::kOne));
  INTERLOCK_ASSIGN(out.training_timestamp, Time(*p, "training_timestamp"));
  auto metrics = p->Find("metrics");
  if (!metrics) return std::unexpected(Invalid(fmt::format("{}: required", p->Path("metrics"))));
  if (!metrics->is_object()) {
    return std::unexpected(p->WrongType("metrics", "an object of numbers", *metrics));
  }
  std::string path = p->Path("metrics");
  if (metrics->size() > kMaxItems) {
    return std::unexpected(Invalid(
        fmt::format("{}: expected at most {} items, found {}", path, kMaxItems, metrics->size())));
  }
  for (json::Member member : metrics->members()) {
    std::string_view name = member.key;
    if (TrimSpace(name).empty() || name.size() > kMaxIdBytes || HasControl(name)) {
      return std::unexpected(
          Invalid(fmt::format("{}: expected metric names of 1 to {} bytes on one line, found {}",
                              path, kMaxIdBytes, Shown(name))));
    }
    json::Value value = member.value();
    if (!value.is_number()) {
      return std::unexpected(Invalid(fmt::format("{}.{}: expected a number, found {}", path, name,
                                                 json::TypeName(value.type()))));
    }
    out.metrics.emplace_back(std::string(name), value.AsNumber());
  }
  return out;
}

// The one JSON reader's messages name a member by its path from the top
// ("approvals[0]"), or the subject for the top itself; here every path
// starts with the subject.
Error UnderSubject(const Error& error) {
  const std::string& m = error.message();
  if (m.starts_with(fmt::format("{}:", kSubject))) return error;
  return Error(error.kind(), fmt::format("{}.{}", kSubject, m));
}

}  // namespace

Result<ChangeRecord> ParseChangeRecord(std::string_view text) {
  auto document = json::Parse(text, {.subject = kSubject,
                                     .max_bytes = kMaxRecordBytes,
                                     .max_depth = kMaxRecordDepth,
                                     .require_object = true});
  if (!document) return std::unexpected(UnderSubject(document.error()));
  auto r = ReadChangeRecord(document->root(), kSubject);
  if (!r) return std::unexpected(r.error());
  // Values stay valid when their document moves.
  r->document = std::move(*document);
  return r;
}

Result<ChangeRecord> ReadChangeRecord(json::Value object, std::string_view subject,
                                      std::span<const std::string_view> also_allowed) {
  std::vector<std::string_view> allowed(std::begin(kFields), std::end(kFields));
  allowed.insert(allowed.end(), also_allowed.begin(), also_allowed.end());
  ChangeRecord r;
  std::optional<json::ObjectReader> top;
  INTERLOCK_ASSIGN(top, json::ObjectReader::Make(object, std::string(subject), subject, allowed));
  const json::ObjectReader& o = *top;
  INTERLOCK_ASSIGN(r.change_id, Text(o, "change_id", kMaxIdBytes, Lines::kOne));
  INTERLOCK_ASSIGN(r.author, Text(o, "author", kMaxIdBytes, Lines::kOne));
  INTERLOCK_ASSIGN(r.owner, Text(o, "owner", kMaxIdBytes, Lines::kOne));
  INTERLOCK_ASSIGN(r.timestamp, Time(o, "timestamp"));
  INTERLOCK_ASSIGN(r.rationale, Text(o, "rationale", kMaxTextBytes, Lines::kMany));
  INTERLOCK_ASSIGN(r.impact, Text(o, "impact", kMaxTextBytes, Lines::kMany));
  INTERLOCK_ASSIGN(r.tests_run, Items(o, "tests_run"));
  INTERLOCK_ASSIGN(r.artifacts, Items(o, "artifacts"));
  INTERLOCK_ASSIGN(r.approvals, Approvals(o));
  INTERLOCK_ASSIGN(r.rollback_plan, Text(o, "rollback_plan", kMaxTextBytes, Lines::kMany));
  INTERLOCK_ASSIGN(r.risk_level, o.Enum<RiskLevel>("risk_level"));
  INTERLOCK_ASSIGN(r.type, o.OptionalEnum<ChangeCategory>("type"));
  if (auto report = o.Find("compatibility_report")) {
    if (!report->is_object()) {
      return std::unexpected(o.WrongType("compatibility_report", "an object", *report));
    }
    r.compatibility_report = *report;
  }
  INTERLOCK_ASSIGN(r.provenance, Provenance(o));
  return r;
}

}  // namespace interlock::compliance
