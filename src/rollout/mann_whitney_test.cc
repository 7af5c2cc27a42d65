#include "rollout/mann_whitney.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

namespace interlock::rollout {
namespace {

// Expected values below come from R 4.2.2 (stats::wilcox.test), printed with
// sprintf("%.17g"). For cases under the normal approximation R's interval ends
// are found by uniroot() to within tol.root, so those calls pass
// tol.root = 1e-12 and the ends are compared to within 1e-11; the default
// tol.root = 1e-4 gives the same ends to within 1e-4.

// p-values are compared relative to their size, as they can be tiny.
void ExpectPValue(double actual, double expected) {
  EXPECT_NEAR(actual, expected, expected * 1e-12);
}

MannWhitneyResult Compare(std::span<const double> canary, std::span<const double> baseline,
                          double confidence) {
  auto result = MannWhitney(canary, baseline, confidence);
  EXPECT_TRUE(result.has_value()) << result.error().message();
  return result.value_or(MannWhitneyResult{});
}

TEST(MannWhitneyTest, MatchesRExactOnTextbookCase) {
  // Hollander & Wolfe (1973), p. 69: permeability constants of the human
  // chorioamnion, at term (x) and 12-26 weeks (y); the example of ?wilcox.test.
  // R 4.2.2: wilcox.test(c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64,
  //   0.73, 1.46), c(1.15, 0.88, 0.90, 0.74, 1.21), conf.int=TRUE)
  // W = 35, p-value = 0.2544122544122544, estimate 0.30500000000000005,
  // conf.int -0.15000000000000002 0.7599999999999999
  const std::vector<double> at_term = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
  const std::vector<double> early = {1.15, 0.88, 0.90, 0.74, 1.21};
  const MannWhitneyResult r = Compare(at_term, early, 0.95);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.u, 35);
  ExpectPValue(r.p_value, 0.2544122544122544);
  EXPECT_DOUBLE_EQ(r.effect, 0.30500000000000005);
  EXPECT_DOUBLE_EQ(r.ci_low, -0.15000000000000002);
  EXPECT_DOUBLE_EQ(r.ci_high, 0.7599999999999999);
}

TEST(MannWhitneyTest, MatchesRExactOnSmallLatencySamples) {
  // R 4.2.2: wilcox.test(c(212.4, 198.7, 240.1, 225.3, 219.9, 231.6, 208.2),
  //   c(201.5, 190.2, 205.8, 199.3, 210.7, 194.4), conf.int=TRUE, conf.level=0.98)
  // W = 37, p-value = 0.022144522144522144, estimate 18.950000000000003,
  // conf.int -0.60000000000002274 38.599999999999994
  const std::vector<double> canary = {212.4, 198.7, 240.1, 225.3, 219.9, 231.6, 208.2};
  const std::vector<double> baseline = {201.5, 190.2, 205.8, 199.3, 210.7, 194.4};
  const MannWhitneyResult r = Compare(canary, baseline, 0.98);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.u, 37);
  ExpectPValue(r.p_value, 0.022144522144522144);
  EXPECT_DOUBLE_EQ(r.effect, 18.950000000000003);
  EXPECT_DOUBLE_EQ(r.ci_low, -0.60000000000002274);
  EXPECT_DOUBLE_EQ(r.ci_high, 38.599999999999994);
}

TEST(MannWhitneyTest, SmallSamplesGetTheWidestIntervalWhenTheConfidenceIsOutOfReach) {
  // With 3 values each the exact test cannot reach 95%: the interval is every
  // difference.
  // R 4.2.2: wilcox.test(c(1, 2, 3), c(4, 5, 6), conf.int=TRUE)
  // W = 0, p-value = 0.10000000000000001, estimate -3, conf.int -5 -1,
  // warning "Requested conf.level not achievable"
  const std::vector<double> canary = {1, 2, 3};
  const std::vector<double> baseline = {4, 5, 6};
  const MannWhitneyResult r = Compare(canary, baseline, 0.95);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.u, 0);
  ExpectPValue(r.p_value, 0.10000000000000001);
  EXPECT_EQ(r.effect, -3);
  EXPECT_EQ(r.ci_low, -5);
  EXPECT_EQ(r.ci_high, -1);
}

TEST(MannWhitneyTest, SingleValuesCompareExactly) {
  // R 4.2.2: wilcox.test(5, 2, conf.int=TRUE)
  // W = 1, p-value = 1, estimate 3, conf.int 3 3
  const std::vector<double> canary = {5};
  const std::vector<double> baseline = {2};
  const MannWhitneyResult r = Compare(canary, baseline, 0.95);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.u, 1);
  EXPECT_EQ(r.p_value, 1);
  EXPECT_EQ(r.effect, 3);
  EXPECT_EQ(r.ci_low, 3);
  EXPECT_EQ(r.ci_high, 3);
}

TEST(MannWhitneyTest, TiesUseTheNormalApproximation) {
  // Error counts per minute.
  // R 4.2.2: wilcox.test(c(0, 1, 0, 2, 3, 1, 4, 2, 1, 0, 3, 2),
  //   c(0, 0, 1, 0, 1, 0, 2, 0, 1, 1, 0), conf.int=TRUE, tol.root=1e-12)
  // W = 97.5, p-value = 0.045212218586602002, estimate 0.9999999999998721,
  // conf.int -2.7775192296819178e-13 2.0000000000001954;
  // median(outer(x, y, "-")) = 1
  const std::vector<double> canary = {0, 1, 0, 2, 3, 1, 4, 2, 1, 0, 3, 2};
  const std::vector<double> baseline = {0, 0, 1, 0, 1, 0, 2, 0, 1, 1, 0};
  const MannWhitneyResult r = Compare(canary, baseline, 0.95);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u, 97.5);
  ExpectPValue(r.p_value, 0.045212218586602002);
  EXPECT_EQ(r.effect, 1);
  EXPECT_NEAR(r.ci_low, -2.7775192296819178e-13, 1e-11);
  EXPECT_NEAR(r.ci_high, 2.0000000000001954, 1e-11);
}

TEST(MannWhitneyTest, IntervalIsExactForSmallMagnitudes) {
  // Error ratios. R's default tol.root = 1e-4 is absolute, so at this scale
  // its default interval, [0.0001180989468741884, 0.00083492632934341533],
  // is far from the pairwise differences it approximates; with a finer
  // tolerance it finds them.
  // R 4.2.2: wilcox.test(c(0.0012, 0.0015, 0.0012, 0.0020, 0.0018, 0.0015,
  //   0.0031, 0.0012), c(0.0010, 0.0012, 0.0009, 0.0010, 0.0014, 0.0012,
  //   0.0011), conf.int=TRUE, conf.level=0.9, tol.root=1e-12)
  // W = 50, p-value = 0.011132734111698255,
  // conf.int 0.00010000000075836552 0.00080000000019669383;
  // median(outer(x, y, "-")) = 0.00039999999999999996
  const std::vector<double> canary = {0.0012, 0.0015, 0.0012, 0.0020,
                                      0.0018, 0.0015, 0.0031, 0.0012};
  const std::vector<double> baseline = {0.0010, 0.0012, 0.0009, 0.0010, 0.0014, 0.0012, 0.0011};
  const MannWhitneyResult r = Compare(canary, baseline, 0.9);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u, 50);
  ExpectPValue(r.p_value, 0.011132734111698255);
  EXPECT_DOUBLE_EQ(r.effect, 0.00039999999999999996);
  EXPECT_NEAR(r.ci_low, 0.0001, 1e-17);
  EXPECT_NEAR(r.ci_high, 0.0008, 1e-17);
  EXPECT_NEAR(r.ci_low, 0.00010000000075836552, 1e-11);
  EXPECT_NEAR(r.ci_high, 0.00080000000019669383, 1e-11);
}

TEST(MannWhitneyTest, LargeSamplesWithAClearShift) {
  // 60 baseline and 55 canary latencies, 12 ms apart at the centre; all
  // distinct, so only the size calls for the normal approximation.
  // R 4.2.2: i <- 0:59; k <- 0:54
  //   wilcox.test(112.1 + ((k * 53) %% 103) * 0.25, 100 + ((i * 37) %% 101) * 0.25,
  //     conf.int=TRUE, tol.root=1e-12)
  // W = 2802, p-value = 1.139637574622949e-10,
  // conf.int 8.5999999999995218 14.3499999999993;
  // median(outer(x, y, "-")) = 11.349999999999994
  std::vector<double> baseline;
  for (int i = 0; i < 60; ++i) baseline.push_back(100 + ((i * 37) % 101) * 0.25);
  std::vector<double> canary;
  for (int k = 0; k < 55; ++k) canary.push_back(112.1 + ((k * 53) % 103) * 0.25);
  const MannWhitneyResult r = Compare(canary, baseline, 0.95);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u, 2802);
  ExpectPValue(r.p_value, 1.139637574622949e-10);
  EXPECT_DOUBLE_EQ(r.effect, 11.349999999999994);
  EXPECT_NEAR(r.ci_low, 8.5999999999995218, 1e-11);
  EXPECT_NEAR(r.ci_high, 14.3499999999993, 1e-11);
  EXPECT_GT(r.ci_low, 0);
}

TEST(MannWhitneyTest, IdenticalSamplesShowNoDifference) {
  // R 4.2.2: wilcox.test(c(12.5, 13, 14.25, 15, 18), c(12.5, 13, 14.25, 15, 18),
  //   conf.int=TRUE, tol.root=1e-12)
  // W = 12.5, p-value = 1, estimate 0, conf.int -3.749999999999913 3.749999999999913
  const std::vector<double> values = {12.5, 13, 14.25, 15, 18};
  const MannWhitneyResult r = Compare(values, values, 0.95);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u, 12.5);
  EXPECT_EQ(r.p_value, 1);
  EXPECT_EQ(r.effect, 0);
  EXPECT_NEAR(r.ci_low, -3.749999999999913, 1e-11);
  EXPECT_NEAR(r.ci_high, 3.749999999999913, 1e-11);
}

TEST(MannWhitneyTest, SwappingTheSamplesMirrorsTheResult) {
  const std::vector<double> a = {3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9, 5.0};
  const std::vector<double> b = {2.5, 3.3, 1.9, 4.1, 2.8, 3.6, 3.0};
  for (double confidence : {0.8, 0.95, 0.99}) {
    const MannWhitneyResult forward = Compare(a, b, confidence);
    const MannWhitneyResult backward = Compare(b, a, confidence);
    EXPECT_EQ(forward.u + backward.u, a.size() * b.size());
    EXPECT_DOUBLE_EQ(forward.p_value, backward.p_value);
    EXPECT_DOUBLE_EQ(forward.effect, -backward.effect);
    EXPECT_DOUBLE_EQ(forward.ci_low, -backward.ci_high);
    EXPECT_DOUBLE_EQ(forward.ci_high, -backward.ci_low);
    EXPECT_LE(forward.ci_low, forward.effect);
    EXPECT_LE(forward.effect, forward.ci_high);
  }
}

TEST(MannWhitneyTest, OneRepeatedValueEverywhereShowsNoDifference) {
  // R gives a p-value of NaN here and no usable interval; a metric that is 0
  // in every sample of both is simply unchanged.
  const std::vector<double> canary = {0, 0, 0, 0};
  const std::vector<double> baseline = {0, 0, 0};
  const MannWhitneyResult r = Compare(canary, baseline, 0.95);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u, 6);
  EXPECT_EQ(r.p_value, 1);
  EXPECT_EQ(r.effect, 0);
  EXPECT_EQ(r.ci_low, 0);
  EXPECT_EQ(r.ci_high, 0);
}

TEST(MannWhitneyTest, TwoConstantSamplesGiveAPointInterval) {
  // R 4.2.2: wilcox.test(c(2, 2, 2), c(1, 1), conf.int=TRUE): W = 6,
  // p-value = 0.095580704545629405; R warns "cannot compute confidence
  // interval when all observations are tied" and then fails.
  const std::vector<double> canary = {2, 2, 2};
  const std::vector<double> baseline = {1, 1};
  const MannWhitneyResult r = Compare(canary, baseline, 0.95);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.u, 6);
  ExpectPValue(r.p_value, 0.095580704545629405);
  EXPECT_EQ(r.effect, 1);
  EXPECT_EQ(r.ci_low, 1);
  EXPECT_EQ(r.ci_high, 1);
}

TEST(MannWhitneyTest, AcceptsTheLargestSamplesAllowed) {
  std::vector<double> canary;
  std::vector<double> baseline;
  for (size_t i = 0; i < kMannWhitneyMaxSampleSize; ++i) {
    baseline.push_back(static_cast<double>((i * 7919) % 10007));
    canary.push_back(static_cast<double>((i * 104729) % 10009) + 5000);
  }
  const MannWhitneyResult r = Compare(canary, baseline, 0.99);
  EXPECT_FALSE(r.exact);
  EXPECT_LT(r.p_value, 1e-100);
  EXPECT_LT(r.ci_low, r.effect);
  EXPECT_GT(r.ci_low, 0);
  EXPECT_LT(r.effect, r.ci_high);
}

TEST(MannWhitneyTest, RejectsBadInputWithClearErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const double big = std::numeric_limits<double>::max();
  const std::vector<double> some = {1, 2, 3};
  const std::vector<double> none;
  const std::vector<double> too_many(kMannWhitneyMaxSampleSize + 1, 1.0);
  const std::vector<double> with_nan = {1, 2, 3, nan};
  const std::vector<double> with_inf = {inf, 2};
  const std::vector<double> with_minus_inf = {1, -inf};
  const std::vector<double> huge = {big};
  const std::vector<double> minus_huge = {-big};
  struct Case {
    std::span<const double> canary;
    std::span<const double> baseline;
    double confidence;
    std::string_view message;
  };
  const Case cases[] = {
      {none, some, 0.95, "the canary sample is empty; at least 1 value is needed"},
      {some, none, 0.95, "the baseline sample is empty; at least 1 value is needed"},
      {too_many, some, 0.95, "the canary sample has 5001 values; at most 5000 are allowed"},
      {some, too_many, 0.95, "the baseline sample has 5001 values; at most 5000 are allowed"},
      {some, some, 0, "confidence must be strictly between 0 and 1, got 0"},
      {some, some, 1, "confidence must be strictly between 0 and 1, got 1"},
      {some, some, -0.5, "confidence must be strictly between 0 and 1, got -0.5"},
      {some, some, nan, "confidence must be strictly between 0 and 1, got nan"},
      {with_nan, some, 0.95, "canary value at index 3 is not finite: nan"},
      {some, with_inf, 0.95, "baseline value at index 0 is not finite: inf"},
      {some, with_minus_inf, 0.95, "baseline value at index 1 is not finite: -inf"},
      {with_nan, with_inf, 0.95, "canary value at index 3 is not finite: nan"},
      {none, with_nan, 2, "the canary sample is empty; at least 1 value is needed"},
      {huge, minus_huge, 0.95,
       "the canary and baseline values are too far apart: their differences overflow"},
  };
  for (const Case& c : cases) {
    auto result = MannWhitney(c.canary, c.baseline, c.confidence);
    ASSERT_FALSE(result.has_value()) << c.message;
    EXPECT_EQ(result.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(result.error().message(), c.message);
  }
}

}  // namespace
}  // namespace interlock::rollout
