// Where the audit log lives. AuditStore is the storage interface the audit
// layer writes through; SqliteAuditStore (store/sqlite_audit_store.h) is the
// embedded default and a PostgreSQL store implements the same contract.
//
// The store knows rows, not cryptography: payloads arrive sealed, tiles arrive
// as hash bytes, and the audit layer (audit/log.h) decides what they mean.
//
// Contract:
//  - Commit applies one AuditBatch in one transaction and returns only when
//    it is durable (fsync). On failure nothing of the batch is visible.
//  - A batch names the log size it extends; if the stored size differs (another
//    process appended meanwhile) Commit fails with kUnavailable and changes
//    nothing, so the writer can reload and retry.
//  - Reads see only committed batches.
//  - A new store has no log id; the first ClaimLogId records one, and it
//    never changes after.
//
// Thread safety: implementations are safe to call from several threads;
// commits are serialised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace interlock::store {

struct AuditRecord {
  uint64_t index = 0;
  UnixMillis recorded_at = 0;
  uint8_t retention_class = 0;
  std::string key_id;       // the data key that sealed the payload
  std::string event_type;   // indexed, for queries
  std::string environment;  // indexed, for queries ("" when none)
  std::string actor_tag;    // keyed hash of the actor id, for queries without plaintext
  std::string row_tag;      // keyed MAC of the fields above: they stay checkable once pruned
  std::optional<std::string> payload;  // sealed leaf bytes; absent once pruned
};

// A tile: the stored nodes of one 16-leaf-wide, 4-level-high slice of the
// Merkle tree (audit/tiles.h gives the layout).
struct AuditTile {
  uint8_t level = 0;
  uint64_t index = 0;
  std::string hashes;
};

struct AuditKey {
  std::string id;
  uint8_t retention_class = 0;
  UnixMillis period_end = 0;  // records sealed with it were recorded before this
  std::string wrapped;        // the data key sealed by the master key
  std::string master_fingerprint;
};

struct AuditCheckpoint {
  uint64_t size = 0;
  UnixMillis created_at = 0;
  std::string note;  // C2SP signed note
};

struct AuditGrant {
  std::string principal;
  std::string granted_by;
  UnixMillis expires_at = 0;
};

// Drop the payloads of one retention class recorded before a time.
struct PruneRule {
  uint8_t retention_class = 0;
  UnixMillis recorded_before = 0;
};

// A row of the durable state of the layers above the log (approvals, the
// emergency stop, tokens, the notification outbox), written in the same
// transaction as the audit record of the change. The value is opaque here.
struct StateRow {
  std::string kind;
  std::string id;
  std::optional<std::string> value;  // absent: delete the row
};

struct AuditBatch {
  uint64_t base_size = 0;            // the log size this batch extends
  std::vector<AuditRecord> records;  // indices base_size, base_size + 1, ...
  std::vector<AuditTile> tiles;      // inserted or replaced
  std::vector<AuditKey> keys;
  std::optional<AuditCheckpoint> checkpoint;
  std::vector<AuditGrant> grants;
  std::vector<PruneRule> prune;
  std::vector<std::string> shred_keys;  // data keys to destroy
  std::vector<StateRow> state;          // upserted or deleted, in order
};

struct PruneCounts {
  uint64_t payloads = 0;
  uint64_t keys = 0;
};

struct RecordFilter {
  uint64_t from_index = 0;
  std::optional<uint64_t> to_index;  // exclusive
  std::optional<UnixMillis> since;   // inclusive
  std::optional<UnixMillis> until;   // exclusive
  std::optional<std::string> event_type;
  std::optional<std::string> environment;
  std::optional<std::vector<std::string>> actor_tags;  // any of these
  size_t limit = 1000;
};

// Which state rows State reads: those of `kind`, by id; with `id`, only
// that one; else those with an id after `after` ("": from the first), at
// most `limit` of them.
struct StateQuery {
  std::string kind;
  std::optional<std::string> id;
  std::string after;
  size_t limit = SIZE_MAX;
};

struct AuditMeta {
  std::string log_id;
  uint64_t size = 0;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Where the store is, for messages (a file path, a database name); never
  // holds a secret.
  virtual const std::string& Location() const = 0;
  // Records `proposed` as the log id if the store has none yet, and returns
  // the id the store holds (`proposed` only if it was new).
  virtual Result<std::string> ClaimLogId(const std::string& proposed) = 0;
  // The log id ("" before ClaimLogId) and the size.
  virtual Result<AuditMeta> Meta() = 0;
  // Applies the batch atomically and durably; returns what pruning did.
  virtual Result<PruneCounts> Commit(const AuditBatch& batch) = 0;

  // The stored tiles of one level with from <= index < to, in index order,
  // into `out` (its capacity reused); missing ones are simply absent.
  virtual Result<void> ReadTiles(uint8_t level, uint64_t from, uint64_t to,
                                 std::vector<AuditTile>& out) = 0;
  // The tile with the highest index on each level, lowest level first.
  virtual Result<std::vector<AuditTile>> EdgeTiles() = 0;
  // Reads the records with from <= index < to into `out`, in index order,
  // reusing its elements' capacity (sequential scans then allocate nothing).
  // Missing indices are simply absent.
  virtual Result<void> ReadRecords(uint64_t from, uint64_t to, std::vector<AuditRecord>& out) = 0;
  virtual Result<std::vector<AuditRecord>> QueryRecords(const RecordFilter& filter) = 0;
  virtual Result<std::vector<AuditKey>> Keys() = 0;
  // Every stored checkpoint, oldest first.
  virtual Result<std::vector<AuditCheckpoint>> Checkpoints() = 0;
  virtual Result<std::vector<AuditGrant>> Grants(const std::string& principal) = 0;
  // The state rows `query` names, by id.
  virtual Result<std::vector<StateRow>> State(const StateQuery& query) = 0;
  // Every state row, by kind and id.
  virtual Result<std::vector<StateRow>> AllState() = 0;
  // A number that grows with every commit that writes or deletes a state
  // row of `kind`, whoever the writer (0 before the first): a cache of those
  // rows reads them again only when it changed. Cheap, and never waits
  // behind a query of records.
  virtual Result<uint64_t> StateVersion(const std::string& kind) = 0;
  // A consistent copy of the whole store at `path`, taken while it is in use.
  virtual Result<void> Backup(const std::string& path) = 0;
};

}  // namespace interlock::store
