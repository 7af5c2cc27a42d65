#include "compliance/result.h"

#include <gtest/gtest.h>

namespace interlock::compliance {
namespace {

TEST(ComplianceCounts, WaivedAndNotApplicableDoNotFailARun) {
  Counts counts;
  counts.Add(Outcome::kPass);
  counts.Add(Outcome::kWaived);
  counts.Add(Outcome::kNotApplicable);
  EXPECT_TRUE(counts.Passed());
  EXPECT_EQ(counts.Total(), 3);
  counts.Add(Outcome::kError);
  EXPECT_FALSE(counts.Passed());
  EXPECT_EQ(counts.Of(Outcome::kError), 1);
}

TEST(ComplianceCounts, AFailFailsTheRun) {
  Counts counts;
  counts.Add(Outcome::kFail);
  EXPECT_FALSE(counts.Passed());
  EXPECT_EQ(OutcomeName(Outcome::kNotApplicable), "not_applicable");
}

}  // namespace
}  // namespace interlock::compliance
