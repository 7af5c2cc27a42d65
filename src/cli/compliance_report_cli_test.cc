// `interlock compliance report` as a user runs it: the format flag, the
// files of --format all, and the exit codes it shares with compliance check.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../../tests/test_util.h"
#include "cli/cli.h"

namespace interlock::cli {
namespace {

using interlock::testing::TempDir;
using json = nlohmann::json;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

class ComplianceReportCliTest : public ::testing::Test {
 protected:
  ComplianceReportCliTest()
      : governance_(dir_.path() + "/governance"), data_(dir_.path() + "/data") {
    EXPECT_EQ(Cli({"init", governance_}).code, kExitOk);
  }

  Outcome Cli(std::vector<std::string> args) {
    args.insert(args.begin(), "interlock");
    std::istringstream in;
    std::ostringstream out, err;
    int code = cli::Run(args, in, out, err);
    return {code, out.str(), err.str()};
  }
  // `interlock compliance report --governance G --data D extra...`
  Outcome Report(std::vector<std::string> extra) {
    std::vector<std::string> args = {"compliance", "report", "--governance",
                                     governance_,  "--data", data_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Cli(args);
  }

  TempDir dir_;
  std::string governance_;
  std::string data_;
};

TEST_F(ComplianceReportCliTest, UnknownFormatIsAConfigurationError) {
  Outcome o = Report({"--format", "pdf"});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "error: --format: unknown report format \"pdf\" (expected one of markdown, html, "
            "json, junit, csv, sarif, ocsf, oscal, poam, all)\n");
  EXPECT_FALSE(std::filesystem::exists(data_)) << "nothing is opened before the flags are valid";
}

TEST_F(ComplianceReportCliTest, AllNeedsADirectory) {
  Outcome o = Report({"--format", "all"});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_EQ(o.err,
            "error: --format all writes one file per format: give the directory with --out "
            "DIR\n");
}

TEST_F(ComplianceReportCliTest, FormatIsRequiredAndFrameworkMustExist) {
  EXPECT_EQ(Report({}).code, kExitInvalid);
  Outcome o = Report({"--format", "csv", "--framework", "ISO27001"});
  EXPECT_EQ(o.code, kExitInvalid);
  EXPECT_NE(o.err.find("--framework: no framework ISO27001"), std::string::npos) << o.err;
}

// A fresh data directory has recorded no drill: controls fail, exit 1, and
// every file is written all the same.
TEST_F(ComplianceReportCliTest, AllWritesEveryFormat) {
  const std::string out_dir = dir_.path() + "/reports";
  Outcome o = Report({"--format", "all", "--out", out_dir});
  EXPECT_EQ(o.code, kExitFailure) << o.err;
  const std::vector<std::string> files = {
      "report.md",        "report.html",       "report.json",        "report.junit.xml",
      "report-HIPAA.csv", "report-SOC2.csv",   "report-PCI-DSS.csv", "report-GENERAL.csv",
      "report.sarif",     "report.ocsf.jsonl", "report.oscal.json",  "report.poam.json"};
  std::string listed;
  for (const std::string& f : files) listed += "wrote " + out_dir + "/" + f + "\n";
  EXPECT_EQ(o.out, listed);
  const json report = json::parse(dir_.Read("reports/report.json"));
  EXPECT_FALSE(report["checkpoint"].get<std::string>().empty());
  EXPECT_EQ(report["passed"], false);
  const json oscal = json::parse(dir_.Read("reports/report.oscal.json"));
  EXPECT_EQ(oscal["assessment-results"]["results"][0]["findings"].size(),
            report["controls"].size());
  const json sarif = json::parse(dir_.Read("reports/report.sarif"));
  EXPECT_EQ(sarif["runs"][0]["results"].size(), report["controls"].size());
  const std::string md = dir_.Read("reports/report.md");
  EXPECT_NE(md.find("## AI Agent Compliance"), std::string::npos);
  EXPECT_NE(md.find("| drill-emergency-stop |"), std::string::npos) << md;
  const std::string soc2 = dir_.Read("reports/report-SOC2.csv");
  EXPECT_TRUE(soc2.starts_with("framework,requirements,control,")) << soc2;
}

TEST_F(ComplianceReportCliTest, OneFormatIntoADirectory) {
  const std::string out_dir = dir_.path() + "/poam";
  Outcome o = Report({"--format", "poam", "--out", out_dir});
  EXPECT_EQ(o.code, kExitFailure) << o.err;
  EXPECT_EQ(o.out, "wrote " + out_dir + "/report.poam.json\n");
  const json poam = json::parse(dir_.Read("poam/report.poam.json"));
  EXPECT_FALSE(poam["plan-of-action-and-milestones"]["poam-items"].empty());
}

TEST_F(ComplianceReportCliTest, OneFormatToStandardOutput) {
  Outcome md = Report({"--format", "markdown"});
  EXPECT_EQ(md.code, kExitFailure) << md.err;
  EXPECT_TRUE(md.out.starts_with("# Compliance Report: every framework\n")) << md.out;

  Outcome csv = Report({"--format", "csv", "--framework", "SOC2"});
  EXPECT_EQ(csv.code, kExitFailure) << csv.err;
  std::istringstream lines(csv.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line,
            "framework,requirements,control,description,check,status,reason,evidence,"
            "evidence_at,expires_at\r");
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("SOC2,")) ++rows;
  }
  EXPECT_GT(rows, 0);

  Outcome ocsf = Report({"--format", "ocsf"});
  std::istringstream events(ocsf.out);
  while (std::getline(events, line)) {
    const json e = json::parse(line);
    EXPECT_EQ(e["class_uid"], 2003);
  }
}

}  // namespace
}  // namespace interlock::cli
