// The change record reader: every member's type, required members, bounds,
// timestamps and the JSON reader's refusals, with their exact messages.
#include "compliance/change_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace interlock::compliance {
namespace {

using json = nlohmann::ordered_json;

// Seed 003's example, with a risk level chosen.
json Seed() {
  return json::parse(R"js({
  "change_id": "CHANGE-1",
  "author": "author_name",
  "owner": "owner_name",
  "timestamp": "2025-01-08T10:00:00Z",
  "rationale": "Change rationale and motivation",
  "impact": "Impact description (modules affected, breaking changes, etc.)",
  "tests_run": ["test_module.py::test_function", "test_integration.py::test_integration"],
  "artifacts": ["path/to/artifact1", "path/to/artifact2"],
  "approvals": [
    {"approver": "approver_name", "timestamp": "2025-01-08T11:00:00Z",
     "rationale": "Approval rationale"}
  ],
  "rollback_plan": "Rollback steps",
  "risk_level": "medium"
})js");
}

std::string Error(const std::string& text) {
  auto r = ParseChangeRecord(text);
  if (r) return "(parsed)";
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument);
  return r.error().message();
}

TEST(ChangeRecordTest, ReadsSeed003sExample) {
  auto r = ParseChangeRecord(Seed().dump(2));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->change_id, "CHANGE-1");
  EXPECT_EQ(r->author, "author_name");
  EXPECT_EQ(r->owner, "owner_name");
  EXPECT_EQ(r->timestamp, 1736330400000);  // 2025-01-08T10:00:00Z
  EXPECT_EQ(r->rationale, "Change rationale and motivation");
  EXPECT_EQ(r->impact, "Impact description (modules affected, breaking changes, etc.)");
  EXPECT_EQ(r->tests_run, (std::vector<std::string>{"test_module.py::test_function",
                                                    "test_integration.py::test_integration"}));
  EXPECT_EQ(r->artifacts, (std::vector<std::string>{"path/to/artifact1", "path/to/artifact2"}));
  ASSERT_EQ(r->approvals.size(), 1u);
  EXPECT_EQ(r->approvals[0].approver, "approver_name");
  EXPECT_EQ(r->approvals[0].timestamp, 1736330400000 + 3'600'000);
  EXPECT_EQ(r->approvals[0].rationale, "Approval rationale");
  EXPECT_EQ(r->rollback_plan, "Rollback steps");
  EXPECT_EQ(r->risk_level, RiskLevel::kMedium);
  EXPECT_FALSE(r->type.has_value());
  EXPECT_FALSE(r->provenance.has_value());
  EXPECT_FALSE(r->compatibility_report.has_value());
}

TEST(ChangeRecordTest, ReadsTheOptionalMembers) {
  json j = Seed();
  j["type"] = "security";
  j["compatibility_report"] = json::parse(R"js({"contract": "contracts/openapi.yaml#/x",
      "change_type": "additive", "consumers": [], "migration_guide": "none"})js");
  j["provenance"] =
      json::parse(R"js({"model_id": "model_v1.2.0", "training_dataset": "dataset_v1.0.0",
      "training_config": "config_v1.1.0", "training_timestamp": "2025-01-08T09:00:00+01:00",
      "metrics": {"accuracy": 0.95, "f1_score": 0.92}})js");
  j["approvals"] = json::array();
  j["artifacts"] = json::array();
  j["tests_run"] = json::array();
  auto r = ParseChangeRecord(j.dump());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->type, ChangeCategory::kSecurity);
  ASSERT_TRUE(r->compatibility_report.has_value());
  ASSERT_TRUE(r->compatibility_report->is_object());
  EXPECT_EQ(r->compatibility_report->Find("change_type")->AsString(), "additive");
  ASSERT_TRUE(r->provenance.has_value());
  EXPECT_EQ(r->provenance->model_id, "model_v1.2.0");
  EXPECT_EQ(r->provenance->training_dataset, "dataset_v1.0.0");
  EXPECT_EQ(r->provenance->training_config, "config_v1.1.0");
  EXPECT_EQ(r->provenance->training_timestamp, 1736323200000);  // 08:00Z
  ASSERT_EQ(r->provenance->metrics.size(), 2u);
  EXPECT_EQ(r->provenance->metrics[0].first, "accuracy");
  EXPECT_DOUBLE_EQ(r->provenance->metrics[0].second, 0.95);
  EXPECT_TRUE(r->approvals.empty() && r->artifacts.empty() && r->tests_run.empty());

  // The report stays readable after the record moves.
  ChangeRecord moved = std::move(*r);
  EXPECT_EQ(moved.compatibility_report->Find("contract")->AsString(), "contracts/openapi.yaml#/x");
}

// One member of Seed() changed (nullopt: removed), and the message.
struct Case {
  const char* pointer;
  std::optional<json> value;
  std::string message;
};

TEST(ChangeRecordTest, EveryMemberIsCheckedWithItsPathAndWhatWasFound) {
  const std::string kUnknownTop =
      "change_metadata: unknown field \"priority\" (expected one of: change_id, author, owner, "
      "timestamp, rationale, impact, tests_run, artifacts, approvals, rollback_plan, risk_level, "
      "type, compatibility_report, provenance)";
  const Case cases[] = {
      // Required members.
      {"/change_id", std::nullopt, "change_metadata.change_id: required"},
      {"/author", std::nullopt, "change_metadata.author: required"},
      {"/owner", std::nullopt, "change_metadata.owner: required"},
      {"/owner", json(nullptr), "change_metadata.owner: required"},
      {"/timestamp", std::nullopt, "change_metadata.timestamp: required"},
      {"/rationale", std::nullopt, "change_metadata.rationale: required"},
      {"/impact", std::nullopt, "change_metadata.impact: required"},
      {"/tests_run", std::nullopt, "change_metadata.tests_run: required"},
      {"/artifacts", std::nullopt, "change_metadata.artifacts: required"},
      {"/approvals", std::nullopt, "change_metadata.approvals: required"},
      {"/rollback_plan", std::nullopt, "change_metadata.rollback_plan: required"},
      {"/risk_level", std::nullopt, "change_metadata.risk_level: required"},
      {"/approvals/0/approver", std::nullopt, "change_metadata.approvals[0].approver: required"},
      {"/approvals/0/timestamp", std::nullopt, "change_metadata.approvals[0].timestamp: required"},
      {"/approvals/0/rationale", std::nullopt, "change_metadata.approvals[0].rationale: required"},
      // Types.
      {"/change_id", json(42), "change_metadata.change_id: expected a string, found a number"},
      {"/author", json::array(), "change_metadata.author: expected a string, found an array"},
      {"/owner", json(true), "change_metadata.owner: expected a string, found a boolean"},
      {"/timestamp", json(1736330400),
       "change_metadata.timestamp: expected a string, found a number"},
      {"/rationale", json::object(),
       "change_metadata.rationale: expected a string, found an object"},
      {"/impact", json(0.5), "change_metadata.impact: expected a string, found a number"},
      {"/tests_run", json("all"),
       "change_metadata.tests_run: expected an array of strings, found a string"},
      {"/tests_run/1", json(7), "change_metadata.tests_run[1]: expected a string, found a number"},
      {"/artifacts", json::object(),
       "change_metadata.artifacts: expected an array of strings, found an object"},
      {"/artifacts/0", json(nullptr),
       "change_metadata.artifacts[0]: expected a string, found null"},
      {"/approvals", json("bob"),
       "change_metadata.approvals: expected an array of objects, found a string"},
      {"/approvals/0", json("bob"),
       "change_metadata.approvals[0]: expected an object, found a string"},
      {"/approvals/0/approver", json(7),
       "change_metadata.approvals[0].approver: expected a string, found a number"},
      {"/approvals/0/rationale", json(false),
       "change_metadata.approvals[0].rationale: expected a string, found a boolean"},
      {"/approvals/0/signature", json("x"),
       "change_metadata.approvals[0]: unknown field \"signature\" (expected one of: approver, "
       "timestamp, rationale)"},
      {"/rollback_plan", json(1),
       "change_metadata.rollback_plan: expected a string, found a number"},
      {"/risk_level", json(3), "change_metadata.risk_level: expected a string, found a number"},
      {"/risk_level", json("severe"),
       "change_metadata.risk_level: expected one of low, medium, high, critical, found \"severe\""},
      {"/risk_level", json("High"),
       "change_metadata.risk_level: expected one of low, medium, high, critical, found \"High\""},
      {"/type", json("chore"),
       "change_metadata.type: expected one of feature, bugfix, refactor, security, found "
       "\"chore\""},
      {"/type", json(1), "change_metadata.type: expected a string, found a number"},
      {"/compatibility_report", json::array(),
       "change_metadata.compatibility_report: expected an object, found an array"},
      {"/provenance", json("model_v1"),
       "change_metadata.provenance: expected an object, found a string"},
      {"/priority", json("p1"), kUnknownTop},
      // Empty and multi-line text.
      {"/rollback_plan", json(""),
       "change_metadata.rollback_plan: expected a non-empty string, found \"\""},
      {"/rollback_plan", json(" \n\t"),
       "change_metadata.rollback_plan: expected a non-empty string, found \" \\n\\t\""},
      {"/change_id", json(""),
       "change_metadata.change_id: expected a non-empty string, found \"\""},
      {"/approvals/0/approver", json(" "),
       "change_metadata.approvals[0].approver: expected a non-empty string, found \" \""},
      {"/tests_run/0", json(""),
       "change_metadata.tests_run[0]: expected a non-empty string, found \"\""},
      {"/author", json("alice\nmallory"),
       "change_metadata.author: expected one line without control characters, found "
       "\"alice\\nmallory\""},
      {"/artifacts/1", json("a\u007fb"),
       "change_metadata.artifacts[1]: expected one line without control characters, found "
       "\"a\u007fb\""},
      // Timestamps.
      {"/timestamp", json("yesterday"),
       "change_metadata.timestamp: expected an RFC 3339 date-time, found \"yesterday\""},
      {"/approvals/0/timestamp", json("yesterday"),
       "change_metadata.approvals[0].timestamp: expected an RFC 3339 date-time, found "
       "\"yesterday\""},
      {"/timestamp", json("2025-01-08 10:00:00Z"),
       "change_metadata.timestamp: expected an RFC 3339 date-time, found \"2025-01-08 10:00:00Z\""},
      {"/timestamp", json("2025-01-08T10:00:00"),
       "change_metadata.timestamp: expected an RFC 3339 date-time, found \"2025-01-08T10:00:00\""},
      {"/timestamp", json("2025-02-30T10:00:00Z"),
       "change_metadata.timestamp: expected an RFC 3339 date-time, found \"2025-02-30T10:00:00Z\""},
      {"/timestamp", json("2025-01-08"),
       "change_metadata.timestamp: expected an RFC 3339 date-time, found \"2025-01-08\""},
      {"/timestamp", json(std::string(100, '9')),
       "change_metadata.timestamp: expected an RFC 3339 date-time, found \"" +
           std::string(64, '9') + "\"..."},
      // Bounds.
      {"/author", json(std::string(257, 'a')),
       "change_metadata.author: expected at most 256 bytes, found 257"},
      {"/approvals/0/approver", json(std::string(300, 'b')),
       "change_metadata.approvals[0].approver: expected at most 256 bytes, found 300"},
      {"/rationale", json(std::string(16385, 'r')),
       "change_metadata.rationale: expected at most 16384 bytes, found 16385"},
      {"/tests_run/0", json(std::string(1025, 't')),
       "change_metadata.tests_run[0]: expected at most 1024 bytes, found 1025"},
      {"/tests_run", json(std::vector<std::string>(10001, "t")),
       "change_metadata.tests_run: expected at most 10000 items, found 10001"},
      {"/artifacts", json(std::vector<std::string>(10001, "a")),
       "change_metadata.artifacts: expected at most 10000 items, found 10001"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    json j = Seed();
    json::json_pointer at(c.pointer);
    if (c.value) {
      j[at] = *c.value;
    } else {
      j[at.parent_pointer()].erase(at.back());
    }
    EXPECT_EQ(Error(j.dump()), c.message);
  }
}

TEST(ChangeRecordTest, ProvenanceNeedsEveryMember) {
  const json full = json::parse(R"js({"model_id": "m", "training_dataset": "d",
      "training_config": "c", "training_timestamp": "2025-01-08T10:00:00Z",
      "metrics": {"accuracy": 0.95}})js");
  const Case cases[] = {
      {"/model_id", std::nullopt, "change_metadata.provenance.model_id: required"},
      {"/training_dataset", std::nullopt, "change_metadata.provenance.training_dataset: required"},
      {"/training_config", json(""),
       "change_metadata.provenance.training_config: expected a non-empty string, found \"\""},
      {"/training_timestamp", json("soon"),
       "change_metadata.provenance.training_timestamp: expected an RFC 3339 date-time, found "
       "\"soon\""},
      {"/metrics", std::nullopt, "change_metadata.provenance.metrics: required"},
      {"/metrics", json::array(),
       "change_metadata.provenance.metrics: expected an object of numbers, found an array"},
      {"/metrics/accuracy", json("high"),
       "change_metadata.provenance.metrics.accuracy: expected a number, found a string"},
      {"/metrics/", json(1),
       "change_metadata.provenance.metrics: expected metric names of 1 to 256 bytes on one line, "
       "found \"\""},
      {"/weights", json("w.bin"),
       "change_metadata.provenance: unknown field \"weights\" (expected one of: model_id, "
       "training_dataset, training_config, training_timestamp, metrics)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pointer);
    json p = full;
    json::json_pointer at(c.pointer);
    if (c.value) {
      p[at] = *c.value;
    } else {
      p.erase(at.back());
    }
    json j = Seed();
    j["provenance"] = p;
    EXPECT_EQ(Error(j.dump()), c.message);
  }
}

TEST(ChangeRecordTest, TooManyApprovalsOrMetrics) {
  json j = Seed();
  json approval = j["approvals"][0];
  j["approvals"] = json::array();
  for (int i = 0; i < 101; ++i) j["approvals"].push_back(approval);
  EXPECT_EQ(Error(j.dump()), "change_metadata.approvals: expected at most 100 items, found 101");

  j = Seed();
  json metrics = json::object();
  for (int i = 0; i < 10001; ++i) metrics["m" + std::to_string(i)] = i;
  j["provenance"] = {{"model_id", "m"},
                     {"training_dataset", "d"},
                     {"training_config", "c"},
                     {"training_timestamp", "2025-01-08T10:00:00Z"},
                     {"metrics", metrics}};
  EXPECT_EQ(Error(j.dump()),
            "change_metadata.provenance.metrics: expected at most 10000 items, found 10001");
}

TEST(ChangeRecordTest, TheJsonReadersRefusalsNameTheRecord) {
  struct Raw {
    std::string text;
    std::string message;
  };
  const Raw cases[] = {
      {R"js({"author": "a", "author": "b"})js",
       "change_metadata: duplicate key \"author\" at line 1, column 17"},
      {R"js({"approvals": [{"approver": "a", "approver": "b"}]})js",
       "change_metadata.approvals[0]: duplicate key \"approver\" at line 1, column 34"},
      {"{\"rationale\": \"caf\xC3\"}",
       "change_metadata.rationale: invalid UTF-8 at line 1, column 19"},
      {"{\"rationale\": \"\xED\xA0\x80\"}",
       "change_metadata.rationale: invalid UTF-8 at line 1, column 16"},
      {"[]", "change_metadata: expected a JSON object, found an array"},
      {"",
       "change_metadata: malformed JSON at line 1, column 1: expected a value, found end of "
       "input"},
      {"{} {}", "change_metadata: trailing data at line 1, column 4"},
      {std::string("\x00\x01", 2), "change_metadata: NUL byte at line 1, column 1"},
      {"{\"compatibility_report\": " + std::string(16, '[') + std::string(16, ']') + "}",
       "change_metadata.compatibility_report[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: "
       "nesting deeper than 16 levels at line 1, column 41"},
      {std::string(kMaxRecordBytes + 1, ' '),
       "change_metadata: larger than the limit of 1048576 bytes"},
  };
  for (const Raw& c : cases) {
    SCOPED_TRACE(c.text.substr(0, 60));
    EXPECT_EQ(Error(c.text), c.message);
  }
}

}  // namespace
}  // namespace interlock::compliance
