// Shared plumbing of the command-line subcommands (not a public interface).
#pragma once

#include <fmt/format.h>

#include <functional>
#include <iosfwd>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli.h"
#include "core/status.h"

namespace CLI {
class App;
}
namespace interlock::audit {
class AuditLog;
}
namespace interlock::governance {
struct Governance;
}
namespace interlock::scan {
struct SecretReport;
}

namespace interlock::cli {

template <class... Args>
void Print(std::ostream& stream, fmt::format_string<Args...> format, Args&&... args) {
  stream << fmt::format(format, std::forward<Args>(args)...);
}

// Reads a whole file, or standard input for "-", refusing more than `limit`
// bytes; `what` names the input in errors.
Result<std::string> ReadInput(const std::string& path, Io& io, size_t limit, std::string_view what);

// Prints "error: <message>" and returns the exit code for its kind.
int Fail(Io& io, const Error& error);

// The data directory: the --data flag, else $INTERLOCK_DATA, else ./.interlock.
std::string DataDir(const std::string& flag, Io& io);
// The governance directory: the flag, else $INTERLOCK_GOVERNANCE, else ./governance.
std::string GovernanceDir(const std::string& flag, Io& io);

// The audit log of the data directory (the --data flag `data`), opened
// alone, without a service: the one way every command that reads or writes
// the log opens it. Retention comes from `g` when given; the log's warnings
// are printed on io.err.
Result<std::unique_ptr<audit::AuditLog>> OpenAuditLogAlone(const std::string& data,
                                                           const governance::Governance* g, Io& io);

// The flags of `interlock scan secrets`, which `interlock decide --scan`
// shares.
struct SecretsFlags {
  std::vector<std::string> paths;
  bool staged = false;
  std::string diff;
  std::string baseline;
  std::string write_baseline;
  std::string format = "text";
  std::string config;      // rules in gitleaks' TOML; default: the governance's scan/secrets.toml
  std::string governance;  // the governance directory (GovernanceDir)
  std::string key_file;
  int threads = 2;
};

// Scans for secrets as `flags` say: the rules of --config, else of the
// governance directory's scan/secrets.toml when it has one, else the
// built-in ones; the key (scan::LoadScanKey) and the baseline.
Result<scan::SecretReport> ScanSecretsAsFlagsSay(const SecretsFlags& flags, Io& io);

// One entry of the command table: a subcommand, or a group of them.
struct Command {
  // The words after "interlock", e.g. "audit verify". A group ("audit")
  // comes before its members.
  std::string path;
  // One line: what `interlock --help` and the group's help show.
  std::string description;
  // Declares the command's arguments and flags; null for a group.
  std::function<void(CLI::App*)> setup;
  // Runs the command once its flags are parsed; null for a group.
  std::function<int(Io&)> run;
};

// The table's parts, one per file: init, check, decide and version
// (cli.cc); the audit trail (audit_cli.cc); serve and tokens
// (serve_cli.cc); the clients of a running server (client_cli.cc); the
// scanners (scan_cli.cc: the group "scan" and its secrets; pii_cli.cc: PII);
// compliance (compliance_cli.cc); contract changes (contract_cli.cc); change
// records (change_cli.cc); safety drills (drill_cli.cc).
std::vector<Command> LocalCommands();
std::vector<Command> ScanCommands();
std::vector<Command> AuditCommands();
std::vector<Command> ServeCommands();
std::vector<Command> ClientCommands();
std::vector<Command> PiiCommands();
std::vector<Command> ComplianceCommands();
std::vector<Command> ContractCommands();
std::vector<Command> ChangeCommands();
std::vector<Command> DrillCommands();
// The whole table, in the order the help lists it. Each call makes fresh
// flag storage, so one table serves one parse.
std::vector<Command> Commands();

}  // namespace interlock::cli
