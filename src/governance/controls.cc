#include "governance/controls.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace interlock::governance {
namespace {

constexpr std::string_view kWhat = "a control";

void ReadChecklists(Reader& r, const yaml::Node& root, Governance* g,
                    std::map<std::string, yaml::Mark>* item_ids) {
  std::map<std::string, yaml::Mark> seen;
  for (const yaml::Node& node : r.List(root, "checklists", "a checklist", false)) {
    if (!r.Mapping(node, {"id", "name", "items"}, "a checklist")) continue;
    auto id = r.String(r.Required(node, "id", "a checklist"));
    if (!id || !Unique(r, &seen, *id, node.mark(), "checklist")) continue;
    Checklist list{*id, r.String(node.Find("name")).value_or(*id), {}};
    for (const yaml::Node& item : r.List(node, "items", "a checklist item", true)) {
      if (!r.Mapping(item, {"id", "requirement"}, "a checklist item")) continue;
      auto item_id = r.String(r.Required(item, "id", "a checklist item"));
      auto requirement = r.String(r.Required(item, "requirement", "a checklist item"));
      if (!item_id || !requirement || !Unique(r, item_ids, *item_id, item.mark(), "checklist item"))
        continue;
      list.items.push_back({*item_id, *requirement});
    }
    g->compliance.checklists.push_back(std::move(list));
  }
}

// The `maps` entries of a control: "FRAMEWORK:reference", the framework one
// of frameworks.yml.
std::optional<std::vector<std::string>> ReadMaps(Reader& r, const yaml::Node* node,
                                                 const CompliancePolicy& p) {
  auto maps = r.StringList(node);
  if (!maps) return std::nullopt;
  std::vector<std::string_view> frameworks;
  for (const ComplianceFramework& f : p.frameworks) frameworks.push_back(f.id);
  bool ok = true;
  for (size_t i = 0; i < maps->size(); ++i) {
    const std::string& entry = (*maps)[i];
    const size_t colon = entry.find(':');
    const yaml::Node& at = node->items()[i];
    if (colon == std::string::npos || colon == 0 || colon + 1 == entry.size()) {
      r.Error(at.mark(), fmt::format("\"{}\" is not FRAMEWORK:requirement "
                                     "(for example HIPAA:164.312(b))",
                                     entry));
      ok = false;
    } else if (std::find(frameworks.begin(), frameworks.end(),
                         std::string_view(entry).substr(0, colon)) == frameworks.end()) {
      r.UnknownName(at, entry.substr(0, colon), frameworks, "framework (of frameworks.yml)");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return maps;
}

std::optional<Control> ReadControl(Reader& r, const yaml::Node& node, const Governance& g,
                                   const std::map<std::string, yaml::Mark>& item_ids) {
  if (!r.Mapping(node,
                 {"id", "description", "check", "within", "drill", "terminator", "attested_by",
                  "maps", "covers"},
                 kWhat)) {
    return std::nullopt;
  }
  Control c;
  c.origin = r.OriginOf(node);
  auto id = r.String(r.Required(node, "id", kWhat));
  auto description = r.String(r.Required(node, "description", kWhat));
  const yaml::Node* check_node = r.Required(node, "check", kWhat);
  auto check = r.OneOf(check_node, {kControlCheckNames.begin(), kControlCheckNames.end()}, "check");
  const CompliancePolicy& p = g.compliance;
  auto maps = ReadMaps(r, r.Required(node, "maps", kWhat), p);
  const yaml::Node* covers_node = node.Find("covers");
  auto covers = r.StringList(covers_node);
  if (!id || !description || !check || !maps || (covers_node != nullptr && !covers)) {
    return std::nullopt;
  }
  c.id = *id;
  c.description = *description;
  c.check = static_cast<ControlCheck>(*check);
  c.maps = std::move(*maps);
  if (covers) c.covers = std::move(*covers);
  bool ok = true;
  for (size_t i = 0; i < c.covers.size(); ++i) {
    if (item_ids.contains(c.covers[i])) continue;
    std::vector<std::string_view> names;
    for (const auto& [item, mark] : item_ids) names.push_back(item);
    r.UnknownName(covers_node->items()[i], c.covers[i], names,
                  "checklist item (a control of frameworks.yml or an item of checklists)");
    ok = false;
  }

  const yaml::Node* within = node.Find("within");
  const yaml::Node* drill = node.Find("drill");
  const yaml::Node* terminator = node.Find("terminator");
  if (within != nullptr) {
    auto value = r.Duration(within);
    if (!value) return std::nullopt;
    if (value->count() <= 0) {
      r.Error(within->mark(), "within must be longer than zero");
      return std::nullopt;
    }
    c.within = *value;
  }
  const bool dated = c.check == ControlCheck::kDrill || c.check == ControlCheck::kAttested ||
                     c.check == ControlCheck::kEncryptionAtRest;
  if (within != nullptr && !dated) {
    r.Error(within->mark(),
            fmt::format("within applies to the checks drill, attested and encryption_at_rest, "
                        "not {}",
                        kControlCheckNames[*check]));
    ok = false;
  }
  if (c.check == ControlCheck::kDrill) {
    auto name = r.OneOf(r.Required(node, "drill", kWhat), {kDrillNames.begin(), kDrillNames.end()},
                        "drill");
    if (!name) return std::nullopt;
    c.drill = kDrillNames[*name];
    if (within == nullptr) {
      r.Error(node.mark(), "a drill control needs within: how recent the drill must be");
      ok = false;
    }
  } else if (drill != nullptr) {
    r.Error(drill->mark(), "drill applies only to check: drill");
    ok = false;
  }
  if (terminator != nullptr) {
    if (c.check != ControlCheck::kTlsInTransit) {
      r.Error(terminator->mark(), "terminator applies only to check: tls_in_transit");
      ok = false;
    } else if (auto text = r.String(terminator); !text || text->empty()) {
      if (text) r.Error(terminator->mark(), "name the TLS terminator, or leave terminator out");
      ok = false;
    } else {
      c.terminator = *text;
    }
  }
  c.attesters = p.attesters;
  if (const yaml::Node* by = node.Find("attested_by")) {
    if (c.check != ControlCheck::kAttested) {
      r.Error(by->mark(), "attested_by applies only to check: attested");
      ok = false;
    } else if (auto roles = ReadRoles(r, g, by)) {
      c.attesters = *roles;
    } else {
      ok = false;
    }
  }
  if (c.check == ControlCheck::kAttested && c.attesters.none()) {
    r.Error(node.mark(),
            "nobody may attest this control: name roles in attested_by, or "
            "attesters at the top of controls.yml");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return c;
}

}  // namespace

void ReadControls(Reader& r, const yaml::Node& root, Governance* g) {
  if (!r.Mapping(root, {"version", "attesters", "checklists", "checks"}, "controls.yml")) return;
  r.Version(root, false);
  CompliancePolicy& p = g->compliance;
  if (const yaml::Node* attesters = root.Find("attesters")) {
    if (auto roles = ReadRoles(r, *g, attesters)) p.attesters = *roles;
  }
  // Every item a control may cover: the frameworks' controls and the
  // checklists' items, one namespace.
  std::map<std::string, yaml::Mark> item_ids;
  for (const ComplianceFramework& f : p.frameworks) {
    for (const ComplianceControl& c : f.controls) item_ids.emplace(c.id, yaml::Mark{});
  }
  ReadChecklists(r, root, g, &item_ids);

  std::map<std::string, yaml::Mark> seen;
  std::set<std::string> covered;
  bool complete = true;
  for (const yaml::Node& node : r.List(root, "checks", kWhat, true)) {
    std::optional<Control> c = ReadControl(r, node, *g, item_ids);
    if (!c) {
      complete = false;
      continue;
    }
    if (!Unique(r, &seen, c->id, node.mark(), "control")) continue;
    if (p.controls.size() == kMaxControls) {
      r.Error(node.mark(), fmt::format("at most {} controls are allowed", kMaxControls));
      return;
    }
    covered.insert(c->covers.begin(), c->covers.end());
    p.controls.push_back(std::move(*c));
  }
  if (!complete) return;  // coverage would echo the errors above
  const yaml::Node* checks = root.Find("checks");
  const yaml::Mark at = checks != nullptr ? checks->mark() : root.mark();
  for (const ComplianceFramework& f : p.frameworks) {
    for (const ComplianceControl& c : f.controls) {
      if (!covered.contains(c.id)) {
        r.Error(at, fmt::format("no check covers {} ({}) of framework {} in frameworks.yml", c.id,
                                c.requirement, f.id));
      }
    }
  }
  for (const Checklist& list : p.checklists) {
    for (const ComplianceControl& item : list.items) {
      if (!covered.contains(item.id)) {
        r.Error(at, fmt::format("no check covers {} ({}) of checklist {}", item.id,
                                item.requirement, list.id));
      }
    }
  }
}

std::optional<ControlSet> ReadControlRefs(Reader& r, const Governance& g, const yaml::Node* node) {
  if (node == nullptr) return std::nullopt;
  if (!node->IsSequence()) {
    r.Error(node->mark(),
            fmt::format("expected a list of control, checklist or framework ids, found a {}",
                        node->TypeName()));
    return std::nullopt;
  }
  const CompliancePolicy& p = g.compliance;
  auto covering = [&](const std::vector<ComplianceControl>& items, ControlSet* set) {
    for (size_t i = 0; i < p.controls.size(); ++i) {
      for (const ComplianceControl& item : items) {
        const std::vector<std::string>& covers = p.controls[i].covers;
        if (std::find(covers.begin(), covers.end(), item.id) != covers.end()) set->set(i);
      }
    }
  };
  ControlSet set;
  bool ok = true;
  for (const yaml::Node& item : node->items()) {
    auto id = r.String(&item);
    if (!id) {
      ok = false;
      continue;
    }
    ControlSet one;
    for (size_t i = 0; i < p.controls.size(); ++i) {
      if (p.controls[i].id == *id || p.controls[i].MapsTo(*id)) one.set(i);
    }
    for (const Checklist& c : p.checklists) {
      if (c.id == *id) covering(c.items, &one);
    }
    if (one.none()) {
      std::vector<std::string_view> names;
      for (const Control& c : p.controls) names.push_back(c.id);
      for (const Checklist& c : p.checklists) names.push_back(c.id);
      for (const ComplianceFramework& f : p.frameworks) names.push_back(f.id);
      r.UnknownName(item, *id, names, "control, checklist or framework");
      ok = false;
      continue;
    }
    set |= one;
  }
  if (!ok) return std::nullopt;
  return set;
}

}  // namespace interlock::governance
