#include "core/duration.h"

#include <cmath>
#include <limits>
#include <utility>

namespace interlock {
namespace {

struct Unit {
  std::string_view name;
  int64_t millis;
};

// Longest names first so "ms" is not read as "m" followed by "s".
constexpr Unit kUnits[] = {
    {"ms", 1},
    {"s", 1000},
    {"m", 60'000},
    {"h", 3'600'000},
    {"d", 86'400'000},
    {"w", 7 * 86'400'000LL},
    {"y", 365 * 86'400'000LL},
};

}  // namespace

std::optional<Millis> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    bool seen_dot = false;
    while (i < text.size() &&
           ((text[i] >= '0' && text[i] <= '9') || (text[i] == '.' && !seen_dot))) {
      if (text[i] == '.') seen_dot = true;
      ++i;
    }
    std::string_view number = text.substr(start, i - start);
    if (number.empty() || number == "." || number.front() == '.' || number.back() == '.') {
      return std::nullopt;
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(i, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    i += unit->name.size();
    double value = 0;
    double scale = 1;
    bool fraction = false;
    for (char c : number) {
      if (c == '.') {
        fraction = true;
        continue;
      }
      if (fraction) {
        scale /= 10;
        value += (c - '0') * scale;
      } else {
        value = value * 10 + (c - '0');
      }
      if (value > 1e18) return std::nullopt;
    }
    total += value * static_cast<double>(unit->millis);
    constexpr double kLimit = static_cast<double>(std::numeric_limits<int64_t>::max()) / 2;
    if (total > kLimit) return std::nullopt;
  }
  return Millis(static_cast<int64_t>(std::llround(total)));
}

std::string FormatDuration(Millis d) {
  int64_t ms = d.count();
  if (ms <= 0) return "0s";
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}};
  std::string out;
  for (const auto& [unit, size] : kUnits) {
    if (ms >= size) {
      out += std::to_string(ms / size);
      out += unit;
      ms %= size;
    }
  }
  return out;
}

}  // namespace interlock
