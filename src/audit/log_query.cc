// Reads: queries under the reader's scope (each recorded before anything is
// returned), read grants, and the decoding of a stored record.
#include <fmt/format.h>

#include <algorithm>

#include "audit/json.h"
#include "audit/log_impl.h"

namespace interlock::audit {
namespace {

std::string ScopeName(ReadScope s) {
  switch (s) {
    case ReadScope::kOwn:
      return "own";
    case ReadScope::kTeam:
      return "team";
    case ReadScope::kAll:
      return "all";
    default:
      return "none";
  }
}

}  // namespace

Result<Entry> AuditLog::Decode(const store::AuditRecord& record, const Hash& leaf_hash,
                               Aead& aead) {
  Entry e;
  e.index = record.index;
  e.recorded_at = record.recorded_at;
  e.retention_class = record.retention_class < kRetentionClasses
                          ? kRetentionClassNames[record.retention_class]
                          : "unknown";
  e.leaf_hash = leaf_hash;
  DataKey key;
  {
    MutexLock lock(&keys_mu_);
    auto it = keys_.find(record.key_id);
    if (it == keys_.end() || !record.payload) {
      e.pruned = true;  // payload deleted, or its key destroyed (crypto-shredded)
      return e;
    }
    key = it->second;
  }
  std::string scratch;
  auto fields = OpenRecord(aead, key.key, record, e.leaf, scratch);
  if (!fields) return std::unexpected(fields.error());
  e.event = std::string(fields->event);
  return e;
}

Result<bool> AuditLog::HasActiveGrant(const std::string& id) {
  UnixMillis now = options_.clock->Now();
  auto grants = LoadState(std::string(kGrantKind));
  if (!grants) return std::unexpected(grants.error());
  for (const auto& [key, value] : *grants) {
    json g = json::parse(value, nullptr, false);
    if (!g.is_object() || !g.contains("principal") || !g.contains("expires_at") ||
        !g["expires_at"].is_number_integer()) {
      return std::unexpected(
          Error::Corruption(fmt::format("state {} {}: not a read grant", kGrantKind, key)));
    }
    if (g["principal"] == id && g["expires_at"].get<UnixMillis>() > now) return true;
  }
  return false;
}

Result<std::vector<Entry>> AuditLog::Query(const Reader& reader, const QueryFilter& filter) {
  UnixMillis now = options_.clock->Now();
  json read_event = {{"event_type", "audit_read"},
                     {"actor", {{"type", reader.type}, {"id", reader.id}}},
                     {"action", {{"type", "query"}, {"scope", ScopeName(reader.scope)}}}};
  if (reader.type == "ai_agent") {
    // The log asks every AI agent's event for a rationale; a read carries
    // none of its own.
    read_event["decision"] = {{"rationale", "a read of the audit log; no rationale is given"}};
  }
  json& f = read_event["filter"] = json::object();
  if (filter.actor) f["actor"] = *filter.actor;
  if (filter.event_type) f["event_type"] = *filter.event_type;
  if (filter.environment) f["environment"] = *filter.environment;
  if (filter.since) f["since"] = FormatTimestamp(*filter.since);
  if (filter.until) f["until"] = FormatTimestamp(*filter.until);
  if (filter.from_index) f["from_index"] = filter.from_index;
  if (filter.to_index) f["to_index"] = *filter.to_index;

  // A refused read is recorded too, then refused. A reader refused again
  // within kRefusalWindowMs is counted instead, and the count goes into
  // their next record, so that a client retrying in a loop costs no fsync
  // per attempt.
  auto refuse = [&](std::string why) -> Result<std::vector<Entry>> {
    uint64_t suppressed = 0;
    {
      MutexLock lock(&refusals_mu_);
      Refusals& r = refusals_[reader.id];
      if (r.recorded_at != 0 && now - r.recorded_at < kRefusalWindowMs && now >= r.recorded_at) {
        ++r.suppressed;
        return std::unexpected(Error::PermissionDenied(std::move(why)));
      }
      suppressed = r.suppressed;
      r = {now, 0};
      if (refusals_.size() > 10'000) refusals_.clear();  // bounded whatever the callers
    }
    read_event["outcome"] = {{"status", "denied"}, {"reason", why}};
    if (suppressed > 0) read_event["outcome"]["refused_before_unrecorded"] = suppressed;
    // Refused either way; the record of the attempt is best effort.
    [[maybe_unused]] auto recorded = AppendInternal(Dump(read_event));
    return std::unexpected(Error::PermissionDenied(std::move(why)));
  };

  if (reader.scope == ReadScope::kNone) {
    return refuse(fmt::format("{} has no read access to the audit log", reader.id));
  }
  if (reader.needs_grant) {
    auto active = HasActiveGrant(reader.id);
    if (!active) return std::unexpected(active.error());
    if (!*active) {
      return refuse(fmt::format(
          "{} may read the audit log only within a time-limited grant, and has no unexpired "
          "one (interlock audit grant --to {})",
          reader.id, reader.id));
    }
  }

  store::RecordFilter rf;
  rf.from_index = filter.from_index;
  rf.to_index = filter.to_index;
  rf.since = filter.since;
  rf.until = filter.until;
  rf.event_type = filter.event_type;
  rf.environment = filter.environment;
  rf.limit = filter.limit;
  std::vector<std::string> allowed;
  if (reader.scope == ReadScope::kOwn) allowed = {reader.id};
  if (reader.scope == ReadScope::kTeam) allowed = reader.team;
  if (filter.actor) {
    if (reader.scope != ReadScope::kAll &&
        std::find(allowed.begin(), allowed.end(), *filter.actor) == allowed.end()) {
      return refuse(fmt::format("{} may read only {} actions, not those of {}", reader.id,
                                reader.scope == ReadScope::kOwn ? "their own" : "their team's",
                                *filter.actor));
    }
    allowed = {*filter.actor};
  }
  if (reader.scope != ReadScope::kAll || filter.actor) {
    rf.actor_tags.emplace();
    for (const std::string& id : allowed) rf.actor_tags->push_back(ActorTag(id));
  }

  auto records = store_->QueryRecords(rf);
  if (!records) return std::unexpected(records.error());
  std::vector<Entry> entries;
  entries.reserve(records->size());
  TileNodes nodes(*store_);
  Aead aead;
  for (const store::AuditRecord& r : *records) {
    auto leaf_hash = nodes.Node(0, r.index);
    if (!leaf_hash) return std::unexpected(leaf_hash.error());
    auto entry = Decode(r, *leaf_hash, aead);
    if (!entry) return std::unexpected(entry.error());
    entries.push_back(std::move(*entry));
  }

  read_event["outcome"] = {{"status", "success"}, {"records", entries.size()}};
  if (!entries.empty()) {
    read_event["outcome"]["first_index"] = entries.front().index;
    read_event["outcome"]["last_index"] = entries.back().index;
  }
  if (auto logged = AppendInternal(Dump(read_event)); !logged) {
    return std::unexpected(
        Error(logged.error().kind(),
              "read refused: its access record could not be written: " + logged.error().message()));
  }
  return entries;
}

Result<Appended> AuditLog::Grant(const Reader& by, const std::string& to, int64_t duration_ms) {
  if (by.scope != ReadScope::kAll || by.needs_grant) {
    return std::unexpected(Error::PermissionDenied(fmt::format(
        "{} may not grant audit access: only principals who read the whole log without a grant "
        "may",
        by.id)));
  }
  if (duration_ms <= 0) {
    return std::unexpected(Error::InvalidArgument("a grant needs a positive duration"));
  }
  UnixMillis expires = options_.clock->Now() + duration_ms;
  json event = {{"event_type", "audit_access_grant"},
                {"actor", {{"type", by.type}, {"id", by.id}}},
                {"action", {{"type", "grant_read"}, {"target", to}}},
                {"expires_at", FormatTimestamp(expires)}};
  auto parsed = ParseEvent(Dump(event), options_.clock->Now());
  if (!parsed) return std::unexpected(parsed.error());
  Job job;
  job.events.push_back(std::move(*parsed));
  // A state row, bound to the log like every other: a grant written into
  // the database by hand is caught, and counts for nothing.
  job.state.push_back(
      {std::string(kGrantKind), fmt::format("{}@{}", to, expires),
       Dump(json{{"principal", to}, {"granted_by", by.id}, {"expires_at", expires}})});
  if (auto ok = Submit(&job); !ok) return std::unexpected(ok.error());
  return job.appended.front();
}

}  // namespace interlock::audit
