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

constexpr std::string_view kOld = R"(openapi: 3.0.3
info: {title: Items, version: 1.4.2}
paths:
  /v1/items/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: The item
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  name: {type: string}
)";

class ContractCliTest : public ::testing::Test {
 protected:
  ContractCliTest() {
    dir_.Write("old.yaml", std::string(kOld));
    std::string added = std::string(kOld) + "                  size: {type: integer}\n";
    dir_.Write("added.yaml", added);
    std::string removed = std::string(kOld);
    removed.erase(removed.find("                  name: {type: string}\n"));
    dir_.Write("removed.json.yaml", removed);
  }
  Outcome Check(std::vector<std::string> args) {
    args.insert(args.begin(), {"interlock", "contract", "check"});
    std::istringstream in;
    std::ostringstream out, err;
    int code = cli::Run(args, in, out, err,
                        [](const char*) -> std::optional<std::string> { return std::nullopt; });
    return {code, out.str(), err.str()};
  }
  std::string At(const std::string& name) const { return dir_.path() + "/" + name; }

  TempDir dir_;
};

TEST_F(ContractCliTest, WithoutAReportABreakingChangeFails) {
  Outcome same = Check({At("old.yaml"), At("old.yaml")});
  EXPECT_EQ(same.code, kExitOk) << same.err;
  EXPECT_EQ(same.out,
            "verdict: non_breaking (0 breaking, 0 additive, 0 non_breaking)\n"
            "fits: the change is not breaking\n");

  Outcome added = Check({At("old.yaml"), At("added.yaml")});
  EXPECT_EQ(added.code, kExitOk) << added.err;

  Outcome removed = Check({At("old.yaml"), At("removed.json.yaml")});
  EXPECT_EQ(removed.code, kExitFailure) << removed.err;
  EXPECT_EQ(removed.out,
            "breaking      response_field_removed  paths./v1/items/{id}.get.responses.200.content."
            "application/json.schema.properties.name: the response field name was removed\n"
            "verdict: breaking (1 breaking, 0 additive, 0 non_breaking)\n"
            "does not fit:\n"
            "  - the diff finds 1 breaking change, and a breaking change needs a compatibility "
            "report (--report) with a migration guide\n");

  Outcome patch = Check({At("old.yaml"), At("added.yaml"), "--bump", "patch"});
  EXPECT_EQ(patch.code, kExitFailure);
  EXPECT_NE(patch.out.find("  - the diff finds an additive change, which needs a minor version "
                           "bump; the bump made is patch\n"),
            std::string::npos)
      << patch.out;
}

TEST_F(ContractCliTest, TheReportAndTheBumpMustFit) {
  dir_.Write("breaking.json", R"({"contract": "old.yaml", "change_type": "breaking",
    "consumers": [{"module": "shop", "impact": "high", "migration_required": true}],
    "migration_guide": "Read the name from the list endpoint."})");
  dir_.Write("additive.json", R"({"contract": "old.yaml", "change_type": "additive"})");

  Outcome fits = Check({At("old.yaml"), At("removed.json.yaml"), "--report", At("breaking.json"),
                        "--from-version", "1.4.2", "--to-version", "2.0.0"});
  EXPECT_EQ(fits.code, kExitOk) << fits.out << fits.err;
  EXPECT_NE(fits.out.find("fits: the change fits the compatibility report\n"), std::string::npos);

  Outcome minor = Check({At("old.yaml"), At("removed.json.yaml"), "--report", At("breaking.json"),
                         "--from-version", "1.4.2", "--to-version", "1.5.0", "--format", "json"});
  EXPECT_EQ(minor.code, kExitFailure);
  EXPECT_NE(minor.out.find("\"fits\": false"), std::string::npos) << minor.out;
  EXPECT_NE(minor.out.find("\"the report claims a breaking change, which needs a major version "
                           "bump; 1.4.2 to 1.5.0 is a minor bump\""),
            std::string::npos)
      << minor.out;
  EXPECT_NE(minor.out.find("\"kind\": \"response_field_removed\""), std::string::npos);

  Outcome under = Check({At("old.yaml"), At("removed.json.yaml"), "--report", At("additive.json"),
                         "--bump", "minor"});
  EXPECT_EQ(under.code, kExitFailure);
  EXPECT_NE(under.out.find("  - the report claims an additive change, but the diff finds 1 "
                           "breaking change: the response field name was removed "
                           "(paths./v1/items/{id}.get.responses.200.content.application/"
                           "json.schema.properties.name)\n"),
            std::string::npos)
      << under.out;
}

TEST_F(ContractCliTest, BadInputExitsTwo) {
  dir_.Write("bad-report.json", R"({"contract": "x", "change_type": "breaking"})");
  Outcome report = Check({At("old.yaml"), At("old.yaml"), "--report", At("bad-report.json")});
  EXPECT_EQ(report.code, kExitInvalid);
  EXPECT_EQ(report.err, "error: " + At("bad-report.json") +
                            ": compatibility_report.migration_guide: required when change_type "
                            "is breaking\n");

  dir_.Write("swagger.yaml", "swagger: '2.0'\n");
  Outcome swagger = Check({At("old.yaml"), At("swagger.yaml")});
  EXPECT_EQ(swagger.code, kExitInvalid);
  EXPECT_EQ(swagger.err, "error: " + At("swagger.yaml") +
                             ":1:10: swagger: this is a Swagger 2 document; expected OpenAPI 3.0 "
                             "or 3.1\n");

  Outcome missing = Check({At("old.yaml"), At("nowhere.yaml")});
  EXPECT_EQ(missing.code, kExitInvalid);
  EXPECT_EQ(missing.err, "error: " + At("nowhere.yaml") + ": cannot open: no such file\n");

  Outcome half = Check({At("old.yaml"), At("old.yaml"), "--from-version", "1.0.0"});
  EXPECT_EQ(half.code, kExitInvalid);
  EXPECT_EQ(half.err, "error: --from-version and --to-version go together\n");

  Outcome both = Check({At("old.yaml"), At("old.yaml"), "--from-version", "1.0.0", "--to-version",
                        "2.0.0", "--bump", "major"});
  EXPECT_EQ(both.code, kExitInvalid);
  EXPECT_EQ(both.err, "error: --bump cannot be used with --from-version and --to-version\n");

  Outcome version =
      Check({At("old.yaml"), At("old.yaml"), "--from-version", "one", "--to-version", "2.0.0"});
  EXPECT_EQ(version.code, kExitInvalid);
  EXPECT_EQ(version.err,
            "error: from version: expected a semantic version such as 2.5.4 or v2.5.4, found "
            "'one'\n");

  EXPECT_EQ(Check({At("old.yaml")}).code, kExitInvalid);
  EXPECT_EQ(Check({At("old.yaml"), At("old.yaml"), "--bump", "huge"}).code, kExitInvalid);
}

}  // namespace
}  // namespace interlock::cli
