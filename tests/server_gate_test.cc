// The compliance gate through the real server: a change record that does
// not hold, a release that does not fit its compatibility report and a
// model update without provenance are denied with their reasons; a model
// version's artifacts, once pinned, do not change, across restarts.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace interlock::server {
namespace {

constexpr std::string_view kDigestA =
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr std::string_view kDigestB =
    "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

class GateServerTest : public ServerTest {
 protected:
  static json Record(std::string_view risk) {
    return {{"change_id", "CHANGE-7"},
            {"author", "alice"},
            {"owner", "frank"},
            {"timestamp", "2026-09-21T10:00:00Z"},
            {"rationale", "Better recommendations"},
            {"impact", "The recommender's ranking"},
            {"tests_run", {"offline-eval"}},
            {"artifacts", json::array()},
            {"approvals", json::array()},
            {"rollback_plan", "Serve the previous model"},
            {"risk_level", risk}};
  }
  static std::string ModelUpdate(const std::string& version, std::string_view digest) {
    json metadata = Record("high");
    metadata["artifacts"] = {"weights@" + std::string(digest)};
    metadata["provenance"] = {{"model_id", "recommender"},
                              {"training_dataset", "clicks-2026-09"},
                              {"training_config", "configs/rec.yaml"},
                              {"training_timestamp", "2026-09-20T08:00:00Z"},
                              {"metrics", {{"auc", 0.91}}}};
    return json{{"change",
                 {{"type", "model_update"},
                  {"environment", "dev"},
                  {"service", "recommender"},
                  {"version", version},
                  {"previous_version", "1.0.0"}}},
                {"checks", {{"tests_passed", true}, {"security_scan", {{"passed", true}}}}},
                {"metadata", metadata}}
        .dump();
  }
  // Restarts the server with a rule that requires `controls` for staging.
  void RequireForStaging(const std::string& controls) {
    std::string rules_file = governance_ + "/decision/rules.yaml";
    auto rules = fs_.ReadFile(rules_file, 1 << 20);
    ASSERT_TRUE(rules.has_value());
    ASSERT_TRUE(fs_.WriteFile(rules_file, *rules +
                                              "\n  - id: staging-controls\n"
                                              "    when: change.environment == \"staging\"\n"
                                              "    effect: require_approval\n"
                                              "    approvals: 1\n"
                                              "    workflow: standard_change\n"
                                              "    requires_controls: " +
                                              controls + "\n")
                    .has_value());
    Stop();
    Start();
  }
  static bool Says(const json& decision, std::string_view words) {
    return decision["reasons"].dump().find(words) != std::string::npos;
  }
};

TEST_F(GateServerTest, AChangeRecordThatDoesNotHoldIsDenied) {
  json request = json::parse(Request("alice", "human", "staging", "1.0.0", "1.0.1"));
  request["metadata"] = Record("low");
  request["metadata"].erase("rollback_plan");
  HttpAnswer a = Decide("alice", request.dump());
  ASSERT_EQ(a.status, 200) << a.body;
  json d = Body(a);
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(Says(d, "the change record is invalid: metadata.rollback_plan: required; denied"))
      << a.body;

  request["metadata"] = Record("low");
  request["change"]["environment"] = "production";
  d = Body(Decide("alice", request.dump()));
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(Says(d, "metadata.risk_level is low, lower than the risk the decision computed"))
      << d.dump();

  // The simulator shows the same.
  d = Body(Call("POST", "/v1/decisions/simulate", "alice", request.dump()));
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(Says(d, "metadata.risk_level is low")) << d.dump();

  request["metadata"] = Record("critical");
  d = Body(Decide("alice", request.dump()));
  EXPECT_NE(d["decision"], "deny") << d.dump();
}

TEST_F(GateServerTest, AReleaseMustFitItsCompatibilityReport) {
  json request = json::parse(Request("alice", "human", "dev", "2.5.4", "2.6.0"));
  request["metadata"]["compatibility_report"] = {{"contract", "contracts/openapi.yaml"},
                                                 {"change_type", "breaking"},
                                                 {"migration_guide", "Call /v3"}};
  json d = Body(Decide("alice", request.dump()));
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(Says(d, "major")) << d.dump();

  request["change"]["version"] = "3.0.0";
  d = Body(Decide("alice", request.dump()));
  EXPECT_NE(d["decision"], "deny") << d.dump();

  request["metadata"]["compatibility_report"]["change_type"] = "sideways";
  d = Body(Decide("alice", request.dump()));
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(Says(d, "metadata.compatibility_report.change_type")) << d.dump();
}

TEST_F(GateServerTest, AModelVersionsArtifactsArePinned) {
  json bare = json::parse(ModelUpdate("2.0.0", kDigestA));
  bare.erase("metadata");
  json d = Body(Decide("alice", bare.dump()));
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(Says(d, "a model_update carries its change record in metadata")) << d.dump();

  HttpAnswer first = Decide("alice", ModelUpdate("2.0.0", kDigestA));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Body(first)["decision"], "require_approval") << first.body;

  d = Body(Decide("alice", ModelUpdate("2.0.0", kDigestB)));
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(Says(d, fmt::format("model recommender version 2.0.0 was pinned on "
                                  "2026-09-21T14:13:20.000Z to {}; this request names {}",
                                  kDigestA, kDigestB)))
      << d.dump();
  // The same artifacts again, and a new version with new ones, go on.
  EXPECT_EQ(Body(Decide("alice", ModelUpdate("2.0.0", kDigestA)))["decision"], "require_approval");
  EXPECT_EQ(Body(Decide("alice", ModelUpdate("2.0.1", kDigestB)))["decision"], "require_approval");

  // The pin is durable.
  Stop();
  Start();
  EXPECT_EQ(Body(Decide("alice", ModelUpdate("2.0.0", kDigestB)))["decision"], "deny");
}

TEST_F(GateServerTest, ARuleCanRequireControlsToPass) {
  RequireForStaging("[audit-trail-verifies, drill-rollback]");
  std::string staging = Request("alice", "human", "staging", "1.0.0", "1.0.1");
  json d = Body(Decide("alice", staging));
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_TRUE(Says(d,
                   "control audit-trail-verifies must pass, and no evaluation of the "
                   "controls is at hand yet"))
      << d.dump();

  // An evaluation (here GET /v1/compliance; the server's tick makes one
  // too) is what the gate reads: the drill was never run.
  ASSERT_EQ(Call("GET", "/v1/compliance", "oscar").status, 200);
  d = Body(Decide("alice", staging));
  EXPECT_EQ(d["decision"], "deny");
  EXPECT_FALSE(Says(d, "audit-trail-verifies")) << d.dump();
  EXPECT_TRUE(Says(d,
                   "control drill-rollback must pass and is fail (evaluated "
                   "2026-09-21T14:13:20.000Z): "))
      << d.dump();
  // What the rule does not cover goes on.
  EXPECT_EQ(Body(Decide("alice", Request("alice", "human", "dev", "1.0.0", "1.0.1")))["decision"],
            "allow");
}

TEST_F(GateServerTest, TheTickEvaluatesRequiredControls) {
  RequireForStaging("[audit-trail-verifies]");
  std::string staging = Request("alice", "human", "staging", "1.0.0", "1.0.1");
  EXPECT_EQ(Body(Decide("alice", staging))["decision"], "deny");
  service_->Tick();
  service_->Drain();
  json d = Body(Decide("alice", staging));
  EXPECT_EQ(d["decision"], "require_approval") << d.dump();
}

}  // namespace
}  // namespace interlock::server
