#include "governance/integrations.h"

#include <fmt/format.h>

#include <set>

#include "core/text.h"

namespace interlock::governance {
namespace {

// A pattern: a name of letters, digits and `-._:`, or such a prefix and '*'.
bool CheckPattern(Reader& r, const yaml::Node& node, const std::string& pattern) {
  std::string_view body = pattern;
  if (body.ends_with('*')) body.remove_suffix(1);
  bool ok = !pattern.empty() && pattern.size() <= 253;
  for (char c : body) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == ':');
  }
  if (!ok) {
    r.Error(node.mark(), fmt::format("\"{}\" is not a name, or a prefix ending in '*'", pattern));
  }
  return ok;
}

}  // namespace

void ReadKubernetes(Reader& r, const yaml::Node& root, Governance* g) {
  if (!r.Mapping(root, {"version", "namespaces", "service_labels", "ai_agents"},
                 "kubernetes.yml")) {
    return;
  }
  r.Version(root, false);
  KubernetesPolicy& k = g->kubernetes;
  std::set<std::string> seen;
  for (const yaml::Node& item : r.List(root, "namespaces", "a namespace", true)) {
    if (!r.Mapping(item, {"namespace", "environment", "service"}, "a namespace")) continue;
    const yaml::Node* name = r.Required(item, "namespace", "a namespace");
    auto pattern = r.String(name);
    auto environment = r.Enum<Environment>(r.Required(item, "environment", "a namespace"));
    if (!pattern || !environment || !CheckPattern(r, *name, *pattern)) continue;
    if (!seen.insert(*pattern).second) {
      r.Error(name->mark(), fmt::format("namespace \"{}\" is mapped twice", *pattern));
      continue;
    }
    KubernetesNamespace n{*pattern, *environment, ""};
    if (const yaml::Node* service = item.Find("service")) {
      auto text = r.String(service);
      if (!text) continue;
      auto canonical = CanonicalService(*text);
      if (!canonical) {
        r.Error(service->mark(), canonical.error().message());
        continue;
      }
      n.service = *canonical;
    }
    k.namespaces.push_back(std::move(n));
  }
  if (const yaml::Node* labels = root.Find("service_labels")) {
    if (auto list = r.StringList(labels)) {
      if (list->empty()) {
        r.Error(labels->mark(), "name at least one label, or leave service_labels out");
      } else {
        k.service_labels = std::move(*list);
      }
    }
  }
  for (const yaml::Node& item : r.List(root, "ai_agents", "an AI agent", false)) {
    if (!r.Mapping(item, {"username", "principal"}, "an AI agent")) continue;
    const yaml::Node* user = r.Required(item, "username", "an AI agent");
    const yaml::Node* principal = r.Required(item, "principal", "an AI agent");
    auto username = r.String(user);
    auto id = r.String(principal);
    if (!username || !id || !CheckPattern(r, *user, *username)) continue;
    // Without principals, principals.yaml did not load, and said why.
    if (g->principals.empty()) continue;
    const Principal* p = g->FindPrincipal(*id);
    if (p == nullptr) {
      std::vector<std::string_view> names;
      for (const Principal& q : g->principals) names.push_back(q.id);
      r.UnknownName(*principal, *id, names, "principal");
      continue;
    }
    if (p->type != ActorType::kAiAgent) {
      r.Error(principal->mark(),
              fmt::format("{} is a {} in principals.yaml, not an ai_agent", *id, Name(p->type)));
      continue;
    }
    k.ai_agents.push_back({*username, *id});
  }
}

}  // namespace interlock::governance
