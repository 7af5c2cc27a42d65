// The `interlock` command line: a table of subcommands, each a thin layer
// that parses flags, calls the library and prints. No rules live here.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/fs.h"
#include "core/random.h"
#include "core/status.h"

namespace interlock::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and found a problem (audit verify)
inline constexpr int kExitInvalid = 2;  // invalid input, flags or configuration
inline constexpr int kExitRequireApproval = 10;
inline constexpr int kExitDeny = 20;

// The exit code for an error of a given kind.
int ExitCodeFor(ErrorKind kind);

// The value of an environment variable, or nullopt when unset.
using Env = std::function<std::optional<std::string>(const char*)>;

// The process's surroundings, passed in so tests control them: the
// streams, the environment, the file system, the clock, randomness and the
// account it runs as. Subcommands take all of these from here and nowhere
// else.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  Env env;
  FileSystem& fs;
  const Clock& clock;
  Random& random;
  // The operating-system account of the process, by its real user id (not
  // $USER, which anyone sets): the actor that local commands such as
  // `token create` record.
  std::string account;
};

// The account of the calling process's real user id: its name, or
// "uid:N" when the user database has none.
std::string ProcessAccount();

// Runs the command line `args` (args[0] is the program name) in `io`.
// Returns the exit code. Never throws.
int Run(const std::vector<std::string>& args, Io& io);

// The same in the process's surroundings: its environment, the real file
// system, the system clock and randomness.
int Run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err);
// The same with the environment given.
int Run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err, const Env& env);

}  // namespace interlock::cli
