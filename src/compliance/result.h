// The outcome vocabulary of compliance checks: what one control's
// evaluation came to, and the counts a check run prints and serves.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace interlock::compliance {

// A control's outcome. kWaived: it failed, and an approved waiver in force
// covers it (counted and shown, never hidden). kError: it could not be
// evaluated (its evidence could not be read). kNotApplicable: nothing it
// governs exists here (a framework not in scope).
enum class Outcome : uint8_t { kPass, kFail, kWaived, kError, kNotApplicable };

inline constexpr std::array<std::string_view, 5> kOutcomeNames = {"pass", "fail", "waived", "error",
                                                                  "not_applicable"};

constexpr std::string_view OutcomeName(Outcome o) { return kOutcomeNames[static_cast<size_t>(o)]; }

// How many controls came to each outcome.
struct Counts {
  std::array<int, kOutcomeNames.size()> by_outcome{};

  void Add(Outcome o) { ++by_outcome[static_cast<size_t>(o)]; }
  int Of(Outcome o) const { return by_outcome[static_cast<size_t>(o)]; }
  int Total() const;
  // True when nothing failed or could not be evaluated: waived and
  // not-applicable controls do not fail a run.
  bool Passed() const { return Of(Outcome::kFail) == 0 && Of(Outcome::kError) == 0; }
};

}  // namespace interlock::compliance
