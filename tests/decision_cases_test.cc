// Table-driven decisions: every file in tests/decisions/ is one case,
//   {"description": "...", "request": {...}, "emergency_stop": "reason" (optional),
//    "expect": {"decision": ..., "risk_level": ..., "required_approvals": {...},
//               "ai_agent_role": ..., "workflow": ..., "matched_rule": ...,
//               "reasons_include": ["substring", ...]}}
// decided against the default governance. Every key in "expect" must match
// the decision exactly (reasons_include: each substring appears in a reason).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "decision/engine.h"
#include "decision/render.h"
#include "decision/request.h"
#include "test_util.h"

namespace interlock {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& entry :
       fs::directory_iterator(std::string(INTERLOCK_SOURCE_DIR) + "/tests/decisions")) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class DecisionCaseTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DecisionCaseTest, MatchesExpectation) {
  std::string file = "tests/decisions/" + GetParam() + ".json";
  json test_case = json::parse(testing::ReadSourceFile(file));
  const governance::Governance& g = testing::DefaultGovernance();
  auto request = decision::ParseRequest(test_case.at("request").dump());
  ASSERT_TRUE(request) << file << ": " << request.error().message();
  ASSERT_TRUE(decision::CheckRequest(g, *request));
  decision::SafetyState safety;
  std::string reason;
  if (test_case.contains("emergency_stop")) {
    reason = test_case["emergency_stop"].get<std::string>();
    safety.emergency_stop = true;
    safety.stop_reason = reason;
  }
  decision::Decision d;
  decision::Decide(g, *request, safety, &d);
  json actual = json::parse(decision::RenderDecision(g, *request, safety, d, false));
  const json& expect = test_case.at("expect");
  ASSERT_FALSE(expect.empty()) << file << ": a case must expect something";
  for (const auto& [key, value] : expect.items()) {
    if (key == "reasons_include") {
      for (const json& fragment : value) {
        bool found = false;
        for (const json& text : actual["reasons"]) {
          found = found ||
                  text.get<std::string>().find(fragment.get<std::string>()) != std::string::npos;
        }
        EXPECT_TRUE(found) << file << ": no reason contains '" << fragment.get<std::string>()
                           << "'; reasons: " << actual["reasons"].dump(2);
      }
      continue;
    }
    EXPECT_EQ(actual[key], value) << file << ": " << key << "\nfull decision: " << actual.dump(2);
  }
}

// The text writer must stay byte-identical to the nlohmann rendering it
// replaced, compact and indented, with and without "explain".
TEST_P(DecisionCaseTest, TextWriterMatchesNlohmannRendering) {
  std::string file = "tests/decisions/" + GetParam() + ".json";
  json test_case = json::parse(testing::ReadSourceFile(file));
  const governance::Governance& g = testing::DefaultGovernance();
  auto request = decision::ParseRequest(test_case.at("request").dump());
  ASSERT_TRUE(request) << file << ": " << request.error().message();
  decision::SafetyState safety;
  std::string reason;  // safety.stop_reason points into it
  if (test_case.contains("emergency_stop")) {
    reason = test_case["emergency_stop"].get<std::string>();
    safety.emergency_stop = true;
    safety.stop_reason = reason;
  }
  decision::Decision d;
  decision::Decide(g, *request, safety, &d);
  for (bool explain : {false, true}) {
    nlohmann::ordered_json old = decision::DecisionJson(g, *request, safety, d, explain);
    auto dump = [&](int indent) {
      return old.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    };
    EXPECT_EQ(decision::RenderDecision(g, *request, safety, d, explain), dump(2)) << file;
    EXPECT_EQ(decision::DecisionText(g, *request, safety, d, {.explain = explain}), dump(-1))
        << file;
    old["audit_index"] = 42;
    old["approval_id"] = "apr_\"1\"";
    const decision::ExtraMember extra[] = {{"audit_index", "42"},
                                           {"approval_id", R"("apr_\"1\"")"}};
    EXPECT_EQ(decision::DecisionText(g, *request, safety, d, {.explain = explain, .extra = extra}),
              dump(-1))
        << file;
    std::string appended = decision::DecisionText(g, *request, safety, d, {.explain = explain});
    decision::AppendMembers(&appended, extra);
    EXPECT_EQ(appended, dump(-1)) << file;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, DecisionCaseTest, ::testing::ValuesIn(CaseNames()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace interlock
