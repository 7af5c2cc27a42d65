// The emergency stops in force, published as immutable snapshots.
//
// Readers (every decision, every approval view, /metrics, the dashboard)
// take a snapshot without a lock and read it for as long as they like;
// nothing they do can delay a stop action. The one writer (the service's
// stop lane) builds the next map and swaps it in, so a stop's effect is
// visible to every reader from the moment Put returns.
//
// Thread safety: Snapshot from any thread; Put from one thread at a time.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "audit/log.h"
#include "core/names.h"
#include "core/status.h"
#include "safety/stop.h"

namespace interlock::app {

// By scope key ("global", "environment:production", "service:payments",
// "agent:deployment-agent-01"); "global" is always present.
using StopMap = std::map<std::string, safety::StopState>;

// The kind of the stops' state rows; a row's id is its scope key.
constexpr std::string_view kStopKind = "emergency_stop";

class StopBoard {
 public:
  StopBoard();
  StopBoard(const StopBoard&) = delete;
  StopBoard& operator=(const StopBoard&) = delete;

  // The stops as they are now; never null. Lock-free for the caller.
  std::shared_ptr<const StopMap> Snapshot() const { return map_.load(); }
  // Replaces the stop of `state.scope`.
  // REQUIRES: no other Put or Load runs at the same time.
  void Put(const safety::StopState& state);
  // Puts every stop of the log's state rows.
  // REQUIRES: no other Put or Load runs at the same time.
  Result<void> Load(audit::AuditLog& log);
  // Loads the rows again if their version changed since they were last
  // loaded: another process or server wrote one. True if it did.
  // REQUIRES: no other Put or Load runs at the same time.
  Result<bool> Refresh(audit::AuditLog& log);
  // Put, for a state this process has just committed: that commit raised
  // the rows' version by one, so the next Refresh reads them again only if
  // another writer changed one too.
  // REQUIRES: no other Put or Load runs at the same time.
  void PutCommitted(const safety::StopState& state);
  // The state row of `state`.
  static audit::StateChange Row(const safety::StopState& state);

 private:
  // Reads the rows, or with `only_if_changed` only when their version moved
  // since they were last read; true if it read them.
  Result<bool> Read(audit::AuditLog& log, bool only_if_changed);

  std::atomic<std::shared_ptr<const StopMap>> map_;
  uint64_t version_ = 0;  // of the rows last loaded; the one writer's alone
};

// The active stop covering a decision request in `env` for `service` by
// `actor` (the global one first), or null. A request that names no service
// is covered by every active service stop (safety::Scope::Covers).
const safety::StopState* Covering(const StopMap& stops, Environment env,
                                  const std::optional<std::string>& service,
                                  std::string_view actor);

// Why AI agent `agent` is refused (HTTP 423) for a request in `env` for
// `service`, or nullopt: a stop covering it is active, or has ended and AI
// agents in its scope were not re-enabled since. `env` nullopt: only the
// stops that cover every request of the agent (the global one, its own).
std::optional<std::string> AiRefusal(const StopMap& stops, std::string_view agent,
                                     std::optional<Environment> env,
                                     const std::optional<std::string>& service);

// The reason a decision under `stop` gives: the stop's own reason, with its
// scope for a scoped stop, and why a request that does not name a service
// is under a service's stop.
std::string CoveringReason(const safety::StopState& stop,
                           const std::optional<std::string>& service);

}  // namespace interlock::app
