#include "cli/cli.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "../../tests/test_util.h"
#include "cli/command.h"

namespace interlock::cli {
namespace {

using interlock::testing::TempDir;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome RunCli(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), "interlock");
  std::istringstream in(input);
  std::ostringstream out, err;
  int code = Run(args, in, out, err);
  return {code, out.str(), err.str()};
}

constexpr const char* kAllowRequest = R"({
  "actor": {"type": "human", "id": "alice", "roles": ["engineer"], "team": "payments"},
  "change": {"type": "code", "environment": "dev", "service": "api", "version": "1.0.1", "previous_version": "1.0.0"},
  "checks": {"tests_passed": true, "security_scan": {"passed": true, "max_severity": "none"}}})";

class CliTest : public ::testing::Test {
 protected:
  CliTest() : governance_(dir_.path() + "/governance") {
    EXPECT_EQ(RunCli({"init", governance_}).code, kExitOk);
  }
  Outcome Decide(const std::string& request, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"decide", "--governance", governance_, "--request", "-"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args, request);
  }
  // The error line printed for an invalid request, which must exit 2.
  std::string InvalidRequest(const std::string& request) {
    Outcome o = Decide(request);
    EXPECT_EQ(o.code, kExitInvalid) << o.out;
    EXPECT_TRUE(o.out.empty());
    return o.err;
  }

  TempDir dir_;
  std::string governance_;
};

TEST_F(CliTest, InitRefusesANonEmptyDirectory) {
  Outcome o = RunCli({"init", governance_});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.err, "error: " + governance_ +
                       ": directory is not empty; use --force to overwrite the default files\n");
  EXPECT_EQ(RunCli({"init", "--force", governance_}).code, kExitOk);
}

TEST_F(CliTest, CheckValidExitsZero) {
  Outcome o = RunCli({"check", governance_});
  EXPECT_EQ(o.code, kExitOk);
  EXPECT_NE(o.out.find("valid (12 roles, 16 principals, 11 workflows, 10 matrix rows"),
            std::string::npos);
}

TEST_F(CliTest, CheckInvalidNamesFileLineColumn) {
  dir_.Write("governance/principals.yaml", "version: 1\nprincipals:\n  - id: x\n    typo: 1\n");
  Outcome o = RunCli({"check", governance_});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_NE(o.err.find(governance_ + "/principals.yaml:4:5: unknown key 'typo' in a principal (did "
                                     "you mean 'type'?)"),
            std::string::npos)
      << o.err;
}

TEST_F(CliTest, CheckJsonListsErrors) {
  dir_.Write("governance/principals.yaml", "version: 1\nprincipals: 3\n");
  Outcome o = RunCli({"check", "--json", governance_});
  EXPECT_EQ(o.code, kExitInvalid);
  auto result = nlohmann::json::parse(o.out);
  EXPECT_EQ(result["valid"], false);
  ASSERT_FALSE(result["errors"].empty());
  const auto& first = result["errors"][0];
  EXPECT_EQ(first["file"], "principals.yaml");
  EXPECT_EQ(first["line"], 2);
  EXPECT_EQ(first["column"], 13);
  EXPECT_EQ(first["message"], "expected a list of principals, found '3'");
}

TEST_F(CliTest, CheckJsonValid) {
  Outcome o = RunCli({"check", "--json", governance_});
  EXPECT_EQ(o.code, kExitOk);
  auto result = nlohmann::json::parse(o.out);
  EXPECT_EQ(result["valid"], true);
  EXPECT_TRUE(result["governance_version"].get<std::string>().starts_with("sha256:"));
}

TEST_F(CliTest, DecideExitCodes) {
  EXPECT_EQ(Decide(kAllowRequest).code, kExitOk);
  std::string production = kAllowRequest;
  production.replace(production.find("\"dev\""), 5, "\"production\"");
  EXPECT_EQ(Decide(production).code, kExitRequireApproval);
  std::string agent = production;
  agent.replace(agent.find("\"human\""), 7, "\"ai_agent\"");
  agent.replace(agent.find("\"1.0.1\""), 7, "\"2.0.0\"");
  EXPECT_EQ(Decide(agent).code, kExitDeny);
}

TEST_F(CliTest, DecideFromFile) {
  dir_.Write("request.json", kAllowRequest);
  Outcome o =
      RunCli({"decide", "--governance", governance_, "--request", dir_.path() + "/request.json"});
  EXPECT_EQ(o.code, kExitOk);
  auto decision = nlohmann::json::parse(o.out);
  EXPECT_EQ(decision["decision"], "allow");
  EXPECT_EQ(decision["matched_rule"], "matrix:code-dev-patch");
}

TEST_F(CliTest, DecideAtATimeEvaluatesTheScheduledFreezeWindows) {
  dir_.Write("governance/safety/freeze-windows.yml", R"(version: 1
freeze_windows:
  - name: weekend
    reason: nobody watches over the weekend
    weekly: {from: "Fri 16:00", to: "Mon 08:00"}
    time_zone: Europe/Berlin
    environments: [dev]
)");
  // Saturday noon in Berlin: frozen.
  Outcome frozen = Decide(kAllowRequest, {"--at", "2026-12-05T11:00:00Z"});
  EXPECT_EQ(frozen.code, kExitDeny) << frozen.out << frozen.err;
  auto decision = nlohmann::json::parse(frozen.out);
  EXPECT_EQ(decision["reasons"].back(),
            "freeze window 'weekend' (every Fri 16:00 to Mon 08:00, Europe/Berlin) is in force "
            "until 2026-12-07T07:00:00.000Z: nobody watches over the weekend; a frozen change is "
            "denied");
  // Friday 15:59 in Berlin: not yet.
  EXPECT_EQ(Decide(kAllowRequest, {"--at", "2026-12-04T14:59:00Z"}).code, kExitOk);
  Outcome bad = Decide(kAllowRequest, {"--at", "Saturday"});
  EXPECT_EQ(bad.code, kExitInvalid);
  EXPECT_TRUE(bad.err.starts_with("error: --at: ")) << bad.err;
}

TEST_F(CliTest, EmergencyStopDeniesWithTheReason) {
  Outcome o = Decide(kAllowRequest, {"--emergency-stop", "payments outage"});
  EXPECT_EQ(o.code, kExitDeny);
  auto decision = nlohmann::json::parse(o.out);
  EXPECT_EQ(decision["reasons"][0], "the emergency stop is active: payments outage");
}

TEST_F(CliTest, ExplainListsEveryRuleConsidered) {
  auto decision = nlohmann::json::parse(Decide(kAllowRequest, {"--explain"}).out);
  // 10 rows, 4 tiers, 8 rules.
  EXPECT_EQ(decision["explain"].size(), 22u);
  EXPECT_EQ(decision["explain"][0],
            "matrix row 'code-dev-patch' (decision/matrix.yaml:19): matches");
}

TEST_F(CliTest, SecretsFoundDenyAndPersonalDataInProductionAsksAHuman) {
  std::string request = kAllowRequest;
  request.insert(request.find("\"tests_passed\""), R"("secret_scan": {"findings": 1}, )");
  Outcome o = Decide(request, {});
  EXPECT_EQ(o.code, kExitDeny) << o.out;
  EXPECT_NE(o.out.find("no-secrets-in-code"), std::string::npos) << o.out;
  // None found: nothing to say.
  request.replace(request.find("\"findings\": 1"), 13, "\"findings\": 0");
  EXPECT_EQ(Decide(request, {}).code, kExitOk);

  std::string pii = kAllowRequest;
  pii.replace(pii.find("\"dev\""), 5, "\"production\"");
  pii.insert(pii.find("\"tests_passed\""),
             R"("pii_scan": {"findings": 2, "kinds": {"email": 2}}, )");
  o = Decide(pii, {"--explain"});
  EXPECT_EQ(o.code, kExitRequireApproval) << o.out;
  EXPECT_NE(o.out.find("no-pii-in-logs"), std::string::npos) << o.out;
}

TEST_F(CliTest, MalformedJsonSaysWhere) {
  EXPECT_EQ(InvalidRequest("{\"actor\": {\"type\": \"human\",}}"),
            "error: actor: malformed JSON at line 1, column 28: expected a string key, found "
            "'}'\n");
}

TEST_F(CliTest, WrongTypeNamesTheField) {
  std::string request = kAllowRequest;
  request.replace(request.find("\"dev\""), 5, "5");
  EXPECT_EQ(InvalidRequest(request),
            "error: change.environment: expected a string, found a number\n");
}

TEST_F(CliTest, UnknownEnumValueListsTheKnownOnes) {
  std::string request = kAllowRequest;
  request.replace(request.find("\"dev\""), 5, "\"prod\"");
  EXPECT_EQ(
      InvalidRequest(request),
      "error: change.environment: expected one of dev, staging, production, found \"prod\"\n");
}

TEST_F(CliTest, MissingFieldIsNamed) {
  EXPECT_EQ(InvalidRequest(R"({"actor": {"type": "human", "id": "a"}})"),
            "error: change: required\n");
  EXPECT_EQ(InvalidRequest(R"({"actor": {"type": "human", "id": "a"},
                               "change": {"type": "code", "environment": "dev"}})"),
            "error: change.bump: required; give change.bump, or both change.version and "
            "change.previous_version\n");
}

TEST_F(CliTest, OfflineDecisionNeedsTheActor) {
  EXPECT_EQ(
      InvalidRequest(R"({"change": {"type": "code", "environment": "dev", "bump": "patch"}})"),
      "error: actor: required\n");
}

TEST_F(CliTest, DuplicateKeyIsAnError) {
  std::string request = kAllowRequest;
  request.replace(request.find("\"environment\": \"dev\""), 0, "\"environment\": \"production\", ");
  EXPECT_EQ(InvalidRequest(request),
            "error: change: duplicate key \"environment\" at line 3, column 59\n");
}

TEST_F(CliTest, UnknownFieldIsAnError) {
  std::string request = kAllowRequest;
  request.replace(request.find("\"service\""), 9, "\"servce\"");
  EXPECT_EQ(InvalidRequest(request),
            "error: change: unknown field \"servce\" (expected one of: type, environment, "
            "service, version, previous_version, summary, bump)\n");
}

TEST_F(CliTest, UnknownRoleIsAnError) {
  std::string request = kAllowRequest;
  request.replace(request.find("\"engineer\""), 10, "\"wizard\"");
  EXPECT_EQ(InvalidRequest(request),
            "error: actor.roles[0]: unknown role 'wizard' (roles are defined in interlock.yaml)\n");
}

TEST_F(CliTest, BadVersionIsAnError) {
  std::string request = kAllowRequest;
  request.replace(request.find("\"1.0.1\""), 7, "\"1.0\"");
  EXPECT_EQ(InvalidRequest(request),
            "error: change.version: expected a semantic version such as 2.5.4 or v2.5.4, found "
            "'1.0'\n");
}

TEST_F(CliTest, InvalidUtf8IsAnError) {
  std::string request = kAllowRequest;
  request.replace(request.find("api"), 3, "a\xff\xfei");
  std::string err = InvalidRequest(request);
  EXPECT_EQ(err, "error: change.service: invalid UTF-8 at line 3, column 65\n");
}

TEST_F(CliTest, HundredMegabyteRequestIsRefused) {
  std::string huge(100u << 20, ' ');
  huge += kAllowRequest;
  EXPECT_EQ(InvalidRequest(huge), "error: request: larger than the limit of 1048576 bytes\n");
}

TEST_F(CliTest, TenThousandDeepNestingIsRefused) {
  std::string deep = R"({"actor": {"type": "human", "id": "a"}, "metadata": {"x": )" +
                     std::string(10000, '[') + std::string(10000, ']') + "}}";
  // Levels 3 to 32 are arrays, each at its element 0.
  std::string path = "metadata.x";
  for (int level = 3; level <= 32; ++level) path += "[0]";
  EXPECT_EQ(InvalidRequest(deep),
            "error: " + path + ": nesting deeper than 32 levels at line 1, column 89\n");
}

TEST_F(CliTest, EmptyAndNonObjectRequests) {
  EXPECT_TRUE(
      InvalidRequest("").starts_with("error: request: malformed JSON at line 1, column 1: "));
  EXPECT_EQ(InvalidRequest("[]"), "error: request: expected a JSON object, found an array\n");
}

TEST_F(CliTest, MissingRequestFlagAndUnknownCommand) {
  EXPECT_EQ(RunCli({"decide", "--governance", governance_}).code, kExitInvalid);
  EXPECT_EQ(RunCli({"frobnicate"}).code, kExitInvalid);
  EXPECT_EQ(RunCli({}).code, kExitInvalid);
}

// The command table: each group before its members, each path once, each
// command's help generated from its entry, and each documented in the
// README's CLI reference.
TEST(CommandTable, EveryCommandHasItsHelpAndIsDocumented) {
  std::string readme = interlock::testing::ReadSourceFile("README.md");
  std::set<std::string> seen;
  size_t runnable = 0;
  for (const Command& c : Commands()) {
    SCOPED_TRACE(c.path);
    EXPECT_TRUE(seen.insert(c.path).second) << "twice";
    size_t space = c.path.rfind(' ');
    if (space != std::string::npos) {
      EXPECT_TRUE(seen.count(c.path.substr(0, space)));
    }
    EXPECT_FALSE(c.description.empty());
    EXPECT_EQ(c.setup == nullptr, c.run == nullptr);
    std::vector<std::string> args;
    for (size_t at = 0; at <= c.path.size();) {
      size_t end = std::min(c.path.find(' ', at), c.path.size());
      args.push_back(c.path.substr(at, end - at));
      at = end + 1;
    }
    args.push_back("--help");
    Outcome help = RunCli(args);
    EXPECT_EQ(help.code, kExitOk) << help.err;
    EXPECT_TRUE(help.out.starts_with(c.description)) << help.out;
    if (!c.run) continue;
    ++runnable;
    EXPECT_TRUE(readme.find("interlock " + c.path) != std::string::npos ||
                readme.find("`" + c.path) != std::string::npos)
        << "README.md's CLI reference does not show `" << c.path << "`";
  }
  EXPECT_EQ(runnable, 48u);
  // The top-level help lists every group and command of the first level.
  Outcome top = RunCli({"--help"});
  for (const std::string& path : seen) {
    if (path.find(' ') == std::string::npos) {
      EXPECT_NE(top.out.find("  " + path), std::string::npos) << path;
    }
  }
}

TEST_F(CliTest, InvalidGovernanceRefusesToDecide) {
  dir_.Write("governance/decision/matrix.yaml", "rows: [");
  Outcome o = Decide(kAllowRequest);
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_TRUE(o.out.empty());
  EXPECT_NE(o.err.find("decision/matrix.yaml:"), std::string::npos) << o.err;
}

// The real binary, as a user runs it.
TEST_F(CliTest, RealBinaryEndToEnd) {
  dir_.Write("request.json", kAllowRequest);
  std::string binary = INTERLOCK_BINARY;
  std::string g = dir_.path() + "/g2";
  EXPECT_EQ(std::system((binary + " init " + g + " >/dev/null").c_str()), 0);
  EXPECT_EQ(std::system((binary + " check " + g + " >/dev/null").c_str()), 0);
  int status = std::system((binary + " decide --governance " + g + " --request - < " + dir_.path() +
                            "/request.json > " + dir_.path() + "/decision.json")
                               .c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(nlohmann::json::parse(dir_.Read("decision.json"))["decision"], "allow");
  status = std::system((binary + " decide --governance " + g + " --request " + dir_.path() +
                        "/missing.json 2>/dev/null")
                           .c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kExitInvalid);
}

}  // namespace
}  // namespace interlock::cli
