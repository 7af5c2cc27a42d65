// Checkpoints and proofs: signed tree heads, inclusion and consistency
// proofs over the stored tiles.
#include <fmt/format.h>

#include "audit/log_impl.h"

namespace interlock::audit {

Error TileMissing(const TileSlot& slot, unsigned level, uint64_t index) {
  return Error::Corruption(
      fmt::format("tree tile ({}, {}) holding node ({}, {}) is missing or damaged", slot.tile_level,
                  slot.tile_index, level, index));
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

Result<AuditLog::ProofTree> AuditLog::TreeOfSize(std::optional<uint64_t> size) const {
  ProofTree tree;
  {
    MutexLock lock(&mu_);
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

}  // namespace interlock::audit
