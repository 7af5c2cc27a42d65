// The secret scanner's rules and allowlists, the built-in ruleset, and the
// reader of rule files in gitleaks' TOML format (docs/scanning.md).
//
// Regular expressions are RE2 syntax, which is Go's: a gitleaks rule's
// regex means the same here.
//
// Thread safety: plain values; the functions are safe to call from several
// threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace interlock::scan {

// What an allowlist's `regexes` are matched against.
enum class RegexTarget { kSecret, kMatch, kLine };
// How an allowlist's kinds of criteria combine: any one of them (kOr) or
// every kind that is given (kAnd).
enum class Condition { kOr, kAnd };

// Findings that are not findings. A criterion kind that is empty does not
// take part.
struct Allowlist {
  std::string description;
  std::vector<std::string> paths;      // RE2, searched in the file's path
  std::vector<std::string> regexes;    // RE2, searched in the target below
  std::vector<std::string> stopwords;  // a secret containing one (ignoring case) is allowed
  RegexTarget regex_target = RegexTarget::kSecret;
  Condition condition = Condition::kOr;
  // A global allowlist's rules (by id); empty: every rule. Unused in a
  // rule's own allowlists.
  std::vector<std::string> target_rules;
  // Where it was written, for messages: "built-in" or "FILE:LINE".
  std::string source = "built-in";
};

struct SecretRule {
  std::string id;           // stable, kebab-case: "aws-access-key-id"
  std::string description;  // one line, for people
  // RE2. The secret is capture group `secret_group`; with 0, the first
  // non-empty group, or the whole match when there is none. Empty for a
  // path-only rule, whose finding is the file itself.
  std::string regex;
  int secret_group = 0;
  // A match whose secret's Shannon entropy (bits per byte) is not above
  // this is dropped. 0: no threshold.
  double entropy = 0;
  // Literals (matched ignoring case) of which a match contains at least one;
  // they make the prefilter fast. Empty: the regex itself prefilters.
  std::vector<std::string> keywords;
  // RE2 over the file's path: the rule applies only where it matches.
  std::string path;
  std::vector<Allowlist> allowlists;
  // A catch-all rule (its id starts with "generic"): its finding is dropped
  // where another rule's secret overlaps it, so one secret is reported once,
  // by the rule that names it.
  bool generic = false;
  // The longest match the rule expects, in bytes: hits are confirmed in a
  // region this far either side. 0: the scanner's default (1 KiB).
  size_t max_length = 0;
  std::string source = "built-in";
};

struct SecretConfig {
  std::vector<SecretRule> rules;
  std::vector<Allowlist> allowlists;  // global, for every rule (or target_rules)
};

// The built-in ruleset and its global allowlist (placeholders, templates).
SecretConfig DefaultSecretConfig();

// Reads a rule file in gitleaks' TOML format. `file` names it in messages,
// which read "FILE:LINE: what is wrong". Understood (everything else is an
// error naming the key):
//   title, minVersion                             (ignored)
//   [extend] useDefault = bool, disabledRules = [ids]
//   [[rules]] id, description, regex, secretGroup, entropy, keywords, path,
//             tags (ignored), maxLength (Interlock's own)
//   [[rules.allowlists]] and the older [rules.allowlist]:
//             description, condition ("OR"/"AND"), paths, regexes,
//             regexTarget ("secret"/"match"/"line"), stopwords, commits (ignored)
//   global [allowlist] and [[allowlists]]: the same, plus targetRules
// With useDefault the built-in rules come first and a file's rule of the
// same id replaces the built-in one. The regexes are not compiled here:
// CompileCheck in the scanner does that and names each rule's FILE:LINE.
Result<SecretConfig> ParseSecretConfig(std::string_view text, std::string_view file);

// Shannon entropy of `text` in bits per byte (0 for empty text).
double ShannonEntropy(std::string_view text);

}  // namespace interlock::scan
