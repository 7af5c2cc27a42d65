#include "governance/loader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "../../tests/test_util.h"
#include "core/fs.h"
#include "core/memory_fs.h"
#include "governance/defaults.h"

namespace interlock::governance {
namespace {

using interlock::testing::TempDir;

// Given the default governance directory, with one file edited.
class LoaderTest : public ::testing::Test {
 protected:
  LoaderTest() {
    RealFileSystem fs;
    if (!Scaffold(fs, dir_.path(), true)) ADD_FAILURE() << "scaffold failed";
  }

  // Replaces the first occurrence of `from` in `file` with `to`.
  void Edit(const std::string& file, const std::string& from, const std::string& to) {
    std::string text = dir_.Read(file);
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << "'" << from << "' not in " << file;
    text.replace(at, from.size(), to);
    dir_.Write(file, text);
  }

  // The diagnostics of loading the directory, as "file:line:column: message".
  std::vector<std::string> Errors() {
    RealFileSystem fs;
    auto loaded = Load(fs, dir_.path());
    std::vector<std::string> out;
    if (!loaded) {
      for (const Diagnostic& d : loaded.error()) out.push_back(d.ToString());
    }
    return out;
  }

  // Asserts that `expected` is exactly one of the diagnostics.
  void ExpectError(const std::string& expected) {
    std::vector<std::string> errors = Errors();
    std::string all;
    for (const std::string& e : errors) all += "\n  " + e;
    EXPECT_NE(std::find(errors.begin(), errors.end(), expected), errors.end())
        << "expected: " << expected << "\nactual:" << all;
  }

  TempDir dir_;
};

TEST_F(LoaderTest, DefaultsAreValid) {
  RealFileSystem fs;
  auto loaded = Load(fs, dir_.path());
  ASSERT_TRUE(loaded) << (loaded ? "" : loaded.error().front().ToString());
  EXPECT_EQ(loaded->matrix.size(), 10u);
  EXPECT_EQ(loaded->tiers.size(), 4u);
  EXPECT_EQ(loaded->tiers.front().level, RiskLevel::kCritical);
  EXPECT_EQ(loaded->workflows.size(), 11u);
  EXPECT_TRUE(loaded->version.starts_with("sha256:"));
  EXPECT_EQ(loaded->version.size(), 7u + 64u);
}

TEST_F(LoaderTest, VersionChangesWithAnyFile) {
  RealFileSystem fs;
  std::string before = Load(fs, dir_.path())->version;
  Edit("policies/automation-governance.md", "Policy", "Policy ");
  EXPECT_NE(Load(fs, dir_.path())->version, before);
}

TEST_F(LoaderTest, UnknownKeySuggestsTheKnownOne) {
  Edit("approvals/workflow.yml",
       "    required_approvers: 2\n    approver_roles:\n      - team-lead",
       "    requried_approvers: 2\n    approver_roles:\n      - team-lead");
  ExpectError(
      "approvals/workflow.yml:13:5: unknown key 'requried_approvers' in workflow "
      "'production_deployment' (did you mean 'required_approvers'?)");
  ExpectError(
      "approvals/workflow.yml:13:5: missing required key 'required_approvers' in workflow "
      "'production_deployment'");
}

TEST_F(LoaderTest, WrongTypeSaysWhatWasExpected) {
  Edit("approvals/workflow.yml", "required_approvers: 2", "required_approvers: two");
  ExpectError("approvals/workflow.yml:13:25: expected an integer, found 'two'");
}

TEST_F(LoaderTest, UnknownRoleSuggestsTheKnownOne) {
  Edit("approvals/workflow.yml", "      - on-call-engineer", "      - on-call-enginer");
  ExpectError(
      "approvals/workflow.yml:16:9: unknown role 'on-call-enginer' (did you mean "
      "'on-call-engineer'?)");
}

TEST_F(LoaderTest, UnknownWorkflowInMatrix) {
  Edit("decision/matrix.yaml", "workflow: production_deployment", "workflow: production_deploy");
  ExpectError(
      "decision/matrix.yaml:45:15: unknown workflow 'production_deploy' (did you mean "
      "'production_deployment'?)");
}

TEST_F(LoaderTest, DuplicatePrincipalId) {
  Edit("principals.yaml", "  - id: bob\n", "  - id: alice\n");
  ExpectError("principals.yaml:10:5: duplicate principal id 'alice' (first defined at 5:5)");
}

TEST_F(LoaderTest, ContradictingOverlappingRows) {
  Edit("decision/matrix.yaml", "rows:\n",
       "rows:\n  - id: prod-anything\n    change_type: [code, infrastructure]\n"
       "    environment: production\n    bump: any\n    risk: high\n    approvals: 2\n"
       "    workflow: production_deployment\n    ai_agent_role: human_only\n");
  std::vector<std::string> errors = Errors();
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.front(),
            "decision/matrix.yaml:46:5: row 'code-production-patch' contradicts row "
            "'prod-anything' (line 19) where both match (code x production x patch): risk high vs "
            "high; 2 approvers, workflow production_deployment, ai_agent_role recommend vs 2 "
            "approvers, workflow production_deployment, ai_agent_role human_only");
}

TEST_F(LoaderTest, AgreeingOverlappingRowsAreAccepted) {
  Edit("decision/matrix.yaml", "rows:\n",
       "rows:\n  - id: security-production\n    change_type: security\n"
       "    environment: production\n    bump: any\n    risk: high\n"
       "    approvals: {count: 2, roles: [security-lead, engineering-lead]}\n"
       "    workflow: security_change\n    ai_agent_role: human_only\n");
  EXPECT_TRUE(Errors().empty());
}

TEST_F(LoaderTest, GapsAreReported) {
  // Only the critical tier is left: what no row covers is now uncovered.
  std::string tiers = dir_.Read("risk/tiers.yaml");
  dir_.Write("risk/tiers.yaml", tiers.substr(0, tiers.find("  - level: high")));
  ExpectError(
      "risk/tiers.yaml:15:3: 16 change type x environment x bump combinations are covered "
      "by no matrix row and no risk tier: code x dev x minor, code x dev x major, code x "
      "staging x minor, code x staging x major, infrastructure x staging x patch, "
      "infrastructure x staging x minor, infrastructure x staging x major, model_update x "
      "dev x patch and 8 more");
}

TEST_F(LoaderTest, AiAgentCanApproveIsRefused) {
  Edit("approvals/workflow.yml", "ai_agent_can_approve: false", "ai_agent_can_approve: true");
  ExpectError(
      "approvals/workflow.yml:23:27: an AI agent never approves: ai_agent_can_approve must "
      "be false");
}

TEST_F(LoaderTest, CriticalRiskIsHumanOnly) {
  Edit("risk/tiers.yaml", "ai_autonomy: human_only", "ai_autonomy: recommend");
  ExpectError("risk/tiers.yaml:25:18: critical risk is human only: ai_autonomy must be human_only");
}

TEST_F(LoaderTest, CriticalMatrixRowIsHumanOnly) {
  Edit("decision/matrix.yaml",
       "    risk: critical\n    approvals: {count: 2, roles: [engineering-lead, security-lead]}\n"
       "    workflow: ai_agent_rule_change\n    ai_agent_role: human_only",
       "    risk: critical\n    approvals: {count: 2, roles: [engineering-lead, security-lead]}\n"
       "    workflow: ai_agent_rule_change\n    ai_agent_role: auto_deploy");
  ExpectError(
      "decision/matrix.yaml:106:20: critical risk is human only: ai_agent_role must be "
      "human_only");
}

TEST_F(LoaderTest, EmergencyStopNeedsTwoPeople) {
  Edit("safety/emergency-stop.yml", "distinct_people: 2", "distinct_people: 1");
  ExpectError(
      "safety/emergency-stop.yml:32:22: deactivating the emergency stop needs at least two "
      "distinct people");
}

TEST_F(LoaderTest, EmergencyStopDeactivationMustBeStaffed) {
  Edit("principals.yaml", "roles: [security-lead]", "roles: [engineer]");
  ExpectError(
      "safety/emergency-stop.yml:31:5: deactivation needs 2 distinct people with roles "
      "[engineering-lead, security-lead], but principals.yaml has 1");
}

// Enough people in all, but nobody for one of the roles: once activated,
// the stop could never be lifted.
TEST_F(LoaderTest, EmergencyStopDeactivationNeedsSomeoneForEveryRole) {
  Edit("principals.yaml", "roles: [security-lead]", "roles: [engineering-lead]");
  ExpectError(
      "safety/emergency-stop.yml:31:5: deactivation needs one distinct person for each of the "
      "roles [engineering-lead, security-lead], but principals.yaml has nobody left for "
      "[security-lead]");
}

TEST_F(LoaderTest, EmergencyStopDeactivationCountsPeopleNotPrincipals) {
  Edit("safety/emergency-stop.yml", "required_roles: [engineering-lead, security-lead]",
       "required_roles: [security-lead]");
  ExpectError(
      "safety/emergency-stop.yml:31:5: deactivation needs 2 distinct people with roles "
      "[security-lead], but principals.yaml has 1");
}

TEST_F(LoaderTest, OneEmailIsOnePrincipal) {
  Edit("principals.yaml", "    team: payments\n", "    team: payments\n    email: a@example.com\n");
  Edit("principals.yaml", "    team: platform\n", "    team: platform\n    email: A@example.com\n");
  std::vector<std::string> errors = Errors();
  ASSERT_EQ(errors.size(), 1u) << (errors.empty() ? "" : errors.front());
  EXPECT_NE(errors.front().find("e-mail A@example.com is already the address of another "
                                "principal (at "),
            std::string::npos)
      << errors.front();
  EXPECT_NE(errors.front().find("); one person must be one principal"), std::string::npos);
}

TEST_F(LoaderTest, KnownServicesAreCanonicalAndUnique) {
  Edit("interlock.yaml",
       "reload_roles:", "services: [Payments, api, payments, \"a b\"]\nreload_roles:");
  std::vector<std::string> errors = Errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("duplicate service id 'payments'"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("\"a b\" is not a service name (1-128 of a-z A-Z 0-9 . _ -)"),
            std::string::npos)
      << errors[1];
}

TEST_F(LoaderTest, EmergencyStopAlwaysBlocks) {
  Edit("safety/emergency-stop.yml", "block_deployments: true", "block_deployments: false");
  ExpectError(
      "safety/emergency-stop.yml:25:24: the emergency stop always does this; "
      "block_deployments cannot be false");
}

TEST_F(LoaderTest, ConditionErrorPointsAtTheColumnInAFoldedBlock) {
  Edit("risk/tiers.yaml", "|| metadata.risk_level == \"critical\"",
       "|| metadata.risk_level == \"critical\" &&");
  std::vector<std::string> errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "risk/tiers.yaml:20:46: in condition: expected an operand after '&&', found "
            "end of expression");
}

// A rule appended to the default rules: it requires `controls`.
std::string RequiringRule(const std::string& effect, const std::string& controls) {
  return "\n  - id: production-security\n    when: change.environment == \"production\"\n"
         "    effect: " +
         effect + "\n" +
         (effect == "deny" ? "" : "    approvals: 1\n    workflow: standard_change\n") +
         "    requires_controls: " + controls + "\n";
}

TEST_F(LoaderTest, RequiredControlsNameControlsChecklistsOrFrameworks) {
  std::string rules = dir_.Read("decision/rules.yaml");
  dir_.Write("decision/rules.yaml",
             rules + RequiringRule("require_approval", "[security, audit-trail-verifies]"));
  RealFileSystem fs;
  auto g = Load(fs, dir_.path());
  ASSERT_TRUE(g.has_value()) << g.error().front().ToString();
  ControlSet expected;
  const std::vector<Control>& controls = g->compliance.controls;
  for (size_t i = 0; i < controls.size(); ++i) {
    bool sec = std::any_of(controls[i].covers.begin(), controls[i].covers.end(),
                           [](const std::string& item) { return item.starts_with("SEC-"); });
    if (sec || controls[i].id == "audit-trail-verifies") expected.set(i);
  }
  ASSERT_TRUE(expected.any());
  EXPECT_EQ(g->rules.back().requires_controls, expected);
  EXPECT_TRUE(g->rules.front().requires_controls.none());

  dir_.Write("decision/rules.yaml", rules + RequiringRule("require_approval", "[SOC2]"));
  g = Load(fs, dir_.path());
  ASSERT_TRUE(g.has_value());
  for (size_t i = 0; i < controls.size(); ++i) {
    EXPECT_EQ(g->rules.back().requires_controls.test(i), controls[i].MapsTo("SOC2")) << i;
  }
}

TEST_F(LoaderTest, AnUnknownRequiredControlSuggestsTheKnownOne) {
  std::string rules = dir_.Read("decision/rules.yaml");
  size_t lines = static_cast<size_t>(std::count(rules.begin(), rules.end(), '\n'));
  dir_.Write("decision/rules.yaml",
             rules + RequiringRule("require_approval", "[audit-trail-verify]"));
  ExpectError(fmt::format(
      "decision/rules.yaml:{}:25: unknown control, checklist or framework 'audit-trail-verify' "
      "(did you mean 'audit-trail-verifies'?)",
      lines + 7));
  dir_.Write("decision/rules.yaml", rules + RequiringRule("deny", "[security]"));
  ExpectError(fmt::format(
      "decision/rules.yaml:{}:24: a deny rule takes no approvals, workflow or requires_controls",
      lines + 5));
}

TEST_F(LoaderTest, ConditionErrorPointsAtTheColumnOnOneLine) {
  Edit("decision/rules.yaml", "when: change.type == \"model_update\"",
       "when: change.typ == \"model_update\"");
  ExpectError("decision/rules.yaml:28:11: in condition: unknown field 'change.typ'");
}

TEST_F(LoaderTest, YamlSyntaxErrorIsLocated) {
  Edit("principals.yaml", "    name: Bob Example\n", "    name: Bob Example\n   bad: [\n");
  std::vector<std::string> errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("principals.yaml:")) << errors[0];
}

TEST_F(LoaderTest, InvalidUtf8IsAnError) {
  Edit("principals.yaml", "Alice Example", "Alice \xff\xfe Example");
  std::vector<std::string> errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("principals.yaml:")) << errors[0];
}

TEST_F(LoaderTest, MissingRequiredFile) {
  std::remove((dir_.path() + "/decision/matrix.yaml").c_str());
  ExpectError("decision/matrix.yaml: required file is missing");
}

TEST_F(LoaderTest, MisspeltGovernanceFileIsReported) {
  dir_.Write("approvals/workflows.yml", "version: 1\n");
  ExpectError(
      "approvals/workflows.yml: not a governance file; Interlock would ignore its rules "
      "(did you mean 'approvals/workflow.yml'?)");
}

TEST_F(LoaderTest, UnsupportedVersion) {
  Edit("interlock.yaml", "version: 1", "version: 2");
  ExpectError("interlock.yaml:3:10: unsupported version '2'; this Interlock reads version 1");
}

TEST_F(LoaderTest, UnstaffedMandatoryRole) {
  Edit("principals.yaml", "roles: [ops-lead]", "roles: [engineer]");
  ExpectError(
      "decision/matrix.yaml:88:5: row 'infrastructure-production' needs an approval from "
      "role 'ops-lead', but no human in principals.yaml holds it");
}

TEST_F(LoaderTest, MandatoryRolesCannotExceedCount) {
  Edit("decision/matrix.yaml", "approvals: {count: 2, roles: [compliance-lead, cto]}",
       "approvals: {count: 1, roles: [compliance-lead, cto]}");
  ExpectError("decision/matrix.yaml:114:16: 2 mandatory roles cannot be satisfied by 1 approvers");
}

// Fault injection: a file that cannot be read refuses the directory with a
// located error; nothing half-loaded is returned.
TEST(LoaderFaultTest, UnreadableFileRefusesTheDirectory) {
  MemoryFileSystem fs;
  ASSERT_TRUE(Scaffold(fs, "g", false));
  fs.FailReads("g/decision/matrix.yaml");
  auto loaded = Load(fs, "g");
  ASSERT_FALSE(loaded);
  ASSERT_EQ(loaded.error().size(), 1u);
  EXPECT_EQ(loaded.error()[0].ToString(),
            "decision/matrix.yaml: g/decision/matrix.yaml: read failed: injected fault");
}

TEST(LoaderFaultTest, ScaffoldReportsAFailedWrite) {
  MemoryFileSystem fs;
  fs.FailWrites("g/risk/tiers.yaml");
  auto written = Scaffold(fs, "g", false);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().message(), "g/risk/tiers.yaml: write failed: injected fault");
}

TEST_F(LoaderTest, NotADirectory) {
  RealFileSystem fs;
  auto loaded = Load(fs, dir_.path() + "/nope");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().front().message,
            "not a governance directory (run `interlock init` to create one)");
}

TEST_F(LoaderTest, EveryErrorIsReportedNotJustTheFirst) {
  Edit("approvals/workflow.yml", "required_approvers: 2", "required_approvers: two");
  Edit("principals.yaml", "type: human", "type: person");
  EXPECT_GE(Errors().size(), 2u);
}

}  // namespace
}  // namespace interlock::governance

namespace interlock::governance {
namespace {

class FreezeWindowsTest : public LoaderTest {
 protected:
  void Windows(const std::string& items) {
    dir_.Write("safety/freeze-windows.yml", "version: 1\nfreeze_windows:\n" + items);
  }
};

TEST_F(FreezeWindowsTest, DefaultsHaveTheModelUpdateAndRollbackWindows) {
  RealFileSystem fs;
  auto loaded = Load(fs, dir_.path());
  ASSERT_TRUE(loaded) << (loaded ? "" : loaded.error().front().ToString());
  ASSERT_EQ(loaded->freeze_windows.size(), 2u);
  const FreezeWindow& model = loaded->freeze_windows[0];
  EXPECT_EQ(model.name, "model-observation");
  EXPECT_EQ(model.kind, FreezeKind::kAfterModelUpdate);
  EXPECT_EQ(model.duration, Millis(48LL * 3'600'000));  // canary.yml's freeze_window
  EXPECT_EQ(model.change_types, std::vector<ChangeType>{ChangeType::kModelUpdate});
  const FreezeWindow& rollback = loaded->freeze_windows[1];
  EXPECT_EQ(rollback.kind, FreezeKind::kAfterRollback);
  ASSERT_TRUE(rollback.break_glass.has_value());
  EXPECT_EQ(loaded->workflows[*rollback.break_glass].id, "high_risk_change");
}

TEST_F(FreezeWindowsTest, ReadsScheduledWindows) {
  Windows(R"(  - name: weekend
    weekly: {from: "Fri 16:00", to: "Mon 08:00"}
    time_zone: Europe/Berlin
    environments: [production]
    services: [Payments]
    break_glass: critical_change
  - name: year-end
    cron: "0 18 23 12 *"
    duration: 10d
    time_zone: UTC
)");
  RealFileSystem fs;
  auto loaded = Load(fs, dir_.path());
  ASSERT_TRUE(loaded) << (loaded ? "" : loaded.error().front().ToString());
  ASSERT_EQ(loaded->freeze_windows.size(), 2u);
  const FreezeWindow& weekend = loaded->freeze_windows[0];
  EXPECT_EQ(weekend.weekly_from, 5 * 1440 + 16 * 60);
  EXPECT_EQ(weekend.weekly_to, 1440 + 8 * 60);
  EXPECT_EQ(weekend.zone->name(), "Europe/Berlin");
  EXPECT_EQ(weekend.services, std::vector<std::string>{"payments"});
  EXPECT_EQ(loaded->freeze_windows[1].cron_text, "0 18 23 12 *");
}

TEST_F(FreezeWindowsTest, ReportsEachMistakeWhereItIs) {
  Windows(R"(  - name: a
    weekly: {from: "Fri 16:00", to: "Mon 8:00"}
    time_zone: Europe/Berlin
  - name: b
    cron: "0 25 * * *"
    duration: 1h
    time_zone: Mars/Olympus_Mons
  - name: c
    after: deploy
  - name: d
    weekly: {from: "Fri 16:00", to: "Mon 08:00"}
  - name: e
    cron: "0 0 * * *"
    time_zone: UTC
  - name: f
    after: rollback
    duration: 1h
  - name: g
    after: rollback
    break_glass: nobody
  - name: a
    after: rollback
  - name: h
    weekly: {from: "Fri 16:00", to: "Mon 08:00"}
    cron: "0 0 * * *"
)");
  ExpectError(
      "safety/freeze-windows.yml:4:37: expected a day and a time such as \"Fri 16:00\", found "
      "\"Mon 8:00\"");
  ExpectError(
      "safety/freeze-windows.yml:7:11: cron hour \"25\": a value out of range (expected 0-23, *, "
      "a-b, */n or a list)");
  ExpectError(
      "safety/freeze-windows.yml:9:16: no time zone Mars/Olympus_Mons (no file "
      "/usr/share/zoneinfo/Mars/Olympus_Mons; is the tzdata package installed?)");
  ExpectError("safety/freeze-windows.yml:11:12: unknown event 'deploy'");
  ExpectError(
      "safety/freeze-windows.yml:12:5: a weekly or cron window needs a time_zone, such as "
      "Europe/Berlin or UTC");
  ExpectError("safety/freeze-windows.yml:14:5: a cron window needs a duration");
  ExpectError(
      "safety/freeze-windows.yml:19:15: a window after a rollback ends when the review is in; it "
      "takes no duration");
  ExpectError("safety/freeze-windows.yml:23:5: duplicate freeze window 'a' (first defined at 3:5)");
  ExpectError(
      "safety/freeze-windows.yml:25:5: a freeze window needs exactly one of weekly, cron and "
      "after");
  ExpectError("safety/freeze-windows.yml:22:18: unknown workflow 'nobody'");
  EXPECT_EQ(Errors().size(), 10u);
}

}  // namespace
}  // namespace interlock::governance

namespace interlock::governance {
namespace {

TEST_F(LoaderTest, TheControlCatalogueCoversEveryChecklistItem) {
  RealFileSystem fs;
  auto loaded = Load(fs, dir_.path());
  ASSERT_TRUE(loaded);
  const CompliancePolicy& c = loaded->compliance;
  EXPECT_EQ(c.checklists.size(), 3u);
  ASSERT_NE(c.FindControl("audit-trail-verifies"), nullptr);
  EXPECT_TRUE(c.FindControl("audit-trail-verifies")->MapsTo("HIPAA"));
  EXPECT_FALSE(c.FindControl("audit-trail-verifies")->MapsTo("HIPA"));
  EXPECT_EQ(c.FindControl("drill-rollback")->drill, "rollback");

  Edit("compliance/controls.yml", "    covers: [HIPAA-6]\n", "    covers: []\n");
  ExpectError(
      "compliance/controls.yml:59:3: no check covers HIPAA-6 (Business Associate Agreements "
      "signed) of framework HIPAA in frameworks.yml");
}

TEST_F(LoaderTest, AControlIsCheckedKeyByKey) {
  Edit("compliance/controls.yml", "    check: audit_verifies\n", "    check: audit_verified\n");
  Edit("compliance/controls.yml", "maps: [HIPAA:164.312(e)(1),", "maps: [HIPPA:164.312(e)(1),");
  Edit("compliance/controls.yml", "    drill: rollback\n",
       "    drill: rollback\n    terminator: x\n");
  Edit("compliance/controls.yml", "covers: [PRIV-2]", "covers: [PRIV-9]");
  Edit("compliance/controls.yml", "    check: ai_boundaries\n",
       "    check: ai_boundaries\n    within: 3d\n");
  std::vector<std::string> errors = Errors();
  std::string all;
  for (const std::string& e : errors) all += e + "\n";
  EXPECT_NE(all.find("unknown check 'audit_verified' (did you mean 'audit_verifies'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("unknown framework (of frameworks.yml) 'HIPPA' (did you mean 'HIPAA'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("terminator applies only to check: tls_in_transit"), std::string::npos) << all;
  EXPECT_NE(all.find("'PRIV-9'"), std::string::npos) << all;
  EXPECT_NE(all.find("within applies to the checks drill, attested and encryption_at_rest, not "
                     "ai_boundaries"),
            std::string::npos)
      << all;
}

}  // namespace
}  // namespace interlock::governance
