// The dashboard's decision counts: decisions per hour and kind over the last
// week, kept in memory and saved as one state row (at most once a minute,
// and at shutdown) so that a restart keeps the charts.
//
// Thread safety: every method from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/names.h"
#include "core/status.h"

namespace interlock::app {

// The kind and id of the counts' state row.
constexpr std::string_view kStatsKind = "dashboard";
constexpr std::string_view kStatsId = "decisions_per_hour";

class DecisionStats {
 public:
  // Hours kept: a week.
  static constexpr int64_t kHours = 168;
  static constexpr UnixMillis kHourMs = 3'600'000;
  // Decisions by DecisionKind in one hour.
  using Counts = std::array<uint64_t, 3>;

  explicit DecisionStats(audit::AuditLog& log);
  DecisionStats(const DecisionStats&) = delete;
  DecisionStats& operator=(const DecisionStats&) = delete;

  // Reads the saved counts. Counts that cannot be read are started again:
  // they are only a chart.
  Result<void> Load() EXCLUDES(mu_);
  // Counts a decision answered at `at`.
  void Count(DecisionKind kind, UnixMillis at) EXCLUDES(mu_);
  // Saves the counts if they changed, at most once a minute unless `force`;
  // a failed save is tried again at the next call.
  void Save(UnixMillis now, bool force) EXCLUDES(mu_);
  // The counts of the `hours` hours up to and including the one of `now`,
  // oldest first.
  std::vector<Counts> Last(UnixMillis now, int64_t hours) const EXCLUDES(mu_);

 private:
  audit::AuditLog& log_;
  mutable Mutex mu_;
  std::map<int64_t, Counts> hourly_ GUARDED_BY(mu_);  // by hours since 1970
  bool dirty_ GUARDED_BY(mu_) = false;
  UnixMillis saved_at_ GUARDED_BY(mu_) = 0;
};

}  // namespace interlock::app
