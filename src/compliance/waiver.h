// A waiver of a control of the catalogue (compliance/controls.yml), as a
// caller asks for it: `{control, justification, expires, run}`. A waiver
// takes effect only once its approval completes and stops counting when it
// expires (compliance/evaluate.h applies it); here it is only read and
// checked, so that a malformed one is refused at once, naming the field.
//
// Pure; thread safety: the functions are reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "governance/model.h"

namespace interlock::compliance {

// The furthest a waiver's expiry may be from when it is asked for.
inline constexpr UnixMillis kMaxWaiverMs = UnixMillis{365} * 24 * 3'600'000;
inline constexpr size_t kMaxJustificationBytes = 4096;

struct WaiverRequest {
  std::string control;        // a control id of the catalogue
  std::string justification;  // why, non-empty after trimming
  UnixMillis expires = 0;     // after `now`, at most kMaxWaiverMs later
  // InSpec's `run`: true evaluates the control and shows its real outcome
  // beside the waiver; false does not evaluate it.
  bool run = true;
};

// Reads a JSON object with exactly the members control, justification,
// expires (RFC 3339) and run (a boolean), all required, no others, and
// checks them against `g`'s catalogue at `now`. kInvalidArgument naming the
// field (e.g. "expires: 2031-01-01T00:00:00Z is more than 365 days after
// now", "control: no control \"x\" in compliance/controls.yml").
Result<WaiverRequest> ParseWaiverRequest(const governance::Governance& g, std::string_view body,
                                         UnixMillis now);

}  // namespace interlock::compliance
