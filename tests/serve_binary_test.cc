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

// `interlock serve` running in a child process.
struct Served {
  pid_t pid = -1;
  int out = -1, err = -1;  // its standard output and error
  std::string banner;      // its output up to the "listening on" line
  int port = 0;            // 0 if it did not say where it listens
};

// Starts `interlock serve` on `listen` (host:port; port 0 picks one).
Served Serve(const std::string& data, const std::string& gov, const std::string& listen) {
  const std::string binary = INTERLOCK_BINARY;
  Served s;
  int out[2], err[2];
  if (pipe(out) != 0 || pipe(err) != 0) return s;
  s.pid = fork();
  if (s.pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    execl(binary.c_str(), binary.c_str(), "serve", "--data", data.c_str(), "--governance",
          gov.c_str(), "--listen", listen.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  s.out = out[0];
  s.err = err[0];
  if (s.pid < 0) return s;
  s.banner = ReadUntil(s.out, "listening on http://");
  std::string host = listen.substr(0, listen.rfind(':') + 1);
  size_t at = s.banner.find(host);
  if (at != std::string::npos) s.port = std::atoi(s.banner.c_str() + at + host.size());
  return s;
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

  Served served = Serve(data, gov, "127.0.0.1:0");
  ASSERT_GT(served.port, 0) << served.banner;
  pid_t pid = served.pid;
  int out[2] = {served.out, -1}, err[2] = {served.err, -1};
  int port = served.port;

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

// Plain HTTP on an address beyond loopback starts, with a loud warning on
// standard error and a flag in /healthz.
TEST(ServeBinary, PlainHttpBeyondLoopbackWarnsAndHealthSaysSo) {
  TempDir dir;
  const std::string gov = dir.path() + "/governance", data = dir.path() + "/data";
  ASSERT_EQ(std::system((std::string(INTERLOCK_BINARY) + " init " + gov + " >/dev/null").c_str()),
            0);
  // Every address, loopback among them, which the test speaks to.
  Served served = Serve(data, gov, "0.0.0.0:0");
  ASSERT_GT(served.port, 0) << served.banner;
  std::string warning = ReadUntil(served.err, "WARNING");
  EXPECT_NE(warning.find("WARNING: interlock serve listens on 0.0.0.0:0 with plain HTTP: bearer "
                         "tokens, decisions and approvals cross the network unencrypted."),
            std::string::npos)
      << warning;

  HttpClient client(static_cast<uint16_t>(served.port));
  auto health = client.Send("GET", "/healthz", "");
  ASSERT_EQ(health.status, 200);
  json h = json::parse(health.body);
  EXPECT_EQ(h["insecure_transport"], true) << health.body;

  kill(served.pid, SIGTERM);
  int status = 0;
  waitpid(served.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(served.out);
  close(served.err);
}

}  // namespace
}  // namespace interlock
