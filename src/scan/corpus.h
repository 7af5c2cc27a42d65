// The labelled corpora the scanners' precision and recall are measured on:
// for secrets, a true sample for every built-in rule (made from pieces with
// a fixed seed, so no real-looking key is stored) and clean look-alikes;
// for PII, log lines holding values of every type and lines of look-alikes
// holding none. The tests hold both scores to at least 95 % and
// bench/corpus_bench prints them; both read the corpora from here, the one
// place they are written down.
//
// Each function builds its corpus, scans it with the default configuration
// and scores the findings; it is deterministic and safe to call from any
// thread.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace interlock::scan {

struct CorpusScore {
  size_t samples = 0;                    // inputs scanned (files or lines), clean ones included
  size_t positives = 0;                  // labelled secrets or PII values
  size_t detected = 0;                   // labelled ones found (with the right rule or type)
  size_t true_findings = 0;              // findings that name a labelled one
  size_t false_findings = 0;             // findings that do not
  std::vector<std::string> problems;     // one sentence per miss and per false alarm
  std::set<std::string> rules_detected;  // secret corpus: the rule ids with a detected sample

  // true_findings / (true_findings + false_findings); 1 when nothing was found.
  double Precision() const;
  // detected / positives; 1 when there is nothing to find.
  double Recall() const;
};

// Fails only if the scanner cannot be set up (it never does with the
// built-in rules).
Result<CorpusScore> ScoreSecretCorpus();
Result<CorpusScore> ScorePiiCorpus();

}  // namespace interlock::scan
