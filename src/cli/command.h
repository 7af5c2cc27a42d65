// Shared plumbing of the command-line subcommands (not a public interface).
#pragma once

#include <fmt/format.h>

#include <functional>
#include <iosfwd>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "core/status.h"

namespace CLI {
class App;
}

namespace interlock::cli {

// The process's surroundings, passed in so tests control them.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // The value of an environment variable, or nullopt when unset.
  std::function<std::optional<std::string>(const char*)> env;
};

template <class... Args>
void Print(std::ostream& stream, fmt::format_string<Args...> format, Args&&... args) {
  stream << fmt::format(format, std::forward<Args>(args)...);
}

// Reads a whole file, or standard input for "-", refusing more than `limit`
// bytes; `what` names the input in errors.
Result<std::string> ReadInput(const std::string& path, std::istream& in, size_t limit,
                              std::string_view what);

// Adds `interlock audit ...`; the chosen subcommand stores its runner in *run.
void AddAuditCommands(CLI::App* app, std::function<int(Io&)>* run);

}  // namespace interlock::cli
