#include "core/semver.h"

namespace interlock {
namespace {

// Reads a decimal component at text[*pos]; no leading zeros, no overflow.
std::optional<uint64_t> ReadComponent(std::string_view text, size_t* pos) {
  size_t start = *pos;
  uint64_t value = 0;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
    uint64_t digit = static_cast<uint64_t>(text[*pos] - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
    ++*pos;
  }
  size_t length = *pos - start;
  if (length == 0 || (length > 1 && text[start] == '0')) return std::nullopt;
  return value;
}

bool IsIdentifierChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.';
}

}  // namespace

std::optional<SemVer> ParseSemVer(std::string_view text) {
  size_t pos = 0;
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) pos = 1;
  SemVer version;
  uint64_t* parts[] = {&version.major, &version.minor, &version.patch};
  for (size_t index = 0; index < 3; ++index) {
    if (index > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    auto component = ReadComponent(text, &pos);
    if (!component) return std::nullopt;
    *parts[index] = *component;
  }
  for (char marker : {'-', '+'}) {
    if (pos < text.size() && text[pos] == marker) {
      ++pos;
      size_t start = pos;
      while (pos < text.size() && IsIdentifierChar(text[pos])) ++pos;
      if (pos == start) return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  return version;
}

Bump BumpBetween(const SemVer& from, const SemVer& to) {
  if (from.major != to.major) return Bump::kMajor;
  if (from.minor != to.minor) return Bump::kMinor;
  return Bump::kPatch;
}

}  // namespace interlock
