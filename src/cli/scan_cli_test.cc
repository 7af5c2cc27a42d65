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
    args.insert(args.begin(), {"interlock", "scan", "secrets"});
    std::istringstream in;
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

}  // namespace
}  // namespace interlock::cli
