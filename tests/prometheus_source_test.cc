// The Prometheus metric source against a real Prometheus: Debian's
// `prometheus` (scripts/install-deps.sh installs it; INTERLOCK_PROMETHEUS
// names another binary) runs in a child process on a free loopback port,
// with its storage in a temporary directory, and scrapes an exporter the
// test controls (an HttpReceiver answering every request with the
// exposition text the test sets). The exporter serves one gauge,
// http_error_rate, for the canary (version 1.0.1) and the baseline
// (version 1.0.0). First PrometheusSource on its own, then the rollouts of
// the real server reading canary.yml's metric queries from it.
//
// Determinism. Prometheus scrapes the exporter every second; an instant
// query at time T answers with each series' latest sample at or before T,
// looking back at most 5 minutes (--query.lookback-delta, given
// explicitly). No test sleeps for a scrape:
//  - the exporter writes each sample with a timestamp: the time the test
//    set its value (Rig::Serve). Every scrape until the next Serve repeats
//    that one sample, so a series holds one sample per value whatever the
//    scrape timing, and a failed scrape (a loaded machine missing the 1 s
//    scrape timeout) marks nothing stale: Prometheus never marks a series
//    with explicit timestamps stale;
//  - after setting the values, Serve polls /api/v1/query until every series
//    answers the new sample, its value at its timestamp (within 30 s; the
//    first scrape comes some 5 s after Prometheus starts, when its scrape
//    manager first applies its targets);
//  - the queries under test are then sent at a time no earlier than that
//    poll, hence after the sample: PrometheusSource's at the real time, the
//    rollouts' at the ManualClock's time, which starts at the real time and
//    before each evaluation moves on by the interval and to at least the
//    real time. It runs ahead by a few intervals, which Prometheus answers
//    from the latest sample; the test checks that it stays less than 4
//    minutes after the sample, inside the lookback.
// Prometheus starts once per test program, when the first test needs it,
// and is stopped (SIGTERM, then SIGKILL) when the program's tests end.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/url.h"
#include "http_receiver.h"
#include "net/http_client.h"
#include "rollout/prometheus.h"
#include "rollout/reading.h"
#include "server_fixture.h"
#include "test_util.h"

namespace interlock {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
using rollout::Reading;
using rollout::ReadingStatus;

constexpr const char* kService = "api";
constexpr const char* kCanaryVersion = "1.0.1";
constexpr const char* kBaselineVersion = "1.0.0";

// How long Prometheus gets to become ready, and a served value to show.
constexpr auto kPrometheusDeadline = std::chrono::seconds(30);

// The selector of the exporter's series of `version`.
std::string Series(const std::string& version) {
  return fmt::format(R"(http_error_rate{{service="{}",version="{}"}})", kService, version);
}

// A loopback port that was free a moment ago.
uint16_t FreePort() {
  testing::SilentListener listener;
  listener.Close();
  return listener.port();
}

// The last `n` bytes of the file at `path`, for failure messages.
std::string Tail(const std::string& path, size_t n = 2000) {
  std::string text;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buffer[4096];
    size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, got);
    std::fclose(f);
  }
  return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

// "exited with status N" or "was killed by signal N".
std::string Described(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    return fmt::format("was killed by signal {}", WTERMSIG(wait_status));
  }
  return fmt::format("exited with status {}", WEXITSTATUS(wait_status));
}

// Prometheus in a child process, listening on 127.0.0.1:port().
class PrometheusProcess {
 public:
  // Starts `binary` with the configuration file `config`, its storage and
  // log in `dir`, on a free loopback port, and waits until /-/ready answers
  // 200. A port taken between choosing it and Prometheus binding it is
  // retried with another. Null with `*error` saying why on failure.
  static std::unique_ptr<PrometheusProcess> Start(const std::string& binary,
                                                  const std::string& config, const std::string& dir,
                                                  std::string* error) {
    auto client = net::NewCurlHttpClient();
    for (int attempt = 1; attempt <= 3; ++attempt) {
      uint16_t port = FreePort();
      std::string log = fmt::format("{}/prometheus-{}.log", dir, attempt);
      std::vector<std::string> args = {
          binary,
          "--config.file=" + config,
          fmt::format("--storage.tsdb.path={}/tsdb-{}", dir, attempt),
          fmt::format("--web.listen-address=127.0.0.1:{}", port),
          "--query.lookback-delta=5m",
          "--log.level=warn",
      };
      pid_t pid = Spawn(args, log, error);
      if (pid < 0) return nullptr;
      auto process = std::unique_ptr<PrometheusProcess>(new PrometheusProcess(pid, port));
      auto deadline = SteadyClock::now() + kPrometheusDeadline;
      bool exited = false;
      while (SteadyClock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          process->pid_ = -1;
          exited = true;
          *error = fmt::format("{} {} before it was ready; its log:\n{}", binary, Described(status),
                               Tail(log));
          break;
        }
        auto ready = client->Send({.url = fmt::format("http://127.0.0.1:{}/-/ready", port),
                                   .connect_timeout = milliseconds(1000),
                                   .timeout = milliseconds(1000)});
        if (ready && ready->status == 200) return process;
        std::this_thread::sleep_for(milliseconds(50));
      }
      if (!exited) {
        *error = fmt::format("{} was not ready within {} s; its log:\n{}", binary,
                             kPrometheusDeadline.count(), Tail(log));
        return nullptr;
      }
      // It exited: most likely the port was taken meanwhile; try another.
    }
    return nullptr;
  }

  ~PrometheusProcess() { Stop(); }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // SIGTERM, then SIGKILL if it has not exited within 5 s; reaps it.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = SteadyClock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (SteadyClock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    pid_ = -1;
  }

  uint16_t port() const { return port_; }

 private:
  PrometheusProcess(pid_t pid, uint16_t port) : pid_(pid), port_(port) {}

  // Starts args[0] with `args`, its output to the file `log`; the pid, or
  // -1 with `*error`.
  static pid_t Spawn(const std::vector<std::string>& args, const std::string& log,
                     std::string* error) {
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
      *error = fmt::format("{}: {}", log, std::strerror(errno));
      return -1;
    }
    // Everything the child needs is built before fork(): between fork and
    // exec it makes only async-signal-safe calls.
    std::vector<std::string> strings = args;
    std::vector<char*> argv;
    for (std::string& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      // Dies with the test program, even one that crashed.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
      ::close_range(3, ~0U, 0);  // none of the test's sockets
      ::execve(argv[0], argv.data(), environ);
      ::_exit(127);
    }
    ::close(out);
    if (pid < 0) *error = fmt::format("fork: {}", std::strerror(errno));
    return pid;
  }

  pid_t pid_;
  uint16_t port_;
};

// The exporter and the Prometheus that scrapes it every second.
class Rig {
 public:
  // Starts both; error() says why when Prometheus did not start.
  Rig() {
    const char* named = std::getenv("INTERLOCK_PROMETHEUS");
    std::string binary = named != nullptr && *named != '\0' ? named : "/usr/bin/prometheus";
    if (::access(binary.c_str(), X_OK) != 0) {
      error_ = fmt::format(
          "no Prometheus at {} ({}); run scripts/install-deps.sh, which installs Debian's "
          "prometheus, or set INTERLOCK_PROMETHEUS to its path",
          binary, std::strerror(errno));
      return;
    }
    // The exporter's address without "http://" and the path.
    std::string target = exporter_.Url("");
    target = target.substr(std::string("http://").size());
    dir_.Write("prometheus.yml",
               "global:\n"
               "  scrape_interval: 1s\n"
               "  scrape_timeout: 1s\n"
               "  evaluation_interval: 1s\n"
               "scrape_configs:\n"
               "  - job_name: exporter\n"
               "    metrics_path: /metrics\n"
               "    static_configs:\n"
               "      - targets: ['" +
                   target + "']\n");
    prometheus_ =
        PrometheusProcess::Start(binary, dir_.path() + "/prometheus.yml", dir_.path(), &error_);
  }

  // Empty when Prometheus is running.
  const std::string& error() const { return error_; }
  // "http://127.0.0.1:PORT"
  std::string Url() const {
    return fmt::format("http://127.0.0.1:{}", prometheus_ ? prometheus_->port() : 0);
  }
  // The time of the samples Serve served last.
  UnixMillis served_at() const { return served_at_; }

  // Serves `canary` and `baseline` as the error rates of the canary and
  // baseline versions, stamped with the time now, and waits until
  // Prometheus answers both (see "Determinism" at the top). The values
  // served last are kept as they are for a minute, well inside the
  // lookback, so that the tests that read the same values wait for no
  // scrape.
  ::testing::AssertionResult Serve(double canary, double baseline) {
    UnixMillis now = SystemClock().Now();
    if (canary == served_[0] && baseline == served_[1] && now - served_at_ < 60'000) {
      return ::testing::AssertionSuccess();
    }
    served_at_ = now;
    served_ = {canary, baseline};
    server::HttpResponse answer;
    answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
    answer.body =
        fmt::format("# TYPE http_error_rate gauge\n{} {} {}\n{} {} {}\n", Series(kCanaryVersion),
                    canary, served_at_, Series(kBaselineVersion), baseline, served_at_);
    exporter_.AnswerWith(std::move(answer));
    auto deadline = SteadyClock::now() + kPrometheusDeadline;
    for (const auto& [version, value] :
         {std::pair{kCanaryVersion, canary}, std::pair{kBaselineVersion, baseline}}) {
      std::string last;
      while (!Shows(Series(version), value, &last)) {
        if (SteadyClock::now() >= deadline) {
          return ::testing::AssertionFailure()
                 << "Prometheus did not show " << Series(version) << " = " << value << " within "
                 << kPrometheusDeadline.count() << " s; its last answer: " << last;
        }
        std::this_thread::sleep_for(milliseconds(50));
      }
    }
    return ::testing::AssertionSuccess();
  }

 private:
  // Whether instant queries now answer one series for `selector`, of value
  // `value` at the time of the last Serve; `*last` is the last answer.
  bool Shows(const std::string& selector, double value, std::string* last) {
    auto at = Sample(fmt::format("timestamp({})", selector), last);
    if (!at || std::llround(*at * 1000) != served_at_) return false;
    auto got = Sample(selector, last);
    return got && *got == value;
  }

  // The number of the one sample an instant query of `promql` now answers;
  // nullopt for any other answer. `*last` is the answer.
  std::optional<double> Sample(const std::string& promql, std::string* last) {
    auto reply =
        client_->Send({.url = fmt::format("{}/api/v1/query?query={}", Url(), PercentEncode(promql)),
                       .connect_timeout = milliseconds(1000),
                       .timeout = milliseconds(2000)});
    if (!reply) {
      *last = reply.error().message();
      return std::nullopt;
    }
    *last = reply->body;
    json answer = json::parse(reply->body, nullptr, false);
    if (!answer.is_object() || !answer["data"].is_object()) return std::nullopt;
    const json result = answer["data"].value("result", json::array());
    if (!result.is_array() || result.size() != 1 || !result[0].is_object()) return std::nullopt;
    const json sample = result[0].value("value", json::array());
    if (!sample.is_array() || sample.size() != 2 || !sample[1].is_string()) return std::nullopt;
    return std::strtod(sample[1].get<std::string>().c_str(), nullptr);
  }

  // Destroyed in reverse: Prometheus stops before the exporter and its
  // storage go.
  testing::TempDir dir_;
  testing::HttpReceiver exporter_;
  std::unique_ptr<net::HttpClient> client_ = net::NewCurlHttpClient();
  std::unique_ptr<PrometheusProcess> prometheus_;
  std::string error_;
  UnixMillis served_at_ = 0;
  std::array<double, 2> served_ = {-1, -1};  // canary, baseline
};

std::unique_ptr<Rig>& RigSlot() {
  static std::unique_ptr<Rig> rig;
  return rig;
}

// The program's one Rig, started on first use.
Rig& SharedRig() {
  std::unique_ptr<Rig>& rig = RigSlot();
  if (!rig) rig = std::make_unique<Rig>();
  return *rig;
}

// Stops the Rig, if one started, when the program's tests end.
class RigStopper : public ::testing::Environment {
 public:
  void TearDown() override { RigSlot().reset(); }
};

[[maybe_unused]] ::testing::Environment* const kRigStopper =
    ::testing::AddGlobalTestEnvironment(new RigStopper);  // gtest owns it

// "value V", "no_data: WHY" or "error: WHY".
std::string Shown(const Reading& r) {
  if (r.status == ReadingStatus::kValue) return fmt::format("value {}", r.value);
  return fmt::format("{}: {}", rollout::ReadingStatusName(r.status), r.detail);
}

// ---------------------------------------------------------------------------
// PrometheusSource against the real Prometheus

class PrometheusQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rig_ = &SharedRig();
    ASSERT_TRUE(rig_->error().empty()) << rig_->error();
    ASSERT_TRUE(rig_->Serve(0.002, 0.001));
    source_ = std::make_unique<rollout::PrometheusSource>(
        *client_, rollout::PrometheusConfig{.url = rig_->Url()});
  }

  // The reading of `promql` now.
  std::string Query(const std::string& promql) {
    return Shown(source_->Query(promql, SystemClock().Now()));
  }

  Rig* rig_ = nullptr;
  std::unique_ptr<net::HttpClient> client_ = net::NewCurlHttpClient();
  std::unique_ptr<rollout::PrometheusSource> source_;
};

TEST_F(PrometheusQueryTest, AnInstantVectorOfOneSeriesGivesItsValue) {
  EXPECT_EQ(Query(Series(kCanaryVersion)), "value 0.002");
  EXPECT_EQ(Query(Series(kBaselineVersion)), "value 0.001");
  EXPECT_EQ(Query(R"(max(http_error_rate{service="api"}))"), "value 0.002");
}

TEST_F(PrometheusQueryTest, AScalarGivesItsValue) {
  EXPECT_EQ(Query(fmt::format("scalar({})", Series(kCanaryVersion))), "value 0.002");
}

TEST_F(PrometheusQueryTest, AnEmptyVectorIsNoData) {
  EXPECT_EQ(Query(Series("9.9.9")), "no_data: the query returned no series");
}

TEST_F(PrometheusQueryTest, NaNAndInfinityAreNoData) {
  EXPECT_EQ(Query("0/0"), "no_data: the query returned NaN");
  EXPECT_EQ(Query("1/0"), "no_data: the query returned +Inf");
  EXPECT_EQ(Query("-1/0"), "no_data: the query returned -Inf");
  EXPECT_EQ(Query(fmt::format("{} / 0", Series(kCanaryVersion))),
            "no_data: the query returned +Inf");
}

TEST_F(PrometheusQueryTest, ARangeVectorIsAnError) {
  EXPECT_EQ(Query(Series(kCanaryVersion) + "[1m]"),
            "error: the query returned a range vector; it must return an instant vector or a "
            "scalar");
}

TEST_F(PrometheusQueryTest, AStringIsAnError) {
  EXPECT_EQ(Query(R"("abc")"),
            "error: the query returned a string; it must return an instant vector or a scalar");
}

TEST_F(PrometheusQueryTest, TwoSeriesAreAnError) {
  EXPECT_EQ(Query(R"(http_error_rate{service="api"})"),
            "error: the query must aggregate to one series but returned 2");
}

// Prometheus answers HTTP 400 with errorType bad_data; its own text
// follows, which depends on its version.
TEST_F(PrometheusQueryTest, AQueryPrometheusRefusesIsAnErrorWithItsAnswer) {
  std::string shown = Query("sum(http_error_rate");
  EXPECT_TRUE(shown.starts_with("error: Prometheus answered HTTP 400 (bad_data): ")) << shown;
  EXPECT_NE(shown.find("parse error"), std::string::npos) << shown;
}

// ---------------------------------------------------------------------------
// A Prometheus that cannot be reached or does not answer

TEST(PrometheusUnavailableTest, AnUnreachableServerIsAnError) {
  auto client = net::NewCurlHttpClient();
  std::string origin = fmt::format("http://127.0.0.1:{}", testing::ClosedPort());
  rollout::PrometheusSource source(*client, {.url = origin});
  EXPECT_EQ(Shown(source.Query("up", SystemClock().Now())),
            fmt::format("error: cannot reach {}: Connection refused", origin));
}

TEST(PrometheusUnavailableTest, AServerThatHangsTimesOut) {
  testing::SilentListener silent;
  auto client = net::NewCurlHttpClient();
  std::string origin = fmt::format("http://127.0.0.1:{}", silent.port());
  rollout::PrometheusSource source(*client, {.url = origin, .timeout = milliseconds(300)});
  auto start = SteadyClock::now();
  Reading r = source.Query("up", SystemClock().Now());
  auto took = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
  EXPECT_EQ(Shown(r), fmt::format("error: no answer from {}: nothing within 300ms", origin));
  // It waited for the timeout, give or take curl's timer, which may fire a
  // little early, and not much longer.
  EXPECT_GE(took.count(), 200);
  EXPECT_LT(took.count(), 5000);
}

// ---------------------------------------------------------------------------
// Rollouts through the real server, reading the real Prometheus

class PrometheusRolloutTest : public server::ServerTest {
 protected:
  // The fixture's set-up, with the clock at the real time, canary.yml's
  // metrics reading the exporter's series, and the settings naming the
  // Prometheus, before the service starts.
  void SetUp() override {
    rig_ = &SharedRig();
    ASSERT_TRUE(rig_->error().empty()) << rig_->error();
    clock_.Set(SystemClock().Now());
    ASSERT_TRUE(governance::Scaffold(fs_, governance_, false).has_value());
    std::string canary = dir_.Read("governance/safety/canary.yml");
    size_t begin = canary.find("\nmetrics:\n");
    size_t end = canary.find("\n# Who may steer");
    ASSERT_NE(begin, std::string::npos) << canary;
    ASSERT_NE(end, std::string::npos) << canary;
    canary.replace(begin + 1, end - begin - 1, R"(metrics:
  error_rate:
    query: 'http_error_rate{service="{{service}}",version="{{version}}"}'
    baseline_query: 'http_error_rate{service="{{service}}",version="{{baseline_version}}"}'
)");
    dir_.Write("governance/safety/canary.yml", canary);
    dir_.Write("data/delivery.yaml",
               fmt::format("version: 1\nprometheus:\n  url: {}\n  timeout: 5s\n", rig_->Url()));
    Start();
  }

  // An allowed decision for service api in staging, from 1.0.0; its audit
  // index.
  uint64_t Allowed() {
    server::HttpAnswer a = Decide(
        "alice", server::Request("alice", "human", "staging", kBaselineVersion, kCanaryVersion));
    EXPECT_EQ(a.status, 200) << a.body;
    json d = Body(a);
    EXPECT_EQ(d["decision"], "allow") << a.body;
    return d.value("audit_index", uint64_t{0});
  }
  // Opens a rollout on an allowed decision, from kBaselineVersion; its id,
  // or "" (with the failure reported) when it could not be opened.
  std::string Open() {
    server::HttpAnswer opened =
        Call("POST", "/v1/rollouts", "alice",
             json{{"audit_index", Allowed()}, {"baseline_version", kBaselineVersion}}.dump());
    EXPECT_EQ(opened.status, 201) << opened.body;
    return opened.status == 201 ? Body(opened)["id"].get<std::string>() : std::string();
  }
  json Get(const std::string& id) { return Body(Call("GET", "/v1/rollouts/" + id, "alice")); }
  // Moves the clock on by `ms`, and to at least the real time, and lets
  // the tick's evaluation finish (see "Determinism" at the top).
  void Advance(int64_t ms) {
    clock_.Set(std::max(clock_.Now() + ms, SystemClock().Now()));
    ASSERT_LT(clock_.Now() - rig_->served_at(), 4 * 60'000)
        << "the clock is too far after the samples for Prometheus's 5-minute lookback";
    service_->Tick();
    service_->Drain();
  }
  // The check `name` of rollout `r`.
  static json CheckOf(const json& r, const std::string& name) {
    for (const json& c : r["checks"]) {
      if (c["name"] == name) return c;
    }
    ADD_FAILURE() << "no check " << name << " in " << r.dump();
    return json::object();
  }

  Rig* rig_ = nullptr;
};

// Powers of two, so that the increase is exact: (0.25 - 0.03125) / 0.03125
// is 7.
constexpr double kBaselineRate = 0.03125;
constexpr double kSpikeRate = 0.25;

TEST_F(PrometheusRolloutTest, HealthyValuesKeepTheRolloutAndASpikeRollsItBack) {
  ASSERT_TRUE(rig_->Serve(kBaselineRate, kBaselineRate));
  std::string id = Open();
  ASSERT_FALSE(id.empty());

  // A healthy canary: the trigger passes on the values Prometheus gave.
  Advance(30'000);
  json healthy = Get(id);
  EXPECT_EQ(healthy["state"], "progressing") << healthy.dump();
  EXPECT_EQ(healthy["evaluations"], 1);
  json check = CheckOf(healthy, "error_rate_spike");
  EXPECT_EQ(check["result"], "pass") << check.dump();
  ASSERT_EQ(check["values"].size(), 1u) << check.dump();
  EXPECT_EQ(check["values"][0]["name"], "error_rate_increase");
  EXPECT_EQ(check["values"][0]["value"], 0.0);
  EXPECT_EQ(check["values"][0]["status"], "value");
  json metrics = healthy["metrics"]["error_rate"];
  UnixMillis first = clock_.Now();
  EXPECT_EQ(metrics["canary"], json::array({json::array({first, kBaselineRate})}))
      << metrics.dump();
  EXPECT_EQ(metrics["baseline"], json::array({json::array({first, kBaselineRate})}))
      << metrics.dump();

  // The canary's error rate jumps to eight times the baseline's: the
  // trigger fails, and fires at its second failure in a row.
  ASSERT_TRUE(rig_->Serve(kSpikeRate, kBaselineRate));
  Advance(30'000);
  json failing = Get(id);
  EXPECT_EQ(failing["state"], "progressing") << failing.dump();
  check = CheckOf(failing, "error_rate_spike");
  EXPECT_EQ(check["result"], "fail") << check.dump();
  EXPECT_EQ(check["values"][0]["value"], 7.0) << check.dump();
  EXPECT_EQ(check["firing"], false);
  UnixMillis second = clock_.Now();

  Advance(30'000);
  UnixMillis third = clock_.Now();
  json rolled_back = Get(id);
  EXPECT_EQ(rolled_back["state"], "rolled_back") << rolled_back.dump();
  EXPECT_EQ(rolled_back["evaluations"], 3);
  EXPECT_EQ(rolled_back["history"].back()["by"], "trigger:error_rate_spike");
  EXPECT_EQ(rolled_back["history"].back()["why"],
            "error_rate_spike (error_rate_increase >= 10%): error_rate_increase = 7");
  check = CheckOf(rolled_back, "error_rate_spike");
  EXPECT_EQ(check["firing"], true) << check.dump();
  metrics = rolled_back["metrics"]["error_rate"];
  EXPECT_EQ(metrics["canary"],
            json::array({json::array({first, kBaselineRate}), json::array({second, kSpikeRate}),
                         json::array({third, kSpikeRate})}))
      << metrics.dump();
  EXPECT_EQ(metrics["baseline"],
            json::array({json::array({first, kBaselineRate}), json::array({second, kBaselineRate}),
                         json::array({third, kBaselineRate})}))
      << metrics.dump();

  json incidents = Body(Call("GET", "/v1/incidents", "alice"));
  ASSERT_EQ(incidents["incidents"].size(), 1u) << incidents.dump();
  EXPECT_EQ(incidents["incidents"][0]["rollout"], id);
  EXPECT_EQ(incidents["incidents"][0]["trigger"], "error_rate_spike");
}

TEST_F(PrometheusRolloutTest, AReloadTakesTheSettingsNewMetricSource) {
  ASSERT_TRUE(rig_->Serve(kBaselineRate, kBaselineRate));
  std::string id = Open();
  ASSERT_FALSE(id.empty());
  auto reload = [&](const std::string& url) {
    dir_.Write("data/delivery.yaml",
               fmt::format("version: 1\nprometheus:\n  url: {}\n  timeout: 5s\n", url));
    server::HttpAnswer a = Call("POST", "/v1/governance/reload", "dave");
    ASSERT_EQ(a.status, 200) << a.body;
  };
  // A port nothing listens on: the next evaluation reads from it, and errs.
  std::string nowhere = fmt::format("http://127.0.0.1:{}", testing::ClosedPort());
  reload(nowhere);
  Advance(30'000);
  json check = CheckOf(Get(id), "error_rate_spike");
  EXPECT_EQ(check["result"], "error") << check.dump();
  EXPECT_NE(check["detail"].get<std::string>().find("cannot reach " + nowhere), std::string::npos)
      << check.dump();
  // Back to the real one.
  reload(rig_->Url());
  Advance(30'000);
  EXPECT_EQ(CheckOf(Get(id), "error_rate_spike")["result"], "pass");
}

TEST_F(PrometheusRolloutTest, ASourceThatHangsIsAskedOnceARound) {
  ASSERT_TRUE(rig_->Serve(kBaselineRate, kBaselineRate));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Open());
    ASSERT_FALSE(ids.back().empty());
  }
  testing::SilentListener silent;
  std::string hanging = fmt::format("http://127.0.0.1:{}", silent.port());
  dir_.Write("data/delivery.yaml",
             fmt::format("version: 1\nprometheus:\n  url: {}\n  timeout: 300ms\n", hanging));
  ASSERT_EQ(Call("POST", "/v1/governance/reload", "dave").status, 200);
  Advance(30'000);
  // Each rollout's check errs, for the source that did not answer (the
  // round asked it once: app::AskedUntilUnreachable).
  for (const std::string& id : ids) {
    json check = CheckOf(Get(id), "error_rate_spike");
    EXPECT_EQ(check["result"], "error") << check.dump();
    EXPECT_NE(check["detail"].get<std::string>().find("no answer from " + hanging),
              std::string::npos)
        << check.dump();
  }
}

}  // namespace
}  // namespace interlock
