// The default governance directory compiled into the binary (from
// src/governance/defaults/, by cmake/embed.cmake), and `interlock init`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/embedded.h"
#include "core/fs.h"
#include "core/status.h"

namespace interlock::governance {

extern const EmbeddedFile kDefaultFiles[];
extern const size_t kDefaultFilesCount;

// Writes the default governance directory to `dir` and returns the paths
// written. Refuses a directory that exists and is not empty unless `force`,
// in which case existing files with the same names are replaced.
Result<std::vector<std::string>> Scaffold(FileSystem& fs, const std::string& dir, bool force);

}  // namespace interlock::governance
