// Loads, validates and compiles a governance directory.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/time_zone.h"
#include "governance/diagnostic.h"
#include "governance/model.h"

namespace interlock::governance {

// The files Load reads, relative to the directory. Other .yaml/.yml files
// outside examples/ and dot-directories are reported as unknown, so a
// misspelt file name cannot silently drop rules.
struct GovernanceFile {
  std::string_view path;
  bool required;
};
const std::vector<GovernanceFile>& GovernanceFiles();

// Every file is at most this large. Default: 1 MiB.
inline constexpr size_t kMaxGovernanceFileBytes = 1u << 20;

// Reads every governance file under `dir`, checks keys, types, references,
// invariants, matrix overlaps and coverage, and compiles conditions. Returns
// every problem found (sorted by file, line, column), or the compiled
// Governance if there is none. Never throws.
// Time zones named by freeze windows are read from `zoneinfo`.
std::expected<Governance, std::vector<Diagnostic>> Load(const FileSystem& fs,
                                                        const std::string& dir,
                                                        std::string_view zoneinfo = kZoneinfoDir);

}  // namespace interlock::governance
