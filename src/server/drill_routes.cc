// POST /v1/drills: a safety drill's record, its sign-off asked for; GET
// /v1/drills: the drill calendar (the last signed-off pass of each drill and
// when the next is due) with every record and its sign-off.
#include <fmt/format.h>

#include <algorithm>

#include "app/drills.h"
#include "compliance/drill.h"
#include "server/service_impl.h"

namespace interlock::server {
namespace {

json DrillAnswer(const app::DrillStatus& s) {
  json out = json::parse(app::DrillRecordJson(s.record).dump());
  out.erase("format");
  out["sign_off"] = s.sign_off ? std::string(Name(s.sign_off->state)) : "missing";
  json by = json::array();
  if (s.SignedOff()) {
    for (const workflow::Approval& a : s.sign_off->approvals) by.push_back(a.principal);
  }
  out["signed_off_by"] = std::move(by);
  if (s.record.audit_index != 0) out["audit_index"] = s.record.audit_index;
  return out;
}

}  // namespace

void Service::Impl::PostDrill(Call& c) {
  auto report = compliance::ParseDrillReport(c.request.body);
  if (!report) {
    c.respond(ErrorResponse(report.error()));
    return;
  }
  auto task = [this, g = c.g, actor = *c.actor, report = std::move(*report),
               respond = c.respond]() {
    auto recorded = app::RecordDrill(*state, *g, actor, report, options.clock->Now());
    if (!recorded) {
      respond(ErrorResponse(recorded.error()));
      return;
    }
    respond(JsonResponse(201, DrillAnswer(*recorded)));
  };
  Post(*state_lane, c.actor->id, c.respond, std::move(task));
}

void Service::Impl::GetDrills(Call& c) {
  ReadAudit(c, [this](const Call& call) -> Result<json> {
    auto records = app::LoadDrills(*log);
    if (!records) return std::unexpected(records.error());
    const UnixMillis now = options.clock->Now();
    const std::vector<compliance::DrillFact> latest = app::DrillFacts(*records);
    json calendar = json::array();
    for (std::string_view drill : governance::kDrillNames) {
      json entry = {{"drill", drill}};
      json controls = json::array();
      for (const governance::Control& control : call.g->compliance.controls) {
        if (control.check == governance::ControlCheck::kDrill && control.drill == drill) {
          controls.push_back(control.id);
        }
      }
      entry["controls"] = std::move(controls);
      const auto every = compliance::DrillInterval(*call.g, drill);
      if (every) entry["within"] = FormatDuration(*every);
      auto last = std::find_if(latest.begin(), latest.end(),
                               [&](const compliance::DrillFact& f) { return f.drill == drill; });
      if (last != latest.end()) {
        entry["last"] = FormatTimestamp(last->at);
        entry["summary"] = last->summary;
        if (every) entry["next_due"] = FormatTimestamp(last->at + every->count());
      }
      // Overdue: a control asks for it and no signed-off pass is recent enough.
      entry["overdue"] =
          every.has_value() && (last == latest.end() || now > last->at + every->count());
      calendar.push_back(std::move(entry));
    }
    json items = json::array();
    for (const app::DrillStatus& s : *records) items.push_back(DrillAnswer(s));
    return json{{"calendar", std::move(calendar)}, {"records", std::move(items)}};
  });
}

}  // namespace interlock::server
