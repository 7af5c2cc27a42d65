// The cross-checks of a change record against what Interlock recorded: each
// check passing, failing with the member and audit index it relies on, and
// not checked when the facts it needs are missing.
#include "compliance/change_check.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace interlock::compliance {
namespace {

using json = nlohmann::ordered_json;

constexpr UnixMillis kT0 = 1736330400000;  // 2025-01-08T10:00:00Z
constexpr UnixMillis kHour = 3'600'000;

const std::vector<Person> kPeople = {
    {"alice", "alice@example.com"}, {"bob", "Bob@Example.com"}, {"carol", ""}, {"dave", ""}};

// alice's change, owned by dave, approved by bob at 11:00.
json Record() {
  return {{"change_id", "CHANGE-7"},
          {"author", "alice"},
          {"owner", "dave"},
          {"timestamp", "2025-01-08T10:00:00Z"},
          {"rationale", "Fix the retry storm"},
          {"impact", "api-gateway"},
          {"tests_run", {"retry_test"}},
          {"artifacts", json::array()},
          {"approvals",
           {{{"approver", "bob"}, {"timestamp", "2025-01-08T11:00:00Z"}, {"rationale", "ok"}}}},
          {"rollback_plan", "redeploy 2.5.3"},
          {"risk_level", "high"}};
}

ChangeRecord Parse(const json& j) {
  auto r = ParseChangeRecord(j.dump());
  EXPECT_TRUE(r.has_value()) << r.error().message();
  return r ? std::move(*r) : ChangeRecord{};
}

// A production decision that required approval apr_1 at 10:30, high risk,
// at index 4; bob approved it at 11:00:00.250, granting it, at index 6.
ChangeFacts Facts() {
  ChangeFacts f;
  f.log_read = true;
  f.tied = true;
  f.decisions.push_back({4, kT0 + kHour / 2, Environment::kProduction, RiskLevel::kHigh,
                         DecisionKind::kRequireApproval, "apr_1"});
  f.approvals.push_back({6, "apr_1", "bob", "Bob@Example.com", kT0 + kHour + 250, true});
  return f;
}

const CheckResult& Status(const ChangeReport& report, ChangeCheck check) {
  for (const CheckResult& c : report.checks) {
    if (c.check == check) return c;
  }
  static const CheckResult kMissing{};
  ADD_FAILURE() << "no result for " << Name(check);
  return kMissing;
}

std::string Describe(const ChangeReport& report) {
  std::string out;
  for (const Finding& f : report.findings) {
    out += std::string(Name(f.check)) + " " + f.path + " @" +
           (f.audit_index ? std::to_string(*f.audit_index) : "-") + ": " + f.message + "\n";
  }
  return out;
}

TEST(ChangeCheckTest, AConsistentRecordPassesEveryCheck) {
  ChangeReport report = CrossCheck(Parse(Record()), Facts(), kPeople);
  EXPECT_FALSE(report.Failed()) << Describe(report);
  ASSERT_EQ(report.checks.size(), kChangeCheckNames.size());
  for (size_t i = 0; i < report.checks.size(); ++i) {
    EXPECT_EQ(report.checks[i].check, static_cast<ChangeCheck>(i));
    EXPECT_EQ(report.checks[i].status, CheckStatus::kPassed) << Name(report.checks[i].check);
  }
}

TEST(ChangeCheckTest, WithoutTheLogOnlyTheRecordsOwnCheckRuns) {
  ChangeFacts none;
  none.why_not_read = "no audit log at .interlock";
  ChangeReport report = CrossCheck(Parse(Record()), none, kPeople);
  EXPECT_FALSE(report.Failed());
  EXPECT_EQ(Status(report, ChangeCheck::kApproverIndependent).status, CheckStatus::kPassed);
  EXPECT_EQ(Status(report, ChangeCheck::kApproverIndependent).note,
            "the record's approvals only: no audit log at .interlock");
  for (ChangeCheck c : {ChangeCheck::kApprovalsBeforeDeploy, ChangeCheck::kApprovalsInLog,
                        ChangeCheck::kRiskNotUnderstated, ChangeCheck::kTestsRunForProduction}) {
    EXPECT_EQ(Status(report, c).status, CheckStatus::kNotChecked) << Name(c);
    EXPECT_EQ(Status(report, c).note, "no audit log at .interlock");
  }
}

TEST(ChangeCheckTest, TheAuthorMayNotApproveUnderAnyOfTheirNames) {
  json j = Record();
  j["approvals"].push_back({{"approver", "ALICE@example.com"},
                            {"timestamp", "2025-01-08T10:40:00Z"},
                            {"rationale", "x"}});
  j["approvals"].push_back(
      {{"approver", "dave"}, {"timestamp", "2025-01-08T10:50:00Z"}, {"rationale", "owner"}});
  ChangeFacts f = Facts();
  f.approvals.push_back({5, "apr_1", "alice", "alice@example.com", kT0 + kHour / 2, false});
  ChangeReport report = CrossCheck(Parse(j), f, kPeople);
  EXPECT_EQ(Status(report, ChangeCheck::kApproverIndependent).status, CheckStatus::kFailed);
  std::vector<Finding> mine;
  for (const Finding& x : report.findings) {
    if (x.check == ChangeCheck::kApproverIndependent) mine.push_back(x);
  }
  ASSERT_EQ(mine.size(), 2u) << Describe(report);
  EXPECT_EQ(mine[0].path, "change_metadata.approvals[1].approver");
  EXPECT_EQ(mine[0].audit_index, std::nullopt);
  EXPECT_EQ(mine[0].message,
            "ALICE@example.com is the change's author (alice) and cannot approve it");
  EXPECT_EQ(mine[1].path, "change_metadata.author");
  EXPECT_EQ(mine[1].audit_index, 5u);
  EXPECT_EQ(mine[1].message,
            "alice approved apr_1 in the audit log but is the change's author (alice)");
}

TEST(ChangeCheckTest, ApprovalsMustComeBeforeWhatLetTheChangeProceed) {
  // The granting approval at 11:00:00.250: an approval claimed in the same
  // second is not after it; one a second later is.
  json j = Record();
  j["approvals"].push_back(
      {{"approver", "carol"}, {"timestamp", "2025-01-08T11:00:01Z"}, {"rationale", "late"}});
  ChangeReport report = CrossCheck(Parse(j), Facts(), kPeople);
  EXPECT_EQ(Status(report, ChangeCheck::kApprovalsBeforeDeploy).status, CheckStatus::kFailed);
  ASSERT_FALSE(report.findings.empty());
  const Finding& f = report.findings.front();
  EXPECT_EQ(f.check, ChangeCheck::kApprovalsBeforeDeploy);
  EXPECT_EQ(f.path, "change_metadata.approvals[1].timestamp");
  EXPECT_EQ(f.audit_index, 6u);
  EXPECT_EQ(f.message,
            "2025-01-08T11:00:01.000Z is after bob's approval at 2025-01-08T11:00:00.250Z, which "
            "granted apr_1 (audit index 6) let the change proceed");

  // An allow decision earlier than the grant is what let it proceed.
  ChangeFacts allowed = Facts();
  allowed.decisions.push_back(
      {9, kT0 + 20 * 60'000, Environment::kStaging, RiskLevel::kLow, DecisionKind::kAllow, {}});
  report = CrossCheck(Parse(Record()), allowed, kPeople);
  ASSERT_EQ(report.findings.size(), 1u) << Describe(report);
  EXPECT_EQ(report.findings[0].audit_index, 9u);
  EXPECT_EQ(report.findings[0].message,
            "2025-01-08T11:00:00.000Z is after the allow decision at 2025-01-08T10:20:00.000Z "
            "(audit index 9) let the change proceed");

  // Nothing let it proceed: not checked.
  ChangeFacts pending = Facts();
  pending.approvals[0].granted = false;
  report = CrossCheck(Parse(Record()), pending, kPeople);
  EXPECT_EQ(Status(report, ChangeCheck::kApprovalsBeforeDeploy).status, CheckStatus::kNotChecked);
  EXPECT_EQ(Status(report, ChangeCheck::kApprovalsBeforeDeploy).note,
            "no decision or approval recorded for this change let it proceed");
}

TEST(ChangeCheckTest, AClaimedApprovalMustBeInTheLogByPersonAndSecond) {
  json j = Record();
  // bob by e-mail, any case, in the same second: held.
  j["approvals"][0]["approver"] = "bob@example.COM";
  j["approvals"][0]["timestamp"] = "2025-01-08T11:00:00.999Z";
  EXPECT_FALSE(CrossCheck(Parse(j), Facts(), kPeople).Failed());

  // The next second: not held; the nearest approval by bob is named.
  j["approvals"][0]["timestamp"] = "2025-01-08T11:00:01Z";
  ChangeFacts pending = Facts();
  pending.approvals[0].granted = false;  // so that only this check speaks
  ChangeReport report = CrossCheck(Parse(j), pending, kPeople);
  ASSERT_EQ(report.findings.size(), 1u) << Describe(report);
  EXPECT_EQ(report.findings[0].check, ChangeCheck::kApprovalsInLog);
  EXPECT_EQ(report.findings[0].path, "change_metadata.approvals[0]");
  EXPECT_EQ(report.findings[0].audit_index, 6u);
  EXPECT_EQ(report.findings[0].message,
            "the audit log holds no approval by bob@example.COM at 2025-01-08T11:00:01.000Z for "
            "this change (the nearest by them is at 2025-01-08T11:00:00.250Z, audit index 6)");

  // Someone the log never saw approve.
  j["approvals"][0]["approver"] = "mallory";
  report = CrossCheck(Parse(j), pending, kPeople);
  ASSERT_EQ(report.findings.size(), 1u) << Describe(report);
  EXPECT_EQ(report.findings[0].audit_index, std::nullopt);
  EXPECT_EQ(report.findings[0].message,
            "the audit log holds no approval by mallory at 2025-01-08T11:00:01.000Z for this "
            "change");
}

TEST(ChangeCheckTest, WhenNothingTiesADecisionToTheChange) {
  ChangeFacts f = Facts();
  f.tied = false;
  f.why_not_tied = "no decision was named";
  f.decisions.clear();
  ChangeReport report = CrossCheck(Parse(Record()), f, kPeople);
  EXPECT_FALSE(report.Failed()) << Describe(report);
  EXPECT_EQ(Status(report, ChangeCheck::kApprovalsInLog).status, CheckStatus::kPassed);
  EXPECT_EQ(Status(report, ChangeCheck::kApprovalsInLog).note,
            "matched against every approval in the audit log: no decision was named");
  for (ChangeCheck c : {ChangeCheck::kApprovalsBeforeDeploy, ChangeCheck::kRiskNotUnderstated,
                        ChangeCheck::kTestsRunForProduction}) {
    EXPECT_EQ(Status(report, c).status, CheckStatus::kNotChecked) << Name(c);
    EXPECT_EQ(Status(report, c).note, "no decision was named");
  }
}

TEST(ChangeCheckTest, TheRiskLevelIsNotBelowTheGates) {
  json j = Record();
  j["risk_level"] = "medium";
  ChangeFacts f = Facts();
  f.decisions.push_back(
      {8, kT0 + kHour, Environment::kProduction, RiskLevel::kCritical, DecisionKind::kDeny, {}});
  ChangeReport report = CrossCheck(Parse(j), f, kPeople);
  ASSERT_EQ(report.findings.size(), 1u) << Describe(report);
  EXPECT_EQ(report.findings[0].path, "change_metadata.risk_level");
  EXPECT_EQ(report.findings[0].audit_index, 8u);
  EXPECT_EQ(report.findings[0].message,
            "\"medium\" is below the risk the gate computed, \"critical\" (decision at audit "
            "index 8)");
  j["risk_level"] = "critical";
  EXPECT_FALSE(CrossCheck(Parse(j), f, kPeople).Failed());
}

TEST(ChangeCheckTest, AProductionChangeNamesItsTests) {
  json j = Record();
  j["tests_run"] = json::array();
  ChangeReport report = CrossCheck(Parse(j), Facts(), kPeople);
  ASSERT_EQ(report.findings.size(), 1u) << Describe(report);
  EXPECT_EQ(report.findings[0].path, "change_metadata.tests_run");
  EXPECT_EQ(report.findings[0].audit_index, 4u);
  EXPECT_EQ(report.findings[0].message,
            "empty, but the change was decided for production (decision at audit index 4)");

  ChangeFacts staging = Facts();
  staging.decisions[0].environment = Environment::kStaging;
  report = CrossCheck(Parse(j), staging, kPeople);
  EXPECT_FALSE(report.Failed()) << Describe(report);
  EXPECT_EQ(Status(report, ChangeCheck::kTestsRunForProduction).note,
            "no decision for this change is for production");

  ChangeFacts undecided = Facts();
  undecided.decisions.clear();
  report = CrossCheck(Parse(j), undecided, kPeople);
  EXPECT_EQ(Status(report, ChangeCheck::kTestsRunForProduction).status, CheckStatus::kNotChecked);
  EXPECT_EQ(Status(report, ChangeCheck::kTestsRunForProduction).note,
            "no decision is recorded for this change");
}

TEST(ChangeCheckTest, FactsFromTheEventsInterlockWrites) {
  // A decision event as app/decision_event.cc writes it, canonical.
  const std::string decision =
      R"({"action":{"service":"api","type":"code","version":"2.5.4"},"actor":{"id":"alice",)"
      R"("type":"human"},"ai_agent":{"involved":false},"approval":{"id":"apr_1","required":true},)"
      R"("decision":{"outcome":"require_approval","risk_level":"high"},"environment":"production",)"
      R"("event_type":"decision","governance_version":"g1","reason":"r",)"
      R"("timestamp":"2025-01-08T10:30:00.000Z"})";
  auto d = DecisionFromEvent(4, decision);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->audit_index, 4u);
  EXPECT_EQ(d->at, kT0 + kHour / 2);
  EXPECT_EQ(d->environment, Environment::kProduction);
  EXPECT_EQ(d->risk, RiskLevel::kHigh);
  EXPECT_EQ(d->kind, DecisionKind::kRequireApproval);
  EXPECT_EQ(d->approval_id, "apr_1");
  EXPECT_EQ(ApprovalIdOfEvent(decision), "apr_1");

  // An approval as workflow/approval.cc writes it.
  const std::string approve =
      R"({"actor":{"id":"bob","type":"human"},"approval":{"approvers":["bob"],"counted":true,)"
      R"("id":"apr_1","state":"approved"},"environment":"production",)"
      R"("event_type":"approval_approve","timestamp":"2025-01-08T11:00:00.250Z"})";
  auto a = ApprovalFromEvent(6, approve, kPeople);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->audit_index, 6u);
  EXPECT_EQ(a->approval_id, "apr_1");
  EXPECT_EQ(a->approver, "bob");
  EXPECT_EQ(a->email, "Bob@Example.com");
  EXPECT_EQ(a->at, kT0 + kHour + 250);
  EXPECT_TRUE(a->granted);

  EXPECT_EQ(DecisionFromEvent(3, approve).error().message(),
            "audit entry 3: expected an event of type \"decision\", found \"approval_approve\"");
  EXPECT_EQ(
      ApprovalFromEvent(2, R"({"timestamp":"2025-01-08T11:00:00Z"})", kPeople).error().message(),
      "audit entry 2: expected an event of type \"approval_approve\", found an event without a "
      "type");
  EXPECT_EQ(DecisionFromEvent(5, R"({"event_type":"decision","timestamp":"x"})").error().message(),
            "audit entry 5: an event of type \"decision\" without a valid timestamp");
  EXPECT_EQ(DecisionFromEvent(5, R"({"event_type":"decision","timestamp":"2025-01-08T11:00:00Z",)"
                                 R"("environment":"production"})")
                .error()
                .message(),
            "audit entry 5: an event of type \"decision\" without a valid decision.outcome");
  EXPECT_EQ(DecisionFromEvent(1, "[]").error().message(),
            "audit entry 1: event: expected a JSON object, found an array");
}

}  // namespace
}  // namespace interlock::compliance
