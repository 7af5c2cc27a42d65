#include "governance/model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

namespace interlock::governance {

std::optional<size_t> Governance::FindRole(std::string_view id) const {
  for (size_t index = 0; index < roles.size(); ++index) {
    if (roles[index].id == id) return index;
  }
  return std::nullopt;
}

std::optional<size_t> Governance::FindWorkflow(std::string_view id) const {
  for (size_t index = 0; index < workflows.size(); ++index) {
    if (workflows[index].id == id) return index;
  }
  return std::nullopt;
}

const CanaryStrategy* Governance::FindCanary(std::string_view id) const {
  for (const CanaryStrategy& c : canaries) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

const MetricQuery* Governance::FindMetricQuery(std::string_view name) const {
  for (const MetricQuery& m : metric_queries) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const Principal* Governance::FindPrincipal(std::string_view id) const {
  for (const Principal& p : principals) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

std::vector<std::string> Governance::RoleIds(const RoleSet& set) const {
  std::vector<std::string> out;
  for (size_t index = 0; index < roles.size(); ++index) {
    if (set[index]) out.push_back(roles[index].id);
  }
  return out;
}

std::string Governance::RoleNames(const RoleSet& set) const {
  return fmt::format("{}", fmt::join(RoleIds(set), ", "));
}

std::string Principal::Person() const {
  if (email.empty()) return id;
  std::string out = email;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool MatchesPattern(std::string_view pattern, std::string_view name) {
  if (pattern.ends_with('*')) return name.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == name;
}

const KubernetesNamespace* KubernetesPolicy::FindNamespace(std::string_view ns) const {
  for (const KubernetesNamespace& n : namespaces) {
    if (MatchesPattern(n.pattern, ns)) return &n;
  }
  return nullptr;
}

const KubernetesAgent* KubernetesPolicy::FindAgent(std::string_view username) const {
  for (const KubernetesAgent& a : ai_agents) {
    if (MatchesPattern(a.username, username)) return &a;
  }
  return nullptr;
}

bool Control::MapsTo(std::string_view framework) const {
  return std::any_of(maps.begin(), maps.end(), [&](const std::string& m) {
    return m.size() > framework.size() && m.starts_with(framework) && m[framework.size()] == ':';
  });
}

const Control* CompliancePolicy::FindControl(std::string_view id) const {
  for (const Control& c : controls) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

}  // namespace interlock::governance
