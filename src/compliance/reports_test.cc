#include "compliance/reports.h"

#include <gtest/gtest.h>

#include "core/text.h"

namespace interlock::compliance {
namespace {

using nlohmann::json;

constexpr UnixMillis kAt = 1'796'083'200'000;  // 2026-12-01T00:00:00Z
constexpr std::string_view kHostile = "<b>\"x\" & 'y'</b>|=cmd\n\xFF";

// A governance of two frameworks and five controls, one of them hostile.
governance::Governance Fixture() {
  governance::Governance g;
  g.organisation = "Example & Co";
  g.version = "sha256:abc";
  g.roles = {{"compliance-lead", "Compliance"}, {"security-lead", "Security"}};
  g.compliance.attesters.set(0);
  g.compliance.frameworks = {
      {"HIPAA", "HIPAA (Healthcare)", "PHI", {}, {"AI decisions must be auditable"}, {}},
      {"SOC2", "SOC2", "Services", {}, {}, {}}};
  auto control = [](std::string id, std::string description, governance::ControlCheck check,
                    std::vector<std::string> maps, int line) {
    governance::Control c;
    c.id = std::move(id);
    c.description = std::move(description);
    c.check = check;
    c.maps = std::move(maps);
    c.origin = {"compliance/controls.yml", {line, 5}};
    return c;
  };
  g.compliance.controls = {
      control("audit-trail", "The audit log verifies", governance::ControlCheck::kAuditVerifies,
              {"HIPAA:164.312(b)", "SOC2:CC7.2"}, 10),
      control("encryption-at-rest", "Records sealed at rest",
              governance::ControlCheck::kEncryptionAtRest, {"HIPAA:164.312(a)(2)(iv)"}, 20),
      control("tls", "TLS 1.3 in transit", governance::ControlCheck::kTlsInTransit, {"SOC2:CC6.7"},
              30),
      control("access-review", std::string(kHostile), governance::ControlCheck::kAttested,
              {"SOC2:CC6.2"}, 40),
      control("drill-rollback", "The rollback was drilled", governance::ControlCheck::kDrill,
              {"SOC2:CC7.4", "HIPAA:164.308(a)(7)"}, 50),
  };
  g.compliance.controls[4].drill = "rollback";
  g.compliance.controls[4].within = Millis(90LL * 86'400'000);
  return g;
}

Report FixedReport(const governance::Governance& g) {
  Report r;
  r.at = kAt;
  auto add = [&](size_t i, Outcome o, std::string reason, std::vector<std::string> evidence) {
    ControlResult c;
    c.control = &g.compliance.controls[i];
    c.outcome = o;
    c.reason = std::move(reason);
    c.evidence = std::move(evidence);
    r.results.push_back(std::move(c));
    r.counts.Add(o);
  };
  add(0, Outcome::kPass, "the audit log verifies", {"records 120", "root ab12 at 120"});
  r.results.back().evidence_at = kAt - 1000;
  add(1, Outcome::kFail, "the newest data key is 40 days old", {"data keys 4"});
  add(2, Outcome::kError, "the server's transport is unknown", {});
  add(3, Outcome::kWaived, std::string(kHostile), {std::string(kHostile)});
  r.results.back().expires_at = kAt + 86'400'000;
  add(4, Outcome::kNotApplicable, "no rollback is configured", {});
  return r;
}

ReportContext Context(const governance::Governance& g) {
  ReportContext c;
  c.governance = &g;
  c.version = "0.1.0";
  c.audit = AuditFacts{true, "", 120, 3, "ab12", std::nullopt};
  c.checkpoint = "interlock.example/log\n120\nq6E=\n\n\xE2\x80\x94 key <sig>\n";
  c.policies = {{"policies/a.md", kAt + 30LL * 86'400'000, "Dana <lead>", ""},
                {"policies/b.md", std::nullopt, "", "line 3: no date"}};
  return c;
}

class ReportsTest : public ::testing::Test {
 protected:
  governance::Governance g_ = Fixture();
  Report report_ = FixedReport(g_);
  ReportContext context_ = Context(g_);
};

TEST(ReportFormatTest, ParsesExactNames) {
  for (size_t i = 0; i < kReportFormatNames.size(); ++i) {
    EXPECT_EQ(ParseReportFormat(kReportFormatNames[i]), static_cast<ReportFormat>(i));
  }
  EXPECT_EQ(ParseReportFormat("Markdown"), std::nullopt);
  EXPECT_EQ(ParseReportFormat("all"), std::nullopt);
  EXPECT_EQ(ParseReportFormat(""), std::nullopt);
}

TEST_F(ReportsTest, MarkdownFollowsTheTemplate) {
  const std::string md = ReportMarkdown(report_, context_);
  for (std::string_view want : {
           "# Compliance Report: every framework\n",
           "- Compliance framework: every framework (HIPAA (Healthcare), SOC2)\n",
           "- Verdict: FAILED\n",
           "## Audit Checkpoint\n",
           "The audit log verified: 120 records (3 pruned), root ab12 at size 120.",
           "```text\ninterlock.example/log\n120\n",
           "| Control ID | Requirement | Status | Reason | Evidence | Last Review | Expires |\n",
           "| audit-trail | The audit log verifies (HIPAA:164.312(b); SOC2:CC7.2) | Compliant | "
           "the "
           "audit log verifies | records 120; root ab12 at 120 | 2026-11-30T23:59:59.000Z |  |\n",
           "| encryption-at-rest | Records sealed at rest (HIPAA:164.312(a)(2)(iv)) | "
           "Non-compliant |",
           "| tls | TLS 1.3 in transit (SOC2:CC6.7) | Not evaluated (error) |",
           "## AI Agent Compliance\n",
           "- HIPAA: AI decisions must be auditable\n",
           "## Review Schedule\n",
           "| policies/a.md | Dana &lt;lead&gt; | 2026-12-31 |\n",
           "| policies/b.md | (none named) | unreadable: line 3: no date |\n",
           "| drill-rollback | drill rollback | 90d | never | now |\n",
           "- compliance-lead: signature ……………… date …………\n",
       }) {
    EXPECT_NE(md.find(want), std::string::npos) << want << "\n---\n" << md;
  }
  // The hostile description and reason are one escaped cell each.
  EXPECT_NE(md.find("&lt;b&gt;\"x\" &amp; 'y'&lt;/b&gt;\\|=cmd \xEF\xBF\xBD"), std::string::npos)
      << md;
  EXPECT_EQ(md.find("<b>"), std::string::npos);
  EXPECT_EQ(FindInvalidUtf8(md), std::string_view::npos);
}

TEST_F(ReportsTest, MarkdownFrameworkKeepsItsRequirementsOnly) {
  report_.framework = "SOC2";
  const std::string md = ReportMarkdown(report_, context_);
  EXPECT_NE(md.find("| audit-trail | The audit log verifies (SOC2:CC7.2) |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("- Compliance framework: SOC2\n"), std::string::npos);
  EXPECT_EQ(md.find("- HIPAA: AI decisions"), std::string::npos);
}

// The capability table says what the tiers, rows, workflows and principals
// say, nothing more.
TEST_F(ReportsTest, AiCapabilitiesComeFromTheGovernance) {
  governance::Workflow w;
  w.id = "standard_change";
  w.ai_agent_can_recommend = true;
  g_.workflows.push_back(w);
  governance::RiskTier tier;
  tier.level = RiskLevel::kCritical;
  tier.outcome.approvals.count = 2;
  tier.outcome.approvals.mandatory.set(1);
  tier.outcome.workflow = 0;
  tier.outcome.ai_agent_role = AiRole::kHumanOnly;
  g_.tiers.push_back(std::move(tier));
  governance::MatrixRow row;
  row.id = "code-staging";
  row.change_types.set(static_cast<size_t>(ChangeType::kCode));
  row.environments.set(static_cast<size_t>(Environment::kStaging));
  row.bumps.set();
  row.outcome.workflow = 0;
  row.outcome.ai_agent_role = AiRole::kRecommend;
  g_.matrix.push_back(std::move(row));
  governance::Principal agent;
  agent.id = "bot";
  agent.type = ActorType::kAiAgent;
  g_.principals.push_back(agent);
  const std::string md = ReportMarkdown(report_, context_);
  for (std::string_view want : {
           "| Scope | AI Capability | Mitigation | Status |\n",
           "| risk tier critical | human\\_only: may not make the change; only humans do | 2 human "
           "approvals, including security-lead, workflow standard\\_change | no ai\\_boundaries "
           "control in this report |\n",
           "| matrix row code-staging: change type code; environment staging; bump any | "
           "recommend: may propose the change; it needs at least one human approval | no human "
           "approval required, workflow standard\\_change |",
           "- AI agent principal bot: roles none\n",
           "- Workflow standard\\_change: an AI agent may recommend; approvers are humans\n",
       }) {
    EXPECT_NE(md.find(want), std::string::npos) << want << "\n---\n" << md;
  }
}

TEST_F(ReportsTest, HtmlEscapesEverything) {
  const std::string html = ReportHtml(report_, context_);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n"));
  EXPECT_NE(html.find("<td>&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;|=cmd&#10;\xEF\xBF\xBD"
                      "</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<pre>interlock.example/log\n120\nq6E=\n\n\xE2\x80\x94 key &lt;sig&gt;\n"
                      "</pre>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<title>Compliance Report: every framework</title>"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(FindInvalidUtf8(html), std::string_view::npos);
}

TEST_F(ReportsTest, JsonIsTheCheckJson) {
  auto file = RenderReport(ReportFormat::kJson, report_, context_);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->name, "report.json");
  const json j = json::parse(file->text);
  EXPECT_EQ(j["checkpoint"], context_.checkpoint);
  EXPECT_EQ(j["controls"].size(), 5u);
  EXPECT_EQ(j["controls"][3]["reason"], "<b>\"x\" & 'y'</b>|=cmd\n\xEF\xBF\xBD");
}

TEST_F(ReportsTest, JunitOneSuitePerFramework) {
  const std::string xml = ReportJunit(report_, context_);
  EXPECT_TRUE(
      xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "
                      "name=\"interlock compliance\" tests=\"7\" failures=\"1\" "
                      "errors=\"1\" skipped=\"3\" time=\"0\">\n"))
      << xml;
  EXPECT_NE(xml.find("  <testsuite name=\"HIPAA\" tests=\"3\" failures=\"1\" errors=\"0\" "
                     "skipped=\"1\" timestamp=\"2026-12-01T00:00:00.000Z\" time=\"0\">\n"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("  <testsuite name=\"SOC2\" tests=\"4\" failures=\"0\" errors=\"1\" "
                     "skipped=\"2\""),
            std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"the newest data key is 40 days old\" type=\"fail\">"
                     "the newest data key is 40 days old&#10;data keys 4</failure>"),
            std::string::npos);
  EXPECT_NE(xml.find("<error message=\"the server&#39;s transport is unknown\" type=\"error\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<skipped message=\"waived: &lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/"
                     "b&gt;|=cmd&#10;\xEF\xBF\xBD\"/>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<skipped message=\"not_applicable: no rollback is configured\"/>"),
            std::string::npos);
  EXPECT_NE(xml.find("<property name=\"audit.checkpoint.size\" value=\"120\"/>"),
            std::string::npos);
  EXPECT_EQ(xml.find("<b>"), std::string::npos);
  EXPECT_EQ(FindInvalidUtf8(xml), std::string_view::npos);
}

TEST_F(ReportsTest, CsvPerFrameworkGuardsFormulas) {
  const std::string csv = ReportCsv(report_, context_, "SOC2");
  EXPECT_EQ(csv,
            "framework,requirements,control,description,check,status,reason,evidence,"
            "evidence_at,expires_at\r\n"
            "SOC2,SOC2:CC7.2,audit-trail,The audit log verifies,audit_verifies,pass,the audit log "
            "verifies,records 120; root ab12 at 120,2026-11-30T23:59:59.000Z,\r\n"
            "SOC2,SOC2:CC6.7,tls,TLS 1.3 in transit,tls_in_transit,error,the server's transport "
            "is unknown,,,\r\n"
            "SOC2,SOC2:CC6.2,access-review,\"<b>\"\"x\"\" & 'y'</b>|=cmd\n\xEF\xBF\xBD\",attested,"
            "waived,\"<b>\"\"x\"\" & 'y'</b>|=cmd\n\xEF\xBF\xBD\",\"<b>\"\"x\"\" & 'y'</b>|=cmd\n"
            "\xEF\xBF\xBD\",,2026-12-02T00:00:00.000Z\r\n"
            "SOC2,SOC2:CC7.4,drill-rollback,The rollback was drilled,drill,not_applicable,no "
            "rollback is configured,,,\r\n");
  g_.compliance.controls[1].description = "=1+1";
  EXPECT_NE(ReportCsv(report_, context_, "HIPAA").find(",\"'=1+1\","), std::string::npos);
  EXPECT_NE(ReportCsv(report_, context_, "")
                .find("\r\nHIPAA;SOC2,HIPAA:164.312(b);SOC2:CC7.2,audit-trail,"),
            std::string::npos)
      << ReportCsv(report_, context_, "");
}

TEST_F(ReportsTest, SarifResultsByOutcome) {
  const json s = json::parse(
      ReportSarif(report_, context_).dump(-1, ' ', false, json::error_handler_t::replace));
  EXPECT_EQ(s["version"], "2.1.0");
  const json& run = s["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "interlock");
  EXPECT_EQ(run["tool"]["driver"]["version"], "0.1.0");
  ASSERT_EQ(run["tool"]["driver"]["rules"].size(), 5u);
  EXPECT_EQ(run["tool"]["driver"]["rules"][0]["properties"]["tags"],
            json::array({"HIPAA:164.312(b)", "SOC2:CC7.2"}));
  const json& results = run["results"];
  ASSERT_EQ(results.size(), 5u);
  const std::vector<std::pair<std::string, std::string>> want = {{"pass", "none"},
                                                                 {"fail", "error"},
                                                                 {"fail", "error"},
                                                                 {"fail", "error"},
                                                                 {"notApplicable", "none"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(results[i]["kind"], want[i].first) << i;
    EXPECT_EQ(results[i]["level"], want[i].second) << i;
    EXPECT_EQ(results[i]["ruleIndex"], i);
    EXPECT_EQ(results[i].contains("suppressions"), i == 3) << i;
  }
  EXPECT_EQ(results[3]["suppressions"][0]["kind"], "external");
  EXPECT_EQ(results[3]["suppressions"][0]["justification"],
            "<b>\"x\" & 'y'</b>|=cmd\n\xEF\xBF\xBD");
  EXPECT_EQ(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "compliance/controls.yml");
  EXPECT_EQ(results[1]["locations"][0]["physicalLocation"]["region"]["startLine"], 20);
  EXPECT_EQ(run["properties"]["audit_root"], "ab12");
}

TEST_F(ReportsTest, PoamOnlyForWhatNeedsAPlan) {
  auto poam = ReportPoam(report_, context_);
  ASSERT_TRUE(poam);
  const auto& items = (*poam)["plan-of-action-and-milestones"]["poam-items"];
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0]["title"], "encryption-at-rest: Records sealed at rest");
  EXPECT_EQ(items[1]["description"], "the server's transport is unknown");

  Report passing;
  passing.at = kAt;
  passing.results.push_back(report_.results[0]);
  passing.counts.Add(Outcome::kPass);
  EXPECT_EQ(ReportPoam(passing, context_), std::nullopt);
  EXPECT_EQ(RenderReport(ReportFormat::kPoam, passing, context_), std::nullopt);
}

TEST_F(ReportsTest, AllFormatsNameTheirFiles) {
  std::vector<std::string> names;
  for (const ReportFile& f : RenderAllReports(report_, context_)) {
    names.push_back(f.name);
    EXPECT_FALSE(f.text.empty()) << f.name;
    EXPECT_EQ(FindInvalidUtf8(f.text), std::string_view::npos) << f.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"report.md", "report.html", "report.json",
                                             "report.junit.xml", "report-HIPAA.csv",
                                             "report-SOC2.csv", "report.sarif", "report.ocsf.jsonl",
                                             "report.oscal.json", "report.poam.json"}));
  report_.framework = "SOC2";
  auto csv = RenderReport(ReportFormat::kCsv, report_, context_);
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->name, "report-SOC2.csv");
}

TEST_F(ReportsTest, SameReportSameDocuments) {
  EXPECT_EQ(ReportOscal(report_, context_), ReportOscal(report_, context_));
  EXPECT_EQ(ReportOcsf(report_, context_), ReportOcsf(report_, context_));
  ReportContext other = context_;
  other.audit->root = "cd34";
  EXPECT_NE(ReportOscal(report_, context_)["assessment-results"]["uuid"],
            ReportOscal(report_, other)["assessment-results"]["uuid"]);
}

}  // namespace
}  // namespace interlock::compliance
