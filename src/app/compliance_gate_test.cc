// The compliance gate, table-driven: a request's metadata in, the findings
// that deny it out.
#include "app/compliance_gate.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../../tests/test_util.h"

namespace interlock::app {
namespace {

using nlohmann::json;

const governance::Governance& G() { return interlock::testing::DefaultGovernance(); }

constexpr std::string_view kDigest =
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

json Record() {
  return {{"change_id", "CHANGE-7"},
          {"author", "alice"},
          {"owner", "bob"},
          {"timestamp", "2026-12-01T10:00:00Z"},
          {"rationale", "Tenants exhaust shared capacity"},
          {"impact", "Per-tenant limits"},
          {"tests_run", {"unit", "integration"}},
          {"artifacts", {"api-gateway@" + std::string(kDigest)}},
          {"approvals", json::array()},
          {"rollback_plan", "Re-deploy 2.5.4"},
          {"risk_level", "high"}};
}

json Provenance() {
  return {{"model_id", "recommender"},
          {"training_dataset", "clicks-2026-11"},
          {"training_config", "configs/rec.yaml"},
          {"training_timestamp", "2026-11-30T08:00:00Z"},
          {"metrics", {{"auc", 0.91}}}};
}

json Request(std::string_view type, std::string_view environment, json metadata,
             std::string_view from = "2.5.4", std::string_view to = "2.6.0") {
  json r = {{"actor", {{"type", "human"}, {"id", "alice"}, {"roles", {"engineer"}}}},
            {"change",
             {{"type", type},
              {"environment", environment},
              {"service", "api-gateway"},
              {"version", to},
              {"previous_version", from}}}};
  if (!metadata.is_null()) r["metadata"] = std::move(metadata);
  return r;
}

std::vector<std::string> Findings(const json& request, RiskLevel computed = RiskLevel::kMedium) {
  auto parsed = decision::ParseRequest(request.dump());
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message();
  if (!parsed) return {"unparsed"};
  return GateFindings(G(), *parsed, computed);
}

struct Case {
  std::string name;
  json request;
  RiskLevel computed = RiskLevel::kMedium;
  std::vector<std::string> expect;  // substrings, one per finding, in order
};

json With(json base, const std::string& key, json value) {
  if (value.is_null()) {
    base.erase(key);
  } else {
    base[key] = std::move(value);
  }
  return base;
}

std::vector<Case> Cases() {
  json report = {{"contract", "contracts/openapi.yaml"},
                 {"change_type", "breaking"},
                 {"consumers", json::array()},
                 {"migration_guide", "Call /v2"}};
  json additive = With(report, "change_type", "additive");
  additive.erase("migration_guide");
  json model = With(Record(), "provenance", Provenance());
  return {
      {"no metadata", Request("code", "production", nullptr), RiskLevel::kMedium, {}},
      {"pipeline context, not a record",
       Request("code", "production", {{"commit", "abc"}, {"triggered_by", "alice"}}),
       RiskLevel::kMedium,
       {}},
      {"a valid record", Request("code", "production", Record()), RiskLevel::kHigh, {}},
      {"a record with what the rules read",
       Request("code", "production", With(Record(), "cost_increase", 0.05)),
       RiskLevel::kHigh,
       {}},
      {"a record missing a member",
       Request("code", "production", With(Record(), "rollback_plan", nullptr)),
       RiskLevel::kHigh,
       {"the change record is invalid: metadata.rollback_plan: required"}},
      {"a record with an unknown member",
       Request("code", "production", With(Record(), "colour", "red")),
       RiskLevel::kHigh,
       {"metadata: unknown field \"colour\""}},
      {"a bad timestamp",
       Request("code", "production", With(Record(), "timestamp", "yesterday")),
       RiskLevel::kHigh,
       {"metadata.timestamp: expected an RFC 3339 date-time"}},
      {"risk below the computed",
       Request("code", "production", With(Record(), "risk_level", "low")),
       RiskLevel::kHigh,
       {"metadata.risk_level is low, lower than the risk the decision computed (high)"}},
      {"no tests in production",
       Request("code", "production", With(Record(), "tests_run", json::array())),
       RiskLevel::kHigh,
       {"metadata.tests_run is empty"}},
      {"no tests in staging is fine",
       Request("code", "staging", With(Record(), "tests_run", json::array())),
       RiskLevel::kHigh,
       {}},
      {"a breaking report with a major bump",
       Request("code", "staging", {{"compatibility_report", report}}, "2.5.4", "3.0.0"),
       RiskLevel::kHigh,
       {}},
      {"a breaking report with a minor bump",
       Request("code", "staging", {{"compatibility_report", report}}, "2.5.4", "2.6.0"),
       RiskLevel::kHigh,
       {"major"}},
      {"an additive report with a minor bump",
       Request("code", "staging", {{"compatibility_report", additive}}, "2.5.4", "2.6.0"),
       RiskLevel::kHigh,
       {}},
      {"an additive report with a patch bump",
       Request("code", "staging", {{"compatibility_report", additive}}, "2.5.4", "2.5.5"),
       RiskLevel::kHigh,
       {"minor"}},
      {"an invalid report",
       Request("code", "staging", {{"compatibility_report", With(report, "change_type", "huge")}}),
       RiskLevel::kHigh,
       {"the compatibility report is invalid: metadata.compatibility_report.change_type"}},
      {"a report inside a record",
       Request("code", "production", With(Record(), "compatibility_report", report), "2.5.4",
               "2.5.5"),
       RiskLevel::kHigh,
       {"major"}},
      {"a model update with provenance and digests",
       Request("model_update", "staging", model),
       RiskLevel::kHigh,
       {}},
      {"a model update without metadata",
       Request("model_update", "staging", nullptr),
       RiskLevel::kHigh,
       {"a model_update carries its change record in metadata"}},
      {"a model update without provenance",
       Request("model_update", "staging", Record()),
       RiskLevel::kHigh,
       {"metadata.provenance: required for a model_update"}},
      {"a model update with an undigested artifact",
       Request("model_update", "staging",
               With(model, "artifacts", {std::string(kDigest), "model.bin"})),
       RiskLevel::kHigh,
       {"metadata.artifacts[1]: expected \"sha256:<64 lowercase hex>\""}},
      {"a model update without artifacts",
       Request("model_update", "staging", With(model, "artifacts", json::array())),
       RiskLevel::kHigh,
       {"metadata.artifacts: a model_update names its artifacts by sha256 digest; found none"}},
      {"a model update with a bad metric",
       Request("model_update", "staging",
               With(model, "provenance", With(Provenance(), "metrics", {{"auc", "high"}}))),
       RiskLevel::kHigh,
       {"metadata.provenance.metrics.auc: expected a number"}},
  };
}

TEST(ComplianceGateTest, FindsWhatEachRequestGetsWrong) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> got = Findings(c.request, c.computed);
    ASSERT_EQ(got.size(), c.expect.size()) << fmt::format("{}", fmt::join(got, "\n"));
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NE(got[i].find(c.expect[i]), std::string::npos) << got[i];
    }
  }
}

TEST(ComplianceGateTest, FindingsDenyWithTheirWords) {
  auto parsed = decision::ParseRequest(
      Request("code", "production", With(Record(), "risk_level", "low")).dump());
  ASSERT_TRUE(parsed.has_value());
  decision::Decision d;
  decision::Decide(G(), *parsed, {}, &d);
  std::vector<std::string> findings = GateFindings(G(), *parsed, d.risk);
  ASSERT_EQ(findings.size(), 1u);
  decision::SafetyState safety;
  safety.findings = findings;
  decision::Decide(G(), *parsed, safety, &d);
  EXPECT_EQ(d.kind, DecisionKind::kDeny);
}

TEST(ComplianceGateTest, ModelArtifactsAreSortedUniqueDigests) {
  constexpr std::string_view kOther =
      "sha256:0000000000000000000000000000000000000000000000000000000000000001";
  json model = With(Record(), "provenance", Provenance());
  model["artifacts"] = {std::string(kDigest), "weights@" + std::string(kOther),
                        "copy@" + std::string(kDigest)};
  auto parsed = decision::ParseRequest(Request("model_update", "staging", model).dump());
  ASSERT_TRUE(parsed.has_value());
  std::optional<ModelArtifacts> a = ModelArtifactsOf(G(), *parsed);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->model_id, "recommender");
  EXPECT_EQ(a->version, "2.6.0");
  EXPECT_EQ(a->digests, (std::vector<std::string>{std::string(kOther), std::string(kDigest)}));
  audit::StateChange row = ModelArtifactRow(*a, "api-gateway", 1000);
  EXPECT_EQ(row.kind, kModelArtifactKind);
  EXPECT_EQ(row.id, "recommender@2.6.0");

  auto code = decision::ParseRequest(Request("code", "staging", model).dump());
  ASSERT_TRUE(code.has_value());
  EXPECT_FALSE(ModelArtifactsOf(G(), *code).has_value());
}

TEST(ComplianceGateTest, ManyFindingsAreCapped) {
  json record = Record();
  record["provenance"] = Provenance();
  std::vector<std::string> artifacts(20, "model.bin");
  record["artifacts"] = artifacts;
  std::vector<std::string> got = Findings(Request("model_update", "staging", record));
  ASSERT_EQ(got.size(), kMaxFindings);
  EXPECT_EQ(got.back(), "and 13 more findings");
}

}  // namespace
}  // namespace interlock::app
