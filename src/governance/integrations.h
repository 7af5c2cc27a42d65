// Reading integrations/kubernetes.yml (model.h, KubernetesPolicy).
#pragma once

#include "core/yaml.h"
#include "governance/model.h"
#include "governance/reader.h"

namespace interlock::governance {

// Reads `root` into g->kubernetes. The principals must be in `g` already
// (each AI agent names one). Reports every problem through `r`.
void ReadKubernetes(Reader& r, const yaml::Node& root, Governance* g);

}  // namespace interlock::governance
