// The `interlock serve` binary as a user runs it: init, token create, serve,
// call it, reload it with SIGHUP, stop it with SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "http_client.h"
#include "test_util.h"

namespace interlock {
namespace {

using json = nlohmann::json;
using testing::HttpClient;
using testing::TempDir;

// Runs a shell command; returns its standard output.
std::string Output(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
  pclose(p);
  return out;
}

// Reads lines from `fd` until one contains `what`, or EOF; returns them.
std::string ReadUntil(int fd, const std::string& what) {
  std::string text;
  char c;
  while (text.find(what) == std::string::npos && ::read(fd, &c, 1) == 1) text += c;
  while (!text.empty() && text.back() != '\n' && ::read(fd, &c, 1) == 1) text += c;
  return text;
}

TEST(ServeBinary, ServesReloadsAndDrains) {
  TempDir dir;
  const std::string binary = INTERLOCK_BINARY;
  const std::string gov = dir.path() + "/governance", data = dir.path() + "/data";
  ASSERT_EQ(std::system((binary + " init " + gov + " >/dev/null").c_str()), 0);
  std::string created = Output(binary + " token create --data " + data + " --governance " + gov +
                               " --principal alice --expires 30d 2>/dev/null");
  ASSERT_NE(created.find("itk_"), std::string::npos) << created;
  // The token is the last word printed.
  std::string token = created.substr(created.rfind("itk_"));
  while (!token.empty() && token.back() == '\n') token.pop_back();

  int out[2], err[2];
  ASSERT_EQ(pipe(out), 0);
  ASSERT_EQ(pipe(err), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    execl(binary.c_str(), binary.c_str(), "serve", "--data", data.c_str(), "--governance",
          gov.c_str(), "--listen", "127.0.0.1:0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  std::string banner = ReadUntil(out[0], "listening on http://");
  size_t at = banner.find("127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << banner;
  int port = std::atoi(banner.c_str() + at + 10);
  ASSERT_GT(port, 0);

  HttpClient client(static_cast<uint16_t>(port));
  EXPECT_EQ(client.Send("GET", "/healthz", "").status, 200);
  std::string request =
      R"({"actor": {"type": "human", "id": "alice"}, "change": {"type": "code",
          "environment": "dev", "version": "1.0.1", "previous_version": "1.0.0"},
          "checks": {"tests_passed": true, "security_scan": {"passed": true}}})";
  auto decided = client.Send("POST", "/v1/decisions", token, request);
  ASSERT_EQ(decided.status, 200) << decided.body;
  EXPECT_EQ(json::parse(decided.body)["decision"], "allow");

  // A broken governance directory is refused by SIGHUP; the old one stays.
  std::string version = json::parse(client.Send("GET", "/healthz", "").body)["governance_version"];
  std::ofstream(gov + "/decision/matrix.yaml", std::ios::app) << "\n  - [unclosed\n";
  kill(pid, SIGHUP);
  std::string refused = ReadUntil(err[0], "matrix.yaml");
  EXPECT_NE(refused.find("matrix.yaml"), std::string::npos) << refused;
  EXPECT_EQ(json::parse(client.Send("GET", "/healthz", "").body)["governance_version"], version);
  EXPECT_EQ(client.Send("POST", "/v1/decisions", token, request).status, 200);

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::string tail = ReadUntil(err[0], "stopped");
  EXPECT_NE(tail.find("stopped"), std::string::npos) << tail;
  close(out[0]);
  close(err[0]);

  // Everything it answered is in the log, which verifies.
  std::string verified = Output(binary + " audit verify --data " + data + " 2>&1");
  EXPECT_NE(verified.find("\"ok\":true"), std::string::npos) << verified;
}

}  // namespace
}  // namespace interlock
