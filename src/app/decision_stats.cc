#include "app/decision_stats.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/json.h"

namespace interlock::app {

DecisionStats::DecisionStats(audit::AuditLog& log) : log_(log) {}

Result<void> DecisionStats::Load() {
  auto rows = log_.LoadState(std::string(kStatsKind));
  if (!rows) return std::unexpected(rows.error());
  MutexLock lock(&mu_);
  for (const auto& [id, value] : *rows) {
    nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
    if (id != kStatsId || !j.is_object() || !j.contains("hours") || !j["hours"].is_object()) {
      continue;
    }
    for (const auto& item : j["hours"].items()) {
      const nlohmann::json& c = item.value();
      int64_t hour = 0;
      auto [end, ec] =
          std::from_chars(item.key().data(), item.key().data() + item.key().size(), hour);
      if (ec != std::errc() || end != item.key().data() + item.key().size() || !c.is_array() ||
          c.size() != 3) {
        continue;
      }
      for (size_t k = 0; k < 3; ++k) {
        if (c[k].is_number_unsigned()) hourly_[hour][k] = c[k].get<uint64_t>();
      }
    }
  }
  return Ok();
}

void DecisionStats::Count(DecisionKind kind, UnixMillis at) {
  MutexLock lock(&mu_);
  int64_t hour = at / kHourMs;
  ++hourly_[hour][static_cast<size_t>(kind)];
  dirty_ = true;
  while (!hourly_.empty() && hourly_.begin()->first <= hour - kHours) {
    hourly_.erase(hourly_.begin());
  }
}

void DecisionStats::Save(UnixMillis now, bool force) {
  nlohmann::json value = {{"format", 1}, {"hours", nlohmann::json::object()}};
  {
    MutexLock lock(&mu_);
    if (!dirty_ || (!force && now - saved_at_ < 60'000)) return;
    for (const auto& [hour, counts] : hourly_) value["hours"][std::to_string(hour)] = counts;
    dirty_ = false;
    saved_at_ = now;
  }
  auto saved = log_.Commit(std::vector<audit::Event>{},
                           {{std::string(kStatsKind), std::string(kStatsId), audit::Dump(value)}});
  if (!saved) {
    MutexLock lock(&mu_);
    dirty_ = true;
  }
}

std::vector<DecisionStats::Counts> DecisionStats::Last(UnixMillis now, int64_t hours) const {
  int64_t current = now / kHourMs;
  std::vector<Counts> out;
  MutexLock lock(&mu_);
  for (int64_t h = current - hours + 1; h <= current; ++h) {
    auto it = hourly_.find(h);
    out.push_back(it == hourly_.end() ? Counts{} : it->second);
  }
  return out;
}

}  // namespace interlock::app
