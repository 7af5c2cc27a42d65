// The dashboard's views: the JSON renderings of approvals and stops, an
// approval as one principal sees it, GET /v1/me and GET /v1/stats, and the
// hourly decision counts behind the charts.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "app/audit_access.h"
#include "audit/json.h"
#include "server/service_impl.h"

namespace interlock::server {
namespace {

// Whom `actor` may hand `a` to now: every principal a delegation to would
// be accepted for. Empty if `actor` may not delegate.
std::vector<std::string> DelegateCandidates(const Governance& g, const workflow::ApprovalRequest& a,
                                            const Principal& actor, UnixMillis now, bool stopped) {
  std::vector<std::string> out;
  for (const Principal& to : g.principals) {
    if (workflow::Act(g, a, actor, workflow::Action::kDelegate, "dry run", to.id, now, stopped)) {
      out.push_back(to.id);
    }
  }
  return out;
}

// The actions `actor` may take on `a` now, tried against the workflow rules
// without committing anything, so the dashboard shows only those.
std::vector<std::string> ActionsFor(const Governance& g, const workflow::ApprovalRequest& a,
                                    const Principal& actor, UnixMillis now, bool stopped) {
  std::vector<std::string> out;
  for (workflow::Action act :
       {workflow::Action::kApprove, workflow::Action::kReject, workflow::Action::kRequestChanges,
        workflow::Action::kEscalate, workflow::Action::kResubmit}) {
    // A repeated approval is accepted but changes nothing: not offered.
    bool approved =
        std::any_of(a.approvals.begin(), a.approvals.end(),
                    [&](const workflow::Approval& x) { return x.principal == actor.id; });
    if (act == workflow::Action::kApprove && approved) continue;
    if (workflow::Act(g, a, actor, act, "dry run", std::nullopt, now, stopped)) {
      out.emplace_back(Name(act));
    }
  }
  if (!DelegateCandidates(g, a, actor, now, stopped).empty()) {
    out.emplace_back(Name(workflow::Action::kDelegate));
  }
  return out;
}

}  // namespace

// An approval as the API shows it: its stored form plus what is still missing.
json ApprovalJson(const workflow::ApprovalRequest& a) {
  json out = workflow::ToJson(a);
  out["missing_roles"] = workflow::MissingRoles(a);
  out["approvals_needed"] =
      std::max(0, a.required_approvals - static_cast<int>(a.approvals.size()));
  return out;
}

json StopJson(const Governance& g, const safety::StopState& s) {
  json out = {{"active", s.active}, {"ai_agents_disabled", s.ai_disabled}};
  if (s.active || !s.incident.empty()) {
    out["reason"] = s.reason;
    out["activated_by"] = s.activated_by;
    out["activated_at"] = FormatTimestamp(s.activated_at);
    out["incident"] = s.incident;
  }
  if (s.active) {
    json signatures = json::array();
    for (const safety::Signature& sig : s.signatures) {
      signatures.push_back(
          {{"principal", sig.principal}, {"role", sig.role}, {"at", FormatTimestamp(sig.at)}});
    }
    out["pending_deactivation"] = {{"signatures", signatures},
                                   {"pending_roles", safety::PendingRoles(g, s)}};
  }
  if (s.deactivated_at) out["deactivated_at"] = FormatTimestamp(*s.deactivated_at);
  return out;
}

json Service::Impl::ApprovalView(const Governance& g, const app::StopMap& stops_now,
                                 const workflow::ApprovalRequest& a, const Principal& actor,
                                 bool candidates) {
  json out = ApprovalJson(a);
  UnixMillis now = options.clock->Now();
  bool stopped =
      app::Covering(stops_now, a.change.environment, a.change.service, a.requester) != nullptr;
  out["your_actions"] = ActionsFor(g, a, actor, now, stopped);
  if (candidates) out["delegate_candidates"] = DelegateCandidates(g, a, actor, now, stopped);
  return out;
}

void Service::Impl::GetMe(Call& c) {
  const Governance& g = *c.g;
  const Principal& p = *c.actor;
  std::vector<std::string> roles;
  for (size_t i = 0; i < g.roles.size(); ++i) {
    if (p.roles.test(i)) roles.push_back(g.roles[i].id);
  }
  // What the dashboard may offer: the stop's own rules, tried without
  // committing anything.
  UnixMillis now = options.clock->Now();
  safety::StopState current = Stop();
  const governance::EmergencyStopPolicy& policy = g.emergency_stop;
  bool human = p.type == ActorType::kHuman;
  std::map<std::string, std::string> fields;
  for (const std::string& f : policy.deactivate_requires) fields[f] = "dry run";
  bool deactivate = current.active ? safety::Deactivate(g, current, p, fields, now).has_value()
                                   : human && (p.roles & policy.deactivate_roles).any();
  // canary.yml rollout_overrides: a human holding one of an action's roles
  // (rollout::Override and Rollouts::Review decide the same way).
  const governance::RolloutOverrides& o = g.rollout_overrides;
  auto steer = [&](const governance::RoleSet& allowed) {
    return human && (p.roles & allowed).any();
  };
  std::string read_audit = "none";
  if (auto reader = app::ReaderFor(g, p.id)) {
    read_audit = reader->needs_grant                        ? "grant"
                 : reader->scope == audit::ReadScope::kAll  ? "all"
                 : reader->scope == audit::ReadScope::kTeam ? "team"
                 : reader->scope == audit::ReadScope::kOwn  ? "own"
                                                            : "none";
  }
  c.respond(JsonResponse(
      200, {{"id", p.id},
            {"name", p.name},
            {"type", Name(p.type)},
            {"roles", roles},
            {"team", p.team},
            {"governance_version", g.version},
            {"may",
             {{"activate_emergency_stop",
               safety::Activate(g, safety::StopState{}, p, "dry run", now).has_value()},
              {"deactivate_emergency_stop", deactivate},
              {"reenable_ai_agents",
               human && policy.ai_reenable_role && p.roles.test(*policy.ai_reenable_role)},
              {"reload_governance", (p.roles & g.reload_roles).any()},
              {"read_audit", read_audit},
              {"rollout_overrides",
               {{"promote", steer(o.promote)},
                {"abort", steer(o.abort)},
                {"pause", steer(o.pause)},
                {"resume", steer(o.resume)},
                {"skip_step", steer(o.skip_step)},
                {"review", steer(o.review)}}}}}}));
}

void Service::Impl::GetStats(Call& c) {
  auto stats = Stats(c.request);
  c.respond(stats ? JsonResponse(200, *stats) : ErrorResponse(stats.error()));
}

Result<json> Service::Impl::Stats(const HttpRequest& r) {
  auto hours = IndexParam(r, "hours", false);
  if (!hours) return std::unexpected(hours.error());
  uint64_t n = hours->value_or(24);
  if (n < 1 || n > app::DecisionStats::kHours) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "query parameter hours: expected 1 to {}, got {}", app::DecisionStats::kHours, n)));
  }
  UnixMillis now = options.clock->Now();
  constexpr UnixMillis kHourMs = app::DecisionStats::kHourMs;
  json per_hour = json::array();
  int64_t hour = now / kHourMs - static_cast<int64_t>(n);
  for (const app::DecisionStats::Counts& c : stats->Last(now, static_cast<int64_t>(n))) {
    per_hour.push_back(
        {{"hour", FormatTimestamp(++hour * kHourMs)},
         {"allow", c[static_cast<size_t>(DecisionKind::kAllow)]},
         {"require_approval", c[static_cast<size_t>(DecisionKind::kRequireApproval)]},
         {"deny", c[static_cast<size_t>(DecisionKind::kDeny)]}});
  }
  // Approvals that ended inside the window, by when they ended.
  std::vector<double> seconds;
  json list = json::array();
  for (const app::FinishedApproval& a :
       approvals->FinishedSince(now - static_cast<int64_t>(n) * kHourMs)) {
    double s = static_cast<double>(std::max<UnixMillis>(0, a.finished_at - a.opened_at)) / 1000;
    seconds.push_back(s);
    list.push_back({{"id", a.id},
                    {"state", Name(a.state)},
                    {"opened_at", FormatTimestamp(a.opened_at)},
                    {"finished_at", FormatTimestamp(a.finished_at)},
                    {"seconds", s}});
  }
  std::sort(seconds.begin(), seconds.end());
  // Nearest rank.
  auto percentile = [&](double p) -> json {
    if (seconds.empty()) return nullptr;
    size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(seconds.size())));
    return seconds[std::clamp<size_t>(rank, 1, seconds.size()) - 1];
  };
  return json{
      {"now", FormatTimestamp(now)},
      {"decisions_per_hour", per_hour},
      {"approval_latency",
       {{"finished", list}, {"p50_seconds", percentile(0.5)}, {"p90_seconds", percentile(0.9)}}}};
}

}  // namespace interlock::server
