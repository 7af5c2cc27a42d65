#include "compliance/evaluate.h"

#include <gtest/gtest.h>

#include "compliance/policy.h"
#include "compliance/render.h"
#include "core/memory_fs.h"
#include "governance/defaults.h"
#include "governance/loader.h"

namespace interlock::compliance {
namespace {

constexpr UnixMillis kDay = 86'400'000;
constexpr UnixMillis kNow = 1'796'083'200'000;  // 2026-12-01T00:00:00Z

// The default governance, with `edit` applied to compliance/controls.yml.
governance::Governance Defaults(const std::string& from = "", const std::string& to = "") {
  MemoryFileSystem fs;
  EXPECT_TRUE(governance::Scaffold(fs, "g", false));
  if (!from.empty()) {
    std::string text = *fs.ReadFile("g/compliance/controls.yml", 1 << 20);
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    EXPECT_TRUE(fs.WriteFile("g/compliance/controls.yml", text));
  }
  auto g = governance::Load(fs, "g");
  EXPECT_TRUE(g) << (g ? "" : g.error().front().ToString());
  return std::move(*g);
}

// Facts under which every automated control of the defaults passes.
Facts Healthy() {
  Facts f;
  f.now = kNow;
  f.audit = AuditFacts{true, "", 120, 3, "ab12", std::nullopt};
  f.keys = KeyFacts{"AES-256-GCM", 4, kNow + 10 * kDay, "file d/master.key"};
  f.server_tls = true;
  f.routes =
      std::vector<RouteFact>{{"GET", "/healthz", ""}, {"POST", "/v1/decisions", "bearer token"}};
  f.policies = std::vector<PolicyFact>{{"policies/a.md", kNow + 30 * kDay, "Lead", ""}};
  f.violations = std::vector<ViolationFact>{};
  f.scans_known = true;
  f.secret_scan = ScanFact{0, kNow - kDay, 7};
  f.pii_scan = ScanFact{0, kNow - kDay, 8};
  for (std::string_view drill : governance::kDrillNames) {
    f.drills.push_back({std::string(drill), true, kNow - 10 * kDay, "all refused", 9});
  }
  return f;
}

const ControlResult& Result(const Report& r, std::string_view id) {
  for (const ControlResult& c : r.results) {
    if (c.control->id == id) return c;
  }
  static const ControlResult kNone;
  ADD_FAILURE() << "no control " << id;
  return kNone;
}

struct Case {
  const char* name;
  const char* control;
  std::function<void(Facts&)> change;
  Outcome outcome;
  const char* reason;
};

class EvaluateTest : public ::testing::TestWithParam<Case> {};

TEST_P(EvaluateTest, OneControl) {
  const Case& c = GetParam();
  static const governance::Governance g = Defaults();
  Facts facts = Healthy();
  if (c.change) c.change(facts);
  const Report report = Evaluate(g, facts, "");
  const ControlResult& r = Result(report, c.control);
  EXPECT_EQ(OutcomeName(r.outcome), OutcomeName(c.outcome)) << r.reason;
  EXPECT_EQ(r.reason, c.reason);
}

const Case kCases[] = {
    {"AuditVerifies", "audit-trail-verifies", nullptr, Outcome::kPass,
     "the audit log is enabled and every record, tile and checkpoint verifies"},
    {"AuditBroken", "audit-trail-verifies",
     [](Facts& f) { f.audit = AuditFacts{false, "leaf 5 does not match", 9, 0, "", 5}; },
     Outcome::kFail, "the audit log does not verify: leaf 5 does not match"},
    {"AuditUnknown", "audit-trail-verifies",
     [](Facts& f) {
       f.audit.reset();
       f.unknown_why = "no data directory";
     },
     Outcome::kError, "the audit log is not known to this run (no data directory)"},
    {"EncryptionAtRest", "encryption-at-rest", nullptr, Outcome::kPass,
     "records are sealed with AES-256-GCM under data keys that rotate every calendar month, "
     "wrapped by a master key kept outside the store"},
    {"WeakCipher", "encryption-at-rest", [](Facts& f) { f.keys->cipher = "AES-128-CBC"; },
     Outcome::kFail, "records are sealed with AES-128-CBC, not AES-256-GCM"},
    {"TlsServed", "tls-in-transit", nullptr, Outcome::kPass,
     "the server serves TLS 1.3 and nothing older"},
    {"PlainHttp", "tls-in-transit", [](Facts& f) { f.server_tls = false; }, Outcome::kFail,
     "the server serves plain HTTP and the catalogue declares no TLS terminator in front of it"},
    {"TransportUnknown", "tls-in-transit", [](Facts& f) { f.server_tls.reset(); }, Outcome::kError,
     "the server's transport is not known to this run"},
    {"RoutesAuthenticated", "role-based-access", nullptr, Outcome::kPass,
     "every route that reads or changes state authenticates its caller, and every principal "
     "acts through defined roles"},
    {"OpenRoute", "role-based-access",
     [](Facts& f) {
       f.routes->push_back({"GET", "/v1/approvals", ""});
     },
     Outcome::kFail, "routes that hold state answer without authentication: GET /v1/approvals"},
    {"AiBoundaries", "ai-boundaries", nullptr, Outcome::kPass,
     "no AI agent or service holds an approver role, and critical changes are human only"},
    {"NoViolations", "violations-reported", nullptr, Outcome::kPass,
     "every violation was reported within 1d"},
    {"ViolationPending", "violations-reported",
     [](Facts& f) {
       f.violations->push_back({"inc-1", "rollback", kNow - 3'600'000, 0});
     },
     Outcome::kPass, "every violation was reported within 1d"},
    {"ViolationLate", "violations-reported",
     [](Facts& f) {
       f.violations->push_back({"inc-2", "rollback of api", kNow - 3 * kDay, kNow - kDay});
     },
     Outcome::kFail,
     "reported later than 1d: inc-2 (rollback of api, opened 2026-11-28T00:00:00.000Z, reported "
     "2026-11-30T00:00:00.000Z)"},
    {"ViolationUnreported", "violations-reported",
     [](Facts& f) {
       f.violations->push_back({"inc-3", "rollback of api", kNow - 2 * kDay, 0});
     },
     Outcome::kFail,
     "reported later than 1d: inc-3 (rollback of api, opened 2026-11-29T00:00:00.000Z, not "
     "reported)"},
    {"Retention", "retention-configured", nullptr, Outcome::kPass,
     "audit/retention.yml sets a retention period for every class of record"},
    {"SecretsClean", "no-secrets-in-code", nullptr, Outcome::kPass,
     "the latest secret scan the gate used found nothing"},
    {"SecretsFound", "no-secrets-in-code", [](Facts& f) { f.secret_scan->findings = 2; },
     Outcome::kFail, "the latest secret scan found 2"},
    {"NoSecretScan", "no-secrets-in-code", [](Facts& f) { f.secret_scan.reset(); }, Outcome::kFail,
     "no decision has used a secret scan yet (checks.secret_scan)"},
    {"PiiFound", "no-pii-in-logs", [](Facts& f) { f.pii_scan->findings = 1; }, Outcome::kFail,
     "the latest PII scan found 1"},
    {"ScansUnknown", "no-pii-in-logs", [](Facts& f) { f.scans_known = false; }, Outcome::kError,
     "the latest scans is not known to this run"},
    {"PolicyReviewed", "policy-reviews", nullptr, Outcome::kPass,
     "every policy (1) is within its review date"},
    {"PolicyOverdue", "policy-reviews",
     [](Facts& f) { (*f.policies)[0].next_review = kNow - 2 * kDay; }, Outcome::kFail,
     "policies/a.md was due for review on 2026-11-29"},
    {"PolicyUndated", "policy-reviews",
     [](Facts& f) {
       (*f.policies)[0].next_review.reset();
       (*f.policies)[0].problem = "it has no line";
     },
     Outcome::kFail, "policies/a.md: it has no line"},
    {"DrillRecent", "drill-emergency-stop", nullptr, Outcome::kPass,
     "the emergency-stop drill passed on 2026-11-21; the next is due by 2027-02-19"},
    {"DrillOverdue", "drill-rollback",
     [](Facts& f) {
       for (DrillFact& d : f.drills) d.at = kNow - 100 * kDay;
     },
     Outcome::kFail, "the last passed rollback drill was on 2026-08-23; one was due by 2026-11-21"},
    {"DrillFailedOnly", "drill-approval-bypass",
     [](Facts& f) {
       for (DrillFact& d : f.drills) d.passed = false;
     },
     Outcome::kFail,
     "no passed approval-bypass drill is recorded (interlock drill approval-bypass)"},
    {"NotAttested", "access-review", nullptr, Outcome::kFail,
     "no evidence is attested (POST /v1/evidence)"},
    {"Attested", "access-review",
     [](Facts& f) {
       f.attestations.push_back({"access-review", "ivy", "Q4 review", kNow - 5 * kDay, 0, 11});
     },
     Outcome::kPass, "attested by ivy on 2026-11-26"},
    {"AttestationTooOld", "access-review",
     [](Facts& f) {
       f.attestations.push_back({"access-review", "ivy", "Q3 review", kNow - 91 * kDay, 0, 11});
     },
     Outcome::kFail, "the evidence attested on 2026-09-01 expired on 2026-11-30"},
    {"AttestationExpired", "access-review",
     [](Facts& f) {
       f.attestations.push_back(
           {"access-review", "ivy", "Q4 review", kNow - 5 * kDay, kNow - kDay, 11});
     },
     Outcome::kFail, "the evidence attested on 2026-11-26 expired on 2026-11-30"},
};

INSTANTIATE_TEST_SUITE_P(Checks, EvaluateTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ComplianceEvaluate, AFrameworkSelectsItsControlsAndCountsAddUp) {
  const governance::Governance g = Defaults();
  const Report all = Evaluate(g, Healthy(), "");
  const Report hipaa = Evaluate(g, Healthy(), "HIPAA");
  EXPECT_EQ(all.results.size(), g.compliance.controls.size());
  EXPECT_LT(hipaa.results.size(), all.results.size());
  for (const ControlResult& r : hipaa.results) EXPECT_TRUE(r.control->MapsTo("HIPAA"));
  EXPECT_EQ(all.counts.Total(), static_cast<int>(all.results.size()));
  // Attested controls have no evidence here: they fail, and so does the run.
  EXPECT_FALSE(all.counts.Passed());
  EXPECT_EQ(Evaluate(g, Healthy(), "NOPE").results.size(), 0u);
}

TEST(ComplianceEvaluate, ADeclaredTerminatorPassesWithoutServerTls) {
  const governance::Governance g = Defaults("    check: tls_in_transit\n",
                                            "    check: tls_in_transit\n    terminator: ingress\n");
  Facts f = Healthy();
  f.server_tls = false;
  const Report report = Evaluate(g, f, "");
  const ControlResult& r = Result(report, "tls-in-transit");
  EXPECT_EQ(r.outcome, Outcome::kPass);
  EXPECT_EQ(r.reason, "TLS 1.3 terminates at ingress, as the catalogue declares");
}

TEST(ComplianceEvaluate, TheJsonAndTextReportsCarryEveryControl) {
  const governance::Governance g = Defaults();
  const Report report = Evaluate(g, Healthy(), "SOC2");
  auto j = ReportJson(report, "checkpoint text");
  EXPECT_EQ(j["framework"], "SOC2");
  EXPECT_EQ(j["checkpoint"], "checkpoint text");
  EXPECT_EQ(j["controls"].size(), report.results.size());
  EXPECT_EQ(j["counts"]["fail"], report.counts.Of(Outcome::kFail));
  EXPECT_EQ(j["passed"], false);
  const std::string text = ReportText(report);
  EXPECT_NE(text.find("FAIL"), std::string::npos);
  EXPECT_NE(text.find("COMPLIANCE CHECK FAILED"), std::string::npos);
}

TEST(CompliancePolicy, ReadsTheReviewDateAndOwner) {
  PolicyFact p =
      ReadPolicy("policies/p.md",
                 "# P\n## Review:\n- This policy reviewed annually\n"
                 "- **Next review date**: 2027-11-22\n- Policy owner: Engineering Lead\n");
  ASSERT_TRUE(p.next_review) << p.problem;
  EXPECT_EQ(FormatTimestamp(*p.next_review), "2027-11-22T00:00:00.000Z");
  EXPECT_EQ(p.owner, "Engineering Lead");
  PolicyFact bad = ReadPolicy("policies/q.md", "x\nNext review date: next year\n");
  EXPECT_FALSE(bad.next_review);
  EXPECT_EQ(bad.problem, "line 2: the next review date \"next year\" is not a date YYYY-MM-DD");
  EXPECT_EQ(ReadPolicy("policies/r.md", "nothing").problem,
            "it has no line \"Next review date: YYYY-MM-DD\"");
  EXPECT_FALSE(ReadPolicy("policies/s.md", "Next review date: 2027-02-30").next_review);
}

WaiverFact Waiver(std::string control, std::string state, UnixMillis expires, bool run) {
  WaiverFact w;
  w.id = "wvr_1";
  w.control = std::move(control);
  w.justification = "replacement terminator arrives in January";
  w.expires = expires;
  w.run = run;
  w.requested_by = "ivan";
  w.approval_id = "apr_1";
  w.approval_state = std::move(state);
  if (w.approval_state == "approved") w.approved_by = {"erin", "mallory"};
  w.audit_index = 42;
  return w;
}

TEST(ComplianceWaivers, ApplyOnlyOnceApprovedAndUntilTheyExpire) {
  const governance::Governance g = Defaults();
  struct Case {
    std::string name;
    std::vector<WaiverFact> waivers;
    Outcome outcome;
    std::optional<Outcome> evaluated;
    bool shown;
    bool expired;
  };
  const std::vector<Case> cases = {
      {"none", {}, Outcome::kFail, std::nullopt, false, false},
      {"pending",
       {Waiver("drill-rollback", "pending", kNow + kDay, true)},
       Outcome::kFail,
       std::nullopt,
       false,
       false},
      {"rejected",
       {Waiver("drill-rollback", "rejected", kNow + kDay, true)},
       Outcome::kFail,
       std::nullopt,
       false,
       false},
      {"another control",
       {Waiver("drill-audit-verify", "approved", kNow + kDay, true)},
       Outcome::kFail,
       std::nullopt,
       false,
       false},
      {"approved, run",
       {Waiver("drill-rollback", "approved", kNow + kDay, true)},
       Outcome::kWaived,
       Outcome::kFail,
       true,
       false},
      {"approved, not run",
       {Waiver("drill-rollback", "approved", kNow + kDay, false)},
       Outcome::kWaived,
       std::nullopt,
       true,
       false},
      {"expired at now",
       {Waiver("drill-rollback", "approved", kNow, true)},
       Outcome::kFail,
       std::nullopt,
       true,
       true},
      {"expired, not run",
       {Waiver("drill-rollback", "approved", kNow - kDay, false)},
       Outcome::kFail,
       std::nullopt,
       true,
       true},
      {"one expired, one in force",
       {Waiver("drill-rollback", "approved", kNow - kDay, true),
        Waiver("drill-rollback", "approved", kNow + kDay, false)},
       Outcome::kWaived,
       std::nullopt,
       true,
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Facts f = Healthy();
    std::erase_if(f.drills, [](const DrillFact& d) { return d.drill == "rollback"; });
    f.waivers = c.waivers;
    const Report report = Evaluate(g, f, "");
    const ControlResult& r = Result(report, "drill-rollback");
    EXPECT_EQ(r.outcome, c.outcome) << r.reason;
    EXPECT_EQ(r.evaluated, c.evaluated);
    EXPECT_EQ(r.waiver.has_value(), c.shown);
    EXPECT_EQ(r.waiver_expired, c.expired);
    // Waived results are counted: "another control" waives drill-audit-verify.
    const bool any = c.outcome == Outcome::kWaived || c.name == "another control";
    EXPECT_EQ(report.counts.Of(Outcome::kWaived), any ? 1 : 0);
    auto j = ReportJson(report, "");
    for (const auto& control : j["controls"]) {
      if (control["id"] != "drill-rollback") continue;
      EXPECT_EQ(control["outcome"], OutcomeName(c.outcome));
      EXPECT_EQ(control.contains("waiver"), c.shown);
      if (c.shown) {
        EXPECT_EQ(control["waiver"]["state"], c.expired ? "expired" : "in_force");
        EXPECT_EQ(control["waiver"]["audit_index"], 42);
        EXPECT_EQ(control["waiver"]["approved_by"], nlohmann::ordered_json({"erin", "mallory"}));
      }
    }
  }
}

TEST(ComplianceWaivers, AWaivedPassingControlStillShowsItsOutcomeAndTheRunPasses) {
  const governance::Governance g = Defaults();
  Facts f = Healthy();
  f.waivers = {Waiver("drill-audit-verify", "approved", kNow + kDay, true)};
  const Report report = Evaluate(g, f, "");
  const ControlResult& r = Result(report, "drill-audit-verify");
  EXPECT_EQ(r.outcome, Outcome::kWaived);
  EXPECT_EQ(r.evaluated, Outcome::kPass);
  EXPECT_NE(r.reason.find("evaluated: pass"), std::string::npos) << r.reason;
  EXPECT_NE(ReportText(report).find("WAIVED"), std::string::npos);
}

}  // namespace
}  // namespace interlock::compliance
