#include "compliance/drill.h"

#include <gtest/gtest.h>

#include "core/memory_fs.h"
#include "governance/defaults.h"
#include "governance/loader.h"

namespace interlock::compliance {
namespace {

TEST(DrillReport, ReadsTheDocumentationOfADrill) {
  auto r = ParseDrillReport(R"({"drill": "emergency-stop", "scenario": "scoped stop",
    "expected": "decisions denied", "actual": "denied", "passed": true})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->drill, "emergency-stop");
  EXPECT_TRUE(r->passed);
  EXPECT_TRUE(r->issues.empty());
  EXPECT_EQ(r->remediation, "");
  auto failed = ParseDrillReport(R"({"drill": "rollback", "scenario": "s", "expected": "e",
    "actual": "a", "passed": false, "issues": ["slow"], "remediation": "tune the canary"})");
  ASSERT_TRUE(failed) << failed.error().message();
  EXPECT_EQ(failed->issues, std::vector<std::string>{"slow"});
}

TEST(DrillReport, RefusesWhatIsMalformedNamingTheField) {
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"drill": "fire", "scenario": "s", "expected": "e", "actual": "a", "passed": true})",
       "drill: expected one of emergency-stop, rollback, approval-bypass, audit-verify"},
      {R"({"drill": "rollback", "scenario": " ", "expected": "e", "actual": "a",
           "passed": true})",
       "scenario: required, not blank"},
      {R"({"drill": "rollback", "scenario": "s", "expected": "e", "actual": "a"})",
       "passed: required"},
      {R"({"drill": "rollback", "scenario": "s", "expected": "e", "actual": "a",
           "passed": "yes"})",
       "passed"},
      {R"({"drill": "rollback", "scenario": "s", "expected": "e", "actual": "a",
           "passed": false})",
       "remediation: required when the drill failed or found issues"},
      {R"({"drill": "rollback", "scenario": "s", "expected": "e", "actual": "a",
           "passed": true, "issues": [""], "remediation": "r"})",
       "issues[0]"},
      {R"({"drill": "rollback", "scenario": "s", "expected": "e", "actual": "a",
           "passed": true, "signed_off": true})",
       "signed_off"},
      {R"("drill")", "drill"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    auto r = ParseDrillReport(c.body);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find(c.message), std::string::npos) << r.error().message();
  }
}

TEST(DrillReport, TheIntervalIsTheShortestWithinOfTheDrillsControls) {
  MemoryFileSystem fs;
  ASSERT_TRUE(governance::Scaffold(fs, "g", false));
  auto g = governance::Load(fs, "g");
  ASSERT_TRUE(g);
  EXPECT_EQ(DrillInterval(*g, "rollback"), Millis(90LL * 86'400'000));
  EXPECT_EQ(DrillInterval(*g, "fire"), std::nullopt);
}

}  // namespace
}  // namespace interlock::compliance
