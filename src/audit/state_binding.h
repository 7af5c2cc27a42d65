// Binds the state rows kept beside the log (approvals, emergency stops,
// tokens, read grants, the outbox) to the log itself, so that a row
// deleted, restored from an old copy or added by hand in the database is
// caught (docs/audit-format.md, "State binding").
//
//  - Each row's value has a digest: SHA-256 of the value.
//  - The records that change rows carry "state_rows": one entry
//    {"kind", "id", "digest"} per change (digest null for a deletion); the
//    record's own index is the row's version.
//  - The last record of every commit carries "state_root": the sum modulo
//    2^256 of SHA-256("interlock state\0" kind "\0" id "\0" digest) over
//    every row present after the commit, in hex. A sum, so one change
//    updates it in constant time and it does not depend on order.
//
// So the current rows are exactly what the log commits to when the root
// computed from them equals the root of the last record; and when it does
// not, the latest "state_rows" entry of each row says which row differs.
//
// Pure values; not thread safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/event.h"
#include "core/digest.h"
#include "core/status.h"

namespace interlock::audit {

// SHA-256 of a state value.
Sha256 StateDigest(std::string_view value);

// The rows as the log knows them: each row's digest, and their root.
class StateBindings {
 public:
  using Key = std::pair<std::string, std::string>;  // kind, id

  // Sets (digest) or deletes (nullopt) a row.
  void Apply(const std::string& kind, const std::string& id, const std::optional<Sha256>& digest);
  const std::map<Key, Sha256>& rows() const { return rows_; }
  // The root, in lower-case hex.
  std::string RootHex() const;

 private:
  std::map<Key, Sha256> rows_;
  std::array<uint8_t, 32> root_{};  // big-endian sum
};

// One change of a commit, as a record carries it.
struct StateRowChange {
  std::string kind;
  std::string id;
  std::optional<Sha256> digest;  // nullopt: deleted
};

// `event` with "state_rows" (when `changes` is not empty) and "state_root"
// (when `root_hex` is set) added; the event's other members and timestamp
// are kept. Errors: an event that no longer validates (too large).
Result<Event> BindEvent(const Event& event, const std::vector<StateRowChange>& changes,
                        const std::optional<std::string>& root_hex);

// What a record's canonical event says of the state: its changes and its
// root, if any. Events without either give empty values; a malformed
// binding gives kCorruption naming the member.
struct StateClaims {
  std::vector<StateRowChange> changes;
  std::optional<std::string> root_hex;
};
Result<StateClaims> ReadStateClaims(std::string_view canonical_event);

}  // namespace interlock::audit
