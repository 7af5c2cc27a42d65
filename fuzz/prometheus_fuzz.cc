// Fuzzes the Prometheus source's readers (rollout/prometheus.h): any bytes,
// as an answer of any status, give a reading with a finite value or a short
// reason; and as a query template, they are accepted or refused with a
// message, and expand so that no value, however hostile, changes the
// PromQL around it: the expansion with hostile values has exactly the
// code, string literals and comments of the one with harmless values.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "governance/query_template.h"
#include "rollout/prometheus.h"

namespace {

using interlock::governance::CheckQueryTemplate;
using interlock::governance::ExpandQuery;
using interlock::governance::QueryContext;
using interlock::rollout::ParseInstantQuery;
using interlock::rollout::Reading;
using interlock::rollout::ReadingStatus;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckReading(const Reading& reading) {
  if (reading.status == ReadingStatus::kValue) {
    Check(std::isfinite(reading.value));
    Check(reading.detail.empty());
    return;
  }
  Check(reading.status == ReadingStatus::kNoData || reading.status == ReadingStatus::kError);
  Check(!reading.detail.empty());
  Check(reading.detail.size() < 1024);
}

// `promql` as PromQL's lexer splits it: code as written, each string
// literal as S and each comment as C, so that two texts with the same
// shape differ only inside their literals.
std::string Shape(std::string_view promql) {
  std::string out;
  size_t at = 0;
  while (at < promql.size()) {
    char c = promql[at];
    if (c == '"' || c == '\'' || c == '`') {
      ++at;
      while (at < promql.size() && promql[at] != c) {
        at += c != '`' && promql[at] == '\\' ? 2 : 1;
      }
      ++at;
      out += 'S';
    } else if (c == '#') {
      while (at < promql.size() && promql[at] != '\n') ++at;
      out += 'C';
    } else {
      out += c;
      ++at;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  CheckReading(ParseInstantQuery(200, text));
  CheckReading(ParseInstantQuery(422, text));

  auto checked = CheckQueryTemplate(text);
  if (!checked) Check(checked.error().message().starts_with("query template: "));

  const QueryContext harmless{.service = "s",
                              .version = "v",
                              .baseline_version = "b",
                              .environment = "e",
                              .window_ms = 300000};
  const QueryContext hostile{.service = "\"} or vector(1) #",
                             .version = "' or vector(1) #\n",
                             .baseline_version = std::string("\\\0`\r{{version}}\\", 16),
                             .environment = "\\",
                             .window_ms = 300000};
  std::string plain = ExpandQuery(text, harmless);
  Check(Shape(ExpandQuery(text, hostile)) == Shape(plain));
  // An accepted template has no "{{" left once expanded with values
  // without braces.
  if (checked) Check(plain.find("{{") == std::string::npos);
  return 0;
}
