#include "governance/freeze_windows.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/text.h"

namespace interlock::governance {
namespace {

// The longest a cron window lasts, so that checking one looks back a
// bounded number of days.
constexpr Millis kMaxCronDuration{31LL * 24 * 3'600'000};

template <class E>
std::vector<E> EnumList(Reader& r, const yaml::Node* node, bool* ok) {
  std::vector<E> out;
  if (node == nullptr) return out;
  if (!node->IsSequence()) {
    r.Error(node->mark(), "expected a list");
    *ok = false;
    return out;
  }
  for (const yaml::Node& item : node->items()) {
    auto value = r.Enum<E>(&item);
    if (!value) {
      *ok = false;
    } else if (std::find(out.begin(), out.end(), *value) == out.end()) {
      out.push_back(*value);
    }
  }
  return out;
}

}  // namespace

void ReadFreezeWindows(Reader& r, const yaml::Node& root, const FileSystem& fs,
                       std::string_view zoneinfo, Governance* g) {
  if (!r.Mapping(root, {"version", "freeze_windows"}, "freeze-windows.yml")) return;
  r.Version(root, false);
  std::map<std::string, yaml::Mark> seen;
  for (const yaml::Node& item : r.List(root, "freeze_windows", "a freeze window", true)) {
    static constexpr std::string_view kKeys[] = {
        "name",      "reason",   "weekly",       "cron",         "after",      "duration",
        "time_zone", "services", "environments", "change_types", "break_glass"};
    if (!r.Mapping(item, kKeys, {}, "a freeze window")) continue;
    FreezeWindow w;
    w.origin = r.OriginOf(item);
    bool ok = true;
    auto name = r.String(r.Required(item, "name", "a freeze window"));
    if (!name) {
      ok = false;
    } else if (auto [it, inserted] = seen.emplace(*name, item.mark()); !inserted) {
      r.Error(item.mark(), fmt::format("duplicate freeze window '{}' (first defined at {}:{})",
                                       *name, it->second.line, it->second.column));
      ok = false;
    } else {
      w.name = *name;
    }
    w.reason = r.String(item.Find("reason")).value_or("");

    // Exactly one of weekly, cron and after says when it is in force.
    const yaml::Node* weekly = item.Find("weekly");
    const yaml::Node* cron = item.Find("cron");
    const yaml::Node* after = item.Find("after");
    const yaml::Node* duration = item.Find("duration");
    const yaml::Node* zone = item.Find("time_zone");
    int kinds = (weekly ? 1 : 0) + (cron ? 1 : 0) + (after ? 1 : 0);
    if (kinds != 1) {
      r.Error(item.mark(), "a freeze window needs exactly one of weekly, cron and after");
      continue;
    }
    if (weekly) {
      w.kind = FreezeKind::kWeekly;
      if (r.Mapping(*weekly, {"from", "to"}, "weekly")) {
        for (auto [key, out] : {std::pair{"from", &w.weekly_from}, {"to", &w.weekly_to}}) {
          const yaml::Node* node = r.Required(*weekly, key, "weekly");
          auto text = r.String(node);
          if (!text) {
            ok = false;
          } else if (auto minutes = ParseWeekTime(*text)) {
            *out = *minutes;
          } else {
            r.Error(node->mark(), fmt::format("expected a day and a time such as \"Fri 16:00\", "
                                              "found \"{}\"",
                                              *text));
            ok = false;
          }
        }
        if (ok && w.weekly_from == w.weekly_to) {
          r.Error(weekly->mark(), "from and to are the same time: the window would be empty");
          ok = false;
        }
      } else {
        ok = false;
      }
    } else if (cron) {
      w.kind = FreezeKind::kCron;
      if (auto text = r.String(cron)) {
        if (auto parsed = ParseCron(*text)) {
          w.cron = *parsed;
          w.cron_text = *text;
        } else {
          r.Error(cron->mark(), parsed.error().message());
          ok = false;
        }
      } else {
        ok = false;
      }
    } else {
      auto kind = r.OneOf(after, {"model_update", "rollback"}, "event");
      if (!kind) {
        continue;  // what else it says depends on the kind
      } else {
        w.kind = *kind == 0 ? FreezeKind::kAfterModelUpdate : FreezeKind::kAfterRollback;
      }
    }

    // How long: cron windows and those after a model_update.
    bool wants_duration = w.kind == FreezeKind::kCron || w.kind == FreezeKind::kAfterModelUpdate;
    if (duration && !wants_duration) {
      r.Error(duration->mark(),
              w.kind == FreezeKind::kWeekly
                  ? "a weekly window ends at `to`; duration is for cron and after: model_update"
                  : "a window after a rollback ends when the review is in; it takes no duration");
      ok = false;
    } else if (duration) {
      auto value = r.Duration(duration);
      if (!value) {
        ok = false;
      } else if (value->count() <= 0) {
        r.Error(duration->mark(), "duration must be longer than 0s");
        ok = false;
      } else if (w.kind == FreezeKind::kCron && *value > kMaxCronDuration) {
        r.Error(duration->mark(), "a cron window lasts at most 31d");
        ok = false;
      } else {
        w.duration = *value;
      }
    } else if (w.kind == FreezeKind::kAfterModelUpdate &&
               g->model_updates.freeze_window.count() > 0) {
      w.duration = g->model_updates.freeze_window;  // canary.yml model_update_safeguards
    } else if (wants_duration) {
      r.Error(item.mark(), w.kind == FreezeKind::kCron
                               ? "a cron window needs a duration"
                               : "a window after a model_update needs a duration (or canary.yml's "
                                 "model_update_safeguards.freeze_window)");
      ok = false;
    }

    // Scheduled windows read the wall clock of a named time zone.
    bool scheduled = w.kind == FreezeKind::kWeekly || w.kind == FreezeKind::kCron;
    if (zone && !scheduled) {
      r.Error(zone->mark(), "only weekly and cron windows take a time_zone");
      ok = false;
    } else if (scheduled && zone == nullptr) {
      r.Error(item.mark(),
              "a weekly or cron window needs a time_zone, such as Europe/Berlin or UTC");
      ok = false;
    } else if (zone) {
      if (auto text = r.String(zone)) {
        auto loaded = TimeZone::Load(fs, zoneinfo, *text);
        if (loaded) {
          w.zone = *loaded;
        } else {
          r.Error(zone->mark(), loaded.error().message());
          ok = false;
        }
      } else {
        ok = false;
      }
    }

    w.environments = EnumList<Environment>(r, item.Find("environments"), &ok);
    w.change_types = EnumList<ChangeType>(r, item.Find("change_types"), &ok);
    if (auto services = r.StringList(item.Find("services"))) {
      for (const std::string& s : *services) {
        auto canonical = CanonicalService(s);
        if (!canonical) {
          r.Error(item.Find("services")->mark(), canonical.error().message());
          ok = false;
        } else if (std::find(w.services.begin(), w.services.end(), *canonical) ==
                   w.services.end()) {
          w.services.push_back(*canonical);
        }
      }
    } else if (item.Find("services")) {
      ok = false;
    }
    if (const yaml::Node* glass = item.Find("break_glass")) {
      if (auto id = r.String(glass)) {
        w.break_glass = g->FindWorkflow(*id);
        if (!w.break_glass) {
          std::vector<std::string_view> names;
          for (const Workflow& wf : g->workflows) names.push_back(wf.id);
          r.UnknownName(*glass, *id, names, "workflow");
          ok = false;
        } else if (g->workflows[*w.break_glass].required_approvers < 1) {
          r.Error(glass->mark(), "a break-glass workflow needs at least one approver");
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    if (ok) g->freeze_windows.push_back(std::move(w));
  }
}

}  // namespace interlock::governance
