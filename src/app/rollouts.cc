#include "app/rollouts.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "audit/event.h"
#include "audit/json.h"
#include "core/encoding.h"
#include "core/json.h"
#include "governance/query_template.h"

namespace interlock::app {
namespace {

using njson = nlohmann::ordered_json;
using rollout::Effect;
using rollout::Rollout;

// Fills a metric query's placeholders for rollout `r`.
std::string Expand(std::string_view query, const Rollout& r, int64_t window_ms) {
  return governance::ExpandQuery(query, {.service = r.spec.service,
                                         .version = r.spec.version,
                                         .baseline_version = r.spec.baseline_version,
                                         .environment = r.spec.environment,
                                         .window_ms = window_ms});
}

// The audit event of `effect` on `r`.
njson RolloutEvent(const Rollout& r, const Effect& effect, std::string_view actor_id,
                   std::string_view actor_type, std::string_view event_type) {
  njson checks = njson::array();
  for (const rollout::Check& c : r.checks) {
    if (!c.result) continue;
    njson values = njson::object();
    for (const rollout::MetricValue& v : c.values) {
      values[v.name] = v.value && std::isfinite(*v.value) ? njson(*v.value) : njson(nullptr);
    }
    checks.push_back({{"name", c.name},
                      {"result", rollout::CheckResultName(*c.result)},
                      {"firing", c.firing},
                      {"dry_run", c.dry_run},
                      {"values", std::move(values)}});
  }
  njson event = {{"event_type", event_type},
                 {"actor", {{"id", actor_id}, {"type", actor_type}}},
                 {"action",
                  {{"type", "rollout"},
                   {"target", r.id},
                   {"service", r.spec.service},
                   {"version", r.spec.version}}},
                 {"outcome", {{"status", rollout::RolloutStateName(r.state)}}},
                 {"rollout",
                  {{"id", r.id},
                   {"strategy", r.spec.strategy},
                   {"step", r.step + 1},
                   {"steps", r.steps.size()},
                   {"traffic_percent", std::round(r.traffic() * 1e6) / 1e4},
                   {"effect", rollout::EffectName(effect.kind)},
                   {"checks", std::move(checks)}}}};
  if (!r.spec.environment.empty()) event["environment"] = r.spec.environment;
  if (!effect.why.empty()) event["reason"] = effect.why;
  if (!effect.trigger.empty()) event["rollout"]["trigger"] = effect.trigger;
  return event;
}

// Whether `actor` may open a rollout of a change `owner` asked for: the
// owner, or a human who may steer rollouts.
bool MayOpen(const governance::Governance& g, const governance::Principal& actor,
             std::string_view owner) {
  if (actor.id == owner) return true;
  const governance::RolloutOverrides& o = g.rollout_overrides;
  governance::RoleSet steer = o.promote | o.abort | o.pause | o.resume | o.skip_step;
  return actor.type == ActorType::kHuman && (actor.roles & steer).any();
}

}  // namespace

Result<audit::Event> Rollouts::AuditEvent(const njson& event, UnixMillis now) {
  auto parsed = audit::ParseEvent(audit::Dump(event), now);
  if (!parsed) return std::unexpected(Error::Internal(parsed.error().message()));
  return parsed;
}

Rollouts::Rollouts(audit::AuditLog& log, const Clock& clock, Random& random,
                   notify::Notifier& notifier, ChangeLookup lookup)
    : log_(log), clock_(clock), random_(random), notifier_(notifier), lookup_(std::move(lookup)) {}

audit::StateChange Rollouts::Row(const Rollout& r) {
  return {std::string(kRolloutKind), r.id, rollout::ToJson(r).dump()};
}

Result<std::string> Rollouts::NewId(std::string_view prefix) {
  std::array<uint8_t, 8> bytes{};
  if (auto ok = random_.Fill(bytes); !ok) return std::unexpected(ok.error());
  return std::string(prefix) + HexEncode(std::span<const uint8_t>(bytes));
}

Result<std::optional<Rollout>> Rollouts::Stored(const std::string& id) {
  auto rows =
      log_.LoadState(store::StateQuery{.kind = std::string(kRolloutKind), .id = id, .after = {}});
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Rollout>();
  auto r = rollout::RolloutFromJson(rows->front().second);
  if (!r) return std::unexpected(r.error());
  return std::optional<Rollout>(std::move(*r));
}

Error Rollouts::NotActive(const std::string& id, std::string_view what) {
  auto found = Stored(id);
  if (!found) return found.error();
  if (!*found) return Error::NotFound(fmt::format("no rollout {}", id));
  return Error::Conflict(
      fmt::format("rollout {} is {}: {}", id, rollout::RolloutStateName((*found)->state), what));
}

Result<void> Rollouts::Load() {
  auto rows = log_.LoadState(std::string(kRolloutKind));
  if (!rows) return std::unexpected(rows.error());
  std::map<std::string, Rollout> active;
  for (const auto& [id, value] : *rows) {
    auto r = rollout::RolloutFromJson(value);
    if (!r) return std::unexpected(r.error());
    if (!rollout::IsFinal(r->state)) active.emplace(id, std::move(*r));
  }
  auto incidents = log_.LoadState(std::string(kIncidentKind));
  if (!incidents) return std::unexpected(incidents.error());
  std::map<std::string, Incident> open;
  for (const auto& [id, value] : *incidents) {
    auto i = IncidentFromJson(value);
    if (!i) return std::unexpected(i.error());
    if (!i->reviewed()) open.emplace(id, std::move(*i));
  }
  MutexLock lock(&mu_);
  active_ = std::move(active);
  incidents_ = std::move(open);
  PublishIncidents();
  return Ok();
}

Result<Rollout> Rollouts::Open(const governance::Governance& g, const governance::Principal& actor,
                               const RolloutRequest& request) {
  if (request.audit_index.has_value() == !request.approval_id.empty()) {
    return std::unexpected(
        Error::InvalidArgument("body: give audit_index (a decision) or approval_id, not both"));
  }
  rollout::RolloutSpec spec;
  spec.opened_by = actor.id;
  if (request.audit_index) {
    auto text = lookup_.decision(*request.audit_index);
    if (!text) return std::unexpected(text.error());
    auto doc = json::Parse(*text, {.subject = "decision"});
    if (!doc) return std::unexpected(Error::Corruption(doc.error().message()));
    json::Value root = doc->root();
    auto field = [&](std::initializer_list<std::string_view> path) -> std::string {
      std::optional<json::Value> v = root;
      for (std::string_view key : path) {
        if (!v || !v->is_object()) return "";
        v = v->Find(key);
      }
      return v && v->is_string() ? std::string(v->AsString()) : "";
    };
    if (field({"event_type"}) != "decision") {
      return std::unexpected(Error::Conflict(fmt::format(
          "audit record {} is not a decision: a rollout follows a change Interlock allowed",
          *request.audit_index)));
    }
    std::string outcome = field({"decision", "outcome"});
    if (outcome != "allow") {
      return std::unexpected(Error::Conflict(fmt::format(
          "the decision at audit index {} was {}, not allow: a rollout follows a change "
          "Interlock allowed (an approved change: give approval_id)",
          *request.audit_index, outcome)));
    }
    if (!MayOpen(g, actor, field({"actor", "id"}))) {
      return std::unexpected(Error::PermissionDenied(fmt::format(
          "{} may not open a rollout of the decision at audit index {}: it takes the decision's "
          "actor or a human holding a role of canary.yml rollout_overrides",
          actor.id, *request.audit_index)));
    }
    spec.audit_index = request.audit_index;
    spec.service = field({"action", "service"});
    spec.version = field({"action", "version"});
    spec.environment = field({"environment"});
    spec.risk = field({"decision", "risk_level"});
  } else {
    auto approved = lookup_.approval(request.approval_id);
    if (!approved) return std::unexpected(approved.error());
    if (!MayOpen(g, actor, approved->opened_by)) {
      return std::unexpected(Error::PermissionDenied(fmt::format(
          "{} may not open a rollout of approval request {}: it takes its requester or a human "
          "holding a role of canary.yml rollout_overrides",
          actor.id, request.approval_id)));
    }
    std::string opened_by = spec.opened_by;
    spec = std::move(*approved);
    spec.opened_by = std::move(opened_by);
    spec.approval_id = request.approval_id;
  }
  if (spec.service.empty()) {
    return std::unexpected(
        Error::Conflict("the change names no service: a rollout watches one service's metrics"));
  }
  if (!request.baseline_version.empty()) spec.baseline_version = request.baseline_version;
  std::string strategy_id = request.strategy;
  if (strategy_id.empty()) {
    strategy_id = spec.risk == "critical" ? std::string(governance::kCriticalStrategy)
                  : spec.risk == "high"   ? std::string(governance::kHighRiskStrategy)
                                          : std::string(governance::kBlueGreenStrategy);
    if (g.FindCanary(strategy_id) == nullptr) strategy_id = governance::kBlueGreenStrategy;
  }
  const governance::CanaryStrategy* strategy = g.FindCanary(strategy_id);
  if (strategy == nullptr) {
    std::string names;
    for (const governance::CanaryStrategy& c : g.canaries) {
      names += names.empty() ? c.id : ", " + c.id;
    }
    return std::unexpected(Error::InvalidArgument(
        fmt::format("strategy: expected one of {}, found \"{}\"", names, strategy_id)));
  }

  // One rollout per change, finished ones included.
  auto all = List(std::nullopt);
  if (!all) return std::unexpected(all.error());
  for (const Rollout& r : *all) {
    if ((spec.audit_index && r.spec.audit_index == spec.audit_index) ||
        (!spec.approval_id.empty() && r.spec.approval_id == spec.approval_id)) {
      return std::unexpected(
          Error::Conflict(fmt::format("the change already has rollout {}", r.id)));
    }
  }
  auto id = NewId("ro_");
  if (!id) return std::unexpected(id.error());
  MutexLock lock(&mu_);
  if (const Incident* blocking = Blocking(g, spec.service)) {
    return std::unexpected(Error::Conflict(fmt::format(
        "rollouts of {} are blocked until incident {} is reviewed (rollout {} was rolled back "
        "by {})",
        spec.service, blocking->id, blocking->rollout, blocking->trigger)));
  }
  UnixMillis now = clock_.Now();
  Rollout r = rollout::Start(g, *strategy, std::move(*id), std::move(spec), now);
  Effect started{Effect::Kind::kNone, "", r.history.back().why, {}, {}};
  if (auto ok = Commit(g, r, started, actor.id, Name(actor.type), "rollout_started"); !ok) {
    return std::unexpected(ok.error());
  }
  return r;
}

Result<Rollouts::Pending> Rollouts::Prepare(const governance::Governance& g, Rollout r,
                                            const Effect& effect, std::string_view actor_id,
                                            std::string_view actor_type,
                                            std::string_view event_type) {
  UnixMillis now = clock_.Now();
  Parts parts;
  // An escalation opens its approval in the same commit.
  if (effect.kind == Effect::Kind::kEscalated && effect.workflow && lookup_.escalate) {
    auto escalation = lookup_.escalate(g, r, *effect.workflow, effect.why);
    if (!escalation) return std::unexpected(escalation.error());
    r.escalation = escalation->approval_id;
    parts = std::move(escalation->parts);
  }
  auto event = AuditEvent(RolloutEvent(r, effect, actor_id, actor_type, event_type), now);
  if (!event) return std::unexpected(event.error());
  parts.events.insert(parts.events.begin(), std::move(*event));
  parts.changes.insert(parts.changes.begin(), Row(r));
  std::optional<Incident> incident;
  bool rolled_back =
      effect.kind == Effect::Kind::kRolledBack || effect.kind == Effect::Kind::kBlocked;
  if (rolled_back && g.rollback.create_incident) {
    auto opened = OpenIncident(g, r, effect, now, parts);
    if (!opened) return std::unexpected(opened.error());
    incident = std::move(*opened);
  }
  if (effect.kind != Effect::Kind::kNone) {
    notify::Announcement an;
    an.subject = fmt::format("Rollout {} of {} {}: {}", r.id, r.spec.service, r.spec.version,
                             rollout::EffectName(effect.kind));
    an.text = effect.why;
    an.severity = rolled_back ? "critical" : "info";
    an.about = fmt::format("rollout {}", r.id);
    std::vector<std::string> targets = effect.notification;
    if (rolled_back && g.rollback.notify_stakeholders) {
      for (std::string& t : Stakeholders(g)) targets.push_back(std::move(t));
    }
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    auto composed = notifier_.Compose(g, an, targets);
    if (!composed) return std::unexpected(composed.error());
    for (notify::Message& m : *composed) {
      parts.changes.push_back(notify::Notifier::Row(m));
      parts.messages.push_back(std::move(m));
    }
  }
  return Pending{std::move(r), std::move(parts), std::move(incident)};
}

void Rollouts::Apply(Pending& p) {
  if (rollout::IsFinal(p.rollout.state)) {
    active_.erase(p.rollout.id);
  } else {
    active_.insert_or_assign(p.rollout.id, std::move(p.rollout));
  }
  if (p.incident) {
    incidents_.emplace(p.incident->id, std::move(*p.incident));
    PublishIncidents();
  }
  if (p.parts.committed) p.parts.committed();
  notifier_.Enqueue(std::move(p.parts.messages));
}

Result<void> Rollouts::Commit(const governance::Governance& g, const Rollout& r,
                              const Effect& effect, std::string_view actor_id,
                              std::string_view actor_type, std::string_view event_type) {
  auto pending = Prepare(g, r, effect, actor_id, actor_type, event_type);
  if (!pending) return std::unexpected(pending.error());
  auto appended = log_.Commit(std::move(pending->parts.events), std::move(pending->parts.changes));
  if (!appended) {
    return std::unexpected(Error::NotRecorded("the rollout was not changed", appended.error()));
  }
  Apply(*pending);
  return Ok();
}

Result<std::optional<Rollout>> Rollouts::Find(const std::string& id) {
  {
    MutexLock lock(&mu_);
    auto it = active_.find(id);
    if (it != active_.end()) return std::optional<Rollout>(it->second);
  }
  return Stored(id);
}

Result<std::vector<Rollout>> Rollouts::List(std::optional<rollout::RolloutState> state) {
  std::vector<Rollout> out;
  if (state && !rollout::IsFinal(*state)) {
    MutexLock lock(&mu_);
    for (const auto& [id, r] : active_) {
      if (r.state == *state) out.push_back(r);
    }
    return out;
  }
  auto rows = log_.LoadState(std::string(kRolloutKind));
  if (!rows) return std::unexpected(rows.error());
  for (const auto& [id, value] : *rows) {
    auto r = rollout::RolloutFromJson(value);
    if (!r) return std::unexpected(r.error());
    if (!state || r->state == *state) out.push_back(std::move(*r));
  }
  return out;
}

Result<Rollout> Rollouts::Override(const governance::Governance& g,
                                   const governance::Principal& actor, const std::string& id,
                                   std::string_view action, const std::string& rationale) {
  MutexLock lock(&mu_);
  auto it = active_.find(id);
  if (it == active_.end()) return std::unexpected(NotActive(id, "nothing can change it"));
  Rollout next = it->second;
  auto effect = rollout::Override(g, next, action, actor, rationale, clock_.Now());
  if (!effect) return std::unexpected(effect.error());
  std::string event_type = fmt::format("rollout_{}", action == "skip_step" ? "step_skipped"
                                                     : action == "promote" ? "promoted"
                                                     : action == "abort"   ? "aborted"
                                                     : action == "pause"   ? "paused"
                                                                           : "resumed");
  if (auto ok = Commit(g, next, *effect, actor.id, Name(actor.type), event_type); !ok) {
    return std::unexpected(ok.error());
  }
  return next;
}

MetricSource AskedUntilUnreachable(MetricSource source) {
  auto down = std::make_shared<std::string>();
  return [source = std::move(source), down](const std::string& query, UnixMillis at) {
    if (!down->empty()) {
      return rollout::Reading::Unreachable(
          "the metric source did not answer earlier in this round: " + *down);
    }
    rollout::Reading r = source(query, at);
    if (r.unreachable) *down = r.detail;
    return r;
  };
}

Result<void> Rollouts::EscalationDecided(const governance::Governance& g,
                                         const std::string& approval_id, bool approved,
                                         const std::string& why) {
  MutexLock lock(&mu_);
  for (const auto& [id, r] : active_) {
    if (r.escalation != approval_id) continue;
    Rollout next = r;
    auto effect = rollout::ResolveEscalation(next, approval_id, approved, why, clock_.Now());
    if (!effect) return Ok();  // not paused for it any more
    return Commit(g, next, *effect, "interlock", "service",
                  approved ? "rollout_resumed" : "rollout_aborted");
  }
  return Ok();
}

Result<Rollout> Rollouts::Push(const governance::Governance& g, const governance::Principal& actor,
                               const std::string& id, UnixMillis at,
                               const std::vector<PushedValue>& values) {
  UnixMillis now = clock_.Now();
  if (at > now) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("at: {} ms in the future; a measurement cannot be from the future", at - now)));
  }
  MutexLock lock(&mu_);
  auto it = active_.find(id);
  if (it == active_.end()) return std::unexpected(NotActive(id, "it takes no more metrics"));
  Rollout next = it->second;
  int64_t keep = std::max<int64_t>(rollout::LongestWindow(g, next), 60'000);
  for (const PushedValue& v : values) {
    rollout::Record(next.metrics, v.name, v.baseline, at, rollout::Reading::Value(v.value), keep);
  }
  next.updated_at = now;
  Effect pushed{Effect::Kind::kNone,
                "",
                fmt::format("{} value{} pushed", values.size(), values.size() == 1 ? "" : "s"),
                {},
                {}};
  if (auto ok = Commit(g, next, pushed, actor.id, Name(actor.type), "rollout_metrics_pushed");
      !ok) {
    return std::unexpected(ok.error());
  }
  return next;
}

size_t Rollouts::EvaluateDue(const governance::Governance& g, const MetricSource& source,
                             const std::function<bool(const Rollout&)>& frozen) {
  UnixMillis now = clock_.Now();
  // The due rollouts, read first without holding the lock through queries.
  std::vector<Rollout> due;
  {
    MutexLock lock(&mu_);
    for (const auto& [id, r] : active_) {
      if (r.next_evaluation_at <= now) due.push_back(r);
    }
  }
  struct Read {
    std::string id;
    std::string metric;
    bool baseline;
    rollout::Reading reading;
  };
  std::vector<Read> reads;
  if (source) {
    for (const Rollout& r : due) {
      int64_t window = std::max<int64_t>(rollout::LongestWindow(g, r), 1000);
      for (const governance::MetricQuery& q : g.metric_queries) {
        reads.push_back({r.id, q.name, false, source(Expand(q.query, r, window), now)});
        if (!q.baseline_query.empty() && !r.spec.baseline_version.empty()) {
          reads.push_back({r.id, q.name, true, source(Expand(q.baseline_query, r, window), now)});
        }
      }
    }
  }
  MutexLock lock(&mu_);
  // Every evaluation of the round is submitted at once, so that the audit
  // log's group commit makes them durable together; memory follows each
  // one that is.
  std::vector<Pending> pending;
  for (const Rollout& seen : due) {
    auto it = active_.find(seen.id);
    if (it == active_.end() || it->second.next_evaluation_at > now) continue;
    Rollout next = it->second;
    int64_t keep = std::max<int64_t>(rollout::LongestWindow(g, next), 60'000);
    for (const Read& read : reads) {
      if (read.id == next.id) {
        rollout::Record(next.metrics, read.metric, read.baseline, now, read.reading, keep);
      }
    }
    Effect effect = rollout::Evaluate(g, next, now, frozen && frozen(next));
    std::string event_type = effect.kind == Effect::Kind::kNone
                                 ? "rollout_evaluated"
                                 : fmt::format("rollout_{}", rollout::EffectName(effect.kind));
    if (effect.kind == Effect::Kind::kStep) event_type = "rollout_step_promoted";
    auto prepared = Prepare(g, std::move(next), effect, "interlock", "service", event_type);
    if (prepared) pending.push_back(std::move(*prepared));
  }
  Mutex done_mu;
  CondVar done_cv;
  size_t outstanding = pending.size();
  std::vector<char> durable(pending.size(), 0);
  for (size_t i = 0; i < pending.size(); ++i) {
    log_.CommitAsync(std::move(pending[i].parts.events), std::move(pending[i].parts.changes),
                     [&, i](Result<std::vector<audit::Appended>> result) {
                       MutexLock done(&done_mu);
                       durable[i] = result.has_value() ? 1 : 0;
                       if (--outstanding == 0) done_cv.SignalAll();
                     });
  }
  {
    MutexLock done(&done_mu);
    while (outstanding != 0) done_cv.Wait(&done_mu);
  }
  size_t evaluated = 0;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!durable[i]) continue;  // not durable: memory stays as it was, due again
    Apply(pending[i]);
    ++evaluated;
  }
  EscalateOverdueReviews(g, now);
  return evaluated;
}

std::vector<Rollout> Rollouts::ActiveOf(const std::string& service,
                                        const std::string& environment) const {
  MutexLock lock(&mu_);
  std::vector<Rollout> out;
  for (const auto& [id, r] : active_) {
    if (r.spec.service == service && r.spec.environment == environment) out.push_back(r);
  }
  return out;
}

size_t Rollouts::ActiveCount() const {
  MutexLock lock(&mu_);
  return active_.size();
}

}  // namespace interlock::app
