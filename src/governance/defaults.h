// The default governance directory compiled into the binary (from
// src/governance/defaults/, by cmake/embed.cmake), and `interlock init`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/fs.h"
#include "core/status.h"

namespace interlock::governance {

struct EmbeddedFile {
  std::string_view path;  // relative, '/'-separated
  std::string_view contents;
};

extern const EmbeddedFile kDefaultFiles[];
extern const size_t kDefaultFileCount;

// Writes the default governance directory to `dir` and returns the paths
// written. Refuses a directory that exists and is not empty unless `force`,
// in which case existing files with the same names are replaced.
Result<std::vector<std::string>> Scaffold(FileSystem& fs, const std::string& dir, bool force);

}  // namespace interlock::governance
