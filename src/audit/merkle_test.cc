#include "audit/merkle.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/digest.h"

namespace interlock::audit {
namespace {

Hash H(std::string_view hex) {
  Result<Hash> hash = ParseHashHex(hex);
  EXPECT_TRUE(hash.has_value()) << hex;
  return hash.value_or(Hash{});
}

std::vector<std::string> Hex(std::span<const Hash> hashes) {
  std::vector<std::string> out;
  for (const Hash& hash : hashes) out.push_back(HashHex(hash));
  return out;
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Hash Flip(Hash hash, size_t byte) {
  hash[byte % hash.size()] ^= 0x01;
  return hash;
}

// The leaves of the Certificate Transparency reference test vectors (RFC 6962
// test data, kept in transparency-dev/merkle testonly/constants.go).
const std::vector<std::string>& VectorLeaves() {
  static const std::vector<std::string> leaves = {
      Unhex(""),
      Unhex("00"),
      Unhex("10"),
      Unhex("2021"),
      Unhex("3031"),
      Unhex("40414243"),
      Unhex("5051525354555657"),
      Unhex("606162636465666768696a6b6c6d6e6f"),
  };
  return leaves;
}

// RFC 9162 §2.1 written out as it reads: MTH, PATH and PROOF/SUBPROOF over
// the leaves [begin, end) of `leaves`. It hashes through core/digest's
// Sha256Hasher, so it shares no code with TreeHasher. MTH is memoized only to
// keep the exhaustive tests fast.
class ReferenceTree {
 public:
  explicit ReferenceTree(std::vector<std::string> leaves) : leaves_(std::move(leaves)) {}

  uint64_t leaf_count() const { return leaves_.size(); }

  Hash MTH(uint64_t begin, uint64_t end) {
    if (auto it = memo_.find({begin, end}); it != memo_.end()) return it->second;
    const uint64_t n = end - begin;
    Sha256Hasher sha;
    if (n == 1) {
      sha.Update(std::string(1, '\0'));
      sha.Update(leaves_[begin]);
    } else if (n > 1) {
      const uint64_t k = SplitOf(n);
      const Hash left = MTH(begin, begin + k);
      const Hash right = MTH(begin + k, end);
      sha.Update("\x01");
      sha.Update(std::string(left.begin(), left.end()));
      sha.Update(std::string(right.begin(), right.end()));
    }
    const Hash hash = sha.Finish();
    memo_.emplace(std::pair{begin, end}, hash);
    return hash;
  }

  // PATH(m, D[n]).
  std::vector<Hash> PATH(uint64_t m, uint64_t n) { return Path(m, 0, n); }

  // PROOF(m, D[n]).
  std::vector<Hash> PROOF(uint64_t m, uint64_t n) { return Subproof(m, 0, n, true); }

  // The largest power of two smaller than n.
  static uint64_t SplitOf(uint64_t n) {
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

 private:
  std::vector<Hash> Path(uint64_t m, uint64_t begin, uint64_t end) {
    const uint64_t n = end - begin;
    if (n == 1) return {};
    const uint64_t k = SplitOf(n);
    std::vector<Hash> path;
    if (m < k) {
      path = Path(m, begin, begin + k);
      path.push_back(MTH(begin + k, end));
    } else {
      path = Path(m - k, begin + k, end);
      path.push_back(MTH(begin, begin + k));
    }
    return path;
  }

  std::vector<Hash> Subproof(uint64_t m, uint64_t begin, uint64_t end, bool b) {
    const uint64_t n = end - begin;
    if (m == n) {
      if (b) return {};
      return {MTH(begin, end)};
    }
    const uint64_t k = SplitOf(n);
    std::vector<Hash> proof;
    if (m <= k) {
      proof = Subproof(m, begin, begin + k, b);
      proof.push_back(MTH(begin + k, end));
    } else {
      proof = Subproof(m - k, begin + k, end, false);
      proof.push_back(MTH(begin, begin + k));
    }
    return proof;
  }

  std::vector<std::string> leaves_;
  std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
};

// The shape of PATH(m, D[n]): for each hash, leaf up, whether it is a right
// sibling. The verifier's arithmetic depends on (m, n) only through this, so a
// proof verifies for a wrong (m, n) exactly when the shapes agree.
std::vector<bool> InclusionShape(uint64_t m, uint64_t n) {
  if (n <= 1) return {};
  const uint64_t k = ReferenceTree::SplitOf(n);
  std::vector<bool> shape = m < k ? InclusionShape(m, k) : InclusionShape(m - k, n - k);
  shape.push_back(m < k);
  return shape;
}

// The shape of SUBPROOF(m, D[n], b): whether the old root itself starts the
// path, and which hashes are right siblings.
struct ConsistencyShape {
  bool starts_at_old_root = true;
  std::vector<bool> right;
  bool operator==(const ConsistencyShape&) const = default;
};

ConsistencyShape ShapeOfSubproof(uint64_t m, uint64_t n, bool b) {
  if (m == n) return {b, {}};
  const uint64_t k = ReferenceTree::SplitOf(n);
  ConsistencyShape shape = m <= k ? ShapeOfSubproof(m, k, b) : ShapeOfSubproof(m - k, n - k, false);
  shape.right.push_back(m <= k);
  return shape;
}

bool IsComplete(unsigned level, uint64_t index, uint64_t size) {
  return level < 64 && index < (size >> level);
}

// Serves nodes of a ReferenceTree, and fails the test when asked for a node
// that is not complete within the size being proven.
class ReferenceSource : public NodeSource {
 public:
  explicit ReferenceSource(ReferenceTree& tree) : tree_(tree) {}

  void set_size(uint64_t size) { size_ = size; }

  Result<Hash> Node(unsigned level, uint64_t index) override {
    if (!IsComplete(level, index, size_)) {
      ADD_FAILURE() << "asked for node (" << level << ", " << index << ") of a tree of size "
                    << size_;
      return std::unexpected(Error::Internal("incomplete node"));
    }
    return tree_.MTH(index << level, (index + 1) << level);
  }

 private:
  ReferenceTree& tree_;
  uint64_t size_ = 0;
};

// A real tree of any size up to kMaxTreeSize without storing it: leaf i is
// leaf (i mod 16) of a 16-leaf tree, so every node at level 4 and above is the
// same as the others on its level. Proofs from it verify against RootAt.
class PeriodicSource : public NodeSource {
 public:
  PeriodicSource() {
    TreeHasher hasher;
    for (int i = 0; i < 16; ++i) levels_[0].push_back(hasher.Leaf("leaf " + std::to_string(i)));
    for (size_t level = 1; level < levels_.size(); ++level) {
      const std::vector<Hash>& below = levels_[level - 1];
      for (size_t i = 0; i < below.size(); i += 2) {
        levels_[level].push_back(hasher.Node(below[i], below[(i + 1) % below.size()]));
      }
    }
  }

  void set_size(uint64_t size) { size_ = size; }
  int reads() const { return reads_; }
  void reset_reads() { reads_ = 0; }

  Hash Leaf(uint64_t index) const { return levels_[0][index % 16]; }

  Result<Hash> Node(unsigned level, uint64_t index) override {
    ++reads_;
    if (!IsComplete(level, index, size_)) {
      ADD_FAILURE() << "asked for node (" << level << ", " << index << ") of a tree of size "
                    << size_;
      return std::unexpected(Error::Internal("incomplete node"));
    }
    return levels_[level][index % levels_[level].size()];
  }

 private:
  std::array<std::vector<Hash>, 64> levels_;
  uint64_t size_ = 0;
  int reads_ = 0;
};

// Fails every read.
class FailingSource : public NodeSource {
 public:
  Result<Hash> Node(unsigned level, uint64_t index) override {
    return std::unexpected(Error::Io(fmt::format("disk on fire reading ({}, {})", level, index)));
  }
};

std::vector<std::string> ManyLeaves(size_t count) {
  std::vector<std::string> leaves = VectorLeaves();
  while (leaves.size() < count) leaves.push_back("entry " + std::to_string(leaves.size()));
  return leaves;
}

constexpr uint64_t kExhaustiveSize = 200;

// Hex, leaves, hashing

TEST(MerkleTest, HashHexRoundTrips) {
  const std::string hex = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
  EXPECT_EQ(HashHex(H(hex)), hex);
  EXPECT_EQ(HashHex(H("5DC9DA79A70659A9AD559CB701DED9A2AB9D823AAD2F4960CFE370EFF4604328")), hex);
}

TEST(MerkleTest, ParseHashHexRejectsWrongLengthAndCharacters) {
  Result<Hash> short_hash = ParseHashHex(std::string(63, 'a'));
  ASSERT_FALSE(short_hash);
  EXPECT_EQ(short_hash.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(short_hash.error().message(), "a hash is 64 hex digits, got 63 characters");

  Result<Hash> bad_char = ParseHashHex(std::string(10, '0') + "g" + std::string(53, '0'));
  ASSERT_FALSE(bad_char);
  EXPECT_EQ(bad_char.error().message(), "a hash is 64 hex digits, got 'g' at position 11");

  EXPECT_FALSE(ParseHashHex(""));
  EXPECT_FALSE(ParseHashHex(std::string(65, '0')));
}

TEST(MerkleTest, HashesMatchReferenceVectors) {
  // Level 0 (leaf hashes) and level 1 nodes of the reference vectors.
  const char* const kLeafHashes[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
      "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
  };
  const char* const kLevel1[] = {
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
  };
  TreeHasher hasher;
  std::vector<Hash> leaves;
  for (size_t i = 0; i < 8; ++i) {
    leaves.push_back(hasher.Leaf(VectorLeaves()[i]));
    EXPECT_EQ(HashHex(leaves[i]), kLeafHashes[i]) << "leaf " << i;
  }
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(HashHex(hasher.Node(leaves[2 * i], leaves[2 * i + 1])), kLevel1[i]) << "node " << i;
  }
  EXPECT_EQ(HashHex(hasher.Empty()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hasher.hash_count(), 13u);
}

TEST(MerkleTest, FreeFunctionsAndSpanOverloadAgreeWithHasher) {
  TreeHasher hasher;
  const std::string text = "approve change 42";
  const std::vector<uint8_t> bytes(text.begin(), text.end());
  EXPECT_EQ(LeafHash(text), hasher.Leaf(text));
  EXPECT_EQ(LeafHash(std::span<const uint8_t>(bytes)), hasher.Leaf(text));
  EXPECT_EQ(NodeHash(hasher.Leaf("a"), hasher.Leaf("b")),
            hasher.Node(hasher.Leaf("a"), hasher.Leaf("b")));
  EXPECT_EQ(EmptyRoot(), hasher.Empty());
  // The prefixes separate leaves from nodes: a node is never a leaf of its bytes.
  const Hash a = hasher.Leaf("a");
  std::string node_bytes(a.begin(), a.end());
  node_bytes += node_bytes;
  EXPECT_NE(hasher.Leaf(node_bytes), hasher.Node(a, a));
}

TEST(MerkleTest, MovedHasherKeepsWorking) {
  TreeHasher first;
  const Hash expected = first.Leaf("x");
  TreeHasher second(std::move(first));
  EXPECT_EQ(second.Leaf("x"), expected);
  TreeHasher third;
  third = std::move(second);
  EXPECT_EQ(third.Leaf("x"), expected);
  EXPECT_EQ(third.hash_count(), 3u);  // the count moves with the context
}

// Known answers

const char* const kVectorRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

TEST(MerkleTest, RootsMatchReferenceVectors) {
  ReferenceTree tree(VectorLeaves());
  ReferenceSource source(tree);
  TreeHasher hasher;
  CompactRange range;
  for (uint64_t size = 0; size <= 8; ++size) {
    source.set_size(size);
    Result<Hash> root = RootAt(source, size, hasher);
    ASSERT_TRUE(root) << root.error().message();
    EXPECT_EQ(HashHex(*root), kVectorRoots[size]) << "size " << size;
    EXPECT_EQ(HashHex(range.Root(hasher)), kVectorRoots[size]) << "size " << size;
    EXPECT_EQ(HashHex(tree.MTH(0, size)), kVectorRoots[size]) << "reference, size " << size;
    if (size < 8) {
      ASSERT_TRUE(range.Append(hasher.Leaf(VectorLeaves()[size]), hasher,
                               [](unsigned, uint64_t, const Hash&) {}));
    }
  }
}

TEST(MerkleTest, CompactRangesMatchReferenceVectors) {
  // The compact range of each tree size, as node hashes "level.index".
  const std::map<std::string, std::string> nodes = {
      {"0.0", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
      {"0.2", "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"},
      {"0.4", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"},
      {"0.6", "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"},
      {"1.0", "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"},
      {"1.2", "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"},
      {"2.0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
      {"3.0", "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"},
  };
  const std::vector<std::vector<std::string>> want = {
      {},      {"0.0"},        {"1.0"},        {"1.0", "0.2"},
      {"2.0"}, {"2.0", "0.4"}, {"2.0", "1.2"}, {"2.0", "1.2", "0.6"},
      {"3.0"},
  };
  TreeHasher hasher;
  CompactRange range;
  for (uint64_t size = 0; size <= 8; ++size) {
    std::vector<std::string> want_hex;
    for (const std::string& name : want[size]) want_hex.push_back(nodes.at(name));
    EXPECT_EQ(Hex(range.nodes()), want_hex) << "size " << size;
    if (size < 8) {
      ASSERT_TRUE(range.Append(hasher.Leaf(VectorLeaves()[size]), hasher,
                               [](unsigned, uint64_t, const Hash&) {}));
    }
  }
}

TEST(MerkleTest, InclusionProofsMatchReferenceVectors) {
  struct Vector {
    uint64_t index;
    uint64_t size;
    std::vector<std::string> proof;
  };
  // Published with 1-based leaf numbers; these are 0-based indices.
  const std::vector<Vector> vectors = {
      {0, 1, {}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  ReferenceTree tree(VectorLeaves());
  ReferenceSource source(tree);
  TreeHasher hasher;
  for (const Vector& v : vectors) {
    source.set_size(v.size);
    Result<std::vector<Hash>> proof = InclusionProof(source, v.index, v.size, hasher);
    ASSERT_TRUE(proof) << proof.error().message();
    EXPECT_EQ(Hex(*proof), v.proof) << "leaf " << v.index << ", size " << v.size;
    const Hash leaf = hasher.Leaf(VectorLeaves()[v.index]);
    Result<void> verified = VerifyInclusion(v.index, v.size, leaf, *proof, H(kVectorRoots[v.size]));
    EXPECT_TRUE(verified) << verified.error().message();
  }
}

TEST(MerkleTest, ConsistencyProofsMatchReferenceVectors) {
  struct Vector {
    uint64_t old_size;
    uint64_t new_size;
    std::vector<std::string> proof;
  };
  const std::vector<Vector> vectors = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {6,
       7,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
  };
  ReferenceTree tree(VectorLeaves());
  ReferenceSource source(tree);
  TreeHasher hasher;
  for (const Vector& v : vectors) {
    source.set_size(v.new_size);
    Result<std::vector<Hash>> proof = ConsistencyProof(source, v.old_size, v.new_size, hasher);
    ASSERT_TRUE(proof) << proof.error().message();
    EXPECT_EQ(Hex(*proof), v.proof) << v.old_size << " -> " << v.new_size;
    Result<void> verified = VerifyConsistency(v.old_size, v.new_size, H(kVectorRoots[v.old_size]),
                                              H(kVectorRoots[v.new_size]), *proof);
    EXPECT_TRUE(verified) << verified.error().message();
  }
}

// Exhaustive comparison with the reference

TEST(MerkleTest, RootAtMatchesReferenceForEverySize) {
  ReferenceTree tree(ManyLeaves(kExhaustiveSize));
  ReferenceSource source(tree);
  TreeHasher hasher;
  for (uint64_t size = 0; size <= kExhaustiveSize; ++size) {
    source.set_size(size);
    Result<Hash> root = RootAt(source, size, hasher);
    ASSERT_TRUE(root) << root.error().message();
    ASSERT_EQ(HashHex(*root), HashHex(tree.MTH(0, size))) << "size " << size;
  }
}

// A verification failure, as opposed to success or an argument error.
::testing::AssertionResult Rejected(const Result<void>& result) {
  if (result) return ::testing::AssertionFailure() << "accepted";
  if (result.error().kind() != ErrorKind::kCorruption) {
    return ::testing::AssertionFailure() << "not Corruption: " << result.error().message();
  }
  return ::testing::AssertionSuccess();
}

TEST(MerkleTest, InclusionProofsMatchReferenceAndResistTampering) {
  ReferenceTree tree(ManyLeaves(kExhaustiveSize));
  ReferenceSource source(tree);
  TreeHasher hasher;
  int accepted_at_other_size = 0;
  int rejected_at_other_size = 0;
  for (uint64_t size = 1; size <= kExhaustiveSize; ++size) {
    const Hash root = tree.MTH(0, size);
    for (uint64_t index = 0; index < size; ++index) {
      const std::string at = fmt::format("leaf {} of {}", index, size);
      source.set_size(size);
      Result<std::vector<Hash>> made = InclusionProof(source, index, size, hasher);
      ASSERT_TRUE(made) << at << ": " << made.error().message();
      const std::vector<Hash>& proof = *made;
      ASSERT_EQ(Hex(proof), Hex(tree.PATH(index, size))) << at;
      const Hash leaf = tree.MTH(index, index + 1);
      Result<void> verified = VerifyInclusion(index, size, leaf, proof, root);
      ASSERT_TRUE(verified) << at << ": " << verified.error().message();

      // Every byte of every proof hash in small trees; one byte per hash,
      // rotating through the positions, in larger ones.
      for (size_t i = 0; i < proof.size(); ++i) {
        const size_t first = size <= 32 ? 0 : (index + i) % 32;
        const size_t last = size <= 32 ? 32 : first + 1;
        for (size_t byte = first; byte < last; ++byte) {
          std::vector<Hash> bad = proof;
          bad[i] = Flip(bad[i], byte);
          EXPECT_TRUE(Rejected(VerifyInclusion(index, size, leaf, bad, root)))
              << at << ", proof[" << i << "] byte " << byte;
        }
      }
      EXPECT_TRUE(Rejected(VerifyInclusion(index, size, Flip(leaf, index), proof, root))) << at;
      EXPECT_TRUE(Rejected(VerifyInclusion(index, size, leaf, proof, Flip(root, index)))) << at;
      if (!proof.empty()) {
        EXPECT_TRUE(Rejected(
            VerifyInclusion(index, size, leaf, std::span(proof).first(proof.size() - 1), root)))
            << at << ", truncated";
      }
      std::vector<Hash> longer = proof;
      longer.push_back(root);
      EXPECT_TRUE(Rejected(VerifyInclusion(index, size, leaf, longer, root))) << at << ", extended";
      longer.pop_back();
      longer.insert(longer.begin(), leaf);
      EXPECT_TRUE(Rejected(VerifyInclusion(index, size, leaf, longer, root)))
          << at << ", prepended";

      // Another leaf of the same tree always has another path.
      for (uint64_t other : {index - 1, index + 1, index ^ 1, index ^ 2, index ^ 5}) {
        if (other >= size || other == index) continue;
        EXPECT_TRUE(Rejected(VerifyInclusion(other, size, leaf, proof, root)))
            << at << ", verified as leaf " << other;
      }
      // Another size is accepted exactly when the path has the same shape.
      for (uint64_t other : {size - 1, size + 1, size * 2, size / 2, size + 3}) {
        if (other <= index || other == size) continue;
        const bool same_shape = InclusionShape(index, other) == InclusionShape(index, size);
        Result<void> r = VerifyInclusion(index, other, leaf, proof, root);
        EXPECT_EQ(r.has_value(), same_shape) << at << ", verified as size " << other;
        ++(r ? accepted_at_other_size : rejected_at_other_size);
      }
    }
  }
  // Both outcomes occur: leaf 0 has the same path in trees of 5 to 8 leaves,
  // while leaf 4 of 5 and leaf 4 of 6 do not.
  EXPECT_GT(accepted_at_other_size, 0);
  EXPECT_GT(rejected_at_other_size, 0);
}

TEST(MerkleTest, ConsistencyProofsMatchReferenceAndResistTampering) {
  ReferenceTree tree(ManyLeaves(kExhaustiveSize));
  ReferenceSource source(tree);
  TreeHasher hasher;
  for (uint64_t new_size = 1; new_size <= kExhaustiveSize; ++new_size) {
    const Hash new_root = tree.MTH(0, new_size);
    for (uint64_t old_size = 1; old_size <= new_size; ++old_size) {
      const std::string at = fmt::format("{} -> {}", old_size, new_size);
      const Hash old_root = tree.MTH(0, old_size);
      source.set_size(new_size);
      Result<std::vector<Hash>> made = ConsistencyProof(source, old_size, new_size, hasher);
      ASSERT_TRUE(made) << at << ": " << made.error().message();
      const std::vector<Hash>& proof = *made;
      ASSERT_EQ(Hex(proof), Hex(tree.PROOF(old_size, new_size))) << at;
      Result<void> verified = VerifyConsistency(old_size, new_size, old_root, new_root, proof);
      ASSERT_TRUE(verified) << at << ": " << verified.error().message();

      for (size_t i = 0; i < proof.size(); ++i) {
        const size_t first = new_size <= 32 ? 0 : (old_size + i) % 32;
        const size_t last = new_size <= 32 ? 32 : first + 1;
        for (size_t byte = first; byte < last; ++byte) {
          std::vector<Hash> bad = proof;
          bad[i] = Flip(bad[i], byte);
          EXPECT_TRUE(Rejected(VerifyConsistency(old_size, new_size, old_root, new_root, bad)))
              << at << ", proof[" << i << "] byte " << byte;
        }
      }
      EXPECT_TRUE(Rejected(
          VerifyConsistency(old_size, new_size, Flip(old_root, old_size), new_root, proof)))
          << at;
      EXPECT_TRUE(Rejected(
          VerifyConsistency(old_size, new_size, old_root, Flip(new_root, new_size), proof)))
          << at;
      if (old_size != new_size) {
        EXPECT_TRUE(Rejected(VerifyConsistency(old_size, new_size, new_root, old_root, proof)))
            << at << ", roots swapped";
        EXPECT_TRUE(Rejected(VerifyConsistency(old_size, new_size, old_root, new_root, {})))
            << at << ", empty proof";
        EXPECT_TRUE(Rejected(VerifyConsistency(old_size, new_size, old_root, new_root,
                                               std::span(proof).first(proof.size() - 1))))
            << at << ", truncated";
      }
      std::vector<Hash> longer = proof;
      longer.push_back(new_root);
      EXPECT_TRUE(Rejected(VerifyConsistency(old_size, new_size, old_root, new_root, longer)))
          << at << ", extended";
      longer.pop_back();
      longer.insert(longer.begin(), old_root);
      EXPECT_TRUE(Rejected(VerifyConsistency(old_size, new_size, old_root, new_root, longer)))
          << at << ", prepended";

      // Other sizes are accepted exactly when the proof has the same shape.
      const ConsistencyShape shape = ShapeOfSubproof(old_size, new_size, true);
      const std::pair<uint64_t, uint64_t> others[] = {
          {old_size - 1, new_size},    {old_size + 1, new_size}, {old_size ^ 2, new_size},
          {old_size, new_size + 1},    {old_size, new_size - 1}, {old_size, new_size * 2},
          {old_size + 1, new_size + 1}};
      for (auto [old_other, new_other] : others) {
        if (old_other == 0 || old_other > new_other ||
            (old_other == old_size && new_other == new_size)) {
          continue;
        }
        const bool same_shape = ShapeOfSubproof(old_other, new_other, true) == shape;
        Result<void> r = VerifyConsistency(old_other, new_other, old_root, new_root, proof);
        EXPECT_EQ(r.has_value(), same_shape)
            << at << ", verified as " << old_other << " -> " << new_other;
      }
    }
  }
}

// Compact ranges

TEST(MerkleTest, AppendReportsEveryCompletedNode) {
  ReferenceTree tree(ManyLeaves(kExhaustiveSize));
  ReferenceSource source(tree);
  TreeHasher hasher;
  CompactRange range;
  for (uint64_t size = 0; size < kExhaustiveSize; ++size) {
    using Reported = std::tuple<unsigned, uint64_t, std::string>;
    std::vector<Reported> reported;
    ASSERT_TRUE(range.Append(tree.MTH(size, size + 1), hasher,
                             [&](unsigned level, uint64_t index, const Hash& hash) {
                               reported.emplace_back(level, index, HashHex(hash));
                             }));
    // The new leaf completes itself and one parent per trailing one bit of
    // the old size.
    std::vector<Reported> want;
    for (unsigned level = 0; level <= static_cast<unsigned>(std::countr_one(size)); ++level) {
      const uint64_t index = size >> level;
      want.emplace_back(level, index, HashHex(tree.MTH(index << level, (index + 1) << level)));
    }
    ASSERT_EQ(reported, want) << "appending leaf " << size;

    const uint64_t new_size = size + 1;
    ASSERT_EQ(range.size(), new_size);
    source.set_size(new_size);
    Result<Hash> root_at = RootAt(source, new_size, hasher);
    ASSERT_TRUE(root_at);
    EXPECT_EQ(HashHex(range.Root(hasher)), HashHex(*root_at)) << "size " << new_size;
    EXPECT_EQ(HashHex(range.Root(hasher)), HashHex(tree.MTH(0, new_size))) << "size " << new_size;

    Result<CompactRange> loaded = CompactRange::Load(source, new_size);
    ASSERT_TRUE(loaded) << loaded.error().message();
    EXPECT_EQ(loaded->size(), new_size);
    EXPECT_EQ(Hex(loaded->nodes()), Hex(range.nodes())) << "size " << new_size;

    Result<CompactRange> rebuilt = CompactRange::FromNodes(new_size, range.nodes());
    ASSERT_TRUE(rebuilt) << rebuilt.error().message();
    EXPECT_EQ(Hex(rebuilt->nodes()), Hex(range.nodes()));
    EXPECT_EQ(rebuilt->Root(hasher), range.Root(hasher));
  }
}

TEST(MerkleTest, LoadedRangeContinuesLikeTheOriginal) {
  ReferenceTree tree(ManyLeaves(64));
  ReferenceSource source(tree);
  source.set_size(37);
  TreeHasher hasher;
  Result<CompactRange> range = CompactRange::Load(source, 37);
  ASSERT_TRUE(range);
  for (uint64_t size = 37; size < 64; ++size) {
    ASSERT_TRUE(
        range->Append(tree.MTH(size, size + 1), hasher, [](unsigned, uint64_t, const Hash&) {}));
  }
  EXPECT_EQ(HashHex(range->Root(hasher)), HashHex(tree.MTH(0, 64)));
  EXPECT_EQ(range->nodes().size(), 1u);
}

TEST(MerkleTest, AppendSubtreeEqualsAppendingItsLeaves) {
  // Every aligned subtree that fits, from every size below kExhaustiveSize.
  ReferenceTree tree(ManyLeaves(kExhaustiveSize));
  TreeHasher hasher;
  using Reported = std::tuple<unsigned, uint64_t, std::string>;
  CompactRange before;  // the range of `size` leaves
  int checked = 0;
  for (uint64_t size = 0; size < kExhaustiveSize; ++size) {
    for (unsigned level = 0;
         size % (uint64_t{1} << level) == 0 && size + (uint64_t{1} << level) <= kExhaustiveSize;
         ++level) {
      const uint64_t leaves = uint64_t{1} << level;
      SCOPED_TRACE(fmt::format("2^{} leaves appended to {}", level, size));
      // Given the range grown leaf by leaf, keeping the nodes above the subtree.
      CompactRange one_by_one = before;
      std::vector<Reported> want;
      for (uint64_t leaf = size; leaf < size + leaves; ++leaf) {
        ASSERT_TRUE(one_by_one.Append(tree.MTH(leaf, leaf + 1), hasher,
                                      [&](unsigned l, uint64_t index, const Hash& hash) {
                                        if (l > level) want.emplace_back(l, index, HashHex(hash));
                                      }));
      }
      // When the subtree is appended whole,
      CompactRange whole = before;
      std::vector<Reported> reported;
      Result<void> appended =
          whole.AppendSubtree(level, tree.MTH(size, size + leaves), hasher,
                              [&](unsigned l, uint64_t index, const Hash& hash) {
                                reported.emplace_back(l, index, HashHex(hash));
                              });
      // Then it is the same range, and the same nodes above it completed.
      ASSERT_TRUE(appended) << appended.error().message();
      EXPECT_EQ(reported, want);
      EXPECT_EQ(whole.size(), size + leaves);
      EXPECT_EQ(Hex(whole.nodes()), Hex(one_by_one.nodes()));
      EXPECT_EQ(HashHex(whole.Root(hasher)), HashHex(tree.MTH(0, size + leaves)));
      ++checked;
    }
    ASSERT_TRUE(
        before.Append(tree.MTH(size, size + 1), hasher, [](unsigned, uint64_t, const Hash&) {}));
  }
  EXPECT_GT(checked, 390);  // 200 single leaves, 100 pairs, 50 quads...

  // A range built of subtrees only, as a verifier folds whole slices of a log.
  CompactRange slices;
  for (uint64_t begin = 0; begin + 16 <= 192; begin += 16) {
    ASSERT_TRUE(slices.AppendSubtree(4, tree.MTH(begin, begin + 16), hasher,
                                     [](unsigned, uint64_t, const Hash&) {}));
  }
  EXPECT_EQ(HashHex(slices.Root(hasher)), HashHex(tree.MTH(0, 192)));
}

TEST(MerkleTest, AppendSubtreeRefusesMisalignedOrOversizedSubtrees) {
  TreeHasher hasher;
  int reported = 0;
  auto count = [&](unsigned, uint64_t, const Hash&) { ++reported; };
  CompactRange range;
  for (int leaf = 0; leaf < 6; ++leaf) ASSERT_TRUE(range.Append(Hash{}, hasher, count));
  const std::vector<Hash> nodes = range.nodes();
  reported = 0;

  Result<void> misaligned = range.AppendSubtree(2, Hash{}, hasher, count);
  ASSERT_FALSE(misaligned);
  EXPECT_EQ(misaligned.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(misaligned.error().message(),
            "a subtree of 2^2 leaves cannot be appended to a tree of 6 leaves: the tree's size "
            "must be a multiple of 4");
  Result<void> huge = range.AppendSubtree(63, Hash{}, hasher, count);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(huge.error().message(), "a subtree of 2^63 leaves exceeds the maximum tree size");
  EXPECT_EQ(range.size(), 6u);
  EXPECT_EQ(range.nodes(), nodes);
  EXPECT_EQ(reported, 0);

  // 2^62 leaves fit in an empty tree, but not twice, nor 2^61 after them.
  CompactRange big;
  ASSERT_TRUE(big.AppendSubtree(62, Hash{}, hasher, count));
  EXPECT_EQ(big.size(), uint64_t{1} << 62);
  Result<void> full = big.AppendSubtree(62, Hash{}, hasher, count);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().message(), "the tree is full: a subtree of 2^62 leaves does not fit");
  ASSERT_TRUE(big.AppendSubtree(61, Hash{}, hasher, count));
  EXPECT_EQ(big.size(), (uint64_t{1} << 62) + (uint64_t{1} << 61));
  EXPECT_EQ(big.nodes().size(), 2u);
  EXPECT_EQ(reported, 0);
}

TEST(MerkleTest, FromNodesChecksTheNodeCount) {
  Result<CompactRange> range = CompactRange::FromNodes(5, std::vector<Hash>(3));
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(range.error().message(), "a compact range of size 5 has 2 nodes, got 3");

  Result<CompactRange> one = CompactRange::FromNodes(8, {});
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error().message(), "a compact range of size 8 has 1 node, got 0");

  Result<CompactRange> empty = CompactRange::FromNodes(0, {});
  ASSERT_TRUE(empty);
  TreeHasher hasher;
  EXPECT_EQ(empty->Root(hasher), hasher.Empty());
}

TEST(MerkleTest, AppendRefusesToGrowPastTheMaximum) {
  Result<CompactRange> range = CompactRange::FromNodes(kMaxTreeSize - 1, std::vector<Hash>(62));
  ASSERT_TRUE(range);
  TreeHasher hasher;
  int reported = 0;
  auto count = [&](unsigned, uint64_t, const Hash&) { ++reported; };
  ASSERT_TRUE(range->Append(Hash{}, hasher, count));
  EXPECT_EQ(range->size(), kMaxTreeSize);
  EXPECT_EQ(range->nodes().size(), 63u);
  EXPECT_EQ(reported, 1);

  Result<void> full = range->Append(Hash{}, hasher, count);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(full.error().message(), "the tree is full: it has the maximum size");
  EXPECT_EQ(range->size(), kMaxTreeSize);
  EXPECT_EQ(reported, 1);

  EXPECT_FALSE(CompactRange::FromNodes(kMaxTreeSize + 1, std::vector<Hash>(64)));
}

// Arguments and failures

TEST(MerkleTest, OutOfRangeArgumentsAreInvalid) {
  FailingSource source;  // never reached: arguments are checked first
  TreeHasher hasher;
  auto message = [](const auto& result) {
    EXPECT_FALSE(result);
    if (result) return std::string("<no error>");
    EXPECT_EQ(result.error().kind(), ErrorKind::kInvalidArgument) << result.error().message();
    return result.error().message();
  };
  const uint64_t too_big = kMaxTreeSize + 1;
  const Hash h{};

  EXPECT_EQ(message(InclusionProof(source, 0, 0, hasher)),
            "leaf index 0 is out of range for a tree of size 0");
  EXPECT_EQ(message(InclusionProof(source, 8, 8, hasher)),
            "leaf index 8 is out of range for a tree of size 8");
  EXPECT_EQ(message(InclusionProof(source, 0, too_big, hasher)),
            "tree size 9223372036854775808 exceeds the maximum of 9223372036854775807");
  EXPECT_EQ(message(InclusionProof(source, UINT64_MAX - 1, UINT64_MAX, hasher)),
            "tree size 18446744073709551615 exceeds the maximum of 9223372036854775807");

  EXPECT_EQ(message(ConsistencyProof(source, 0, 5, hasher)),
            "a consistency proof needs an old tree size of at least 1");
  EXPECT_EQ(message(ConsistencyProof(source, 6, 5, hasher)),
            "old tree size 6 is larger than new tree size 5");
  EXPECT_EQ(message(ConsistencyProof(source, 1, too_big, hasher)),
            "tree size 9223372036854775808 exceeds the maximum of 9223372036854775807");
  EXPECT_EQ(message(ConsistencyProof(source, UINT64_MAX, UINT64_MAX, hasher)),
            "tree size 18446744073709551615 exceeds the maximum of 9223372036854775807");

  EXPECT_EQ(message(RootAt(source, too_big, hasher)),
            "tree size 9223372036854775808 exceeds the maximum of 9223372036854775807");
  EXPECT_EQ(message(CompactRange::Load(source, too_big)),
            "tree size 9223372036854775808 exceeds the maximum of 9223372036854775807");

  EXPECT_EQ(message(VerifyInclusion(0, 0, h, {}, h)),
            "leaf index 0 is out of range for a tree of size 0");
  EXPECT_EQ(message(VerifyInclusion(3, 2, h, {}, h)),
            "leaf index 3 is out of range for a tree of size 2");
  EXPECT_EQ(message(VerifyInclusion(0, too_big, h, {}, h)),
            "tree size 9223372036854775808 exceeds the maximum of 9223372036854775807");
  EXPECT_EQ(message(VerifyConsistency(0, 0, h, h, {})),
            "a consistency proof needs an old tree size of at least 1");
  EXPECT_EQ(message(VerifyConsistency(2, 1, h, h, {})),
            "old tree size 2 is larger than new tree size 1");
  EXPECT_EQ(message(VerifyConsistency(1, UINT64_MAX, h, h, {})),
            "tree size 18446744073709551615 exceeds the maximum of 9223372036854775807");
}

TEST(MerkleTest, VerificationErrorsSayWhatFailed) {
  ReferenceTree tree(VectorLeaves());
  ReferenceSource source(tree);
  source.set_size(8);
  TreeHasher hasher;
  const Hash root = tree.MTH(0, 8);
  const Hash leaf5 = tree.MTH(5, 6);
  std::vector<Hash> path = *InclusionProof(source, 5, 8, hasher);

  std::vector<Hash> longer = path;
  longer.push_back(root);
  Result<void> r = VerifyInclusion(5, 8, leaf5, longer, root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "inclusion proof for leaf 5 in a tree of size 8 has 4 hashes; it should have 3");
  r = VerifyInclusion(2, 3, leaf5, {}, root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "inclusion proof for leaf 2 in a tree of size 3 has 0 hashes; it should have 1");
  r = VerifyInclusion(5, 8, leaf5, path, Flip(root, 0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::kCorruption);
  EXPECT_EQ(r.error().message(),
            "inclusion proof for leaf 5 in a tree of size 8 leads to root "
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328, not the expected "
            "5cc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");

  std::vector<Hash> proof = *ConsistencyProof(source, 6, 8, hasher);
  const Hash old_root = tree.MTH(0, 6);
  r = VerifyConsistency(6, 8, old_root, root, std::span(proof).first(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "consistency proof from size 6 to 8 has 1 hash; it should have 3");
  r = VerifyConsistency(6, 8, Flip(old_root, 31), root, proof);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "consistency proof from size 6 to 8 leads to old root "
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef, not the expected "
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ee");
  r = VerifyConsistency(6, 8, old_root, Flip(root, 31), proof);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "consistency proof from size 6 to 8 leads to new root "
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328, not the expected "
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604329");
  r = VerifyConsistency(8, 8, old_root, root, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "trees of the same size 8 have different roots "
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef and "
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  r = VerifyConsistency(8, 8, root, root, proof);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "consistency proof from size 8 to 8 has 3 hashes; it should have 0");
}

TEST(MerkleTest, NodeSourceErrorsAreReturnedUnchanged) {
  FailingSource source;
  TreeHasher hasher;
  auto expect_io = [](const auto& result, const char* what) {
    ASSERT_FALSE(result) << what;
    EXPECT_EQ(result.error().kind(), ErrorKind::kIo) << what;
    EXPECT_EQ(result.error().message(), "disk on fire reading (2, 0)") << what;
  };
  expect_io(RootAt(source, 5, hasher), "RootAt");
  expect_io(CompactRange::Load(source, 5), "Load");
  expect_io(InclusionProof(source, 4, 5, hasher), "InclusionProof");
  expect_io(ConsistencyProof(source, 5, 6, hasher), "ConsistencyProof");
}

// Cost

// Proofs must stay O(log n) in reads and hashes: the storage layer reads each
// node from SQLite.
TEST(MerkleTest, ProofsAtTenMillionLeavesReadAndHashLogarithmically) {
  constexpr uint64_t kSize = 10'000'000;
  // The header promises at most 2 * ceil(log2(n)) reads and ceil(log2(n))
  // hashes per proof.
  const auto log2_size = static_cast<int>(std::bit_width(kSize - 1));  // 24
  const int max_allowed_reads = 2 * log2_size;
  const auto max_allowed_hashes = static_cast<uint64_t>(log2_size);
  PeriodicSource source;
  source.set_size(kSize);
  TreeHasher hasher;
  Result<Hash> root = RootAt(source, kSize, hasher);
  ASSERT_TRUE(root);

  std::vector<uint64_t> indices = {0, 1, kSize / 2, kSize - 2, kSize - 1, (1u << 23) - 1, 1u << 23};
  for (uint64_t i = 0; i < 1000; ++i) indices.push_back((i * 7'919'993) % kSize);
  int max_reads = 0;
  uint64_t max_hashes = 0;
  for (uint64_t index : indices) {
    source.reset_reads();
    const uint64_t hashes_before = hasher.hash_count();
    Result<std::vector<Hash>> proof = InclusionProof(source, index, kSize, hasher);
    ASSERT_TRUE(proof) << proof.error().message();
    max_reads = std::max(max_reads, source.reads());
    max_hashes = std::max(max_hashes, hasher.hash_count() - hashes_before);
    Result<void> verified = VerifyInclusion(index, kSize, source.Leaf(index), *proof, *root);
    ASSERT_TRUE(verified) << "leaf " << index << ": " << verified.error().message();
  }
  EXPECT_LE(max_reads, max_allowed_reads);
  EXPECT_LE(max_hashes, max_allowed_hashes);

  max_reads = 0;
  max_hashes = 0;
  for (uint64_t old_size : indices) {
    if (old_size == 0) continue;
    source.set_size(old_size);
    Result<Hash> old_root = RootAt(source, old_size, hasher);
    ASSERT_TRUE(old_root);
    source.set_size(kSize);
    source.reset_reads();
    const uint64_t hashes_before = hasher.hash_count();
    Result<std::vector<Hash>> proof = ConsistencyProof(source, old_size, kSize, hasher);
    ASSERT_TRUE(proof) << proof.error().message();
    max_reads = std::max(max_reads, source.reads());
    max_hashes = std::max(max_hashes, hasher.hash_count() - hashes_before);
    Result<void> verified = VerifyConsistency(old_size, kSize, *old_root, *root, *proof);
    ASSERT_TRUE(verified) << old_size << ": " << verified.error().message();
  }
  EXPECT_LE(max_reads, max_allowed_reads);
  EXPECT_LE(max_hashes, max_allowed_hashes);
}

TEST(MerkleTest, ProofsWorkAtTheMaximumTreeSize) {
  PeriodicSource source;
  TreeHasher hasher;
  source.set_size(kMaxTreeSize);
  Result<Hash> root = RootAt(source, kMaxTreeSize, hasher);
  ASSERT_TRUE(root);
  for (uint64_t index : {uint64_t{0}, uint64_t{1} << 62, kMaxTreeSize - 2, kMaxTreeSize - 1}) {
    source.set_size(kMaxTreeSize);
    Result<std::vector<Hash>> proof = InclusionProof(source, index, kMaxTreeSize, hasher);
    ASSERT_TRUE(proof) << proof.error().message();
    EXPECT_TRUE(VerifyInclusion(index, kMaxTreeSize, source.Leaf(index), *proof, *root));

    const uint64_t old_size = index + 1;
    source.set_size(old_size);
    Result<Hash> old_root = RootAt(source, old_size, hasher);
    ASSERT_TRUE(old_root);
    source.set_size(kMaxTreeSize);
    Result<std::vector<Hash>> consistency =
        ConsistencyProof(source, old_size, kMaxTreeSize, hasher);
    ASSERT_TRUE(consistency) << consistency.error().message();
    Result<void> verified =
        VerifyConsistency(old_size, kMaxTreeSize, *old_root, *root, *consistency);
    EXPECT_TRUE(verified) << old_size << ": " << verified.error().message();
  }
}

}  // namespace
}  // namespace interlock::audit
