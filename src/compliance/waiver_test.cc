#include "compliance/waiver.h"

#include <gtest/gtest.h>

#include "core/memory_fs.h"
#include "governance/defaults.h"
#include "governance/loader.h"

namespace interlock::compliance {
namespace {

constexpr UnixMillis kNow = 1'796'083'200'000;  // 2026-12-01T00:00:00Z

governance::Governance Defaults() {
  MemoryFileSystem fs;
  EXPECT_TRUE(governance::Scaffold(fs, "g", false));
  auto g = governance::Load(fs, "g");
  EXPECT_TRUE(g) << (g ? "" : g.error().front().ToString());
  return std::move(*g);
}

TEST(WaiverRequest, ReadsAWellFormedOne) {
  const governance::Governance g = Defaults();
  auto w = ParseWaiverRequest(g,
                              R"({"control": "drill-rollback", "justification": "new runbook",
                                  "expires": "2027-01-15T00:00:00Z", "run": false})",
                              kNow);
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(w->control, "drill-rollback");
  EXPECT_EQ(w->justification, "new runbook");
  EXPECT_EQ(FormatTimestamp(w->expires), "2027-01-15T00:00:00.000Z");
  EXPECT_FALSE(w->run);
}

TEST(WaiverRequest, RefusesWhatIsMalformedNamingTheField) {
  const governance::Governance g = Defaults();
  struct Case {
    std::string body;
    std::string message;  // a part of the error
  };
  const std::vector<Case> cases = {
      {R"({"control": "nope", "justification": "j", "expires": "2027-01-01T00:00:00Z",
           "run": true})",
       "control: no control \"nope\""},
      {R"({"control": "drill-rollback", "justification": "  ",
           "expires": "2027-01-01T00:00:00Z", "run": true})",
       "justification: required"},
      {R"({"control": "drill-rollback", "justification": "j",
           "expires": "2026-11-30T00:00:00Z", "run": true})",
       "expires: 2026-11-30T00:00:00.000Z is not in the future"},
      {R"({"control": "drill-rollback", "justification": "j",
           "expires": "2027-12-02T00:00:00Z", "run": true})",
       "is more than 365 days after now"},
      {R"({"control": "drill-rollback", "justification": "j", "expires": "soon", "run": true})",
       "expires: "},
      {R"({"control": "drill-rollback", "justification": "j",
           "expires": "2027-01-01T00:00:00Z", "run": "yes"})",
       "run"},
      {R"({"control": "drill-rollback", "justification": "j",
           "expires": "2027-01-01T00:00:00Z"})",
       "run: required"},
      {R"({"control": "drill-rollback", "justification": "j",
           "expires": "2027-01-01T00:00:00Z", "run": true, "owner": "x"})",
       "owner"},
      {R"({"control": 7, "justification": "j", "expires": "2027-01-01T00:00:00Z",
           "run": true})",
       "control"},
      {R"({"justification": "j", "expires": "2027-01-01T00:00:00Z", "run": true})", "control"},
      {R"([1, 2])", "waiver"},
      {"\xff\xfe", "waiver: malformed JSON"},
      {"", "waiver"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    auto w = ParseWaiverRequest(g, c.body, kNow);
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message().find(c.message), std::string::npos) << w.error().message();
  }
  const std::string long_text(kMaxJustificationBytes + 1, 'x');
  auto w = ParseWaiverRequest(g,
                              R"({"control": "drill-rollback", "justification": ")" + long_text +
                                  R"(", "expires": "2027-01-01T00:00:00Z", "run": true})",
                              kNow);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("justification: at most 4096 bytes"), std::string::npos);
}

}  // namespace
}  // namespace interlock::compliance
