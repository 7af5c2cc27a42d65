// interlock compliance check: the control catalogue evaluated against this
// data directory's audit log and state.
#include <CLI/CLI.hpp>
#include <algorithm>

#include "app/compliance_facts.h"
#include "audit/log.h"
#include "cli/command.h"
#include "compliance/evaluate.h"
#include "compliance/render.h"
#include "governance/loader.h"
#include "server/service.h"

namespace interlock::cli {
namespace {

struct ComplianceFlags {
  std::string governance;
  std::string data;
  std::string framework;
  std::string format = "text";
};

int RunCheck(const ComplianceFlags& flags, Io& io) {
  const std::string dir = GovernanceDir(flags.governance, io);
  auto g = governance::Load(io.fs, dir);
  if (!g) {
    return Fail(
        io, Error::InvalidArgument(fmt::format(
                "governance directory {} is invalid or missing ({}); run interlock check {}", dir,
                g.error().empty() ? "" : g.error().front().ToString(), dir)));
  }
  if (g->compliance.controls.empty()) {
    return Fail(
        io, Error::InvalidArgument(fmt::format("governance directory {} has no control catalogue "
                                               "(compliance/controls.yml)",
                                               dir)));
  }
  if (!flags.framework.empty()) {
    std::vector<std::string> ids;
    for (const auto& f : g->compliance.frameworks) ids.push_back(f.id);
    if (std::find(ids.begin(), ids.end(), flags.framework) == ids.end()) {
      return Fail(io, Error::InvalidArgument(fmt::format(
                          "--framework: no framework {} in compliance/frameworks.yml (expected "
                          "one of {})",
                          flags.framework, fmt::join(ids, ", "))));
    }
  }
  auto log = OpenAuditLogAlone(DataDir(flags.data, io), &*g, io);
  if (!log) return Fail(io, log.error());
  auto facts = app::GatherComplianceFacts(**log, io.fs, dir, io.clock.Now());
  if (!facts) return Fail(io, facts.error());
  // The routes are this binary's own; how the server is reached is known
  // only to the server (GET /v1/compliance) or to a declared terminator.
  std::vector<compliance::RouteFact> routes;
  for (const server::RouteInfo& r : server::Routes()) {
    routes.push_back({r.method, r.pattern, r.authentication});
  }
  facts->routes = std::move(routes);
  facts->unknown_why =
      "interlock compliance check reads the data directory; GET /v1/compliance on the server "
      "knows its transport";
  const compliance::Report report = compliance::Evaluate(*g, *facts, flags.framework);
  if (flags.format == "json") {
    auto checkpoint = (*log)->LatestCheckpoint();
    io.out << compliance::ReportJson(report, checkpoint.value_or("")).dump(2) << "\n";
  } else {
    io.out << compliance::ReportText(report);
  }
  return report.counts.Passed() ? 0 : 1;
}

}  // namespace

std::vector<Command> ComplianceCommands() {
  auto check = std::make_shared<ComplianceFlags>();
  return {
      {"compliance", "Compliance evidence: the control catalogue and its checks", nullptr, nullptr},
      {"compliance check",
       "Evaluate every control of compliance/controls.yml (exit 0 all pass or waived, 1 a "
       "control fails, 2 a configuration error)",
       [check](CLI::App* app) {
         app->add_option("--governance", check->governance,
                         "The governance directory (default: $INTERLOCK_GOVERNANCE, else "
                         "./governance)")
             ->option_text("DIR");
         app->add_option("--data", check->data,
                         "The data directory whose audit log and state are the evidence "
                         "(default: $INTERLOCK_DATA, else ./.interlock)")
             ->option_text("DIR");
         app->add_option("--framework", check->framework,
                         "Only the controls mapped to this framework of "
                         "compliance/frameworks.yml (HIPAA, SOC2, PCI-DSS, GENERAL)")
             ->option_text("F");
         app->add_option("--format", check->format, "Output format")
             ->check(CLI::IsMember({"text", "json"}))
             ->capture_default_str();
       },
       [check](Io& io) { return RunCheck(*check, io); }},
  };
}

}  // namespace interlock::cli
