// Shared plumbing of the command-line subcommands (not a public interface).
#pragma once

#include <fmt/format.h>

#include <functional>
#include <iosfwd>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/cli.h"
#include "core/status.h"

namespace CLI {
class App;
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

// Adds `interlock audit ...`; the chosen subcommand stores its runner in *run.
void AddAuditCommands(CLI::App* app, std::function<int(Io&)>* run);
// Adds `interlock serve` and `interlock token ...`.
void AddServeCommands(CLI::App* app, std::function<int(Io&)>* run);
// Adds `interlock stop ...` and `interlock approvals ...`, clients of a running server.
void AddClientCommands(CLI::App* app, std::function<int(Io&)>* run);

}  // namespace interlock::cli
