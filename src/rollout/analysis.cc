#include "rollout/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "rollout/mann_whitney.h"

namespace interlock::rollout {
namespace {

constexpr std::string_view kResultNames[] = {"pass", "fail", "insufficient_data", "error"};
constexpr std::string_view kRequests = "requests";

// The points of `points` in (now - window, now], oldest first.
std::span<const Point> InWindow(const std::vector<Point>& points, UnixMillis now, int64_t window) {
  auto first = std::partition_point(points.begin(), points.end(),
                                    [&](const Point& p) { return p.at <= now - window; });
  auto last =
      std::partition_point(first, points.end(), [&](const Point& p) { return p.at <= now; });
  return {first, last};
}

// `change` relative to `base`; a base of 0 gives 0 for no change, else an
// unbounded one.
double Relative(double change, double base) {
  if (base != 0) return change / std::fabs(base);
  if (change == 0) return 0;
  return change > 0 ? std::numeric_limits<double>::infinity()
                    : -std::numeric_limits<double>::infinity();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// X_shift: the Mann-Whitney judge of X's samples in the window.
void Judge(const MetricSeries& series, std::string_view base, UnixMillis now, int64_t window,
           double confidence, MetricValue& v) {
  std::span<const Point> canary = InWindow(series.canary, now, window);
  std::span<const Point> baseline = InWindow(series.baseline, now, window);
  if (canary.empty() || baseline.empty()) {
    v.detail = fmt::format("no {} value of {} in the window",
                           canary.empty() ? "canary" : "baseline", base);
    return;
  }
  std::vector<double> c, b;
  // The newest samples, if there are more than the test takes.
  for (size_t i = canary.size() > kMannWhitneyMaxSampleSize
                      ? canary.size() - kMannWhitneyMaxSampleSize
                      : 0;
       i < canary.size(); ++i) {
    c.push_back(canary[i].value);
  }
  for (size_t i = baseline.size() > kMannWhitneyMaxSampleSize
                      ? baseline.size() - kMannWhitneyMaxSampleSize
                      : 0;
       i < baseline.size(); ++i) {
    b.push_back(baseline[i].value);
  }
  auto test = MannWhitney(c, b, confidence);
  if (!test) {
    v.status = ReadingStatus::kError;
    v.detail = fmt::format("the Mann-Whitney test of {}: {}", base, test.error().message());
    return;
  }
  Judgement j{test->effect, test->ci_low, test->ci_high, test->p_value, confidence, Median(b)};
  for (double x : {j.effect, j.ci_low, j.ci_high, j.baseline_median}) {
    if (!(std::fabs(x) <= 1e300)) {
      v.status = ReadingStatus::kError;
      v.detail = fmt::format("the Mann-Whitney test of {}: values too large to judge", base);
      return;
    }
  }
  double shift = 0;  // the interval holds 0: no difference shown
  if (j.ci_low > 0) shift = j.ci_low;
  if (j.ci_high < 0) shift = j.ci_high;
  v.value = Relative(shift, j.baseline_median);
  v.samples = static_cast<int>(std::min(c.size(), b.size()));
  v.status = ReadingStatus::kValue;
  v.judged = j;
}

// A metric as read over the window, derived metrics included.
MetricValue Read(const Metrics& metrics, std::string_view name, UnixMillis now, int64_t window,
                 double confidence) {
  MetricValue v;
  v.name = std::string(name);
  auto missing = [&](const MetricSeries& s) {
    if (s.missing_at > now - window && s.missing_at <= now) {
      v.status = s.missing;
      v.detail = s.missing_detail;
    }
  };
  auto it = metrics.find(name);
  if (it != metrics.end()) {
    std::span<const Point> points = InWindow(it->second.canary, now, window);
    if (!points.empty()) {
      v.value = points.back().value;
      v.samples = static_cast<int>(points.size());
      v.status = ReadingStatus::kValue;
      return v;
    }
    missing(it->second);
  }
  if (constexpr std::string_view kShift = "_shift";
      name.ends_with(kShift) && name.size() > kShift.size()) {
    std::string_view base_name = name.substr(0, name.size() - kShift.size());
    auto base = metrics.find(base_name);
    if (base == metrics.end()) {
      if (v.detail.empty()) v.detail = "no value in the window";
      return v;
    }
    if (v.status == ReadingStatus::kNoData && v.detail.empty()) missing(base->second);
    std::string missing_detail = v.detail;
    ReadingStatus missing_status = v.status;
    v.detail.clear();
    Judge(base->second, base_name, now, window, confidence, v);
    if (!v.value && v.status != ReadingStatus::kError && missing_status == ReadingStatus::kError) {
      v.status = missing_status;
      v.detail = missing_detail;
    }
    return v;
  }
  for (std::string_view suffix : {"_increase", "_degradation"}) {
    if (!name.ends_with(suffix) || name.size() == suffix.size()) continue;
    auto base = metrics.find(name.substr(0, name.size() - suffix.size()));
    if (base == metrics.end()) break;
    std::span<const Point> canary = InWindow(base->second.canary, now, window);
    std::span<const Point> baseline = InWindow(base->second.baseline, now, window);
    if (canary.empty() || baseline.empty()) {
      if (v.status == ReadingStatus::kNoData && v.detail.empty()) missing(base->second);
      if (v.detail.empty()) {
        v.detail = fmt::format("no {} value of {} in the window",
                               canary.empty() ? "canary" : "baseline", base->first);
      }
      return v;
    }
    double c = canary.back().value;
    double b = baseline.back().value;
    v.value = Relative(suffix == "_increase" ? c - b : b - c, b);
    v.samples = static_cast<int>(std::min(canary.size(), baseline.size()));
    v.status = ReadingStatus::kValue;
    return v;
  }
  if (v.detail.empty()) v.detail = "no value in the window";
  return v;
}

class ValueEnv final : public expr::Env {
 public:
  ValueEnv(const std::vector<std::string>& names, const std::vector<MetricValue>& values)
      : names_(names), values_(values) {}
  expr::Value Lookup(uint32_t slot) const override {
    if (slot >= names_.size()) return expr::Value::Unknown();
    for (const MetricValue& v : values_) {
      if (v.name == names_[slot] && v.value) return expr::Value::Number(*v.value);
    }
    return expr::Value::Unknown();
  }

 private:
  const std::vector<std::string>& names_;
  const std::vector<MetricValue>& values_;
};

}  // namespace

std::string_view CheckResultName(CheckResult r) { return kResultNames[static_cast<size_t>(r)]; }

std::optional<CheckResult> ParseCheckResult(std::string_view name) {
  for (size_t i = 0; i < std::size(kResultNames); ++i) {
    if (kResultNames[i] == name) return static_cast<CheckResult>(i);
  }
  return std::nullopt;
}

void Record(Metrics& metrics, std::string_view name, bool baseline, UnixMillis at,
            const Reading& reading, int64_t keep_ms) {
  auto it = metrics.find(name);
  if (it == metrics.end()) it = metrics.emplace(std::string(name), MetricSeries{}).first;
  MetricSeries& s = it->second;
  if (reading.status != ReadingStatus::kValue) {
    if (at >= s.missing_at) {
      s.missing_at = at;
      s.missing = reading.status;
      s.missing_detail = reading.detail;
    }
  } else {
    std::vector<Point>& points = baseline ? s.baseline : s.canary;
    auto place = std::upper_bound(points.begin(), points.end(), at,
                                  [](UnixMillis t, const Point& p) { return t < p.at; });
    points.insert(place, Point{at, reading.value});
  }
  UnixMillis newest = at;
  for (const std::vector<Point>* points : {&s.canary, &s.baseline}) {
    if (!points->empty()) newest = std::max(newest, points->back().at);
  }
  for (std::vector<Point>* points : {&s.canary, &s.baseline}) {
    auto keep = std::partition_point(points->begin(), points->end(),
                                     [&](const Point& p) { return p.at < newest - keep_ms; });
    points->erase(points->begin(), keep);
  }
}

CheckOutcome Evaluate(const expr::Program& condition, const std::vector<std::string>& names,
                      bool criterion, const governance::CheckSettings& settings,
                      const Metrics& metrics, UnixMillis now) {
  CheckOutcome out;
  const int64_t window = settings.window.count();
  for (const std::string& name : condition.fields()) {
    out.values.push_back(Read(metrics, name, now, window, settings.confidence));
  }
  // Too little data decides before the condition does.
  for (const MetricValue& v : out.values) {
    if (v.value && v.samples < settings.min_samples) {
      out.result = CheckResult::kInsufficientData;
      out.detail = fmt::format("{} has {} sample{} in the window, fewer than min_samples {}",
                               v.name, v.samples, v.samples == 1 ? "" : "s", settings.min_samples);
      return out;
    }
  }
  if (settings.min_requests > 0) {
    MetricValue requests = Read(metrics, kRequests, now, window, settings.confidence);
    if (!requests.value || *requests.value < settings.min_requests) {
      out.result = CheckResult::kInsufficientData;
      out.detail = requests.value ? fmt::format(
                                        "{} requests in the window, fewer than "
                                        "min_requests {}",
                                        *requests.value, settings.min_requests)
                                  : fmt::format("no request count in the window (min_requests {})",
                                                settings.min_requests);
      return out;
    }
  }
  expr::Tri truth = condition.Evaluate(ValueEnv(names, out.values));
  if (truth != expr::Tri::kUnknown) {
    out.result = (truth == expr::Tri::kTrue) == criterion ? CheckResult::kPass : CheckResult::kFail;
    return out;
  }
  for (const MetricValue& v : out.values) {
    if (v.status == ReadingStatus::kError) {
      out.result = CheckResult::kError;
      out.detail = fmt::format("{}: {}", v.name, v.detail);
      return out;
    }
  }
  out.result = CheckResult::kInsufficientData;
  for (const MetricValue& v : out.values) {
    if (!v.value) {
      out.detail = fmt::format("{}: {}", v.name, v.detail);
      break;
    }
  }
  if (out.detail.empty()) out.detail = "the condition is unknown for these values";
  return out;
}

std::vector<MetricThreshold> ThresholdsOf(const expr::Program& condition,
                                          const std::vector<std::string>& names) {
  std::vector<MetricThreshold> out;
  for (const expr::Threshold& t : condition.Thresholds()) {
    if (t.slot < names.size()) out.push_back({names[t.slot], std::string(t.op), t.value});
  }
  return out;
}

std::optional<bool> Counted(CheckResult result, const governance::CheckSettings& settings,
                            bool criterion) {
  auto as = [](governance::OnMissing m) -> std::optional<bool> {
    switch (m) {
      case governance::OnMissing::kHold:
        return std::nullopt;
      case governance::OnMissing::kFail:
        return true;
      case governance::OnMissing::kPass:
        return false;
    }
    return std::nullopt;
  };
  switch (result) {
    case CheckResult::kPass:
      return false;
    case CheckResult::kFail:
      return true;
    case CheckResult::kInsufficientData:
      // Insufficient data never promotes.
      if (criterion && settings.on_no_data == governance::OnMissing::kPass) return std::nullopt;
      return as(settings.on_no_data);
    case CheckResult::kError:
      if (criterion && settings.on_error == governance::OnMissing::kPass) return std::nullopt;
      return as(settings.on_error);
  }
  return std::nullopt;
}

bool Fires(const std::vector<bool>& recent, const governance::CheckSettings& settings) {
  size_t n = std::min(recent.size(), static_cast<size_t>(settings.fail_n));
  long failed = std::count(recent.end() - static_cast<std::ptrdiff_t>(n), recent.end(), true);
  return failed >= settings.fail_m;
}

}  // namespace interlock::rollout
