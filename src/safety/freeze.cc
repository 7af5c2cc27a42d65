#include "safety/freeze.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/cron.h"
#include "core/duration.h"
#include "core/text.h"
#include "core/time_zone.h"

namespace interlock::safety {
namespace {

using governance::FreezeKind;
using governance::FreezeWindow;

constexpr int64_t kDay = 86400;
constexpr int64_t kWeekMinutes = int64_t{7} * 1440;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

// Wall-clock seconds at instant `t` (milliseconds), and back to an instant
// (the first one, where the wall clock repeats an hour).
int64_t LocalSeconds(const TimeZone& z, UnixMillis t) {
  int64_t s = FloorDiv(t, 1000);
  return s + z.OffsetAt(s);
}
UnixMillis FromLocal(const TimeZone& z, int64_t local) {
  int64_t guess = local - z.OffsetAt(local);
  return (local - z.OffsetAt(guess)) * 1000;
}

bool IsEventDriven(FreezeKind k) {
  return k == FreezeKind::kAfterModelUpdate || k == FreezeKind::kAfterRollback;
}

// Whether event `e` keeps event-driven window `w` in force at `t`.
std::optional<InForce> EventInForce(const FreezeWindow& w, size_t index, const FreezeEvent& e,
                                    UnixMillis t) {
  if (e.kind != w.kind || e.at > t) return std::nullopt;
  InForce f{index, e.at, std::nullopt, e.ref, e.service, e.environment};
  if (w.kind == FreezeKind::kAfterModelUpdate) {
    f.until = e.at + w.duration.count();
    if (t >= *f.until) return std::nullopt;
  }
  return f;
}

std::span<const FreezeEvent> EventsOf(const FreezeEvents& events, FreezeKind kind) {
  return kind == FreezeKind::kAfterModelUpdate ? events.model_updates : events.rollbacks;
}

}  // namespace

std::optional<InForce> ScheduledInForce(const FreezeWindow& w, size_t index, UnixMillis t) {
  if (IsEventDriven(w.kind) || !w.zone) return std::nullopt;
  const TimeZone& z = *w.zone;
  int64_t local = LocalSeconds(z, t);
  int64_t since = 0, until = 0;
  if (w.kind == FreezeKind::kWeekly) {
    int64_t days = FloorDiv(local, kDay);
    int64_t weekday = (days % 7 + 11) % 7;  // 1970-01-01 was a Thursday
    int64_t minute = weekday * 1440 + (local - days * kDay) / 60;
    int64_t elapsed = ((minute - w.weekly_from) % kWeekMinutes + kWeekMinutes) % kWeekMinutes;
    int64_t length = ((w.weekly_to - w.weekly_from) % kWeekMinutes + kWeekMinutes) % kWeekMinutes;
    if (elapsed >= length) return std::nullopt;
    since = local - local % 60 - elapsed * 60;
    until = since + length * 60;
  } else {
    int64_t duration = w.duration.count() / 1000;
    auto fire = LatestFire(w.cron, local, duration);
    if (!fire) return std::nullopt;
    since = *fire;
    until = *fire + duration;
  }
  return InForce{index, FromLocal(z, since), FromLocal(z, until), "", "", std::nullopt};
}

bool Covers(const FreezeWindow& w, const FrozenChange& change) {
  auto has = [](const auto& list, const auto& value) {
    return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
  };
  if (!has(w.environments, change.environment) || !has(w.change_types, change.change_type)) {
    return false;
  }
  return change.service == nullptr || has(w.services, *change.service);
}

std::vector<InForce> WindowsInForce(const governance::Governance& g, const FreezeEvents& events,
                                    UnixMillis t) {
  std::vector<InForce> out;
  for (size_t i = 0; i < g.freeze_windows.size(); ++i) {
    const FreezeWindow& w = g.freeze_windows[i];
    if (!IsEventDriven(w.kind)) {
      if (auto f = ScheduledInForce(w, i, t)) out.push_back(std::move(*f));
      continue;
    }
    for (const FreezeEvent& e : EventsOf(events, w.kind)) {
      // Whatever the change types, the window stands for this service here.
      FrozenChange change{e.environment, &e.service, ChangeType::kCode};
      if (!w.change_types.empty()) change.change_type = w.change_types.front();
      if (!Covers(w, change)) continue;
      if (auto f = EventInForce(w, i, e, t)) out.push_back(std::move(*f));
    }
  }
  return out;
}

std::optional<InForce> Frozen(const governance::Governance& g, const FreezeEvents& events,
                              const FrozenChange& change, UnixMillis t) {
  for (size_t i = 0; i < g.freeze_windows.size(); ++i) {
    const FreezeWindow& w = g.freeze_windows[i];
    if (!Covers(w, change)) continue;
    if (!IsEventDriven(w.kind)) {
      if (auto f = ScheduledInForce(w, i, t)) return f;
      continue;
    }
    for (const FreezeEvent& e : EventsOf(events, w.kind)) {
      if (e.environment != change.environment) continue;
      if (change.service != nullptr && *change.service != e.service) continue;
      if (auto f = EventInForce(w, i, e, t)) return f;
    }
  }
  return std::nullopt;
}

std::optional<InForce> FrozenAsNamed(const governance::Governance& g, const FreezeEvents& events,
                                     Environment environment,
                                     const std::optional<std::string>& service,
                                     ChangeType change_type, UnixMillis t) {
  bool may_be_frozen = !events.model_updates.empty() || !events.rollbacks.empty();
  for (size_t i = 0; i < g.freeze_windows.size() && !may_be_frozen; ++i) {
    may_be_frozen = !IsEventDriven(g.freeze_windows[i].kind);
  }
  if (!may_be_frozen) return std::nullopt;
  std::optional<std::string> canonical;
  if (service) {
    if (auto c = CanonicalService(*service)) canonical = std::move(*c);
  }
  return Frozen(g, events,
                FrozenChange{environment, canonical ? &*canonical : nullptr, change_type}, t);
}

std::string ScheduleText(const FreezeWindow& w) {
  switch (w.kind) {
    case FreezeKind::kWeekly:
      return fmt::format("every {} to {}, {}", WeekTimeText(w.weekly_from),
                         WeekTimeText(w.weekly_to), w.zone ? w.zone->name() : "UTC");
    case FreezeKind::kCron:
      return fmt::format("for {} from each \"{}\", {}", FormatDuration(w.duration), w.cron_text,
                         w.zone ? w.zone->name() : "UTC");
    case FreezeKind::kAfterModelUpdate:
      return fmt::format("for {} after a model_update to the same service",
                         FormatDuration(w.duration));
    case FreezeKind::kAfterRollback:
      return "after a rollback of the same service, until its review is in";
  }
  return "";
}

std::string Describe(const governance::Governance& g, const InForce& f) {
  const FreezeWindow& w = g.freeze_windows[f.window];
  std::string out = fmt::format("freeze window '{}' ({}) is in force", w.name, ScheduleText(w));
  if (!f.service.empty()) out += fmt::format(" for {}", f.service);
  if (!f.ref.empty()) out += fmt::format(" ({})", f.ref);
  out += f.until ? fmt::format(" until {}", FormatTimestamp(*f.until))
                 : std::string(" until the review is in");
  if (!w.reason.empty()) out += fmt::format(": {}", w.reason);
  return out;
}

}  // namespace interlock::safety
