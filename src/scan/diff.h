// Reading `git diff -U0` output: the lines each file gains, with their line
// numbers in the new file.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace interlock::scan {

struct AddedLines {
  std::string path;             // in the new tree, relative to the repository's top
  std::string text;             // the added lines, each ended by '\n'
  std::vector<uint64_t> lines;  // lines[i]: the new-file line number of text's line i
  bool binary = false;          // git said "Binary files ... differ"; text is empty
};

// Parses a unified diff as `git diff --no-color --no-ext-diff -U0` prints
// it (quoted paths included). Files with no added lines are left out unless
// binary. Errors (kInvalidArgument) name the diff's line: "diff:LINE: what".
Result<std::vector<AddedLines>> ParseUnifiedDiff(std::string_view diff);

// Undoes git's C-style quoting of a path ("a\tb", octal escapes); a path
// that is not quoted comes back unchanged.
Result<std::string> UnquoteGitPath(std::string_view path);

}  // namespace interlock::scan
