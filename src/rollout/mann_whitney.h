// The Mann-Whitney U test (Wilcoxon rank-sum test) that canary analysis uses
// to judge whether a canary's samples of one metric sit higher or lower than
// the baseline's, and by how much. The numbers are those of R's
//
//   wilcox.test(x = canary, y = baseline, conf.int = TRUE,
//               conf.level = confidence, correct = TRUE)
//
// except where noted below, so that any result can be checked against R.
//
// Method.
//   U is the rank-sum statistic of the canary sample (R's W): the number of
//   (canary, baseline) pairs with canary > baseline, a tie counting 1/2.
//   The "pairwise differences" are canary[i] - baseline[j] over all n*m pairs,
//   and D(k) is the k-th smallest of them (k from 1).
//
//   Exact (both samples hold fewer than 50 values and no value occurs twice
//   in the two samples together):
//     p = min(1, 2 * min(P(U' <= U), P(U' >= U))) under the exact null
//     distribution of U'. With q the alpha/2 quantile of that distribution
//     (alpha = 1 - confidence; q = 1 when the quantile is 0), the interval is
//     [D(q), D(n*m - q + 1)]. For very small samples that interval may cover
//     less than `confidence` (R warns "Requested conf.level not achievable");
//     it is then [D(1), D(n*m)].
//   Normal approximation (otherwise): z = (U - n*m/2 - sign(U - n*m/2)/2) / sigma,
//     sigma with the correction for ties, and p = 2 * min(Phi(z), 1 - Phi(z)).
//     R finds each end of the interval with uniroot() on the shift d: the
//     point where the continuity-corrected statistic of (canary - d, baseline)
//     crosses the normal quantile. That statistic is a step function of d
//     that steps only at pairwise differences, so the crossing is one of
//     them, and this function returns that D(k) exactly. R's uniroot() stops
//     within its absolute tolerance (tol.root, 1e-4 by default) of the same
//     point: R's ends agree with these to 1e-4, and to ~1e-10 when called
//     with tol.root = 1e-12.
//
//   `effect` is always the Hodges-Lehmann estimate, the median of the
//   pairwise differences (the mean of the middle two when n*m is even). In
//   the exact case that is R's estimate. Under the normal approximation R
//   instead reports a root found by uniroot() of the uncorrected statistic,
//   which lies within its tolerance of the same median when n*m is odd or
//   the middle two differences are equal, and otherwise anywhere between
//   those two.
//
//   Where R has no answer this function gives one: when every value in both
//   samples is the same, p = 1 (R: NaN) and the interval is [0, 0]; when
//   every pairwise difference is the same value D, the interval is [D, D]
//   (R warns "cannot compute confidence interval when all observations are
//   tied" and gives an interval of no use).
//
// Limits. Each sample holds 1 to kMannWhitneyMaxSampleSize values. The work
// is O((n + m) log(n + m)) time and O(n + m) memory, plus, for the exact
// distribution, O(n * m * min(n, m)) time and O(n * m * min(n, m)) memory
// (under 1 MB, as both are below 50). Pairwise differences are never stored.
//
// Thread safety: a pure function of its arguments; safe to call concurrently.
#pragma once

#include <cstddef>
#include <span>

#include "core/status.h"

namespace interlock::rollout {

// The most values either sample may hold.
inline constexpr size_t kMannWhitneyMaxSampleSize = 5000;

struct MannWhitneyResult {
  // U statistic of the canary sample: the number of pairs with
  // canary > baseline, each tie counting 1/2. In [0, n*m]; n*m/2 when the two
  // samples are alike.
  double u = 0;
  // Two-sided p-value of the hypothesis that the two samples come from the
  // same distribution. In [0, 1]; 0 only when it underflows.
  double p_value = 1;
  // Hodges-Lehmann estimate of the shift canary - baseline: the median of the
  // pairwise differences. Positive when the canary's values are higher.
  double effect = 0;
  // Confidence interval of that shift at the requested confidence, each end a
  // pairwise difference; ci_low <= effect <= ci_high.
  double ci_low = 0;
  double ci_high = 0;
  // Whether p_value and the interval come from the exact distribution of U
  // (true) or from the normal approximation (false).
  bool exact = false;
};

// Compares `canary` with `baseline`; neither span is kept after the call.
// `confidence` is the coverage of the interval, e.g. 0.95.
//
// Fails with kInvalidArgument, naming the first problem in this order, when:
// a sample is empty ("the canary sample is empty; at least 1 value is
// needed") or holds more than kMannWhitneyMaxSampleSize values ("the baseline
// sample has 5001 values; at most 5000 are allowed"); `confidence` is not
// strictly between 0 and 1 ("confidence must be strictly between 0 and 1,
// got 1"); a value is NaN or infinite ("canary value at index 3 is not
// finite: nan"), canary before baseline; the two samples are so far apart
// that a difference overflows a double ("the canary and baseline values are
// too far apart: their differences overflow").
Result<MannWhitneyResult> MannWhitney(std::span<const double> canary,
                                      std::span<const double> baseline, double confidence);

}  // namespace interlock::rollout
