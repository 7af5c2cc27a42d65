// The only road from Interlock to other programs (the scanners run `git`),
// so tests can replace them with canned answers.
//
// Thread safety: implementations must be safe to call from several threads.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace interlock {

// What a finished program left behind.
struct ProcessResult {
  int exit_code = 0;  // the program's exit status; 128 + N when killed by signal N
  std::string out;    // everything it wrote on standard output
  std::string err;    // everything it wrote on standard error
};

struct ProcessRequest {
  // argv[0] is looked up in $PATH when it has no '/'. REQUIRES: not empty.
  std::vector<std::string> argv;
  // The working directory. Default: the caller's.
  std::string cwd;
  // The most bytes accepted on stdout and on stderr, each; a program that
  // writes more is killed and the run fails with kInvalidArgument.
  // Default: 64 MiB.
  size_t max_output = size_t{64} << 20;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs a program to its end with standard input closed (/dev/null).
  // A program that cannot be started is kNotFound (no such program) or
  // kIo; a non-zero exit is not an error: read exit_code.
  virtual Result<ProcessResult> Run(const ProcessRequest& request) = 0;
};

// Runs real programs with posix_spawn, reading both pipes with poll.
// Stateless.
class RealProcessRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> Run(const ProcessRequest& request) override;
};

// Answers from a table set up by the test, keyed by the argv joined with
// single spaces; records every request. An unknown command fails with
// kNotFound.
class FakeProcessRunner final : public ProcessRunner {
 public:
  void Answer(const std::string& command_line, ProcessResult result);
  Result<ProcessResult> Run(const ProcessRequest& request) override;
  std::vector<ProcessRequest> requests() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ProcessResult> answers_;
  std::vector<ProcessRequest> requests_;
};

}  // namespace interlock
