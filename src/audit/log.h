// The audit trail: an append-only, encrypted RFC 9162 Merkle log with signed
// checkpoints, kept in the AuditStore it is given (store/audit_store.h); the
// entry point chooses which.
//
// Appends are acknowledged only once durable. Concurrent appends are gathered
// by one writer thread into one transaction and one fsync (group commit).
// Each record's leaf bytes (docs/audit-format.md) are hashed into the tree and
// stored sealed with AES-256-GCM under a data key of the record's retention
// class and month; data keys are wrapped by the master key, which lives
// outside the database. Pruning drops expired payloads and destroys data keys
// whose whole period has expired, while leaf hashes stay, so every proof and
// checkpoint still verifies.
//
// Access rules are the caller's: Query and Export take a Reader the layer
// above built from the governance; the log enforces the scope it is given and
// appends a record of every read before returning anything, refusing the read
// if that record cannot be made durable.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/crypto.h"
#include "audit/event.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/state_binding.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/mutex.h"
#include "core/random.h"
#include "store/audit_store.h"

namespace interlock::audit {

inline constexpr size_t kRetentionClasses = kRetentionClassNames.size();
inline constexpr int64_t kDay = 86'400'000;

struct LogOptions {
  std::string data_dir;
  FileSystem* fs = nullptr;
  const Clock* clock = nullptr;
  Random* random = nullptr;
  // Values of INTERLOCK_MASTER_KEY and INTERLOCK_MASTER_KEY_FILE ("" if unset).
  std::string master_key_env;
  std::string master_key_file_env;
  // Retention per class (milliseconds, by RetentionClass), from the governance;
  // a record whose event fits several classes is kept for the longest.
  std::array<int64_t, 5> retention = {kDay * 7 * 365, kDay * 365, kDay * 90, kDay * 7 * 365,
                                      kDay * 7 * 365};
  int64_t checkpoint_interval_ms = 1000;  // sign a checkpoint at most this often
  size_t max_batch_records = 16384;
};

struct Appended {
  uint64_t index = 0;
  Hash leaf_hash{};
};

// One record as read back.
struct Entry {
  uint64_t index = 0;
  UnixMillis recorded_at = 0;
  std::string retention_class;
  std::string event;  // canonical JSON; empty once pruned
  std::string leaf;   // the exact leaf bytes; empty once pruned
  Hash leaf_hash{};
  bool pruned = false;
};

enum class ReadScope : uint8_t { kNone, kOwn, kTeam, kAll };

// Who is reading, as the governance says.
struct Reader {
  std::string id;
  std::string type = "human";
  ReadScope scope = ReadScope::kNone;
  std::vector<std::string> team;  // ids of the reader's team, the reader included
  bool needs_grant = false;       // scope kAll only within an unexpired grant
};

struct QueryFilter {
  std::optional<std::string> actor;
  std::optional<std::string> event_type;
  std::optional<std::string> environment;
  std::optional<UnixMillis> since;
  std::optional<UnixMillis> until;
  uint64_t from_index = 0;
  std::optional<uint64_t> to_index;
  size_t limit = 1000;
};

struct InclusionProofResult {
  uint64_t index = 0;
  uint64_t tree_size = 0;
  Hash leaf_hash{};
  Hash root{};
  std::vector<Hash> proof;
};

struct ConsistencyProofResult {
  uint64_t from = 0;
  uint64_t to = 0;
  Hash from_root{};
  Hash to_root{};
  std::vector<Hash> proof;
};

// Retention period of each class, indexed by RetentionClass.
using RetentionPeriods = std::array<int64_t, kRetentionClasses>;

struct PruneReport {
  uint64_t payloads = 0;
  uint64_t keys = 0;
  std::vector<std::string> shredded_keys;
  Appended record;  // the audit record of the pruning
};

// The fields of a record's leaf bytes (docs/audit-format.md, section 1).
struct LeafFields {
  uint64_t index = 0;
  UnixMillis recorded_at = 0;
  uint8_t retention_class = 0;
  std::string_view event;  // canonical JSON, a view into the leaf bytes
};
// Fails with kCorruption if the bytes are too short or of an unknown version.
Result<LeafFields> ParseLeaf(std::string_view leaf);

// A change to the durable state kept beside the log (approvals, the emergency
// stop, tokens, the notification outbox), committed in the same transaction
// as the audit record that explains it. Values are sealed at rest like
// payloads; `value` absent deletes the row.
struct StateChange {
  std::string kind;
  std::string id;
  std::optional<std::string> value;
};

// What the log's keys are, without their material (for compliance).
struct KeySummary {
  std::string cipher = "AES-256-GCM";
  uint64_t data_keys = 0;            // live data keys (pruning destroys expired ones)
  UnixMillis newest_period_end = 0;  // end of the newest data key's period; 0: none
  std::string master_key_source;     // "environment INTERLOCK_MASTER_KEY", "file PATH"
};

// Group-commit figures since Open.
struct LogStats {
  uint64_t batches = 0;  // transactions committed
  uint64_t records = 0;  // records appended
  uint64_t largest_batch = 0;
};

struct VerifyOptions {
  std::optional<std::string> checkpoint_note;  // a checkpoint saved earlier
  std::optional<std::string> verifier_key;     // default: the log's own key
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct VerifyReport {
  bool ok = true;
  uint64_t size = 0;
  uint64_t pruned = 0;
  uint64_t checkpoints = 0;
  std::optional<uint64_t> first_bad_index;
  std::string problem;  // empty when ok
  Hash root{};
};

class AuditLog {
 public:
  // Opens the log kept in `store`, which it owns from then on. The master
  // key and the checkpoint signing key are files of options.data_dir (made
  // there on first use, as the options say). A new store is given the log's
  // id; the id of an existing one must be the one the signing key signs for.
  static Result<std::unique_ptr<AuditLog>> Open(const LogOptions& options,
                                                std::unique_ptr<store::AuditStore> store);
  // Opens the store with `open_store` only once the master key is loaded,
  // so that a missing or malformed key leaves no new store behind.
  using StoreOpener = std::function<Result<std::unique_ptr<store::AuditStore>>()>;
  static Result<std::unique_ptr<AuditLog>> Open(const LogOptions& options,
                                                const StoreOpener& open_store);
  // Finishes pending appends and signs a final checkpoint.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Validates and appends one event (JSON); returns once it is durable.
  Result<Appended> Append(std::string_view event_json);
  // Appends already validated events together, in order, all or none.
  Result<std::vector<Appended>> AppendEvents(std::vector<Event> events);
  // Appends `events`, in order, and applies `changes` in one transaction;
  // returns once both are durable, or neither happened.
  Result<std::vector<Appended>> Commit(std::vector<Event> events, std::vector<StateChange> changes);
  Result<Appended> Commit(Event event, std::vector<StateChange> changes);
  // The same without waiting: `done` is called once, on the writer thread,
  // when the batch holding it is durable or has failed. Keep `done` short.
  void CommitAsync(std::vector<Event> events, std::vector<StateChange> changes,
                   std::function<void(Result<std::vector<Appended>>)> done);
  // Every committed state row of one kind, as (id, value), by id.
  Result<std::vector<std::pair<std::string, std::string>>> LoadState(const std::string& kind);
  // The committed state rows `query` names, as (id, value), by id.
  Result<std::vector<std::pair<std::string, std::string>>> LoadState(
      const store::StateQuery& query);
  // The store's version of the state rows of `kind`
  // (store::AuditStore::StateVersion): it changes whenever any writer,
  // another process or server among them, commits a row of that kind.
  Result<uint64_t> StateVersion(const std::string& kind) { return store_->StateVersion(kind); }

  // Signs and stores a checkpoint of the log as it is now; returns the note.
  Result<std::string> Checkpoint();
  // The latest signed checkpoint if the log has not grown since it was
  // signed, or if it is younger than checkpoint_interval_ms; else a new one,
  // as Checkpoint. For readers that ask often (GET /v1/audit/checkpoint):
  // they cost no signature each.
  Result<std::string> LatestCheckpoint();
  std::string VerifierKey() const { return signer_->VerifierKey(); }
  const std::string& origin() const { return origin_; }
  uint64_t size() const;

  Result<InclusionProofResult> ProveInclusion(uint64_t index, std::optional<uint64_t> size);
  Result<ConsistencyProofResult> ProveConsistency(uint64_t from, std::optional<uint64_t> to);

  // Records the reader may see, decrypted; appends the record of the read first.
  Result<std::vector<Entry>> Query(const Reader& reader, const QueryFilter& filter);
  // Whether `id` holds an unexpired read grant now.
  Result<bool> HasActiveGrant(const std::string& id);
  // Gives `to` a time-limited read grant; `by` must read everything without one.
  Result<Appended> Grant(const Reader& by, const std::string& to, int64_t duration_ms);

  Result<PruneReport> Prune(const RetentionPeriods& retention, const std::string& actor);
  Result<VerifyReport> Verify(const VerifyOptions& options);
  Result<void> Backup(const std::string& path);

  LogStats stats() const;
  KeySummary Keys() const;

  // Things the user should know (a master key file was just created...).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Job;
  struct DataKey {
    Key256 key{};
    uint8_t retention_class = 0;
    UnixMillis period_end = 0;
  };
  struct WriterState;

  AuditLog() = default;
  Result<void> LoadTree();
  // Adds the stored data keys not yet known (all of them at open).
  Result<void> LoadKeys();
  Result<void> Submit(Job* job);
  void WriterLoop();
  Result<void> RunBatch(std::vector<Job*>& jobs);
  Result<const DataKey*> KeyFor(uint8_t retention_class, const std::string& id,
                                UnixMillis period_end, std::vector<store::AuditKey>* created);
  std::string ActorTag(std::string_view actor) const;
  Result<Entry> Decode(const store::AuditRecord& record, const Hash& leaf_hash, Aead& aead);
  struct ProofTree;
  Result<ProofTree> TreeOfSize(std::optional<uint64_t> size) const;
  Result<Appended> AppendInternal(const std::string& event_json);
  // A state row's value, unsealed; kCorruption if it fails authentication.
  Result<std::string> OpenState(Aead& aead, const store::StateRow& row) const;
  // The state rows as they are stored, bound (audit/state_binding.h).
  Result<StateBindings> CurrentBindings();
  // Whether the state rows are exactly what the log commits to: nullopt if
  // they are, else which row is not and how.
  Result<std::optional<std::string>> CheckState();

  LogOptions options_;
  std::unique_ptr<store::AuditStore> store_;
  std::string origin_;
  std::optional<NoteSigner> signer_;
  Key256 master_{};
  std::string master_fingerprint_;
  std::string master_source_;  // where the master key came from, for messages
  Key256 index_key_{};         // actor tags
  Key256 row_key_{};           // row tags
  Key256 state_key_{};         // sealed state values
  std::vector<std::string> warnings_;

  // Refused reads per reader: when the last one was recorded, and how many
  // were refused since without a record of their own.
  struct Refusals {
    UnixMillis recorded_at = 0;
    uint64_t suppressed = 0;
  };
  static constexpr int64_t kRefusalWindowMs = 60'000;
  Mutex refusals_mu_;
  std::map<std::string, Refusals> refusals_ GUARDED_BY(refusals_mu_);
  mutable Mutex keys_mu_;
  std::map<std::string, DataKey> keys_ GUARDED_BY(keys_mu_);  // by key id

  // Writer state, owned by the writer thread once started.
  std::unique_ptr<WriterState> state_;

  mutable Mutex mu_;
  CondVar work_cv_, done_cv_;
  std::deque<Job*> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t durable_size_ GUARDED_BY(mu_) = 0;
  Hash durable_root_ GUARDED_BY(mu_){};  // the root at durable_size_
  LogStats stats_ GUARDED_BY(mu_);
  std::thread writer_;
};

}  // namespace interlock::audit
