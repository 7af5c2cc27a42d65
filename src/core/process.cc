#include "core/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace interlock {
namespace {

// Closes what it holds on every path out.
struct Fd {
  int fd = -1;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

Result<ProcessResult> RealProcessRunner::Run(const ProcessRequest& request) {
  if (request.argv.empty()) return std::unexpected(Error::InvalidArgument("no program to run"));
  const std::string& program = request.argv[0];
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return std::unexpected(Error::Io(fmt::format("{}: pipe: {}", program, std::strerror(errno))));
  }
  Fd out_read{out_pipe[0]}, out_write{out_pipe[1]};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return std::unexpected(Error::Io(fmt::format("{}: pipe: {}", program, std::strerror(errno))));
  }
  Fd err_read{err_pipe[0]}, err_write{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.fd, 2);
  if (!request.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, request.cwd.c_str());
  std::vector<char*> argv;
  for (const std::string& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawned = program.find('/') == std::string::npos
                    ? ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ)
                    : ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    if (spawned == ENOENT) {
      return std::unexpected(Error::NotFound(fmt::format("{}: no such program", program)));
    }
    return std::unexpected(
        Error::Io(fmt::format("{}: cannot start: {}", program, std::strerror(spawned))));
  }
  out_write.Close();
  err_write.Close();

  ProcessResult result;
  bool too_much = false;
  pollfd fds[2] = {{out_read.fd, POLLIN, 0}, {err_read.fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  char buffer[1 << 16];
  while (open_count > 0 && !too_much) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        --open_count;
        continue;
      }
      sinks[i]->append(buffer, static_cast<size_t>(n));
      if (sinks[i]->size() > request.max_output) too_much = true;
    }
  }
  if (too_much) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (too_much) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "{}: wrote more than the limit of {} bytes of output", program, request.max_output)));
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

void FakeProcessRunner::Answer(const std::string& command_line, ProcessResult result) {
  std::lock_guard lock(mutex_);
  answers_[command_line] = std::move(result);
}

Result<ProcessResult> FakeProcessRunner::Run(const ProcessRequest& request) {
  std::lock_guard lock(mutex_);
  requests_.push_back(request);
  std::string line;
  for (const std::string& arg : request.argv) {
    if (!line.empty()) line += ' ';
    line += arg;
  }
  auto it = answers_.find(line);
  if (it == answers_.end()) {
    return std::unexpected(Error::NotFound(fmt::format("{}: no such program", line)));
  }
  return it->second;
}

std::vector<ProcessRequest> FakeProcessRunner::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

}  // namespace interlock
