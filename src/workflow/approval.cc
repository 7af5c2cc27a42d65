// One file because the state machine's steps and the stored form they
// read and write must stay in step: a field added to one is added to both.
#include "workflow/approval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <limits>

#include "core/assign.h"
#include "core/text.h"

namespace interlock::workflow {
namespace {

using governance::Governance;
using governance::Principal;
using nlohmann::json;

// Who took a step, as the history and the audit event name them.
struct Actor {
  std::string id;
  ActorType type = ActorType::kHuman;
  std::string name;  // empty when unknown
};

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string Join(const std::vector<std::string>& list) {
  return fmt::format("{}", fmt::join(list, ", "));
}

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// The ids of the roles in `set`, in definition order.
std::vector<std::string> RoleIds(const Governance& g, const governance::RoleSet& set) {
  std::vector<std::string> ids;
  for (size_t index = 0; index < g.roles.size(); ++index) {
    if (set[index]) ids.push_back(g.roles[index].id);
  }
  return ids;
}

bool HoldsAny(const std::vector<std::string>& held, const std::vector<std::string>& wanted) {
  return std::any_of(held.begin(), held.end(),
                     [&](const std::string& role) { return Contains(wanted, role); });
}

bool HasApproved(const ApprovalRequest& r, std::string_view principal) {
  return std::any_of(r.approvals.begin(), r.approvals.end(),
                     [&](const Approval& approval) { return approval.principal == principal; });
}

// "an ai_agent", "a service": for "X is an ai_agent: only humans may ...".
std::string_view WithArticle(ActorType type) {
  return type == ActorType::kAiAgent   ? "an ai_agent"
         : type == ActorType::kService ? "a service"
                                       : "a human";
}

// The action as a verb ("only humans may request changes") and with its
// object ("alice requested this change and cannot request changes to it").
std::string_view Verb(Action action) {
  constexpr std::array<std::string_view, 8> kVerbs = {
      "open",     "approve",  "reject",   "request changes",
      "escalate", "delegate", "resubmit", "time out"};
  return kVerbs[static_cast<size_t>(action)];
}
std::string_view VerbIt(Action action) {
  constexpr std::array<std::string_view, 8> kPhrases = {
      "open it",     "approve it",          "reject it",   "request changes to it",
      "escalate it", "delegate its review", "resubmit it", "time it out"};
  return kPhrases[static_cast<size_t>(action)];
}

// "ap-1 (code change to api-gateway 2.5.4 in production)", for notifications.
std::string Describe(const ApprovalRequest& r) {
  const ChangeDetails& c = r.change;
  std::string what = fmt::format("{} ({} change", r.id, Name(c.type));
  if (c.service) what += fmt::format(" to {}", *c.service);
  if (c.version) what += fmt::format(" {}", *c.version);
  what += fmt::format(" in {})", Name(c.environment));
  return what;
}

// Adds the escalation role as eligible and mandatory and starts a new
// deadline for it. REQUIRES: r->escalation_role.
void Escalate(ApprovalRequest* r, UnixMillis now) {
  const std::string& role = *r->escalation_role;
  if (!Contains(r->eligible_roles, role)) r->eligible_roles.push_back(role);
  if (!Contains(r->mandatory_roles, role)) r->mandatory_roles.push_back(role);
  r->escalated = true;
  r->state = ApprovalState::kEscalated;
  r->deadline = now + r->timeout.count();
}

std::vector<std::string> Approvers(const ApprovalRequest& r) {
  std::vector<std::string> ids;
  for (const Approval& approval : r.approvals) ids.push_back(approval.principal);
  return ids;
}

// The audit event of a step that left the request as `r`.
json AuditEvent(const ApprovalRequest& r, std::optional<ApprovalState> previous, const Actor& actor,
                Action action, const std::string& rationale, UnixMillis now) {
  json event_actor = {{"type", Name(actor.type)}, {"id", actor.id}};
  if (!actor.name.empty()) event_actor["name"] = actor.name;

  json change = {{"type", Name(r.change.type)}, {"risk_level", Name(r.change.risk)}};
  if (r.change.service) change["service"] = *r.change.service;
  if (r.change.version) change["version"] = *r.change.version;
  if (r.change.summary) change["summary"] = *r.change.summary;

  json approval = {{"id", r.id},
                   {"revision", r.revision},
                   {"state", Name(r.state)},
                   {"workflow", r.workflow},
                   {"required", true},
                   {"required_approvals", r.required_approvals},
                   {"approvers", Approvers(r)},
                   {"missing_roles", MissingRoles(r)}};
  if (previous) approval["previous_state"] = Name(*previous);
  if (r.state == ApprovalState::kPending || r.state == ApprovalState::kEscalated) {
    approval["deadline"] = FormatTimestamp(r.deadline);
  }
  if (r.state == ApprovalState::kApproved) approval["approved_at"] = FormatTimestamp(now);

  json event = {{"event_type", fmt::format("approval_{}", Name(action))},
                {"timestamp", FormatTimestamp(now)},
                {"actor", std::move(event_actor)},
                {"environment", Name(r.change.environment)},
                {"change", std::move(change)},
                {"approval", std::move(approval)},
                {"ai_agent",
                 {{"involved",
                   r.requester_type == ActorType::kAiAgent || actor.type == ActorType::kAiAgent}}}};
  if (!rationale.empty()) event["rationale"] = rationale;
  // The audit log requires an ai_agent actor's reasons as decision.rationale.
  if (actor.type == ActorType::kAiAgent) event["decision"] = {{"rationale", rationale}};
  return event;
}

// Records a step that left the request as `next`: its history entry and its
// audit event. The caller adds the notifications.
Transition Record(ApprovalRequest next, std::optional<ApprovalState> previous, const Actor& actor,
                  Action action, std::string rationale, UnixMillis now) {
  json event = AuditEvent(next, previous, actor, action, rationale, now);
  next.history.push_back({actor.id, actor.type, action, std::move(rationale), now, next.revision});
  return {std::move(next), std::move(event), {}};
}

// Kuhn's augmenting path: tries to give mandatory role `role` an approver,
// moving approvers already assigned to other roles when that frees one.
bool AssignRole(const ApprovalRequest& r, size_t role, std::vector<std::optional<size_t>>* role_of,
                std::vector<bool>* tried) {
  for (size_t index = 0; index < r.approvals.size(); ++index) {
    if ((*tried)[index] || !Contains(r.approvals[index].roles, r.mandatory_roles[role])) continue;
    (*tried)[index] = true;
    if (!(*role_of)[index] || AssignRole(r, *(*role_of)[index], role_of, tried)) {
      (*role_of)[index] = role;
      return true;
    }
  }
  return false;
}

Error Denied(std::string message) { return Error::PermissionDenied(std::move(message)); }

// Whether `who` is one of the people behind request `r`: its requester, or
// someone it was asked for, by principal id or by e-mail (principals sharing
// an e-mail are one person). Nullopt if not; otherwise how, for the message:
// "" for the requester itself, " (as alice@example.com)" otherwise.
std::optional<std::string> RequesterAs(const Governance& g, const ApprovalRequest& r,
                                       const Principal& who) {
  if (who.id == r.requester) return std::string();
  std::string person = who.Person();
  if (const Principal* requester = g.FindPrincipal(r.requester);
      requester && requester->Person() == person) {
    return fmt::format(" (as {}, the same person)", r.requester);
  }
  for (const std::string& named : r.on_behalf_of) {
    std::string lowered = named;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const Principal* p = g.FindPrincipal(named);
    if (named == who.id || lowered == person || (p && p->Person() == person)) {
      return fmt::format(" (through {} on behalf of {})", r.requester, named);
    }
  }
  return std::nullopt;
}

// The approval of the current revision given by the same person as `who`
// through another principal, if any.
const Approval* ApprovedAsSamePerson(const Governance& g, const ApprovalRequest& r,
                                     const Principal& who) {
  for (const Approval& a : r.approvals) {
    const Principal* p = g.FindPrincipal(a.principal);
    if (a.principal != who.id && p && p->Person() == who.Person()) return &a;
  }
  return nullptr;
}
Error Invalid(std::string message) { return Error::InvalidArgument(std::move(message)); }

// Who may take a reviewer's action: a human holding an eligible role who did
// not request the change. Returns the roles the actor holds.
Result<std::vector<std::string>> CheckReviewer(const Governance& g, const ApprovalRequest& r,
                                               const Principal& actor, Action action) {
  if (actor.type != ActorType::kHuman) {
    return std::unexpected(Denied(fmt::format("{} is {}: only humans may {}", actor.id,
                                              WithArticle(actor.type), Verb(action))));
  }
  if (auto requester = RequesterAs(g, r, actor)) {
    return std::unexpected(Denied(fmt::format("{} requested this change{} and cannot {}", actor.id,
                                              *requester, VerbIt(action))));
  }
  std::vector<std::string> held = RoleIds(g, actor.roles);
  if (!HoldsAny(held, r.eligible_roles)) {
    return std::unexpected(Denied(fmt::format("{} holds none of the roles that review {} ({})",
                                              actor.id, r.id, Join(r.eligible_roles))));
  }
  return held;
}

Result<Transition> Approve(const ApprovalRequest& r, const Actor& actor,
                           std::vector<std::string> held, std::string rationale, UnixMillis now,
                           bool emergency_stop_active) {
  ApprovalRequest next = r;
  if (HasApproved(r, actor.id)) {
    // Idempotent, so that a client retrying after a lost answer is not
    // told off; the audit trail still shows the repeat.
    Transition t =
        Record(std::move(next), r.state, actor, Action::kApprove, std::move(rationale), now);
    t.audit_event["approval"]["counted"] = false;
    return t;
  }
  next.approvals.push_back({actor.id, std::move(held), rationale, now});
  std::vector<std::string> missing = MissingRoles(next);
  size_t count = next.approvals.size();
  bool complete = count >= static_cast<size_t>(next.required_approvals) && missing.empty();
  if (complete && emergency_stop_active) {
    return std::unexpected(Denied(fmt::format(
        "the emergency stop is active: {}'s approval would complete {} and is refused until the "
        "stop is lifted",
        actor.id, r.id)));
  }
  if (complete) next.state = ApprovalState::kApproved;
  Transition t =
      Record(std::move(next), r.state, actor, Action::kApprove, std::move(rationale), now);
  t.audit_event["approval"]["counted"] = true;
  const ApprovalRequest& after = t.request;
  if (complete) {
    t.notifications.push_back(
        {{after.requester},
         after.eligible_roles,
         fmt::format("{} is approved; the change may proceed", Describe(after))});
  } else {
    std::string still = missing.empty() ? "" : fmt::format("; still needs {}", Join(missing));
    t.notifications.push_back(
        {{after.requester},
         {},
         fmt::format("{} approved {} ({} of {} approvals{})", actor.id, Describe(after), count,
                     after.required_approvals, still)});
  }
  return t;
}

Result<Transition> Delegate(const Governance& g, const ApprovalRequest& r, const Actor& actor,
                            const std::vector<std::string>& held,
                            const std::optional<std::string>& to, std::string rationale,
                            UnixMillis now) {
  if (!to) return std::unexpected(Invalid("delegate needs the principal to hand the review to"));
  auto found = std::find_if(g.principals.begin(), g.principals.end(),
                            [&](const Principal& p) { return p.id == *to; });
  if (found == g.principals.end()) {
    return std::unexpected(Invalid(fmt::format("cannot delegate to '{}': no such principal", *to)));
  }
  const Principal& delegate = *found;
  if (delegate.type != ActorType::kHuman) {
    return std::unexpected(Denied(fmt::format(
        "{} is {}: only humans may receive a delegated review", *to, WithArticle(delegate.type))));
  }
  if (auto requester = RequesterAs(g, r, delegate)) {
    return std::unexpected(
        Denied(fmt::format("{} requested this change{} and cannot review it", *to, *requester)));
  }
  if (delegate.id == actor.id) {
    return std::unexpected(Invalid(fmt::format("{} cannot delegate a review to themselves", *to)));
  }
  if (!HoldsAny(RoleIds(g, delegate.roles), r.eligible_roles)) {
    return std::unexpected(Denied(fmt::format("{} holds none of the roles that review {} ({})", *to,
                                              r.id, Join(r.eligible_roles))));
  }
  if (HasApproved(r, delegate.id)) {
    return std::unexpected(
        Invalid(fmt::format("{} has already approved revision {} of {}", *to, r.revision, r.id)));
  }
  // The role handed over: a mandatory one the delegator holds, else any
  // eligible one (CheckReviewer ensured there is one).
  auto first_held_in = [&](const std::vector<std::string>& roles) {
    return std::find_if(held.begin(), held.end(),
                        [&](const std::string& role) { return Contains(roles, role); });
  };
  auto role = first_held_in(r.mandatory_roles);
  if (role == held.end()) role = first_held_in(r.eligible_roles);

  ApprovalRequest next = r;
  next.delegations.push_back({actor.id, *to, *role, now});
  std::string text = fmt::format("{} handed you the review of {}: {}; decide by {}", actor.id,
                                 Describe(r), rationale, FormatTimestamp(r.deadline));
  Transition t =
      Record(std::move(next), r.state, actor, Action::kDelegate, std::move(rationale), now);
  t.audit_event["delegation"] = {{"from", actor.id}, {"to", *to}, {"role", *role}};
  t.notifications.push_back({{*to}, {}, std::move(text)});
  return t;
}

}  // namespace

bool IsFinal(ApprovalState state) {
  return state == ApprovalState::kApproved || state == ApprovalState::kRejected ||
         state == ApprovalState::kBlocked;
}

std::vector<std::string> MissingRoles(const ApprovalRequest& request) {
  std::vector<std::optional<size_t>> role_of(request.approvals.size());
  std::vector<std::string> missing;
  for (size_t role = 0; role < request.mandatory_roles.size(); ++role) {
    std::vector<bool> tried(request.approvals.size(), false);
    if (!AssignRole(request, role, &role_of, &tried)) {
      missing.push_back(request.mandatory_roles[role]);
    }
  }
  return missing;
}

Result<Transition> Open(const Governance& g, const decision::Request& request,
                        const decision::Decision& decision, std::string id, UnixMillis now) {
  if (id.empty()) return std::unexpected(Invalid("an approval needs an id"));
  if (decision.kind != DecisionKind::kRequireApproval) {
    return std::unexpected(
        Invalid(fmt::format("the decision is {}, not require_approval: there is nothing to approve",
                            Name(decision.kind))));
  }
  if (!decision.workflow || *decision.workflow >= g.workflows.size()) {
    return std::unexpected(Invalid("the decision names no approval workflow"));
  }
  bool ai = request.actor_type == ActorType::kAiAgent;
  // Approvers must see why an AI agent recommends its change (seed 000, 6.3),
  // and the audit log requires an ai_agent actor's rationale.
  if (ai && Trim(request.ai_rationale.value_or("")).empty()) {
    return std::unexpected(Invalid(fmt::format(
        "{} is an ai_agent: its change needs ai.rationale, so that approvers see why it "
        "recommends it",
        request.actor_id)));
  }
  const governance::Workflow& w = g.workflows[*decision.workflow];

  ApprovalRequest r;
  r.id = std::move(id);
  r.requester = request.actor_id;
  r.requester_type = request.actor_type;
  static const std::vector<std::vector<std::string>> kOnBehalfOf = {{"author"}, {"triggered_by"}};
  for (const std::vector<std::string>& path : kOnBehalfOf) {
    expr::Value named = decision::LookupMetadata(request, path);
    if (named.type == expr::Type::kString && !named.string.empty() &&
        named.string != request.actor_id && !Contains(r.on_behalf_of, named.string)) {
      r.on_behalf_of.emplace_back(named.string);
    }
  }
  ChangeDetails& c = r.change;
  c.summary = request.summary;
  c.type = request.change_type;
  c.environment = request.environment;
  c.service = request.service;
  c.version = request.version;
  c.previous_version = request.previous_version;
  c.bump = request.bump;
  c.risk = decision.risk;
  c.tests_passed = request.tests_passed;
  c.scan_passed = request.scan_passed;
  c.scan_max_severity = request.scan_max_severity;
  static const std::vector<std::string> kRollbackPlan = {"rollback_plan"};
  if (expr::Value plan = decision::LookupMetadata(request, kRollbackPlan);
      plan.type == expr::Type::kString) {
    c.rollback_plan = std::string(plan.string);
  }
  if (ai) {
    c.ai_confidence = request.ai_confidence;
    c.ai_rationale = request.ai_rationale;
  }
  r.workflow = w.id;
  r.timeout = w.timeout;
  if (w.escalation_role) r.escalation_role = g.roles[*w.escalation_role].id;
  r.required_approvals = decision.approvals.count;
  r.mandatory_roles = RoleIds(g, decision.approvals.mandatory);
  r.eligible_roles = RoleIds(g, decision.eligible_roles);
  r.created_at = now;
  r.deadline = now + w.timeout.count();

  std::string rationale = ai ? *request.ai_rationale : request.summary.value_or("");
  Transition t = Record(std::move(r), std::nullopt, {request.actor_id, request.actor_type, ""},
                        Action::kOpen, std::move(rationale), now);
  const ApprovalRequest& opened = t.request;
  std::string mandatory = opened.mandatory_roles.empty()
                              ? ""
                              : fmt::format(" including {}", Join(opened.mandatory_roles));
  std::string summary = opened.change.summary ? fmt::format(": {}", *opened.change.summary) : "";
  t.notifications.push_back(
      {{},
       opened.eligible_roles,
       fmt::format("{} asks for approval of {}, {} risk{}; {} approvals needed{}; decide by {}",
                   opened.requester, Describe(opened), Name(opened.change.risk), summary,
                   opened.required_approvals, mandatory, FormatTimestamp(opened.deadline))});
  return t;
}

Result<Transition> Act(const Governance& g, const ApprovalRequest& request, const Principal& actor,
                       Action action, std::string_view rationale,
                       const std::optional<std::string>& to, UnixMillis now,
                       bool emergency_stop_active) {
  if (action == Action::kOpen || action == Action::kTimeout) {
    return std::unexpected(
        Invalid(fmt::format("'{}' is done by Interlock itself, not by a person", Name(action))));
  }
  const ApprovalRequest& r = request;
  if (IsFinal(r.state)) {
    return std::unexpected(Invalid(
        fmt::format("{} is already {}: no further action is possible", r.id, Name(r.state))));
  }
  bool resubmit = action == Action::kResubmit;
  if (r.state == ApprovalState::kChangesRequested && !resubmit) {
    return std::unexpected(Invalid(fmt::format(
        "{} is waiting for {} to resubmit it (changes were requested)", r.id, r.requester)));
  }
  if (resubmit && r.state != ApprovalState::kChangesRequested) {
    return std::unexpected(Invalid(
        fmt::format("{} is {}: only a request whose changes were requested can be resubmitted",
                    r.id, Name(r.state))));
  }

  std::vector<std::string> held;
  if (resubmit) {
    if (actor.id != r.requester) {
      return std::unexpected(
          Denied(fmt::format("only {}, who requested this change, can resubmit it", r.requester)));
    }
  } else {
    auto reviewer = CheckReviewer(g, r, actor, action);
    if (!reviewer) return std::unexpected(reviewer.error());
    held = std::move(*reviewer);
  }

  std::string_view trimmed = Trim(rationale);
  if (trimmed.empty()) {
    return std::unexpected(Invalid(fmt::format("a rationale is required to {}", Verb(action))));
  }
  if (trimmed.size() > kMaxRationaleBytes) {
    return std::unexpected(
        Invalid(fmt::format("the rationale is {} bytes long; at most {} are allowed",
                            trimmed.size(), kMaxRationaleBytes)));
  }
  if (FindInvalidUtf8(trimmed) != std::string_view::npos)
    return std::unexpected(Invalid("the rationale is not valid UTF-8"));
  if (to && action != Action::kDelegate) {
    return std::unexpected(Invalid(fmt::format(
        "only delegate names a principal to hand the review to, not {}", Name(action))));
  }

  Actor who{actor.id, actor.type, actor.name};
  std::string why(trimmed);
  switch (action) {
    case Action::kApprove:
      if (const Approval* same = ApprovedAsSamePerson(g, r, actor)) {
        return std::unexpected(Denied(fmt::format(
            "{} is the same person as {}, who has already approved revision {} of {}; approvals "
            "must come from distinct people",
            actor.id, same->principal, r.revision, r.id)));
      }
      return Approve(r, who, std::move(held), std::move(why), now, emergency_stop_active);
    case Action::kDelegate:
      return Delegate(g, r, who, held, to, std::move(why), now);
    case Action::kReject: {
      ApprovalRequest next = r;
      next.state = ApprovalState::kRejected;
      std::string text = fmt::format("{} rejected {}: {}", actor.id, Describe(r), why);
      Transition t = Record(std::move(next), r.state, who, action, std::move(why), now);
      t.notifications.push_back({{r.requester}, r.eligible_roles, std::move(text)});
      return t;
    }
    case Action::kRequestChanges: {
      ApprovalRequest next = r;
      next.state = ApprovalState::kChangesRequested;
      std::string text = fmt::format("{} requested changes to {}: {}", actor.id, Describe(r), why);
      Transition t = Record(std::move(next), r.state, who, action, std::move(why), now);
      t.notifications.push_back({{r.requester}, {}, std::move(text)});
      return t;
    }
    case Action::kEscalate: {
      if (!r.escalation_role) {
        return std::unexpected(Invalid(fmt::format(
            "workflow {} names no escalation role, so {} cannot be escalated", r.workflow, r.id)));
      }
      if (r.escalated) {
        return std::unexpected(
            Invalid(fmt::format("{} is already escalated to {}", r.id, *r.escalation_role)));
      }
      ApprovalRequest next = r;
      Escalate(&next, now);
      std::string text =
          fmt::format("{} escalated {} to {}: {}; decide by {}", actor.id, Describe(r),
                      *r.escalation_role, why, FormatTimestamp(next.deadline));
      Transition t = Record(std::move(next), r.state, who, action, std::move(why), now);
      t.notifications.push_back({{r.requester}, {*r.escalation_role}, std::move(text)});
      return t;
    }
    case Action::kResubmit: {
      ApprovalRequest next = r;
      ++next.revision;
      next.approvals.clear();
      next.state = r.escalated ? ApprovalState::kEscalated : ApprovalState::kPending;
      next.deadline = now + r.timeout.count();
      std::string text =
          fmt::format("{} resubmitted {} as revision {}: {}; decide by {}", actor.id, Describe(r),
                      next.revision, why, FormatTimestamp(next.deadline));
      Transition t = Record(std::move(next), r.state, who, action, std::move(why), now);
      t.notifications.push_back({{}, t.request.eligible_roles, std::move(text)});
      return t;
    }
    case Action::kOpen:
    case Action::kTimeout:
      break;  // refused above
  }
  return std::unexpected(
      Error::Internal(fmt::format("unhandled action {}", static_cast<int>(action))));
}

std::optional<Transition> OnTimeout(const ApprovalRequest& request, UnixMillis now) {
  const ApprovalRequest& r = request;
  bool open = r.state == ApprovalState::kPending || r.state == ApprovalState::kEscalated;
  if (!open || now < r.deadline) return std::nullopt;
  ApprovalRequest next = r;
  std::string why;
  std::string text;
  if (r.state == ApprovalState::kPending && r.escalation_role && !r.escalated) {
    Escalate(&next, now);
    why = fmt::format("no decision by {}: escalated to {}", FormatTimestamp(r.deadline),
                      *r.escalation_role);
    text = fmt::format("no decision on {} by {}: escalated to {}; decide by {}", Describe(r),
                       FormatTimestamp(r.deadline), *r.escalation_role,
                       FormatTimestamp(next.deadline));
  } else {
    next.state = ApprovalState::kBlocked;
    why = fmt::format("no decision by {}: blocked", FormatTimestamp(r.deadline));
    text = fmt::format("no decision on {} by {}: it is blocked", Describe(r),
                       FormatTimestamp(r.deadline));
  }
  Transition t =
      Record(std::move(next), r.state, {std::string(kSystemActor), ActorType::kService, ""},
             Action::kTimeout, std::move(why), now);
  t.notifications.push_back({{r.requester}, t.request.eligible_roles, std::move(text)});
  return t;
}

// ---------------------------------------------------------------------------
// Stored form.

namespace {

constexpr int kFormat = 1;

template <class T>
void PutOptional(json* object, const char* key, const std::optional<T>& value) {
  if (value) (*object)[key] = *value;
}

template <class E>
void PutOptionalEnum(json* object, const char* key, const std::optional<E>& value) {
  if (value) (*object)[key] = Name(*value);
}

Error Corrupt(std::string message) { return Error::Corruption(std::move(message)); }

// A found value for a message: a scalar as JSON ("12", "\"soon\"", "null"),
// a container by its kind.
std::string Shown(const json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Reads the members of one JSON object; messages name the member by its
// path from the record, e.g. "approvals[1].at".
class Reader {
 public:
  // REQUIRES: `object` is a JSON object, and outlives the reader.
  Reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  Result<void> Only(std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : object_.items()) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        return std::unexpected(Corrupt(fmt::format("{}: unknown field", Path(key))));
      }
    }
    return Ok();
  }

  const json* Find(std::string_view key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  Result<const json*> Required(std::string_view key) const {
    const json* value = Find(key);
    if (value == nullptr) return std::unexpected(Corrupt(fmt::format("{}: missing", Path(key))));
    return value;
  }

  Result<std::string> String(std::string_view key) const {
    auto value = Required(key);
    if (!value) return std::unexpected(value.error());
    return AsString(key, **value);
  }
  Result<std::string> NonEmptyString(std::string_view key) const {
    auto text = String(key);
    if (text && text->empty()) {
      return std::unexpected(Corrupt(fmt::format("{}: must not be empty", Path(key))));
    }
    return text;
  }
  Result<std::optional<std::string>> OptionalString(std::string_view key) const {
    const json* value = Find(key);
    if (value == nullptr) return std::optional<std::string>();
    return AsString(key, *value);
  }

  Result<bool> Bool(std::string_view key) const {
    auto value = Required(key);
    if (!value) return std::unexpected(value.error());
    if (!(*value)->is_boolean()) return std::unexpected(WrongType(key, "a boolean", **value));
    return (*value)->get<bool>();
  }
  Result<std::optional<bool>> OptionalBool(std::string_view key) const {
    if (Find(key) == nullptr) return std::optional<bool>();
    auto value = Bool(key);
    if (!value) return std::unexpected(value.error());
    return std::optional<bool>(*value);
  }

  Result<int64_t> Integer(std::string_view key, int64_t min, int64_t max) const {
    auto value = Required(key);
    if (!value) return std::unexpected(value.error());
    const json& v = **value;
    bool fits = false;
    if (v.is_number_unsigned()) {  // how nlohmann::json holds every integer >= 0
      auto u = v.get<uint64_t>();
      fits = u <= static_cast<uint64_t>(max) && (min <= 0 || u >= static_cast<uint64_t>(min));
    } else if (v.is_number_integer()) {
      auto i = v.get<int64_t>();
      fits = i >= min && i <= max;
    }
    if (!fits) {
      return std::unexpected(WrongType(key, fmt::format("an integer from {} to {}", min, max), v));
    }
    return v.get<int64_t>();
  }
  Result<int> Int(std::string_view key, int min) const {
    auto value = Integer(key, min, std::numeric_limits<int>::max());
    if (!value) return std::unexpected(value.error());
    return static_cast<int>(*value);
  }

  Result<std::optional<double>> OptionalUnitNumber(std::string_view key) const {
    const json* value = Find(key);
    if (value == nullptr) return std::optional<double>();
    if (!value->is_number() || value->get<double>() < 0 || value->get<double>() > 1) {
      return std::unexpected(WrongType(key, "a number from 0 to 1", *value));
    }
    return std::optional<double>(value->get<double>());
  }

  Result<UnixMillis> Time(std::string_view key) const {
    auto text = String(key);
    if (!text) return std::unexpected(text.error());
    auto time = ParseTimestamp(*text);
    if (!time) {
      return std::unexpected(WrongType(key, "an RFC 3339 timestamp", json(*text)));
    }
    return *time;
  }

  template <class E>
  Result<E> Enum(std::string_view key) const {
    auto text = String(key);
    if (!text) return std::unexpected(text.error());
    std::optional<E> value = ParseEnum<E>(*text);
    if (!value) {
      return std::unexpected(WrongType(
          key, fmt::format("one of {}", fmt::join(EnumNames<E>::kNames, ", ")), json(*text)));
    }
    return *value;
  }
  template <class E>
  Result<std::optional<E>> OptionalEnum(std::string_view key) const {
    if (Find(key) == nullptr) return std::optional<E>();
    auto value = Enum<E>(key);
    if (!value) return std::unexpected(value.error());
    return std::optional<E>(*value);
  }

  Result<std::vector<std::string>> Strings(std::string_view key) const {
    auto value = Required(key);
    if (!value) return std::unexpected(value.error());
    if (!(*value)->is_array()) {
      return std::unexpected(WrongType(key, "an array of strings", **value));
    }
    std::vector<std::string> out;
    for (size_t index = 0; index < (*value)->size(); ++index) {
      const json& item = (**value)[index];
      std::string name = fmt::format("{}[{}]", key, index);
      if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
        return std::unexpected(WrongType(name, "a non-empty string", item));
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  // The members of array `key`, each checked to be an object.
  Result<std::vector<Reader>> Objects(std::string_view key) const {
    auto value = Required(key);
    if (!value) return std::unexpected(value.error());
    if (!(*value)->is_array()) return std::unexpected(WrongType(key, "an array", **value));
    std::vector<Reader> out;
    for (size_t index = 0; index < (*value)->size(); ++index) {
      std::string name = fmt::format("{}[{}]", key, index);
      const json& item = (**value)[index];
      if (!item.is_object()) return std::unexpected(WrongType(name, "an object", item));
      out.emplace_back(item, Path(name));
    }
    return out;
  }

  // Member `key`, checked to be an object.
  Result<Reader> Object(std::string_view key) const {
    auto value = Required(key);
    if (!value) return std::unexpected(value.error());
    if (!(*value)->is_object()) return std::unexpected(WrongType(key, "an object", **value));
    return Reader(**value, Path(key));
  }

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

 private:
  Result<std::string> AsString(std::string_view key, const json& value) const {
    if (!value.is_string()) return std::unexpected(WrongType(key, "a string", value));
    return value.get<std::string>();
  }
  Error WrongType(std::string_view key, std::string_view expected, const json& found) const {
    return Corrupt(fmt::format("{}: expected {}, found {}", Path(key), expected, Shown(found)));
  }

  const json& object_;
  std::string path_;
};

Result<ChangeDetails> ReadChange(const Reader& in) {
  if (auto ok =
          in.Only({"summary", "type", "environment", "service", "version", "previous_version",
                   "bump", "risk_level", "tests_passed", "security_scan", "rollback_plan", "ai"});
      !ok) {
    return std::unexpected(ok.error());
  }
  ChangeDetails c;
  INTERLOCK_ASSIGN(c.summary, in.OptionalString("summary"));
  INTERLOCK_ASSIGN(c.type, in.Enum<ChangeType>("type"));
  INTERLOCK_ASSIGN(c.environment, in.Enum<Environment>("environment"));
  INTERLOCK_ASSIGN(c.service, in.OptionalString("service"));
  INTERLOCK_ASSIGN(c.version, in.OptionalString("version"));
  INTERLOCK_ASSIGN(c.previous_version, in.OptionalString("previous_version"));
  INTERLOCK_ASSIGN(c.bump, in.Enum<Bump>("bump"));
  INTERLOCK_ASSIGN(c.risk, in.Enum<RiskLevel>("risk_level"));
  INTERLOCK_ASSIGN(c.tests_passed, in.OptionalBool("tests_passed"));
  INTERLOCK_ASSIGN(c.rollback_plan, in.OptionalString("rollback_plan"));
  if (in.Find("security_scan") != nullptr) {
    auto scan = in.Object("security_scan");
    if (!scan) return std::unexpected(scan.error());
    if (auto ok = scan->Only({"passed", "max_severity"}); !ok) return std::unexpected(ok.error());
    INTERLOCK_ASSIGN(c.scan_passed, scan->OptionalBool("passed"));
    INTERLOCK_ASSIGN(c.scan_max_severity, scan->OptionalEnum<Severity>("max_severity"));
  }
  if (in.Find("ai") != nullptr) {
    auto ai = in.Object("ai");
    if (!ai) return std::unexpected(ai.error());
    if (auto ok = ai->Only({"confidence", "rationale"}); !ok) return std::unexpected(ok.error());
    INTERLOCK_ASSIGN(c.ai_confidence, ai->OptionalUnitNumber("confidence"));
    INTERLOCK_ASSIGN(c.ai_rationale, ai->OptionalString("rationale"));
  }
  return c;
}

json ChangeToJson(const ChangeDetails& c) {
  json out = {{"type", Name(c.type)},
              {"environment", Name(c.environment)},
              {"bump", Name(c.bump)},
              {"risk_level", Name(c.risk)}};
  PutOptional(&out, "summary", c.summary);
  PutOptional(&out, "service", c.service);
  PutOptional(&out, "version", c.version);
  PutOptional(&out, "previous_version", c.previous_version);
  PutOptional(&out, "tests_passed", c.tests_passed);
  PutOptional(&out, "rollback_plan", c.rollback_plan);
  if (c.scan_passed || c.scan_max_severity) {
    json scan = json::object();
    PutOptional(&scan, "passed", c.scan_passed);
    PutOptionalEnum(&scan, "max_severity", c.scan_max_severity);
    out["security_scan"] = std::move(scan);
  }
  if (c.ai_confidence || c.ai_rationale) {
    json ai = json::object();
    PutOptional(&ai, "confidence", c.ai_confidence);
    PutOptional(&ai, "rationale", c.ai_rationale);
    out["ai"] = std::move(ai);
  }
  return out;
}

Result<void> CheckInvariants(const ApprovalRequest& r) {
  for (const std::string& role : r.mandatory_roles) {
    if (!Contains(r.eligible_roles, role)) {
      return std::unexpected(
          Corrupt(fmt::format("mandatory_roles: '{}' is not among the eligible_roles", role)));
    }
  }
  if (r.escalated && !r.escalation_role) {
    return std::unexpected(Corrupt("escalated: true without an escalation_role"));
  }
  std::vector<std::string> seen;
  for (size_t index = 0; index < r.approvals.size(); ++index) {
    const std::string& who = r.approvals[index].principal;
    if (who == r.requester) {
      return std::unexpected(
          Corrupt(fmt::format("approvals[{}].principal: '{}' is the requester", index, who)));
    }
    if (Contains(seen, who)) {
      return std::unexpected(Corrupt(
          fmt::format("approvals[{}].principal: '{}' approved more than once", index, who)));
    }
    seen.push_back(who);
  }
  return Ok();
}

}  // namespace

Result<ApprovalRequest> FromJson(const json& document) {
  if (!document.is_object()) {
    return std::unexpected(
        Corrupt(fmt::format("approval: expected a JSON object, found {}", Shown(document))));
  }
  Reader in(document, "");
  // The format first, so that a newer record is reported as such rather
  // than as a list of unknown fields.
  int64_t format = 0;
  INTERLOCK_ASSIGN(format, in.Integer("format", 0, std::numeric_limits<int64_t>::max()));
  if (format != kFormat) {
    return std::unexpected(Corrupt(fmt::format(
        "format: this Interlock reads approval records of format {}, found {}", kFormat, format)));
  }
  if (auto ok = in.Only({"format", "id", "revision", "state", "requester", "change", "workflow",
                         "timeout_ms", "escalation_role", "required_approvals", "mandatory_roles",
                         "eligible_roles", "escalated", "approvals", "delegations", "created_at",
                         "deadline", "history", "on_behalf_of"});
      !ok) {
    return std::unexpected(ok.error());
  }
  ApprovalRequest r;
  INTERLOCK_ASSIGN(r.id, in.NonEmptyString("id"));
  INTERLOCK_ASSIGN(r.revision, in.Int("revision", 1));
  INTERLOCK_ASSIGN(r.state, in.Enum<ApprovalState>("state"));
  auto requester = in.Object("requester");
  if (!requester) return std::unexpected(requester.error());
  if (auto ok = requester->Only({"id", "type"}); !ok) return std::unexpected(ok.error());
  INTERLOCK_ASSIGN(r.requester, requester->NonEmptyString("id"));
  INTERLOCK_ASSIGN(r.requester_type, requester->Enum<ActorType>("type"));
  if (in.Find("on_behalf_of") != nullptr) {
    INTERLOCK_ASSIGN(r.on_behalf_of, in.Strings("on_behalf_of"));
  }
  auto change = in.Object("change");
  if (!change) return std::unexpected(change.error());
  INTERLOCK_ASSIGN(r.change, ReadChange(*change));

  INTERLOCK_ASSIGN(r.workflow, in.NonEmptyString("workflow"));
  int64_t timeout = 0;
  INTERLOCK_ASSIGN(timeout, in.Integer("timeout_ms", 0, std::numeric_limits<int64_t>::max()));
  r.timeout = Millis(timeout);
  INTERLOCK_ASSIGN(r.escalation_role, in.OptionalString("escalation_role"));
  INTERLOCK_ASSIGN(r.required_approvals, in.Int("required_approvals", 1));
  INTERLOCK_ASSIGN(r.mandatory_roles, in.Strings("mandatory_roles"));
  INTERLOCK_ASSIGN(r.eligible_roles, in.Strings("eligible_roles"));
  INTERLOCK_ASSIGN(r.escalated, in.Bool("escalated"));

  std::vector<Reader> items;
  INTERLOCK_ASSIGN(items, in.Objects("approvals"));
  for (const Reader& item : items) {
    if (auto ok = item.Only({"principal", "roles", "rationale", "at"}); !ok) {
      return std::unexpected(ok.error());
    }
    Approval a;
    INTERLOCK_ASSIGN(a.principal, item.NonEmptyString("principal"));
    INTERLOCK_ASSIGN(a.roles, item.Strings("roles"));
    INTERLOCK_ASSIGN(a.rationale, item.NonEmptyString("rationale"));
    INTERLOCK_ASSIGN(a.at, item.Time("at"));
    r.approvals.push_back(std::move(a));
  }
  INTERLOCK_ASSIGN(items, in.Objects("delegations"));
  for (const Reader& item : items) {
    if (auto ok = item.Only({"from", "to", "role", "at"}); !ok) return std::unexpected(ok.error());
    Delegation d;
    INTERLOCK_ASSIGN(d.from, item.NonEmptyString("from"));
    INTERLOCK_ASSIGN(d.to, item.NonEmptyString("to"));
    INTERLOCK_ASSIGN(d.role, item.NonEmptyString("role"));
    INTERLOCK_ASSIGN(d.at, item.Time("at"));
    r.delegations.push_back(std::move(d));
  }
  INTERLOCK_ASSIGN(r.created_at, in.Time("created_at"));
  INTERLOCK_ASSIGN(r.deadline, in.Time("deadline"));
  INTERLOCK_ASSIGN(items, in.Objects("history"));
  for (const Reader& item : items) {
    if (auto ok = item.Only({"actor", "actor_type", "action", "rationale", "at", "revision"});
        !ok) {
      return std::unexpected(ok.error());
    }
    HistoryEntry h;
    INTERLOCK_ASSIGN(h.actor, item.NonEmptyString("actor"));
    INTERLOCK_ASSIGN(h.actor_type, item.Enum<ActorType>("actor_type"));
    INTERLOCK_ASSIGN(h.action, item.Enum<Action>("action"));
    INTERLOCK_ASSIGN(h.rationale, item.String("rationale"));
    INTERLOCK_ASSIGN(h.at, item.Time("at"));
    INTERLOCK_ASSIGN(h.revision, item.Int("revision", 1));
    r.history.push_back(std::move(h));
  }
  if (auto ok = CheckInvariants(r); !ok) return std::unexpected(ok.error());
  return r;
}

json ToJson(const ApprovalRequest& r) {
  json approvals = json::array();
  for (const Approval& a : r.approvals) {
    approvals.push_back({{"principal", a.principal},
                         {"roles", a.roles},
                         {"rationale", a.rationale},
                         {"at", FormatTimestamp(a.at)}});
  }
  json delegations = json::array();
  for (const Delegation& d : r.delegations) {
    delegations.push_back(
        {{"from", d.from}, {"to", d.to}, {"role", d.role}, {"at", FormatTimestamp(d.at)}});
  }
  json history = json::array();
  for (const HistoryEntry& h : r.history) {
    history.push_back({{"actor", h.actor},
                       {"actor_type", Name(h.actor_type)},
                       {"action", Name(h.action)},
                       {"rationale", h.rationale},
                       {"at", FormatTimestamp(h.at)},
                       {"revision", h.revision}});
  }
  json out = {{"format", kFormat},
              {"id", r.id},
              {"revision", r.revision},
              {"state", Name(r.state)},
              {"requester", {{"id", r.requester}, {"type", Name(r.requester_type)}}},
              {"change", ChangeToJson(r.change)},
              {"workflow", r.workflow},
              {"timeout_ms", r.timeout.count()},
              {"required_approvals", r.required_approvals},
              {"mandatory_roles", r.mandatory_roles},
              {"eligible_roles", r.eligible_roles},
              {"escalated", r.escalated},
              {"approvals", std::move(approvals)},
              {"delegations", std::move(delegations)},
              {"created_at", FormatTimestamp(r.created_at)},
              {"deadline", FormatTimestamp(r.deadline)},
              {"history", std::move(history)}};
  PutOptional(&out, "escalation_role", r.escalation_role);
  if (!r.on_behalf_of.empty()) out["on_behalf_of"] = r.on_behalf_of;
  return out;
}

}  // namespace interlock::workflow
