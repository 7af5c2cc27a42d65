// The audit trail's JSON forms (docs/audit-format.md, section 5), shared by
// the command line and the HTTP API.
#pragma once

#include <nlohmann/json.hpp>

#include "audit/log.h"

namespace interlock::audit {

// Serialises without throwing: invalid UTF-8 in a string (text that came
// from outside) becomes U+FFFD instead of an exception.
std::string Dump(const nlohmann::ordered_json& j);
std::string Dump(const nlohmann::json& j);

// [hex...]
nlohmann::ordered_json HashList(const std::vector<Hash>& hashes);
// {"index", ["leaf",] "leaf_hash", "recorded_at", "retention_class", "event"
// [, "pruned": true]}; `with_leaf` adds the exact leaf bytes in base64.
nlohmann::ordered_json EntryJson(const Entry& e, bool with_leaf);
// {"index", "tree_size", "leaf_hash", "root_hash", "proof": [hex...]}
nlohmann::ordered_json InclusionJson(const InclusionProofResult& p);
// {"from", "to", "from_root", "to_root", "proof": [hex...]}
nlohmann::ordered_json ConsistencyJson(const ConsistencyProofResult& p);

}  // namespace interlock::audit
