// The labelled secret corpus (scan/corpus.h): prints precision and recall
// and holds both to at least 95 %, names each miss and false alarm, and
// checks that every built-in rule has a detected sample.
#include "scan/corpus.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "scan/secrets.h"

namespace interlock::scan {
namespace {

TEST(SecretCorpusTest, PrecisionAndRecallAreAtLeast95Percent) {
  auto score = ScoreSecretCorpus();
  ASSERT_TRUE(score) << score.error().message();
  for (const std::string& problem : score->problems) ADD_FAILURE() << problem;
  std::printf("secret corpus: %zu samples, %zu secrets; precision %.1f%%, recall %.1f%%\n",
              score->samples, score->positives, 100 * score->Precision(), 100 * score->Recall());
  EXPECT_GE(score->Precision(), 0.95);
  EXPECT_GE(score->Recall(), 0.95);
  // Every built-in rule has a true sample.
  for (const SecretRule& rule : DefaultSecretConfig().rules) {
    EXPECT_TRUE(score->rules_detected.count(rule.id)) << "no detected sample for " << rule.id;
  }
}

}  // namespace
}  // namespace interlock::scan
