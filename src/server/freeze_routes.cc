// GET /v1/freeze-windows: the governance's freeze windows and where each is
// in force, now or at a given time.
#include "safety/freeze.h"
#include "server/service_impl.h"

namespace interlock::server {

nlohmann::ordered_json Service::Impl::FreezeWindowsJson(const Governance& g, UnixMillis at) const {
  using Json = nlohmann::ordered_json;
  app::Freezes::Snapshot events = state->freezes().Now();
  std::vector<safety::InForce> in_force = safety::WindowsInForce(g, events.events(), at);
  static constexpr std::string_view kKinds[] = {"weekly", "cron", "after_model_update",
                                                "after_rollback"};
  Json windows = Json::array();
  for (size_t i = 0; i < g.freeze_windows.size(); ++i) {
    const governance::FreezeWindow& w = g.freeze_windows[i];
    Json environments = Json::array(), change_types = Json::array();
    for (Environment e : w.environments) environments.push_back(Name(e));
    for (ChangeType t : w.change_types) change_types.push_back(Name(t));
    Json now = Json::array();
    for (const safety::InForce& f : in_force) {
      if (f.window != i) continue;
      Json item = {{"since", FormatTimestamp(f.since)},
                   {"until", f.until ? Json(FormatTimestamp(*f.until)) : Json()},
                   {"reason", safety::Describe(g, f)}};
      if (!f.service.empty()) item["service"] = f.service;
      if (f.environment) item["environment"] = Name(*f.environment);
      if (!f.ref.empty()) item["ref"] = f.ref;
      now.push_back(std::move(item));
    }
    windows.push_back(
        {{"name", w.name},
         {"kind", kKinds[static_cast<size_t>(w.kind)]},
         {"schedule", safety::ScheduleText(w)},
         {"reason", w.reason},
         {"environments", std::move(environments)},
         {"services", w.services},
         {"change_types", std::move(change_types)},
         {"break_glass", w.break_glass ? Json(g.workflows[*w.break_glass].id) : Json()},
         {"in_force", std::move(now)}});
  }
  return {{"at", FormatTimestamp(at)}, {"windows", std::move(windows)}};
}

void Service::Impl::GetFreezeWindows(Call& c) {
  UnixMillis at = options.clock->Now();
  if (auto given = c.request.Query("at")) {
    auto parsed = ParseTimestamp(*given);
    if (!parsed) {
      c.respond(ErrorResponse(400, "invalid_request", "at: " + parsed.error().message()));
      return;
    }
    at = *parsed;
  }
  c.respond(RawJsonResponse(200, FreezeWindowsJson(*c.g, at).dump()));
}

}  // namespace interlock::server
