// An AuditStore that wraps another and fails chosen calls on purpose, so a
// test can show what the audit log, and the gate above it, do when the store
// fails a commit or a read, or loses power: over any store, with no state
// shared between tests.
//
// Every call is counted and, unless a fault is planned for it, forwarded to
// the inner store unchanged. A call that fails never reaches the inner store:
// a failed commit changes nothing there, as the AuditStore contract says of a
// commit that fails.
//
// Power loss. The model is a disk whose write cache is lost with the power:
// after PowerLossAfter(n) the next n commits reach the inner store (they were
// made durable), and every commit after them is acknowledged as durable but
// never reaches it. Reads are served by the inner store alone, so they do not
// see lost commits. From the crash point on, treat whatever writes through
// the wrapper as dead (a process dies with the power): close it, and open a
// new store over the same data to see what survived, which is exactly the
// state after the last commit made durable. Only commits are lost:
// ClaimLogId always reaches the inner store.
//
// Thread safety: every member may be called from any thread, concurrently
// with store calls; the inner store is called as concurrently as this one is.
//
// Usage:
//   auto fault = std::make_unique<FaultStore>(std::move(sqlite));
//   FaultStore* faults = fault.get();  // lives as long as the log
//   auto log = AuditLog::Open(options, std::move(fault));
//   faults->FailAfter(StoreOp::kCommit, 0, Error::Io("fsync failed"), /*sticky=*/true);
//   // Every commit now fails, so every append does.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/audit_store.h"

namespace interlock::store {

// The calls of AuditStore a fault can be planned for, one per method.
enum class StoreOp : uint8_t {
  kClaimLogId,
  kMeta,
  kCommit,
  kReadTiles,
  kEdgeTiles,
  kReadRecords,
  kQueryRecords,
  kKeys,
  kCheckpoints,
  kGrants,
  kState,
  kAllState,
  kStateVersion,
  kBackup,
};
inline constexpr size_t kStoreOps = static_cast<size_t>(StoreOp::kBackup) + 1;

// Every call that reads and writes nothing.
inline constexpr std::array<StoreOp, 11> kStoreReads = {
    StoreOp::kMeta,         StoreOp::kReadTiles, StoreOp::kEdgeTiles,   StoreOp::kReadRecords,
    StoreOp::kQueryRecords, StoreOp::kKeys,      StoreOp::kCheckpoints, StoreOp::kGrants,
    StoreOp::kState,        StoreOp::kAllState,  StoreOp::kStateVersion};

class FaultStore final : public AuditStore {
 public:
  // REQUIRES: `inner` is not null.
  explicit FaultStore(std::unique_ptr<AuditStore> inner);

  // Replaces the plan for `op`: the next `skip` calls of `op` go through,
  // the call after them fails with `error` and, if `sticky`, so does every
  // later call of `op` until the next FailAfter(op, ...) or Clear.
  void FailAfter(StoreOp op, uint64_t skip, Error error, bool sticky);
  // The same plan for each op of `ops`.
  template <class Ops>
  void FailAfter(const Ops& ops, uint64_t skip, const Error& error, bool sticky) {
    for (StoreOp op : ops) FailAfter(op, skip, error, sticky);
  }
  // Disarms every op and ends power loss. Counters are kept.
  void Clear();

  // Calls of `op` since construction or the last ResetCounters, failed and
  // lost ones included.
  uint64_t Calls(StoreOp op) const;
  void ResetCounters();

  // Power loss (see the top of this file): the next `durable` commits reach
  // the inner store, and every later one is acknowledged but lost, until
  // Clear. A commit that a fault fails is neither.
  void PowerLossAfter(uint64_t durable);
  // Commits acknowledged but lost since the last PowerLossAfter.
  uint64_t LostCommits() const;

  AuditStore& inner() { return *inner_; }

  const std::string& Location() const override { return inner_->Location(); }
  Result<std::string> ClaimLogId(const std::string& proposed) override;
  Result<AuditMeta> Meta() override;
  Result<PruneCounts> Commit(const AuditBatch& batch) override;
  Result<void> ReadTiles(uint8_t level, uint64_t from, uint64_t to,
                         std::vector<AuditTile>& out) override;
  Result<std::vector<AuditTile>> EdgeTiles() override;
  Result<void> ReadRecords(uint64_t from, uint64_t to, std::vector<AuditRecord>& out) override;
  Result<std::vector<AuditRecord>> QueryRecords(const RecordFilter& filter) override;
  Result<std::vector<AuditKey>> Keys() override;
  Result<std::vector<AuditCheckpoint>> Checkpoints() override;
  Result<std::vector<AuditGrant>> Grants(const std::string& principal) override;
  Result<std::vector<StateRow>> State(const StateQuery& query) override;
  Result<std::vector<StateRow>> AllState() override;
  Result<uint64_t> StateVersion(const std::string& kind) override;
  Result<void> Backup(const std::string& path) override;

 private:
  struct Plan {
    bool armed = false;
    uint64_t skip = 0;
    bool sticky = false;
    std::optional<Error> error;
  };
  // Counts the call and returns the error it is to fail with, if any.
  std::optional<Error> Judge(StoreOp op);

  std::unique_ptr<AuditStore> inner_;
  mutable std::mutex mu_;
  std::array<Plan, kStoreOps> plans_;        // guarded by mu_
  std::array<uint64_t, kStoreOps> calls_{};  // guarded by mu_
  std::optional<uint64_t> durable_left_;     // guarded by mu_; set: power loss planned
  uint64_t lost_ = 0;                        // guarded by mu_
};

}  // namespace interlock::store
