// Where a Merkle tree node lives in the stored tiles.
//
// A tile holds the nodes of a slice of the tree 16 leaves wide and 4 levels
// high: tile (t, k) stores the nodes at tree levels 4t .. 4t+3 whose subtrees
// lie under base nodes 16k .. 16k+15 of level 4t. Its 30 slots, 32 bytes
// each, hold level 4t (16 nodes), then 4t+1 (8), 4t+2 (4), 4t+3 (2); slots of
// nodes not yet complete are zero. A node at level 4t+4 is a base node of tile
// (t+1, ...). So a proof touches one tile per 4 levels and a batch of appends
// rewrites at most one partial tile per tile level.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>

#include "audit/merkle.h"
#include "store/audit_store.h"

namespace interlock::audit {

inline constexpr unsigned kTileHeight = 4;
inline constexpr unsigned kTileWidth = 1u << kTileHeight;
inline constexpr size_t kTileSlots = 30;  // 16 + 8 + 4 + 2
inline constexpr size_t kTileBytes = kTileSlots * 32;

struct TileSlot {
  uint8_t tile_level;
  uint64_t tile_index;
  size_t offset;  // byte offset of the node's hash in the tile
};

inline TileSlot SlotOf(unsigned level, uint64_t index) {
  constexpr size_t kLevelStart[kTileHeight] = {0, 16, 24, 28};
  unsigned within = level % kTileHeight;
  unsigned shift = kTileHeight - within;  // nodes of this level per tile: 1 << shift
  uint64_t tile_index = index >> shift;
  uint64_t position = index - (tile_index << shift);
  return {static_cast<uint8_t>(level / kTileHeight), tile_index,
          (kLevelStart[within] + static_cast<size_t>(position)) * 32};
}

// Writes a newly completed node into the newest tile of its tile level in
// `edge`, starting a fresh tile when the node belongs to the next one (nodes
// of a level complete in index order, so tiles fill left to right). Returns
// the tile level touched.
inline uint8_t PlaceNode(std::map<uint8_t, store::AuditTile>& edge, unsigned level, uint64_t index,
                         const Hash& hash) {
  TileSlot slot = SlotOf(level, index);
  store::AuditTile& tile = edge[slot.tile_level];
  if (tile.hashes.size() != kTileBytes || tile.index != slot.tile_index) {
    tile.level = slot.tile_level;
    tile.index = slot.tile_index;
    tile.hashes.assign(kTileBytes, '\0');
  }
  std::copy(hash.begin(), hash.end(), tile.hashes.begin() + static_cast<ptrdiff_t>(slot.offset));
  return slot.tile_level;
}

}  // namespace interlock::audit
