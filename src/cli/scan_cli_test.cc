#include <gtest/gtest.h>

#include <sstream>

#include "../../tests/test_util.h"
#include "cli/cli.h"

namespace interlock::cli {
namespace {

using interlock::testing::TempDir;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

class ScanCliTest : public ::testing::Test {
 protected:
  Outcome Scan(std::vector<std::string> args) {
    args.insert(args.begin(), {"scan", "secrets"});
    return Interlock(std::move(args));
  }
  Outcome Interlock(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), "interlock");
    std::istringstream in(input);
    std::ostringstream out, err;
    int code = cli::Run(args, in, out, err, [](const char* name) -> std::optional<std::string> {
      if (std::string_view(name) == "INTERLOCK_SCAN_KEY") return "cli-test-key-0123456789";
      return std::nullopt;
    });
    return {code, out.str(), err.str()};
  }
  static std::string Token() {
    return "ghp_" + std::string("Zx9") + "kkkkkk" + "Qw7Er5Ty3Ui1Op0As8Df6Gh4Jk2";
  }

  TempDir dir_;
};

TEST_F(ScanCliTest, CleanFindingBaselineAndErrorExitCodes) {
  dir_.Write("src/clean.txt", "nothing to see\n");
  Outcome clean = Scan({dir_.path() + "/src"});
  EXPECT_EQ(clean.code, kExitOk) << clean.err;

  dir_.Write("src/app.env", "TOKEN=" + Token() + "\n");
  Outcome found = Scan({dir_.path() + "/src", "--format", "json"});
  EXPECT_EQ(found.code, kExitFailure) << found.err;
  EXPECT_NE(found.out.find("\"rule_id\": \"github-pat\""), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find(Token()), std::string::npos);

  const std::string baseline = dir_.path() + "/baseline.json";
  EXPECT_EQ(Scan({dir_.path() + "/src", "--write-baseline", baseline}).code, kExitFailure);
  Outcome suppressed = Scan({dir_.path() + "/src", "--baseline", baseline});
  EXPECT_EQ(suppressed.code, kExitOk) << suppressed.out;
  EXPECT_NE(suppressed.out.find("1 suppressed by the baseline"), std::string::npos)
      << suppressed.out;

  Outcome sarif = Scan({dir_.path() + "/src", "--format", "sarif"});
  EXPECT_EQ(sarif.code, kExitFailure);
  EXPECT_NE(sarif.out.find("\"interlockSecret/v1\""), std::string::npos);

  Outcome missing = Scan({dir_.path() + "/nowhere"});
  EXPECT_EQ(missing.code, kExitInvalid);
  EXPECT_EQ(missing.err, "error: " + dir_.path() + "/nowhere: no such file or directory\n");

  dir_.Write("bad.toml", "[[rules]]\nid = \"x\"\nregex = '''a(?=b)'''\n");
  Outcome bad = Scan({dir_.path() + "/src", "--config", dir_.path() + "/bad.toml"});
  EXPECT_EQ(bad.code, kExitInvalid);
  EXPECT_EQ(bad.err, "error: " + dir_.path() +
                         "/bad.toml:1: rule \"x\": regex does not compile: invalid perl "
                         "operator: (?=\n");

  Outcome both = Scan({"--staged", "--diff", "HEAD"});
  EXPECT_EQ(both.code, kExitInvalid);
  EXPECT_EQ(both.err, "error: --staged and --diff cannot be used together\n");
}

TEST_F(ScanCliTest, TheGovernanceDirectoryHoldsTheRules) {
  dir_.Write("governance/scan/secrets.toml",
             "[[rules]]\nid = \"acme-key\"\ndescription = \"ACME key\"\n"
             "regex = '''acme_[0-9a-f]{24}'''\nkeywords = [\"acme_\"]\n");
  dir_.Write("src/a.txt", "k = acme_0123456789abcdef01234567\n");
  Outcome governed =
      Scan({dir_.path() + "/src", "--governance", dir_.path() + "/governance", "--format", "json"});
  EXPECT_EQ(governed.code, kExitFailure) << governed.err;
  EXPECT_NE(governed.out.find("\"rule_id\": \"acme-key\""), std::string::npos) << governed.out;
  // Without it, the built-in rules know no such key.
  EXPECT_EQ(Scan({dir_.path() + "/src"}).code, kExitOk);
}

TEST_F(ScanCliTest, DecideScansAndDecidesWithWhatItFound) {
  const std::string governance = dir_.path() + "/governance";
  ASSERT_EQ(Interlock({"init", governance}).code, kExitOk);
  const std::string request = R"({
    "actor": {"type": "human", "id": "alice", "roles": ["engineer"]},
    "change": {"type": "code", "environment": "dev", "service": "api", "bump": "patch"},
    "checks": {"tests_passed": true}})";
  auto decide = [&](std::vector<std::string> extra, const std::string& body) {
    std::vector<std::string> args = {"decide", "--governance", governance, "--request", "-"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Interlock(args, body);
  };
  dir_.Write("src/clean.txt", "nothing to see\n");
  Outcome clean = decide({"--scan", dir_.path() + "/src"}, request);
  EXPECT_EQ(clean.code, kExitOk) << clean.out << clean.err;

  dir_.Write("src/app.env", "TOKEN=" + Token() + "\n");
  Outcome found = decide({"--scan", dir_.path() + "/src"}, request);
  EXPECT_EQ(found.code, kExitDeny) << found.out << found.err;
  EXPECT_NE(found.out.find("no-secrets-in-code"), std::string::npos) << found.out;
  // Where it is goes to stderr for the CI log; the secret goes nowhere.
  EXPECT_NE(found.err.find("app.env"), std::string::npos) << found.err;
  EXPECT_EQ(found.out.find(Token()), std::string::npos);
  EXPECT_EQ(found.err.find(Token()), std::string::npos);

  // A baseline that knows it lets it through.
  const std::string baseline = dir_.path() + "/baseline.json";
  EXPECT_EQ(Scan({dir_.path() + "/src", "--write-baseline", baseline}).code, kExitFailure);
  EXPECT_EQ(decide({"--scan", dir_.path() + "/src", "--scan-baseline", baseline}, request).code,
            kExitOk);

  // A scan that cannot run decides nothing.
  Outcome missing = decide({"--scan", dir_.path() + "/nowhere"}, request);
  EXPECT_EQ(missing.code, kExitInvalid);
  EXPECT_EQ(missing.err, "error: --scan: " + dir_.path() + "/nowhere: no such file or directory\n");
  std::string carried = request;
  carried.insert(carried.find("\"tests_passed\""), R"("secret_scan": {"findings": 0}, )");
  Outcome both = decide({"--scan", dir_.path() + "/src"}, carried);
  EXPECT_EQ(both.code, kExitInvalid);
  EXPECT_EQ(both.err,
            "error: --scan: the request already carries checks.secret_scan; give one or the "
            "other\n");
}

}  // namespace
}  // namespace interlock::cli
