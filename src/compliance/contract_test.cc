#include "compliance/contract.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace interlock::compliance {
namespace {

constexpr std::string_view kBreaking = R"({
  "contract": "contracts/openapi.yaml#/components/schemas/BassSpec",
  "change_type": "breaking",
  "consumers": [
    {"module": "bass", "impact": "high", "migration_required": true},
    {"module": "drums", "impact": "low", "migration_required": false}
  ],
  "migration_guide": "Send bars as an integer."
})";

TEST(CompatibilityReport, ReadsTheSeedsReport) {
  auto report = ParseCompatibilityReport(kBreaking);
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->contract, "contracts/openapi.yaml#/components/schemas/BassSpec");
  EXPECT_EQ(report->change_type, ChangeClass::kBreaking);
  ASSERT_EQ(report->consumers.size(), 2u);
  EXPECT_EQ(report->consumers[0].module, "bass");
  EXPECT_EQ(report->consumers[0].impact, Impact::kHigh);
  EXPECT_TRUE(report->consumers[0].migration_required);
  EXPECT_EQ(report->consumers[1].impact, Impact::kLow);
  EXPECT_FALSE(report->consumers[1].migration_required);
  EXPECT_EQ(report->migration_guide, "Send bars as an integer.");

  auto minimal = ParseCompatibilityReport(R"({"contract": "api.yaml", "change_type": "additive"})");
  ASSERT_TRUE(minimal.has_value()) << minimal.error().message();
  EXPECT_TRUE(minimal->consumers.empty());
  EXPECT_EQ(minimal->migration_guide, "");
}

struct BadReport {
  std::string name;
  std::string text;
  std::string error;
};

class BadReports : public ::testing::TestWithParam<BadReport> {};

TEST_P(BadReports, ExactError) {
  auto report = ParseCompatibilityReport(GetParam().text, {.max_consumers = 3, .max_text = 40});
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(report.error().message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    CompatibilityReport, BadReports,
    ::testing::ValuesIn(std::vector<BadReport>{
        {"NotJson", "{\"contract\": ",
         "contract: malformed JSON at line 1, column 14: expected a value, found end of input"},
        {"NotAnObject", "[]", "compatibility_report: expected an object, found an array"},
        {"UnknownField", R"({"contract": "a", "change_type": "additive", "owner": "x"})",
         "compatibility_report: unknown field \"owner\" (expected one of: contract, change_type, "
         "consumers, migration_guide)"},
        {"NoContract", R"({"change_type": "additive"})", "compatibility_report.contract: required"},
        {"BlankContract", R"({"contract": " ", "change_type": "additive"})",
         "compatibility_report.contract: must not be empty"},
        {"LongContract",
         R"({"contract": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "change_type": "additive"})",
         "compatibility_report.contract: at most 40 bytes, found 41"},
        {"NoChangeType", R"({"contract": "a"})", "compatibility_report.change_type: required"},
        {"UnknownChangeType", R"({"contract": "a", "change_type": "major"})",
         "compatibility_report.change_type: expected one of non_breaking, additive, breaking, "
         "found \"major\""},
        {"ConsumersNotAnArray", R"({"contract": "a", "change_type": "additive", "consumers": {}})",
         "compatibility_report.consumers: expected an array, found an object"},
        {"ConsumerNotAnObject",
         R"({"contract": "a", "change_type": "additive", "consumers": ["bass"]})",
         "compatibility_report.consumers[0]: expected an object, found a string"},
        {"BadImpact",
         R"({"contract": "a", "change_type": "additive", "consumers": [
           {"module": "a", "impact": "low", "migration_required": false},
           {"module": "b", "impact": "huge", "migration_required": false}]})",
         "compatibility_report.consumers[1].impact: expected one of high, medium, low, found "
         "\"huge\""},
        {"MigrationRequiredMissing",
         R"({"contract": "a", "change_type": "additive", "consumers": [{"module": "a", "impact": "low"}]})",
         "compatibility_report.consumers[0].migration_required: required"},
        {"MigrationRequiredNotBool",
         R"({"contract": "a", "change_type": "additive", "consumers": [
           {"module": "a", "impact": "low", "migration_required": "yes"}]})",
         "compatibility_report.consumers[0].migration_required: expected a boolean, found a "
         "string"},
        {"UnknownConsumerField",
         R"({"contract": "a", "change_type": "additive", "consumers": [
           {"module": "a", "impact": "low", "migration_required": false, "team": "x"}]})",
         "compatibility_report.consumers[0]: unknown field \"team\" (expected one of: module, "
         "impact, migration_required)"},
        {"ModuleTwice",
         R"({"contract": "a", "change_type": "additive", "consumers": [
           {"module": "a", "impact": "low", "migration_required": false},
           {"module": "a", "impact": "high", "migration_required": false}]})",
         "compatibility_report.consumers[1].module: \"a\" is listed twice (first at "
         "compatibility_report.consumers[0])"},
        {"TooManyConsumers",
         R"({"contract": "a", "change_type": "additive", "consumers": [{}, {}, {}, {}]})",
         "compatibility_report.consumers: at most 3 consumers, found 4"},
        {"BreakingWithoutGuide", R"({"contract": "a", "change_type": "breaking"})",
         "compatibility_report.migration_guide: required when change_type is breaking"},
        {"BreakingWithBlankGuide",
         R"({"contract": "a", "change_type": "breaking", "migration_guide": ""})",
         "compatibility_report.migration_guide: must not be empty"},
        {"MigrationWithoutGuide",
         R"({"contract": "a", "change_type": "additive", "consumers": [
           {"module": "a", "impact": "low", "migration_required": true}]})",
         "compatibility_report.migration_guide: required when a consumer's migration_required "
         "is true"},
        {"GuideNotAString",
         R"({"contract": "a", "change_type": "breaking", "migration_guide": ["step"]})",
         "compatibility_report.migration_guide: expected a string, found an array"},
    }),
    [](const auto& info) { return info.param.name; });

struct BumpRow {
  std::string name;
  ChangeClass claimed;
  std::string from;  // empty: only the bump is known
  std::string to;
  Bump bump;
  bool unchanged;
  std::string reason;  // empty: fits
};

class Bumps : public ::testing::TestWithParam<BumpRow> {};

TEST_P(Bumps, FitOrReason) {
  const BumpRow& row = GetParam();
  VersionChange change = VersionChange::OfBump(row.bump);
  if (!row.from.empty()) {
    auto between = VersionChange::Between(row.from, row.to);
    ASSERT_TRUE(between.has_value()) << between.error().message();
    change = *between;
  }
  auto reason = BumpReason(row.claimed, "the report claims", change, row.unchanged);
  EXPECT_EQ(reason.value_or(""), row.reason);
}

INSTANTIATE_TEST_SUITE_P(
    ContractBump, Bumps,
    ::testing::ValuesIn(std::vector<BumpRow>{
        {"BreakingMajor", ChangeClass::kBreaking, "1.4.2", "2.0.0", Bump::kMajor, false, ""},
        {"BreakingMinor", ChangeClass::kBreaking, "1.4.2", "1.5.0", Bump::kMinor, false,
         "the report claims a breaking change, which needs a major version bump; 1.4.2 to 1.5.0 "
         "is a minor bump"},
        {"AdditiveMinor", ChangeClass::kAdditive, "v1.4.2", "v1.5.0", Bump::kMinor, false, ""},
        {"AdditivePatch", ChangeClass::kAdditive, "", "", Bump::kPatch, false,
         "the report claims an additive change, which needs a minor version bump; the bump made "
         "is patch"},
        {"AdditiveMajorIsTooMuch", ChangeClass::kAdditive, "1.4.2", "2.0.0", Bump::kMajor, false,
         "the report claims an additive change, which needs a minor version bump; 1.4.2 to 2.0.0 "
         "is a major bump"},
        {"NonBreakingMinor", ChangeClass::kNonBreaking, "", "", Bump::kMinor, false, ""},
        {"NonBreakingPatch", ChangeClass::kNonBreaking, "", "", Bump::kPatch, false,
         "the report claims a non_breaking change, which needs a minor version bump; the bump "
         "made is patch"},
        {"FixPatch", ChangeClass::kNonBreaking, "1.4.2", "1.4.3", Bump::kPatch, true, ""},
        {"FixMinor", ChangeClass::kNonBreaking, "1.4.2", "1.5.0", Bump::kMinor, true, ""},
        {"Downgrade", ChangeClass::kBreaking, "2.0.0", "1.9.0", Bump::kMajor, false,
         "the version goes down from 2.0.0 to 1.9.0: a contract change needs a higher version"},
        {"SameVersion", ChangeClass::kNonBreaking, "1.2.0", "1.2.0", Bump::kPatch, true,
         "the version stays 1.2.0: a contract change needs a higher version"},
    }),
    [](const auto& info) { return info.param.name; });

TEST(ContractBump, VersionsThatAreNotSemanticVersions) {
  auto from = VersionChange::Between("one", "2.0.0");
  ASSERT_FALSE(from.has_value());
  EXPECT_EQ(from.error().message(),
            "from version: expected a semantic version such as 2.5.4 or v2.5.4, found 'one'");
  auto to = VersionChange::Between("1.0.0", "2.0");
  ASSERT_FALSE(to.has_value());
  EXPECT_EQ(to.error().message(),
            "to version: expected a semantic version such as 2.5.4 or v2.5.4, found '2.0'");
}

ContractDiff DiffOf(std::vector<ContractFinding> findings) {
  ContractDiff diff;
  for (const ContractFinding& f : findings) {
    diff.counts[static_cast<size_t>(f.change_class)]++;
    diff.verdict = std::max(diff.verdict, f.change_class);
  }
  diff.findings = std::move(findings);
  return diff;
}

TEST(ContractDenyReasons, AReportThatClaimsLessThanTheDiffFindsIsRefused) {
  CompatibilityReport report{"api.yaml", ChangeClass::kAdditive, {}, ""};
  ContractDiff diff = DiffOf({
      {FindingKind::kPathAdded, ChangeClass::kAdditive, "paths./b", "the path was added"},
      {FindingKind::kPathRemoved, ChangeClass::kBreaking, "paths./a", "the path was removed"},
      {FindingKind::kResponseFieldRemoved, ChangeClass::kBreaking, "paths./c.get.x",
       "the response field x was removed"},
      {FindingKind::kTypeNarrowed, ChangeClass::kBreaking, "paths./d.post.y",
       "type string "
       "became integer"},
      {FindingKind::kEnumNarrowed, ChangeClass::kBreaking, "paths./e.post.z",
       "enum values removed: \"red\""},
  });
  auto reasons = ContractDenyReasons(report, VersionChange::OfBump(Bump::kMinor), &diff);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0],
            "the report claims an additive change, but the diff finds 4 breaking changes: the "
            "path was removed (paths./a); the response field x was removed (paths./c.get.x); "
            "type string became integer (paths./d.post.y); and 1 more");
}

TEST(ContractDenyReasons, BothReasonsAndTheFittingCase) {
  CompatibilityReport report{"api.yaml", ChangeClass::kNonBreaking, {}, ""};
  ContractDiff diff =
      DiffOf({{FindingKind::kPathAdded, ChangeClass::kAdditive, "paths./b", "the path was added"}});
  auto change = VersionChange::Between("1.0.0", "1.0.1");
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ(ContractDenyReasons(report, *change, &diff),
            (std::vector<std::string>{
                "the report claims a non_breaking change, which needs a minor version bump; 1.0.0 "
                "to 1.0.1 is a patch bump",
                "the report claims a non_breaking change, but the diff finds 1 additive change: "
                "the path was added (paths./b)"}));

  report.change_type = ChangeClass::kAdditive;
  EXPECT_TRUE(ContractDenyReasons(report, VersionChange::OfBump(Bump::kMinor), &diff).empty());
  // Claiming more than the diff finds is allowed; the bump follows the claim.
  report.change_type = ChangeClass::kBreaking;
  EXPECT_TRUE(ContractDenyReasons(report, VersionChange::OfBump(Bump::kMajor), &diff).empty());
  // Without a diff only the bump is checked; without versions only the diff.
  EXPECT_EQ(ContractDenyReasons(report, VersionChange::OfBump(Bump::kMinor), nullptr).size(), 1u);
  report.change_type = ChangeClass::kNonBreaking;
  EXPECT_EQ(ContractDenyReasons(report, std::nullopt, &diff).size(), 1u);
  EXPECT_TRUE(ContractDenyReasons(report, std::nullopt, nullptr).empty());
}

TEST(ContractDenyReasons, WorksWithARealDiff) {
  const std::string before =
      "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses: {'200': {description: ok}}\n";
  auto diff = DiffOpenApi({"old.yaml", before}, {"new.yaml", "openapi: 3.0.3\npaths: {}\n"});
  ASSERT_TRUE(diff.has_value()) << diff.error().message();
  auto report = ParseCompatibilityReport(R"({"contract": "api.yaml", "change_type": "additive"})");
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(ContractDenyReasons(*report, VersionChange::OfBump(Bump::kMinor), &*diff),
            (std::vector<std::string>{"the report claims an additive change, but the diff finds "
                                      "1 breaking change: the path was removed (paths./a)"}));
}

}  // namespace
}  // namespace interlock::compliance
