// Rollout evaluation at scale, printed as figures: 1,000 rollouts in
// progress, each evaluated every 10 s against a local metric source (a
// function that answers each query from memory, so the figures are
// Interlock's own cost), ticked once a second as `interlock serve` does.
// While they run, the error rate of some rollouts crosses the rollback
// threshold at random moments; each one's time from that moment until its
// rollback is durable in the audit log and its notification is queued is
// measured.
//
//   rollout_bench                           the full run (about a minute)
//   rollout_bench --benchmark_min_time=...  a smoke run (the test command uses it)
//
// Figures: the server's CPU per evaluation (the process's user + system
// time over the evaluations, the audit writer's included), evaluations per
// second in one round where all 1,000 are due at once, and breach-to-
// rollback latency p50, p99 and maximum.
#include <fmt/format.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "app/rollouts.h"
#include "audit/log.h"
#include "core/fs.h"
#include "governance/defaults.h"
#include "governance/loader.h"
#include "notify/notifier.h"
#include "store/sqlite_audit_store.h"

using namespace interlock;
using Stopwatch = std::chrono::steady_clock;

namespace {

constexpr std::string_view kMasterKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

[[noreturn]] void Fail(const std::string& what, const Error& e) {
  fmt::print(stderr, "rollout_bench: {}: {}\n", what, e.message());
  std::exit(1);
}

// The system clock shifted by an offset, so that rollouts opened together
// fall due at different moments of the interval.
class ShiftedClock final : public Clock {
 public:
  UnixMillis Now() const override { return base_.Now() + offset_.load(); }
  void Shift(int64_t ms) { offset_.store(ms); }

 private:
  SystemClock base_;
  std::atomic<int64_t> offset_{0};
};

class NoSender final : public notify::Sender {
 public:
  Result<void> Send(const notify::Message&, const notify::ChannelDelivery&, UnixMillis) override {
    return Ok();
  }
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).starts_with("--benchmark_min_time")) smoke = true;
  }
  const int rollouts = smoke ? 50 : 1000;
  const int interval_s = smoke ? 1 : 10;
  const int run_s = smoke ? 4 : 50;
  const int breaches = smoke ? 5 : 200;

  char pattern[] = "/tmp/interlock-rollout-bench-XXXXXX";
  if (!mkdtemp(pattern)) return 1;
  const std::string root = pattern;
  RealFileSystem fs;
  if (auto ok = governance::Scaffold(fs, root + "/governance", false); !ok) {
    Fail("scaffold", ok.error());
  }
  // One strategy: two steps, an hour at each, rolled back above 5 % errors.
  std::string canary = fmt::format(R"(version: 1
canary_strategies:
  high_risk:
    traffic_steps: [5%, 100%]
    monitoring_duration: 1h
    interval: {}s
    analysis:
      window: 1m
    rollback_when: error_rate > 5%
    promote_when: error_rate < 1%
  critical:
    traffic_steps: [1%, 100%]
    monitoring_duration: 24h
    rollback_when: error_rate > 1%
    promote_when: error_rate < 0.5%
metrics:
  error_rate:
    query: bench_error_rate{{service="{{{{service}}}}"}}
rollout_overrides:
  review: [engineering-lead]
)",
                                   interval_s);
  if (auto ok = fs.WriteFile(root + "/governance/safety/canary.yml", canary); !ok) {
    Fail("canary.yml", ok.error());
  }
  auto loaded = governance::Load(fs, root + "/governance");
  if (!loaded) {
    fmt::print(stderr, "rollout_bench: governance: {}\n", loaded.error().front().message);
    return 1;
  }
  const governance::Governance& g = *loaded;

  ShiftedClock clock;
  SystemRandom random;
  audit::LogOptions lo;
  lo.data_dir = root + "/data";
  lo.fs = &fs;
  lo.clock = &clock;
  lo.random = &random;
  lo.master_key_env = std::string(kMasterKey);
  auto store = store::SqliteAuditStore::OpenInDirectory(fs, lo.data_dir);
  if (!store) Fail("store", store.error());
  auto log = audit::AuditLog::Open(lo, std::move(*store));
  if (!log) Fail("audit log", log.error());

  // Notifications are queued on the Slack channel (and not sent: the
  // notifier is not started).
  notify::DeliveryConfig delivery;
  delivery.channels["slack"] = {"slack", "slack", "http://127.0.0.1:9/", "", "", {}, ""};
  NoSender sender;
  notify::Notifier notifier(**log, clock, random, sender, delivery);

  // Every decision is an allowed high-risk change of its own service.
  app::Rollouts::ChangeLookup lookup;
  lookup.decision = [](uint64_t index) -> Result<std::string> {
    return fmt::format(
        R"({{"action":{{"service":"svc-{}","type":"code","version":"2.0.0"}},"actor":{{"id":"alice","type":"human"}},"decision":{{"outcome":"allow","risk_level":"high"}},"environment":"production","event_type":"decision"}})",
        index);
  };
  lookup.approval = [](const std::string& id) -> Result<rollout::RolloutSpec> {
    return std::unexpected(Error::NotFound("no approval " + id));
  };
  app::Rollouts owner(**log, clock, random, notifier, lookup);

  // The local metric source: each service's error rate, read per query.
  std::mutex values_mu;
  std::map<std::string, double> error_rates;
  app::MetricSource source = [&](const std::string& query, UnixMillis) {
    size_t at = query.find("service=\"");
    size_t end = at == std::string::npos ? at : query.find('"', at + 9);
    if (end == std::string::npos) return rollout::Reading::Error("no service in the query");
    std::string service = query.substr(at + 9, end - at - 9);
    std::lock_guard lock(values_mu);
    auto it = error_rates.find(service);
    return it == error_rates.end() ? rollout::Reading::NoData("no series")
                                   : rollout::Reading::Value(it->second);
  };

  const governance::Principal& alice = *g.FindPrincipal("alice");
  std::vector<std::string> ids;
  for (int i = 0; i < rollouts; ++i) {
    {
      std::lock_guard lock(values_mu);
      error_rates[fmt::format("svc-{}", i)] = 0.002;
    }
    // Spread over the interval: rollout i falls due at its own moment.
    clock.Shift(-static_cast<int64_t>(i % (interval_s * 10)) * 100);
    auto opened = owner.Open(g, alice, {.audit_index = static_cast<uint64_t>(i)});
    if (!opened) Fail("open", opened.error());
    ids.push_back(opened->id);
  }
  clock.Shift(0);

  fmt::print("rollouts: {} in progress, evaluated every {} s\n", rollouts, interval_s);
  // The steady run: a tick a second, breaches at random moments.
  std::mt19937 rng(42);
  std::vector<std::pair<double, int>> plan;  // (seconds after start, rollout)
  std::vector<int> order(rollouts);
  for (int i = 0; i < rollouts; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::uniform_real_distribution<double> when(1.0, run_s - interval_s - 2.0);
  for (int k = 0; k < breaches; ++k) plan.emplace_back(when(rng), order[k]);
  std::sort(plan.begin(), plan.end());

  std::map<int, Stopwatch::time_point> breached;  // rollout -> when its metric crossed
  std::vector<double> latencies;
  size_t evaluated = 0;
  double cpu = 0;
  auto start = Stopwatch::now();
  size_t next_breach = 0;
  auto next_tick = start;
  while (Stopwatch::now() - start < std::chrono::seconds(run_s)) {
    // Breaches fall between ticks, at their own moments.
    while (next_breach < plan.size() &&
           Stopwatch::now() >= start + std::chrono::duration<double>(plan[next_breach].first)) {
      int r = plan[next_breach++].second;
      std::lock_guard lock(values_mu);
      error_rates[fmt::format("svc-{}", r)] = 0.2;
      breached[r] = Stopwatch::now();
    }
    if (Stopwatch::now() < next_tick) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    next_tick += std::chrono::seconds(1);
    double before = CpuSeconds();
    evaluated += owner.EvaluateDue(g, source, nullptr);
    cpu += CpuSeconds() - before;
    auto done = Stopwatch::now();
    for (auto it = breached.begin(); it != breached.end();) {
      auto found = owner.Find(ids[static_cast<size_t>(it->first)]);
      if (found && *found && (*found)->state == rollout::RolloutState::kRolledBack) {
        latencies.push_back(std::chrono::duration<double>(done - it->second).count());
        it = breached.erase(it);
      } else {
        ++it;
      }
    }
  }
  fmt::print("rollouts: steady run of {} s: {} evaluations, {:.0f} µs CPU per evaluation\n", run_s,
             evaluated, cpu * 1e6 / static_cast<double>(std::max<size_t>(evaluated, 1)));
  fmt::print(
      "rollouts: breach to durable rollback with its notification queued: {} of {} rolled back, "
      "p50 {:.2f} s, p99 {:.2f} s, max {:.2f} s (goal: p99 <= interval + 1 s = {} s)\n",
      latencies.size(), next_breach, Percentile(latencies, 50), Percentile(latencies, 99),
      latencies.empty() ? 0.0 : *std::max_element(latencies.begin(), latencies.end()),
      interval_s + 1);
  // Then a round with every rollout still in progress due at once: the
  // capacity.
  clock.Shift(interval_s * 1000);
  double cpu0 = CpuSeconds();
  auto t0 = Stopwatch::now();
  size_t burst = owner.EvaluateDue(g, source, nullptr);
  double burst_s = std::chrono::duration<double>(Stopwatch::now() - t0).count();
  double burst_cpu = CpuSeconds() - cpu0;
  clock.Shift(0);
  fmt::print(
      "rollouts: one round of {} evaluations at once: {:.0f} ms, {:.0f} evaluations/s, "
      "{:.0f} µs CPU per evaluation\n",
      burst, burst_s * 1e3, static_cast<double>(burst) / burst_s,
      burst_cpu * 1e6 / static_cast<double>(std::max<size_t>(burst, 1)));

  std::filesystem::remove_all(root);
  return 0;
}
