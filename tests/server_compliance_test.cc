// Compliance through the real server: GET /v1/compliance evaluates the
// catalogue against the server's own log, state and transport; POST
// /v1/evidence attests what Interlock cannot see; a decision's scans become
// the latest ones the scan controls read.
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

}  // namespace
}  // namespace interlock::server
