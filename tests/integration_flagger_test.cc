// Flagger's webhooks against the real server, with the bodies Flagger's
// documentation shows: {name, namespace, phase, checksum, metadata}, the
// token in metadata.token (Flagger sends no headers of its own). Gates
// answer 200 for go and 403 for wait or no; the rollback hook's 200 means
// "roll back now"; event hooks land in the audit log.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace interlock::server {
namespace {

class FlaggerTest : public ServerTest {
 protected:
  // Flagger's webhook body for canary api in `ns`, with the token of
  // `principal` (none when empty) and `extra` metadata.
  std::string Payload(const std::string& principal, const std::string& ns = "staging",
                      json extra = json::object()) {
    json metadata = {{"test", "all"}};
    if (!principal.empty()) metadata["token"] = Token(principal);
    metadata.update(extra);
    return json{{"name", "api"},
                {"namespace", ns},
                {"phase", "Progressing"},
                {"checksum", "85d557f47b"},
                {"metadata", metadata}}
        .dump();
  }
  HttpAnswer Hook(const std::string& hook, const std::string& body) {
    return Call("POST", "/v1/integrations/flagger/" + hook, "", body);
  }
};

TEST_F(FlaggerTest, GatesGoWhenNothingHoldsTheCanary) {
  for (const char* hook : {"confirm-rollout", "pre-rollout", "rollout", "confirm-traffic-increase",
                           "confirm-promotion"}) {
    HttpAnswer a = Hook(hook, Payload("ci-pipeline"));
    EXPECT_EQ(a.status, 200) << hook << ": " << a.body;
    EXPECT_EQ(Body(a)["decision"], "allow") << a.body;
    EXPECT_EQ(Body(a)["reason"], "nothing holds api in staging");
  }
  // Nothing to roll back for.
  HttpAnswer rollback = Hook("rollback", Payload("ci-pipeline"));
  EXPECT_EQ(rollback.status, 403) << rollback.body;
  EXPECT_EQ(Body(rollback)["reason"], "no reason to roll back: nothing holds api in staging");
}

TEST_F(FlaggerTest, TheTokenTravelsInTheMetadataAndBadBodiesAreRefused) {
  HttpAnswer none = Hook("confirm-rollout", Payload(""));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Body(none)["error"]["message"],
            "Flagger sends no Authorization header: put the bearer token in the webhook's "
            "metadata.token");
  json wrong = json::parse(Payload("ci-pipeline"));
  wrong["metadata"]["token"] = "il_0000000000000000000000000000000000000000";
  EXPECT_EQ(Hook("confirm-rollout", wrong.dump()).status, 401);
  EXPECT_EQ(Hook("confirm-everything", Payload("ci-pipeline")).status, 404);

  HttpAnswer dup = Hook("confirm-rollout", R"({"name": "api", "name": "web", "namespace": "x"})");
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(Body(dup)["error"]["message"], "body: duplicate key \"name\" at line 1, column 17");
  HttpAnswer unknown = Hook("confirm-rollout", R"({"name": "api", "namespace": "x", "x": 1})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Body(unknown)["error"]["message"],
            "body: unknown field \"x\" (expected one of: name, namespace, phase, checksum, "
            "metadata)");
  HttpAnswer missing = Hook("confirm-rollout", R"({"namespace": "staging"})");
  EXPECT_EQ(Body(missing)["error"]["message"], "name: required");
  HttpAnswer number =
      Hook("confirm-rollout", R"({"name": "api", "namespace": "staging", "metadata": {"n": 1}})");
  EXPECT_EQ(number.status, 400);
  EXPECT_EQ(Body(number)["error"]["message"], "body.metadata.n: expected a string, found a number");
  EXPECT_EQ(Hook("confirm-rollout", "{").status, 400);

  // A namespace that maps to no environment is not a go.
  HttpAnswer unmapped = Hook("confirm-rollout", Payload("ci-pipeline", "kube-system"));
  EXPECT_EQ(unmapped.status, 403);
  EXPECT_EQ(Body(unmapped)["reason"],
            "namespace kube-system is not mapped to an environment in integrations/kubernetes.yml");
}

TEST_F(FlaggerTest, AStopHoldsEveryGateAndTheRollbackHookSaysRollBack) {
  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "outage"}}).status, 200);
  HttpAnswer promote = Hook("confirm-promotion", Payload("ci-pipeline"));
  EXPECT_EQ(promote.status, 403);
  EXPECT_EQ(Body(promote)["decision"], "deny");
  EXPECT_EQ(Body(promote)["reason"], "the emergency stop (all) is active: outage");
  HttpAnswer rollback = Hook("rollback", Payload("ci-pipeline"));
  EXPECT_EQ(rollback.status, 200);
  EXPECT_EQ(Body(rollback)["reason"], "roll back: the emergency stop (all) is active: outage");
}

TEST_F(FlaggerTest, ARolledBackInterlockRolloutRollsTheCanaryBack) {
  std::string id = OpenStagingRollout();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Hook("rollback", Payload("ci-pipeline")).status, 403);
  ASSERT_EQ(
      Call("POST", "/v1/rollouts/" + id + "/pause", "carol", R"({"rationale": "look"})").status,
      200);
  // Paused: wait, but no rollback.
  HttpAnswer paused = Hook("confirm-traffic-increase", Payload("ci-pipeline"));
  EXPECT_EQ(paused.status, 403);
  EXPECT_EQ(Body(paused)["decision"], "require_approval");
  EXPECT_EQ(Body(paused)["rollout"]["id"], id);
  EXPECT_EQ(Hook("rollback", Payload("ci-pipeline")).status, 403);
  ASSERT_EQ(
      Call("POST", "/v1/rollouts/" + id + "/resume", "carol", R"({"rationale": "ok"})").status,
      200);
  // A trigger fires: the rollout is rolled back, and so is the canary.
  FailHealthChecks(id);
  ASSERT_EQ(Body(Call("GET", "/v1/rollouts/" + id, "alice"))["state"], "rolled_back");
  HttpAnswer back = Hook("rollback", Payload("ci-pipeline"));
  EXPECT_EQ(back.status, 200) << back.body;
  EXPECT_NE(Body(back)["reason"].get<std::string>().find("roll back: rollouts of api are blocked "
                                                         "until incident"),
            std::string::npos)
      << back.body;
  EXPECT_EQ(Hook("confirm-rollout", Payload("ci-pipeline")).status, 403);
}

TEST_F(FlaggerTest, AFreezeWindowHoldsTheGatesWithoutRollingBack) {
  ASSERT_TRUE(
      fs_.WriteFile(governance_ + "/safety/freeze-windows.yml",
                    "version: 1\nfreeze_windows:\n  - name: always\n    cron: \"* * * * *\"\n"
                    "    duration: 1h\n    time_zone: UTC\n")
          .has_value());
  Stop();
  Start();
  tokens_.clear();
  HttpAnswer gate = Hook("confirm-rollout", Payload("ci-pipeline"));
  EXPECT_EQ(gate.status, 403);
  EXPECT_EQ(Body(gate)["decision"], "require_approval");
  EXPECT_NE(Body(gate)["reason"].get<std::string>().find("freeze window 'always'"),
            std::string::npos);
  EXPECT_EQ(Hook("rollback", Payload("ci-pipeline")).status, 403);
}

TEST_F(FlaggerTest, EventHooksAreRecordedInTheAuditLog) {
  HttpAnswer a =
      Hook("event", Payload("ci-pipeline", "staging",
                            {{"eventMessage", "New revision detected! Scaling up api.staging"},
                             {"eventType", "Normal"},
                             {"timestamp", "1578917230491"}}));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(Body(a)["recorded"], true);
  json entries = Body(Call("GET", "/v1/audit/entries?event_type=flagger_event", "erin"));
  ASSERT_EQ(entries["entries"].size(), 1u) << entries.dump();
  json event = entries["entries"][0]["event"];
  EXPECT_EQ(event["flagger"]["eventMessage"], "New revision detected! Scaling up api.staging");
  EXPECT_EQ(event["change"]["environment"], "staging");
  EXPECT_EQ(event["actor"]["id"], "ci-pipeline");
  // The token is not recorded.
  EXPECT_EQ(entries.dump().find(Token("ci-pipeline")), std::string::npos);
  EXPECT_EQ(Hook("post-rollout", Payload("ci-pipeline")).status, 200);
}

}  // namespace
}  // namespace interlock::server
