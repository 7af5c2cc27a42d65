// Verification of the whole log: every record, tile, checkpoint, data key
// and state row against what the log commits to. One file, as Verify is one
// pass with its workers, and the two helpers here serve it alone.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <thread>

#include "audit/log_impl.h"

namespace interlock::audit {
namespace {

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

}  // namespace

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
    MutexLock lock(&keys_mu_);
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
  // The hand-off between the workers and this thread. A worker claims the
  // next slice while fewer than slices.size() are claimed and not yet
  // consumed, checks it without the lock, then marks its slot ready.
  struct Handoff {
    Mutex mu;
    CondVar claim_cv, done_cv;
    uint64_t claimed GUARDED_BY(mu) = 0;   // slices handed to workers
    uint64_t consumed GUARDED_BY(mu) = 0;  // slices this thread is done with
    bool quit GUARDED_BY(mu) = false;
    std::vector<bool> ready GUARDED_BY(mu);  // by slot of `slices`
  } h;
  {
    MutexLock lock(&h.mu);
    h.ready.assign(slices.size(), false);
  }
  auto work = [&] {
    Worker w(row_key_);
    for (;;) {
      size_t slot;
      {
        MutexLock lock(&h.mu);
        while (!h.quit && !(h.claimed < slice_count && h.claimed < h.consumed + slices.size())) {
          h.claim_cv.Wait(&h.mu);
        }
        if (h.quit) return;
        slot = h.claimed % slices.size();
        slices[slot].begin = h.claimed * kSliceRecords;
        slices[slot].end = std::min(n, slices[slot].begin + kSliceRecords);
        ++h.claimed;
      }
      check_slice(slices[slot], w);
      {
        MutexLock lock(&h.mu);
        h.ready[slot] = true;
      }
      h.done_cv.Signal();
    }
  };
  for (std::thread& t : workers) t = std::thread(work);
  struct Stop {
    std::function<void()> f;
    ~Stop() { f(); }
  } stop{[&] {
    {
      MutexLock lock(&h.mu);
      h.quit = true;
    }
    h.claim_cv.SignalAll();
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
    const size_t slot = s % slices.size();
    Slice& slice = slices[slot];
    {
      MutexLock lock(&h.mu);
      while (!h.ready[slot]) h.done_cv.Wait(&h.mu);
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
      MutexLock lock(&h.mu);
      h.ready[slot] = false;
      ++h.consumed;
    }
    h.claim_cv.Signal();
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
