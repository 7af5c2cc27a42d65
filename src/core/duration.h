// Durations as governance files write them: "30m", "24h", "90d", "7y".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace interlock {

using Millis = std::chrono::milliseconds;

// Parses a non-negative duration: one or more <integer or decimal><unit>
// groups with no spaces, e.g. "90s", "1h30m", "1.5h". Units: ms, s, m, h, d,
// w (7d), y (365d). Returns nullopt for anything else, including overflow.
std::optional<Millis> ParseDuration(std::string_view text);
// The other way: "2d", "1h30m", "90s" -> "1m30s", "250ms"; "0s" for zero.
std::string FormatDuration(Millis d);

}  // namespace interlock
