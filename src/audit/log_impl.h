// What the files of AuditLog (audit/log*.cc) share: the leaf and row
// format's helpers, the tile reader, the writer's jobs and state. Private to
// them; the log's interface is audit/log.h.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/crypto.h"
#include "audit/log.h"
#include "audit/merkle.h"
#include "audit/state_binding.h"
#include "audit/tiles.h"
#include "store/audit_store.h"

namespace interlock::audit {

using json = nlohmann::ordered_json;

// Leaf bytes (docs/audit-format.md): version, index, recorded_at, salt,
// retention class, then the event's canonical JSON.
inline constexpr uint8_t kLeafVersion = 1;
inline constexpr size_t kSaltSize = 16;
inline constexpr size_t kLeafHeaderSize = 1 + 8 + 8 + kSaltSize + 1;
inline constexpr size_t kActorTagSize = 16;
inline constexpr std::string_view kRowLabel = "interlock audit row v1";
inline constexpr size_t kRowTagSize = 16;

// Appends the 8 big-endian bytes of `v` to `out`.
void PutBigEndian(std::string* out, uint64_t v);
// The first 8 bytes of `bytes`, big-endian. REQUIRES: bytes.size() >= 8.
uint64_t GetBigEndian(std::string_view bytes);

// A record's row bytes (docs/audit-format.md, section 6): the columns stored
// in the clear beside its sealed payload. They are the payload's associated
// data, and the row tag is their MAC, so they stay checkable once the
// payload is pruned. Built in place: a verification builds one per record.
void RowBytes(const store::AuditRecord& r, std::string& out);
// The row tag of `r`; leaves its row bytes in `scratch`.
std::string RowTag(Hmac& mac, const store::AuditRecord& r, std::string& scratch);

// A state value is bound to its kind and id, so it cannot be moved to another.
// Read grants are state rows of this kind, with id "<principal>@<expiry>".
inline constexpr std::string_view kGrantKind = "audit_grant";
// The associated data that binds a sealed state value to its kind and id.
std::string StateAad(std::string_view kind, std::string_view id);

// Opens a record's payload into `leaf` and checks that it belongs in its row:
// the row bytes authenticate with it, and the index, time and class inside
// are the row's.
Result<LeafFields> OpenRecord(Aead& aead, const Key256& key, const store::AuditRecord& r,
                              std::string& leaf, std::string& scratch);

// Data keys cover one retention class for one calendar month (UTC), so a
// month's key can be destroyed once the month plus the retention has passed.
struct Period {
  std::string name;  // "2026-11"
  UnixMillis end;    // first millisecond of the next month
};
Period PeriodOf(UnixMillis t);

// The error of a node whose tile is missing or damaged.
Error TileMissing(const TileSlot& slot, unsigned level, uint64_t index);

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

}  // namespace interlock::audit
