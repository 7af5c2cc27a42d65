#include "compliance/policy.h"

#include <fmt/format.h>

#include <cctype>

namespace interlock::compliance {
namespace {

std::string_view Strip(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The value after `label:` on `line`, which may start with "- ", "* " or
// "**"; nullopt when the line is not that label.
std::optional<std::string_view> Labelled(std::string_view line, std::string_view label) {
  line = Strip(line);
  if (line.starts_with("- ") || line.starts_with("* ")) line = Strip(line.substr(2));
  while (line.starts_with('*') || line.starts_with('_')) line.remove_prefix(1);
  if (line.size() <= label.size()) return std::nullopt;
  for (size_t i = 0; i < label.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != label[i]) return std::nullopt;
  }
  line.remove_prefix(label.size());
  while (line.starts_with('*') || line.starts_with('_')) line.remove_prefix(1);
  if (!line.starts_with(':')) return std::nullopt;
  line.remove_prefix(1);
  while (line.starts_with('*') || line.starts_with('_')) line.remove_prefix(1);
  line = Strip(line);
  while (line.ends_with('*') || line.ends_with('_')) line.remove_suffix(1);
  return Strip(line);
}

}  // namespace

PolicyFact ReadPolicy(std::string_view file, std::string_view text) {
  PolicyFact p;
  p.file = std::string(file);
  bool dated = false;
  size_t number = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++number;
    if (p.owner.empty()) {
      auto owner = Labelled(line, "policy owner");
      if (!owner) owner = Labelled(line, "owner");
      if (owner && !owner->empty()) p.owner = std::string(*owner);
    }
    if (dated) continue;
    auto date = Labelled(line, "next review date");
    if (!date) continue;
    dated = true;
    auto at = ParseTimestamp(fmt::format("{}T00:00:00Z", *date));
    if (date->size() != 10 || !at) {
      p.problem = fmt::format("line {}: the next review date \"{}\" is not a date YYYY-MM-DD",
                              number, *date);
    } else {
      p.next_review = *at;
    }
  }
  if (!dated) p.problem = "it has no line \"Next review date: YYYY-MM-DD\"";
  return p;
}

}  // namespace interlock::compliance
