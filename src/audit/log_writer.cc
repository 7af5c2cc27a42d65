// The writer: group commit of appends, state changes, grants, prunes and
// checkpoints, each batch one transaction of the store.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <span>

#include "audit/json.h"
#include "audit/log_impl.h"

namespace interlock::audit {

Result<void> AuditLog::Submit(Job* job) {
  MutexLock lock(&mu_);
  if (stopping_) return std::unexpected(Error::Unavailable("the audit log is closing"));
  queue_.push_back(job);
  work_cv_.Signal();
  while (!job->done) done_cv_.Wait(&mu_);
  if (job->error) return std::unexpected(*job->error);
  return Ok();
}

void AuditLog::WriterLoop() {
  for (;;) {
    std::vector<Job*> jobs;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) work_cv_.Wait(&mu_);
      if (queue_.empty()) return;
      // Everything waiting goes into one transaction, up to the batch limit.
      size_t records = 0;
      while (!queue_.empty() && (jobs.empty() || records + queue_.front()->events.size() <=
                                                     options_.max_batch_records)) {
        records += queue_.front()->events.size();
        jobs.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    Result<void> result = RunBatch(jobs);
    // Another process may have appended meanwhile: catch up and try once more.
    if (!result && result.error().kind() == ErrorKind::kUnavailable) {
      if (LoadTree()) result = RunBatch(jobs);
    }
    std::vector<Job*> finished_async;
    {
      MutexLock lock(&mu_);
      for (Job* job : jobs) {
        if (!result) {
          job->error = Error(result.error().kind(), "the audit record could not be made durable: " +
                                                        result.error().message());
          job->appended.clear();
        }
        job->done = true;
        if (job->on_done) finished_async.push_back(job);
      }
      if (result) {
        uint64_t records = state_->range.size() - durable_size_;
        durable_size_ = state_->range.size();
        durable_root_ = state_->range.Root(state_->hasher);
        stats_.batches += 1;
        stats_.records += records;
        stats_.largest_batch = std::max(stats_.largest_batch, records);
      }
    }
    done_cv_.SignalAll();
    for (Job* job : finished_async) {
      std::unique_ptr<Job> owned(job);
      if (job->error) {
        job->on_done(std::unexpected(*job->error));
      } else {
        job->on_done(std::move(job->appended));
      }
    }
  }
}

Result<void> AuditLog::RunBatch(std::vector<Job*>& jobs) {
  WriterState& s = *state_;
  // On failure the in-memory tree goes back to what is durable.
  CompactRange saved_range = s.range;
  std::map<uint8_t, store::AuditTile> saved_edge = s.edge;
  UnixMillis saved_last = s.last_recorded_at;

  store::AuditBatch batch;
  batch.base_size = s.range.size();
  UnixMillis now = std::max(options_.clock->Now(), s.last_recorded_at);
  std::set<uint8_t> dirty;
  bool want_checkpoint = false;
  bool want_latest = false;

  // Bind the batch's state changes to its records: each job's changes to its
  // last event (a "state_changed" record when it has none), the root of
  // every row after the batch to the batch's last event.
  std::vector<std::pair<StateBindings::Key, std::optional<Sha256>>> undo_bindings;
  auto undo = [&] {
    for (auto it = undo_bindings.rbegin(); it != undo_bindings.rend(); ++it) {
      s.bindings.Apply(it->first.first, it->first.second, it->second);
    }
  };
  Job* last_with_events = nullptr;
  for (Job* job : jobs) {
    if (job->state.empty()) {
      if (!job->events.empty()) last_with_events = job;
      continue;
    }
    std::vector<StateRowChange> changes;
    for (const StateChange& change : job->state) {
      std::optional<Sha256> digest;
      if (change.value) digest = StateDigest(*change.value);
      auto old = s.bindings.rows().find({change.kind, change.id});
      undo_bindings.push_back(
          {{change.kind, change.id},
           old == s.bindings.rows().end() ? std::nullopt : std::optional<Sha256>(old->second)});
      s.bindings.Apply(change.kind, change.id, digest);
      changes.push_back({change.kind, change.id, digest});
    }
    if (job->events.empty() && !job->state_event_added) {
      nlohmann::json carrier = {{"event_type", "state_changed"},
                                {"actor", {{"type", "service"}, {"id", "interlock"}}},
                                {"action", {{"type", "store_state"}}}};
      auto made = MakeEvent(std::move(carrier), now);
      if (!made) {
        undo();
        return std::unexpected(made.error());
      }
      job->events.push_back(std::move(*made));
      job->state_event_added = true;
    }
    auto bound = BindEvent(job->events.back(), changes, std::nullopt);
    if (!bound) {
      undo();
      return std::unexpected(bound.error());
    }
    job->events.back() = std::move(*bound);
    last_with_events = job;
  }
  if (last_with_events) {
    auto bound = BindEvent(last_with_events->events.back(), {}, s.bindings.RootHex());
    if (!bound) {
      undo();
      return std::unexpected(bound.error());
    }
    last_with_events->events.back() = std::move(*bound);
  }

  auto fail = [&](Error error) -> Result<void> {
    undo();
    s.range = std::move(saved_range);
    s.edge = std::move(saved_edge);
    s.last_recorded_at = saved_last;
    MutexLock lock(&keys_mu_);
    for (const store::AuditKey& k : batch.keys) keys_.erase(k.id);
    return std::unexpected(std::move(error));
  };

  auto place = [&](unsigned level, uint64_t index, const Hash& hash) {
    // A batch can fill several tiles of a level: each one it leaves behind
    // is complete and is written now; the newest is written at the end.
    TileSlot slot = SlotOf(level, index);
    auto it = s.edge.find(slot.tile_level);
    if (it != s.edge.end() && it->second.index != slot.tile_index && dirty.count(slot.tile_level)) {
      batch.tiles.push_back(it->second);
    }
    dirty.insert(PlaceNode(s.edge, level, index, hash));
  };

  // Per batch: one time, so one data key per class, and one draw of randomness.
  const Period period = PeriodOf(now);
  std::array<const DataKey*, kRetentionClasses> class_keys{};
  size_t records = 0;
  for (Job* job : jobs) records += job->events.size();
  // Per record: a 16-byte salt and the 4 random bytes of its nonce.
  constexpr size_t kRandomPerRecord = kSaltSize + 4;
  std::string random(records * kRandomPerRecord, '\0');
  if (auto ok = options_.random->Fill(
          std::span(reinterpret_cast<uint8_t*>(random.data()), random.size()));
      !ok) {
    return fail(ok.error());
  }
  size_t drawn = 0;

  std::string leaf;
  for (Job* job : jobs) {
    job->appended.clear();
    want_checkpoint |= job->checkpoint && !job->checkpoint_reuse;
    want_latest |= job->checkpoint && job->checkpoint_reuse;
    for (const Event& event : job->events) {
      uint64_t index = s.range.size();
      // The longest retention among the classes that apply.
      uint8_t cls = 0;
      int64_t longest = -1;
      for (uint8_t c = 0; c < kRetentionClasses; ++c) {
        if ((event.classes & (1u << c)) && options_.retention[c] > longest) {
          longest = options_.retention[c];
          cls = c;
        }
      }
      std::string key_id = fmt::format("{}-{}", kRetentionClassNames[cls], period.name);
      if (!class_keys[cls]) {
        auto key = KeyFor(cls, key_id, period.end, &batch.keys);
        if (!key) return fail(key.error());
        class_keys[cls] = *key;
      }
      std::string_view randomness = std::string_view(random).substr(drawn, kRandomPerRecord);
      drawn += kRandomPerRecord;

      leaf.clear();
      leaf.push_back(static_cast<char>(kLeafVersion));
      PutBigEndian(&leaf, index);
      PutBigEndian(&leaf, static_cast<uint64_t>(now));
      leaf.append(randomness.substr(0, kSaltSize));
      leaf.push_back(static_cast<char>(cls));
      leaf += event.canonical;

      // The nonce is 4 random bytes and the index: unique per key even past
      // the 2^32 records where random 96-bit nonces become unsafe, and a
      // batch retried after a failure draws fresh random bytes.
      std::array<uint8_t, kNonceSize> nonce;
      std::copy_n(randomness.data() + kSaltSize, 4, nonce.begin());
      for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(index >> (56 - 8 * i));

      auto tag = s.actor_tags.find(event.actor_id);
      if (tag == s.actor_tags.end()) {
        if (s.actor_tags.size() > 4096) s.actor_tags.clear();
        tag = s.actor_tags.emplace(event.actor_id, ActorTag(event.actor_id)).first;
      }
      store::AuditRecord& r = batch.records.emplace_back();
      r.index = index;
      r.recorded_at = now;
      r.retention_class = cls;
      r.key_id = std::move(key_id);
      r.event_type = event.event_type;
      r.environment = event.environment;
      r.actor_tag = tag->second;
      r.row_tag = RowTag(s.row_mac, r, s.scratch);  // leaves the row bytes in s.scratch

      Hash leaf_hash = s.hasher.Leaf(leaf);
      auto sealed = s.aead.SealWithNonce(class_keys[cls]->key, nonce, leaf, s.scratch);
      if (!sealed) return fail(sealed.error());
      r.payload = std::move(*sealed);
      if (auto ok = s.range.Append(leaf_hash, s.hasher, place); !ok) return fail(ok.error());
      job->appended.push_back({index, leaf_hash});
    }
    batch.grants.insert(batch.grants.end(), job->grants.begin(), job->grants.end());
    batch.prune.insert(batch.prune.end(), job->prune.begin(), job->prune.end());
    batch.shred_keys.insert(batch.shred_keys.end(), job->shred_keys.begin(), job->shred_keys.end());
    for (const StateChange& change : job->state) {
      store::StateRow& row = batch.state.emplace_back();
      row.kind = change.kind;
      row.id = change.id;
      if (!change.value) continue;
      auto sealed = s.aead.Seal(state_key_, *options_.random, *change.value,
                                StateAad(change.kind, change.id));
      if (!sealed) return fail(sealed.error());
      row.value = std::move(*sealed);
    }
  }
  for (uint8_t level : dirty) batch.tiles.push_back(s.edge[level]);

  uint64_t size = s.range.size();
  bool due = size != s.last_checkpoint_size &&
             now - s.last_checkpoint_at >= options_.checkpoint_interval_ms;
  bool reusable = !s.last_checkpoint_note.empty() &&
                  (size == s.last_checkpoint_size ||
                   now - s.last_checkpoint_at < options_.checkpoint_interval_ms);
  std::string note;
  if (want_checkpoint || due || (want_latest && !reusable)) {
    audit::Checkpoint cp{origin_, size, s.range.Root(s.hasher), {}};
    auto signed_note = signer_->Sign(FormatCheckpoint(cp));
    if (!signed_note) return fail(signed_note.error());
    note = *signed_note;
    batch.checkpoint = store::AuditCheckpoint{size, now, note};
  }

  auto committed = store_->Commit(batch);
  if (!committed) return fail(committed.error());

  s.last_recorded_at = now;
  if (batch.checkpoint) {
    s.last_checkpoint_at = now;
    s.last_checkpoint_size = size;
    s.last_checkpoint_note = note;
  }
  if (!batch.shred_keys.empty()) {
    MutexLock lock(&keys_mu_);
    for (const std::string& id : batch.shred_keys) keys_.erase(id);
  }
  for (Job* job : jobs) {
    if (job->checkpoint) job->checkpoint_note = note.empty() ? s.last_checkpoint_note : note;
    if (!job->prune.empty() || !job->shred_keys.empty()) job->pruned = *committed;
  }
  return Ok();
}

Result<Appended> AuditLog::Append(std::string_view event_json) {
  auto event = ParseEvent(event_json, options_.clock->Now());
  if (!event) return std::unexpected(event.error());
  if (event->canonical.find("\"state_r") != std::string::npos) {
    auto claims = ReadStateClaims(event->canonical);
    if (!claims || !claims->changes.empty() || claims->root_hex) {
      return std::unexpected(Error::InvalidArgument(
          "/state_rows, /state_root: these members are the log's own and cannot be appended"));
    }
  }
  std::vector<Event> events;
  events.push_back(std::move(*event));
  auto appended = AppendEvents(std::move(events));
  if (!appended) return std::unexpected(appended.error());
  return appended->front();
}

Result<std::vector<Appended>> AuditLog::AppendEvents(std::vector<Event> events) {
  return Commit(std::move(events), {});
}

Result<std::vector<Appended>> AuditLog::Commit(std::vector<Event> events,
                                               std::vector<StateChange> changes) {
  Job job;
  job.events = std::move(events);
  job.state = std::move(changes);
  if (auto ok = Submit(&job); !ok) return std::unexpected(ok.error());
  return std::move(job.appended);
}

Result<Appended> AuditLog::Commit(Event event, std::vector<StateChange> changes) {
  std::vector<Event> events;
  events.push_back(std::move(event));
  auto appended = Commit(std::move(events), std::move(changes));
  if (!appended) return std::unexpected(appended.error());
  return appended->front();
}

void AuditLog::CommitAsync(std::vector<Event> events, std::vector<StateChange> changes,
                           std::function<void(Result<std::vector<Appended>>)> done) {
  auto job = std::make_unique<Job>();
  job->events = std::move(events);
  job->state = std::move(changes);
  job->on_done = std::move(done);
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(job.release());
      work_cv_.Signal();
      return;
    }
  }
  job->on_done(std::unexpected(Error::Unavailable("the audit log is closing")));
}

Result<Appended> AuditLog::AppendInternal(const std::string& event_json) {
  auto event = ParseEvent(event_json, options_.clock->Now());
  if (!event) {
    return std::unexpected(
        Error::Internal("an audit event of the log itself is invalid: " + event.error().message()));
  }
  std::vector<Event> events;
  events.push_back(std::move(*event));
  auto appended = AppendEvents(std::move(events));
  if (!appended) return std::unexpected(appended.error());
  return appended->front();
}

}  // namespace interlock::audit
