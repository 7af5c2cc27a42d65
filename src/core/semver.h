// Semantic versions as far as Interlock needs them: to tell a patch from a
// minor from a major change.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/names.h"

namespace interlock {

struct SemVer {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
};

// Parses "MAJOR.MINOR.PATCH" with an optional leading 'v' or 'V' and an
// optional "-prerelease" and "+build" suffix (which are accepted and
// ignored). Components are decimal without leading zeros. Never allocates.
std::optional<SemVer> ParseSemVer(std::string_view text);

// The bump from `from` to `to`: the most significant component that differs.
// Equal versions (a redeploy) and downgrades (a roll back) are classified the
// same way, by the component that differs; equal versions count as a patch.
Bump BumpBetween(const SemVer& from, const SemVer& to);

}  // namespace interlock
