// SARIF 2.1.0 logs (OASIS Static Analysis Results Interchange Format) for
// any of Interlock's scanners: one run, its tool's rules, its results.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace interlock::scan {

struct SarifRule {
  std::string id;           // stable: results refer to it as ruleId
  std::string description;  // one line: shortDescription (and fullDescription)
};

struct SarifResult {
  std::string rule_id;
  std::string level = "error";  // "error", "warning" or "note"
  std::string message;
  std::string path;     // artifactLocation.uri, relative: '/'-separated, percent-encoded here
  uint64_t line = 0;    // from 1; 0 leaves the region out
  uint64_t column = 0;  // from 1, in Unicode code points; 0 leaves it out
  std::string snippet;  // region.snippet.text; empty leaves it out
  // partialFingerprints: e.g. {"interlockSecret/v1": "<hex>"}.
  std::map<std::string, std::string> partial_fingerprints;
};

struct SarifTool {
  std::string name = "interlock";
  std::string version;
  std::string information_uri;
  std::string semantic_version;
};

// The whole log, pretty-printed JSON ending in a newline. Columns are
// declared as Unicode code points (run.columnKind). Results refer to their
// rule by ruleId and by ruleIndex when the rule is in `rules`. `counts`,
// when given, goes into the run's property bag as {"counts": {name: n}}:
// totals that hold even when not every result is listed.
std::string SarifLog(const SarifTool& tool, const std::vector<SarifRule>& rules,
                     const std::vector<SarifResult>& results,
                     const std::vector<std::pair<std::string, uint64_t>>& counts = {});

// A relative path as a URI reference: '/' kept, unreserved characters
// kept, every other byte percent-encoded ("a b.txt" -> "a%20b.txt").
std::string PathToUri(std::string_view path);

}  // namespace interlock::scan
