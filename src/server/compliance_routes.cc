// GET /v1/compliance: the control catalogue evaluated against this server's
// audit log, state and transport; POST /v1/evidence: attested evidence.
#include <fmt/format.h>

#include <algorithm>

#include "app/compliance_facts.h"
#include "app/evidence.h"
#include "compliance/evaluate.h"
#include "compliance/render.h"
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

}  // namespace interlock::server
