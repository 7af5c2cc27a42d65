// `interlock compliance check`'s cost on a large audit log, printed as
// figures: the facts gathered (the whole log verified, the state rows read,
// the policies read) and the default catalogue evaluated, over a log of
// 1,000,000 events (10,000 in the smoke run), with the part each step takes.
//
//   compliance_bench                  1,000,000 events
//   compliance_bench --events=N       N events
//   compliance_bench --dir=PATH       build the log under PATH and keep it; a later run
//                                     with the same PATH measures the log already there
//   compliance_bench --benchmark_min_time=...   a quick smoke run (the test command uses it)
//
// Goal: the whole check under 2 s at 1,000,000 events. Every check but
// audit_verifies reads a handful of state rows whatever the log's size; the
// bench says how much of the time verification takes.
#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "app/compliance_facts.h"
#include "audit/log.h"
#include "compliance/evaluate.h"
#include "governance/defaults.h"
#include "governance/loader.h"
#include "store/sqlite_audit_store.h"

using namespace interlock;
using Stopwatch = std::chrono::steady_clock;

namespace {

constexpr std::string_view kMasterKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// A decision-sized event, about 450 bytes in canonical form.
constexpr std::string_view kEvent = R"({
  "event_type": "decision",
  "actor": {"type": "ai_agent", "id": "deployment-agent-01"},
  "action": {"type": "deploy", "target": "production", "version": "v2.5.4", "service": "api-gateway"},
  "decision": {"risk_level": "medium", "rationale": "tests and canary are green", "confidence_score": 0.9},
  "environment": "production",
  "reason": "matrix row code-production-patch: 2 approvers"
})";

double Seconds(Stopwatch::time_point start) {
  return std::chrono::duration<double>(Stopwatch::now() - start).count();
}

template <class T>
T Must(Result<T> r, std::string_view what) {
  if (!r) {
    fmt::print(stderr, "{}: {}\n", what, r.error().message());
    std::exit(1);
  }
  return std::move(*r);
}

std::unique_ptr<audit::AuditLog> OpenLog(FileSystem& fs, const Clock& clock, Random& random,
                                         const std::string& dir) {
  audit::LogOptions o;
  o.data_dir = dir;
  o.fs = &fs;
  o.clock = &clock;
  o.random = &random;
  o.master_key_env = std::string(kMasterKey);
  auto store = Must(store::SqliteAuditStore::OpenInDirectory(fs, dir), "open store");
  return Must(audit::AuditLog::Open(o, std::move(store)), "open log");
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 1'000'000;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--benchmark_min_time", 0) == 0) events = 10'000;
    if (a.rfind("--events=", 0) == 0) events = std::strtoull(a.c_str() + 9, nullptr, 10);
    if (a.rfind("--dir=", 0) == 0) dir = a.substr(6);
  }
  char pattern[] = "/tmp/interlock-compliance-bench-XXXXXX";
  if (dir.empty() && !mkdtemp(pattern)) return 1;
  const bool keep = !dir.empty();
  const std::string root = keep ? dir : std::string(pattern);
  std::filesystem::create_directories(root);
  RealFileSystem fs;
  SystemClock clock;
  SystemRandom random;

  const std::string governance_dir = root + "/governance";
  if (!fs.Exists(governance_dir + "/interlock.yaml")) {
    Must(governance::Scaffold(fs, governance_dir, false), "scaffold");
  }
  auto g = governance::Load(fs, governance_dir);
  if (!g) {
    fmt::print(stderr, "governance: {}\n", g.error().front().ToString());
    return 1;
  }

  const std::string data = root + "/data";
  std::filesystem::create_directories(data);
  auto log = OpenLog(fs, clock, random, data);
  if (log->size() < events) {
    auto event = Must(audit::ParseEvent(kEvent, clock.Now()), "event");
    const std::vector<audit::Event> batch(10'000, event);
    auto start = Stopwatch::now();
    for (uint64_t n = log->size(); n < events; n += batch.size()) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(batch.size(), events - n));
      Must(log->AppendEvents({batch.begin(), batch.begin() + static_cast<ptrdiff_t>(take)}),
           "append");
    }
    fmt::print("wrote {} events in {:.1f} s\n", log->size(), Seconds(start));
    log.reset();
    log = OpenLog(fs, clock, random, data);  // measured as a fresh process opens it
  }

  auto start = Stopwatch::now();
  auto facts = Must(app::GatherComplianceFacts(*log, fs, governance_dir, clock.Now()), "facts");
  const double gather = Seconds(start);
  auto evaluated = Stopwatch::now();
  compliance::Report report = compliance::Evaluate(*g, facts, "");
  const double evaluate = Seconds(evaluated);
  const double total = Seconds(start);
  if (!facts.audit || !facts.audit->verified) {
    fmt::print(stderr, "the log did not verify: {}\n", facts.audit ? facts.audit->problem : "");
    return 1;
  }
  // The same facts without verification: what the other checks cost.
  auto rows = Stopwatch::now();
  for (auto kind : {"incident", "scan", "evidence"}) Must(log->LoadState(kind), "state");
  const double state = Seconds(rows);
  fmt::print(
      "compliance check over {} events: {:.3f} s (goal < 2 s): facts {:.3f} s, of which the "
      "whole log verified {:.0f} %, state rows read in {:.4f} s; {} controls evaluated in "
      "{:.4f} s ({} pass, {} fail, {} error)\n",
      facts.audit->size, total, gather, 100.0 * (gather - state) / total, state,
      report.results.size(), evaluate, report.counts.Of(compliance::Outcome::kPass),
      report.counts.Of(compliance::Outcome::kFail), report.counts.Of(compliance::Outcome::kError));
  log.reset();
  if (!keep) std::filesystem::remove_all(root);
  return 0;
}
