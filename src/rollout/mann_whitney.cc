#include "rollout/mann_whitney.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <numeric>
#include <string_view>
#include <vector>

namespace interlock::rollout {
namespace {

// Below this many values in each sample, and without ties, U's exact
// distribution is used (R's default for `exact`).
constexpr size_t kExactBelow = 50;

Result<void> CheckSize(std::span<const double> values, std::string_view name) {
  if (values.empty()) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("the {} sample is empty; at least 1 value is needed", name)));
  }
  if (values.size() > kMannWhitneyMaxSampleSize) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("the {} sample has {} values; at most {} are allowed",
                                           name, values.size(), kMannWhitneyMaxSampleSize)));
  }
  return Ok();
}

Result<void> CheckFinite(std::span<const double> values, std::string_view name) {
  for (size_t index = 0; index < values.size(); ++index) {
    if (!std::isfinite(values[index])) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("{} value at index {} is not finite: {}", name, index, values[index])));
    }
  }
  return Ok();
}

std::vector<double> Sorted(std::span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// Sum of t^3 - t over the groups of t equal values of an ascending sequence.
double TieTerm(const std::vector<double>& sorted) {
  double term = 0;
  for (size_t first = 0; first < sorted.size();) {
    size_t last = first + 1;
    while (last < sorted.size() && sorted[last] == sorted[first]) ++last;
    const double t = static_cast<double>(last - first);
    term += t * t * t - t;
    first = last;
  }
  return term;
}

// What R's rank() of c(x - shift, y) yields: U of the first part and the tie
// term of the whole.
struct Ranking {
  double u = 0;
  double tie_term = 0;
};

// x and y ascending.
Ranking Rank(const std::vector<double>& x, const std::vector<double>& y, double shift) {
  Ranking ranking;
  size_t i = 0;
  size_t j = 0;
  while (i < x.size() || j < y.size()) {
    const double value =
        (j == y.size() || (i < x.size() && x[i] - shift <= y[j])) ? x[i] - shift : y[j];
    const size_t y_below = j;
    size_t x_equal = 0;
    size_t y_equal = 0;
    for (; i < x.size() && x[i] - shift == value; ++i) ++x_equal;
    for (; j < y.size() && y[j] == value; ++j) ++y_equal;
    ranking.u += static_cast<double>(x_equal) * static_cast<double>(y_below) +
                 0.5 * static_cast<double>(x_equal) * static_cast<double>(y_equal);
    const double t = static_cast<double>(x_equal + y_equal);
    ranking.tie_term += t * t * t - t;
  }
  return ranking;
}

// Standard deviation of U under the null hypothesis, corrected for ties.
double Sigma(double n, double m, double tie_term) {
  const double variance = (n * m / 12) * ((n + m + 1) - tie_term / ((n + m) * (n + m - 1)));
  return variance > 0 ? std::sqrt(variance) : 0;
}

// (dz - sign(dz) / 2) / sigma: the continuity-corrected standard score of a
// deviation dz of U from its mean.
double Corrected(double dz, double sigma) {
  const double correction = dz > 0 ? 0.5 : (dz < 0 ? -0.5 : 0.0);
  return (dz - correction) / sigma;
}

// Standard normal distribution function.
double Phi(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

// Standard normal quantile for 0 < p < 1 (Wichura's AS 241, as R's qnorm).
double NormalQuantile(double p) {
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q *
           (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) *
                    r +
                45921.953931549871457) *
                   r +
               13731.693765509461125) *
                  r +
              1971.5909503065514427) *
                 r +
             133.14166789178437745) *
                r +
            3.387132872796366608) /
           (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) *
                    r +
                21213.794301586595867) *
                   r +
               5394.1960214247511077) *
                  r +
              687.1870074920579083) *
                 r +
             42.313330701600911252) *
                r +
            1.);
  }
  double r = std::sqrt(-std::log(q < 0 ? p : 1 - p));
  double value;
  if (r <= 5.) {
    r -= 1.6;
    value = (((((((r * 7.7454501427834140764e-4 + .0227238449892691845833) * r +
                  .24178072517745061177) *
                     r +
                 1.27045825245236838258) *
                    r +
                3.64784832476320460504) *
                   r +
               5.7694972214606914055) *
                  r +
              4.6303378461565452959) *
                 r +
             1.42343711074968357734) /
            (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r +
                  .0151986665636164571966) *
                     r +
                 .14810397642748007459) *
                    r +
                .68976733498510000455) *
                   r +
               1.6763848301838038494) *
                  r +
              2.05319162663775882187) *
                 r +
             1.);
  } else {
    r -= 5.;
    value = (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r +
                  .0012426609473880784386) *
                     r +
                 .026532189526576123093) *
                    r +
                .29656057260294367566) *
                   r +
               1.7848265399172913358) *
                  r +
              5.4637849111641143699) *
                 r +
             6.6579046435011037772) /
            (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r +
                  1.8463183175100546818e-5) *
                     r +
                 7.868691311456132591e-4) *
                    r +
                .0148753612908506148525) *
                   r +
               .13692988092273580531) *
                  r +
              .59983220655588793769) *
                 r +
             1.);
  }
  return q < 0 ? -value : value;
}

// The n*m differences x[i] - y[j], as doubles, without storing them.
class Differences {
 public:
  // x and y ascending and non-empty; they must outlive this object.
  Differences(const std::vector<double>& x, const std::vector<double>& y) : x_(x), y_(y) {}

  uint64_t size() const { return static_cast<uint64_t>(x_.size()) * y_.size(); }
  double Min() const { return x_.front() - y_.back(); }
  double Max() const { return x_.back() - y_.front(); }

  // The k-th smallest difference, 1 <= k <= size(): the least double d with
  // at least k differences <= d, found by bisection over the doubles in
  // [Min(), Max()] in their order.
  double Kth(uint64_t k) const {
    int64_t low = Key(Min());
    int64_t high = Key(Max());
    while (low < high) {
      const int64_t mid = low + static_cast<int64_t>(
                                    (static_cast<uint64_t>(high) - static_cast<uint64_t>(low)) / 2);
      if (CountAtMost(FromKey(mid)) >= k) {
        high = mid;
      } else {
        low = mid + 1;
      }
    }
    return FromKey(low);
  }

  // Median of the differences: the mean of the middle two when size() is even.
  double Median() const {
    const uint64_t count = size();
    if (count % 2 == 1) return Kth(count / 2 + 1);
    return std::midpoint(Kth(count / 2), Kth(count / 2 + 1));
  }

 private:
  // Rounding is monotone, so x[i] - y[j] falls as j rises and rises with i.
  uint64_t CountAtMost(double d) const {
    uint64_t count = 0;
    size_t j = 0;
    for (double xi : x_) {
      while (j < y_.size() && xi - y_[j] > d) ++j;
      count += y_.size() - j;
    }
    return count;
  }

  // Maps doubles to integers in the same order (-0 and +0 both to 0).
  static int64_t Key(double value) {
    const auto bits = std::bit_cast<int64_t>(value);
    return bits >= 0 ? bits : -(bits & std::numeric_limits<int64_t>::max());
  }
  static double FromKey(int64_t key) {
    return key >= 0 ? std::bit_cast<double>(key)
                    : std::bit_cast<double>(-key | std::numeric_limits<int64_t>::min());
  }

  const std::vector<double>& x_;
  const std::vector<double>& y_;
};

// Null distribution of U for samples of n and m values without ties:
// counts[u] is the number of the (n + m choose n) orderings of the two
// samples in which U = u, for u in [0, n*m]. Built by additions only, so each
// count carries a relative error of at most a few units in the last place.
std::vector<double> ExactCounts(size_t n, size_t m) {
  const size_t small = std::min(n, m);
  const size_t large = std::max(n, m);
  const size_t width = small * large + 1;
  // ways[k * width + u]: orderings of the first positions holding k values of
  // the smaller sample, with U = u so far.
  std::vector<double> ways((small + 1) * width, 0.0);
  ways[0] = 1;
  for (size_t position = 0; position < small + large; ++position) {
    // A value of the smaller sample at `position`, after k others, exceeds
    // the position - k values of the larger sample placed before it.
    for (size_t k = std::min(position + 1, small); k-- > 0;) {
      const size_t below = position - k;
      if (below > large) continue;
      const double* from = &ways[k * width];
      double* to = &ways[(k + 1) * width + below];
      for (size_t u = 0; u <= k * below; ++u) to[u] += from[u];
    }
  }
  return {ways.begin() + static_cast<ptrdiff_t>(small * width), ways.end()};
}

// P(U <= q), or P(U > q) when !lower_tail, summing the shorter tail (R's pwilcox).
double ExactDistribution(const std::vector<double>& counts, double total, int64_t q,
                         bool lower_tail) {
  const auto top = static_cast<int64_t>(counts.size()) - 1;
  if (q < 0) return lower_tail ? 0 : 1;
  if (q >= top) return lower_tail ? 1 : 0;
  double p = 0;
  if (2 * q <= top) {
    for (int64_t u = 0; u <= q; ++u) p += counts[u] / total;
  } else {
    for (int64_t u = 0; u < top - q; ++u) p += counts[u] / total;
    lower_tail = !lower_tail;
  }
  return lower_tail ? p : 0.5 - p + 0.5;
}

// Least q with P(U <= q) >= p, for p <= 1/2 (R's qwilcox, with its fuzz).
int64_t ExactQuantile(const std::vector<double>& counts, double total, double p) {
  p -= 10 * std::numeric_limits<double>::epsilon();
  const auto top = static_cast<int64_t>(counts.size()) - 1;
  double cumulative = 0;
  int64_t q = 0;
  for (; q < top; ++q) {
    cumulative += counts[q] / total;
    if (cumulative >= p) break;
  }
  return q;
}

// One end of the normal-approximation interval: where the corrected score of
// (x - d, y) crosses zq as d rises (R's root(zq)). `at_min` and `at_max` are
// the scores at d = Min() and d = Max(); `sigma` is the deviation for shifts
// between differences, where only ties within a sample remain.
double IntervalEnd(const Differences& differences, double zq, double at_min, double at_max,
                   double sigma) {
  if (at_min - zq <= 0) return differences.Min();
  if (at_max - zq >= 0) return differences.Max();
  // With c differences <= d, U = n*m - c. The score falls as c rises; find
  // the least c at which it is at most zq. The crossing is the c-th difference.
  const uint64_t count = differences.size();
  const double mean = static_cast<double>(count) / 2;
  uint64_t low = 0;
  uint64_t high = count + 1;
  while (low < high) {
    const uint64_t mid = low + (high - low) / 2;
    if (Corrected(mean - static_cast<double>(mid), sigma) - zq <= 0) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return differences.Kth(std::clamp<uint64_t>(low, 1, count));
}

}  // namespace

Result<MannWhitneyResult> MannWhitney(std::span<const double> canary,
                                      std::span<const double> baseline, double confidence) {
  if (auto ok = CheckSize(canary, "canary"); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckSize(baseline, "baseline"); !ok) return std::unexpected(ok.error());
  if (!(confidence > 0 && confidence < 1)) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("confidence must be strictly between 0 and 1, got {}", confidence)));
  }
  if (auto ok = CheckFinite(canary, "canary"); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckFinite(baseline, "baseline"); !ok) return std::unexpected(ok.error());

  const std::vector<double> x = Sorted(canary);
  const std::vector<double> y = Sorted(baseline);
  const Differences differences(x, y);
  if (!std::isfinite(differences.Min()) || !std::isfinite(differences.Max())) {
    return std::unexpected(Error::InvalidArgument(
        "the canary and baseline values are too far apart: their differences overflow"));
  }

  const auto n = static_cast<double>(x.size());
  const auto m = static_cast<double>(y.size());
  const double alpha = 1 - confidence;
  const Ranking ranking = Rank(x, y, 0);

  MannWhitneyResult result;
  result.u = ranking.u;
  result.effect = differences.Median();
  result.exact = x.size() < kExactBelow && y.size() < kExactBelow && ranking.tie_term == 0;

  if (result.exact) {
    const std::vector<double> counts = ExactCounts(x.size(), y.size());
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    const auto u = static_cast<int64_t>(ranking.u);
    const double tail = ranking.u > n * m / 2 ? ExactDistribution(counts, total, u - 1, false)
                                              : ExactDistribution(counts, total, u, true);
    result.p_value = std::min(2 * tail, 1.0);
    const auto q = std::max<int64_t>(ExactQuantile(counts, total, alpha / 2), 1);
    result.ci_low = differences.Kth(static_cast<uint64_t>(q));
    result.ci_high = differences.Kth(differences.size() - static_cast<uint64_t>(q) + 1);
    return result;
  }

  const double sigma = Sigma(n, m, ranking.tie_term);
  if (sigma > 0) {
    const double z = Corrected(ranking.u - n * m / 2, sigma);
    result.p_value = std::min(2 * std::min(Phi(z), Phi(-z)), 1.0);
  }  // else every value is the same and p stays 1
  if (differences.Min() == differences.Max()) {
    result.ci_low = result.ci_high = differences.Min();
    return result;
  }
  const auto score_at = [&](double shift) {
    const Ranking shifted = Rank(x, y, shift);
    return Corrected(shifted.u - n * m / 2, Sigma(n, m, shifted.tie_term));
  };
  const double at_min = score_at(differences.Min());
  const double at_max = score_at(differences.Max());
  const double sigma_between = Sigma(n, m, TieTerm(x) + TieTerm(y));
  const double zq = -NormalQuantile(alpha / 2);
  result.ci_low = IntervalEnd(differences, zq, at_min, at_max, sigma_between);
  result.ci_high = IntervalEnd(differences, -zq, at_min, at_max, sigma_between);
  return result;
}

}  // namespace interlock::rollout
