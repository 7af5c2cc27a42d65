// The labelled PII corpus (scan/corpus.h): prints precision and recall and
// holds both to at least 95 %; each miss and each false alarm is named.
#include <gtest/gtest.h>

#include <cstdio>

#include "scan/corpus.h"

namespace interlock::scan {
namespace {

TEST(PiiCorpusTest, PrecisionAndRecallReach95Percent) {
  auto score = ScorePiiCorpus();
  ASSERT_TRUE(score) << score.error().message();
  for (const std::string& problem : score->problems) ADD_FAILURE() << problem;
  std::printf("PII corpus: %zu true positives, %zu false positives, %zu missed\n",
              score->true_findings, score->false_findings, score->positives - score->detected);
  std::printf("PII corpus: precision %.1f %%, recall %.1f %%\n", 100 * score->Precision(),
              100 * score->Recall());
  EXPECT_GE(score->Precision(), 0.95);
  EXPECT_GE(score->Recall(), 0.95);
}

}  // namespace
}  // namespace interlock::scan
