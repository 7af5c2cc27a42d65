// Reading compliance/controls.yml (model.h, CompliancePolicy::controls and
// ::checklists): the control catalogue.
#pragma once

#include <optional>

#include "core/yaml.h"
#include "governance/model.h"
#include "governance/reader.h"

namespace interlock::governance {

// Reads `root` into g->compliance.checklists and .controls. The frameworks
// of compliance/frameworks.yml must be in `g` already: every `maps` entry
// names one of them, and every control of theirs and every checklist item
// must be covered by at least one check. Reports every problem through `r`.
void ReadControls(Reader& r, const yaml::Node& root, Governance* g);

// Reads a list of control references (requires_controls of a matrix row or
// a rule) against g's catalogue: a control id names that control, a
// checklist id (security) every control covering one of its items, a framework
// id (SOC2) every control mapping to it. Reports an unknown name, or an
// empty set, through `r` and returns nullopt.
std::optional<ControlSet> ReadControlRefs(Reader& r, const Governance& g, const yaml::Node* node);

}  // namespace interlock::governance
