// Reading compliance/controls.yml (model.h, CompliancePolicy::controls and
// ::checklists): the control catalogue.
#pragma once

#include "core/yaml.h"
#include "governance/model.h"
#include "governance/reader.h"

namespace interlock::governance {

// Reads `root` into g->compliance.checklists and .controls. The frameworks
// of compliance/frameworks.yml must be in `g` already: every `maps` entry
// names one of them, and every control of theirs and every checklist item
// must be covered by at least one check. Reports every problem through `r`.
void ReadControls(Reader& r, const yaml::Node& root, Governance* g);

}  // namespace interlock::governance
