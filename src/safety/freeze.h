// Freeze windows (governance safety/freeze-windows.yml) in force, as pure
// functions of the governance, the time and the events that start the
// event-driven ones: no I/O, no clock, no locks.
//
//  - weekly: in force from one weekday and time to the next occurrence of
//    another, every week, in the window's time zone (wall clock: Friday
//    16:00 is 16:00 whether daylight saving time is on or not).
//  - cron: in force from each time the schedule fires, in the window's time
//    zone, for `duration` of wall-clock time.
//  - after model_update: in force for `duration` after a model_update to a
//    service in an environment was allowed or approved, for that service in
//    that environment.
//  - after rollback: in force after a rollback of a service in an
//    environment until its incident's review is in.
// A window covers a change when its environments, services and change types
// (each: all, if empty) take it in. A change that names no service is
// covered by a window that lists services and by every event of its
// environment, since nothing shows it is not the one frozen (fail closed).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/names.h"
#include "governance/model.h"

namespace interlock::safety {

// A fact that starts an event-driven window.
struct FreezeEvent {
  governance::FreezeKind kind = governance::FreezeKind::kAfterModelUpdate;
  std::string service;  // canonical
  Environment environment = Environment::kProduction;
  UnixMillis at = 0;
  std::string ref;  // what it came from: an incident id, an audit index
};

// The events of the event-driven windows, by kind.
struct FreezeEvents {
  std::span<const FreezeEvent> model_updates;
  std::span<const FreezeEvent> rollbacks;  // open incidents
};

// A window in force.
struct InForce {
  size_t window = 0;  // in g.freeze_windows
  UnixMillis since = 0;
  std::optional<UnixMillis> until;         // none: until a review is in
  std::string ref;                         // the event's, for event-driven windows
  std::string service;                     // the event's, for event-driven windows
  std::optional<Environment> environment;  // the event's, for event-driven windows
};

// What a change is, for the windows.
struct FrozenChange {
  Environment environment = Environment::kProduction;
  const std::string* service = nullptr;  // canonical; null: the change names none
  ChangeType change_type = ChangeType::kCode;
};

// Whether scheduled window `w` is in force at `t`.
std::optional<InForce> ScheduledInForce(const governance::FreezeWindow& w, size_t index,
                                        UnixMillis t);

// Every window in force at `t`, for any change, with the events that
// started the event-driven ones; ordered by window, then event.
std::vector<InForce> WindowsInForce(const governance::Governance& g, const FreezeEvents& events,
                                    UnixMillis t);

// The first window in force at `t` that covers `change`, if any.
std::optional<InForce> Frozen(const governance::Governance& g, const FreezeEvents& events,
                              const FrozenChange& change, UnixMillis t);

// The first window in force at `t` that covers a change as a request
// names it: `service` as written (canonicalised here, and only when some
// window could be in force at all, so a governance whose windows are all
// event-driven and idle costs nothing; a name that is not a service name
// counts as naming none).
std::optional<InForce> FrozenAsNamed(const governance::Governance& g, const FreezeEvents& events,
                                     Environment environment,
                                     const std::optional<std::string>& service,
                                     ChangeType change_type, UnixMillis t);

// Whether window `w` takes `change` in (its environments, services and
// change types), leaving out when it is in force.
bool Covers(const governance::FreezeWindow& w, const FrozenChange& change);

// The sentence a frozen decision gives: "freeze window 'weekend' (every
// Fri 16:00 to Mon 08:00, Europe/Berlin) is in force until
// 2026-12-07T07:00:00.000Z: <reason>".
std::string Describe(const governance::Governance& g, const InForce& f);
// How a window is scheduled: "every Fri 16:00 to Mon 08:00, Europe/Berlin",
// "for 48h after a model_update to the same service".
std::string ScheduleText(const governance::FreezeWindow& w);

}  // namespace interlock::safety
