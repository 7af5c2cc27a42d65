// The PII scanner's single pass over a window of one line (internal to
// src/scan/, exposed for its tests): finds the candidates of every type and
// grades them, before the threshold and overlaps are applied.
//
// Pure and thread-safe; any bytes are accepted.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "scan/pii.h"

namespace interlock::scan::pii {

struct Candidate {
  PiiType type;
  Confidence confidence;
  size_t start;  // in the window
  size_t end;
};

// No candidate is longer than this (an e-mail address: 64 + 1 + 253).
inline constexpr size_t kMaxValueLength = 320;
// A window must hold this many bytes before `from` (or the line's start)
// and after `to` (or the line's end) for its candidates to be those of the
// whole line: the longest value plus the context read around it.
inline constexpr size_t kMargin = 512;

// Appends to `out` the candidates that start in [from, to) of `window`, in
// no particular order. The window is one line or a piece of one, and its
// bytes outside [from, to) are read as the surroundings of the values.
void Detect(std::string_view window, size_t from, size_t to, std::vector<Candidate>* out);

}  // namespace interlock::scan::pii
