// The analysis of a rollout's metrics, as pure functions: one check (a
// rollback trigger or a promotion criterion) at one evaluation gets one of
// four results, and its recent results decide whether it fires.
//
// Metrics are points in time, the canary's and the baseline's, whichever
// source gave them: a Prometheus query at an evaluation, or a value a
// caller pushed. A check reads, for each metric its condition names, the
// points of its window (the `window` of its settings, ending now):
//  - the value is the latest point in the window, and the samples are the
//    points in the window;
//  - a metric named X_increase is (canary X - baseline X) / baseline X, and
//    X_degradation is (baseline X - canary X) / baseline X, each from the
//    latest points of both, unless a source gave the derived metric itself.
//    A baseline of 0 gives 0 when the canary is 0 too, else an unbounded
//    change (+Inf for an increase, -Inf for a degradation);
//  - a metric named X_shift judges every sample of X in the window, the
//    canary's against the baseline's, with the Mann-Whitney U test, as
//    Kayenta's judge does (rollout/mann_whitney.h, at the check's
//    `confidence`, 0.98 by default): 0 when the confidence interval of the
//    shift (canary - baseline) holds 0, so that no difference is shown;
//    otherwise the end of the interval nearest 0, relative to the
//    baseline's median (a baseline median of 0: an unbounded shift). So
//    `latency_p99_ms_shift > 10%` holds only when the canary is slower by
//    more than 10% with that confidence. The value reports the test: the
//    effect (Hodges-Lehmann estimate), the interval and the p-value;
//  - a metric with no point in the window has no data; if its source's
//    latest answer in the window was an error, it is in error.
//
// Results:
//  - insufficient_data: a metric read has fewer than min_samples points, or
//    the `requests` metric says fewer than min_requests (or says nothing
//    while min_requests is set); or the condition is unknown for want of
//    data;
//  - error: the condition is unknown and a metric it reads is in error;
//  - otherwise the condition decides: a trigger fails when it is true, a
//    criterion passes when it is true.
//
// A check's results then count as its settings say: insufficient data and
// errors as on_no_data and on_error say (hold: not counted), and it fires
// when fail_m of its last fail_n counted results are failures.
//
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "expr/expr.h"
#include "governance/model.h"
#include "rollout/reading.h"

namespace interlock::rollout {

enum class CheckResult : uint8_t { kPass, kFail, kInsufficientData, kError };

// "pass", "fail", "insufficient_data", "error".
std::string_view CheckResultName(CheckResult r);
std::optional<CheckResult> ParseCheckResult(std::string_view name);

struct Point {
  UnixMillis at = 0;
  double value = 0;
};

// One metric's points in a rollout, oldest first, and its source's latest
// answer that was not a value.
struct MetricSeries {
  std::vector<Point> canary;
  std::vector<Point> baseline;
  UnixMillis missing_at = 0;  // when the source last answered without a value; 0: never
  ReadingStatus missing = ReadingStatus::kNoData;
  std::string missing_detail;
};

using Metrics = std::map<std::string, MetricSeries, std::less<>>;

// Adds `reading` of metric `name` (the canary's, or the baseline's) at
// `at`, in time order, and drops the points older than `keep_ms` before it.
void Record(Metrics& metrics, std::string_view name, bool baseline, UnixMillis at,
            const Reading& reading, int64_t keep_ms);

// What the Mann-Whitney judge of an X_shift metric found, in X's units.
struct Judgement {
  double effect = 0;  // the Hodges-Lehmann shift, canary - baseline
  double ci_low = 0;
  double ci_high = 0;
  double p_value = 1;
  double confidence = 0;
  double baseline_median = 0;
};

// One metric as a check read it.
struct MetricValue {
  std::string name;
  std::optional<double> value;  // absent: no data or an error
  int samples = 0;
  ReadingStatus status = ReadingStatus::kNoData;
  std::string detail;               // why there is no value
  std::optional<Judgement> judged;  // X_shift metrics
};

// A number a condition compares a metric with.
struct MetricThreshold {
  std::string metric;
  std::string op;
  double value = 0;
};

struct CheckOutcome {
  CheckResult result = CheckResult::kInsufficientData;
  std::vector<MetricValue> values;  // each metric the condition reads
  std::string detail;               // why, for insufficient data and errors
};

// Evaluates `condition` over `metrics` in the window of `settings` ending
// at `now`. `names` resolves the condition's slots (Governance::
// metric_names). `criterion`: true passes; else true fails.
CheckOutcome Evaluate(const expr::Program& condition, const std::vector<std::string>& names,
                      bool criterion, const governance::CheckSettings& settings,
                      const Metrics& metrics, UnixMillis now);

// The comparisons of `condition` with numbers, by metric name.
std::vector<MetricThreshold> ThresholdsOf(const expr::Program& condition,
                                          const std::vector<std::string>& names);

// How a result counts: pass, fail, or nullopt (holds; not counted).
std::optional<bool> Counted(CheckResult result, const governance::CheckSettings& settings,
                            bool criterion);

// Whether the counted results `recent` (true: failed; newest last) fire.
bool Fires(const std::vector<bool>& recent, const governance::CheckSettings& settings);

}  // namespace interlock::rollout
