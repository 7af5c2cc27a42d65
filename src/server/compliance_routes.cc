// GET /v1/compliance: the control catalogue evaluated against this server's
// audit log, state and transport; POST /v1/evidence: attested evidence;
// POST and GET /v1/waivers: waivers of controls and where they stand.
#include <fmt/format.h>

#include <algorithm>

#include "app/compliance_facts.h"
#include "app/evidence.h"
#include "app/waivers.h"
#include "compliance/evaluate.h"
#include "compliance/render.h"
#include "compliance/waiver.h"
#include "core/json.h"
#include "server/service_impl.h"

namespace interlock::server {

void Service::Impl::GetCompliance(Call& c) {
  const Governance& g = *c.g;
  std::string framework(c.request.Query("framework").value_or(""));
  if (!framework.empty()) {
    std::vector<std::string> ids;
    for (const auto& f : g.compliance.frameworks) ids.push_back(f.id);
    if (std::find(ids.begin(), ids.end(), framework) == ids.end()) {
      c.respond(ErrorResponse(
          400, "invalid_request",
          fmt::format(
              "framework: no framework {} in compliance/frameworks.yml (expected one of {})",
              framework, fmt::join(ids, ", "))));
      return;
    }
  }
  // Verifying the log reads all of it: on the audit lane, never the
  // decisions' or the stop's.
  ReadAudit(c, [this, framework](const Call& call) -> Result<json> {
    return EvaluateControls(*call.g, framework);
  });
}

Result<json> Service::Impl::EvaluateControls(const Governance& g, const std::string& framework) {
  auto facts =
      app::GatherComplianceFacts(*log, *options.fs, options.governance_dir, options.clock->Now());
  if (!facts) return std::unexpected(facts.error());
  std::vector<compliance::RouteFact> routes;
  for (const RouteInfo& r : Routes()) routes.push_back({r.method, r.pattern, r.authentication});
  facts->routes = std::move(routes);
  facts->server_tls = options.tls;
  const compliance::Report report = compliance::Evaluate(g, *facts, framework);
  if (framework.empty()) {
    control_status.store(
        std::make_shared<const app::ControlStatus>(app::ControlStatus::Of(report)));
  }
  auto checkpoint = log->LatestCheckpoint();
  return json::parse(compliance::ReportJson(report, checkpoint.value_or("")).dump());
}

void Service::Impl::PostEvidence(Call& c) {
  static constexpr std::string_view kFields[] = {"control", "text", "digests", "expires"};
  auto body = ::interlock::json::ReadObject(c.request.body, kFields);
  if (!body) {
    c.respond(ErrorResponse(body.error()));
    return;
  }
  const ::interlock::json::ObjectReader& f = body->fields;
  app::AttestRequest request;
  auto control = f.String("control");
  auto text = f.String("text");
  auto digests = f.OptionalStringArray("digests");
  auto expires = f.OptionalString("expires");
  for (const Error* e :
       {control ? nullptr : &control.error(), text ? nullptr : &text.error(),
        digests ? nullptr : &digests.error(), expires ? nullptr : &expires.error()}) {
    if (e != nullptr) {
      c.respond(ErrorResponse(*e));
      return;
    }
  }
  request.control = std::string(*control);
  request.text = std::string(*text);
  if (*digests) request.digests = std::move(**digests);
  if (*expires) {
    auto t = ParseTimestamp(**expires);
    if (!t) {
      c.respond(ErrorResponse(400, "invalid_request", "expires: " + t.error().message()));
      return;
    }
    request.expires = *t;
  }
  auto task = [this, g = c.g, actor = *c.actor, request = std::move(request),
               respond = c.respond]() {
    auto attested = app::Attest(*log, *g, actor, request, options.clock->Now());
    if (!attested) {
      respond(ErrorResponse(attested.error()));
      return;
    }
    json out = app::AttestationJson(attested->attestation);
    out.erase("format");
    out["audit_index"] = attested->audit_index;
    respond(JsonResponse(201, out));
  };
  Post(*state_lane, c.actor->id, c.respond, std::move(task));
}

namespace {

// A waiver as the API shows it: the stored form, where its approval stands
// and whether it is in force at `now`.
json WaiverAnswer(const app::WaiverStatus& s, UnixMillis now) {
  json out = json::parse(app::WaiverJson(s.waiver).dump());
  out.erase("format");
  const compliance::WaiverFact f = app::WaiverFactOf(s);
  out["approval_state"] = f.approval_state;
  out["approved_by"] = f.approved_by;
  const bool approved = f.approval_state == "approved";
  out["state"] = !approved                      ? f.approval_state
                 : now < s.waiver.asked.expires ? "in_force"
                                                : "expired";
  if (s.waiver.audit_index != 0) out["audit_index"] = s.waiver.audit_index;
  return out;
}

}  // namespace

void Service::Impl::PostWaiver(Call& c) {
  auto asked = compliance::ParseWaiverRequest(*c.g, c.request.body, options.clock->Now());
  if (!asked) {
    c.respond(ErrorResponse(asked.error()));
    return;
  }
  auto task = [this, g = c.g, actor = *c.actor, asked = std::move(*asked), respond = c.respond]() {
    const UnixMillis now = options.clock->Now();
    auto requested = app::RequestWaiver(*state, *g, actor, asked, now);
    if (!requested) {
      respond(ErrorResponse(requested.error()));
      return;
    }
    respond(JsonResponse(201, WaiverAnswer(*requested, now)));
  };
  Post(*state_lane, c.actor->id, c.respond, std::move(task));
}

void Service::Impl::GetWaivers(Call& c) {
  ReadAudit(c, [this](const Call&) -> Result<json> {
    auto waivers = app::LoadWaivers(*log);
    if (!waivers) return std::unexpected(waivers.error());
    const UnixMillis now = options.clock->Now();
    json items = json::array();
    for (const app::WaiverStatus& w : *waivers) items.push_back(WaiverAnswer(w, now));
    return json{{"waivers", std::move(items)}};
  });
}

}  // namespace interlock::server
