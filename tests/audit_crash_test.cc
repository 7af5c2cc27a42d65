// Crash durability of the audit log: a child process appends from several
// threads and acknowledges each record only once Append returned it durable;
// the parent kills the child with SIGKILL at a random moment, reopens the log
// and checks that every acknowledged record is there, with the acknowledged
// leaf hash and event, and that the whole log verifies. The rounds share one
// data directory, so the log grows across crashes.
//
// The child is this test binary started again (fork, then exec of
// /proc/self/exe running only AuditCrashChild.AppendUntilKilled), not a bare
// fork of the test process. After fork() a process that had several threads
// may call only async-signal-safe functions until it execs, and the test
// process is not guaranteed to have one thread (the sanitizers, other tests
// and a log opened in-process all start threads), while the child has to
// allocate, start writer threads and open SQLite. The exec gives it a fresh
// process, and every round then also opens and recovers the log (SQLite's
// write-ahead log included) exactly as a restarted server does.
//
// Environment:
//   INTERLOCK_CRASH_ROUNDS  rounds to run (default 50; scripts/soak-audit.sh
//                           runs more)
//   INTERLOCK_CRASH_SEED    seed of the kill delays (default: random; the
//                           seed is in every failure message)
//   INTERLOCK_CRASH_DIR     data directory to use and keep (default: a
//                           temporary directory, removed afterwards)
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "audit/log.h"
#include "audit/merkle.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/random.h"
#include "test_util.h"

extern char** environ;

namespace interlock::audit {
namespace {

using interlock::testing::TempDir;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Set only in the child: the data directory and the acknowledgement pipe.
constexpr const char* kChildDirEnv = "INTERLOCK_CRASH_CHILD_DIR";
constexpr const char* kChildFdEnv = "INTERLOCK_CRASH_CHILD_FD";
constexpr const char* kChildFilter = "--gtest_filter=AuditCrashChild.AppendUntilKilled";

// Every process opens the log with this master key.
constexpr const char* kMasterKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr int kWriterThreads = 4;
constexpr int kDefaultRounds = 50;
// How long a child may take to acknowledge its first record (a cold start of
// a sanitizer build on a loaded machine included).
constexpr milliseconds kFirstAckTimeout{30'000};

struct Services {
  RealFileSystem fs;
  SystemClock clock;
  SystemRandom random;
};

LogOptions OptionsFor(const std::string& dir, Services& services) {
  LogOptions options;
  options.data_dir = dir;
  options.fs = &services.fs;
  options.clock = &services.clock;
  options.random = &services.random;
  options.master_key_env = kMasterKey;
  return options;
}

std::string EventJson(const std::string& event_id) {
  return fmt::format(
      R"({{"event_type":"crash_test_append","event_id":"{}",)"
      R"("actor":{{"type":"service","id":"crash-writer"}},"action":{{"type":"append"}}}})",
      event_id);
}

// Writes all of `line` to `fd`; a pipe takes a line shorter than PIPE_BUF in
// one piece, so lines of several threads never interleave.
bool WriteLine(int fd, const std::string& line) {
  for (;;) {
    ssize_t n = ::write(fd, line.data(), line.size());
    if (n == static_cast<ssize_t>(line.size())) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// The child: appends from kWriterThreads threads until it is killed, writing
// "INDEX LEAF_HASH_HEX EVENT_ID\n" to the pipe after each successful Append.
// Run by the AuditCrash tests only; skipped in a normal run.
TEST(AuditCrashChild, AppendUntilKilled) {
  const char* dir = std::getenv(kChildDirEnv);
  const char* fd_text = std::getenv(kChildFdEnv);
  if (dir == nullptr || fd_text == nullptr) {
    GTEST_SKIP() << "the child process of the AuditCrash tests; runs only when they start it";
  }
  const int ack_fd = std::atoi(fd_text);
  Services services;
  auto log = testing::OpenSqliteLog(OptionsFor(dir, services));
  if (!log) {
    std::fprintf(stderr, "crash child: cannot open the log: %s\n", log.error().message().c_str());
    std::_Exit(3);
  }
  const pid_t pid = ::getpid();
  std::vector<std::thread> writers;
  for (int thread = 0; thread < kWriterThreads; ++thread) {
    writers.emplace_back([&log, ack_fd, pid, thread] {
      for (uint64_t n = 0;; ++n) {
        std::string event_id = fmt::format("p{}-t{}-{}", pid, thread, n);
        auto appended = (*log)->Append(EventJson(event_id));
        if (!appended) {
          std::fprintf(stderr, "crash child: append %s failed: %s\n", event_id.c_str(),
                       appended.error().message().c_str());
          std::_Exit(4);
        }
        std::string line =
            fmt::format("{} {} {}\n", appended->index, HashHex(appended->leaf_hash), event_id);
        if (!WriteLine(ack_fd, line)) std::_Exit(5);  // the parent is gone
      }
    });
  }
  // Never returns normally: the parent kills this process.
  for (std::thread& writer : writers) writer.join();
  std::_Exit(6);
}

// An acknowledged record.
struct Ack {
  uint64_t index = 0;
  Hash leaf_hash{};
  std::string event_id;
};

// A started child process and the read end of its acknowledgement pipe.
class Child {
 public:
  // Starts the child appending to the log in `dir`.
  static std::optional<Child> Start(const std::string& dir, std::string* error) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      *error = fmt::format("pipe2: {}", std::strerror(errno));
      return std::nullopt;
    }
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0) {
      *error = fmt::format("/dev/null: {}", std::strerror(errno));
      ::close(fds[0]);
      ::close(fds[1]);
      return std::nullopt;
    }
    // Everything the child needs is built before fork(): between fork and
    // exec it makes only async-signal-safe calls. It gets this process's
    // environment without gtest's settings (sharding would leave its one
    // test unrun) and with its two variables.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view entry(*e);
      if (entry.starts_with("GTEST_") || entry.starts_with(std::string(kChildDirEnv) + "=") ||
          entry.starts_with(std::string(kChildFdEnv) + "=")) {
        continue;
      }
      env_strings.emplace_back(entry);
    }
    env_strings.push_back(fmt::format("{}={}", kChildDirEnv, dir));
    env_strings.push_back(fmt::format("{}={}", kChildFdEnv, fds[1]));
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::string filter = kChildFilter;
    char* argv[] = {exe.data(), filter.data(), nullptr};
    const pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) {
      *error = fmt::format("fork: {}", std::strerror(errno));
      ::close(fds[0]);
      ::close(fds[1]);
      ::close(devnull);
      return std::nullopt;
    }
    if (pid == 0) {
      // Dies with the parent, so an aborted test leaves no writer behind.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      ::fcntl(fds[1], F_SETFD, 0);     // the acknowledgement pipe survives the exec
      ::dup2(devnull, STDOUT_FILENO);  // gtest's report of the child is noise
      ::execve(exe.c_str(), argv, envp.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    ::close(devnull);
    return Child(pid, fds[0]);
  }

  Child(Child&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), fd_(std::exchange(other.fd_, -1)) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child& operator=(Child&&) = delete;
  ~Child() {
    if (pid_ > 0) (void)KillAndWait();
    if (fd_ >= 0) ::close(fd_);
  }

  // Reads acknowledgements until `deadline`, until the buffer holds a whole
  // line when `until_line`, or until the child closes the pipe. False at
  // end of file.
  bool Read(SteadyClock::time_point deadline, bool until_line = false) {
    char chunk[4096];
    for (;;) {
      if (until_line && buffer_.find('\n') != std::string::npos) return true;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) return true;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return true;
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Sends SIGKILL and reaps the child; returns its wait status.
  int KillAndWait() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  const std::string& buffer() const { return buffer_; }

 private:
  Child(pid_t pid, int fd) : pid_(pid), fd_(fd) {}

  pid_t pid_;
  int fd_;
  std::string buffer_;
};

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return fmt::format("ended with wait status {}", status);
}

// Parses the child's acknowledgement lines; every line must be whole.
std::optional<std::vector<Ack>> ParseAcks(const std::string& text, std::string* error) {
  std::vector<Ack> acks;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      *error = fmt::format("a partial acknowledgement line: '{}'", text.substr(start));
      return std::nullopt;
    }
    std::string line = text.substr(start, end - start);
    start = end + 1;
    // INDEX LEAF_HASH_HEX EVENT_ID
    size_t first = line.find(' ');
    size_t second = first == std::string::npos ? first : line.find(' ', first + 1);
    char* index_end = nullptr;
    uint64_t index = std::strtoull(line.c_str(), &index_end, 10);
    auto hash = second == std::string::npos
                    ? Result<Hash>(std::unexpected(Error::InvalidArgument("no hash")))
                    : ParseHashHex(line.substr(first + 1, second - first - 1));
    if (first == 0 || index_end != line.c_str() + first || !hash) {
      *error = fmt::format("a malformed acknowledgement line: '{}'", line);
      return std::nullopt;
    }
    acks.push_back({index, *hash, line.substr(second + 1)});
  }
  return acks;
}

// Reopens the log in `dir`, verifies the whole log and reads back the
// acknowledged records from index `from` on. The records before `from` were
// read back in an earlier round, and a checkpoint signed since covers them.
// Adds the record of its own read, and a checkpoint on closing.
void ExpectLogHolds(const std::string& dir, const std::map<uint64_t, Ack>& acked, uint64_t from) {
  Services services;
  auto log = testing::OpenSqliteLog(OptionsFor(dir, services));
  ASSERT_TRUE(log) << "the log does not reopen: " << log.error().message();
  const uint64_t size = (*log)->size();
  auto report = (*log)->Verify({});
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->ok) << "the log does not verify: " << report->problem;
  EXPECT_EQ(report->size, size);

  ASSERT_GE(size, acked.size()) << "the log is smaller than the number of acknowledged records";
  const auto first = acked.lower_bound(from);
  if (first == acked.end()) return;
  ASSERT_LT(acked.rbegin()->first, size) << "acknowledged record " << acked.rbegin()->first
                                         << " is beyond the log's " << size << " entries";
  Reader reader;
  reader.id = "crash-test";
  reader.type = "service";
  reader.scope = ReadScope::kAll;
  QueryFilter filter;
  filter.from_index = first->first;
  filter.to_index = acked.rbegin()->first + 1;
  filter.limit = static_cast<size_t>(*filter.to_index - filter.from_index);
  auto entries = (*log)->Query(reader, filter);
  ASSERT_TRUE(entries) << entries.error().message();
  std::map<uint64_t, const Entry*> by_index;
  for (const Entry& e : *entries) by_index[e.index] = &e;
  TreeHasher hasher;
  int failures = 0;
  for (auto ack_it = first; ack_it != acked.end(); ++ack_it) {
    const auto& [index, ack] = *ack_it;
    auto it = by_index.find(index);
    bool ok = it != by_index.end() && it->second->leaf_hash == ack.leaf_hash &&
              hasher.Leaf(it->second->leaf) == ack.leaf_hash &&
              it->second->event.find(fmt::format(R"("event_id":"{}")", ack.event_id)) !=
                  std::string::npos;
    if (!ok && ++failures <= 5) {
      ADD_FAILURE() << "acknowledged record " << index << " (" << ack.event_id << ", leaf "
                    << HashHex(ack.leaf_hash) << ") "
                    << (it == by_index.end()
                            ? std::string("is missing")
                            : fmt::format("reads back as leaf {} holding {}",
                                          HashHex(it->second->leaf_hash), it->second->event));
    }
  }
  EXPECT_EQ(failures, 0) << "acknowledged records lost or changed";
}

int RoundsFromEnv() {
  const char* text = std::getenv("INTERLOCK_CRASH_ROUNDS");
  int rounds = text != nullptr ? std::atoi(text) : 0;
  return rounds > 0 ? rounds : kDefaultRounds;
}

uint64_t SeedFromEnv() {
  const char* text = std::getenv("INTERLOCK_CRASH_SEED");
  if (text != nullptr && *text != '\0') return std::strtoull(text, nullptr, 10);
  std::random_device device;
  return (uint64_t{device()} << 32) | device();
}

// Most rounds kill the child 5 to 60 ms after its first acknowledgement, in
// the middle of appending. One round in five kills it before it could have
// acknowledged anything (a random moment within the time the last child took
// to acknowledge its first record), so the crash hits the opening of the log
// and the recovery of the previous crash.
TEST(AuditCrash, AcknowledgedAppendsSurviveSigkill) {
  const int rounds = RoundsFromEnv();
  const uint64_t seed = SeedFromEnv();
  SCOPED_TRACE(fmt::format("seed {} (rerun with INTERLOCK_CRASH_SEED={})", seed, seed));
  std::mt19937_64 rng(seed);

  TempDir temp;
  const char* kept_dir = std::getenv("INTERLOCK_CRASH_DIR");
  const std::string dir =
      kept_dir != nullptr && *kept_dir != '\0' ? std::string(kept_dir) : temp.path() + "/data";

  std::map<uint64_t, Ack> acked;
  milliseconds startup{0};  // how long the last child took to acknowledge its first record
  int early_kills = 0;
  const auto began = SteadyClock::now();
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(fmt::format("round {} of {}, data directory {}", round + 1, rounds, dir));
    const bool early = startup.count() > 0 && rng() % 5 == 0;
    const milliseconds delay{early ? std::uniform_int_distribution<int64_t>(0, startup.count())(rng)
                                   : std::uniform_int_distribution<int64_t>(5, 60)(rng)};

    std::string error;
    std::optional<Child> child = Child::Start(dir, &error);
    ASSERT_TRUE(child) << "cannot start the child: " << error;
    const auto started = SteadyClock::now();
    if (early) {
      ++early_kills;
      child->Read(started + delay);
    } else if (child->Read(started + kFirstAckTimeout, /*until_line=*/true) &&
               child->buffer().find('\n') != std::string::npos) {
      const auto first_ack = SteadyClock::now();
      startup = std::chrono::duration_cast<milliseconds>(first_ack - started);
      child->Read(first_ack + delay);
    }
    const int status = child->KillAndWait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child " << DescribeStatus(status)
        << " before it was killed (its error, if any, is on stderr above)";
    if (!early) {
      ASSERT_NE(child->buffer().find('\n'), std::string::npos)
          << "the child acknowledged nothing within " << kFirstAckTimeout.count() << " ms";
    }
    // Acknowledgements written before the kill are still in the pipe.
    (void)child->Read(SteadyClock::now() + milliseconds(10'000));

    auto acks = ParseAcks(child->buffer(), &error);
    ASSERT_TRUE(acks) << error;
    uint64_t from = UINT64_MAX;
    for (Ack& ack : *acks) {
      uint64_t index = ack.index;
      from = std::min(from, index);
      std::string event_id = ack.event_id;
      auto [it, inserted] = acked.emplace(index, std::move(ack));
      ASSERT_TRUE(inserted) << "index " << index << " was acknowledged twice, for "
                            << it->second.event_id << " and for " << event_id;
    }
    ExpectLogHolds(dir, acked, from);
    if (::testing::Test::HasFailure()) return;
  }
  // Every record acknowledged in any round, read back once more.
  SCOPED_TRACE(fmt::format("after all {} rounds, data directory {}", rounds, dir));
  ExpectLogHolds(dir, acked, 0);
  const auto took = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - began);
  std::printf(
      "%d rounds (%d killed before their first acknowledgement), %zu records "
      "acknowledged, %lld ms\n",
      rounds, early_kills, acked.size(), static_cast<long long>(took.count()));
}

}  // namespace
}  // namespace interlock::audit
