#include "store/fault_store.h"

#include <utility>

namespace interlock::store {

FaultStore::FaultStore(std::unique_ptr<AuditStore> inner) : inner_(std::move(inner)) {}

void FaultStore::FailAfter(StoreOp op, uint64_t skip, Error error, bool sticky) {
  std::lock_guard lock(mu_);
  plans_[static_cast<size_t>(op)] = Plan{true, skip, sticky, std::move(error)};
}

void FaultStore::Clear() {
  std::lock_guard lock(mu_);
  plans_.fill(Plan{});
  durable_left_.reset();
}

uint64_t FaultStore::Calls(StoreOp op) const {
  std::lock_guard lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

void FaultStore::ResetCounters() {
  std::lock_guard lock(mu_);
  calls_.fill(0);
}

void FaultStore::PowerLossAfter(uint64_t durable) {
  std::lock_guard lock(mu_);
  durable_left_ = durable;
  lost_ = 0;
}

uint64_t FaultStore::LostCommits() const {
  std::lock_guard lock(mu_);
  return lost_;
}

std::optional<Error> FaultStore::Judge(StoreOp op) {
  std::lock_guard lock(mu_);
  calls_[static_cast<size_t>(op)] += 1;
  Plan& plan = plans_[static_cast<size_t>(op)];
  if (!plan.armed) return std::nullopt;
  if (plan.skip > 0) {
    plan.skip -= 1;
    return std::nullopt;
  }
  std::optional<Error> error = plan.error;
  if (!plan.sticky) plan = Plan{};
  return error;
}

Result<std::string> FaultStore::ClaimLogId(const std::string& proposed) {
  if (auto error = Judge(StoreOp::kClaimLogId)) return std::unexpected(std::move(*error));
  return inner_->ClaimLogId(proposed);
}

Result<AuditMeta> FaultStore::Meta() {
  if (auto error = Judge(StoreOp::kMeta)) return std::unexpected(std::move(*error));
  return inner_->Meta();
}

Result<PruneCounts> FaultStore::Commit(const AuditBatch& batch) {
  if (auto error = Judge(StoreOp::kCommit)) return std::unexpected(std::move(*error));
  {
    std::lock_guard lock(mu_);
    if (durable_left_) {
      if (*durable_left_ == 0) {
        // Acknowledged, never written. What pruning would have done is not
        // known without the inner store: nothing, as far as the caller sees.
        lost_ += 1;
        return PruneCounts{};
      }
      *durable_left_ -= 1;
    }
  }
  return inner_->Commit(batch);
}

Result<void> FaultStore::ReadTiles(uint8_t level, uint64_t from, uint64_t to,
                                   std::vector<AuditTile>& out) {
  if (auto error = Judge(StoreOp::kReadTiles)) return std::unexpected(std::move(*error));
  return inner_->ReadTiles(level, from, to, out);
}

Result<std::vector<AuditTile>> FaultStore::EdgeTiles() {
  if (auto error = Judge(StoreOp::kEdgeTiles)) return std::unexpected(std::move(*error));
  return inner_->EdgeTiles();
}

Result<void> FaultStore::ReadRecords(uint64_t from, uint64_t to, std::vector<AuditRecord>& out) {
  if (auto error = Judge(StoreOp::kReadRecords)) return std::unexpected(std::move(*error));
  return inner_->ReadRecords(from, to, out);
}

Result<std::vector<AuditRecord>> FaultStore::QueryRecords(const RecordFilter& filter) {
  if (auto error = Judge(StoreOp::kQueryRecords)) return std::unexpected(std::move(*error));
  return inner_->QueryRecords(filter);
}

Result<std::vector<AuditKey>> FaultStore::Keys() {
  if (auto error = Judge(StoreOp::kKeys)) return std::unexpected(std::move(*error));
  return inner_->Keys();
}

Result<std::vector<AuditCheckpoint>> FaultStore::Checkpoints() {
  if (auto error = Judge(StoreOp::kCheckpoints)) return std::unexpected(std::move(*error));
  return inner_->Checkpoints();
}

Result<std::vector<AuditGrant>> FaultStore::Grants(const std::string& principal) {
  if (auto error = Judge(StoreOp::kGrants)) return std::unexpected(std::move(*error));
  return inner_->Grants(principal);
}

Result<std::vector<StateRow>> FaultStore::State(const StateQuery& query) {
  if (auto error = Judge(StoreOp::kState)) return std::unexpected(std::move(*error));
  return inner_->State(query);
}

Result<std::vector<StateRow>> FaultStore::AllState() {
  if (auto error = Judge(StoreOp::kAllState)) return std::unexpected(std::move(*error));
  return inner_->AllState();
}

Result<uint64_t> FaultStore::StateVersion(const std::string& kind) {
  if (auto error = Judge(StoreOp::kStateVersion)) return std::unexpected(std::move(*error));
  return inner_->StateVersion(kind);
}

Result<void> FaultStore::Backup(const std::string& path) {
  if (auto error = Judge(StoreOp::kBackup)) return std::unexpected(std::move(*error));
  return inner_->Backup(path);
}

}  // namespace interlock::store
