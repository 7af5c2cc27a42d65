// Kubernetes' ValidatingAdmissionWebhook against the real server, with the
// AdmissionReview v1 the API server sends (Kubernetes' documentation,
// "Dynamic Admission Control"): the answer is an AdmissionReview with the
// same uid, and every review is in the audit log.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace interlock::server {
namespace {

class AdmissionTest : public ServerTest {
 protected:
  // The review of a Deployment `name` in `ns` by `username`.
  static json Review(const std::string& ns, const std::string& name,
                     const std::string& username = "admin", json annotations = json::object()) {
    return {
        {"apiVersion", "admission.k8s.io/v1"},
        {"kind", "AdmissionReview"},
        {"request",
         {{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
          {"kind", {{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}}},
          {"resource", {{"group", "apps"}, {"version", "v1"}, {"resource", "deployments"}}},
          {"requestKind", {{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}}},
          {"requestResource", {{"group", "apps"}, {"version", "v1"}, {"resource", "deployments"}}},
          {"name", name},
          {"namespace", ns},
          {"operation", "CREATE"},
          {"userInfo",
           {{"username", username},
            {"uid", "014fbff9a07c"},
            {"groups", {"system:authenticated", "my-admin-group"}},
            {"extra", {{"some-key", {"some-value1", "some-value2"}}}}}},
          {"object",
           {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata",
             {{"name", name},
              {"namespace", ns},
              {"labels", {{"app.kubernetes.io/name", name}}},
              {"annotations", annotations}}},
            {"spec", {{"replicas", 3}}}}},
          {"oldObject", nullptr},
          {"dryRun", false},
          {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "CreateOptions"}}}}}};
  }
  // The response part of the answer, which must be an AdmissionReview with
  // the same uid.
  json Admit(const json& review, const std::string& principal = "ci-pipeline") {
    HttpAnswer a = Call("POST", "/v1/integrations/kubernetes/admission", principal, review.dump());
    EXPECT_EQ(a.status, 200) << a.body;
    json body = Body(a);
    EXPECT_EQ(body["apiVersion"], "admission.k8s.io/v1");
    EXPECT_EQ(body["kind"], "AdmissionReview");
    EXPECT_EQ(body["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    return body["response"];
  }
};

TEST_F(AdmissionTest, AWorkloadNothingHoldsIsAllowedAndRecorded) {
  json r = Admit(Review("production", "api"));
  EXPECT_EQ(r["allowed"], true) << r.dump();
  EXPECT_EQ(r["status"]["code"], 200);
  EXPECT_EQ(r["status"]["message"], "nothing holds api in production");
  json entries = Body(Call("GET", "/v1/audit/entries?event_type=kubernetes_admission", "erin"));
  ASSERT_EQ(entries["entries"].size(), 1u) << entries.dump();
  json event = entries["entries"][0]["event"];
  EXPECT_EQ(event["kubernetes"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(event["kubernetes"]["username"], "admin");
  EXPECT_EQ(event["actor"]["type"], "human");
  EXPECT_EQ(event["change"]["service"], "api");
  EXPECT_EQ(event["decision"]["allowed"], true);
}

TEST_F(AdmissionTest, AStoppedScopeAndAnUnmappedNamespaceAreRefused) {
  ASSERT_EQ(StopAction("carol", {{"action", "activate"},
                                 {"reason", "payments outage"},
                                 {"scope", {{"service", "payments"}}}})
                .status,
            200);
  json stopped = Admit(Review("production", "payments"));
  EXPECT_EQ(stopped["allowed"], false);
  EXPECT_EQ(stopped["status"]["code"], 403);
  EXPECT_EQ(stopped["status"]["message"],
            "the emergency stop (service payments) is active: payments outage");
  EXPECT_EQ(Admit(Review("production", "api"))["allowed"], true);
  json unmapped = Admit(Review("kube-system", "coredns"));
  EXPECT_EQ(unmapped["allowed"], false);
  EXPECT_EQ(unmapped["status"]["message"],
            "namespace \"kube-system\" is not mapped to an environment in "
            "integrations/kubernetes.yml, so Interlock cannot tell what it changes");
}

TEST_F(AdmissionTest, AnAiAgentsServiceAccountIsRefusedWhileAStopCoversItAndUntilReenabled) {
  const std::string agent = "system:serviceaccount:ai-agents:deployment-agent-01";
  EXPECT_EQ(Admit(Review("staging", "web", agent))["allowed"], true);
  ASSERT_EQ(StopAction("carol", {{"action", "activate"}, {"reason", "agent went rogue"}}).status,
            200);
  json refused = Admit(Review("staging", "web", agent));
  EXPECT_EQ(refused["allowed"], false);
  EXPECT_NE(refused["status"]["message"].get<std::string>().find(
                agent + " acts for AI agent deployment-agent-01: "),
            std::string::npos)
      << refused.dump();
  // Deactivated: people may go on; the agents wait to be enabled again.
  ASSERT_EQ(StopAction("dave", Deactivation()).status, 200);
  ASSERT_EQ(StopAction("erin", Deactivation()).status, 200);
  EXPECT_EQ(Admit(Review("staging", "web"))["allowed"], true);
  EXPECT_EQ(Admit(Review("staging", "web", agent))["allowed"], false);
  ASSERT_EQ(StopAction("dave", {{"action", "reenable_ai_agents"}, {"reason", "fixed"}}).status,
            200);
  EXPECT_EQ(Admit(Review("staging", "web", agent))["allowed"], true);
  json entries =
      Body(Call("GET", "/v1/audit/entries?event_type=kubernetes_admission&limit=100", "erin"));
  bool agent_recorded = false;
  for (const json& e : entries["entries"]) {
    agent_recorded = agent_recorded || e["event"]["actor"]["id"] == "deployment-agent-01";
  }
  EXPECT_TRUE(agent_recorded) << entries.dump();
}

TEST_F(AdmissionTest, AFreezeRefusesUnlessAnApprovedBreakGlassRequestIsNamed) {
  ASSERT_TRUE(
      fs_.WriteFile(governance_ + "/safety/freeze-windows.yml",
                    "version: 1\nfreeze_windows:\n  - name: always\n    cron: \"* * * * *\"\n"
                    "    duration: 1h\n    time_zone: UTC\n    environments: [staging]\n"
                    "    break_glass: high_risk_change\n")
          .has_value());
  Stop();
  Start();
  tokens_.clear();
  json frozen = Admit(Review("staging", "api"));
  EXPECT_EQ(frozen["allowed"], false);
  EXPECT_NE(frozen["status"]["message"].get<std::string>().find(
                "to break the glass, annotate the object with interlock.dev/approval"),
            std::string::npos)
      << frozen.dump();
  // The decision on the same change opens the break-glass request.
  json d = Body(Decide("alice", Request("alice", "human", "staging", "1.0.0", "1.0.1")));
  ASSERT_EQ(d["decision"], "require_approval") << d.dump();
  ASSERT_EQ(d["workflow"], "high_risk_change");
  std::string id = d["approval_id"];
  json pending = Admit(Review("staging", "api", "admin", {{"interlock.dev/approval", id}}));
  EXPECT_EQ(pending["allowed"], false);
  for (const char* who : {"bob", "dave"}) {
    ASSERT_EQ(
        Call("POST", fmt::format("/v1/approvals/{}/approve", id), who, R"({"rationale": "hotfix"})")
            .status,
        200);
  }
  json let = Admit(Review("staging", "api", "admin", {{"interlock.dev/approval", id}}));
  EXPECT_EQ(let["allowed"], true) << let.dump();
  ASSERT_EQ(let["warnings"].size(), 1u);
  EXPECT_NE(let["warnings"][0].get<std::string>().find("let through by approved request " + id),
            std::string::npos);
  // Not for another service.
  EXPECT_EQ(Admit(Review("staging", "web", "admin", {{"interlock.dev/approval", id}}))["allowed"],
            false);
}

TEST_F(AdmissionTest, BadReviewsGetAClearAnswer) {
  HttpAnswer no_uid = Call("POST", "/v1/integrations/kubernetes/admission", "ci-pipeline",
                           R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                               "request": {}})");
  EXPECT_EQ(no_uid.status, 400);
  EXPECT_EQ(Body(no_uid)["error"]["message"], "request.uid: required");
  HttpAnswer v1beta1 =
      Call("POST", "/v1/integrations/kubernetes/admission", "ci-pipeline",
           R"({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"})");
  EXPECT_EQ(v1beta1.status, 400);
  json bad = Review("staging", "api");
  bad["request"]["object"]["metadata"]["labels"]["app.kubernetes.io/name"] = 7;
  json r = Admit(bad);
  EXPECT_EQ(r["allowed"], false);
  EXPECT_EQ(r["status"]["code"], 400);
  EXPECT_EQ(r["status"]["message"],
            "request.object.metadata.labels[\"app.kubernetes.io/name\"]: expected a string, "
            "found a number");
  HttpAnswer dup = Call("POST", "/v1/integrations/kubernetes/admission", "ci-pipeline",
                        R"({"apiVersion": "admission.k8s.io/v1", "apiVersion": "x"})");
  EXPECT_EQ(dup.status, 400);
  // No token: the API server is told no (and its failurePolicy: Fail holds).
  EXPECT_EQ(
      Call("POST", "/v1/integrations/kubernetes/admission", "", Review("staging", "api").dump())
          .status,
      401);
}

TEST_F(AdmissionTest, ADeleteIsJudgedByTheOldObject) {
  json del = Review("production", "payments");
  del["request"]["operation"] = "DELETE";
  del["request"]["oldObject"] = del["request"]["object"];
  del["request"]["object"] = nullptr;
  del["request"]["object"] = nullptr;
  EXPECT_EQ(Admit(del)["allowed"], true);
  ASSERT_EQ(StopAction("carol", {{"action", "activate"},
                                 {"reason", "payments outage"},
                                 {"scope", {{"service", "payments"}}}})
                .status,
            200);
  EXPECT_EQ(Admit(del)["allowed"], false);
}

}  // namespace
}  // namespace interlock::server
