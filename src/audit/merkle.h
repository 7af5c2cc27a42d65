// The Merkle tree of the audit log, as defined by RFC 9162 (Certificate
// Transparency v2) §2.1: hashing, the compact right edge used to append, tree
// roots, inclusion and consistency proofs, and their verification.
//
// Hashing: a leaf is SHA-256(0x00 || entry), an interior node is
// SHA-256(0x01 || left || right), and the root of the empty tree is
// SHA-256(""). The prefixes keep a leaf from ever passing for a node.
//
// Node addressing: node (level, index) is the root of the complete subtree
// over leaves [index << level, (index + 1) << level); level 0 nodes are leaf
// hashes. Only complete nodes are stored. The hash of a range that is not a
// complete subtree (the right edge of a tree whose size is not a power of two)
// is recomputed from at most log2(n) stored nodes when a proof needs it.
//
// Limits: tree sizes and leaf indices are at most kMaxTreeSize, because the
// storage layer keeps them in signed 64-bit SQLite integers. Arguments out of
// range return InvalidArgument; no input crashes this module.
//
// Errors: arguments out of range are InvalidArgument. A proof that does not
// verify is Corruption, and the message says which check failed. An error from
// a NodeSource is returned unchanged.
//
// Thread safety: a TreeHasher or CompactRange must not be used from two
// threads at once. LeafHash, NodeHash and EmptyRoot are thread safe (each
// thread has its own hasher). The proof functions touch only their arguments,
// so they are thread safe as long as each call has its own TreeHasher and
// NodeSource.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace interlock::audit {

using Hash = std::array<uint8_t, 32>;

// The largest tree size and the largest leaf index plus one: 2^63 - 1.
inline constexpr uint64_t kMaxTreeSize = (uint64_t{1} << 63) - 1;

// Lowercase hex, 64 characters.
std::string HashHex(const Hash& hash);

// Parses exactly 64 hex digits (either case). InvalidArgument otherwise, e.g.
// "a hash is 64 hex digits, got 63 characters".
Result<Hash> ParseHashHex(std::string_view hex);

// RFC 9162 hashing with one reused OpenSSL context, for hot loops: a 65-byte
// node hash costs about 0.1 µs. An OpenSSL failure while hashing in memory
// means the library is unusable, so it aborts the process rather than return
// a wrong hash.
//
// Thread safety: not thread safe; use one per thread. A moved-from TreeHasher
// may only be destroyed or assigned to.
class TreeHasher {
 public:
  TreeHasher();
  ~TreeHasher();
  TreeHasher(TreeHasher&& other) noexcept;
  TreeHasher& operator=(TreeHasher&& other) noexcept;
  TreeHasher(const TreeHasher&) = delete;
  TreeHasher& operator=(const TreeHasher&) = delete;

  Hash Leaf(std::span<const uint8_t> leaf_bytes);  // SHA-256(0x00 || leaf)
  Hash Leaf(std::string_view leaf_bytes);          // the same, for text entries
  Hash Node(const Hash& left, const Hash& right);  // SHA-256(0x01 || left || right)
  Hash Empty();                                    // SHA-256(""), the empty tree's root

  // How many hashes this hasher has computed; for tests and metrics.
  uint64_t hash_count() const { return hash_count_; }

 private:
  void Init();
  Hash Final();

  evp_md_ctx_st* ctx_;
  uint64_t hash_count_ = 0;
};

// The same through a per-thread TreeHasher, for code that hashes rarely.
Hash LeafHash(std::span<const uint8_t> leaf_bytes);
Hash LeafHash(std::string_view leaf_bytes);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

// Where proofs read stored nodes from; implemented by the storage layer.
class NodeSource {
 public:
  virtual ~NodeSource() = default;

  // Returns node (level, index). Only ever asked for nodes that are complete
  // within the tree size being proven: ((index + 1) << level) <= size.
  // An error (NotFound, Io, Corruption, ...) aborts the proof and is returned
  // to its caller unchanged.
  virtual Result<Hash> Node(unsigned level, uint64_t index) = 0;
};

// The right edge of a growing tree: the roots of its maximal complete subtrees
// (a "compact range" starting at leaf 0). This is all the state needed to
// append leaves and compute the root, so the writer keeps one in memory.
//
// Thread safety: not thread safe.
class CompactRange {
 public:
  CompactRange() = default;  // the empty tree

  uint64_t size() const { return size_; }

  // One node per set bit of size(), largest (leftmost) subtree first: node i
  // is at the level of the i-th set bit of size() counting from the top.
  const std::vector<Hash>& nodes() const { return nodes_; }

  // InvalidArgument unless size <= kMaxTreeSize and nodes.size() ==
  // popcount(size).
  static Result<CompactRange> FromNodes(uint64_t size, std::vector<Hash> nodes);

  // Reads the popcount(size) nodes of the right edge of a tree of `size`
  // leaves. InvalidArgument if size > kMaxTreeSize.
  static Result<CompactRange> Load(NodeSource& source, uint64_t size);

  // Appends one leaf hash. Calls on_complete(unsigned level, uint64_t index,
  // const Hash& hash) for every node that becomes complete: the leaf itself
  // at (0, old size), then each parent it completes, bottom up. These are
  // exactly the nodes a NodeSource must be able to return from now on, so the
  // storage layer persists them. on_complete is called synchronously, before
  // Append returns, and must not throw.
  // InvalidArgument, with nothing changed, if size() is already kMaxTreeSize.
  template <class OnComplete>
  Result<void> Append(const Hash& leaf_hash, TreeHasher& hasher, OnComplete&& on_complete);

  // Appends the 2^level leaves of a complete subtree at once, given its root
  // (node (level, size() >> level) of the grown tree): the same as appending
  // them one by one, except that on_complete is called only for the nodes
  // above `level` that the subtree completes, bottom up, not for the subtree
  // itself or the nodes inside it, which the caller has checked or stored.
  // on_complete is called synchronously and must not throw. Costs one hash
  // per node completed, so a verifier that checks each subtree elsewhere
  // folds 2^level leaves here for about one hash.
  // InvalidArgument, with nothing changed, unless level < 63, size() is a
  // multiple of 2^level, and size() + 2^level <= kMaxTreeSize.
  template <class OnComplete>
  Result<void> AppendSubtree(unsigned level, const Hash& root, TreeHasher& hasher,
                             OnComplete&& on_complete);

  // The RFC 9162 root (MTH) of the whole tree; SHA-256("") when empty.
  Hash Root(TreeHasher& hasher) const;

 private:
  CompactRange(uint64_t size, std::vector<Hash> nodes) : size_(size), nodes_(std::move(nodes)) {}
  // InvalidArgument unless a subtree of 2^level leaves can be appended to a
  // tree of `size`.
  static Result<void> CheckSubtree(uint64_t size, unsigned level);

  uint64_t size_ = 0;
  std::vector<Hash> nodes_;
};

// The root of the tree of the first `size` leaves: SHA-256("") for size 0,
// otherwise popcount(size) reads and popcount(size) - 1 hashes.
// InvalidArgument if size > kMaxTreeSize.
Result<Hash> RootAt(NodeSource& source, uint64_t size, TreeHasher& hasher);

// RFC 9162 §2.1.3.1 PATH(index, D[size]): sibling hashes from the leaf up.
// InvalidArgument unless index < size <= kMaxTreeSize.
// Cost: at most 2 * ceil(log2(size)) reads and ceil(log2(size)) hashes.
Result<std::vector<Hash>> InclusionProof(NodeSource& source, uint64_t index, uint64_t size,
                                         TreeHasher& hasher);

// RFC 9162 §2.1.4.1 PROOF(old_size, D[new_size]); empty when the sizes are
// equal. InvalidArgument unless 0 < old_size <= new_size <= kMaxTreeSize
// (RFC 9162 defines no proof from the empty tree, which every tree extends).
// Cost: at most 2 * ceil(log2(new_size)) reads and ceil(log2(new_size)) hashes.
Result<std::vector<Hash>> ConsistencyProof(NodeSource& source, uint64_t old_size, uint64_t new_size,
                                           TreeHasher& hasher);

// RFC 9162 §2.1.3.2: checks that `proof` leads from `leaf_hash` at `index` to
// `root` of a tree of `size` leaves. InvalidArgument unless index < size <=
// kMaxTreeSize; Corruption if the proof has the wrong length or leads to
// another root. Note that the proof alone does not pin `size`: trees whose
// paths to `index` have the same shape share their proofs (e.g. leaf 0 in
// trees of 5 to 8 leaves), so the size must come from a trusted tree head.
Result<void> VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                             std::span<const Hash> proof, const Hash& root);

// RFC 9162 §2.1.4.2: checks that the tree of `new_size` leaves with
// `new_root` extends the tree of `old_size` leaves with `old_root`. Equal
// sizes need an empty proof and equal roots. InvalidArgument unless
// 0 < old_size <= new_size <= kMaxTreeSize; Corruption if the proof has the
// wrong length or does not reproduce both roots.
Result<void> VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                               const Hash& new_root, std::span<const Hash> proof);

// Implementation.

template <class OnComplete>
Result<void> CompactRange::Append(const Hash& leaf_hash, TreeHasher& hasher,
                                  OnComplete&& on_complete) {
  if (size_ == kMaxTreeSize) {
    return std::unexpected(Error::InvalidArgument("the tree is full: it has the maximum size"));
  }
  // The leaf is a subtree of level 0: it completes its left siblings.
  on_complete(0u, size_, leaf_hash);
  return AppendSubtree(0, leaf_hash, hasher, std::forward<OnComplete>(on_complete));
}

template <class OnComplete>
Result<void> CompactRange::AppendSubtree(unsigned level, const Hash& root, TreeHasher& hasher,
                                         OnComplete&& on_complete) {
  if (auto fits = CheckSubtree(size_, level); !fits) return fits;
  const uint64_t leaves = uint64_t{1} << level;
  // The subtree is node (level, size_ >> level); every trailing one bit of
  // that index is a complete subtree on the edge, its left sibling, which
  // it completes: merge them bottom up.
  uint64_t index = size_ >> level;
  Hash node = root;
  while ((index & 1) != 0) {
    node = hasher.Node(nodes_.back(), node);
    nodes_.pop_back();
    index >>= 1;
    ++level;
    on_complete(level, index, std::as_const(node));
  }
  nodes_.push_back(node);
  size_ += leaves;
  return Ok();
}

}  // namespace interlock::audit
