// The routes table and Service::Handle, which answers every request through
// it; and the routes that belong to no other job (health, the dashboard's
// files, governance reload).
#include <fmt/format.h>

#include <algorithm>

#include "server/service_impl.h"
#include "server/web.h"

namespace interlock::server {
namespace {

// Who may call a route, checked before its method.
enum class Access {
  kOpen,   // anyone: no token
  kToken,  // a bearer token (then the AI agents' lock)
  // Slack's signature, checked by the handler; the route is not there
  // while no signing secret is configured.
  kSlack,
  // A token in the body (metadata.token), checked by the handler: Flagger
  // sends no headers of its own.
  kBodyToken,
};

struct Route {
  std::string_view method;
  // Literal segments and parameters: "{name}" is one segment, non-empty;
  // "{name...}" at the end is the rest of the path, possibly empty.
  std::string_view pattern;
  Access access;
  void (Service::Impl::*handle)(Call&);
};

using Impl = Service::Impl;

// Every route of `interlock serve`, each pattern's methods together and in
// the order an Allow header lists them. docs/api/openapi.yaml documents
// each one (tests/routes_test.cc checks it).
constexpr Route kRoutes[] = {
    {"GET", "/", Access::kOpen, &Impl::GetDashboardFile},
    {"GET", "/assets/{path...}", Access::kOpen, &Impl::GetDashboardFile},
    {"GET", "/healthz", Access::kOpen, &Impl::GetHealth},
    {"GET", "/metrics", Access::kToken, &Impl::GetMetrics},
    {"GET", "/v1/stats", Access::kToken, &Impl::GetStats},
    {"POST", "/v1/decisions", Access::kToken, &Impl::PostDecision},
    {"POST", "/v1/decisions/simulate", Access::kToken, &Impl::PostSimulation},
    {"GET", "/v1/approvals", Access::kToken, &Impl::GetApprovals},
    {"GET", "/v1/approvals/{id}", Access::kToken, &Impl::GetApprovals},
    {"POST", "/v1/approvals/{id}/{action}", Access::kToken, &Impl::PostApprovalAction},
    {"POST", "/v1/rollouts", Access::kToken, &Impl::PostRollout},
    {"GET", "/v1/rollouts", Access::kToken, &Impl::GetRollouts},
    {"GET", "/v1/rollouts/{id}", Access::kToken, &Impl::GetRollouts},
    {"POST", "/v1/rollouts/{id}/{action}", Access::kToken, &Impl::PostRolloutAction},
    {"GET", "/v1/incidents", Access::kToken, &Impl::GetIncidents},
    {"GET", "/v1/freeze-windows", Access::kToken, &Impl::GetFreezeWindows},
    {"GET", "/v1/compliance", Access::kToken, &Impl::GetCompliance},
    {"POST", "/v1/evidence", Access::kToken, &Impl::PostEvidence},
    {"POST", "/v1/waivers", Access::kToken, &Impl::PostWaiver},
    {"GET", "/v1/waivers", Access::kToken, &Impl::GetWaivers},
    {"POST", "/v1/drills", Access::kToken, &Impl::PostDrill},
    {"GET", "/v1/drills", Access::kToken, &Impl::GetDrills},
    {"GET", "/v1/integrations/argo-rollouts/analysis", Access::kToken, &Impl::ArgoAnalysis},
    {"POST", "/v1/integrations/argo-rollouts/analysis", Access::kToken, &Impl::ArgoAnalysis},
    {"POST", "/v1/integrations/flagger/{hook}", Access::kBodyToken, &Impl::FlaggerHook},
    {"POST", "/v1/integrations/kubernetes/admission", Access::kToken, &Impl::KubernetesAdmission},
    {"POST", "/v1/incidents/{id}/review", Access::kToken, &Impl::PostIncidentReview},
    {"GET", "/api/emergency-stop", Access::kToken, &Impl::GetStop},
    {"POST", "/api/emergency-stop", Access::kToken, &Impl::PostStop},
    {"GET", "/v1/me", Access::kToken, &Impl::GetMe},
    {"POST", "/v1/governance/reload", Access::kToken, &Impl::PostReload},
    {"POST", "/slack/commands", Access::kSlack, &Impl::PostSlackCommand},
    {"GET", "/v1/audit/checkpoint", Access::kToken, &Impl::GetCheckpoint},
    {"GET", "/v1/audit/proof", Access::kToken, &Impl::GetProof},
    {"GET", "/v1/audit/consistency", Access::kToken, &Impl::GetConsistency},
    {"GET", "/v1/audit/entries", Access::kToken, &Impl::GetEntries},
};

// Whether `path` matches `pattern`; if so, `params` holds its parameters.
bool Match(std::string_view pattern, std::string_view path, Call::Params& params) {
  params.clear();
  while (!pattern.empty()) {
    size_t open = std::min(pattern.find('{'), pattern.size());
    if (path.substr(0, open) != pattern.substr(0, open)) return false;
    path.remove_prefix(open);
    pattern.remove_prefix(open);
    if (pattern.empty()) break;
    size_t close = pattern.find('}');
    std::string_view name = pattern.substr(1, close - 1);
    pattern.remove_prefix(close + 1);
    std::string_view value = path;
    if (name.ends_with("...")) {
      name.remove_suffix(3);
    } else {
      value = path.substr(0, path.find('/'));
      if (value.empty()) return false;
    }
    path.remove_prefix(value.size());
    params.emplace_back(name, std::string(value));
  }
  return path.empty();
}

}  // namespace

const std::string& Call::Param(std::string_view name) const {
  static const std::string kNone;
  for (const auto& [n, value] : params) {
    if (n == name) return value;
  }
  return kNone;
}

std::vector<RouteInfo> Routes() {
  std::vector<RouteInfo> out;
  for (const Route& r : kRoutes) {
    std::string pattern(r.pattern);
    if (size_t rest = pattern.find("...}"); rest != std::string::npos) pattern.erase(rest, 3);
    static constexpr std::string_view kHow[] = {"", "bearer token", "Slack request signature",
                                                "token in the body (metadata.token)"};
    out.push_back({std::string(r.method), std::move(pattern), r.access == Access::kToken,
                   std::string(kHow[static_cast<size_t>(r.access)])});
  }
  return out;
}

void Service::Handle(HttpRequest request, Respond respond) {
  Impl& s = *impl_;
  Call c{std::move(request), std::move(respond), s.governance.load()};
  // The routes of the first pattern the path matches.
  std::vector<const Route*> routes;
  for (const Route& r : kRoutes) {
    if (routes.empty() ? Match(r.pattern, c.request.path, c.params)
                       : r.pattern == routes.front()->pattern) {
      routes.push_back(&r);
    }
  }
  if (routes.empty()) {
    c.respond(ErrorResponse(404, "not_found", fmt::format("no route {}", c.request.path)));
    return;
  }
  switch (routes.front()->access) {
    case Access::kOpen:
    case Access::kBodyToken:
      break;
    case Access::kToken: {
      auto actor = s.Authenticate(c.request, *c.g);
      if (!actor) {
        c.respond(std::move(actor.error()));
        return;
      }
      c.actor = *actor;
      if (c.actor->type == ActorType::kAiAgent) {
        if (auto refusal = s.AiRefusal(c.actor->id, std::nullopt, std::nullopt)) {
          c.respond(ErrorResponse(423, "locked", *refusal));
          return;
        }
      }
      break;
    }
    case Access::kSlack:
      if (!s.SlackOn()) {
        c.respond(Impl::SlackOff());
        return;
      }
      break;
  }
  // HEAD goes wherever GET does.
  std::string_view method = c.request.method;
  if (method == "HEAD") method = "GET";
  std::vector<std::string_view> allowed;
  for (const Route* r : routes) {
    if (r->method == method) {
      (s.*(r->handle))(c);
      return;
    }
    allowed.push_back(r->method);
  }
  c.respond(MethodNotAllowed(c.request.path, c.request.method, allowed));
}

void Service::Impl::GetHealth(Call& c) {
  json health = {
      {"status", "ok"}, {"audit_size", log->size()}, {"governance_version", c.g->version}};
  if (options.insecure_transport) {
    health["warnings"] = {
        "plain HTTP on a non-loopback address: tokens and decisions "
        "cross the network unencrypted"};
    health["insecure_transport"] = true;
  }
  c.respond(JsonResponse(200, health));
}

void Service::Impl::GetDashboardFile(Call& c) {
  auto file = WebResponse(c.request);
  c.respond(
      file ? std::move(*file)
           : ErrorResponse(404, "not_found", fmt::format("no dashboard file {}", c.request.path)));
}

void Service::Impl::PostReload(Call& c) {
  const Principal& p = *c.actor;
  const Governance& g = *c.g;
  if ((p.roles & g.reload_roles).none()) {
    c.respond(ErrorResponse(
        403, "forbidden",
        fmt::format("{} holds none of the roles that may reload the governance ({})", p.id,
                    g.reload_roles.none() ? std::string("reload_roles in interlock.yaml names none")
                                          : g.RoleNames(g.reload_roles))));
    return;
  }
  Post(*state_lane, p.id, c.respond, [this, respond = c.respond, id = p.id]() mutable {
    auto version = Reload(id);
    if (version) {
      respond(JsonResponse(200, {{"governance_version", *version}}));
    } else if (HttpErrorOf(version.error().kind()).status == 400) {
      // Well-formed, but the directory or the settings it names are not.
      respond(ErrorResponse(422, "invalid_governance", version.error().message()));
    } else {
      respond(NotRecorded("the reload was not made", version.error()));
    }
  });
}

}  // namespace interlock::server
