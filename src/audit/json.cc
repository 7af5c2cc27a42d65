#include "audit/json.h"

#include "core/encoding.h"

namespace interlock::audit {

using json = nlohmann::ordered_json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

json HashList(const std::vector<Hash>& hashes) {
  json out = json::array();
  for (const Hash& h : hashes) out.push_back(HashHex(h));
  return out;
}

json EntryJson(const Entry& e, bool with_leaf) {
  json out = {{"index", e.index}};
  if (with_leaf) out["leaf"] = e.pruned ? json(nullptr) : json(Base64Encode(e.leaf));
  out["leaf_hash"] = HashHex(e.leaf_hash);
  out["recorded_at"] = FormatTimestamp(e.recorded_at);
  out["retention_class"] = e.retention_class;
  if (e.pruned) {
    out["pruned"] = true;
    out["event"] = nullptr;
  } else {
    out["event"] = json::parse(e.event, nullptr, false);
  }
  return out;
}

json InclusionJson(const InclusionProofResult& p) {
  return {{"index", p.index},
          {"tree_size", p.tree_size},
          {"leaf_hash", HashHex(p.leaf_hash)},
          {"root_hash", HashHex(p.root)},
          {"proof", HashList(p.proof)}};
}

json ConsistencyJson(const ConsistencyProofResult& p) {
  return {{"from", p.from},
          {"to", p.to},
          {"from_root", HashHex(p.from_root)},
          {"to_root", HashHex(p.to_root)},
          {"proof", HashList(p.proof)}};
}

}  // namespace interlock::audit
