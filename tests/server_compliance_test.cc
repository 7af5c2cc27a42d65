// Compliance through the real server: GET /v1/compliance evaluates the
// catalogue against the server's own log, state and transport; POST
// /v1/evidence attests what Interlock cannot see; a decision's scans become
// the latest ones the scan controls read; POST /v1/waivers asks for a
// waiver that counts only once two eligible people approved it, and only
// until it expires.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "server_fixture.h"

namespace interlock::server {
namespace {

class ComplianceServerTest : public ServerTest {
 protected:
  // The control `id` of a report.
  static json Control(const json& report, const std::string& id) {
    for (const json& c : report["controls"]) {
      if (c["id"] == id) return c;
    }
    ADD_FAILURE() << "no control " << id << " in " << report.dump();
    return json::object();
  }
};

TEST_F(ComplianceServerTest, TheReportEvaluatesTheServersOwnState) {
  HttpAnswer a = Call("GET", "/v1/compliance", "oscar");
  ASSERT_EQ(a.status, 200) << a.body;
  json report = Body(a);
  EXPECT_EQ(report["framework"], "");
  EXPECT_FALSE(report["checkpoint"].get<std::string>().empty());
  EXPECT_EQ(Control(report, "audit-trail-verifies")["outcome"], "pass");
  EXPECT_EQ(Control(report, "encryption-at-rest")["outcome"], "pass");
  EXPECT_EQ(Control(report, "role-based-access")["outcome"], "pass")
      << Control(report, "role-based-access").dump();
  EXPECT_EQ(Control(report, "ai-boundaries")["outcome"], "pass")
      << Control(report, "ai-boundaries").dump();
  EXPECT_EQ(Control(report, "retention-configured")["outcome"], "pass");
  EXPECT_EQ(Control(report, "policy-reviews")["outcome"], "pass")
      << Control(report, "policy-reviews").dump();
  EXPECT_EQ(Control(report, "violations-reported")["outcome"], "pass");
  // This server serves plain HTTP and the catalogue declares no terminator.
  EXPECT_EQ(Control(report, "tls-in-transit")["outcome"], "fail");
  EXPECT_EQ(Control(report, "no-secrets-in-code")["reason"],
            "no decision has used a secret scan yet (checks.secret_scan)");
  EXPECT_EQ(Control(report, "access-review")["reason"],
            "no evidence is attested (POST /v1/evidence)");
  EXPECT_EQ(report["passed"], false);
  int total = 0;
  for (const auto& [outcome, n] : report["counts"].items()) total += n.get<int>();
  EXPECT_EQ(total, static_cast<int>(report["controls"].size()));

  json soc2 = Body(Call("GET", "/v1/compliance?framework=SOC2", "oscar"));
  EXPECT_EQ(soc2["framework"], "SOC2");
  EXPECT_LT(soc2["controls"].size(), report["controls"].size());
  HttpAnswer unknown = Call("GET", "/v1/compliance?framework=ISO", "oscar");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("no framework ISO in compliance/frameworks.yml"), std::string::npos)
      << unknown.body;
  EXPECT_EQ(Call("GET", "/v1/compliance", "").status, 401);
}

TEST_F(ComplianceServerTest, EvidenceIsAttestedByTheRightPeopleAndExpires) {
  const std::string body = R"({"control": "access-review", "text": "Q4 review, SEC-412",
    "digests": ["sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]})";
  HttpAnswer denied = Call("POST", "/v1/evidence", "alice", body);
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_NE(denied.body.find("alice may not attest access-review: it takes a human holding one "
                             "of: security-lead, compliance-lead"),
            std::string::npos)
      << denied.body;
  HttpAnswer ok = Call("POST", "/v1/evidence", "ivan", body);
  ASSERT_EQ(ok.status, 201) << ok.body;
  json attested = Body(ok);
  EXPECT_EQ(attested["attested_by"], "ivan");
  EXPECT_GT(attested["audit_index"].get<uint64_t>(), 0u);

  json report = Body(Call("GET", "/v1/compliance", "oscar"));
  json c = Control(report, "access-review");
  EXPECT_EQ(c["outcome"], "pass") << c.dump();
  EXPECT_EQ(c["reason"], "attested by ivan on 2026-09-21");
  EXPECT_EQ(c["expires_at"], "2026-12-20T14:13:20.000Z");

  // Bad input is refused with what and where.
  struct Bad {
    std::string body;
    int status;
    std::string says;
  };
  for (const Bad& b : std::vector<Bad>{
           {R"({"control": "audit-trail-verifies", "text": "x"})", 400,
            "audit-trail-verifies is checked by Interlock itself (audit_verifies), not attested"},
           {R"({"control": "nope", "text": "x"})", 404, "no control nope"},
           {R"({"control": "access-review", "text": ""})", 400, "text: expected 1 to 4096 bytes"},
           {R"({"control": "access-review", "text": "x", "digests": ["md5:1"]})", 400,
            "digests[0]: expected \\\"sha256:\\\" and 64 lowercase hex digits"},
           {R"({"control": "access-review", "text": "x", "expires": "2020-01-01T00:00:00Z"})", 400,
            "expires: 2020-01-01T00:00:00.000Z is not in the future"},
           {R"({"control": "access-review", "text": "x", "text": "y"})", 400, "duplicate"},
           {R"({"control": "access-review", "text": "x", "extra": 1})", 400, "extra"},
       }) {
    HttpAnswer r = Call("POST", "/v1/evidence", "ivan", b.body);
    EXPECT_EQ(r.status, b.status) << b.body << " -> " << r.body;
    EXPECT_NE(r.body.find(b.says), std::string::npos) << b.body << " -> " << r.body;
  }

  // 90 days on (the control's within), the evidence no longer counts.
  clock_.Set(clock_.Now() + 91LL * 86'400'000);
  tokens_.clear();  // the fixture's tokens lasted 90 days too
  c = Control(Body(Call("GET", "/v1/compliance", "oscar")), "access-review");
  EXPECT_EQ(c["outcome"], "fail");
  EXPECT_EQ(c["reason"], "the evidence attested on 2026-09-21 expired on 2026-12-20");
}

TEST_F(ComplianceServerTest, ADecisionsScansBecomeTheLatest) {
  auto decide = [&](int secrets) {
    json request = json::parse(Request("alice", "human", "dev", "1.0.0", "1.0.1"));
    request["checks"]["secret_scan"] = {{"findings", secrets}};
    request["checks"]["pii_scan"] = {{"findings", 0}};
    HttpAnswer a = Decide("alice", request.dump());
    ASSERT_EQ(a.status, 200) << a.body;
  };
  decide(2);
  json report = Body(Call("GET", "/v1/compliance", "oscar"));
  EXPECT_EQ(Control(report, "no-secrets-in-code")["reason"], "the latest secret scan found 2");
  EXPECT_EQ(Control(report, "no-pii-in-logs")["outcome"], "pass");
  decide(0);
  report = Body(Call("GET", "/v1/compliance", "oscar"));
  EXPECT_EQ(Control(report, "no-secrets-in-code")["outcome"], "pass");
  // The scan rows are bound to the log like every state row.
  EXPECT_EQ(Control(report, "audit-trail-verifies")["outcome"], "pass");
}

TEST_F(ComplianceServerTest, AWaiverCountsOnlyOnceApprovedAndUntilItExpires) {
  const UnixMillis expires = clock_.Now() + 10LL * 86'400'000;
  const std::string body = fmt::format(
      R"({{"control": "tls-in-transit", "justification": "the terminator moves to TLS 1.3 in Q4",
          "expires": "{}", "run": true}})",
      FormatTimestamp(expires));
  // An AI agent does not ask for waivers.
  HttpAnswer ai = Call("POST", "/v1/waivers", "deployment-agent-01", body);
  EXPECT_EQ(ai.status, 403) << ai.body;

  HttpAnswer asked = Call("POST", "/v1/waivers", "ivan", body);
  ASSERT_EQ(asked.status, 201) << asked.body;
  json w = Body(asked);
  EXPECT_EQ(w["state"], "pending");
  EXPECT_EQ(w["requested_by"], "ivan");
  EXPECT_GT(w["audit_index"].get<uint64_t>(), 0u);
  const std::string approval = w["approval_id"];
  ASSERT_FALSE(approval.empty());

  // Not in force while it waits.
  json c = Control(Body(Call("GET", "/v1/compliance", "oscar")), "tls-in-transit");
  EXPECT_EQ(c["outcome"], "fail") << c.dump();
  EXPECT_FALSE(c.contains("waiver"));

  // Its approval request is an approval like any other: listed for its approvers.
  HttpAnswer listed = Call("GET", "/v1/approvals/" + approval, "erin");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(Body(listed)["workflow"], "compliance_waiver");

  const std::string why = R"({"rationale": "accepted until the terminator moves"})";
  HttpAnswer own = Call("POST", "/v1/approvals/" + approval + "/approve", "ivan", why);
  EXPECT_EQ(own.status, 403) << own.body;
  HttpAnswer agent =
      Call("POST", "/v1/approvals/" + approval + "/approve", "deployment-agent-01", why);
  EXPECT_EQ(agent.status, 403) << agent.body;
  ASSERT_EQ(Call("POST", "/v1/approvals/" + approval + "/approve", "erin", why).status, 200);
  c = Control(Body(Call("GET", "/v1/compliance", "oscar")), "tls-in-transit");
  EXPECT_EQ(c["outcome"], "fail") << "one approval of two is not enough: " << c.dump();
  HttpAnswer second = Call("POST", "/v1/approvals/" + approval + "/approve", "mallory", why);
  ASSERT_EQ(second.status, 200) << second.body;

  json report = Body(Call("GET", "/v1/compliance", "oscar"));
  c = Control(report, "tls-in-transit");
  EXPECT_EQ(c["outcome"], "waived") << c.dump();
  EXPECT_EQ(c["evaluated"], "fail");
  EXPECT_EQ(c["waiver"]["id"], w["id"]);
  EXPECT_EQ(c["waiver"]["state"], "in_force");
  EXPECT_EQ(c["waiver"]["justification"], "the terminator moves to TLS 1.3 in Q4");
  EXPECT_EQ(c["waiver"]["approved_by"], json({"erin", "mallory"}));
  EXPECT_GE(report["counts"]["waived"].get<int>(), 1);
  json listed_waivers = Body(Call("GET", "/v1/waivers", "oscar"));
  ASSERT_EQ(listed_waivers["waivers"].size(), 1u) << listed_waivers.dump();
  EXPECT_EQ(listed_waivers["waivers"][0]["state"], "in_force");

  // Expired, the control shows its real outcome again, and the waiver as expired.
  clock_.Set(expires + 1);
  tokens_.clear();
  report = Body(Call("GET", "/v1/compliance", "oscar"));
  c = Control(report, "tls-in-transit");
  EXPECT_EQ(c["outcome"], "fail") << c.dump();
  EXPECT_EQ(c["waiver"]["state"], "expired");
  EXPECT_EQ(Body(Call("GET", "/v1/waivers", "oscar"))["waivers"][0]["state"], "expired");
}

TEST_F(ComplianceServerTest, AMalformedWaiverFailsAtOnceNamingTheField) {
  const std::string soon = FormatTimestamp(clock_.Now() + 86'400'000);
  const std::string late = FormatTimestamp(clock_.Now() + 400LL * 86'400'000);
  struct Bad {
    std::string body;
    std::string says;
  };
  for (const Bad& b : std::vector<Bad>{
           {fmt::format(R"({{"control": "nope", "justification": "j", "expires": "{}",
                            "run": true}})",
                        soon),
            "control: no control \\\"nope\\\""},
           {fmt::format(R"({{"control": "tls-in-transit", "justification": "", "expires": "{}",
                            "run": true}})",
                        soon),
            "justification: required"},
           {R"({"control": "tls-in-transit", "justification": "j",
                "expires": "2020-01-01T00:00:00Z", "run": true})",
            "expires: 2020-01-01T00:00:00.000Z is not in the future"},
           {fmt::format(R"({{"control": "tls-in-transit", "justification": "j", "expires": "{}",
                            "run": true}})",
                        late),
            "is more than 365 days after now"},
           {fmt::format(R"({{"control": "tls-in-transit", "justification": "j", "expires": "{}",
                            "run": 1}})",
                        soon),
            "run"},
           {fmt::format(R"({{"control": "tls-in-transit", "justification": "j", "expires": "{}",
                            "run": true, "approved": true}})",
                        soon),
            "approved"},
       }) {
    HttpAnswer r = Call("POST", "/v1/waivers", "ivan", b.body);
    EXPECT_EQ(r.status, 400) << b.body << " -> " << r.body;
    EXPECT_NE(r.body.find(b.says), std::string::npos) << b.body << " -> " << r.body;
  }
  EXPECT_EQ(Body(Call("GET", "/v1/waivers", "oscar"))["waivers"].size(), 0u);
}

TEST_F(ComplianceServerTest, ADrillCountsOnceSignedOffAndUntilTheNextIsDue) {
  const std::string passed = R"({"drill": "emergency-stop", "scenario": "scoped stop",
    "expected": "decisions denied, two signers end it", "actual": "as expected",
    "passed": true})";
  HttpAnswer ai = Call("POST", "/v1/drills", "deployment-agent-01", passed);
  EXPECT_EQ(ai.status, 403) << ai.body;
  HttpAnswer recorded = Call("POST", "/v1/drills", "carol", passed);
  ASSERT_EQ(recorded.status, 201) << recorded.body;
  json r = Body(recorded);
  EXPECT_EQ(r["sign_off"], "pending");
  EXPECT_EQ(r["recorded_by"], "carol");
  EXPECT_EQ(r["next"], FormatTimestamp(clock_.Now() + 90LL * 86'400'000));
  EXPECT_GT(r["audit_index"].get<uint64_t>(), 0u);
  const std::string approval = r["approval_id"];

  json c = Control(Body(Call("GET", "/v1/compliance", "oscar")), "drill-emergency-stop");
  EXPECT_EQ(c["outcome"], "fail") << "not signed off yet: " << c.dump();

  const std::string why = R"({"rationale": "the drill's record is complete"})";
  EXPECT_EQ(Call("POST", "/v1/approvals/" + approval + "/approve", "carol", why).status, 403);
  EXPECT_EQ(
      Call("POST", "/v1/approvals/" + approval + "/approve", "deployment-agent-01", why).status,
      403);
  EXPECT_EQ(Call("POST", "/v1/approvals/" + approval + "/approve", "alice", why).status, 403);
  HttpAnswer signed_off = Call("POST", "/v1/approvals/" + approval + "/approve", "dave", why);
  ASSERT_EQ(signed_off.status, 200) << signed_off.body;

  c = Control(Body(Call("GET", "/v1/compliance", "oscar")), "drill-emergency-stop");
  EXPECT_EQ(c["outcome"], "pass") << c.dump();

  // A failed drill, signed off, does not count.
  HttpAnswer failed = Call("POST", "/v1/drills", "carol", R"({"drill": "rollback",
    "scenario": "s", "expected": "rolled back", "actual": "stuck", "passed": false,
    "issues": ["the rollback stalled"], "remediation": "fix the hook"})");
  ASSERT_EQ(failed.status, 201) << failed.body;
  ASSERT_EQ(
      Call("POST", "/v1/approvals/" + Body(failed)["approval_id"].get<std::string>() + "/approve",
           "dave", why)
          .status,
      200);
  json report = Body(Call("GET", "/v1/compliance", "oscar"));
  EXPECT_EQ(Control(report, "drill-rollback")["outcome"], "fail");

  json drills = Body(Call("GET", "/v1/drills", "oscar"));
  ASSERT_EQ(drills["calendar"].size(), 4u) << drills.dump();
  for (const json& entry : drills["calendar"]) {
    if (entry["drill"] == "emergency-stop") {
      EXPECT_EQ(entry["last"], r["at"]);
      EXPECT_EQ(entry["next_due"], r["next"]);
      EXPECT_EQ(entry["within"], "90d");
      EXPECT_EQ(entry["overdue"], false);
    } else {
      EXPECT_EQ(entry["overdue"], true) << entry.dump();
    }
  }
  EXPECT_EQ(drills["records"].size(), 2u);

  // Past its next date the drill is overdue again.
  clock_.Set(clock_.Now() + 91LL * 86'400'000);
  tokens_.clear();
  c = Control(Body(Call("GET", "/v1/compliance", "oscar")), "drill-emergency-stop");
  EXPECT_EQ(c["outcome"], "fail") << c.dump();
  const json later = Body(Call("GET", "/v1/drills", "oscar"));
  for (const json& entry : later["calendar"]) {
    EXPECT_EQ(entry["overdue"], true) << entry.dump();
  }

  HttpAnswer bad = Call("POST", "/v1/drills", "carol", R"({"drill": "fire"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("drill: expected one of"), std::string::npos) << bad.body;
}

}  // namespace
}  // namespace interlock::server
