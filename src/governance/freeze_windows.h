// Reading safety/freeze-windows.yml (model.h, FreezeWindow).
#pragma once

#include <string_view>

#include "core/fs.h"
#include "core/yaml.h"
#include "governance/model.h"
#include "governance/reader.h"

namespace interlock::governance {

// Reads the windows of `root` into g->freeze_windows, loading each time zone
// named from `zoneinfo` on `fs`. The workflows (for break_glass) and
// canary.yml's model_update_safeguards (the default duration after a
// model_update) must be in `g` already. Reports every problem through `r`.
void ReadFreezeWindows(Reader& r, const yaml::Node& root, const FileSystem& fs,
                       std::string_view zoneinfo, Governance* g);

}  // namespace interlock::governance
