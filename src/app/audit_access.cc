#include "app/audit_access.h"

#include <fmt/format.h>

namespace interlock::app {

using governance::AuditAccess;
using governance::AuditPolicy;
using governance::Governance;
using governance::Principal;

audit::RetentionPeriods RetentionOf(const Governance& g) {
  const AuditPolicy& a = g.audit;
  auto env = [&](Environment e) {
    return a.retention_by_environment[static_cast<size_t>(e)].count();
  };
  return {env(Environment::kProduction), env(Environment::kStaging), env(Environment::kDev),
          a.retention_security_incident.count(), a.retention_ai_agent_decision.count()};
}

Result<audit::Reader> ReaderFor(const Governance& g, const std::string& id) {
  if (id.empty()) {
    return std::unexpected(
        Error::InvalidArgument("a principal is required: reads of the audit log are logged"));
  }
  const Principal* p = nullptr;
  for (const Principal& candidate : g.principals) {
    if (candidate.id == id) p = &candidate;
  }
  if (!p) {
    return std::unexpected(Error::NotFound(fmt::format("no principal {} in principals.yaml", id)));
  }
  audit::Reader r;
  r.id = id;
  r.type = Name(p->type);
  bool all_without_grant = false, all_with_grant = false;
  for (const AuditAccess& a : g.audit.access) {
    if (!p->roles.test(a.role)) continue;
    audit::ReadScope scope = a.scope == governance::ReadScope::kAll    ? audit::ReadScope::kAll
                             : a.scope == governance::ReadScope::kTeam ? audit::ReadScope::kTeam
                                                                       : audit::ReadScope::kOwn;
    if (scope == audit::ReadScope::kAll) {
      (a.grant_duration.count() > 0 ? all_with_grant : all_without_grant) = true;
    }
    if (scope > r.scope) r.scope = scope;
  }
  r.needs_grant = r.scope == audit::ReadScope::kAll && !all_without_grant && all_with_grant;
  for (const Principal& q : g.principals) {
    if (q.id == id || (!p->team.empty() && q.team == p->team)) r.team.push_back(q.id);
  }
  return r;
}

}  // namespace interlock::app
