// Argo Rollouts' Web metric provider against the real server, with the
// requests its AnalysisTemplate sends (examples/argo-rollouts): a GET with
// the rollout or the scope in the query, or a POST with a JSON body, and the
// token in an Authorization header. Every answer is 200: Argo reads any
// other status as an error of the measurement, not as a "no".
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace interlock::server {
namespace {

class ArgoAnalysisTest : public ServerTest {
 protected:
  json Analysis(const std::string& query, const std::string& principal = "alice") {
    HttpAnswer a = Call("GET", "/v1/integrations/argo-rollouts/analysis" + query, principal);
    EXPECT_EQ(a.status, 200) << a.body;
    return Body(a);
  }
};

TEST_F(ArgoAnalysisTest, ARolloutInProgressIsAllowedAndAPausedOneWaitsForPeople) {
  std::string id = OpenStagingRollout();
  ASSERT_FALSE(id.empty());
  json allowed = Analysis("?rollout=" + id);
  EXPECT_EQ(allowed["decision"], "allow");
  EXPECT_EQ(allowed["reason"],
            "rollout " + id + " is at step 1 of 1 (100% of traffic) and no trigger fires");
  EXPECT_EQ(allowed["rollout"]["state"], "progressing");

  ASSERT_EQ(
      Call("POST", "/v1/rollouts/" + id + "/pause", "carol", R"({"rationale": "look"})").status,
      200);
  json paused = Analysis("?rollout=" + id);
  EXPECT_EQ(paused["decision"], "require_approval");
  EXPECT_EQ(paused["reason"], "rollout " + id + " is paused: look");
  // The scope says the same while that rollout is paused.
  EXPECT_EQ(Analysis("?service=api&environment=staging")["decision"], "require_approval");
  EXPECT_EQ(Analysis("?service=api&environment=production")["decision"], "allow");

  ASSERT_EQ(
      Call("POST", "/v1/rollouts/" + id + "/abort", "carol", R"({"rationale": "bad"})").status,
      200);
  json aborted = Analysis("?rollout=" + id);
  EXPECT_EQ(aborted["decision"], "deny");
  EXPECT_EQ(aborted["reason"], "rollout " + id + " was aborted: bad");
}

TEST_F(ArgoAnalysisTest, TheEmergencyStopAndBadNamesAreANoInA200) {
  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "outage"}}).status, 200);
  HttpAnswer post = Call("POST", "/v1/integrations/argo-rollouts/analysis", "alice",
                         R"({"service": "api", "environment": "production"})");
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(Body(post)["decision"], "deny");
  EXPECT_EQ(Body(post)["reason"], "the emergency stop (all) is active: outage");

  json none = Analysis("");
  EXPECT_EQ(none["decision"], "deny");
  EXPECT_EQ(none["reason"], "name a rollout (rollout), or a service and an environment");
  json env = Analysis("?service=api&environment=prod");
  EXPECT_EQ(env["reason"], "environment: expected one of dev, staging, production, found \"prod\"");
  EXPECT_EQ(Analysis("?rollout=ro_none")["reason"], "no rollout ro_none");
  HttpAnswer dup = Call("POST", "/v1/integrations/argo-rollouts/analysis", "alice",
                        R"({"service": "api", "service": "web"})");
  EXPECT_EQ(dup.status, 200);
  EXPECT_EQ(Body(dup)["decision"], "deny");
  // Without a token Argo gets 401: an error of the measurement, which its
  // consecutiveErrorLimit turns into a failed analysis.
  EXPECT_EQ(Call("GET", "/v1/integrations/argo-rollouts/analysis?service=api", "").status, 401);
}

}  // namespace
}  // namespace interlock::server
