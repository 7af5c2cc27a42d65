// `interlock scan pii` end to end over a file system kept in memory: the
// report, the exit codes, the redacted stream and its errors.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/memory_fs.h"
#include "core/random.h"

namespace interlock::cli {
namespace {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

class PiiCliTest : public ::testing::Test {
 protected:
  Outcome Scan(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"interlock", "scan", "pii"});
    std::istringstream in(input);
    std::ostringstream out, err;
    Env env = [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    Io io{in, out, err, env, fs_, clock_, random_, "tester"};
    int code = cli::Run(args, io);
    return {code, out.str(), err.str()};
  }

  MemoryFileSystem fs_;
  ManualClock clock_{0};
  SeededRandom random_{1};
  std::map<std::string, std::string> env_;
};

TEST_F(PiiCliTest, CleanInputExitsZero) {
  Outcome o = Scan({"-"}, "2026-12-07T14:06:33Z INFO started in 1234ms version 1.2.3\n");
  EXPECT_EQ(o.code, kExitOk);
  EXPECT_EQ(o.out, "no PII found\n");
  EXPECT_EQ(o.err, "");
}

TEST_F(PiiCliTest, FindingsAreListedWithoutTheirValuesAndExitOne) {
  ASSERT_TRUE(
      fs_.WriteFile("app.log", "user=john@example.com\nssn 123-45-6789 card 4111111111111111\n"));
  Outcome o = Scan({"app.log"});
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_EQ(o.out,
            "app.log:1:6: pii-email (medium)\n"
            "app.log:2:5: pii-us-ssn (high)\n"
            "app.log:2:22: pii-card (high)\n"
            "3 findings: email 1, card 1, us_ssn 1\n");
}

TEST_F(PiiCliTest, JsonReportCountsEveryType) {
  ASSERT_TRUE(fs_.WriteFile("a.log", "ip 8.8.8.8 and 9.9.9.9\n"));
  ASSERT_TRUE(fs_.WriteFile("b.log", "nothing here"));
  Outcome o = Scan({"--format", "json", "--max-findings", "1", "a.log", "b.log"});
  EXPECT_EQ(o.code, kExitFailure);
  auto report = nlohmann::json::parse(o.out);
  EXPECT_EQ(report["total"], 2);
  EXPECT_EQ(report["counts"]["ipv4"], 2);
  EXPECT_EQ(report["counts"]["email"], 0);
  ASSERT_EQ(report["findings"].size(), 1u);
  EXPECT_EQ(report["findings"][0]["rule_id"], "pii-ipv4");
  EXPECT_EQ(report["findings"][0]["confidence"], "high");
  EXPECT_EQ(report["findings"][0]["file"], "a.log");
  EXPECT_EQ(report["findings"][0]["line"], 1);
  EXPECT_EQ(report["findings"][0]["column"], 4);
  EXPECT_EQ(report["findings"][0]["start"], 3);
  EXPECT_EQ(report["findings"][0]["end"], 10);
  EXPECT_EQ(report["findings_not_listed"], 1);
  EXPECT_EQ(report["files"][1]["file"], "b.log");
  EXPECT_EQ(report["files"][1]["lines"], 1);
  EXPECT_EQ(report["files"][1]["total"], 0);
}

TEST_F(PiiCliTest, SarifListsFindingsByRuleAndCountsEveryType) {
  ASSERT_TRUE(fs_.WriteFile("a.log", "ip 8.8.8.8 and 9.9.9.9\nmail john@example.com\n"));
  Outcome o = Scan({"--format", "sarif", "--max-findings", "2", "a.log"});
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_EQ(o.out.find("john@example.com"), std::string::npos) << o.out;
  auto log = nlohmann::json::parse(o.out);
  EXPECT_EQ(log["version"], "2.1.0");
  const auto& run = log["runs"][0];
  ASSERT_EQ(run["tool"]["driver"]["rules"].size(), 7u);
  EXPECT_EQ(run["tool"]["driver"]["rules"][0]["id"], "pii-email");
  ASSERT_EQ(run["results"].size(), 2u);
  EXPECT_EQ(run["results"][0]["ruleId"], "pii-ipv4");
  EXPECT_EQ(run["results"][0]["level"], "warning");
  EXPECT_EQ(run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
  // The counts hold every finding, listed or not.
  EXPECT_EQ(run["properties"]["counts"]["ipv4"], 2);
  EXPECT_EQ(run["properties"]["counts"]["email"], 1);
  EXPECT_EQ(run["properties"]["counts"]["card"], 0);
}

TEST_F(PiiCliTest, RedactWritesTheStreamToStdoutAndTheReportToStderr) {
  Outcome o = Scan({"--redact", "partial", "-"}, "mail john@example.com\r\nok\n");
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_EQ(o.out, "mail j***@example.com\r\nok\n");
  EXPECT_EQ(o.err, "<stdin>:1:6: pii-email (high)\n1 finding: email 1\n");
}

TEST_F(PiiCliTest, RedactToAnOutputFile) {
  Outcome o = Scan({"--redact", "full", "--output", "clean.log", "-"}, "tel +442079460958");
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_EQ(*fs_.ReadFile("clean.log", 1000), "tel [REDACTED:PHONE]");
  EXPECT_EQ(o.out, "<stdin>:1:5: pii-phone (high)\n1 finding: phone 1\n");
}

TEST_F(PiiCliTest, HashTakesItsKeyFromAFileOrTheEnvironment) {
  ASSERT_TRUE(fs_.WriteFile("key", "0123456789abcdef0123\n"));
  Outcome from_file = Scan({"--redact", "hash", "--key-file", "key", "-"}, "a@example.com");
  env_["INTERLOCK_SCAN_KEY"] = "0123456789abcdef0123";
  Outcome from_env = Scan({"--redact", "hash", "-"}, "a@example.com");
  EXPECT_EQ(from_file.code, kExitFailure);
  EXPECT_EQ(from_file.out, from_env.out);
  EXPECT_TRUE(from_file.out.starts_with("[EMAIL:")) << from_file.out;
  EXPECT_EQ(from_file.out.size(), std::string("[EMAIL:1a2b3c4d5e6f]").size());
}

TEST_F(PiiCliTest, ErrorsExitTwo) {
  Outcome no_key = Scan({"--redact", "hash", "-"}, "x");
  EXPECT_EQ(no_key.code, kExitInvalid);
  EXPECT_EQ(no_key.err,
            "error: hash redaction needs a key: give --key-file or set INTERLOCK_SCAN_KEY\n");
  Outcome missing = Scan({"nope.log"});
  EXPECT_EQ(missing.code, kExitInvalid);
  EXPECT_EQ(missing.err, "error: nope.log: no such file\n");
  Outcome output_alone = Scan({"--output", "x.log", "-"});
  EXPECT_EQ(output_alone.code, kExitInvalid);
  EXPECT_EQ(output_alone.err, "error: --output needs --redact: it receives the redacted input\n");
  EXPECT_EQ(Scan({"--redact", "sideways", "-"}).code, kExitInvalid);
  EXPECT_EQ(Scan({"--format", "xml", "-"}).code, kExitInvalid);
  EXPECT_EQ(Scan({"-", "-"}).code, kExitInvalid);
}

}  // namespace
}  // namespace interlock::cli
