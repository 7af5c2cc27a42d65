// The incidents of rollbacks (safety/auto-rollback.yml post_rollback):
// opening one with the rollback that causes it, their stored form, the
// reviews that close them, the block on new rollouts of their service, and
// the escalation of a review past its deadline. Part of app::Rollouts.
#include <fmt/format.h>

#include <algorithm>

#include "app/rollouts.h"
#include "core/json.h"
#include "core/text.h"

namespace interlock::app {
namespace {

using njson = nlohmann::ordered_json;

constexpr int64_t kIncidentFormat = 1;

njson ServiceActor() { return {{"id", "interlock"}, {"type", "service"}}; }

}  // namespace

Result<Incident> IncidentFromJson(std::string_view text) {
  auto doc = json::Parse(text, {.subject = "incident"});
  if (!doc) return std::unexpected(Error::Corruption(doc.error().message()));
  static constexpr std::string_view kKeys[] = {
      "format",    "id",          "rollout",    "service",       "environment",
      "trigger",   "why",         "blocks",     "opened_at",     "review_due_at",
      "escalated", "reviewed_by", "root_cause", "actions_taken", "reviewed_at",
      "state"};
  auto o = json::ObjectReader::Make(doc->root(), "", "incident", kKeys);
  if (!o) return std::unexpected(Error::Corruption(o.error().message()));
  Incident i;
  auto text_of = [&](std::string_view key, std::string* out) -> Result<void> {
    auto v = o->OptionalString(key);
    if (!v) return std::unexpected(Error::Corruption(v.error().message()));
    *out = std::string(v->value_or(""));
    return Ok();
  };
  auto number_of = [&](std::string_view key, int64_t* out) -> Result<void> {
    auto v = o->OptionalNumber(key, 0, 9e15);
    if (!v) return std::unexpected(Error::Corruption(v.error().message()));
    *out = static_cast<int64_t>(v->value_or(0));
    return Ok();
  };
  auto flag_of = [&](std::string_view key, bool* out) -> Result<void> {
    auto v = o->OptionalBool(key);
    if (!v) return std::unexpected(Error::Corruption(v.error().message()));
    *out = v->value_or(false);
    return Ok();
  };
  int64_t format = 0;
  for (auto ok :
       {number_of("format", &format), text_of("id", &i.id), text_of("rollout", &i.rollout),
        text_of("service", &i.service), text_of("environment", &i.environment),
        text_of("trigger", &i.trigger), text_of("why", &i.why), flag_of("blocks", &i.blocks),
        number_of("opened_at", &i.opened_at), number_of("review_due_at", &i.review_due_at),
        flag_of("escalated", &i.escalated), text_of("reviewed_by", &i.reviewed_by),
        text_of("root_cause", &i.root_cause), text_of("actions_taken", &i.actions_taken),
        number_of("reviewed_at", &i.reviewed_at)}) {
    if (!ok) return std::unexpected(ok.error());
  }
  if (format != kIncidentFormat) {
    return std::unexpected(Error::Corruption(fmt::format(
        "incident: format: this Interlock reads incident records of format {}, found {}",
        kIncidentFormat, format)));
  }
  return i;
}

nlohmann::ordered_json IncidentJson(const Incident& i) {
  return {{"format", kIncidentFormat},
          {"id", i.id},
          {"state", i.reviewed() ? "reviewed" : "open"},
          {"rollout", i.rollout},
          {"service", i.service},
          {"environment", i.environment},
          {"trigger", i.trigger},
          {"why", i.why},
          {"blocks", i.blocks},
          {"opened_at", i.opened_at},
          {"review_due_at", i.review_due_at},
          {"escalated", i.escalated},
          {"reviewed_by", i.reviewed_by},
          {"root_cause", i.root_cause},
          {"actions_taken", i.actions_taken},
          {"reviewed_at", i.reviewed_at}};
}

audit::StateChange Rollouts::Row(const Incident& i) {
  return {std::string(kIncidentKind), i.id, IncidentJson(i).dump()};
}

std::vector<std::string> Rollouts::Stakeholders(const governance::Governance& g) {
  std::vector<std::string> out;
  for (size_t i = 0; i < g.roles.size(); ++i) {
    if (g.rollout_overrides.review.test(i)) out.push_back(g.roles[i].id);
  }
  for (const governance::Channel& c : g.channels) out.push_back(c.id);
  return out;
}

Result<Incident> Rollouts::OpenIncident(const governance::Governance& g, const rollout::Rollout& r,
                                        const rollout::Effect& effect, UnixMillis now,
                                        Parts& parts) {
  auto id = NewId("inc_");
  if (!id) return std::unexpected(id.error());
  Incident i;
  i.id = std::move(*id);
  i.rollout = r.id;
  i.service = r.spec.service;
  i.environment = r.spec.environment;
  i.trigger = effect.trigger;
  i.why = effect.why;
  i.blocks = effect.kind == rollout::Effect::Kind::kBlocked;
  i.opened_at = now;
  // No deadline (0) when reviews are not scheduled or have no deadline.
  i.review_due_at = g.rollback.schedule_review && g.rollback.review_deadline.count() > 0
                        ? now + g.rollback.review_deadline.count()
                        : 0;
  auto event =
      AuditEvent({{"event_type", "incident_opened"},
                  {"actor", ServiceActor()},
                  {"action", {{"type", "incident"}, {"target", i.id}, {"service", i.service}}},
                  {"outcome", {{"status", "open"}}},
                  {"reason", i.why},
                  {"incident", IncidentJson(i)}},
                 now);
  if (!event) return std::unexpected(event.error());
  parts.events.push_back(std::move(*event));
  parts.changes.push_back(Row(i));
  return i;
}

void Rollouts::EscalateOverdueReviews(const governance::Governance& g, UnixMillis now) {
  // Reviews past their deadline are escalated once.
  for (auto& [id, i] : incidents_) {
    if (i.reviewed() || i.escalated || i.review_due_at == 0 || i.review_due_at > now) continue;
    Incident next = i;
    next.escalated = true;
    njson overdue = {{"event_type", "incident_review_overdue"},
                     {"actor", ServiceActor()},
                     {"action", {{"type", "incident"}, {"target", i.id}, {"service", i.service}}},
                     {"outcome", {{"status", "escalated"}}},
                     {"reason", fmt::format("the review of incident {} was due {} ms ago", i.id,
                                            now - i.review_due_at)}};
    auto event = AuditEvent(overdue, now);
    if (!event) continue;
    notify::Announcement an;
    an.subject = fmt::format("Review of incident {} ({}) is overdue", i.id, i.service);
    an.text = fmt::format("Rollout {} was rolled back by {}: {}. Its review was due by now.",
                          i.rollout, i.trigger, i.why);
    an.severity = "warning";
    an.about = fmt::format("incident {}", i.id);
    auto messages = notifier_.Compose(g, an, Stakeholders(g));
    if (!messages) continue;
    std::vector<audit::StateChange> changes = {Row(next)};
    for (const notify::Message& m : *messages) changes.push_back(notify::Notifier::Row(m));
    if (!log_.Commit(std::move(*event), std::move(changes))) continue;
    i = std::move(next);
    notifier_.Enqueue(std::move(*messages));
  }
}

const Incident* Rollouts::Blocking(const governance::Governance& g,
                                   const std::string& service) const {
  for (const auto& [id, i] : incidents_) {
    if (i.service == service && !i.reviewed() && (i.blocks || g.rollback.block_until_review)) {
      return &i;
    }
  }
  return nullptr;
}

Result<std::vector<Incident>> Rollouts::Incidents() const {
  std::vector<Incident> out;
  auto rows = log_.LoadState(std::string(kIncidentKind));
  if (!rows) return std::unexpected(rows.error());
  for (const auto& [id, value] : *rows) {
    auto i = IncidentFromJson(value);
    if (!i) return std::unexpected(i.error());
    out.push_back(std::move(*i));
  }
  std::sort(out.begin(), out.end(), [](const Incident& a, const Incident& b) {
    if (a.reviewed() != b.reviewed()) return !a.reviewed();
    return a.opened_at > b.opened_at;
  });
  return out;
}

Result<Incident> Rollouts::Review(const governance::Governance& g,
                                  const governance::Principal& actor, const std::string& id,
                                  const std::string& root_cause, const std::string& actions_taken) {
  const governance::RoleSet& roles = g.rollout_overrides.review;
  if (actor.type != ActorType::kHuman || (actor.roles & roles).none()) {
    return std::unexpected(Error::PermissionDenied(
        fmt::format("{} may not review an incident: it takes a human holding one of: {}", actor.id,
                    roles.none() ? "(no role is named in canary.yml rollout_overrides.review)"
                                 : g.RoleNames(roles))));
  }
  if (root_cause.empty()) return std::unexpected(Error::InvalidArgument("root_cause: required"));
  if (actions_taken.empty()) {
    return std::unexpected(Error::InvalidArgument("actions_taken: required"));
  }
  MutexLock lock(&mu_);
  auto it = incidents_.find(id);
  if (it == incidents_.end()) {
    auto rows = log_.LoadState(
        store::StateQuery{.kind = std::string(kIncidentKind), .id = id, .after = {}});
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::unexpected(Error::NotFound(fmt::format("no incident {}", id)));
    return std::unexpected(Error::Conflict(fmt::format("incident {} is already reviewed", id)));
  }
  UnixMillis now = clock_.Now();
  Incident next = it->second;
  next.reviewed_by = actor.id;
  next.root_cause = root_cause;
  next.actions_taken = actions_taken;
  next.reviewed_at = now;
  njson reviewed = {{"event_type", "incident_reviewed"},
                    {"actor", {{"id", actor.id}, {"type", Name(actor.type)}}},
                    {"action", {{"type", "incident"}, {"target", id}, {"service", next.service}}},
                    {"outcome", {{"status", "reviewed"}}},
                    {"reason", root_cause},
                    {"incident", IncidentJson(next)}};
  auto event = AuditEvent(reviewed, now);
  if (!event) return std::unexpected(event.error());
  auto appended = log_.Commit(std::move(*event), {Row(next)});
  if (!appended) {
    return std::unexpected(Error::NotRecorded("the review was not recorded", appended.error()));
  }
  incidents_.erase(it);
  PublishIncidents();
  return next;
}

void Rollouts::PublishIncidents() {
  if (!lookup_.open_incidents) return;
  std::vector<safety::FreezeEvent> events;
  for (const auto& [id, i] : incidents_) {
    auto environment = ParseEnum<Environment>(i.environment);
    auto service = CanonicalService(i.service);
    if (!environment || !service) continue;
    events.push_back({governance::FreezeKind::kAfterRollback, *service, *environment, i.opened_at,
                      "incident " + i.id});
  }
  lookup_.open_incidents(std::move(events));
}

std::optional<Incident> Rollouts::BlockingIncident(const governance::Governance& g,
                                                   const std::string& service) const {
  MutexLock lock(&mu_);
  const Incident* i = Blocking(g, service);
  return i ? std::optional<Incident>(*i) : std::nullopt;
}

}  // namespace interlock::app
