// A problem found in a governance directory, located to the character.
#pragma once

#include <string>
#include <vector>

namespace interlock::governance {

struct Diagnostic {
  std::string file;  // relative to the governance directory
  int line = 0;      // 1-based; 0 when the problem concerns the file as a whole
  int column = 0;    // 1-based
  std::string message;

  // "file:line:column: message" (or "file: message" without a position).
  std::string ToString() const;
};

// One line per diagnostic, each ending in "\n", with file paths prefixed by
// `dir` (so editors can jump to them from the current directory).
std::string DiagnosticsText(const std::vector<Diagnostic>& diagnostics, const std::string& dir);

// All diagnostics as a JSON array of {file, line, column, message}.
std::string DiagnosticsToJson(const std::vector<Diagnostic>& diagnostics);

// The closest candidate to `word` by edit distance, if close enough to be a
// plausible typo; empty otherwise.
std::string Suggest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace interlock::governance
