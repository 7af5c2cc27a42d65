// `interlock scan`: the pre-deploy scanners. `scan secrets` parses its
// flags, loads the rules, key and baseline, calls scan::ScanSecrets and
// prints the report.
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/command.h"
#include "core/process.h"
#include "scan/rules.h"
#include "scan/secrets.h"

namespace interlock::cli {
namespace {

constexpr size_t kConfigLimit = size_t{4} << 20;
constexpr size_t kBaselineLimit = size_t{256} << 20;

int RunSecrets(const SecretsFlags& flags, Io& io) {
  auto invalid = [&](const Error& error) {
    Print(io.err, "error: {}\n", error.message());
    return kExitInvalid;
  };
  auto report = ScanSecretsAsFlagsSay(flags, io);
  if (!report) return invalid(report.error());
  if (!flags.write_baseline.empty()) {
    if (auto written = io.fs.WriteFile(flags.write_baseline, scan::BaselineJson(*report));
        !written) {
      return invalid(written.error());
    }
  }
  if (flags.format == "json") {
    io.out << scan::ReportJson(*report);
  } else if (flags.format == "sarif") {
    io.out << scan::ReportSarif(*report);
  } else {
    io.out << scan::ReportText(*report);
    if (report->counts.allow_without_reason > 0) {
      Print(io.err,
            "note: {} line(s) say interlock:allow without a reason, which allows nothing: "
            "write `interlock:allow <why this is not a secret>`\n",
            report->counts.allow_without_reason);
    }
  }
  return report->findings.empty() ? kExitOk : kExitFailure;
}

}  // namespace

Result<scan::SecretReport> ScanSecretsAsFlagsSay(const SecretsFlags& flags, Io& io) {
  scan::SecretScanOptions options;
  options.paths = flags.paths;
  if (flags.staged && !flags.diff.empty()) {
    return std::unexpected(Error::InvalidArgument("--staged and --diff cannot be used together"));
  }
  if (flags.staged) options.source = scan::SecretSource::kStaged;
  if (!flags.diff.empty()) {
    options.source = scan::SecretSource::kDiff;
    options.diff_base = flags.diff;
  }
  if (flags.threads < 1 || flags.threads > 64) {
    return std::unexpected(Error::InvalidArgument("--threads: expected a number from 1 to 64"));
  }
  options.threads = flags.threads;
  // The rules: --config, else the governance directory's scan/secrets.toml
  // when there is one, else the built-in ones.
  std::string config = flags.config;
  if (config.empty()) {
    std::string governed = JoinPath(GovernanceDir(flags.governance, io), "scan/secrets.toml");
    if (io.fs.Exists(governed)) config = governed;
  }
  if (!config.empty()) {
    auto text = io.fs.ReadFile(config, kConfigLimit);
    if (!text) return std::unexpected(text.error());
    auto parsed = scan::ParseSecretConfig(*text, config);
    if (!parsed) return std::unexpected(parsed.error());
    options.config = std::move(*parsed);
  }
  auto key = scan::LoadScanKey(flags.key_file, io.env, io.fs, io.random);
  if (!key) return std::unexpected(key.error());
  options.key = std::move(*key);
  if (!flags.baseline.empty()) {
    auto text = io.fs.ReadFile(flags.baseline, kBaselineLimit);
    if (!text) return std::unexpected(text.error());
    auto baseline = scan::ParseBaseline(*text, flags.baseline);
    if (!baseline) return std::unexpected(baseline.error());
    options.baseline = std::move(*baseline);
  }
  RealProcessRunner processes;
  return scan::ScanSecrets(options, io.fs, processes);
}

std::vector<Command> ScanCommands() {
  auto secrets = std::make_shared<SecretsFlags>();
  return {
      {"scan", "The pre-deploy scanners: secrets and PII", nullptr, nullptr},
      {"scan secrets",
       "Find secrets in files or in the lines a git diff adds (exit 0 clean, 1 found, 2 error)",
       [secrets](CLI::App* app) {
         app->add_option("PATH", secrets->paths,
                         "Files or directories (default: .); with --staged or --diff, pathspecs");
         app->add_flag("--staged", secrets->staged, "Scan the lines `git diff --cached` adds");
         app->add_option("--diff", secrets->diff, "Scan the lines `git diff BASE` adds")
             ->option_text("BASE");
         app->add_option("--baseline", secrets->baseline,
                         "Suppress the findings whose fingerprints FILE lists (a JSON report, "
                         "or fingerprints one a line)")
             ->option_text("FILE");
         app->add_option("--write-baseline", secrets->write_baseline,
                         "Write every finding (suppressed ones included) to FILE as a baseline")
             ->option_text("FILE");
         app->add_option("--format", secrets->format, "Output format")
             ->check(CLI::IsMember({"text", "json", "sarif"}))
             ->capture_default_str();
         app->add_option("--config", secrets->config,
                         "Rules and allowlists in gitleaks' TOML format (instead of the built-in "
                         "ones, or with them by [extend] useDefault = true)")
             ->option_text("FILE");
         app->add_option("--governance", secrets->governance,
                         "The governance directory whose scan/secrets.toml holds the rules when "
                         "--config is not given (default: $INTERLOCK_GOVERNANCE, else "
                         "./governance)")
             ->option_text("DIR");
         app->add_option("--key-file", secrets->key_file,
                         "The fingerprints' key (default: $INTERLOCK_SCAN_KEY, else "
                         "~/.config/interlock/scan.key, created when missing)")
             ->option_text("FILE");
         app->add_option("--threads", secrets->threads, "Worker threads")->capture_default_str();
       },
       [secrets](Io& io) { return RunSecrets(*secrets, io); }},
  };
}

}  // namespace interlock::cli
