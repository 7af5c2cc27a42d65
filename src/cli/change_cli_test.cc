// `interlock change check` as a user runs it, against an audit log that the
// test writes the way the gate does: a decision that opened an approval
// request, then the approvals, each committed with its state row.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../../tests/test_util.h"
#include "app/approvals.h"
#include "app/decision_event.h"
#include "audit/event.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "decision/engine.h"
#include "decision/request.h"
#include "governance/loader.h"
#include "workflow/approval.h"

namespace interlock::cli {
namespace {

using interlock::testing::TempDir;
using json = nlohmann::ordered_json;

constexpr UnixMillis kT0 = 1736330400000;  // 2025-01-08T10:00:00Z
constexpr UnixMillis kMinute = 60'000;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

class ChangeCliTest : public ::testing::Test {
 protected:
  ChangeCliTest() {
    env_["INTERLOCK_MASTER_KEY"] = testing::kTestMasterKey;
    env_["INTERLOCK_DATA"] = dir_.path() + "/no-data-here";
    env_["INTERLOCK_GOVERNANCE"] = governance_;
    EXPECT_EQ(Interlock({"init", governance_}).code, kExitOk);
  }

  Outcome Interlock(std::vector<std::string> args) {
    args.insert(args.begin(), "interlock");
    std::istringstream in;
    std::ostringstream out, err;
    int code = cli::Run(args, in, out, err, [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    });
    return {code, out.str(), err.str()};
  }

  Outcome Check(const json& record, std::vector<std::string> extra = {}) {
    dir_.Write("change_metadata.json", record.dump(2));
    std::vector<std::string> args = {"change", "check", dir_.path() + "/change_metadata.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Interlock(args);
  }

  // What the gate records for alice's production patch of api-gateway: the
  // decision (index 0) with the approval request it opened (index 1), then
  // bob's approval at 10:10 (index 2) and carol's at 10:20 (index 3), which
  // grants it. Returns the risk the gate computed.
  RiskLevel WriteLog() {
    auto g = governance::Load(fs_, governance_);
    EXPECT_TRUE(g.has_value());
    json request = {
        {"actor", {{"type", "human"}, {"id", "alice"}}},
        {"change",
         {{"type", "code"},
          {"environment", "production"},
          {"service", "api-gateway"},
          {"version", "2.5.4"},
          {"previous_version", "2.5.3"}}},
        {"checks",
         {{"tests_passed", true}, {"security_scan", {{"passed", true}, {"max_severity", "none"}}}}},
        {"metadata", {{"change_id", "CHANGE-7"}}}};
    auto parsed = decision::ParseRequest(request.dump());
    EXPECT_TRUE(parsed.has_value());
    decision::Decision d;
    decision::Decide(*g, *parsed, {}, &d);
    EXPECT_EQ(d.kind, DecisionKind::kRequireApproval);

    RealFileSystem fs;
    ManualClock clock(kT0);
    SeededRandom random(3);
    auto log = testing::OpenTestLog(data_, fs, clock, random);
    auto opened = workflow::Open(*g, *parsed, d, "apr_change7", kT0);
    EXPECT_TRUE(opened.has_value());
    auto decided = app::DecisionEvent(*g, *parsed, d, "production needs two approvals",
                                      std::string_view("apr_change7"), kT0);
    auto open_event = audit::MakeEvent(opened->audit_event, kT0);
    EXPECT_TRUE(decided.has_value() && open_event.has_value());
    auto first = log->Commit({std::move(*decided), std::move(*open_event)},
                             {app::Approvals::Row(opened->request)});
    EXPECT_TRUE(first.has_value());
    workflow::ApprovalRequest current = opened->request;
    UnixMillis at = kT0;
    for (std::string_view who : {"bob", "carol"}) {
      at += 10 * kMinute;
      clock.Set(at);
      auto t = workflow::Act(*g, current, *g->FindPrincipal(who), workflow::Action::kApprove,
                             "looks right", std::nullopt, at, false);
      EXPECT_TRUE(t.has_value()) << t.error().message();
      auto event = audit::MakeEvent(t->audit_event, at);
      EXPECT_TRUE(event.has_value());
      EXPECT_TRUE(log->Commit(std::move(*event), {app::Approvals::Row(t->request)}).has_value());
      current = t->request;
    }
    EXPECT_EQ(current.state, workflow::ApprovalState::kApproved);
    return d.risk;
  }

  // alice's record, owned by dave, claiming bob's and carol's approvals.
  static json Record(RiskLevel risk) {
    return {{"change_id", "CHANGE-7"},
            {"author", "alice"},
            {"owner", "dave"},
            {"timestamp", "2025-01-08T09:30:00Z"},
            {"rationale", "Fix the retry storm"},
            {"impact", "api-gateway only"},
            {"tests_run", {"retry_test.cc"}},
            {"artifacts", {"api-gateway:2.5.4"}},
            {"approvals",
             {{{"approver", "bob"}, {"timestamp", "2025-01-08T10:10:00Z"}, {"rationale", "ok"}},
              {{"approver", "carol"}, {"timestamp", "2025-01-08T10:20:00Z"}, {"rationale", "ok"}}}},
            {"rollback_plan", "redeploy 2.5.3"},
            {"risk_level", Name(risk)}};
  }

  std::vector<std::string> ReadLog(std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--data", data_, "--as", "ivan"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  TempDir dir_;
  RealFileSystem fs_;
  std::string governance_ = dir_.path() + "/governance";
  std::string data_ = dir_.path() + "/data";
  std::map<std::string, std::string> env_;
};

TEST_F(ChangeCliTest, WithoutALogTheLogsChecksAreNotChecked) {
  Outcome o = Check(Record(RiskLevel::kHigh));
  EXPECT_EQ(o.code, kExitOk) << o.err;
  std::string why = "no audit log to read at " + dir_.path() + "/no-data-here (--data DIR)";
  EXPECT_EQ(o.out,
            "change CHANGE-7: the record is valid\n"
            "  passed       approver_independent (the record's approvals only: " +
                why +
                ")\n"
                "  not_checked  approvals_before_deploy (" +
                why +
                ")\n"
                "  not_checked  approvals_in_log (" +
                why +
                ")\n"
                "  not_checked  risk_not_understated (" +
                why +
                ")\n"
                "  not_checked  tests_run_for_production (" +
                why +
                ")\n"
                "no problem found; 4 check(s) not checked\n");

  // The author approving is found without the log.
  json j = Record(RiskLevel::kHigh);
  j["approvals"][0]["approver"] = "alice";
  o = Check(j, {"--format", "json"});
  EXPECT_EQ(o.code, kExitFailure);
  json report = json::parse(o.out);
  EXPECT_EQ(report["consistent"], false);
  ASSERT_EQ(report["findings"].size(), 1u);
  EXPECT_EQ(report["findings"][0]["check"], "approver_independent");
  EXPECT_EQ(report["findings"][0]["path"], "change_metadata.approvals[0].approver");
  EXPECT_EQ(report["findings"][0]["audit_index"], nullptr);
  EXPECT_EQ(report["findings"][0]["message"],
            "alice is the change's author (alice) and cannot approve it");
}

TEST_F(ChangeCliTest, AnInvalidRecordExitsTwoWithTheError) {
  json j = Record(RiskLevel::kHigh);
  j["approvals"][1]["timestamp"] = "yesterday";
  Outcome o = Check(j);
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "error: change_metadata.approvals[1].timestamp: expected an RFC 3339 date-time, found "
            "\"yesterday\"\n");

  j = Record(RiskLevel::kHigh);
  j["ticket"] = "OPS-1";
  o = Check(j, {"--format", "json"});
  EXPECT_EQ(o.code, kExitInvalid);
  json report = json::parse(o.out);
  EXPECT_EQ(report["valid"], false);
  EXPECT_EQ(report["errors"][0],
            "change_metadata: unknown field \"ticket\" (expected one of: change_id, author, owner, "
            "timestamp, rationale, impact, tests_run, artifacts, approvals, rollback_plan, "
            "risk_level, type, compatibility_report, provenance)");

  dir_.Write("dup.json", R"({"change_id": "A", "change_id": "B"})");
  o = Interlock({"change", "check", dir_.path() + "/dup.json"});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.err, "error: change_metadata: duplicate key \"change_id\" at line 1, column 20\n");
}

TEST_F(ChangeCliTest, ARecordThatMatchesTheAuditLog) {
  RiskLevel risk = WriteLog();
  Outcome o = Check(Record(risk), ReadLog({"--approval", "apr_change7"}));
  EXPECT_EQ(o.code, kExitOk) << o.out << o.err;
  EXPECT_EQ(o.out,
            "change CHANGE-7: the record is valid\n"
            "  passed       approver_independent\n"
            "  passed       approvals_before_deploy\n"
            "  passed       approvals_in_log\n"
            "  passed       risk_not_understated\n"
            "  passed       tests_run_for_production\n"
            "consistent\n");

  // Naming the decision instead ties the same approval request.
  o = Check(Record(risk), ReadLog({"--decision", "0", "--format", "json"}));
  EXPECT_EQ(o.code, kExitOk) << o.out << o.err;
  json report = json::parse(o.out);
  EXPECT_EQ(report["consistent"], true);
  for (const json& c : report["checks"]) EXPECT_EQ(c["status"], "passed") << c.dump();

  // Tied to nothing: only the approvals are matched, against the whole log.
  o = Check(Record(risk), ReadLog());
  EXPECT_EQ(o.code, kExitOk) << o.out << o.err;
  EXPECT_NE(o.out.find("  passed       approvals_in_log (matched against every approval in the "
                       "audit log: the audit log does not record change ids: name the change's "
                       "decisions with --decision INDEX or its approval requests with --approval "
                       "ID)\n"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("  not_checked  risk_not_understated (the audit log does not record"),
            std::string::npos)
      << o.out;
}

TEST_F(ChangeCliTest, ARecordThatContradictsTheAuditLog) {
  RiskLevel risk = WriteLog();
  ASSERT_GT(risk, RiskLevel::kLow);
  json j = Record(RiskLevel::kLow);
  j["approvals"][0]["approver"] = "erin";                   // not in the log
  j["approvals"][1]["timestamp"] = "2025-01-08T10:25:00Z";  // after carol's grant
  j["tests_run"] = json::array();
  Outcome o = Check(j, ReadLog({"--approval", "apr_change7", "--format", "json"}));
  EXPECT_EQ(o.code, kExitFailure) << o.err;
  json report = json::parse(o.out);
  json expected = json::array();
  expected.push_back({{"check", "approvals_before_deploy"},
                      {"path", "change_metadata.approvals[1].timestamp"},
                      {"audit_index", 3},
                      {"message",
                       "2025-01-08T10:25:00.000Z is after carol's approval at "
                       "2025-01-08T10:20:00.000Z, which granted apr_change7 (audit index 3) let "
                       "the change proceed"}});
  expected.push_back({{"check", "approvals_in_log"},
                      {"path", "change_metadata.approvals[0]"},
                      {"audit_index", nullptr},
                      {"message",
                       "the audit log holds no approval by erin at 2025-01-08T10:10:00.000Z for "
                       "this change"}});
  expected.push_back({{"check", "approvals_in_log"},
                      {"path", "change_metadata.approvals[1]"},
                      {"audit_index", 3},
                      {"message",
                       "the audit log holds no approval by carol at 2025-01-08T10:25:00.000Z for "
                       "this change (the nearest by them is at 2025-01-08T10:20:00.000Z, audit "
                       "index 3)"}});
  expected.push_back({{"check", "risk_not_understated"},
                      {"path", "change_metadata.risk_level"},
                      {"audit_index", 0},
                      {"message", "\"low\" is below the risk the gate computed, \"" +
                                      std::string(Name(risk)) + "\" (decision at audit index 0)"}});
  expected.push_back({{"check", "tests_run_for_production"},
                      {"path", "change_metadata.tests_run"},
                      {"audit_index", 0},
                      {"message",
                       "empty, but the change was decided for production (decision at audit "
                       "index 0)"}});
  EXPECT_EQ(report["findings"], expected) << report.dump(2);
}

TEST_F(ChangeCliTest, ReadingTheLogNeedsAReaderAndRealEntries) {
  WriteLog();
  Outcome o = Check(Record(RiskLevel::kHigh), {"--data", data_});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.err, "error: --as PRINCIPAL is required to read the audit log at " + data_ +
                       ": reads of the audit log are logged\n");

  o = Check(Record(RiskLevel::kHigh), {"--data", data_, "--as", "alice"});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_NE(o.err.find("alice may not read the whole audit log"), std::string::npos) << o.err;

  o = Check(Record(RiskLevel::kHigh), ReadLog({"--decision", "1"}));
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.err,
            "error: --decision 1: audit entry 1: expected an event of type \"decision\", found "
            "\"approval_open\"\n");

  o = Check(Record(RiskLevel::kHigh), ReadLog({"--decision", "99"}));
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.err, "error: --decision 99: the audit log has no entry 99\n");

  o = Check(Record(RiskLevel::kHigh), ReadLog({"--approval", "apr_nope"}));
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.err,
            "error: --approval apr_nope: the audit log holds no approval request of that id\n");

  o = Check(Record(RiskLevel::kHigh), {"--data", dir_.path() + "/empty", "--as", "ivan"});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.err, "error: --data " + dir_.path() + "/empty: no audit log there (" + dir_.path() +
                       "/empty/audit.db)\n");
}

}  // namespace
}  // namespace interlock::cli
