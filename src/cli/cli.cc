#include "cli/cli.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>

#include "app/compliance_gate.h"
#include "cli/command.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/text.h"
#include "decision/engine.h"
#include "decision/render.h"
#include "decision/request.h"
#include "governance/defaults.h"
#include "governance/loader.h"
#include "safety/freeze.h"
#include "scan/secrets.h"

namespace interlock::cli {
namespace {

// Flags of every subcommand; each uses its own.
struct Options {
  std::string dir;
  bool force = false;
  bool json = false;
  std::string governance = "governance";
  std::string request;
  std::optional<std::string> emergency_stop;
  std::string at;
  bool explain = false;
  std::vector<std::string> scan;  // decide --scan: paths to scan for secrets
  std::string scan_baseline;
};

// decide --scan: scans o.scan for secrets with the governance's rules and
// puts what it found into the request as checks.secret_scan, the report on
// io.err for the CI log. An error is the caller's to report (exit 2: a
// scan that did not run clears nothing).
Result<void> ScanIntoRequest(const Options& o, Io& io, decision::Request* request) {
  if (request->secret_scan) {
    return std::unexpected(Error::InvalidArgument(
        "--scan: the request already carries checks.secret_scan; give one or the other"));
  }
  SecretsFlags flags;
  flags.paths = o.scan;
  flags.baseline = o.scan_baseline;
  flags.governance = o.governance;
  auto report = ScanSecretsAsFlagsSay(flags, io);
  if (!report) {
    return std::unexpected(Error(report.error().kind(), "--scan: " + report.error().message()));
  }
  if (!report->findings.empty()) io.err << scan::ReportText(*report);
  decision::SecretScanCheck check;
  check.findings = report->counts.findings;
  for (const scan::SecretFinding& f : report->findings) {
    if (check.fingerprints.size() < decision::kMaxScanItems)
      check.fingerprints.push_back(f.fingerprint);
    check.rules.push_back(f.rule_id);
  }
  std::sort(check.rules.begin(), check.rules.end());
  check.rules.erase(std::unique(check.rules.begin(), check.rules.end()), check.rules.end());
  request->secret_scan = std::move(check);
  return Ok();
}

void PrintDiagnostics(const std::vector<governance::Diagnostic>& diagnostics,
                      const std::string& dir, std::ostream& stream) {
  stream << governance::DiagnosticsText(diagnostics, dir);
}

int RunInit(const Options& o, Io& io) {
  auto written = governance::Scaffold(io.fs, o.dir, o.force);
  if (!written) {
    Print(io.err, "error: {}\n", written.error().message());
    return ExitCodeFor(written.error().kind());
  }
  for (const std::string& path : *written) Print(io.out, "  wrote {}\n", JoinPath(o.dir, path));
  Print(io.out,
        "Governance directory {} created with the default policies. Review it, commit it, and\n"
        "validate changes with: interlock check {}\n",
        o.dir, o.dir);
  return kExitOk;
}

int RunCheck(const Options& o, Io& io) {
  auto g = governance::Load(io.fs, o.dir);
  if (o.json) {
    if (g) {
      Print(io.out, "{{\"valid\": true, \"governance_version\": \"{}\", \"errors\": []}}\n",
            g->version);
    } else {
      Print(io.out, "{{\"valid\": false, \"errors\": {}}}\n",
            governance::DiagnosticsToJson(g.error()));
    }
    return g ? kExitOk : kExitInvalid;
  }
  if (!g) {
    PrintDiagnostics(g.error(), o.dir, io.err);
    Print(io.err, "{}: {} error{}\n", o.dir, g.error().size(), g.error().size() == 1 ? "" : "s");
    return kExitInvalid;
  }
  Print(
      io.out,
      "{}: valid ({} roles, {} principals, {} workflows, {} matrix rows, {} risk tiers, {} rules, "
      "{} rollback triggers)\ngovernance_version: {}\n",
      o.dir, g->roles.size(), g->principals.size(), g->workflows.size(), g->matrix.size(),
      g->tiers.size(), g->rules.size(), g->rollback.triggers.size(), g->version);
  return kExitOk;
}

int RunDecide(const Options& o, Io& io) {
  auto g = governance::Load(io.fs, o.governance);
  if (!g) {
    PrintDiagnostics(g.error(), o.governance, io.err);
    Print(io.err, "error: governance directory {} is invalid\n", o.governance);
    return kExitInvalid;
  }
  decision::RequestLimits limits;
  auto text = ReadInput(o.request, io, limits.max_bytes, "request");
  if (!text) {
    Print(io.err, "error: {}\n", text.error().message());
    return ExitCodeFor(text.error().kind());
  }
  auto request = decision::ParseRequest(*text, limits);
  // Offline there is no token to name the actor, so the request must.
  if (request && !request->actor_given) {
    request = std::unexpected(Error::InvalidArgument("actor: required"));
  }
  if (request) {
    if (auto ok = decision::CheckRequest(*g, *request); !ok) request = std::unexpected(ok.error());
  }
  if (!request) {
    Print(io.err, "error: {}\n", request.error().message());
    return kExitInvalid;
  }
  if (!o.scan.empty()) {
    if (auto scanned = ScanIntoRequest(o, io, &*request); !scanned) {
      Print(io.err, "error: {}\n", scanned.error().message());
      return kExitInvalid;
    }
  }
  decision::SafetyState safety;
  if (o.emergency_stop) {
    safety.emergency_stop = true;
    safety.stop_reason = *o.emergency_stop;
  }
  // The scheduled freeze windows at --at (default: now). Offline there are
  // no events, so the windows after a model_update or a rollback are not
  // in force here; the server knows them.
  UnixMillis at = io.clock.Now();
  if (!o.at.empty()) {
    auto parsed = ParseTimestamp(o.at);
    if (!parsed) {
      Print(io.err, "error: --at: {}\n", parsed.error().message());
      return kExitInvalid;
    }
    at = *parsed;
  }
  std::string freeze_reason;
  if (auto frozen = safety::FrozenAsNamed(*g, safety::FreezeEvents{}, request->environment,
                                          request->service, request->change_type, at)) {
    freeze_reason = safety::Describe(*g, *frozen);
    safety.freeze = static_cast<uint32_t>(frozen->window);
    safety.freeze_reason = freeze_reason;
  }
  decision::Decision d;
  decision::Decide(*g, *request, safety, &d);
  // The compliance gate. Offline no model version's artifacts are pinned
  // and no evaluation of the controls is at hand, so a control the
  // governance requires is a finding.
  std::vector<std::string> findings = app::AllFindings(*g, *request, d, {});
  if (!findings.empty()) {
    safety.findings = findings;
    decision::Decide(*g, *request, safety, &d);
  }
  Print(io.out, "{}\n", decision::RenderDecision(*g, *request, safety, d, o.explain));
  return decision::ExitCode(d.kind);
}

int RunVersion(const Options&, Io& io) {
  Print(io.out, "interlock 0.1.0\n");
  return kExitOk;
}

}  // namespace

std::vector<Command> LocalCommands() {
  auto o = std::make_shared<Options>();
  auto run = [o](int (*f)(const Options&, Io&)) { return [o, f](Io& io) { return f(*o, io); }; };
  return {
      {"init", "Write a governance directory with the default policies",
       [o](CLI::App* app) {
         app->add_option("DIR", o->dir, "Directory to create")->required();
         app->add_flag("--force", o->force, "Overwrite default files in a non-empty directory");
       },
       run(RunInit)},
      {"check", "Validate a governance directory (exit 0 valid, 2 invalid)",
       [o](CLI::App* app) {
         app->add_option("DIR", o->dir, "Governance directory")->required();
         app->add_flag("--json", o->json, "Print the result and errors as JSON");
       },
       run(RunCheck)},
      {"decide",
       "Decide one request offline (exit 0 allow, 10 require_approval, 20 deny, 2 invalid input)",
       [o](CLI::App* app) {
         app->add_option("--governance", o->governance, "Governance directory")
             ->capture_default_str();
         app->add_option("--request", o->request, "Request JSON file, or - for stdin")->required();
         app->add_option("--emergency-stop", o->emergency_stop,
                         "Decide as if the emergency stop were active, for REASON")
             ->expected(0, 1)
             ->default_str("");
         app->add_option("--at", o->at,
                         "Decide at TIME (RFC 3339) for the freeze windows (default: now)");
         app->add_flag("--explain", o->explain, "Show every rule considered and why it matched");
         app->add_option("--scan", o->scan,
                         "Scan PATH for secrets (as `interlock scan secrets` does) and decide "
                         "with what it finds as checks.secret_scan")
             ->option_text("PATH");
         app->add_option("--scan-baseline", o->scan_baseline,
                         "With --scan: suppress the findings FILE lists (a baseline)")
             ->option_text("FILE");
       },
       run(RunDecide)},
      {"version", "Print the version", [](CLI::App*) {}, run(RunVersion)},
  };
}

std::vector<Command> Commands() {
  std::vector<Command> all;
  for (auto part :
       {LocalCommands, ServeCommands, AuditCommands, ClientCommands, ScanCommands, PiiCommands,
        ComplianceCommands, ContractCommands, ChangeCommands, DrillCommands}) {
    for (Command& c : part()) all.push_back(std::move(c));
  }
  return all;
}

Result<std::string> ReadInput(const std::string& path, Io& io, size_t limit,
                              std::string_view what) {
  if (path != "-") return io.fs.ReadFile(path, limit);
  std::string text;
  char buffer[1 << 16];
  while (io.in.read(buffer, sizeof buffer) || io.in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(io.in.gcount()));
    if (text.size() > limit) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("{}: larger than the limit of {} bytes", what, limit)));
    }
  }
  return text;
}

int Fail(Io& io, const Error& error) {
  Print(io.err, "error: {}\n", error.message());
  return ExitCodeFor(error.kind());
}

std::string DataDir(const std::string& flag, Io& io) {
  if (!flag.empty()) return flag;
  if (auto env = io.env("INTERLOCK_DATA"); env && !env->empty()) return *env;
  return ".interlock";
}

std::string GovernanceDir(const std::string& flag, Io& io) {
  if (!flag.empty()) return flag;
  if (auto env = io.env("INTERLOCK_GOVERNANCE"); env && !env->empty()) return *env;
  return "governance";
}

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kNotFound:
    case ErrorKind::kAlreadyExists:
    case ErrorKind::kConflict:
    case ErrorKind::kPermissionDenied:
      return kExitInvalid;
    default:
      return kExitFailure;
  }
}

int Run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err) {
  return Run(args, in, out, err, [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

int Run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err, const Env& env) {
  RealFileSystem fs;
  SystemClock clock;
  SystemRandom random;
  Io io{in, out, err, env, fs, clock, random, ProcessAccount()};
  return Run(args, io);
}

std::string ProcessAccount() {
  const uid_t uid = ::getuid();
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return fmt::format("uid:{}", uid);
}

int Run(const std::vector<std::string>& args, Io& io) {
  CLI::App app("Interlock: the governance gate for automation and AI agents", "interlock");
  app.require_subcommand(1);
  app.set_version_flag("--version", "interlock 0.1.0");
  std::function<int(Io&)> run;
  const std::vector<Command> commands = Commands();
  std::map<std::string, CLI::App*, std::less<>> made;  // by path
  for (const Command& c : commands) {
    size_t space = c.path.rfind(' ');
    CLI::App* parent = &app;
    if (space != std::string::npos) {
      auto it = made.find(std::string_view(c.path).substr(0, space));
      if (it == made.end()) {
        Print(io.err, "internal error: command \"{}\" comes before its group\n", c.path);
        return kExitFailure;
      }
      parent = it->second;
    }
    CLI::App* sub = parent->add_subcommand(
        c.path.substr(space == std::string::npos ? 0 : space + 1), c.description);
    made.emplace(c.path, sub);
    if (!c.run) {
      sub->require_subcommand(1);
      continue;
    }
    if (c.setup) c.setup(sub);
    sub->callback([&run, &c] { run = c.run; });
  }
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend() - (args.empty() ? 0 : 1));
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, io.out, io.err);
    return code == 0 ? kExitOk : kExitInvalid;
  }
  if (!run) return kExitInvalid;
  try {
    return run(io);
  } catch (const std::exception& e) {
    // Nothing below throws by design; this is the last line of defence.
    Print(io.err, "internal error: {}\n", e.what());
    return kExitFailure;
  }
}

}  // namespace interlock::cli
