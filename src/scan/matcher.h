// A SecretConfig compiled for scanning: one Vectorscan database prefilters
// every rule at once over the input, and each rule's RE2 regex confirms the
// hits and extracts the secret in a bounded region around each of them.
//
// How a rule is prefiltered:
//   - with keywords: each keyword is a caseless literal, and a hit's region
//     reaches max_length (default 1 KiB) either side of it;
//   - without keywords: its regex, compiled by Vectorscan in prefilter mode
//     (a superset of its matches); a regex that Vectorscan cannot compile
//     even so is confirmed by RE2 over the whole text given to Scan.
// A path-only rule (no regex) never matches bytes; see PathOnlyRules.
//
// Thread safety: a SecretMatcher is immutable after Compile and may be
// shared by threads; each thread needs its own Scratch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scan/rules.h"

namespace interlock::scan {

// One confirmed, not allowlisted match. Offsets are absolute (in the file).
struct Match {
  uint32_t rule = 0;  // index into the config's rules
  size_t begin = 0, end = 0;
  size_t secret_begin = 0, secret_end = 0;
};

class SecretMatcher {
 public:
  // Compiles every regex. Errors are kInvalidArgument naming the rule and
  // where it was written: `FILE:LINE: rule "ID": regex does not compile: WHY`
  // (or "built-in rule" for the built-in ones).
  static Result<std::unique_ptr<SecretMatcher>> Compile(SecretConfig config);
  ~SecretMatcher();
  SecretMatcher(const SecretMatcher&) = delete;
  SecretMatcher& operator=(const SecretMatcher&) = delete;

  // Per-thread working memory for Scan.
  class Scratch {
   public:
    ~Scratch();

   private:
    friend class SecretMatcher;
    struct State;
    explicit Scratch(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
  };
  Result<std::unique_ptr<Scratch>> NewScratch() const;

  const SecretConfig& config() const { return config_; }
  // The ids of the rules Vectorscan could not prefilter, which RE2 confirms
  // over all the text given to Scan.
  std::vector<std::string> UnprefilteredRules() const;

  // Which rules a file's path lets apply (a rule's `path`), and whether a
  // global allowlist made only of paths skips the file as a whole.
  struct PathPlan {
    bool skip_file = false;
    std::vector<char> active;  // by rule index
  };
  PathPlan PlanFor(std::string_view path) const;

  // The path-only rules whose path matches, not allowlisted.
  std::vector<uint32_t> PathOnlyRules(std::string_view path) const;

  // Scans `text`, the bytes [base, base + text.size()) of the file at
  // `path`, and appends the matches that start in [own_begin, own_end)
  // (absolute). The bytes outside the owned range are context, so a window
  // with `overlap` bytes each side sees every match up to that long.
  void Scan(std::string_view text, size_t base, size_t own_begin, size_t own_end,
            std::string_view path, const PathPlan& plan, Scratch& scratch,
            std::vector<Match>* out) const;

  // Whether the rule's allowlists or the global ones allow this match.
  // `line` is the line holding the match (or as much of it as is known).
  bool Allowed(uint32_t rule, std::string_view path, std::string_view secret,
               std::string_view match, std::string_view line) const;

 private:
  struct Compiled;
  SecretMatcher(SecretConfig config, std::unique_ptr<Compiled> compiled);

  SecretConfig config_;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace interlock::scan
