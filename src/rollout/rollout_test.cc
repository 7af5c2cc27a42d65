#include "rollout/rollout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../../tests/test_util.h"
#include "core/fs.h"
#include "governance/defaults.h"
#include "governance/fields.h"
#include "governance/loader.h"
#include "rollout/analysis.h"

namespace interlock::rollout {
namespace {

using governance::CheckSettings;
using governance::Governance;
using governance::OnMissing;

constexpr UnixMillis kStart = 1'800'000'000'000;

// The default governance with canary.yml and auto-rollback.yml replaced.
Governance Load(const std::string& canary, const std::string& rollback) {
  testing::TempDir dir;
  RealFileSystem fs;
  if (!governance::Scaffold(fs, dir.path(), true)) ADD_FAILURE() << "scaffold failed";
  dir.Write("safety/canary.yml", canary);
  dir.Write("safety/auto-rollback.yml", rollback);
  auto loaded = governance::Load(fs, dir.path());
  if (!loaded) {
    for (const auto& d : loaded.error())
      ADD_FAILURE() << d.file << ":" << d.line << ": " << d.message;
    return testing::FreshDefaultGovernance();
  }
  return std::move(*loaded);
}

constexpr const char* kCanary = R"(version: 1
canary_strategies:
  high_risk:
    traffic_steps: [5%, 50%, 100%]
    monitoring_duration: 60s
    interval: 10s
    analysis:
      window: 30s
    rollback_when: error_rate > 1%
    promote_when: error_rate < 0.5% && latency_p95_ms < 500
  critical:
    traffic_steps: [1%, 100%]
    monitoring_duration: 24h
    rollback_when: error_rate > 1%
    promote_when: error_rate < 0.5%
rollout_overrides:
  promote: [engineering-lead]
  abort: [on-call-engineer, engineering-lead]
  pause: [on-call-engineer]
  resume: [on-call-engineer]
  skip_step: [engineering-lead]
)";

constexpr const char* kRollback = R"(version: 1
rollback_triggers:
  - name: latency_spike
    condition: latency_p99_increase >= 50%
    window: 30s
    consecutive: 2
    action: rollback
  - name: drift
    condition: model_drift_score > 0.3
    window: 30s
    dry_run: true
    action: block_and_rollback
)";

// Settings with `window` and, for the rest, the defaults.
CheckSettings Window(int64_t ms) {
  CheckSettings s;
  s.window = Millis(ms);
  return s;
}

expr::Program Compile(const std::string& source, std::vector<std::string>* names) {
  governance::MetricSchema schema(names);
  auto program = expr::Compile(source, schema);
  EXPECT_TRUE(program.has_value()) << source;
  return std::move(*program);
}

TEST(AnalysisTest, FourResults) {
  std::vector<std::string> names;
  expr::Program trigger = Compile("error_rate > 1%", &names);
  Metrics m;
  CheckSettings s = Window(60'000);
  // No point yet: insufficient data, saying which metric.
  CheckOutcome none = Evaluate(trigger, names, false, s, m, kStart);
  EXPECT_EQ(none.result, CheckResult::kInsufficientData);
  EXPECT_EQ(none.detail, "error_rate: no value in the window");

  Record(m, "error_rate", false, kStart, Reading::Value(0.002), 600'000);
  EXPECT_EQ(Evaluate(trigger, names, false, s, m, kStart).result, CheckResult::kPass);
  Record(m, "error_rate", false, kStart + 1000, Reading::Value(0.02), 600'000);
  CheckOutcome fail = Evaluate(trigger, names, false, s, m, kStart + 1000);
  EXPECT_EQ(fail.result, CheckResult::kFail);
  ASSERT_EQ(fail.values.size(), 1u);
  EXPECT_EQ(fail.values[0].value, 0.02);
  EXPECT_EQ(fail.values[0].samples, 2);

  // The window moves on past the points, and the source fails: error.
  Record(m, "error_rate", false, kStart + 120'000, Reading::Error("timed out after 5000 ms"),
         600'000);
  CheckOutcome error = Evaluate(trigger, names, false, s, m, kStart + 120'000);
  EXPECT_EQ(error.result, CheckResult::kError);
  EXPECT_EQ(error.detail, "error_rate: timed out after 5000 ms");

  // A criterion passes when its condition is true.
  expr::Program criterion = Compile("error_rate < 0.5%", &names);
  EXPECT_EQ(Evaluate(criterion, names, true, s, m, kStart).result, CheckResult::kPass);
  EXPECT_EQ(Evaluate(criterion, names, true, s, m, kStart + 1000).result, CheckResult::kFail);
}

TEST(AnalysisTest, AShiftIsJudgedByMannWhitneyAndShowsOnlyWhatItIsSureOf) {
  std::vector<std::string> names;
  expr::Program trigger = Compile("latency_ms_shift > 10%", &names);
  CheckSettings s = Window(60'000);
  EXPECT_EQ(s.confidence, 0.98);
  // Ten samples each: the baseline 100..109 ms, the canary `offset` higher.
  auto samples = [](double offset) {
    Metrics m;
    for (int i = 0; i < 10; ++i) {
      UnixMillis at = kStart - 50'000 + i * 5'000;
      Record(m, "latency_ms", true, at, Reading::Value(100 + i), 600'000);
      Record(m, "latency_ms", false, at, Reading::Value(100 + i + offset), 600'000);
    }
    return m;
  };
  // A canary 1 ms slower: the interval of the shift holds 0, so no shift.
  CheckOutcome same = Evaluate(trigger, names, false, s, samples(1), kStart);
  EXPECT_EQ(same.result, CheckResult::kPass);
  ASSERT_EQ(same.values.size(), 1u);
  EXPECT_EQ(same.values[0].value, 0.0);
  ASSERT_TRUE(same.values[0].judged.has_value());
  EXPECT_EQ(same.values[0].judged->effect, 1.0);
  EXPECT_LT(same.values[0].judged->ci_low, 0.0);
  EXPECT_GT(same.values[0].judged->ci_high, 0.0);

  // 50 ms slower: sure of a shift, whose nearest end is far above 10%.
  CheckOutcome slow = Evaluate(trigger, names, false, s, samples(50), kStart);
  EXPECT_EQ(slow.result, CheckResult::kFail);
  const MetricValue& v = slow.values[0];
  ASSERT_TRUE(v.judged.has_value());
  EXPECT_EQ(v.samples, 10);
  EXPECT_EQ(v.judged->effect, 50.0);  // the median of the differences 41..59
  EXPECT_EQ(v.judged->baseline_median, 104.5);
  EXPECT_EQ(v.judged->confidence, 0.98);
  EXPECT_GT(v.judged->ci_low, 40.0);
  EXPECT_LT(v.judged->ci_high, 60.0);
  EXPECT_LT(v.judged->p_value, 0.001);
  EXPECT_DOUBLE_EQ(*v.value, v.judged->ci_low / 104.5);

  // Too few samples for min_samples: insufficient data, never a verdict.
  s.min_samples = 20;
  EXPECT_EQ(Evaluate(trigger, names, false, s, samples(50), kStart).result,
            CheckResult::kInsufficientData);
  // No baseline: no judgement.
  Metrics canary_only;
  Record(canary_only, "latency_ms", false, kStart, Reading::Value(100), 600'000);
  CheckOutcome alone = Evaluate(trigger, names, false, Window(60'000), canary_only, kStart);
  EXPECT_EQ(alone.result, CheckResult::kInsufficientData);
  EXPECT_EQ(alone.detail, "latency_ms_shift: no baseline value of latency_ms in the window");
}

TEST(AnalysisTest, TooLittleDataIsInsufficientEvenWhenTheValueFails) {
  std::vector<std::string> names;
  expr::Program trigger = Compile("error_rate > 1%", &names);
  Metrics m;
  Record(m, "error_rate", false, kStart, Reading::Value(0.5), 600'000);
  CheckSettings s = Window(60'000);
  s.min_samples = 2;
  CheckOutcome few = Evaluate(trigger, names, false, s, m, kStart);
  EXPECT_EQ(few.result, CheckResult::kInsufficientData);
  EXPECT_EQ(few.detail, "error_rate has 1 sample in the window, fewer than min_samples 2");

  s.min_samples = 1;
  s.min_requests = 100;
  EXPECT_EQ(Evaluate(trigger, names, false, s, m, kStart).detail,
            "no request count in the window (min_requests 100)");
  Record(m, "requests", false, kStart, Reading::Value(12), 600'000);
  EXPECT_EQ(Evaluate(trigger, names, false, s, m, kStart).detail,
            "12 requests in the window, fewer than min_requests 100");
  Record(m, "requests", false, kStart + 1, Reading::Value(400), 600'000);
  EXPECT_EQ(Evaluate(trigger, names, false, s, m, kStart + 1).result, CheckResult::kFail);
}

TEST(AnalysisTest, DerivedMetricsCompareCanaryWithBaseline) {
  std::vector<std::string> names;
  expr::Program increase = Compile("latency_p99_increase >= 50%", &names);
  expr::Program degradation = Compile("throughput_degradation > 10%", &names);
  Metrics m;
  CheckSettings s = Window(60'000);
  Record(m, "latency_p99", false, kStart, Reading::Value(300), 600'000);
  // Without a baseline there is nothing to compare with.
  CheckOutcome alone = Evaluate(increase, names, false, s, m, kStart);
  EXPECT_EQ(alone.result, CheckResult::kInsufficientData);
  EXPECT_EQ(alone.detail, "latency_p99_increase: no baseline value of latency_p99 in the window");
  Record(m, "latency_p99", true, kStart, Reading::Value(180), 600'000);
  CheckOutcome up = Evaluate(increase, names, false, s, m, kStart);
  EXPECT_EQ(up.result, CheckResult::kFail);
  EXPECT_NEAR(*up.values[0].value, 120.0 / 180.0, 1e-12);

  Record(m, "throughput", false, kStart, Reading::Value(85), 600'000);
  Record(m, "throughput", true, kStart, Reading::Value(100), 600'000);
  CheckOutcome down = Evaluate(degradation, names, false, s, m, kStart);
  EXPECT_EQ(down.result, CheckResult::kFail);
  EXPECT_NEAR(*down.values[0].value, 0.15, 1e-12);

  // A baseline of zero: no change when the canary is zero too, else unbounded.
  Record(m, "errors", false, kStart, Reading::Value(0), 600'000);
  Record(m, "errors", true, kStart, Reading::Value(0), 600'000);
  expr::Program errors = Compile("errors_increase > 10%", &names);
  EXPECT_EQ(Evaluate(errors, names, false, s, m, kStart).result, CheckResult::kPass);
  Record(m, "errors", false, kStart + 1, Reading::Value(1), 600'000);
  CheckOutcome inf = Evaluate(errors, names, false, s, m, kStart + 1);
  EXPECT_EQ(inf.result, CheckResult::kFail);
  EXPECT_EQ(*inf.values[0].value, std::numeric_limits<double>::infinity());
}

TEST(AnalysisTest, RecordKeepsTimeOrderAndDropsOldPoints) {
  Metrics m;
  Record(m, "x", false, kStart + 2000, Reading::Value(2), 10'000);
  Record(m, "x", false, kStart + 1000, Reading::Value(1), 10'000);
  Record(m, "x", false, kStart + 3000, Reading::Value(3), 10'000);
  ASSERT_EQ(m["x"].canary.size(), 3u);
  EXPECT_EQ(m["x"].canary[0].value, 1);
  EXPECT_EQ(m["x"].canary[2].value, 3);
  Record(m, "x", false, kStart + 12'500, Reading::Value(4), 10'000);
  ASSERT_EQ(m["x"].canary.size(), 2u);
  EXPECT_EQ(m["x"].canary[0].value, 3);
}

TEST(AnalysisTest, DebounceCountsAsTheSettingsSay) {
  CheckSettings s;
  s.fail_m = 2;
  s.fail_n = 3;
  EXPECT_FALSE(Fires({true}, s));
  EXPECT_FALSE(Fires({true, false, false}, s));
  EXPECT_TRUE(Fires({true, false, true}, s));
  EXPECT_FALSE(Fires({true, true, false, false}, s));  // only the last 3 count
  // A flapping metric fires 2 of 3, never 3 in a row.
  s.fail_m = s.fail_n = 3;
  EXPECT_FALSE(Fires({true, false, true, false, true}, s));
  EXPECT_TRUE(Fires({false, true, true, true}, s));

  // Insufficient data and errors hold unless told otherwise.
  EXPECT_EQ(Counted(CheckResult::kInsufficientData, s, false), std::nullopt);
  EXPECT_EQ(Counted(CheckResult::kError, s, false), std::nullopt);
  s.on_no_data = OnMissing::kFail;
  s.on_error = OnMissing::kPass;
  EXPECT_EQ(Counted(CheckResult::kInsufficientData, s, false), true);
  EXPECT_EQ(Counted(CheckResult::kError, s, false), false);
  // A criterion never passes for want of data.
  s.on_no_data = OnMissing::kPass;
  EXPECT_EQ(Counted(CheckResult::kInsufficientData, s, true), std::nullopt);
  EXPECT_EQ(Counted(CheckResult::kError, s, true), std::nullopt);
}

class RolloutTest : public ::testing::Test {
 protected:
  RolloutTest() : g_(Load(kCanary, kRollback)) {}

  Rollout Started() {
    RolloutSpec spec;
    spec.service = "payments";
    spec.environment = "production";
    spec.version = "2.0.0";
    spec.baseline_version = "1.9.0";
    spec.opened_by = "alice";
    return Start(g_, *g_.FindCanary("high_risk"), "r-1", spec, kStart);
  }
  // Pushes canary and baseline values at `at`.
  void Push(Rollout& r, UnixMillis at, double error_rate, double latency_p95,
            double latency_p99 = 100, double baseline_p99 = 100) {
    Record(r.metrics, "error_rate", false, at, Reading::Value(error_rate), 600'000);
    Record(r.metrics, "latency_p95_ms", false, at, Reading::Value(latency_p95), 600'000);
    Record(r.metrics, "latency_p99", false, at, Reading::Value(latency_p99), 600'000);
    Record(r.metrics, "latency_p99", true, at, Reading::Value(baseline_p99), 600'000);
  }
  const governance::Principal& P(std::string_view id) { return *g_.FindPrincipal(id); }

  Governance g_;
};

TEST_F(RolloutTest, StartsAtTheFirstStepWithEveryCheck) {
  Rollout r = Started();
  EXPECT_EQ(r.state, RolloutState::kProgressing);
  EXPECT_EQ(r.traffic(), 0.05);
  EXPECT_EQ(r.next_evaluation_at, kStart + 10'000);
  ASSERT_EQ(r.checks.size(), 4u);
  EXPECT_EQ(r.checks[0].name, "rollback_when");
  EXPECT_EQ(r.checks[1].name, "latency_spike");
  EXPECT_EQ(r.checks[2].name, "drift");
  EXPECT_TRUE(r.checks[2].dry_run);
  EXPECT_EQ(r.checks[3].name, "promote_when");
  EXPECT_TRUE(r.checks[3].criterion);
  ASSERT_EQ(r.checks[0].thresholds.size(), 1u);
  EXPECT_EQ(r.checks[0].thresholds[0].metric, "error_rate");
  EXPECT_EQ(r.checks[0].thresholds[0].op, ">");
  EXPECT_EQ(r.checks[0].thresholds[0].value, 0.01);
}

TEST_F(RolloutTest, PromotesStepByStepOnlyAfterTheMonitoringDurationAndOnlyOnData) {
  Rollout r = Started();
  UnixMillis t = kStart;
  // No data at all: nothing moves, however long.
  for (int i = 0; i < 10; ++i) {
    t += 10'000;
    EXPECT_EQ(Evaluate(g_, r, t).kind, Effect::Kind::kNone);
  }
  EXPECT_EQ(r.step, 0u);
  EXPECT_EQ(r.checks[3].result, CheckResult::kInsufficientData);
  // Healthy data: the step's 60 s have passed, so it moves on at once.
  t += 10'000;
  Push(r, t, 0.001, 200);
  Effect e = Evaluate(g_, r, t);
  EXPECT_EQ(e.kind, Effect::Kind::kStep);
  EXPECT_EQ(r.traffic(), 0.5);
  // At the new step it waits its own 60 s.
  for (int i = 0; i < 5; ++i) {
    t += 10'000;
    Push(r, t, 0.001, 200);
    EXPECT_EQ(Evaluate(g_, r, t).kind, Effect::Kind::kNone) << i;
  }
  t += 10'000;
  Push(r, t, 0.001, 200);
  EXPECT_EQ(Evaluate(g_, r, t).kind, Effect::Kind::kStep);
  t += 60'000;
  Push(r, t, 0.001, 200);
  EXPECT_EQ(Evaluate(g_, r, t).kind, Effect::Kind::kPromoted);
  EXPECT_EQ(r.state, RolloutState::kPromoted);
  EXPECT_EQ(Evaluate(g_, r, t + 10'000).kind, Effect::Kind::kNone);
  EXPECT_EQ(r.history.back().event, "promoted");
  EXPECT_EQ(r.history.back().by, "analysis");
}

TEST_F(RolloutTest, ARollbackTriggerRollsBackWithItsFinding) {
  Rollout r = Started();
  Push(r, kStart + 10'000, 0.05, 200);
  Effect e = Evaluate(g_, r, kStart + 10'000);
  EXPECT_EQ(e.kind, Effect::Kind::kRolledBack);
  EXPECT_EQ(e.trigger, "rollback_when");
  EXPECT_EQ(e.why, "rollback_when (error_rate > 1%): error_rate = 0.05");
  EXPECT_EQ(r.state, RolloutState::kRolledBack);
  EXPECT_EQ(r.history.back().by, "trigger:rollback_when");
}

TEST_F(RolloutTest, ConsecutiveNeedsFailuresInARowAndADryRunNeverActs) {
  Rollout r = Started();
  // p99 doubles against the baseline: latency_spike fails, but needs two.
  Push(r, kStart + 10'000, 0.001, 200, 200, 100);
  Record(r.metrics, "model_drift_score", false, kStart + 10'000, Reading::Value(0.9), 600'000);
  EXPECT_EQ(Evaluate(g_, r, kStart + 10'000).kind, Effect::Kind::kNone);
  EXPECT_EQ(r.checks[1].result, CheckResult::kFail);
  EXPECT_FALSE(r.checks[1].firing);
  // The dry run fires and is recorded, and does nothing.
  EXPECT_TRUE(r.checks[2].firing);
  Push(r, kStart + 20'000, 0.001, 200, 100, 100);
  EXPECT_EQ(Evaluate(g_, r, kStart + 20'000).kind, Effect::Kind::kNone);
  Push(r, kStart + 30'000, 0.001, 200, 200, 100);
  EXPECT_EQ(Evaluate(g_, r, kStart + 30'000).kind, Effect::Kind::kNone);
  Push(r, kStart + 40'000, 0.001, 200, 200, 100);
  Effect e = Evaluate(g_, r, kStart + 40'000);
  EXPECT_EQ(e.kind, Effect::Kind::kRolledBack);
  EXPECT_EQ(e.trigger, "latency_spike");
}

TEST_F(RolloutTest, OverridesNeedTheRoleARationaleAndAState) {
  Rollout r = Started();
  auto denied = Override(g_, r, "promote", P("carol"), "looks fine", kStart + 1);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().kind(), ErrorKind::kPermissionDenied);
  EXPECT_EQ(denied.error().message(),
            "carol may not promote a rollout: it takes a human holding one of: engineering-lead");
  auto empty = Override(g_, r, "pause", P("carol"), "", kStart + 1);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message(), "rationale: required");
  auto unknown = Override(g_, r, "explode", P("carol"), "x", kStart + 1);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message(),
            "action: expected one of promote, abort, pause, resume, skip_step, found \"explode\"");

  ASSERT_EQ(Override(g_, r, "pause", P("carol"), "investigating", kStart + 1)->kind,
            Effect::Kind::kPaused);
  EXPECT_EQ(Override(g_, r, "skip_step", P("dave"), "x", kStart + 2).error().message(),
            "rollout r-1 is paused: resume it first");
  ASSERT_EQ(Override(g_, r, "resume", P("carol"), "all clear", kStart + 3)->kind,
            Effect::Kind::kResumed);
  ASSERT_EQ(Override(g_, r, "skip_step", P("dave"), "hotfix", kStart + 4)->kind,
            Effect::Kind::kStep);
  EXPECT_EQ(r.step, 1u);
  ASSERT_EQ(Override(g_, r, "promote", P("dave"), "verified by hand", kStart + 5)->kind,
            Effect::Kind::kPromoted);
  EXPECT_EQ(r.traffic(), 1.0);
  auto finished = Override(g_, r, "abort", P("carol"), "too late", kStart + 6);
  ASSERT_FALSE(finished.has_value());
  EXPECT_EQ(finished.error().kind(), ErrorKind::kConflict);
  EXPECT_EQ(finished.error().message(), "rollout r-1 is promoted: nothing can change it");
  EXPECT_EQ(r.history.back().by, "dave");
  EXPECT_EQ(r.history.back().why, "verified by hand");
}

TEST_F(RolloutTest, APausedRolloutIsStillRolledBackButDoesNotMoveOn) {
  Rollout r = Started();
  ASSERT_TRUE(Override(g_, r, "pause", P("carol"), "wait", kStart + 1));
  Push(r, kStart + 70'000, 0.001, 200);
  EXPECT_EQ(Evaluate(g_, r, kStart + 70'000).kind, Effect::Kind::kNone);
  EXPECT_EQ(r.step, 0u);
  Push(r, kStart + 80'000, 0.2, 200);
  EXPECT_EQ(Evaluate(g_, r, kStart + 80'000).kind, Effect::Kind::kRolledBack);
}

TEST_F(RolloutTest, TheStateRowReadsBackAsWritten) {
  Rollout r = Started();
  Push(r, kStart + 10'000, 0.001, 200, 150, 100);
  Evaluate(g_, r, kStart + 10'000);
  ASSERT_TRUE(Override(g_, r, "pause", P("carol"), "wait", kStart + 11'000));
  std::string row = ToJson(r).dump();
  auto back = RolloutFromJson(row);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(ToJson(*back).dump(), row);
  EXPECT_EQ(back->steps, r.steps);

  auto wrong = RolloutFromJson(R"({"format": 2})");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().kind(), ErrorKind::kCorruption);
  EXPECT_EQ(wrong.error().message(),
            "rollout: format: this Interlock reads rollout records of format 1, found 2");
}

TEST_F(RolloutTest, ACheckTheGovernanceNoLongerDefinesIsAnError) {
  Rollout r = Started();
  Governance other = Load(kCanary, "version: 1\nrollback_triggers: []\n");
  Evaluate(other, r, kStart + 10'000);
  EXPECT_EQ(r.checks[1].result, CheckResult::kError);
  EXPECT_EQ(r.checks[1].detail, "the governance no longer defines this check");
}

}  // namespace
}  // namespace interlock::rollout
