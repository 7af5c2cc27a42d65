#include "workflow/approval.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "../../tests/test_util.h"
#include "audit/event.h"

namespace interlock::workflow {
namespace {

using governance::Governance;
using governance::Principal;
using nlohmann::json;

constexpr UnixMillis kT0 = 1705314600000;  // 2024-01-15T10:30:00.000Z
constexpr int64_t kMinute = 60 * 1000;

const Governance& G() { return interlock::testing::DefaultGovernance(); }

// A principal of the default principals.yaml.
const Principal& P(std::string_view id) {
  for (const Principal& p : G().principals) {
    if (p.id == id) return p;
  }
  throw std::invalid_argument(fmt::format("no principal {} in the defaults", id));
}

// The step's result; a failed step fails the test with its message. Every
// audit event must be one the audit log accepts.
Transition Must(Result<Transition> step) {
  if (!step) throw std::runtime_error("unexpected error: " + step.error().message());
  auto event = audit::ParseEvent(step->audit_event.dump(), 0);
  if (!event) throw std::runtime_error("audit log refuses the event: " + event.error().message());
  return std::move(*step);
}

// A code change to api-gateway 2.5.3 -> 2.5.4 by `actor`.
json ChangeBy(std::string_view actor, std::string_view type, std::string_view environment,
              std::string_view version) {
  return {
      {"actor", {{"type", type}, {"id", actor}}},
      {"change",
       {{"type", "code"},
        {"environment", environment},
        {"service", "api-gateway"},
        {"summary", "Fix the retry storm"},
        {"version", version},
        {"previous_version", "2.5.3"}}},
      {"checks",
       {{"tests_passed", true}, {"security_scan", {{"passed", true}, {"max_severity", "none"}}}}},
      {"metadata", {{"rollback_plan", "redeploy 2.5.3"}}}};
}

// Decides `request` against the default governance and opens its approval
// "ap-1" at kT0.
Result<Transition> OpenFor(const json& request) {
  auto parsed = decision::ParseRequest(request.dump());
  if (!parsed) throw std::runtime_error(parsed.error().message());
  decision::Decision d;
  decision::Decide(G(), *parsed, {}, &d);
  return Open(G(), *parsed, d, "ap-1", kT0);
}

// alice's production PATCH: 2 approvals from team-lead / on-call-engineer,
// 30m timeout, escalation to engineering-lead.
ApprovalRequest Patch() {
  return Must(OpenFor(ChangeBy("alice", "human", "production", "2.5.4"))).request;
}
// alice's production MINOR: 2 approvals, one of them a team-lead.
ApprovalRequest Minor() {
  return Must(OpenFor(ChangeBy("alice", "human", "production", "2.6.0"))).request;
}

Result<Transition> Do(const ApprovalRequest& r, std::string_view actor, Action action,
                      std::optional<std::string> to = std::nullopt, UnixMillis now = kT0 + kMinute,
                      bool stop = false) {
  return Act(G(), r, P(actor), action, "looks right", std::move(to), now, stop);
}

ApprovalRequest Approved(const ApprovalRequest& r, std::string_view actor) {
  return Must(Do(r, actor, Action::kApprove)).request;
}

void ExpectError(const Result<Transition>& step, ErrorKind kind, const std::string& message) {
  ASSERT_FALSE(step) << "expected: " << message;
  EXPECT_EQ(step.error().kind(), kind);
  EXPECT_EQ(step.error().message(), message);
}

TEST(Approval, OpenCopiesTheDecisionAndWhatApproversSee) {
  Transition t = Must(OpenFor(ChangeBy("alice", "human", "production", "2.5.4")));
  const ApprovalRequest& r = t.request;
  EXPECT_EQ(r.id, "ap-1");
  EXPECT_EQ(r.revision, 1);
  EXPECT_EQ(r.state, ApprovalState::kPending);
  EXPECT_EQ(r.requester, "alice");
  EXPECT_EQ(r.workflow, "production_deployment");
  EXPECT_EQ(r.required_approvals, 2);
  EXPECT_TRUE(r.mandatory_roles.empty());
  EXPECT_EQ(r.eligible_roles, (std::vector<std::string>{"team-lead", "on-call-engineer"}));
  EXPECT_EQ(r.escalation_role, "engineering-lead");
  EXPECT_EQ(r.timeout, Millis(30 * kMinute));
  EXPECT_EQ(r.created_at, kT0);
  EXPECT_EQ(r.deadline, kT0 + 30 * kMinute);
  EXPECT_EQ(r.change.summary, "Fix the retry storm");
  EXPECT_EQ(r.change.environment, Environment::kProduction);
  EXPECT_EQ(r.change.service, "api-gateway");
  EXPECT_EQ(r.change.version, "2.5.4");
  EXPECT_EQ(r.change.bump, Bump::kPatch);
  EXPECT_EQ(r.change.risk, RiskLevel::kHigh);
  EXPECT_EQ(r.change.tests_passed, true);
  EXPECT_EQ(r.change.scan_passed, true);
  EXPECT_EQ(r.change.scan_max_severity, Severity::kNone);
  EXPECT_EQ(r.change.rollback_plan, "redeploy 2.5.3");
  EXPECT_FALSE(r.change.ai_rationale);
  ASSERT_EQ(r.history.size(), 1u);
  EXPECT_EQ(r.history[0].action, Action::kOpen);

  EXPECT_EQ(t.audit_event["event_type"], "approval_open");
  EXPECT_EQ(t.audit_event["actor"], (json{{"type", "human"}, {"id", "alice"}}));
  EXPECT_EQ(t.audit_event["approval"]["state"], "pending");
  EXPECT_EQ(t.audit_event["approval"]["deadline"], "2024-01-15T11:00:00.000Z");
  ASSERT_EQ(t.notifications.size(), 1u);
  EXPECT_EQ(t.notifications[0].roles, r.eligible_roles);
  EXPECT_EQ(t.notifications[0].text,
            "alice asks for approval of ap-1 (code change to api-gateway 2.5.4 in production), "
            "high risk: Fix the retry storm; 2 approvals needed; decide by "
            "2024-01-15T11:00:00.000Z");
}

TEST(Approval, OpenRefusesADecisionWithNothingToApprove) {
  ExpectError(OpenFor(ChangeBy("alice", "human", "dev", "2.5.4")), ErrorKind::kInvalidArgument,
              "the decision is allow, not require_approval: there is nothing to approve");
}

TEST(Approval, OpenShowsAnAiAgentsRecommendation) {
  json request = ChangeBy("deployment-agent-01", "ai_agent", "production", "2.5.4");
  request["ai"] = {{"confidence", 0.9}, {"rationale", "tests and scan passed"}};
  Transition t = Must(OpenFor(request));
  EXPECT_EQ(t.request.requester_type, ActorType::kAiAgent);
  EXPECT_EQ(t.request.change.ai_confidence, 0.9);
  EXPECT_EQ(t.request.change.ai_rationale, "tests and scan passed");
  EXPECT_EQ(t.audit_event["ai_agent"]["involved"], true);
  EXPECT_EQ(t.audit_event["decision"]["rationale"], "tests and scan passed");

  request.erase("ai");
  ExpectError(OpenFor(request), ErrorKind::kInvalidArgument,
              "deployment-agent-01 is an ai_agent: its change needs ai.rationale, so that "
              "approvers see why it recommends it");
}

TEST(Approval, TwoDistinctApproversComplete) {
  Transition first = Must(Do(Patch(), "bob", Action::kApprove));
  EXPECT_EQ(first.request.state, ApprovalState::kPending);
  ASSERT_EQ(first.notifications.size(), 1u);
  EXPECT_EQ(first.notifications[0].principals, (std::vector<std::string>{"alice"}));
  EXPECT_EQ(first.notifications[0].text,
            "bob approved ap-1 (code change to api-gateway 2.5.4 in production) (1 of 2 "
            "approvals)");

  Transition second =
      Must(Do(first.request, "carol", Action::kApprove, std::nullopt, kT0 + 2 * kMinute));
  const ApprovalRequest& r = second.request;
  EXPECT_EQ(r.state, ApprovalState::kApproved);
  ASSERT_EQ(r.approvals.size(), 2u);
  EXPECT_EQ(r.approvals[1].principal, "carol");
  EXPECT_EQ(r.approvals[1].roles, (std::vector<std::string>{"engineer", "on-call-engineer"}));
  EXPECT_EQ(r.approvals[1].rationale, "looks right");
  EXPECT_EQ(r.approvals[1].at, kT0 + 2 * kMinute);
  EXPECT_EQ(second.audit_event["event_type"], "approval_approve");
  EXPECT_EQ(second.audit_event["approval"]["approvers"], (json{"bob", "carol"}));
  EXPECT_EQ(second.audit_event["approval"]["approved_at"], "2024-01-15T10:32:00.000Z");
  EXPECT_EQ(second.audit_event["approval"]["previous_state"], "pending");
  EXPECT_EQ(second.audit_event["rationale"], "looks right");
  ASSERT_EQ(second.notifications.size(), 1u);
  EXPECT_EQ(second.notifications[0].roles, r.eligible_roles);
  EXPECT_EQ(second.notifications[0].text,
            "ap-1 (code change to api-gateway 2.5.4 in production) is approved; the change may "
            "proceed");
}

TEST(Approval, MandatoryRoleMissingKeepsItPending) {
  ApprovalRequest r = Minor();
  ASSERT_EQ(r.mandatory_roles, (std::vector<std::string>{"team-lead"}));
  r = Approved(r, "carol");
  Transition t = Must(Do(r, "trent", Action::kApprove));
  EXPECT_EQ(t.request.state, ApprovalState::kPending);
  EXPECT_EQ(MissingRoles(t.request), (std::vector<std::string>{"team-lead"}));
  EXPECT_EQ(t.notifications[0].text,
            "trent approved ap-1 (code change to api-gateway 2.6.0 in production) (2 of 2 "
            "approvals; still needs team-lead)");
  EXPECT_EQ(Approved(t.request, "bob").state, ApprovalState::kApproved);
}

TEST(Approval, OneApproverFillsOneMandatoryRoleWhateverTheOrder) {
  ApprovalRequest r;
  r.required_approvals = 2;
  r.mandatory_roles = {"security-lead", "engineering-lead"};
  r.approvals = {{"x", {"security-lead", "engineering-lead"}, "ok", kT0},
                 {"y", {"security-lead"}, "ok", kT0}};
  EXPECT_TRUE(MissingRoles(r).empty());
  std::swap(r.approvals[0], r.approvals[1]);
  EXPECT_TRUE(MissingRoles(r).empty());
  r.approvals.pop_back();  // x alone cannot fill both
  EXPECT_EQ(MissingRoles(r), (std::vector<std::string>{"engineering-lead"}));
}

TEST(Approval, RequesterCannotApproveOwnChange) {
  ApprovalRequest r = Must(OpenFor(ChangeBy("bob", "human", "production", "2.5.4"))).request;
  ExpectError(Do(r, "bob", Action::kApprove), ErrorKind::kPermissionDenied,
              "bob requested this change and cannot approve it");
  ExpectError(Do(r, "bob", Action::kRequestChanges), ErrorKind::kPermissionDenied,
              "bob requested this change and cannot request changes to it");
  ExpectError(Do(r, "bob", Action::kDelegate, "peggy"), ErrorKind::kPermissionDenied,
              "bob requested this change and cannot delegate its review");
}

TEST(Approval, OnlyHumansReview) {
  ApprovalRequest r = Patch();
  ExpectError(Do(r, "deployment-agent-01", Action::kApprove), ErrorKind::kPermissionDenied,
              "deployment-agent-01 is an ai_agent: only humans may approve");
  ExpectError(Do(r, "deployment-agent-01", Action::kEscalate), ErrorKind::kPermissionDenied,
              "deployment-agent-01 is an ai_agent: only humans may escalate");
  ExpectError(Do(r, "ci-pipeline", Action::kReject), ErrorKind::kPermissionDenied,
              "ci-pipeline is a service: only humans may reject");
  ExpectError(Do(r, "bob", Action::kDelegate, "deployment-agent-01"), ErrorKind::kPermissionDenied,
              "deployment-agent-01 is an ai_agent: only humans may receive a delegated review");
}

TEST(Approval, ApproverMustHoldAnEligibleRole) {
  ExpectError(Do(Patch(), "frank", Action::kApprove), ErrorKind::kPermissionDenied,
              "frank holds none of the roles that review ap-1 (team-lead, on-call-engineer)");
}

TEST(Approval, RepeatedApprovalCountsOnce) {
  ApprovalRequest r = Approved(Patch(), "bob");
  Transition again = Must(Do(r, "bob", Action::kApprove));
  EXPECT_EQ(again.request.state, ApprovalState::kPending);
  EXPECT_EQ(again.request.approvals.size(), 1u);
  EXPECT_EQ(again.request.history.size(), 3u);
  EXPECT_EQ(again.audit_event["approval"]["counted"], false);
  EXPECT_TRUE(again.notifications.empty());
  EXPECT_EQ(Approved(again.request, "carol").state, ApprovalState::kApproved);
}

TEST(Approval, RationaleIsRequiredForEveryAction) {
  ApprovalRequest r = Patch();
  for (Action action : {Action::kApprove, Action::kReject, Action::kRequestChanges,
                        Action::kEscalate, Action::kDelegate}) {
    ExpectError(Act(G(), r, P("bob"), action, " \t\n", "peggy", kT0, false),
                ErrorKind::kInvalidArgument,
                fmt::format("a rationale is required to {}",
                            action == Action::kRequestChanges ? "request changes" : Name(action)));
  }
  ApprovalRequest changes = Must(Do(r, "bob", Action::kRequestChanges)).request;
  ExpectError(Act(G(), changes, P("alice"), Action::kResubmit, "", std::nullopt, kT0, false),
              ErrorKind::kInvalidArgument, "a rationale is required to resubmit");
  ExpectError(Act(G(), r, P("bob"), Action::kApprove, std::string(kMaxRationaleBytes + 1, 'x'),
                  std::nullopt, kT0, false),
              ErrorKind::kInvalidArgument,
              "the rationale is 4097 bytes long; at most 4096 are allowed");
  ExpectError(Act(G(), r, P("bob"), Action::kApprove, "ok \xC0\xAF", std::nullopt, kT0, false),
              ErrorKind::kInvalidArgument, "the rationale is not valid UTF-8");
  // Kept trimmed.
  Transition t =
      Must(Act(G(), r, P("bob"), Action::kApprove, "  fine  ", std::nullopt, kT0, false));
  EXPECT_EQ(t.request.approvals[0].rationale, "fine");
}

TEST(Approval, RejectEndsIt) {
  Transition t = Must(Do(Approved(Patch(), "bob"), "carol", Action::kReject));
  EXPECT_EQ(t.request.state, ApprovalState::kRejected);
  EXPECT_EQ(t.audit_event["event_type"], "approval_reject");
  EXPECT_EQ(t.notifications[0].principals, (std::vector<std::string>{"alice"}));
  EXPECT_EQ(t.notifications[0].text,
            "carol rejected ap-1 (code change to api-gateway 2.5.4 in production): looks right");
  for (Action action : {Action::kApprove, Action::kReject, Action::kResubmit}) {
    ExpectError(Do(t.request, "peggy", action), ErrorKind::kInvalidArgument,
                "ap-1 is already rejected: no further action is possible");
  }
  EXPECT_FALSE(OnTimeout(t.request, kT0 + 24 * 60 * kMinute));
}

TEST(Approval, RequestChangesThenResubmitStartsANewRevision) {
  ApprovalRequest r = Approved(Patch(), "bob");
  Transition changes = Must(Do(r, "carol", Action::kRequestChanges));
  EXPECT_EQ(changes.request.state, ApprovalState::kChangesRequested);
  EXPECT_EQ(changes.notifications[0].text,
            "carol requested changes to ap-1 (code change to api-gateway 2.5.4 in production): "
            "looks right");
  ExpectError(Do(changes.request, "peggy", Action::kApprove), ErrorKind::kInvalidArgument,
              "ap-1 is waiting for alice to resubmit it (changes were requested)");
  ExpectError(Do(changes.request, "bob", Action::kResubmit), ErrorKind::kPermissionDenied,
              "only alice, who requested this change, can resubmit it");
  // Changes requested: the requester has the move, no deadline runs.
  EXPECT_FALSE(OnTimeout(changes.request, kT0 + 24 * 60 * kMinute));

  Transition resubmitted =
      Must(Do(changes.request, "alice", Action::kResubmit, std::nullopt, kT0 + 10 * kMinute));
  const ApprovalRequest& next = resubmitted.request;
  EXPECT_EQ(next.revision, 2);
  EXPECT_EQ(next.state, ApprovalState::kPending);
  EXPECT_TRUE(next.approvals.empty());
  EXPECT_EQ(next.deadline, kT0 + 40 * kMinute);
  EXPECT_EQ(next.history.back().revision, 2);
  EXPECT_EQ(resubmitted.audit_event["approval"]["revision"], 2);
  EXPECT_EQ(resubmitted.notifications[0].roles, next.eligible_roles);

  // bob's approval of revision 1 does not count for revision 2.
  ApprovalRequest again = Approved(next, "bob");
  EXPECT_EQ(again.state, ApprovalState::kPending);
  EXPECT_EQ(Approved(again, "carol").state, ApprovalState::kApproved);
}

TEST(Approval, OnlyARequestWithChangesRequestedIsResubmitted) {
  ExpectError(Do(Patch(), "alice", Action::kResubmit), ErrorKind::kInvalidArgument,
              "ap-1 is pending: only a request whose changes were requested can be resubmitted");
}

TEST(Approval, EscalateAddsTheEscalationRole) {
  Transition t = Must(Do(Patch(), "bob", Action::kEscalate, std::nullopt, kT0 + 5 * kMinute));
  const ApprovalRequest& r = t.request;
  EXPECT_EQ(r.state, ApprovalState::kEscalated);
  EXPECT_TRUE(r.escalated);
  EXPECT_EQ(r.eligible_roles,
            (std::vector<std::string>{"team-lead", "on-call-engineer", "engineering-lead"}));
  EXPECT_EQ(r.mandatory_roles, (std::vector<std::string>{"engineering-lead"}));
  EXPECT_EQ(r.deadline, kT0 + 35 * kMinute);
  EXPECT_EQ(t.notifications[0].roles, (std::vector<std::string>{"engineering-lead"}));
  EXPECT_EQ(t.notifications[0].text,
            "bob escalated ap-1 (code change to api-gateway 2.5.4 in production) to "
            "engineering-lead: looks right; decide by 2024-01-15T11:05:00.000Z");
  ExpectError(Do(r, "carol", Action::kEscalate), ErrorKind::kInvalidArgument,
              "ap-1 is already escalated to engineering-lead");

  ApprovalRequest two = Approved(Approved(r, "bob"), "carol");
  EXPECT_EQ(two.state, ApprovalState::kEscalated);
  EXPECT_EQ(Approved(two, "dave").state, ApprovalState::kApproved);
}

TEST(Approval, ResubmitAfterEscalationStaysEscalated) {
  ApprovalRequest r = Must(Do(Patch(), "bob", Action::kEscalate)).request;
  r = Must(Do(r, "dave", Action::kRequestChanges)).request;
  Transition t = Must(Do(r, "alice", Action::kResubmit, std::nullopt, kT0 + 10 * kMinute));
  EXPECT_EQ(t.request.state, ApprovalState::kEscalated);
  EXPECT_EQ(t.request.mandatory_roles, (std::vector<std::string>{"engineering-lead"}));
  EXPECT_EQ(t.request.deadline, kT0 + 40 * kMinute);
}

TEST(Approval, DelegateRecordsTheHandover) {
  Transition t = Must(Do(Minor(), "bob", Action::kDelegate, "peggy"));
  const ApprovalRequest& r = t.request;
  EXPECT_EQ(r.state, ApprovalState::kPending);
  ASSERT_EQ(r.delegations.size(), 1u);
  EXPECT_EQ(r.delegations[0].from, "bob");
  EXPECT_EQ(r.delegations[0].to, "peggy");
  EXPECT_EQ(r.delegations[0].role, "team-lead");
  EXPECT_EQ(r.delegations[0].at, kT0 + kMinute);
  EXPECT_EQ(t.audit_event["delegation"],
            (json{{"from", "bob"}, {"to", "peggy"}, {"role", "team-lead"}}));
  ASSERT_EQ(t.notifications.size(), 1u);
  EXPECT_EQ(t.notifications[0].principals, (std::vector<std::string>{"peggy"}));
  EXPECT_EQ(t.notifications[0].text,
            "bob handed you the review of ap-1 (code change to api-gateway 2.6.0 in "
            "production): looks right; decide by 2024-01-15T11:00:00.000Z");
  EXPECT_EQ(Approved(Approved(r, "peggy"), "carol").state, ApprovalState::kApproved);
}

TEST(Approval, DelegateChecksWhoReceivesIt) {
  ApprovalRequest r = Approved(Patch(), "carol");
  ExpectError(Do(r, "bob", Action::kDelegate), ErrorKind::kInvalidArgument,
              "delegate needs the principal to hand the review to");
  ExpectError(Do(r, "bob", Action::kDelegate, "zed"), ErrorKind::kInvalidArgument,
              "cannot delegate to 'zed': no such principal");
  ExpectError(Do(r, "bob", Action::kDelegate, "alice"), ErrorKind::kPermissionDenied,
              "alice requested this change and cannot review it");
  ExpectError(Do(r, "bob", Action::kDelegate, "bob"), ErrorKind::kInvalidArgument,
              "bob cannot delegate a review to themselves");
  ExpectError(Do(r, "bob", Action::kDelegate, "frank"), ErrorKind::kPermissionDenied,
              "frank holds none of the roles that review ap-1 (team-lead, on-call-engineer)");
  ExpectError(Do(r, "bob", Action::kDelegate, "carol"), ErrorKind::kInvalidArgument,
              "carol has already approved revision 1 of ap-1");
  ExpectError(Do(r, "frank", Action::kDelegate, "peggy"), ErrorKind::kPermissionDenied,
              "frank holds none of the roles that review ap-1 (team-lead, on-call-engineer)");
  ExpectError(Do(r, "bob", Action::kApprove, "peggy"), ErrorKind::kInvalidArgument,
              "only delegate names a principal to hand the review to, not approve");
}

TEST(Approval, TimeoutEscalatesThenBlocks) {
  ApprovalRequest r = Patch();
  EXPECT_FALSE(OnTimeout(r, kT0 + 30 * kMinute - 1));

  std::optional<Transition> escalated = OnTimeout(r, kT0 + 30 * kMinute);
  ASSERT_TRUE(escalated);
  EXPECT_TRUE(audit::ParseEvent(escalated->audit_event.dump(), 0));
  EXPECT_EQ(escalated->request.state, ApprovalState::kEscalated);
  EXPECT_EQ(escalated->request.mandatory_roles, (std::vector<std::string>{"engineering-lead"}));
  EXPECT_EQ(escalated->request.deadline, kT0 + 60 * kMinute);
  EXPECT_EQ(escalated->audit_event["event_type"], "approval_timeout");
  EXPECT_EQ(escalated->audit_event["actor"], (json{{"type", "service"}, {"id", "interlock"}}));
  const HistoryEntry& entry = escalated->request.history.back();
  EXPECT_EQ(entry.actor, "interlock");
  EXPECT_EQ(entry.rationale,
            "no decision by 2024-01-15T11:00:00.000Z: escalated to engineering-lead");
  ASSERT_EQ(escalated->notifications.size(), 1u);
  EXPECT_EQ(escalated->notifications[0].principals, (std::vector<std::string>{"alice"}));
  EXPECT_EQ(escalated->notifications[0].roles,
            (std::vector<std::string>{"team-lead", "on-call-engineer", "engineering-lead"}));
  EXPECT_EQ(escalated->notifications[0].text,
            "no decision on ap-1 (code change to api-gateway 2.5.4 in production) by "
            "2024-01-15T11:00:00.000Z: escalated to engineering-lead; decide by "
            "2024-01-15T11:30:00.000Z");

  EXPECT_FALSE(OnTimeout(escalated->request, kT0 + 60 * kMinute - 1));
  std::optional<Transition> blocked = OnTimeout(escalated->request, kT0 + 60 * kMinute);
  ASSERT_TRUE(blocked);
  EXPECT_TRUE(audit::ParseEvent(blocked->audit_event.dump(), 0));
  EXPECT_EQ(blocked->request.state, ApprovalState::kBlocked);
  EXPECT_EQ(blocked->notifications[0].text,
            "no decision on ap-1 (code change to api-gateway 2.5.4 in production) by "
            "2024-01-15T11:30:00.000Z: it is blocked");
  EXPECT_FALSE(OnTimeout(blocked->request, kT0 + 90 * kMinute));
  ExpectError(Do(blocked->request, "dave", Action::kApprove), ErrorKind::kInvalidArgument,
              "ap-1 is already blocked: no further action is possible");
}

TEST(Approval, WithoutAnEscalationRoleATimeoutBlocks) {
  ApprovalRequest r = Patch();
  r.escalation_role.reset();
  std::optional<Transition> t = OnTimeout(r, kT0 + 30 * kMinute);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->request.state, ApprovalState::kBlocked);
  ExpectError(Do(r, "bob", Action::kEscalate), ErrorKind::kInvalidArgument,
              "workflow production_deployment names no escalation role, so ap-1 cannot be "
              "escalated");
}

TEST(Approval, EmergencyStopRefusesTheCompletingApproval) {
  ApprovalRequest r = Patch();
  Transition first = Must(Do(r, "bob", Action::kApprove, std::nullopt, kT0, true));
  EXPECT_EQ(first.request.state, ApprovalState::kPending);
  ExpectError(Do(first.request, "carol", Action::kApprove, std::nullopt, kT0, true),
              ErrorKind::kPermissionDenied,
              "the emergency stop is active: carol's approval would complete ap-1 and is refused "
              "until the stop is lifted");
  EXPECT_EQ(
      Must(Do(first.request, "carol", Action::kReject, std::nullopt, kT0, true)).request.state,
      ApprovalState::kRejected);
  EXPECT_EQ(Approved(first.request, "carol").state, ApprovalState::kApproved);
}

TEST(Approval, OpenAndTimeoutAreNotActions) {
  ExpectError(Do(Patch(), "bob", Action::kTimeout), ErrorKind::kInvalidArgument,
              "'timeout' is done by Interlock itself, not by a person");
}

// A request that has been through every kind of step.
ApprovalRequest Eventful() {
  json request = ChangeBy("deployment-agent-01", "ai_agent", "production", "2.5.4");
  request["ai"] = {{"confidence", 0.85}, {"rationale", "tests and scan passed"}};
  ApprovalRequest r = Must(OpenFor(request)).request;
  r = Must(Do(r, "bob", Action::kRequestChanges)).request;
  r = Must(Act(G(), r, P("deployment-agent-01"), Action::kResubmit, "fixed the retries",
               std::nullopt, kT0 + 2 * kMinute, false))
          .request;
  r = Must(Do(r, "bob", Action::kDelegate, "peggy")).request;
  r = Approved(r, "carol");
  return OnTimeout(r, kT0 + 40 * kMinute)->request;
}

TEST(Approval, JsonRoundTrip) {
  ApprovalRequest r = Eventful();
  json stored = ToJson(r);
  auto back = FromJson(json::parse(stored.dump()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(ToJson(*back), stored);
  EXPECT_EQ(back->revision, 2);
  EXPECT_EQ(back->state, ApprovalState::kEscalated);
  EXPECT_EQ(back->requester_type, ActorType::kAiAgent);
  EXPECT_EQ(back->change.ai_confidence, 0.85);
  EXPECT_EQ(back->change.scan_max_severity, Severity::kNone);
  EXPECT_EQ(back->timeout, Millis(30 * kMinute));
  EXPECT_EQ(back->deadline, kT0 + 70 * kMinute);
  ASSERT_EQ(back->approvals.size(), 1u);
  EXPECT_EQ(back->approvals[0].at, kT0 + kMinute);
  ASSERT_EQ(back->delegations.size(), 1u);
  EXPECT_EQ(back->delegations[0].to, "peggy");
  ASSERT_EQ(back->history.size(), 6u);
  EXPECT_EQ(back->history[2].actor_type, ActorType::kAiAgent);
  EXPECT_EQ(back->history[5].action, Action::kTimeout);
}

TEST(Approval, FromJsonRefusesMalformedRecords) {
  const json good = ToJson(Eventful());
  struct Case {
    const char* pointer;  // JSON Pointer of the value to replace; "" for the whole record
    json value;           // null: remove the member
    const char* message;
  };
  const Case cases[] = {
      {"", json::array(), "approval: expected a JSON object, found an array"},
      {"/format", 2, "format: this Interlock reads approval records of format 1, found 2"},
      {"/id", nullptr, "id: missing"},
      {"/id", "", "id: must not be empty"},
      {"/extra", true, "extra: unknown field"},
      {"/revision", 0, "revision: expected an integer from 1 to 2147483647, found 0"},
      {"/revision", "2", "revision: expected an integer from 1 to 2147483647, found \"2\""},
      {"/state", "done",
       "state: expected one of pending, approved, rejected, changes_requested, escalated, "
       "blocked, found \"done\""},
      {"/requester/type", "robot",
       "requester.type: expected one of human, ai_agent, service, found \"robot\""},
      {"/change/ai/confidence", 1.5,
       "change.ai.confidence: expected a number from 0 to 1, found 1.5"},
      {"/change/security_scan/passed", "yes",
       "change.security_scan.passed: expected a boolean, found \"yes\""},
      {"/eligible_roles/0", 7, "eligible_roles[0]: expected a non-empty string, found 7"},
      {"/mandatory_roles/0", "cto", "mandatory_roles: 'cto' is not among the eligible_roles"},
      {"/approvals/0/at", "yesterday",
       "approvals[0].at: expected an RFC 3339 timestamp, found \"yesterday\""},
      {"/approvals/0/principal", "deployment-agent-01",
       "approvals[0].principal: 'deployment-agent-01' is the requester"},
      {"/approvals/-",
       json{{"principal", "carol"},
            {"roles", json::array()},
            {"rationale", "again"},
            {"at", "2024-01-15T10:31:00Z"}},
       "approvals[1].principal: 'carol' approved more than once"},
      {"/delegations/0", "bob->peggy", "delegations[0]: expected an object, found \"bob->peggy\""},
      {"/history/1/action", "dance",
       "history[1].action: expected one of open, approve, reject, request_changes, escalate, "
       "delegate, resubmit, timeout, found \"dance\""},
      {"/escalation_role", nullptr, "escalated: true without an escalation_role"},
      {"/timeout_ms", -1,
       "timeout_ms: expected an integer from 0 to 9223372036854775807, found -1"},
  };
  for (const Case& c : cases) {
    json bad = good;
    json::json_pointer pointer(c.pointer);
    if (c.value.is_null()) {
      bad[pointer.parent_pointer()].erase(pointer.back());
    } else {
      bad[pointer] = c.value;
    }
    auto read = FromJson(bad);
    ASSERT_FALSE(read) << c.pointer;
    EXPECT_EQ(read.error().kind(), ErrorKind::kCorruption) << c.pointer;
    EXPECT_EQ(read.error().message(), c.message) << c.pointer;
  }
}

// A pipeline asking on behalf of a person makes that person a requester:
// they may not approve the change through their own identity.
TEST(Approval, APersonAPipelineAskedForMayNotApprove) {
  json request = ChangeBy("ci-pipeline", "service", "production", "2.5.4");
  request["metadata"]["author"] = "bob";
  request["metadata"]["triggered_by"] = "carol@example.com";
  ApprovalRequest r = Must(OpenFor(request)).request;
  EXPECT_EQ(r.on_behalf_of, (std::vector<std::string>{"bob", "carol@example.com"}));
  ExpectError(Do(r, "bob", Action::kApprove), ErrorKind::kPermissionDenied,
              "bob requested this change (through ci-pipeline on behalf of bob) and cannot "
              "approve it");
  // A reviewer not named is still welcome, and the list survives storage.
  EXPECT_TRUE(Do(r, "trent", Action::kApprove).has_value());
  auto stored = FromJson(ToJson(r));
  ASSERT_TRUE(stored.has_value()) << stored.error().message();
  EXPECT_EQ(stored->on_behalf_of, r.on_behalf_of);
}

// Two principals with one e-mail address are one person: a requester's
// second identity may not approve, and one person may not approve twice.
TEST(Approval, TwoPrincipalsWithOneEmailAreOnePerson) {
  Governance g = interlock::testing::FreshDefaultGovernance();
  auto person = [&](std::string_view id, std::string email) {
    for (Principal& p : g.principals) {
      if (p.id == id) p.email = std::move(email);
    }
  };
  person("alice", "alice@example.com");
  person("bob", "Alice@Example.com");  // alice's second identity
  person("carol", "carol@example.com");
  person("trent", "carol@example.com");  // and carol's
  ApprovalRequest r = Patch();
  auto as = [&](std::string_view id, const ApprovalRequest& on) {
    return Act(g, on, *g.FindPrincipal(id), Action::kApprove, "looks right", std::nullopt,
               kT0 + kMinute, false);
  };
  ExpectError(as("bob", r), ErrorKind::kPermissionDenied,
              "bob requested this change (as alice, the same person) and cannot approve it");
  ApprovalRequest once = Must(as("carol", r)).request;
  ExpectError(as("trent", once), ErrorKind::kPermissionDenied,
              "trent is the same person as carol, who has already approved revision 1 of ap-1; "
              "approvals must come from distinct people");
}

}  // namespace
}  // namespace interlock::workflow
