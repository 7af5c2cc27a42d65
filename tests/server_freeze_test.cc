// Freeze windows through the real server: a scheduled window denies or
// sends through break-glass, the windows after a model_update and after a
// rollback start from what happened, and GET /v1/freeze-windows and the
// simulator show them.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace interlock::server {
namespace {

// The fixture's clock starts on Monday 2026-09-21 at 14:13:20 UTC.
constexpr UnixMillis kMonday1413 = 1'790'000'000'000;

class FreezeServerTest : public ServerTest {
 protected:
  // Replaces safety/freeze-windows.yml and restarts the server on it.
  void Windows(const std::string& items) {
    ASSERT_TRUE(fs_.WriteFile(governance_ + "/safety/freeze-windows.yml",
                              "version: 1\nfreeze_windows:\n" + items)
                    .has_value());
    Stop();
    Start();
  }
  // A model_update carries its change record, with provenance and digests
  // (app/compliance_gate.h).
  static std::string Change(const std::string& type, const std::string& env,
                            const std::string& service, const std::string& to) {
    json request = {{"change",
                     {{"type", type},
                      {"environment", env},
                      {"service", service},
                      {"version", to},
                      {"previous_version", "1.0.0"}}},
                    {"checks", {{"tests_passed", true}, {"security_scan", {{"passed", true}}}}}};
    if (type == "model_update") {
      request["metadata"] = {
          {"change_id", "CHANGE-" + to},
          {"author", "alice"},
          {"owner", "frank"},
          {"timestamp", "2026-09-21T10:00:00Z"},
          {"rationale", "Retrained"},
          {"impact", "Rankings"},
          {"tests_run", {"offline-eval"}},
          {"artifacts",
           {"weights@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
          {"approvals", json::array()},
          {"rollback_plan", "Serve the previous model"},
          {"risk_level", "high"},
          {"provenance",
           {{"model_id", service},
            {"training_dataset", "clicks"},
            {"training_config", "rec.yaml"},
            {"training_timestamp", "2026-09-20T08:00:00Z"},
            {"metrics", {{"auc", 0.9}}}}}};
    }
    return request.dump();
  }
  HttpAnswer Act(const std::string& id, const std::string& action, const std::string& who) {
    return Call("POST", fmt::format("/v1/approvals/{}/{}", id, action), who,
                R"({"rationale": "looks right"})");
  }
};

TEST_F(FreezeServerTest, AScheduledWindowDeniesAndNamesItself) {
  ASSERT_EQ(clock_.Now(), kMonday1413);
  Windows(R"(  - name: monday-afternoon
    reason: the weekly release review
    weekly: {from: "Mon 14:00", to: "Mon 15:00"}
    time_zone: UTC
    environments: [production]
)");
  HttpAnswer a = Decide("carol", Change("code", "production", "api", "1.0.1"));
  ASSERT_EQ(a.status, 200) << a.body;
  json d = Body(a);
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_NE(std::find(d["reasons"].begin(), d["reasons"].end(),
                      "freeze window 'monday-afternoon' (every Mon 14:00 to Mon 15:00, UTC) is in "
                      "force until 2026-09-21T15:00:00.000Z: the weekly release review; a frozen "
                      "change is denied"),
            d["reasons"].end())
      << a.body;
  // Staging is not in the window.
  EXPECT_EQ(Body(Decide("alice", Change("code", "staging", "api", "1.0.1")))["decision"], "allow");

  json listed = Body(Call("GET", "/v1/freeze-windows", "alice"));
  ASSERT_EQ(listed["windows"].size(), 1u) << listed.dump();
  json w = listed["windows"][0];
  EXPECT_EQ(w["name"], "monday-afternoon");
  EXPECT_EQ(w["kind"], "weekly");
  EXPECT_EQ(w["schedule"], "every Mon 14:00 to Mon 15:00, UTC");
  ASSERT_EQ(w["in_force"].size(), 1u);
  EXPECT_EQ(w["in_force"][0]["since"], "2026-09-21T14:00:00.000Z");
  EXPECT_EQ(w["in_force"][0]["until"], "2026-09-21T15:00:00.000Z");
  json later = Body(Call("GET", "/v1/freeze-windows?at=2026-09-21T15:00:00Z", "alice"));
  EXPECT_TRUE(later["windows"][0]["in_force"].empty());
  EXPECT_EQ(Call("GET", "/v1/freeze-windows?at=monday", "alice").status, 400);

  // The simulator decides at any time, and lists the windows in force then.
  HttpAnswer sim = Call("POST", "/v1/decisions/simulate?at=2026-09-21T15:30:00Z", "carol",
                        Change("code", "production", "api", "1.0.1"));
  ASSERT_EQ(sim.status, 200) << sim.body;
  EXPECT_NE(Body(sim)["decision"], "deny") << sim.body;
  EXPECT_TRUE(Body(sim)["freeze_windows"]["windows"][0]["in_force"].empty());
  sim =
      Call("POST", "/v1/decisions/simulate", "carol", Change("code", "production", "api", "1.0.1"));
  EXPECT_EQ(Body(sim)["decision"], "deny");
  EXPECT_EQ(Body(sim)["freeze_windows"]["windows"][0]["in_force"].size(), 1u);

  // An hour later the window is over.
  clock_.Advance(3'600'000);
  EXPECT_NE(Body(Decide("carol", Change("code", "production", "api", "1.0.1")))["decision"],
            "deny");
}

TEST_F(FreezeServerTest, ABreakGlassWorkflowTurnsTheDenyIntoAnApproval) {
  Windows(R"(  - name: always
    cron: "* * * * *"
    duration: 1h
    time_zone: Europe/Berlin
    environments: [staging]
    break_glass: critical_change
)");
  HttpAnswer a = Decide("alice", Request("alice", "human", "staging", "1.0.0", "1.0.1"));
  ASSERT_EQ(a.status, 200) << a.body;
  json d = Body(a);
  EXPECT_EQ(d["decision"], "require_approval") << a.body;
  EXPECT_EQ(d["workflow"], "critical_change");
  ASSERT_TRUE(d["approval_id"].is_string()) << a.body;
  json request = Body(Call("GET", "/v1/approvals/" + d["approval_id"].get<std::string>(), "alice"));
  EXPECT_EQ(request["workflow"], "critical_change") << request.dump();
}

TEST_F(FreezeServerTest, AnApprovedModelUpdateFreezesTheNextOneFor48Hours) {
  HttpAnswer first = Decide("alice", Change("model_update", "staging", "Recommender", "1.1.0"));
  json d = Body(first);
  ASSERT_EQ(d["decision"], "require_approval") << first.body;
  std::string id = d["approval_id"];
  ASSERT_EQ(Act(id, "approve", "dave").status, 200);
  HttpAnswer done = Act(id, "approve", "erin");
  ASSERT_EQ(Body(done)["state"], "approved") << done.body;

  HttpAnswer next = Decide("alice", Change("model_update", "staging", "recommender", "1.2.0"));
  json frozen = Body(next);
  EXPECT_EQ(frozen["decision"], "deny") << next.body;
  EXPECT_NE(frozen["reasons"].dump().find(
                "freeze window 'model-observation' (for 2d after a model_update to the same "
                "service) is in force for recommender (model_update) until 2026-09-23T14:13:20"),
            std::string::npos)
      << next.body;
  // Other services, environments and kinds of change go on.
  EXPECT_EQ(Body(Decide("alice", Change("model_update", "staging", "search", "1.2.0")))["decision"],
            "require_approval");
  EXPECT_EQ(Body(Decide("alice", Change("code", "staging", "recommender", "1.0.1")))["decision"],
            "allow");
  json listed = Body(Call("GET", "/v1/freeze-windows", "alice"));
  ASSERT_EQ(listed["windows"][0]["in_force"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["windows"][0]["in_force"][0]["service"], "recommender");
  EXPECT_EQ(listed["windows"][0]["in_force"][0]["environment"], "staging");

  // The event is durable: a restarted server still freezes it.
  Stop();
  Start();
  EXPECT_EQ(
      Body(Decide("alice", Change("model_update", "staging", "recommender", "1.2.0")))["decision"],
      "deny");
  clock_.Advance(48 * 3'600'000LL);
  EXPECT_EQ(
      Body(Decide("alice", Change("model_update", "staging", "recommender", "1.2.0")))["decision"],
      "require_approval");
}

TEST_F(FreezeServerTest, ARollbackFreezesTheServiceUntilItsReviewIsIn) {
  Windows(R"(  - name: rollback-review
    after: rollback
    environments: [staging]
)");
  std::string rollout = OpenStagingRollout();
  ASSERT_FALSE(rollout.empty());
  FailHealthChecks(rollout);
  json incidents = Body(Call("GET", "/v1/incidents", "alice"));
  ASSERT_EQ(incidents["incidents"].size(), 1u) << incidents.dump();
  std::string incident = incidents["incidents"][0]["id"];

  json frozen = Body(Decide("alice", Change("code", "staging", "api", "1.0.2")));
  EXPECT_EQ(frozen["decision"], "deny");
  EXPECT_NE(frozen["reasons"].dump().find(
                "freeze window 'rollback-review' (after a rollback of the same service, until its "
                "review is in) is in force for api (incident " +
                incident + ") until the review is in"),
            std::string::npos)
      << frozen.dump();
  // Other services are not frozen.
  EXPECT_EQ(Body(Decide("alice", Change("code", "staging", "web", "1.0.2")))["decision"], "allow");

  // Open incidents are read back at start.
  Stop();
  Start();
  EXPECT_EQ(Body(Decide("alice", Change("code", "staging", "api", "1.0.2")))["decision"], "deny");
  HttpAnswer reviewed =
      Call("POST", "/v1/incidents/" + incident + "/review", "dave",
           R"({"root_cause": "a missing index", "actions_taken": "index added"})");
  ASSERT_EQ(reviewed.status, 200) << reviewed.body;
  EXPECT_EQ(Body(Decide("alice", Change("code", "staging", "api", "1.0.2")))["decision"], "allow");
}

}  // namespace
}  // namespace interlock::server
