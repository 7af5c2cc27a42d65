// `interlock scan secrets` as a library: scans files, or the lines a git
// diff adds, for secrets, and reports findings that never contain them
// (docs/scanning.md).
//
// Thread safety: ScanSecrets may run on several threads at once; it starts
// and joins its own worker threads. The report functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/fs.h"
#include "core/process.h"
#include "core/random.h"
#include "core/status.h"
#include "scan/rules.h"

namespace interlock::scan {

class SecretMatcher;

enum class SecretSource {
  kPaths,   // the files, and the files below the directories, of `paths`
  kStaged,  // the lines `git diff --cached` adds
  kDiff,    // the lines `git diff BASE` adds
};

struct SecretScanOptions {
  SecretSource source = SecretSource::kPaths;
  // kPaths: files or directories (default: "."); a directory's `.git`
  // folders are skipped. git modes: pathspecs limiting the diff.
  std::vector<std::string> paths;
  std::string diff_base;  // kDiff: the commit (or range) to diff against. REQUIRED there.
  std::string git_dir;    // git modes: where git runs. Default: the current directory.
  SecretConfig config = DefaultSecretConfig();
  // The fingerprints' HMAC key. REQUIRED: not empty (see LoadScanKey).
  std::string key;
  // Fingerprints of known findings, reported as suppressed.
  std::set<std::string> baseline;
  // Files are scanned in windows of this many bytes, each seeing `overlap`
  // bytes of its neighbours: a secret longer than the overlap may be
  // missed where it straddles two windows. Defaults: 4 MiB and 16 KiB.
  size_t window_size = size_t{4} << 20;
  size_t overlap = size_t{16} << 10;
  // Worker threads. Default: 2.
  int threads = 2;
};

struct SecretFinding {
  std::string rule_id;
  std::string description;
  std::string path;
  uint64_t line = 0;    // from 1 (in the new file, for a diff)
  uint64_t column = 0;  // from 1, in Unicode code points (bytes of invalid UTF-8 count one each)
  // The line, clipped to about 120 characters around the secret, with every
  // secret found on it masked: its first few characters, then "*****".
  std::string preview;
  // Hex HMAC-SHA256(key, rule_id 0x00 path 0x00 secret): no line number,
  // so it survives edits above the secret.
  std::string fingerprint;
  std::string allow_reason;           // the reason of an `interlock:allow` that allows it
  bool allow_without_reason = false;  // its line has `interlock:allow` with no reason: not allowed
};

struct SecretCounts {
  uint64_t files_scanned = 0;
  uint64_t bytes_scanned = 0;
  uint64_t binary_skipped = 0;     // files recognised as binary (a NUL in the first 8 KiB)
  uint64_t paths_allowlisted = 0;  // files a global path allowlist skips
  uint64_t findings = 0;           // reported: neither suppressed nor allowed
  uint64_t suppressed = 0;         // by the baseline
  uint64_t allowed = 0;            // by an inline `interlock:allow <reason>`
  uint64_t allow_without_reason = 0;
};

struct SecretReport {
  SecretCounts counts;
  std::vector<SecretFinding> findings;    // sorted by path, line, column, rule
  std::vector<SecretFinding> suppressed;  // the same order
  std::vector<SecretFinding> allowed;
  struct RuleInfo {
    std::string id, description;
  };
  std::vector<RuleInfo> rules;  // the ruleset the scan used, in order
};

// Scans as `options` says. Files are read through `fs` (mapped), git runs
// through `processes`. Errors: kInvalidArgument for bad options, a rule
// that does not compile, or a diff git could not make; kNotFound for a
// missing path; kIo for a file that cannot be read.
Result<SecretReport> ScanSecrets(const SecretScanOptions& options, FileSystem& fs,
                                 ProcessRunner& processes);
// The same with the rules compiled once (options.config is not read), for
// a caller that scans many times.
Result<SecretReport> ScanSecrets(const SecretScanOptions& options, const SecretMatcher& matcher,
                                 FileSystem& fs, ProcessRunner& processes);

// The report as JSON (docs/scanning.md, "JSON report"), ending in a newline.
std::string ReportJson(const SecretReport& report);
// The report for people: one block per finding, then the counts.
std::string ReportText(const SecretReport& report);
// The report as a SARIF 2.1.0 log.
std::string ReportSarif(const SecretReport& report);
// A baseline: the JSON report of every finding, the suppressed included.
std::string BaselineJson(const SecretReport& report);

// Reads a baseline: a JSON report (its findings' fingerprints), a JSON array
// of fingerprints, or text with one fingerprint a line. `file` names it in
// messages.
Result<std::set<std::string>> ParseBaseline(std::string_view text, std::string_view file);

// The fingerprints' key: the file `key_file` when given, else the
// environment's INTERLOCK_SCAN_KEY, else the key file in the user's
// configuration directory ($XDG_CONFIG_HOME/interlock/scan.key, else
// $HOME/.config/interlock/scan.key), created (mode 0600, 32 random bytes
// in hex) when missing. A key shorter than 16 bytes is refused.
using Env = std::function<std::optional<std::string>(const char*)>;
Result<std::string> LoadScanKey(const std::string& key_file, const Env& env, FileSystem& fs,
                                Random& random);

}  // namespace interlock::scan
