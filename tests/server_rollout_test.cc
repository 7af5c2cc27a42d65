// Rollouts through the real server: opening one for an allowed change,
// pushed metrics, evaluations driven by the clock and the tick, rollback
// with its incident and review, overrides, and a restart in the middle.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace interlock::server {
namespace {

class RolloutServerTest : public ServerTest {
 protected:
  // An allowed decision for service api in staging; its audit index.
  uint64_t Allowed(const std::string& to) {
    HttpAnswer a = Decide("alice", Request("alice", "human", "staging", "1.0.0", to));
    EXPECT_EQ(a.status, 200) << a.body;
    json d = Body(a);
    EXPECT_EQ(d["decision"], "allow") << a.body;
    return d.value("audit_index", uint64_t{0});
  }
  HttpAnswer Open(const json& body) { return Call("POST", "/v1/rollouts", "alice", body.dump()); }
  json Get(const std::string& id) { return Body(Call("GET", "/v1/rollouts/" + id, "alice")); }
  // Moves time on by `ms` and lets the tick's evaluation finish.
  void Advance(int64_t ms) {
    clock_.Advance(ms);
    service_->Tick();
    service_->Drain();
  }
  HttpAnswer Push(const std::string& id, const json& body) {
    return Call("POST", "/v1/rollouts/" + id + "/metrics", "alice", body.dump());
  }
};

TEST_F(RolloutServerTest, ARolloutOfAnAllowedChangeIsRolledBackByATriggerAndOpensAnIncident) {
  uint64_t index = Allowed("1.0.1");
  HttpAnswer opened = Open({{"audit_index", index}, {"baseline_version", "1.0.0"}});
  ASSERT_EQ(opened.status, 201) << opened.body;
  json r = Body(opened);
  std::string id = r["id"];
  EXPECT_EQ(r["state"], "progressing");
  EXPECT_EQ(r["strategy"], "blue-green");
  EXPECT_EQ(r["step"], 1);
  EXPECT_EQ(r["steps"], 1);
  EXPECT_EQ(r["traffic_percent"], 100.0);
  EXPECT_EQ(r["next_evaluation_at"], clock_.Now() + 30'000);
  EXPECT_EQ(r["change"]["service"], "api");
  EXPECT_EQ(r["change"]["audit_index"], index);

  // One rollout per change.
  HttpAnswer again = Open({{"audit_index", index}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Body(again)["error"]["message"], "the change already has rollout " + id);

  // Health checks fail: pushed, then evaluated at the next interval.
  ASSERT_EQ(Push(id, {{"metrics", {{"consecutive_failures", 4}}}}).status, 200);
  Advance(10'000);
  EXPECT_EQ(Get(id)["state"], "progressing");  // not due yet
  Advance(20'000);
  json after = Get(id);
  EXPECT_EQ(after["state"], "rolled_back");
  EXPECT_EQ(after["history"].back()["by"], "trigger:health_check_failures");
  EXPECT_EQ(after["history"].back()["why"],
            "health_check_failures (consecutive_failures >= 3): consecutive_failures = 4");

  json incidents = Body(Call("GET", "/v1/incidents", "alice"));
  ASSERT_EQ(incidents["incidents"].size(), 1u);
  json incident = incidents["incidents"][0];
  EXPECT_EQ(incident["state"], "open");
  EXPECT_EQ(incident["rollout"], id);
  EXPECT_EQ(incident["trigger"], "health_check_failures");
  EXPECT_EQ(incident["review_due_at"], clock_.Now() + 48 * 3'600'000LL);

  // Until the review is in, the service takes no new rollout.
  uint64_t next = Allowed("1.0.2");
  HttpAnswer blocked = Open({{"audit_index", next}});
  EXPECT_EQ(blocked.status, 409);
  EXPECT_EQ(Body(blocked)["error"]["message"],
            "rollouts of api are blocked until incident " + incident["id"].get<std::string>() +
                " is reviewed (rollout " + id + " was rolled back by health_check_failures)");

  std::string review = "/v1/incidents/" + incident["id"].get<std::string>() + "/review";
  json body = {{"root_cause", "a missing index"}, {"actions_taken", "index added"}};
  HttpAnswer denied = Call("POST", review, "alice", body.dump());
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(Body(denied)["error"]["message"],
            "alice may not review an incident: it takes a human holding one of: "
            "engineering-lead, security-lead");
  HttpAnswer reviewed = Call("POST", review, "dave", body.dump());
  ASSERT_EQ(reviewed.status, 200) << reviewed.body;
  EXPECT_EQ(Body(reviewed)["state"], "reviewed");
  EXPECT_EQ(Call("POST", review, "dave", body.dump()).status, 409);
  EXPECT_EQ(Open({{"audit_index", next}}).status, 201);

  // Every step is in the audit trail.
  json entries = Body(Call("GET", "/v1/audit/entries?event_type=rollout_rolled_back", "erin"));
  ASSERT_EQ(entries["entries"].size(), 1u) << entries.dump();
}

TEST_F(RolloutServerTest, TheEscalationsApprovalResumesTheRolloutAndARejectionAbortsIt) {
  for (bool approve : {true, false}) {
    std::string id = Body(Open({{"audit_index", Allowed(approve ? "1.0.1" : "1.0.2")}}))["id"];
    ASSERT_EQ(Push(id, {{"metrics", {{"ai_agent_confidence", 0.2}}}}).status, 200);
    Advance(30'000);
    json paused = Get(id);
    ASSERT_EQ(paused["state"], "paused");
    std::string approval = paused["escalation"];
    auto act = [&](const std::string& action, const std::string& who) {
      return Call("POST", "/v1/approvals/" + approval + "/" + action, who,
                  R"({"rationale": "the agent is fine"})");
    };
    if (approve) {
      ASSERT_EQ(act("approve", "bob").status, 200);
      HttpAnswer done = act("approve", "dave");
      ASSERT_EQ(Body(done)["state"], "approved") << done.body;
    } else {
      HttpAnswer done = act("reject", "bob");
      ASSERT_EQ(Body(done)["state"], "rejected") << done.body;
    }
    json after = Get(id);
    EXPECT_EQ(after["state"], approve ? "progressing" : "aborted") << after.dump(2);
    EXPECT_EQ(after["history"].back()["by"], "approval:" + approval);
    EXPECT_EQ(after["history"].back()["why"],
              fmt::format("approval request {} was {} by {}: the agent is fine", approval,
                          approve ? "approved" : "rejected", approve ? "dave" : "bob"));
    // Resumed, it forgets the escalation; aborted, it keeps the request that ended it.
    EXPECT_EQ(after["escalation"], approve ? json(nullptr) : json(approval)) << after.dump();
    // Each step is in the audit trail.
    json entries = Body(Call(
        "GET",
        std::string("/v1/audit/entries?event_type=rollout_") + (approve ? "resumed" : "aborted"),
        "erin"));
    EXPECT_EQ(entries["entries"].size(), 1u) << entries.dump();
  }
}

TEST_F(RolloutServerTest, AnEscalationPausesTheRolloutAndOpensAnApprovalInItsWorkflow) {
  std::string id = Body(Open({{"audit_index", Allowed("1.0.1")}}))["id"];
  ASSERT_EQ(Push(id, {{"metrics", {{"ai_agent_confidence", 0.2}}}}).status, 200);
  Advance(30'000);
  json paused = Get(id);
  EXPECT_EQ(paused["state"], "paused");
  EXPECT_EQ(paused["history"].back()["by"], "trigger:ai_agent_anomaly");
  ASSERT_TRUE(paused["escalation"].is_string()) << paused.dump(2);
  std::string approval = paused["escalation"];
  json request = Body(Call("GET", "/v1/approvals/" + approval, "dave"));
  EXPECT_EQ(request["state"], "pending") << request.dump(2);
  EXPECT_EQ(request["workflow"], "high_risk_change");
  EXPECT_EQ(request["change"]["service"], "api");
  // A later evaluation that fires again opens nothing more.
  Advance(30'000);
  EXPECT_EQ(Get(id)["escalation"], approval);
  // Resumed by a person, the rollout goes on and forgets the escalation.
  HttpAnswer resumed =
      Call("POST", "/v1/rollouts/" + id + "/resume", "carol", R"({"rationale": "agent fixed"})");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_TRUE(Body(resumed)["escalation"].is_null());
}

TEST_F(RolloutServerTest, OnlyAnAllowedDecisionOpensARollout) {
  // Production for a human: approval required.
  HttpAnswer d = Decide("alice", Request("alice", "human", "production", "1.0.0", "2.0.0"));
  ASSERT_EQ(d.status, 200);
  ASSERT_NE(Body(d)["decision"], "allow") << d.body;
  HttpAnswer refused = Open({{"audit_index", Body(d)["audit_index"]}});
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(
      Body(refused)["error"]["message"].get<std::string>().rfind("the decision at audit index ", 0),
      0u)
      << refused.body;

  HttpAnswer missing = Open({{"audit_index", 999}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing)["error"]["message"], "no audit record at index 999");
  HttpAnswer both = Open({{"audit_index", 1}, {"approval_id", "apr_x"}});
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(Body(both)["error"]["message"],
            "body: give audit_index (a decision) or approval_id, not both");
  HttpAnswer unknown = Open({{"audit_index", Allowed("1.0.1")}, {"strategy", "yolo"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Body(unknown)["error"]["message"],
            "strategy: expected one of high_risk, critical, blue-green, found \"yolo\"");
}

TEST_F(RolloutServerTest, PushedMetricsAreCheckedAndTheFutureIsRefused) {
  HttpAnswer opened = Open({{"audit_index", Allowed("1.0.1")}});
  std::string id = Body(opened)["id"];
  HttpAnswer future = Push(
      id, {{"at", FormatTimestamp(clock_.Now() + 60'000)}, {"metrics", {{"error_rate", 0.1}}}});
  EXPECT_EQ(future.status, 400);
  EXPECT_EQ(Body(future)["error"]["message"],
            "at: 60000 ms in the future; a measurement cannot be from the future");
  HttpAnswer text = Push(id, {{"metrics", {{"error_rate", "high"}}}});
  EXPECT_EQ(text.status, 400);
  EXPECT_EQ(Body(text)["error"]["message"],
            "metrics.error_rate: expected a number, found a string");
  HttpAnswer bad_time = Push(id, {{"at", "yesterday"}, {"metrics", {{"error_rate", 0.1}}}});
  EXPECT_EQ(bad_time.status, 400);
  EXPECT_EQ(Body(bad_time)["error"]["message"],
            "at: expected an RFC 3339 date-time such as 2026-01-15T10:30:00Z, found \"yesterday\"");
  HttpAnswer dup = Call("POST", "/v1/rollouts/" + id + "/metrics", "alice",
                        R"({"metrics": {"error_rate": 0.1, "error_rate": 0.0}})");
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(Body(dup)["error"]["message"].get<std::string>().find("duplicate key"),
            std::string("metrics: ").size())
      << dup.body;
  HttpAnswer none = Push(id, json::object());
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(Body(none)["error"]["message"],
            "metrics: required (an object of metric names to numbers)");
  EXPECT_EQ(Push("ro_none", {{"metrics", {{"x", 1}}}}).status, 404);
}

TEST_F(RolloutServerTest, OverridesAreForTheRolesTheGovernanceNamesAndAreAudited) {
  std::string id = Body(Open({{"audit_index", Allowed("1.0.1")}}))["id"];
  std::string pause = "/v1/rollouts/" + id + "/pause";
  HttpAnswer denied = Call("POST", pause, "alice", R"({"rationale": "wait"})");
  EXPECT_EQ(denied.status, 403);
  HttpAnswer no_rationale = Call("POST", pause, "carol", "{}");
  EXPECT_EQ(no_rationale.status, 400);
  EXPECT_EQ(Body(no_rationale)["error"]["message"], "rationale: required");
  HttpAnswer paused = Call("POST", pause, "carol", R"({"rationale": "checking a dashboard"})");
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(Body(paused)["state"], "paused");
  EXPECT_EQ(Call("POST", "/v1/rollouts/" + id + "/fly", "carol", R"({"rationale": "x"})").status,
            404);
  HttpAnswer promoted =
      Call("POST", "/v1/rollouts/" + id + "/promote", "dave", R"({"rationale": "verified"})");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(Body(promoted)["state"], "promoted");
  EXPECT_EQ(Call("POST", "/v1/rollouts/" + id + "/abort", "carol", R"({"rationale": "x"})").status,
            409);
  json listed = Body(Call("GET", "/v1/rollouts?state=promoted", "alice"));
  ASSERT_EQ(listed["rollouts"].size(), 1u);
  EXPECT_EQ(listed["rollouts"][0]["history"].back()["by"], "dave");
  EXPECT_EQ(Call("GET", "/v1/rollouts?state=done", "alice").status, 400);
}

TEST_F(RolloutServerTest, ARestartedServerResumesTheStepOnTime) {
  std::string id = Body(Open({{"audit_index", Allowed("1.0.1")}}))["id"];
  json before = Get(id);
  Stop();
  Start();
  json after = Get(id);
  EXPECT_EQ(after["next_evaluation_at"], before["next_evaluation_at"]);
  // Ten minutes of healthy checks: blue-green promotes at the evaluation
  // that ends them, not before.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Get(id)["state"], "progressing") << i;
    ASSERT_EQ(Push(id, {{"metrics", {{"consecutive_failures", 0}}}}).status, 200);
    Advance(30'000);
  }
  json promoted = Get(id);
  EXPECT_EQ(promoted["state"], "promoted");
  EXPECT_EQ(promoted["history"].back()["why"], "no trigger fired during the monitoring duration");
  EXPECT_EQ(promoted["evaluations"], 20);
}

}  // namespace
}  // namespace interlock::server
