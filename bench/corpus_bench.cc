// Precision and recall of both scanners over their labelled corpora
// (src/scan/corpus.h, the data the tests hold to 95 %), one line each, then
// each miss and false alarm. A line reads: the scanner, the samples
// scanned, the labelled values among them, those detected, the findings
// (true and false), precision and recall.
//
// Exits 1 if either score is below 95 %.
#include <cstdio>

#include "scan/corpus.h"

namespace {

bool Print(const char* name, const interlock::Result<interlock::scan::CorpusScore>& score) {
  if (!score) {
    std::fprintf(stderr, "%s: %s\n", name, score.error().message().c_str());
    return false;
  }
  std::printf(
      "%-8s samples %zu  labelled %zu  detected %zu  findings %zu (true %zu, false %zu)  "
      "precision %.1f %%  recall %.1f %%\n",
      name, score->samples, score->positives, score->detected,
      score->true_findings + score->false_findings, score->true_findings, score->false_findings,
      100 * score->Precision(), 100 * score->Recall());
  for (const std::string& problem : score->problems)
    std::printf("  %s: %s\n", name, problem.c_str());
  return score->Precision() >= 0.95 && score->Recall() >= 0.95;
}

}  // namespace

int main() {
  bool secrets = Print("secrets", interlock::scan::ScoreSecretCorpus());
  bool pii = Print("pii", interlock::scan::ScorePiiCorpus());
  return secrets && pii ? 0 : 1;
}
