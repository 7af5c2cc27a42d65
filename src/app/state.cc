#include "app/state.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

#include "app/decision_event.h"
#include "audit/event.h"
#include "audit/json.h"
#include "core/digest.h"

namespace interlock::app {

State::State(StateOptions options) : options_(std::move(options)) {}

State::~State() = default;

Result<std::unique_ptr<State>> State::Open(StateOptions options) {
  std::unique_ptr<State> s(new State(std::move(options)));
  StateOptions& o = s->options_;
  audit::AuditLog& log = *o.log;
  s->notifier_ = std::make_unique<notify::Notifier>(log, *o.clock, *o.random, *o.sender,
                                                    std::move(o.delivery));
  if (auto ok = s->notifier_->Load(); !ok) return std::unexpected(ok.error());
  s->tokens_ = std::make_unique<Tokens>(log, *o.clock, *o.random);
  if (auto ok = s->tokens_->Load(); !ok) return std::unexpected(ok.error());
  if (auto ok = s->stops_.Load(log); !ok) return std::unexpected(ok.error());
  s->stats_ = std::make_unique<DecisionStats>(log);
  if (auto ok = s->stats_->Load(); !ok) return std::unexpected(ok.error());
  s->approvals_ = std::make_unique<Approvals>(log);
  if (auto ok = s->approvals_->Load(o.clock->Now()); !ok) return std::unexpected(ok.error());
  s->freezes_ = std::make_unique<Freezes>(log);
  if (auto ok = s->freezes_->Load(); !ok) return std::unexpected(ok.error());
  Rollouts::ChangeLookup lookup;
  lookup.open_incidents = [freezes = s->freezes_.get()](std::vector<safety::FreezeEvent> events) {
    freezes->SetRollbacks(std::move(events));
  };
  lookup.decision = [&log](uint64_t index) -> Result<std::string> {
    audit::Reader system{.id = "interlock", .type = "service", .scope = audit::ReadScope::kAll};
    auto entries = log.Query(system, audit::QueryFilter{.from_index = index, .limit = 1});
    if (!entries) return std::unexpected(entries.error());
    if (entries->empty() || entries->front().index != index) {
      return std::unexpected(Error::NotFound(fmt::format("no audit record at index {}", index)));
    }
    if (entries->front().pruned) {
      return std::unexpected(Error::Conflict(
          fmt::format("the audit record at index {} was pruned by retention", index)));
    }
    return entries->front().event;
  };
  lookup.approval =
      [approvals = s->approvals_.get()](const std::string& id) -> Result<rollout::RolloutSpec> {
    auto found = approvals->Find(id);
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::unexpected(Error::NotFound(fmt::format("no approval request {}", id)));
    const workflow::ApprovalRequest& a = **found;
    if (a.state != workflow::ApprovalState::kApproved) {
      return std::unexpected(Error::Conflict(fmt::format(
          "approval request {} is {}, not approved: a rollout follows a change that was approved",
          id, Name(a.state))));
    }
    rollout::RolloutSpec spec;
    spec.service = a.change.service.value_or("");
    spec.version = a.change.version.value_or("");
    spec.baseline_version = a.change.previous_version.value_or("");
    spec.environment = std::string(Name(a.change.environment));
    spec.risk = std::string(Name(a.change.risk));
    spec.opened_by = a.requester;
    return spec;
  };
  lookup.escalate = [self = s.get()](const governance::Governance& g, const rollout::Rollout& r,
                                     size_t workflow, const std::string& why) {
    return self->Escalate(g, r, workflow, why);
  };
  s->rollouts_ =
      std::make_unique<Rollouts>(log, *o.clock, *o.random, *s->notifier_, std::move(lookup));
  if (auto ok = s->rollouts_->Load(); !ok) return std::unexpected(ok.error());
  return s;
}

void State::StartDelivery() { notifier_->Start(); }

Result<Rollouts::Escalation> State::Escalate(const governance::Governance& g,
                                             const rollout::Rollout& r, size_t workflow,
                                             const std::string& why) {
  UnixMillis now = options_.clock->Now();
  // The change under review: the rollout's, asked for by whoever opened it.
  decision::Request request;
  const governance::Principal* opener = g.FindPrincipal(r.spec.opened_by);
  request.actor_given = true;
  request.actor_id = opener ? opener->id : "interlock";
  request.actor_type = opener ? opener->type : ActorType::kService;
  request.environment =
      ParseEnum<Environment>(r.spec.environment).value_or(Environment::kProduction);
  request.service = r.spec.service;
  if (!r.spec.version.empty()) request.version = r.spec.version;
  if (!r.spec.baseline_version.empty()) request.previous_version = r.spec.baseline_version;
  request.summary = fmt::format("Rollout {} paused by a trigger: {}", r.id, why);
  if (request.actor_type == ActorType::kAiAgent) request.ai_rationale = why;
  decision::Decision d;
  d.kind = DecisionKind::kRequireApproval;
  d.risk = ParseEnum<RiskLevel>(r.spec.risk).value_or(RiskLevel::kHigh);
  d.approvals.count = g.workflows[workflow].required_approvers;
  d.eligible_roles = g.workflows[workflow].approver_roles;
  d.workflow = workflow;
  auto opened = OpenApproval(g, request, d, now);
  if (!opened) return std::unexpected(opened.error());
  Rollouts::Escalation e;
  e.approval_id = opened->request.id;
  e.parts.events.push_back(std::move(opened->event));
  e.parts.changes.push_back(Approvals::Row(opened->request));
  for (const notify::Message& m : opened->messages) {
    e.parts.changes.push_back(notify::Notifier::Row(m));
  }
  e.parts.messages = std::move(opened->messages);
  e.parts.committed = [approvals = approvals_.get(),
                       request = std::move(opened->request)]() mutable {
    approvals->Opened(std::move(request));
  };
  return e;
}

Result<State::OpenedApproval> State::OpenApproval(const governance::Governance& g,
                                                  const decision::Request& request,
                                                  const decision::Decision& d, UnixMillis now) {
  std::array<uint8_t, 8> bytes;
  if (auto ok = options_.random->Fill(bytes); !ok) return std::unexpected(ok.error());
  auto opened = workflow::Open(g, request, d, "apr_" + ToHex(bytes.data(), bytes.size()), now);
  if (!opened) {
    return std::unexpected(
        Error::InvalidArgument("the approval cannot be opened: " + opened.error().message()));
  }
  auto messages = AnnounceApproval(g, opened->request, opened->notifications);
  if (!messages) return std::unexpected(messages.error());
  auto event = audit::MakeEvent(std::move(opened->audit_event), now);
  if (!event) return std::unexpected(Error::Internal(event.error().message()));
  return OpenedApproval{std::move(opened->request), std::move(*event), std::move(*messages)};
}

void State::RecordDecision(const governance::Governance& g, const decision::Request& request,
                           const decision::Decision& d, const std::string& why,
                           std::function<void(Result<RecordedDecision>)> done) {
  UnixMillis now = options_.clock->Now();
  std::vector<audit::Event> events;
  std::vector<audit::StateChange> changes;
  std::optional<workflow::ApprovalRequest> approval;
  std::vector<notify::Message> outbox;
  if (d.kind == DecisionKind::kRequireApproval) {
    auto opened = OpenApproval(g, request, d, now);
    if (!opened) return done(std::unexpected(opened.error()));
    approval = std::move(opened->request);
    changes.push_back(Approvals::Row(*approval));
    for (const notify::Message& m : opened->messages) changes.push_back(notify::Notifier::Row(m));
    outbox = std::move(opened->messages);
    events.push_back(std::move(opened->event));
  }
  // An allowed model_update starts the freeze windows after one.
  std::optional<safety::FreezeEvent> model_update;
  if (d.kind == DecisionKind::kAllow) {
    model_update =
        Freezes::ModelUpdate(request.change_type, request.environment, request.service, now);
    if (model_update) changes.push_back(Freezes::Row(*model_update));
  }
  // The first decision on a model version that is not a deny pins its
  // artifacts.
  if (d.kind != DecisionKind::kDeny) {
    if (auto artifacts = ModelArtifactsOf(g, request)) {
      changes.push_back(ModelArtifactRow(*artifacts, request.service.value_or(""), now));
    }
  }
  // The scans the request carries become the latest ones (compliance).
  for (audit::StateChange& row : ScanRows(request, now)) changes.push_back(std::move(row));
  std::optional<std::string_view> approval_id;
  if (approval) approval_id = approval->id;
  auto made = DecisionEvent(g, request, d, why, approval_id, now);
  if (!made) {
    return done(std::unexpected(
        Error::Internal("the decision's audit event is invalid: " + made.error().message())));
  }
  events.insert(events.begin(), std::move(*made));
  options_.log->CommitAsync(
      std::move(events), std::move(changes),
      [this, done = std::move(done), kind = d.kind, now, approval = std::move(approval),
       outbox = std::move(outbox), model_update = std::move(model_update)](
          Result<std::vector<audit::Appended>> appended) mutable {
        if (!appended) {
          done(std::unexpected(Error::NotRecorded(
              "the decision could not be recorded, so it is deny", appended.error())));
          return;
        }
        stats_->Count(kind, now);
        if (model_update) freezes_->Began(*model_update);
        RecordedDecision recorded{appended->front().index, ""};
        if (approval) {
          recorded.approval_id = approval->id;
          approvals_->Opened(std::move(*approval));
        }
        notifier_->Enqueue(std::move(outbox));
        done(std::move(recorded));
      });
}

void State::RecordApprovalRead(const governance::Principal& reader, bool listed,
                               std::vector<std::string> ids,
                               std::function<void(Result<void>)> done) {
  nlohmann::json event = {{"event_type", "approval_read"},
                          {"actor", {{"type", Name(reader.type)}, {"id", reader.id}}},
                          {"action", {{"type", listed ? "list" : "view"}}},
                          {"approvals", std::move(ids)}};
  if (reader.type == ActorType::kAiAgent) {
    event["decision"] = {{"rationale", "a read of approvals; no rationale is given"}};
  }
  auto made = audit::MakeEvent(std::move(event), options_.clock->Now());
  if (!made) return done(std::unexpected(Error::Internal(made.error().message())));
  std::vector<audit::Event> events;
  events.push_back(std::move(*made));
  options_.log->CommitAsync(
      std::move(events), {}, [done = std::move(done)](Result<std::vector<audit::Appended>> r) {
        if (!r) {
          return done(std::unexpected(
              Error::NotRecorded("the read could not be recorded, so it is refused", r.error())));
        }
        done(Ok());
      });
}

Result<std::vector<notify::Message>> State::AnnounceApproval(
    const governance::Governance& g, const workflow::ApprovalRequest& a,
    const std::vector<workflow::Notification>& ns) {
  std::vector<std::string> channels;
  if (auto w = g.FindWorkflow(a.workflow)) channels = g.workflows[*w].notification_channels;
  bool urgent = a.state == workflow::ApprovalState::kEscalated ||
                a.state == workflow::ApprovalState::kBlocked;
  std::vector<notify::Message> out;
  for (const workflow::Notification& n : ns) {
    notify::Announcement an;
    an.principals = n.principals;
    an.roles = n.roles;
    an.subject = fmt::format("Approval {} is {}", a.id, Name(a.state));
    an.text = n.text;
    an.severity = urgent ? "warning" : "info";
    an.about = "approval " + a.id;
    auto messages = notifier_->Compose(g, an, channels);
    if (!messages) return std::unexpected(messages.error());
    for (notify::Message& m : *messages) out.push_back(std::move(m));
  }
  return out;
}

Result<audit::Appended> State::CommitApproval(const governance::Governance& g,
                                              const workflow::Transition& t) {
  UnixMillis now = options_.clock->Now();
  auto event = audit::MakeEvent(t.audit_event, now);
  if (!event) return std::unexpected(event.error());
  auto messages = AnnounceApproval(g, t.request, t.notifications);
  if (!messages) return std::unexpected(messages.error());
  std::vector<audit::StateChange> changes = {Approvals::Row(t.request)};
  for (const notify::Message& m : *messages) changes.push_back(notify::Notifier::Row(m));
  // An approved model_update starts the freeze windows after one.
  std::optional<safety::FreezeEvent> model_update;
  if (t.request.state == workflow::ApprovalState::kApproved) {
    const workflow::ChangeDetails& c = t.request.change;
    model_update = Freezes::ModelUpdate(c.type, c.environment, c.service, now);
    if (model_update) changes.push_back(Freezes::Row(*model_update));
  }
  auto appended = options_.log->Commit(std::move(*event), std::move(changes));
  if (!appended) {
    return std::unexpected(Error::NotRecorded("the action was not taken", appended.error()));
  }
  notifier_->Enqueue(std::move(*messages));
  if (model_update) freezes_->Began(*model_update);
  if (workflow::IsFinal(t.request.state)) {
    approvals_finished_.fetch_add(1);
    approval_latency_ms_.fetch_add(
        static_cast<uint64_t>(std::max<UnixMillis>(0, now - t.request.created_at)));
  }
  return appended;
}

Result<std::pair<workflow::Transition, audit::Appended>> State::ActOnApproval(
    const governance::Governance& g, const governance::Principal& actor, const std::string& id,
    workflow::Action act, const std::string& rationale, const std::string& to) {
  auto changed = approvals_->Change(
      id,
      [&](const workflow::ApprovalRequest& a) {
        bool stopped = Covering(*stops_.Snapshot(), a.change.environment, a.change.service,
                                a.requester) != nullptr;
        return workflow::Act(g, a, actor, act, rationale,
                             to.empty() ? std::nullopt : std::optional<std::string>(to),
                             options_.clock->Now(), stopped);
      },
      [&](const workflow::Transition& t) { return CommitApproval(g, t); });
  if (changed) Decided(g, changed->first.request, actor.id, rationale);
  return changed;
}

void State::Decided(const governance::Governance& g, const workflow::ApprovalRequest& a,
                    const std::string& by, const std::string& rationale) {
  if (!workflow::IsFinal(a.state)) return;
  std::string why = fmt::format("approval request {} was {} by {}", a.id, Name(a.state), by);
  if (!rationale.empty()) why += ": " + rationale;
  // The record of the approval is durable already; a rollout that could not
  // be resumed or aborted now stays paused, and people steer it by hand.
  (void)rollouts_->EscalationDecided(g, a.id, a.state == workflow::ApprovalState::kApproved, why);
}

void State::TimeOutApprovals(const governance::Governance& g) {
  std::vector<workflow::ApprovalRequest> finished;
  approvals_->Timeouts(options_.clock->Now(), [&](const workflow::Transition& t) {
    auto appended = CommitApproval(g, t);
    if (appended && workflow::IsFinal(t.request.state)) finished.push_back(t.request);
    return appended;
  });
  // Outside the approvals' lock: an escalated rollout waits no longer.
  for (const workflow::ApprovalRequest& a : finished) Decided(g, a, "its deadline", "");
}

Result<StopApplied> State::ChangeStop(const governance::Governance& g,
                                      const governance::Principal& actor,
                                      const safety::Scope& scope, std::string_view action,
                                      const std::map<std::string, std::string>& fields) {
  // A store that cannot say whether another server changed the stop leaves
  // the stop as this one knows it; the commit below is what must succeed.
  (void)RefreshStops();
  UnixMillis now = options_.clock->Now();
  std::shared_ptr<const StopMap> before = stops_.Snapshot();
  auto found = before->find(scope.Key());
  safety::StopState current = found != before->end() ? found->second : safety::StopState{scope};
  auto reason_field = fields.find("reason");
  std::string reason = reason_field != fields.end() ? reason_field->second : "";
  auto change = action == "activate"     ? safety::Activate(g, current, actor, reason, now)
                : action == "deactivate" ? safety::Deactivate(g, current, actor, fields, now)
                                         : safety::ReenableAiAgents(g, current, actor, reason);
  if (!change) return std::unexpected(change.error());
  auto event = audit::ParseEvent(audit::Dump(change->event), now);
  if (!event) return std::unexpected(Error::Internal(event.error().message()));
  auto messages = AnnounceStop(g, *change, action);
  if (!messages) return std::unexpected(messages.error());
  std::vector<audit::StateChange> changes = {StopBoard::Row(change->next)};
  for (const notify::Message& m : *messages) changes.push_back(notify::Notifier::Row(m));
  auto appended = options_.log->Commit(std::move(*event), std::move(changes));
  if (!appended)
    return std::unexpected(Error::NotRecorded("the change was not made", appended.error()));
  stops_.PutCommitted(change->next);
  notifier_->Enqueue(std::move(*messages));
  return StopApplied{std::move(change->next), std::move(change->summary), *appended};
}

Result<std::vector<notify::Message>> State::AnnounceStop(const governance::Governance& g,
                                                         const safety::StopChange& change,
                                                         std::string_view action) {
  notify::Announcement an;
  governance::RoleSet roles = g.emergency_stop.activate_roles | g.emergency_stop.deactivate_roles;
  for (size_t i = 0; i < g.roles.size(); ++i) {
    if (roles.test(i)) an.roles.push_back(g.roles[i].id);
  }
  for (const std::string& role : *approvals_->PendingRoles()) an.roles.push_back(role);
  const safety::StopState& next = change.next;
  an.subject = action == "activate"     ? "EMERGENCY STOP ACTIVATED"
               : next.active            ? "Emergency stop: deactivation signed"
               : action == "deactivate" ? "Emergency stop deactivated"
                                        : "AI agents re-enabled";
  an.text = change.summary;
  an.severity = action == "activate" ? "critical" : "warning";
  an.about = fmt::format("emergency_stop {}", next.incident);
  return notifier_->Compose(g, an, g.emergency_stop.notify);
}

Result<State::Requested> State::RequestApproval(
    const governance::Governance& g, const decision::Request& subject, std::string_view workflow,
    RiskLevel risk, const std::function<Result<Made>(const std::string& id)>& made) {
  auto w = g.FindWorkflow(workflow);
  if (!w) {
    return std::unexpected(Error::NotFound(fmt::format(
        "the governance has no approval workflow {} (approvals/workflow.yml)", workflow)));
  }
  decision::Decision d;
  d.kind = DecisionKind::kRequireApproval;
  d.risk = risk;
  d.approvals.count = g.workflows[*w].required_approvers;
  d.eligible_roles = g.workflows[*w].approver_roles;
  d.workflow = w;
  UnixMillis now = options_.clock->Now();
  auto opened = OpenApproval(g, subject, d, now);
  if (!opened) return std::unexpected(opened.error());
  auto own = made(opened->request.id);
  if (!own) return std::unexpected(own.error());
  std::vector<audit::Event> events;
  events.push_back(std::move(own->event));
  events.push_back(std::move(opened->event));
  std::vector<audit::StateChange> changes = std::move(own->rows);
  changes.push_back(Approvals::Row(opened->request));
  for (const notify::Message& m : opened->messages) changes.push_back(notify::Notifier::Row(m));
  auto appended = options_.log->Commit(std::move(events), std::move(changes));
  if (!appended) {
    return std::unexpected(Error::NotRecorded("the request was not recorded", appended.error()));
  }
  Requested out{opened->request, appended->front().index};
  approvals_->Opened(std::move(opened->request));
  notifier_->Enqueue(std::move(opened->messages));
  return out;
}

}  // namespace interlock::app
