// interlock compliance check and interlock compliance report: the control
// catalogue evaluated against this data directory's audit log and state,
// printed as a check or written as the reports auditors import.
#include <CLI/CLI.hpp>
#include <algorithm>

#include "app/compliance_facts.h"
#include "audit/log.h"
#include "cli/command.h"
#include "compliance/evaluate.h"
#include "compliance/render.h"
#include "compliance/reports.h"
#include "governance/loader.h"
#include "server/service.h"

namespace interlock::cli {
namespace {

// interlock's version, as `interlock version` prints it.
constexpr std::string_view kInterlockVersion = "0.1.0";

struct ComplianceFlags {
  std::string governance;
  std::string data;
  std::string framework;
  std::string format = "text";
  std::string out;  // compliance report: the directory to write into
};

// One evaluation, as check and report share it. The report points into
// `governance`.
struct Evaluation {
  std::unique_ptr<governance::Governance> governance;
  std::unique_ptr<audit::AuditLog> log;
  compliance::Facts facts;
  compliance::Report report;
};

// Loads the governance, opens the audit log, gathers the facts and
// evaluates; an error (exit 2 for a configuration error) otherwise.
Result<Evaluation> Evaluate(const ComplianceFlags& flags, std::string_view command, Io& io) {
  const std::string dir = GovernanceDir(flags.governance, io);
  auto g = governance::Load(io.fs, dir);
  if (!g) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("governance directory {} is invalid or missing ({}); run interlock check {}",
                    dir, g.error().empty() ? "" : g.error().front().ToString(), dir)));
  }
  if (g->compliance.controls.empty()) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("governance directory {} has no control catalogue "
                                           "(compliance/controls.yml)",
                                           dir)));
  }
  if (!flags.framework.empty()) {
    std::vector<std::string> ids;
    for (const auto& f : g->compliance.frameworks) ids.push_back(f.id);
    if (std::find(ids.begin(), ids.end(), flags.framework) == ids.end()) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("--framework: no framework {} in compliance/frameworks.yml (expected "
                      "one of {})",
                      flags.framework, fmt::join(ids, ", "))));
    }
  }
  Evaluation e;
  e.governance = std::make_unique<governance::Governance>(std::move(*g));
  auto log = OpenAuditLogAlone(DataDir(flags.data, io), e.governance.get(), io);
  if (!log) return std::unexpected(log.error());
  e.log = std::move(*log);
  auto facts = app::GatherComplianceFacts(*e.log, io.fs, dir, io.clock.Now());
  if (!facts) return std::unexpected(facts.error());
  e.facts = std::move(*facts);
  // The routes are this binary's own; how the server is reached is known
  // only to the server (GET /v1/compliance) or to a declared terminator.
  std::vector<compliance::RouteFact> routes;
  for (const server::RouteInfo& r : server::Routes()) {
    routes.push_back({r.method, r.pattern, r.authentication});
  }
  e.facts.routes = std::move(routes);
  e.facts.unknown_why = fmt::format(
      "interlock {} reads the data directory; GET /v1/compliance on the server knows its "
      "transport",
      command);
  e.report = compliance::Evaluate(*e.governance, e.facts, flags.framework);
  return e;
}

int RunCheck(const ComplianceFlags& flags, Io& io) {
  auto e = Evaluate(flags, "compliance check", io);
  if (!e) return Fail(io, e.error());
  if (flags.format == "json") {
    auto checkpoint = e->log->LatestCheckpoint();
    io.out << compliance::ReportJson(e->report, checkpoint.value_or(""))
                  .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
           << "\n";
  } else {
    io.out << compliance::ReportText(e->report);
  }
  return e->report.counts.Passed() ? 0 : 1;
}

std::string FormatChoices() {
  return fmt::format("{}, all", fmt::join(compliance::kReportFormatNames, ", "));
}

int RunReport(const ComplianceFlags& flags, Io& io) {
  const bool all = flags.format == "all";
  const auto format = compliance::ParseReportFormat(flags.format);
  if (!all && !format) {
    return Fail(io, Error::InvalidArgument(
                        fmt::format("--format: unknown report format \"{}\" (expected one of {})",
                                    flags.format, FormatChoices())));
  }
  if (all && flags.out.empty()) {
    return Fail(io, Error::InvalidArgument(
                        "--format all writes one file per format: give the directory with --out "
                        "DIR"));
  }
  auto e = Evaluate(flags, "compliance report", io);
  if (!e) return Fail(io, e.error());
  compliance::ReportContext context;
  context.governance = e->governance.get();
  context.version = std::string(kInterlockVersion);
  context.audit = e->facts.audit;
  if (e->facts.policies) context.policies = *e->facts.policies;
  auto checkpoint = e->log->LatestCheckpoint();
  if (checkpoint) {
    context.checkpoint = *checkpoint;
  } else {
    Print(io.err, "warning: no signed checkpoint for the report: {}\n",
          checkpoint.error().message());
  }
  const int status = e->report.counts.Passed() ? 0 : 1;
  constexpr std::string_view kNoPoam =
      "no control fails, is in error or is waived: there is no plan of action and milestones "
      "(OSCAL requires at least one item)";

  std::vector<compliance::ReportFile> files;
  if (all) {
    files = compliance::RenderAllReports(e->report, context);
    if (!compliance::ReportPoam(e->report, context)) Print(io.err, "note: {}\n", kNoPoam);
  } else if (auto file = compliance::RenderReport(*format, e->report, context)) {
    files.push_back(std::move(*file));
  } else {
    Print(io.err, "note: {}\n", kNoPoam);
    return status;
  }
  if (flags.out.empty()) {
    io.out << files.front().text;
    return status;
  }
  if (auto made = io.fs.CreateDirectories(flags.out); !made) {
    return Fail(
        io, Error::InvalidArgument(fmt::format("--out {}: {}", flags.out, made.error().message())));
  }
  for (const compliance::ReportFile& f : files) {
    const std::string path = flags.out + "/" + f.name;
    if (auto written = io.fs.WriteFile(path, f.text); !written) return Fail(io, written.error());
    Print(io.out, "wrote {}\n", path);
  }
  return status;
}

void AddSourceFlags(CLI::App* app, ComplianceFlags& flags) {
  app->add_option("--governance", flags.governance,
                  "The governance directory (default: $INTERLOCK_GOVERNANCE, else "
                  "./governance)")
      ->option_text("DIR");
  app->add_option("--data", flags.data,
                  "The data directory whose audit log and state are the evidence "
                  "(default: $INTERLOCK_DATA, else ./.interlock)")
      ->option_text("DIR");
  app->add_option("--framework", flags.framework,
                  "Only the controls mapped to this framework of "
                  "compliance/frameworks.yml (HIPAA, SOC2, PCI-DSS, GENERAL)")
      ->option_text("F");
}

}  // namespace

std::vector<Command> ComplianceCommands() {
  auto check = std::make_shared<ComplianceFlags>();
  auto report = std::make_shared<ComplianceFlags>();
  report->format.clear();
  return {
      {"compliance", "Compliance evidence: the control catalogue and its checks", nullptr, nullptr},
      {"compliance check",
       "Evaluate every control of compliance/controls.yml (exit 0 all pass or waived, 1 a "
       "control fails, 2 a configuration error)",
       [check](CLI::App* app) {
         AddSourceFlags(app, *check);
         app->add_option("--format", check->format, "Output format")
             ->check(CLI::IsMember({"text", "json"}))
             ->capture_default_str();
       },
       [check](Io& io) { return RunCheck(*check, io); }},
      {"compliance report",
       "Write the compliance report auditors import: markdown, html, json, junit, csv, sarif, "
       "ocsf, oscal, poam, or all of them into --out (exit codes as compliance check)",
       [report](CLI::App* app) {
         AddSourceFlags(app, *report);
         app->add_option("--format", report->format,
                         "markdown | html | json | junit | csv | sarif | ocsf | oscal | poam | "
                         "all")
             ->option_text("FORMAT")
             ->required();
         app->add_option("--out", report->out,
                         "Write the report file(s) into this directory instead of standard "
                         "output (required for --format all)")
             ->option_text("DIR");
       },
       [report](Io& io) { return RunReport(*report, io); }},
  };
}

}  // namespace interlock::cli
