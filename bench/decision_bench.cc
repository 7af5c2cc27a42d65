// Decision evaluation on the default governance. Goals: under 1 us per
// decision and zero heap allocations per decision after warm-up.
// Every case reports allocs_per_decision, counted by replacing the global
// operator new for this program.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "app/compliance_gate.h"
#include "app/decision_event.h"
#include "core/memory_fs.h"
#include "decision/engine.h"
#include "decision/render.h"
#include "decision/request.h"
#include "governance/defaults.h"
#include "governance/loader.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// The replacements below pair malloc with free on purpose; g++ cannot see
// that every operator new in this program is the one defined here.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace {

using namespace interlock;

const governance::Governance& Defaults() {
  static const governance::Governance* g = [] {
    MemoryFileSystem fs;
    if (!governance::Scaffold(fs, "g", false)) std::abort();
    auto loaded = governance::Load(fs, "g");
    if (!loaded) std::abort();
    return new governance::Governance(std::move(*loaded));
  }();
  return *g;
}

constexpr const char* kAllowDevPatch = R"({
  "actor": {"type": "ai_agent", "id": "deployment-agent-01", "roles": ["engineer"], "team": "payments"},
  "change": {"type": "code", "environment": "dev", "service": "api-gateway", "version": "2.5.4", "previous_version": "2.5.3"},
  "ai": {"confidence": 0.92, "rationale": "PATCH, tests passed"},
  "checks": {"tests_passed": true, "security_scan": {"passed": true, "max_severity": "none"}}})";

constexpr const char* kApprovalProductionMinor = R"({
  "actor": {"type": "human", "id": "alice", "roles": ["engineer"], "team": "payments"},
  "change": {"type": "code", "environment": "production", "service": "api-gateway", "version": "2.6.0", "previous_version": "2.5.4"},
  "checks": {"tests_passed": true, "security_scan": {"passed": true, "max_severity": "low"}},
  "metadata": {"change_id": "CHANGE-42", "risk_level": "medium", "rollback_plan": "redeploy"}})";

constexpr const char* kDenyAiMajor = R"({
  "actor": {"type": "ai_agent", "id": "deployment-agent-01", "roles": ["engineer"]},
  "change": {"type": "code", "environment": "production", "version": "3.0.0", "previous_version": "2.6.0"},
  "ai": {"confidence": 0.97},
  "checks": {"tests_passed": true, "security_scan": {"passed": true, "max_severity": "none"}}})";

constexpr const char* kTierDatabaseSchema = R"({
  "actor": {"type": "human", "id": "carol", "roles": ["on-call-engineer"]},
  "change": {"type": "database_schema", "environment": "staging", "bump": "minor"},
  "checks": {"tests_passed": true}})";

void BM_Decide(benchmark::State& state, const char* json) {
  const governance::Governance& g = Defaults();
  auto request = decision::ParseRequest(json);
  if (!request || !decision::CheckRequest(g, *request)) {
    state.SkipWithError("bad request");
    return;
  }
  decision::Decision d;
  decision::Decide(g, *request, {}, &d);  // warm-up
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    decision::Decide(g, *request, {}, &d);
    benchmark::DoNotOptimize(d);
  }
  uint64_t allocations = g_allocations.load() - before;
  state.counters["allocs_per_decision"] = benchmark::Counter(
      static_cast<double>(allocations) / static_cast<double>(state.iterations()));
  state.SetLabel(std::string(Name(d.kind)));
}
BENCHMARK_CAPTURE(BM_Decide, allow_ai_dev_patch, kAllowDevPatch);
BENCHMARK_CAPTURE(BM_Decide, require_approval_production_minor, kApprovalProductionMinor);
BENCHMARK_CAPTURE(BM_Decide, deny_ai_production_major, kDenyAiMajor);
BENCHMARK_CAPTURE(BM_Decide, tier_database_schema, kTierDatabaseSchema);

// For comparison within one run: what parsing and rendering cost around a decision.
void BM_ParseRequest(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(decision::ParseRequest(kApprovalProductionMinor));
}
BENCHMARK(BM_ParseRequest);

void BM_RenderDecision(benchmark::State& state) {
  const governance::Governance& g = Defaults();
  auto request = decision::ParseRequest(kApprovalProductionMinor);
  decision::Decision d;
  decision::Decide(g, *request, {}, &d);
  for (auto _ : state)
    benchmark::DoNotOptimize(decision::RenderDecision(g, *request, {}, d, false));
}
BENCHMARK(BM_RenderDecision);

// The decision's audit event in canonical form, as every answered decision
// records it.
void BM_DecisionEvent(benchmark::State& state) {
  const governance::Governance& g = Defaults();
  auto request = decision::ParseRequest(kAllowDevPatch);
  decision::Decision d;
  decision::Decide(g, *request, {}, &d);
  std::string why = fmt::format("{}", fmt::join(decision::ReasonTexts(g, *request, {}, d), "; "));
  for (auto _ : state) {
    benchmark::DoNotOptimize(app::DecisionEvent(g, *request, d, why, std::nullopt, 1705314600000));
  }
}
BENCHMARK(BM_DecisionEvent);

// The compliance gate after a decision (app/compliance_gate.h): an early
// return for a request without metadata, a change record with a
// compatibility report read strictly for one that has them.
constexpr const char* kChangeRecord = R"({
  "actor": {"type": "human", "id": "alice", "roles": ["engineer"], "team": "payments"},
  "change": {"type": "code", "environment": "production", "service": "api-gateway", "version": "2.6.0", "previous_version": "2.5.4"},
  "checks": {"tests_passed": true, "security_scan": {"passed": true, "max_severity": "low"}},
  "metadata": {"change_id": "CHANGE-42", "author": "alice", "owner": "frank",
    "timestamp": "2026-12-01T10:00:00Z", "rationale": "Tenants exhaust shared capacity",
    "impact": "Requests over a tenant's limit are answered 429", "tests_run": ["unit", "integration"],
    "artifacts": ["api-gateway@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    "approvals": [], "rollback_plan": "Re-deploy 2.5.4", "risk_level": "high",
    "compatibility_report": {"contract": "contracts/openapi.yaml", "change_type": "additive"}}})";

void BM_GateFindings(benchmark::State& state, const char* json) {
  const governance::Governance& g = Defaults();
  auto request = decision::ParseRequest(json);
  if (!request || !decision::CheckRequest(g, *request)) {
    state.SkipWithError("bad request");
    return;
  }
  decision::Decision d;
  decision::Decide(g, *request, {}, &d);
  size_t findings = 0;
  for (auto _ : state) {
    std::vector<std::string> f = app::AllFindings(g, *request, d, {});
    findings = f.size();
    benchmark::DoNotOptimize(f);
  }
  state.SetLabel(fmt::format("{} findings", findings));
}
BENCHMARK_CAPTURE(BM_GateFindings, no_metadata, kAllowDevPatch);
BENCHMARK_CAPTURE(BM_GateFindings, change_record, kChangeRecord);

void BM_LoadGovernance(benchmark::State& state) {
  MemoryFileSystem fs;
  if (!governance::Scaffold(fs, "g", false)) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(governance::Load(fs, "g"));
}
BENCHMARK(BM_LoadGovernance)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
