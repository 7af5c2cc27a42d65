#include "app/drills.h"

#include <fmt/format.h>

#include <map>

#include "app/approvals.h"
#include "app/state.h"
#include "audit/event.h"
#include "audit/json.h"
#include "core/json.h"

namespace interlock::app {
namespace {

using njson = nlohmann::ordered_json;

constexpr int64_t kDrillFormat = 1;

}  // namespace

njson DrillRecordJson(const DrillRecord& r) {
  njson j = {{"format", kDrillFormat},
             {"id", r.id},
             {"drill", r.report.drill},
             {"scenario", r.report.scenario},
             {"expected", r.report.expected},
             {"actual", r.report.actual},
             {"passed", r.report.passed},
             {"issues", r.report.issues},
             {"remediation", r.report.remediation},
             {"recorded_by", r.recorded_by},
             {"at", FormatTimestamp(r.at)},
             {"approval_id", r.approval_id}};
  if (r.next) j["next"] = FormatTimestamp(*r.next);
  return j;
}

Result<DrillRecord> DrillRecordFromJson(std::string_view text) {
  auto corrupt = [](const Error& e) {
    return std::unexpected(Error::Corruption("drill record: " + e.message()));
  };
  auto doc = json::Parse(text, {.subject = "drill record"});
  if (!doc) return corrupt(doc.error());
  static constexpr std::string_view kKeys[] = {
      "format", "id",          "drill",       "scenario", "expected", "actual",     "passed",
      "issues", "remediation", "recorded_by", "at",       "next",     "approval_id"};
  auto o = json::ObjectReader::Make(doc->root(), "", "drill record", kKeys);
  if (!o) return corrupt(o.error());
  auto format = o->OptionalNumber("format", 0, 1e6);
  if (!format) return corrupt(format.error());
  if (format->value_or(0) != kDrillFormat) {
    return std::unexpected(Error::Corruption(fmt::format(
        "drill record: format: this Interlock reads drill records of format {}, found {}",
        kDrillFormat, format->value_or(0))));
  }
  DrillRecord r;
  for (auto [key, out] :
       {std::pair{"id", &r.id}, std::pair{"drill", &r.report.drill},
        std::pair{"scenario", &r.report.scenario}, std::pair{"expected", &r.report.expected},
        std::pair{"actual", &r.report.actual}, std::pair{"remediation", &r.report.remediation},
        std::pair{"recorded_by", &r.recorded_by}, std::pair{"approval_id", &r.approval_id}}) {
    auto v = o->String(key);
    if (!v) return corrupt(v.error());
    *out = std::string(*v);
  }
  auto passed = o->OptionalBool("passed");
  if (!passed) return corrupt(passed.error());
  if (!*passed) return corrupt(Error::Corruption("passed: required"));
  r.report.passed = **passed;
  auto issues = o->OptionalStringArray("issues");
  if (!issues) return corrupt(issues.error());
  if (*issues) r.report.issues = std::move(**issues);
  auto at = o->String("at");
  if (!at) return corrupt(at.error());
  auto at_time = ParseTimestamp(*at);
  if (!at_time) return corrupt(Error::Corruption("at: " + at_time.error().message()));
  r.at = *at_time;
  auto next = o->OptionalString("next");
  if (!next) return corrupt(next.error());
  if (*next) {
    auto t = ParseTimestamp(**next);
    if (!t) return corrupt(Error::Corruption("next: " + t.error().message()));
    r.next = *t;
  }
  return r;
}

Result<DrillStatus> RecordDrill(State& state, const governance::Governance& g,
                                const governance::Principal& actor,
                                const compliance::DrillReport& report, UnixMillis now) {
  if (actor.type != ActorType::kHuman) {
    return std::unexpected(Error::PermissionDenied(fmt::format(
        "{} is {}: a drill is recorded by the person who ran it", actor.id, Name(actor.type))));
  }
  DrillRecord r;
  r.report = report;
  r.recorded_by = actor.id;
  r.at = now;
  if (auto every = compliance::DrillInterval(g, report.drill)) r.next = now + every->count();
  decision::Request subject;
  subject.actor_given = true;
  subject.actor_id = actor.id;
  subject.actor_type = actor.type;
  subject.change_type = ChangeType::kCompliance;
  subject.environment = Environment::kProduction;
  subject.service = std::string(kDrillService);
  subject.summary =
      fmt::format("Sign off the {} drill of {} ({}): {}", report.drill, FormatTimestamp(now),
                  report.passed ? "passed" : "failed", report.actual);
  auto made = [&](const std::string& approval_id) -> Result<State::Made> {
    r.approval_id = approval_id;
    r.id = "drl_" + approval_id.substr(approval_id.find('_') + 1);
    njson event = {{"event_type", "drill_recorded"},
                   {"actor", {{"id", actor.id}, {"type", Name(actor.type)}}},
                   {"action", {{"type", "drill"}, {"target", report.drill}}},
                   {"reason", report.actual},
                   {"drill", DrillRecordJson(r)}};
    auto parsed = audit::ParseEvent(audit::Dump(event), now);
    if (!parsed) return std::unexpected(Error::Internal(parsed.error().message()));
    State::Made out{std::move(*parsed), {}};
    out.rows.push_back({std::string(kDrillKind), r.id, audit::Dump(DrillRecordJson(r))});
    return out;
  };
  auto requested =
      state.RequestApproval(g, subject, kDrillSignOffWorkflow, RiskLevel::kMedium, made);
  if (!requested) return std::unexpected(requested.error());
  r.audit_index = requested->index;
  return DrillStatus{std::move(r), std::move(requested->request)};
}

Result<std::vector<DrillStatus>> LoadDrills(audit::AuditLog& log) {
  return LoadWithApprovals<DrillStatus, DrillRecord>(log, kDrillKind, DrillRecordFromJson);
}

std::vector<compliance::DrillFact> DrillFacts(const std::vector<DrillStatus>& records) {
  std::map<std::string, const DrillStatus*> latest;
  for (const DrillStatus& s : records) {
    if (!s.record.report.passed || !s.SignedOff()) continue;
    const DrillStatus*& slot = latest[s.record.report.drill];
    if (slot == nullptr || s.record.at > slot->record.at) slot = &s;
  }
  std::vector<compliance::DrillFact> out;
  for (const auto& [drill, s] : latest) {
    std::string by;
    for (const workflow::Approval& a : s->sign_off->approvals) {
      by += (by.empty() ? "" : ", ") + a.principal;
    }
    out.push_back({drill, true, s->record.at,
                   fmt::format("{} (record {}, recorded by {}, signed off by {})",
                               s->record.report.actual, s->record.id, s->record.recorded_by, by),
                   0});
  }
  return out;
}

}  // namespace interlock::app
