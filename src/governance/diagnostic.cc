#include "governance/diagnostic.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/fs.h"

namespace interlock::governance {

std::string Diagnostic::ToString() const {
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

std::string DiagnosticsText(const std::vector<Diagnostic>& diagnostics, const std::string& dir) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    Diagnostic shown = d;
    if (!d.file.starts_with(dir)) shown.file = JoinPath(dir, d.file);
    out += shown.ToString();
    out += '\n';
  }
  return out;
}

std::string DiagnosticsToJson(const std::vector<Diagnostic>& diagnostics) {
  nlohmann::json out = nlohmann::json::array();
  for (const Diagnostic& d : diagnostics) {
    out.push_back(
        {{"file", d.file}, {"line", d.line}, {"column", d.column}, {"message", d.message}});
  }
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Suggest(std::string_view word, const std::vector<std::string_view>& candidates) {
  size_t best = std::string_view::npos;
  std::string_view best_word;
  std::vector<size_t> row;
  for (std::string_view candidate : candidates) {
    // Levenshtein distance, one row at a time.
    row.resize(candidate.size() + 1);
    for (size_t j = 0; j <= candidate.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= candidate.size(); ++j) {
        size_t above = row[j];
        size_t cost = word[i - 1] == candidate[j - 1] ? 0 : 1;
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
        diagonal = above;
      }
    }
    if (row[candidate.size()] < best) {
      best = row[candidate.size()];
      best_word = candidate;
    }
  }
  size_t limit = std::max<size_t>(2, word.size() / 3);
  if (best == 0 || best > limit) return {};
  return std::string(best_word);
}

}  // namespace interlock::governance
