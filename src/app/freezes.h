// The events that start event-driven freeze windows (safety/freeze.h), in
// one place: each model_update allowed or approved, as a state row per
// service and environment (the latest), and the rollbacks whose review is
// not in, as app::Rollouts publishes them from its incidents.
//
// Readers (every decision) take immutable snapshots, swapped atomically, so
// that deciding never waits on a writer.
//
// Thread safety: every method from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string_view>
#include <vector>

#include "audit/log.h"
#include "core/mutex.h"
#include "core/status.h"
#include "governance/model.h"
#include "safety/freeze.h"

namespace interlock::app {

constexpr std::string_view kFreezeKind = "freeze";

class Freezes {
 public:
  using Events = std::vector<safety::FreezeEvent>;
  // What a reader holds: both lists, alive as long as the snapshot.
  struct Snapshot {
    std::shared_ptr<const Events> model_updates;
    std::shared_ptr<const Events> rollbacks;
    safety::FreezeEvents events() const { return {*model_updates, *rollbacks}; }
  };

  explicit Freezes(audit::AuditLog& log);
  Freezes(const Freezes&) = delete;
  Freezes& operator=(const Freezes&) = delete;

  // Reads the model_update rows. A row that cannot be read is corruption.
  Result<void> Load() EXCLUDES(mu_);

  // The model_update event a decision or an approval on `change` makes at
  // `at`, if it makes one: an allowed or approved model_update that names
  // its service.
  static std::optional<safety::FreezeEvent> ModelUpdate(ChangeType type, Environment environment,
                                                        const std::optional<std::string>& service,
                                                        UnixMillis at);
  // The state row that records `e`, replacing the service's earlier one.
  static audit::StateChange Row(const safety::FreezeEvent& e);
  // Takes in `e` once its row is durable.
  void Began(const safety::FreezeEvent& e) EXCLUDES(mu_);
  // The rollbacks whose review is not in (app::Rollouts calls it whenever
  // its incidents change).
  void SetRollbacks(Events rollbacks);

  Snapshot Now() const;

  // The freeze window in force for `change` at `t`, with the words of its
  // reason, if any. Reads nothing when the governance has no windows.
  std::optional<safety::InForce> FrozenFor(const governance::Governance& g,
                                           const safety::FrozenChange& change, UnixMillis t) const;
  // The same for a change as a request names it (safety::FrozenAsNamed).
  std::optional<safety::InForce> FrozenAsNamed(const governance::Governance& g,
                                               Environment environment,
                                               const std::optional<std::string>& service,
                                               ChangeType change_type, UnixMillis t) const;

 private:
  audit::AuditLog& log_;
  Mutex mu_;  // one writer of model_updates_ at a time
  std::atomic<std::shared_ptr<const Events>> model_updates_;
  std::atomic<std::shared_ptr<const Events>> rollbacks_;
};

}  // namespace interlock::app
