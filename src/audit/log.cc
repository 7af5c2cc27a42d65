// One file for now because the writer, queries, pruning and verification all
// reach into the writer's private state; it is to be split by job (leaf and
// row format, keys, writer, proofs, queries, prune, verify) once AuditLog
// receives its store (docs/architecture.md, "The target").
#include "audit/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "audit/json.h"
#include "audit/state_binding.h"
#include "audit/tiles.h"

namespace interlock::audit {
namespace {

using json = nlohmann::ordered_json;

// Leaf bytes (docs/audit-format.md): version, index, recorded_at, salt,
// retention class, then the event's canonical JSON.
constexpr uint8_t kLeafVersion = 1;
constexpr size_t kSaltSize = 16;
constexpr size_t kLeafHeaderSize = 1 + 8 + 8 + kSaltSize + 1;
constexpr size_t kActorTagSize = 16;
constexpr std::string_view kRowLabel = "interlock audit row v1";
constexpr size_t kRowTagSize = 16;

void PutBigEndian(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

// A record's row bytes (docs/audit-format.md, section 6): the columns stored
// in the clear beside its sealed payload. They are the payload's associated
// data, and the row tag is their MAC, so they stay checkable once the
// payload is pruned. Built in place: a verification builds one per record.
void RowBytes(const store::AuditRecord& r, std::string& out) {
  const std::string_view fields[] = {r.key_id, r.event_type, r.environment, r.actor_tag};
  size_t size = kRowLabel.size() + 8 + 8 + 1;
  for (std::string_view field : fields) size += 8 + field.size();
  out.resize(size);
  char* at = std::copy(kRowLabel.begin(), kRowLabel.end(), out.data());
  auto put = [&at](uint64_t v) {
    if constexpr (std::endian::native == std::endian::little) v = std::byteswap(v);
    std::memcpy(at, &v, sizeof v);
    at += sizeof v;
  };
  put(r.index);
  put(static_cast<uint64_t>(r.recorded_at));
  *at++ = static_cast<char>(r.retention_class);
  for (std::string_view field : fields) {
    put(field.size());
    at = std::copy(field.begin(), field.end(), at);
  }
}

std::string RowTag(Hmac& mac, const store::AuditRecord& r, std::string& scratch) {
  RowBytes(r, scratch);
  auto tag = mac.Mac(scratch);
  return std::string(reinterpret_cast<const char*>(tag.data()), kRowTagSize);
}

// A state value is bound to its kind and id, so it cannot be moved to another.
// Read grants are state rows of this kind, with id "<principal>@<expiry>".
constexpr std::string_view kGrantKind = "audit_grant";

std::string StateAad(std::string_view kind, std::string_view id) {
  std::string aad("interlock state v1");
  PutBigEndian(&aad, kind.size());
  aad += kind;
  aad += id;
  return aad;
}

// Data keys cover one retention class for one calendar month (UTC), so a
// month's key can be destroyed once the month plus the retention has passed.
struct Period {
  std::string name;  // "2026-11"
  UnixMillis end;    // first millisecond of the next month
};

Period PeriodOf(UnixMillis t) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>{milliseconds{t}});
  year_month_day ymd{day};
  year_month next = year_month{ymd.year(), ymd.month()} + months{1};
  sys_days end{next / std::chrono::day{1}};
  return {
      fmt::format("{:04}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month())),
      duration_cast<milliseconds>(end.time_since_epoch()).count()};
}

Error TileMissing(const TileSlot& slot, unsigned level, uint64_t index) {
  return Error::Corruption(
      fmt::format("tree tile ({}, {}) holding node ({}, {}) is missing or damaged", slot.tile_level,
                  slot.tile_index, level, index));
}

// Proof nodes read from the stored tiles, keeping the last tile read on each
// tile level (a proof or a scan walks up and down the levels).
class TileNodes final : public NodeSource {
 public:
  // `readahead` tiles are read at once on a miss: 1 for proofs, which jump
  // about; more for a scan, which walks each level in order.
  explicit TileNodes(store::AuditStore& store, uint64_t readahead = 1)
      : store_(store), readahead_(readahead) {}

  Result<Hash> Node(unsigned level, uint64_t index) override {
    TileSlot slot = SlotOf(level, index);
    if (slot.tile_level >= cache_.size()) {
      return std::unexpected(Error::InvalidArgument(fmt::format("no tree level {}", level)));
    }
    Cached& c = cache_[slot.tile_level];
    const store::AuditTile* tile = c.Find(slot.tile_index);
    if (!tile) {
      auto read =
          store_.ReadTiles(slot.tile_level, slot.tile_index, slot.tile_index + readahead_, c.tiles);
      if (!read) return std::unexpected(read.error());
      tile = c.Find(slot.tile_index);
    }
    if (!tile || tile->hashes.size() != kTileBytes) {
      return std::unexpected(TileMissing(slot, level, index));
    }
    Hash h;
    std::copy_n(tile->hashes.data() + slot.offset, h.size(), reinterpret_cast<char*>(h.data()));
    return h;
  }

 private:
  struct Cached {
    std::vector<store::AuditTile> tiles;  // in index order, perhaps with gaps
    const store::AuditTile* Find(uint64_t index) const {
      if (tiles.empty() || index < tiles.front().index || index > tiles.back().index)
        return nullptr;
      auto it = std::lower_bound(tiles.begin(), tiles.end(), index,
                                 [](const store::AuditTile& t, uint64_t i) { return t.index < i; });
      return it != tiles.end() && it->index == index ? &*it : nullptr;
    }
  };
  store::AuditStore& store_;
  uint64_t readahead_;
  std::array<Cached, 17> cache_;  // 64 levels / 4 per tile, plus one
};

// The stored tiles of one tile level under a run of leaves, read at once, for
// a worker that checks every node under them.
class TileSpan {
 public:
  // Reads tiles (level, from .. to - 1). A read error is kept and returned
  // for every node asked for, as a NodeSource would return it.
  void Read(store::AuditStore& store, uint8_t level, uint64_t from, uint64_t to) {
    first_ = from;
    by_index_.assign(to - from, nullptr);
    error_.reset();
    if (auto read = store.ReadTiles(level, from, to, tiles_); !read) {
      error_ = read.error();
      return;
    }
    for (const store::AuditTile& t : tiles_) {
      if (t.index >= from && t.index < to && t.hashes.size() == kTileBytes) {
        by_index_[t.index - from] = &t;
      }
    }
  }

  // The 32 bytes of node (level, index), which must be on this tile level.
  Result<const char*> Node(unsigned level, uint64_t index) const {
    if (error_) return std::unexpected(*error_);
    TileSlot slot = SlotOf(level, index);
    const uint64_t at = slot.tile_index - first_;  // wraps when below first_
    if (at >= by_index_.size() || by_index_[at] == nullptr) {
      return std::unexpected(TileMissing(slot, level, index));
    }
    return by_index_[at]->hashes.data() + slot.offset;
  }

 private:
  uint64_t first_ = 0;
  std::vector<store::AuditTile> tiles_;
  std::vector<const store::AuditTile*> by_index_;  // null where missing or damaged
  std::optional<Error> error_;
};

// Opens a record's payload into `leaf` and checks that it belongs in its row:
// the row bytes authenticate with it, and the index, time and class inside
// are the row's.
Result<LeafFields> OpenRecord(Aead& aead, const Key256& key, const store::AuditRecord& r,
                              std::string& leaf, std::string& scratch) {
  RowBytes(r, scratch);
  if (!aead.OpenInto(key, *r.payload, scratch, leaf)) {
    return std::unexpected(Error::Corruption(fmt::format(
        "record {}: the payload fails authentication (changed, or moved from another index)",
        r.index)));
  }
  auto fields = ParseLeaf(leaf);
  if (!fields) {
    return std::unexpected(
        Error::Corruption(fmt::format("record {}: {}", r.index, fields.error().message())));
  }
  if (fields->index != r.index) {
    return std::unexpected(Error::Corruption(fmt::format(
        "record {}: its leaf bytes name index {} (records reordered)", r.index, fields->index)));
  }
  if (fields->recorded_at != r.recorded_at || fields->retention_class != r.retention_class) {
    return std::unexpected(Error::Corruption(
        fmt::format("record {}: its row's time or class differs from its leaf bytes", r.index)));
  }
  return fields;
}

// The prunes the log itself records. A record may lack its payload (or its
// data key) only where one of them, appended after it, explains the loss:
// its class's cutoff passed the record's time, or its key was shredded.
class PruneHistory {
 public:
  // `event` is a decoded audit_prune event appended at `index`.
  void Add(uint64_t index, std::string_view event) {
    json e = json::parse(event, nullptr, false);
    if (!e.is_object() || e.value("event_type", "") != "audit_prune") return;
    if (const json* classes = Member(e, "retention")) {
      for (uint8_t c = 0; c < kRetentionClasses; ++c) {
        const json* cut = Member(*classes, kRetentionClassNames[c]);
        const json* before = cut ? Member(*cut, "recorded_before") : nullptr;
        if (!before || !before->is_string()) continue;
        if (auto t = ParseTimestamp(before->get<std::string>())) cutoffs_[c].push_back({index, *t});
      }
    }
    if (const json* keys = Member(e, "shredded_keys"); keys && keys->is_array()) {
      for (const json& k : *keys) {
        if (!k.is_string()) continue;
        auto [it, added] = shredded_.emplace(k.get<std::string>(), index);
        if (!added) it->second = std::min(it->second, index);
      }
    }
  }

  // Call after the last Add.
  void Finish() {
    for (auto& list : cutoffs_) {
      std::sort(list.begin(), list.end(),
                [](const Cutoff& a, const Cutoff& b) { return a.index < b.index; });
      // From here on `before` is the latest cutoff of this prune or any after it.
      for (size_t i = list.size(); i-- > 1;) {
        list[i - 1].before = std::max(list[i - 1].before, list[i].before);
      }
    }
  }

  bool Explains(const store::AuditRecord& r) const {
    if (auto it = shredded_.find(r.key_id); it != shredded_.end() && it->second > r.index) {
      return true;
    }
    if (r.retention_class >= kRetentionClasses) return false;
    const auto& list = cutoffs_[r.retention_class];
    auto later = std::upper_bound(list.begin(), list.end(), r.index,
                                  [](uint64_t index, const Cutoff& c) { return index < c.index; });
    return later != list.end() && later->before > r.recorded_at;
  }

 private:
  static const json* Member(const json& object, std::string_view name) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
  }
  struct Cutoff {
    uint64_t index;
    UnixMillis before;
  };
  std::array<std::vector<Cutoff>, kRetentionClasses> cutoffs_;
  std::map<std::string, uint64_t, std::less<>> shredded_;  // key id -> first prune shredding it
};

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

Result<LeafFields> ParseLeaf(std::string_view leaf) {
  if (leaf.size() < kLeafHeaderSize || static_cast<uint8_t>(leaf[0]) != kLeafVersion) {
    return std::unexpected(Error::Corruption("leaf bytes of an unknown format"));
  }
  LeafFields f;
  f.index = GetBigEndian(leaf.substr(1, 8));
  f.recorded_at = static_cast<UnixMillis>(GetBigEndian(leaf.substr(9, 8)));
  f.retention_class = static_cast<uint8_t>(leaf[17 + kSaltSize]);
  f.event = leaf.substr(kLeafHeaderSize);
  return f;
}

struct AuditLog::Job {
  std::vector<Event> events;
  std::vector<StateChange> state;
  // Set for CommitAsync: called by the writer, which then deletes the job.
  std::function<void(Result<std::vector<Appended>>)> on_done;
  std::vector<store::AuditGrant> grants;
  std::vector<store::PruneRule> prune;
  std::vector<std::string> shred_keys;
  bool checkpoint = false;
  // With checkpoint: the latest signed checkpoint will do when the log has
  // not grown since, or when it is younger than checkpoint_interval_ms.
  bool checkpoint_reuse = false;
  // A "state_changed" record was added to carry `state` (which came
  // without events): not again on a retry.
  bool state_event_added = false;

  std::vector<Appended> appended;
  store::PruneCounts pruned;
  std::string checkpoint_note;
  std::optional<Error> error;
  bool done = false;
};

struct AuditLog::WriterState {
  explicit WriterState(const Key256& row_key) : row_mac(row_key) {}
  TreeHasher hasher;
  Hmac row_mac;
  std::string scratch;
  Aead aead;
  CompactRange range;
  std::map<uint8_t, store::AuditTile> edge;                 // newest tile of each tile level
  std::unordered_map<std::string, std::string> actor_tags;  // a cache; HMAC setup is costly
  UnixMillis last_recorded_at = 0;
  UnixMillis last_checkpoint_at = 0;
  uint64_t last_checkpoint_size = 0;
  std::string last_checkpoint_note;
  StateBindings bindings;  // the state rows as committed (audit/state_binding.h)
};

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const LogOptions& options,
                                                 std::unique_ptr<store::AuditStore> store) {
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->options_ = options;
  FileSystem& fs = *options.fs;
  if (auto made = fs.CreateDirectories(options.data_dir); !made) {
    return std::unexpected(made.error());
  }

  auto master =
      LoadMasterKey(fs, *options.random, options.master_key_env, options.master_key_file_env,
                    JoinPath(options.data_dir, "master.key"));
  if (!master) return std::unexpected(master.error());
  if (!master->warning.empty()) log->warnings_.push_back(master->warning);
  log->master_ = master->key;
  log->master_fingerprint_ = master->Fingerprint();
  log->index_key_ = DeriveKey(log->master_, "interlock audit actor index");
  log->row_key_ = DeriveKey(log->master_, "interlock audit row tag");
  log->state_key_ = DeriveKey(log->master_, "interlock state");

  std::array<uint8_t, 8> id_bytes;
  if (auto ok = options.random->Fill(id_bytes); !ok) return std::unexpected(ok.error());
  log->store_ = std::move(store);
  const std::string& db_path = log->store_->Location();
  auto log_id = log->store_->ClaimLogId(HexEncode(id_bytes));
  if (!log_id) return std::unexpected(log_id.error());
  log->origin_ = "interlock/audit/" + *log_id;

  // The checkpoint signing key: created on first use, owner-only.
  std::string key_path = JoinPath(options.data_dir, "audit-signing.key");
  if (!fs.Exists(key_path)) {
    auto fresh = NoteSigner::Generate(log->origin_, *options.random);
    if (!fresh) return std::unexpected(fresh.error());
    auto created = fs.CreatePrivateFile(key_path, fresh->SignerKey() + "\n");
    if (!created && created.error().kind() != ErrorKind::kAlreadyExists) {
      return std::unexpected(created.error());
    }
  }
  auto key_text = fs.ReadFile(key_path, 4096);
  if (!key_text) return std::unexpected(key_text.error());
  std::string_view trimmed = *key_text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) {
    trimmed.remove_suffix(1);
  }
  auto signer = NoteSigner::FromSignerKey(trimmed);
  if (!signer) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}: {}", key_path, signer.error().message())));
  }
  if (signer->name() != log->origin_) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}: signs for log {}, but {} holds log {}", key_path,
                                           signer->name(), db_path, log->origin_)));
  }
  log->signer_.emplace(std::move(*signer));

  auto keys = log->store_->Keys();
  if (!keys) return std::unexpected(keys.error());
  for (const store::AuditKey& k : *keys) {
    if (k.master_fingerprint != log->master_fingerprint_) {
      return std::unexpected(Error::PermissionDenied(fmt::format(
          "{}: data key {} is wrapped by master key {}, but the master key loaded ({}) is {}",
          db_path, k.id, k.master_fingerprint, master->source, log->master_fingerprint_)));
    }
    auto key = UnwrapKey(log->master_, k.wrapped, k.id);
    if (!key) return std::unexpected(key.error());
    log->keys_[k.id] = DataKey{*key, k.retention_class, k.period_end};
  }

  log->state_ = std::make_unique<WriterState>(log->row_key_);
  if (auto loaded = log->LoadTree(); !loaded) return std::unexpected(loaded.error());
  // Refuse to run on state rows that are not what the log commits to.
  if (auto problem = log->CheckState(); !problem) {
    return std::unexpected(problem.error());
  } else if (*problem) {
    return std::unexpected(Error::Corruption(
        fmt::format("{}: {}; the state was changed outside Interlock (run interlock audit verify)",
                    db_path, **problem)));
  }
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  if (writer_.joinable()) {
    bool changed;
    {
      std::lock_guard lock(mu_);
      changed = durable_size_ != state_->last_checkpoint_size;
    }
    if (changed) {
      Job job;
      job.checkpoint = true;
      // A failed final checkpoint loses nothing: the next writer signs one.
      [[maybe_unused]] auto signed_at_close = Submit(&job);
    }
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    writer_.join();
  }
}

Result<void> AuditLog::LoadTree() {
  auto meta = store_->Meta();
  if (!meta) return std::unexpected(meta.error());
  WriterState& s = *state_;
  auto bindings = CurrentBindings();
  if (!bindings) return std::unexpected(bindings.error());
  s.bindings = std::move(*bindings);
  s.edge.clear();
  auto edge = store_->EdgeTiles();
  if (!edge) return std::unexpected(edge.error());
  for (store::AuditTile& t : *edge) s.edge[t.level] = std::move(t);
  TileNodes nodes(*store_);
  auto range = CompactRange::Load(nodes, meta->size);
  if (!range) return std::unexpected(range.error());
  s.range = std::move(*range);
  if (meta->size > 0) {
    std::vector<store::AuditRecord> last;
    if (auto ok = store_->ReadRecords(meta->size - 1, meta->size, last); !ok) return ok;
    if (!last.empty()) s.last_recorded_at = last.front().recorded_at;
  }
  auto checkpoints = store_->Checkpoints();
  if (!checkpoints) return std::unexpected(checkpoints.error());
  if (!checkpoints->empty()) {
    s.last_checkpoint_at = checkpoints->back().created_at;
    s.last_checkpoint_size = checkpoints->back().size;
    s.last_checkpoint_note = checkpoints->back().note;
  }
  Hash root = s.range.Root(s.hasher);
  std::lock_guard lock(mu_);
  durable_size_ = meta->size;
  durable_root_ = root;
  return Ok();
}

uint64_t AuditLog::size() const {
  std::lock_guard lock(mu_);
  return durable_size_;
}

LogStats AuditLog::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string AuditLog::ActorTag(std::string_view actor) const {
  auto mac = HmacSha256(index_key_, actor);
  return std::string(reinterpret_cast<const char*>(mac.data()), kActorTagSize);
}

Result<void> AuditLog::Submit(Job* job) {
  std::unique_lock lock(mu_);
  if (stopping_) return std::unexpected(Error::Unavailable("the audit log is closing"));
  queue_.push_back(job);
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return job->done; });
  if (job->error) return std::unexpected(*job->error);
  return Ok();
}

void AuditLog::WriterLoop() {
  for (;;) {
    std::vector<Job*> jobs;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
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
      std::lock_guard lock(mu_);
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
    done_cv_.notify_all();
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

Result<const AuditLog::DataKey*> AuditLog::KeyFor(uint8_t retention_class, const std::string& id,
                                                  UnixMillis period_end,
                                                  std::vector<store::AuditKey>* created) {
  std::lock_guard lock(keys_mu_);
  auto it = keys_.find(id);
  if (it != keys_.end()) return &it->second;
  DataKey key;
  key.retention_class = retention_class;
  key.period_end = period_end;
  if (auto ok = options_.random->Fill(key.key); !ok) return std::unexpected(ok.error());
  auto wrapped = WrapKey(master_, *options_.random, key.key, id);
  if (!wrapped) return std::unexpected(wrapped.error());
  created->push_back({id, retention_class, period_end, std::move(*wrapped), master_fingerprint_});
  // Known to readers only once committed; RunBatch removes it on failure.
  return &keys_.emplace(id, key).first->second;
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
    std::lock_guard lock(keys_mu_);
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
    std::lock_guard lock(keys_mu_);
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
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(job.release());
      work_cv_.notify_one();
      return;
    }
  }
  job->on_done(std::unexpected(Error::Unavailable("the audit log is closing")));
}

Result<std::string> AuditLog::OpenState(Aead& aead, const store::StateRow& row) const {
  auto value = aead.Open(state_key_, row.value.value_or(""), StateAad(row.kind, row.id));
  if (!value) {
    return std::unexpected(Error::Corruption(
        fmt::format("state {} {}: the stored value fails authentication", row.kind, row.id)));
  }
  return std::move(*value);
}

Result<StateBindings> AuditLog::CurrentBindings() {
  auto rows = store_->AllState();
  if (!rows) return std::unexpected(rows.error());
  StateBindings out;
  Aead aead;
  for (const store::StateRow& row : *rows) {
    auto value = OpenState(aead, row);
    if (!value) return std::unexpected(value.error());
    out.Apply(row.kind, row.id, StateDigest(*value));
  }
  return out;
}

Result<std::optional<std::string>> AuditLog::CheckState() {
  auto current = CurrentBindings();
  if (!current) return std::unexpected(current.error());
  uint64_t size = this->size();
  std::optional<std::string> root;
  Aead aead;
  std::vector<store::AuditRecord> records;
  // The root the log commits to: the last record's (the last record of
  // every commit carries one). A log written before state binding, or whose
  // last record was pruned, has none to compare with, unless it is empty.
  // What the records from `from` to `to` say of the state, in order.
  auto each_claim =
      [&](uint64_t from, uint64_t to,
          const std::function<void(uint64_t, const StateClaims&)>& f) -> Result<void> {
    for (; from < to; from += 1024) {
      if (auto ok = store_->ReadRecords(from, std::min(to, from + 1024), records); !ok) return ok;
      for (const store::AuditRecord& r : records) {
        auto entry = Decode(r, Hash{}, aead);
        if (!entry) return std::unexpected(entry.error());
        auto claims = ReadStateClaims(entry->event);
        if (!claims) return std::unexpected(claims.error());
        f(r.index, *claims);
      }
    }
    return Ok();
  };
  if (size > 0) {
    auto ok =
        each_claim(size - 1, size, [&](uint64_t, const StateClaims& c) { root = c.root_hex; });
    if (!ok) return std::unexpected(ok.error());
  }
  if (!root) {
    if (size == 0 && !current->rows().empty()) {
      const auto& [key, digest] = *current->rows().begin();
      return std::optional<std::string>(
          fmt::format("state row {} {} exists, but the audit log is empty", key.first, key.second));
    }
    return std::optional<std::string>();
  }
  if (*root == current->RootHex()) return std::optional<std::string>();
  // Which row: the latest claim of each, from the whole log.
  std::map<StateBindings::Key, std::pair<uint64_t, std::optional<Sha256>>> claimed;
  auto all = each_claim(0, size, [&](uint64_t index, const StateClaims& claims) {
    for (const StateRowChange& c : claims.changes) claimed[{c.kind, c.id}] = {index, c.digest};
  });
  if (!all) return std::unexpected(all.error());
  for (const auto& [key, digest] : current->rows()) {
    auto it = claimed.find(key);
    if (it == claimed.end() || !it->second.second) {
      return std::optional<std::string>(
          fmt::format("state row {} {} is not in the audit log (added outside Interlock)",
                      key.first, key.second));
    }
    if (*it->second.second != digest) {
      return std::optional<std::string>(
          fmt::format("state row {} {} is not the version the audit log commits to (record {})",
                      key.first, key.second, it->second.first));
    }
  }
  for (const auto& [key, claim] : claimed) {
    if (claim.second && !current->rows().count(key)) {
      return std::optional<std::string>(
          fmt::format("state row {} {} is missing; the audit log commits to it at record {}",
                      key.first, key.second, claim.first));
    }
  }
  return std::optional<std::string>(
      "the state rows do not match the root the audit log commits to");
}

Result<std::vector<std::pair<std::string, std::string>>> AuditLog::LoadState(
    const std::string& kind) {
  auto rows = store_->State(kind);
  if (!rows) return std::unexpected(rows.error());
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(rows->size());
  Aead aead;
  for (const store::StateRow& row : *rows) {
    auto value = OpenState(aead, row);
    if (!value) return std::unexpected(value.error());
    out.emplace_back(row.id, std::move(*value));
  }
  return out;
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

Result<std::string> AuditLog::Checkpoint() {
  Job job;
  job.checkpoint = true;
  if (auto ok = Submit(&job); !ok) return std::unexpected(ok.error());
  return job.checkpoint_note;
}

Result<std::string> AuditLog::LatestCheckpoint() {
  Job job;
  job.checkpoint = true;
  job.checkpoint_reuse = true;
  if (auto ok = Submit(&job); !ok) return std::unexpected(ok.error());
  return job.checkpoint_note;
}

// The tree a proof is about: `size` entries (default: all durable ones), with
// the durable size and root as the writer last published them.
struct AuditLog::ProofTree {
  uint64_t size = 0;
  uint64_t durable_size = 0;
  Hash durable_root{};

  // The root of the first `n` entries: the published one when n is durable.
  Result<Hash> Root(NodeSource& nodes, uint64_t n, TreeHasher& hasher) const {
    if (n == durable_size) return durable_root;
    return RootAt(nodes, n, hasher);
  }
};

Result<AuditLog::ProofTree> AuditLog::TreeOfSize(std::optional<uint64_t> size) const {
  ProofTree tree;
  {
    std::lock_guard lock(mu_);
    tree.durable_size = durable_size_;
    tree.durable_root = durable_root_;
  }
  tree.size = size.value_or(tree.durable_size);
  if (tree.size > tree.durable_size) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "tree size {} is larger than the log ({} entries)", tree.size, tree.durable_size)));
  }
  return tree;
}

Result<InclusionProofResult> AuditLog::ProveInclusion(uint64_t index,
                                                      std::optional<uint64_t> size) {
  auto tree = TreeOfSize(size);
  if (!tree) return std::unexpected(tree.error());
  uint64_t n = tree->size;
  if (index >= n) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("index {} is not in a tree of {} entries", index, n)));
  }
  TileNodes nodes(*store_);
  thread_local TreeHasher hasher;
  InclusionProofResult out{index, n, {}, {}, {}};
  auto proof = InclusionProof(nodes, index, n, hasher);
  if (!proof) return std::unexpected(proof.error());
  out.proof = std::move(*proof);
  auto leaf = nodes.Node(0, index);
  if (!leaf) return std::unexpected(leaf.error());
  out.leaf_hash = *leaf;
  auto root = tree->Root(nodes, n, hasher);
  if (!root) return std::unexpected(root.error());
  out.root = *root;
  return out;
}

Result<ConsistencyProofResult> AuditLog::ProveConsistency(uint64_t from,
                                                          std::optional<uint64_t> to) {
  auto tree = TreeOfSize(to);
  if (!tree) return std::unexpected(tree.error());
  uint64_t n = tree->size;
  if (from == 0 || from > n) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("from must be between 1 and {} (the size proved to), got {}", n, from)));
  }
  TileNodes nodes(*store_);
  thread_local TreeHasher hasher;
  ConsistencyProofResult out{from, n, {}, {}, {}};
  auto proof = ConsistencyProof(nodes, from, n, hasher);
  if (!proof) return std::unexpected(proof.error());
  out.proof = std::move(*proof);
  auto from_root = tree->Root(nodes, from, hasher);
  if (!from_root) return std::unexpected(from_root.error());
  auto to_root = tree->Root(nodes, n, hasher);
  if (!to_root) return std::unexpected(to_root.error());
  out.from_root = *from_root;
  out.to_root = *to_root;
  return out;
}

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
    std::lock_guard lock(keys_mu_);
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
      std::lock_guard lock(refusals_mu_);
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
    std::lock_guard lock(keys_mu_);
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

Result<void> AuditLog::Backup(const std::string& path) {
  if (options_.fs->Exists(path)) {
    return std::unexpected(Error::AlreadyExists(fmt::format("{}: already exists", path)));
  }
  return store_->Backup(path);
}

}  // namespace interlock::audit

namespace interlock::audit {

Result<VerifyReport> AuditLog::Verify(const VerifyOptions& options) {
  VerifyReport report;
  // Checkpoints first: one is committed with the records it covers, so every
  // checkpoint read before the size is within it, even while appends go on.
  auto stored = store_->Checkpoints();
  if (!stored) return std::unexpected(stored.error());
  auto meta = store_->Meta();
  if (!meta) return std::unexpected(meta.error());
  const uint64_t n = meta->size;
  report.size = n;
  auto bad = [&](std::optional<uint64_t> index, std::string problem) {
    report.ok = false;
    report.first_bad_index = index;
    report.problem = std::move(problem);
    return report;
  };

  auto verifier = NoteVerifier::Parse(options.verifier_key.value_or(signer_->VerifierKey()));
  if (!verifier) return std::unexpected(verifier.error());

  // Every tree head the log must still match: the stored checkpoints and the
  // one the caller saved earlier.
  struct Head {
    uint64_t size;
    Hash root;
    std::string what;
  };
  std::vector<Head> heads;
  auto add_head = [&](const std::string& note, const std::string& what) -> Result<bool> {
    auto text = verifier->Verify(note);
    if (!text) {
      bad(std::nullopt, fmt::format("{}: {}", what, text.error().message()));
      return false;
    }
    auto cp = ParseCheckpoint(*text);
    if (!cp) {
      bad(std::nullopt, fmt::format("{}: {}", what, cp.error().message()));
      return false;
    }
    if (cp->origin != origin_) {
      bad(std::nullopt, fmt::format("{} is for log {}, not {}", what, cp->origin, origin_));
      return false;
    }
    Hash root;
    std::copy(cp->root.begin(), cp->root.end(), root.begin());
    heads.push_back({cp->size, root, what});
    return true;
  };
  for (const store::AuditCheckpoint& c : *stored) {
    auto ok = add_head(c.note, fmt::format("the stored checkpoint of size {}", c.size));
    if (!ok) return std::unexpected(ok.error());
    if (!*ok) return report;
    if (heads.back().size != c.size) {
      return bad(std::nullopt, fmt::format("the stored checkpoint of size {} says size {}", c.size,
                                           heads.back().size));
    }
  }
  report.checkpoints = heads.size();
  if (options.checkpoint_note) {
    auto ok = add_head(*options.checkpoint_note, "the checkpoint given");
    if (!ok) return std::unexpected(ok.error());
    if (!*ok) return report;
  }
  std::sort(heads.begin(), heads.end(),
            [](const Head& a, const Head& b) { return a.size < b.size; });

  std::map<std::string, DataKey> keys;
  {
    std::lock_guard lock(keys_mu_);
    keys = keys_;
  }
  auto load_history = [&]() -> Result<PruneHistory> {
    store::RecordFilter filter;
    filter.event_type = "audit_prune";
    filter.limit = std::numeric_limits<size_t>::max();
    auto prunes = store_->QueryRecords(filter);
    if (!prunes) return std::unexpected(prunes.error());
    PruneHistory h;
    Aead aead;
    std::string leaf, scratch;
    for (const store::AuditRecord& r : *prunes) {
      auto key = keys.find(r.key_id);
      if (!r.payload || key == keys.end()) continue;
      // One that does not open is reported when the scan reaches it.
      if (auto fields = OpenRecord(aead, key->second.key, r, leaf, scratch)) {
        h.Add(r.index, fields->event);
      }
    }
    h.Finish();
    return h;
  };
  // Read when the first record missing its payload or key is met: a full
  // scan, which a log with nothing pruned never needs.
  std::optional<PruneHistory> history;
  bool history_reloaded = false;

  // The log is checked in slices of 2^10 leaves aligned in the tree, on
  // worker threads: each reads a slice's records and tiles, checks every
  // record (row tag, decryption, leaf hash against the stored one) and
  // recomputes the slice's subtree from the stored leaf hashes, comparing
  // each of its nodes with the stored one. This thread then walks the slices
  // in order, meets their findings in the order a scan appending leaf by leaf
  // would, and folds one subtree root per slice into the tree.
  constexpr unsigned kSliceLevels = 10;
  constexpr uint64_t kSliceRecords = uint64_t{1} << kSliceLevels;

  // What a worker finds in one record.
  struct RecordCheck {
    bool missing = false;                // its payload or data key is gone
    bool leaf_differs = false;           // its leaf hash is not the stored one
    std::optional<std::string> problem;  // it is damaged
  };
  // The first stored node of a slice, in the order appending leaf by leaf
  // completes them (by last leaf, then bottom up), that differs from the one
  // recomputed or cannot be read.
  struct NodeProblem {
    uint64_t last_leaf;
    unsigned level;
    uint64_t index;
    std::optional<Error> error;  // unreadable; otherwise it differs
  };
  struct Slice {
    uint64_t begin = 0;
    uint64_t end = 0;
    Result<void> read = Ok();
    std::vector<store::AuditRecord> records;
    std::vector<RecordCheck> checks;
    // By level: the stored leaf hashes that could be read, from `begin` on,
    // then the nodes recomputed over them.
    std::array<std::vector<Hash>, kSliceLevels + 1> nodes;
    std::optional<std::string> leaf_problem;  // why the next stored leaf could not be read
    std::optional<NodeProblem> node_problem;
    bool ready = false;
  };
  struct Worker {
    explicit Worker(const Key256& row_key) : row_mac(row_key) {}
    Aead aead;
    Hmac row_mac;
    TreeHasher hasher;
    std::string scratch, leaf;
    std::array<TileSpan, 3> tiles;  // tile levels 0 to 2 hold tree levels 0 to 11
  };

  auto check_record = [&](const store::AuditRecord& r, const Hash* stored_leaf,
                          Worker& w) -> RecordCheck {
    // A payload authenticates its row; only a row without one, or one that
    // fails, needs the row tag to tell what was altered.
    RecordCheck c;
    auto key = keys.find(r.key_id);
    if (r.payload && key != keys.end()) {
      auto fields = OpenRecord(w.aead, key->second.key, r, w.leaf, w.scratch);
      if (fields) {
        c.leaf_differs = stored_leaf != nullptr && w.hasher.Leaf(w.leaf) != *stored_leaf;
        return c;
      }
      c.problem = fields.error().message();
    } else {
      c.missing = true;
    }
    if (!ConstantTimeEqual(RowTag(w.row_mac, r, w.scratch), r.row_tag)) {
      c.problem = fmt::format(
          "record {}: its row was altered (index, time, class, key id or query columns no longer "
          "match the row tag)",
          r.index);
    }
    return c;
  };

  auto check_slice = [&](Slice& slice, Worker& w) {
    slice.read = store_->ReadRecords(slice.begin, slice.end, slice.records);
    if (!slice.read) return;
    for (size_t t = 0; t < w.tiles.size(); ++t) {
      const unsigned shift = kTileHeight * (t + 1u);  // a tile of level t spans 16^(t+1) leaves
      w.tiles[t].Read(*store_, static_cast<uint8_t>(t), slice.begin >> shift,
                      ((slice.end - 1) >> shift) + 1);
    }
    std::vector<Hash>& leaves = slice.nodes[0];
    leaves.clear();
    slice.leaf_problem.reset();
    for (uint64_t i = slice.begin; i < slice.end; ++i) {
      auto stored = w.tiles[0].Node(0, i);
      if (!stored) {
        slice.leaf_problem = fmt::format("record {}: {}", i, stored.error().message());
        break;
      }
      Hash& h = leaves.emplace_back();
      std::memcpy(h.data(), *stored, h.size());
    }

    slice.checks.resize(slice.records.size());
    for (size_t k = 0; k < slice.records.size(); ++k) {
      const store::AuditRecord& r = slice.records[k];
      const bool aligned = r.index == slice.begin + k && k < leaves.size();
      slice.checks[k] = check_record(r, aligned ? &leaves[k] : nullptr, w);
    }

    // The subtree over the leaves read, level by level: the slice starts on a
    // multiple of 2^kSliceLevels, so nodes pair up within each level.
    slice.node_problem.reset();
    for (unsigned level = 1; level <= kSliceLevels; ++level) {
      const std::vector<Hash>& below = slice.nodes[level - 1];
      std::vector<Hash>& here = slice.nodes[level];
      here.resize(below.size() / 2);
      for (size_t j = 0; j < here.size(); ++j) {
        here[j] = w.hasher.Node(below[2 * j], below[2 * j + 1]);
      }
      const uint64_t first = slice.begin >> level;
      for (size_t j = 0; j < here.size(); ++j) {
        const uint64_t index = first + j;
        const uint64_t last_leaf = ((index + 1) << level) - 1;
        // Levels go up, so a problem already found completes no later.
        if (slice.node_problem && slice.node_problem->last_leaf <= last_leaf) break;
        auto stored = w.tiles[level / kTileHeight].Node(level, index);
        if (!stored) {
          slice.node_problem = NodeProblem{last_leaf, level, index, stored.error()};
        } else if (std::memcmp(*stored, here[j].data(), here[j].size()) != 0) {
          slice.node_problem = NodeProblem{last_leaf, level, index, std::nullopt};
        }
        if (slice.node_problem) break;
      }
    }
  };

  // One worker more than cores, so that a core does not idle while its
  // worker waits for the disk; the store reads ranges on a few connections
  // at once. Beyond a few cores more workers would only wait (and hold a
  // slice, about 1 MB, each). Each may run a slice ahead of the one this
  // thread waits for.
  constexpr uint64_t kMaxWorkers = 8;
  const uint64_t slice_count = (n + kSliceRecords - 1) / kSliceRecords;
  const uint64_t cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> workers(std::min({cores + 1, kMaxWorkers, slice_count}));
  std::vector<Slice> slices(2 * workers.size());
  std::mutex m;
  std::condition_variable claim_cv, done_cv;
  uint64_t claimed = 0;   // slices handed to workers
  uint64_t consumed = 0;  // slices this thread is done with
  bool quit = false;
  auto work = [&] {
    Worker w(row_key_);
    for (;;) {
      Slice* slice;
      {
        std::unique_lock lock(m);
        claim_cv.wait(lock, [&] {
          return quit || (claimed < slice_count && claimed < consumed + slices.size());
        });
        if (quit) return;
        slice = &slices[claimed % slices.size()];
        slice->begin = claimed * kSliceRecords;
        slice->end = std::min(n, slice->begin + kSliceRecords);
        ++claimed;
      }
      check_slice(*slice, w);
      {
        std::lock_guard lock(m);
        slice->ready = true;
      }
      done_cv.notify_one();
    }
  };
  for (std::thread& t : workers) t = std::thread(work);
  struct Stop {
    std::function<void()> f;
    ~Stop() { f(); }
  } stop{[&] {
    {
      std::lock_guard lock(m);
      quit = true;
    }
    claim_cv.notify_all();
    for (std::thread& t : workers) t.join();
  }};

  TileNodes nodes(*store_, kSliceRecords / kTileWidth);  // the levels above the slices
  TreeHasher hasher;
  CompactRange range;
  size_t next_head = 0;
  uint64_t last_good_head = 0;
  while (next_head < heads.size() && heads[next_head].size == 0) ++next_head;
  std::optional<std::pair<unsigned, uint64_t>> node_mismatch;
  Result<void> node_error = Ok();
  auto check_node = [&](unsigned level, uint64_t index, const Hash& hash) {
    if (node_mismatch || !node_error) return;
    auto stored_node = nodes.Node(level, index);
    if (!stored_node) {
      node_error = std::unexpected(stored_node.error());
    } else if (*stored_node != hash) {
      node_mismatch = {level, index};
    }
  };
  auto node_differs = [&](unsigned level, uint64_t index) {
    return bad(index << level,
               fmt::format("the stored tree node at level {}, index {} differs from the one "
                           "recomputed from records {} to {}",
                           level, index, index << level, ((index + 1) << level) - 1));
  };
  // Appends to `tree`, whose size is slice.begin, the complete subtrees of
  // the slice's first `count` < 2^kSliceLevels leaves, largest first: each is
  // aligned, so none can fail, and they complete nothing above the slice.
  auto append_within = [&](CompactRange& tree, const Slice& slice, uint64_t count) {
    uint64_t at = slice.begin;
    for (unsigned level = kSliceLevels + 1; level-- > 0;) {
      if ((count >> level & 1) == 0) continue;
      const Hash& node = slice.nodes[level][(at - slice.begin) >> level];
      [[maybe_unused]] auto appended =
          tree.AppendSubtree(level, node, hasher, [](unsigned, uint64_t, const Hash&) {});
      at += uint64_t{1} << level;
    }
  };

  for (uint64_t s = 0; s < slice_count; ++s) {
    Slice& slice = slices[s % slices.size()];
    {
      std::unique_lock lock(m);
      done_cv.wait(lock, [&] { return slice.ready; });
    }
    if (!slice.read) return std::unexpected(slice.read.error());
    for (uint64_t i = slice.begin; i < slice.end; ++i) {
      const size_t k = i - slice.begin;
      if (k >= slice.records.size() || slice.records[k].index != i) {
        return bad(i, fmt::format("record {} is missing", i));
      }
      if (k >= slice.nodes[0].size()) return bad(i, *slice.leaf_problem);
      const store::AuditRecord& r = slice.records[k];
      const RecordCheck& check = slice.checks[k];
      if (check.problem) return bad(i, *check.problem);
      if (check.missing) {
        if (!history) {
          auto loaded = load_history();
          if (!loaded) return std::unexpected(loaded.error());
          history = std::move(*loaded);
        }
        // A prune that ran while this verification did is logged past its end.
        if (!history->Explains(r) && !history_reloaded) {
          auto loaded = load_history();
          if (!loaded) return std::unexpected(loaded.error());
          history = std::move(*loaded);
          history_reloaded = true;
        }
        if (!history->Explains(r)) {
          return bad(i, fmt::format("record {}: its {} is gone, but no audit_prune in the log "
                                    "removed it (class {}, recorded {})",
                                    i, r.payload ? "data key" : "payload",
                                    r.retention_class < kRetentionClasses
                                        ? kRetentionClassNames[r.retention_class]
                                        : "unknown",
                                    FormatTimestamp(r.recorded_at)));
        }
        ++report.pruned;
      } else if (check.leaf_differs) {
        return bad(i, fmt::format("record {}: its leaf hash differs from the one in the tree", i));
      }
      if (slice.node_problem && slice.node_problem->last_leaf == i) {
        const NodeProblem& p = *slice.node_problem;
        if (p.error) return std::unexpected(*p.error);
        return node_differs(p.level, p.index);
      }
      if (i + 1 == slice.begin + kSliceRecords) {
        auto ok =
            range.AppendSubtree(kSliceLevels, slice.nodes[kSliceLevels][0], hasher, check_node);
        if (!ok) return bad(i, ok.error().message());
        if (!node_error) return std::unexpected(node_error.error());
        if (node_mismatch) return node_differs(node_mismatch->first, node_mismatch->second);
      }
      // Several heads may share a size (a stored checkpoint and the one
      // given): each is judged against the last matching head below it.
      while (next_head < heads.size() && heads[next_head].size == i + 1) {
        Hash root;
        if (range.size() == i + 1) {
          root = range.Root(hasher);
        } else {
          CompactRange partial = range;
          append_within(partial, slice, i + 1 - slice.begin);
          root = partial.Root(hasher);
        }
        if (root != heads[next_head].root) {
          return bad(last_good_head,
                     fmt::format("the log no longer matches {} (size {}): an entry between "
                                 "index {} and {} was changed",
                                 heads[next_head].what, heads[next_head].size, last_good_head,
                                 heads[next_head].size - 1));
        }
        ++next_head;
      }
      if (next_head > 0 && heads[next_head - 1].size == i + 1) last_good_head = i + 1;
      if (options.progress && ((i + 1) % 65536 == 0 || i + 1 == n)) options.progress(i + 1, n);
    }
    if (range.size() != slice.end) append_within(range, slice, slice.end - slice.begin);
    {
      std::lock_guard lock(m);
      slice.ready = false;
      ++consumed;
    }
    claim_cv.notify_one();
  }
  if (next_head < heads.size()) {
    return bad(n, fmt::format("the log is truncated: it has {} entries, but {} covers {}", n,
                              heads[next_head].what, heads[next_head].size));
  }
  report.root = range.Root(hasher);
  // The state rows beside the log must be what it commits to.
  auto state = CheckState();
  if (!state) return std::unexpected(state.error());
  if (*state) return bad(std::nullopt, **state);
  return report;
}

}  // namespace interlock::audit
