#include "app/waivers.h"

#include <fmt/format.h>

#include "app/approvals.h"
#include "app/evidence.h"
#include "app/state.h"
#include "audit/event.h"
#include "audit/json.h"
#include "core/json.h"

namespace interlock::app {
namespace {

using njson = nlohmann::ordered_json;

constexpr int64_t kWaiverFormat = 1;

// The service an approver sees a waiver's request under, and whose scoped
// emergency stop holds its approval like any other change's.
constexpr std::string_view kWaiverService = "interlock-compliance";

}  // namespace

njson WaiverJson(const Waiver& w) {
  return {{"format", kWaiverFormat},
          {"id", w.id},
          {"control", w.asked.control},
          {"justification", w.asked.justification},
          {"expires", FormatTimestamp(w.asked.expires)},
          {"run", w.asked.run},
          {"requested_by", w.requested_by},
          {"requested_at", FormatTimestamp(w.requested_at)},
          {"approval_id", w.approval_id}};
}

Result<Waiver> WaiverFromJson(std::string_view text) {
  auto corrupt = [](const Error& e) {
    return std::unexpected(Error::Corruption("waiver: " + e.message()));
  };
  auto doc = json::Parse(text, {.subject = "waiver"});
  if (!doc) return corrupt(doc.error());
  static constexpr std::string_view kKeys[] = {"format",        "id",           "control",
                                               "justification", "expires",      "run",
                                               "requested_by",  "requested_at", "approval_id"};
  auto o = json::ObjectReader::Make(doc->root(), "", "waiver", kKeys);
  if (!o) return corrupt(o.error());
  auto format = o->OptionalNumber("format", 0, 1e6);
  if (!format) return corrupt(format.error());
  if (format->value_or(0) != kWaiverFormat) {
    return std::unexpected(Error::Corruption(
        fmt::format("waiver: format: this Interlock reads waivers of format {}, found {}",
                    kWaiverFormat, format->value_or(0))));
  }
  Waiver w;
  for (auto [key, out] :
       {std::pair{"id", &w.id}, std::pair{"control", &w.asked.control},
        std::pair{"justification", &w.asked.justification},
        std::pair{"requested_by", &w.requested_by}, std::pair{"approval_id", &w.approval_id}}) {
    auto v = o->String(key);
    if (!v) return corrupt(v.error());
    *out = std::string(*v);
  }
  for (auto [key, out] :
       {std::pair{"expires", &w.asked.expires}, std::pair{"requested_at", &w.requested_at}}) {
    auto v = o->String(key);
    if (!v) return corrupt(v.error());
    auto t = ParseTimestamp(*v);
    if (!t) return corrupt(Error::Corruption(fmt::format("{}: {}", key, t.error().message())));
    *out = *t;
  }
  auto run = o->OptionalBool("run");
  if (!run) return corrupt(run.error());
  if (!*run) return corrupt(Error::Corruption("run: required"));
  w.asked.run = **run;
  return w;
}

Result<WaiverStatus> RequestWaiver(State& state, const governance::Governance& g,
                                   const governance::Principal& actor,
                                   const compliance::WaiverRequest& asked, UnixMillis now) {
  if (actor.type != ActorType::kHuman) {
    return std::unexpected(Error::PermissionDenied(fmt::format(
        "{} is {}: a waiver is asked for by a person, who answers for its justification", actor.id,
        Name(actor.type))));
  }
  const governance::Control* c = g.compliance.FindControl(asked.control);
  if (c == nullptr) {
    return std::unexpected(Error::NotFound(
        fmt::format("control: no control \"{}\" in compliance/controls.yml", asked.control)));
  }
  decision::Request subject;
  subject.actor_given = true;
  subject.actor_id = actor.id;
  subject.actor_type = actor.type;
  subject.change_type = ChangeType::kCompliance;
  subject.environment = Environment::kProduction;
  subject.service = std::string(kWaiverService);
  subject.summary =
      fmt::format("Waive control {} until {} ({}): {}", c->id, FormatTimestamp(asked.expires),
                  asked.run ? "still evaluated" : "not evaluated", asked.justification);
  Waiver w;
  w.asked = asked;
  w.requested_by = actor.id;
  w.requested_at = now;
  auto made = [&](const std::string& approval_id) -> Result<State::Made> {
    w.approval_id = approval_id;
    w.id = "wvr_" + approval_id.substr(approval_id.find('_') + 1);
    auto parsed = ControlEvent("waiver_requested", actor, *c, "waiver", asked.justification,
                               "waiver", WaiverJson(w), now);
    if (!parsed) return std::unexpected(parsed.error());
    State::Made out{std::move(*parsed), {}};
    out.rows.push_back({std::string(kWaiverKind), w.id, audit::Dump(WaiverJson(w))});
    return out;
  };
  auto requested = state.RequestApproval(g, subject, kWaiverWorkflow, RiskLevel::kHigh, made);
  if (!requested) return std::unexpected(requested.error());
  w.audit_index = requested->index;
  return WaiverStatus{std::move(w), std::move(requested->request)};
}

Result<std::vector<WaiverStatus>> LoadWaivers(audit::AuditLog& log) {
  return LoadWithApprovals<WaiverStatus, Waiver>(log, kWaiverKind, WaiverFromJson);
}

compliance::WaiverFact WaiverFactOf(const WaiverStatus& s) {
  compliance::WaiverFact f;
  f.id = s.waiver.id;
  f.control = s.waiver.asked.control;
  f.justification = s.waiver.asked.justification;
  f.expires = s.waiver.asked.expires;
  f.run = s.waiver.asked.run;
  f.requested_by = s.waiver.requested_by;
  f.approval_id = s.waiver.approval_id;
  f.audit_index = s.waiver.audit_index;
  f.approval_state = s.approval ? std::string(Name(s.approval->state)) : "missing";
  if (s.approval && s.approval->state == workflow::ApprovalState::kApproved) {
    for (const workflow::Approval& a : s.approval->approvals) f.approved_by.push_back(a.principal);
  }
  return f;
}

}  // namespace interlock::app
