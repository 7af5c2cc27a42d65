// Retention: dropping expired payloads and destroying expired data keys,
// recorded as one audit_prune event.
#include "audit/json.h"
#include "audit/log_impl.h"

namespace interlock::audit {

Result<PruneReport> AuditLog::Prune(const RetentionPeriods& retention, const std::string& actor) {
  UnixMillis now = options_.clock->Now();
  Job job;
  json classes = json::object();
  for (uint8_t c = 0; c < kRetentionClasses; ++c) {
    UnixMillis before = now - retention[c];
    job.prune.push_back({c, before});
    classes[kRetentionClassNames[c]] = {{"retention_days", retention[c] / 86'400'000},
                                        {"recorded_before", FormatTimestamp(before)}};
  }
  {
    MutexLock lock(&keys_mu_);
    for (const auto& [id, key] : keys_) {
      if (key.period_end + retention[key.retention_class] <= now) job.shred_keys.push_back(id);
    }
  }
  json event = {{"event_type", "audit_prune"},
                {"actor", {{"type", "human"}, {"id", actor}}},
                {"action", {{"type", "prune"}}},
                {"retention", classes},
                {"shredded_keys", job.shred_keys}};
  auto parsed = ParseEvent(Dump(event), now);
  if (!parsed) return std::unexpected(parsed.error());
  job.events.push_back(std::move(*parsed));
  if (auto ok = Submit(&job); !ok) return std::unexpected(ok.error());
  PruneReport report;
  report.payloads = job.pruned.payloads;
  report.keys = job.pruned.keys;
  report.shredded_keys = job.shred_keys;
  report.record = job.appended.front();
  return report;
}

}  // namespace interlock::audit
