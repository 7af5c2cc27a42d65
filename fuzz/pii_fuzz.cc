// Fuzzes the PII scanner (scan/pii.h) over arbitrary bytes:
//   - every finding lies inside the input, on one line (no '\n', no '"'),
//     with the line and column its offset has;
//   - full redaction is the input with each finding replaced by its token
//     and every other byte kept, so an input without findings comes out
//     unchanged, and a value found once in the input is not in the output;
//     hash redaction is the same with [LABEL:12 hex digits] tokens; partial
//     redaction of an input without findings is the input;
//   - the findings do not depend on how the input is cut into writes nor on
//     the piece size that long lines are scanned in.
//
// Input: byte 0 picks where to cut the rest into two writes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scan/pii.h"

namespace {

using namespace interlock::scan;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

PiiScanner Make(size_t piece, RedactMode mode = RedactMode::kFull) {
  PiiOptions options;
  options.min_confidence = Confidence::kLow;
  options.redact = mode;
  options.hash_key = "fuzz-key-0123456789";
  options.max_piece = piece;
  auto scanner = PiiScanner::Create(options);
  Check(scanner.has_value());
  return *scanner;
}

struct Run {
  std::vector<PiiFinding> findings;
  std::string output;
};

Run Stream(const PiiScanner& scanner, std::string_view text, size_t cut) {
  Run run;
  PiiStream stream(
      scanner, [&](const PiiFinding& f) { run.findings.push_back(f); },
      [&](std::string_view bytes) { run.output.append(bytes); });
  stream.Write(text.substr(0, cut));
  stream.Write(text.substr(cut));
  stream.Finish();
  return run;
}

bool Same(const std::vector<PiiFinding>& a, const std::vector<PiiFinding>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k].type != b[k].type || a[k].confidence != b[k].confidence || a[k].start != b[k].start ||
        a[k].end != b[k].end || a[k].line != b[k].line || a[k].column != b[k].column) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const PiiScanner big = Make(size_t{1} << 20);
  static const PiiScanner small = Make(4096);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t cut = text.empty() ? 0 : data[0] % (text.size() + 1);

  Run whole = Stream(big, text, text.size());
  uint64_t previous_end = 0;
  std::string rebuilt;
  for (const PiiFinding& f : whole.findings) {
    Check(f.start < f.end && f.end <= text.size() && f.start >= previous_end);
    std::string_view value = text.substr(f.start, f.end - f.start);
    Check(value.find('\n') == std::string_view::npos);
    Check(value.find('"') == std::string_view::npos);
    uint64_t line = 1, line_start = 0;
    for (size_t k = 0; k < f.start; ++k) {
      if (text[k] == '\n') {
        ++line;
        line_start = k + 1;
      }
    }
    Check(f.line == line && f.column == f.start - line_start + 1);
    rebuilt.append(text.substr(previous_end, f.start - previous_end));
    rebuilt += "[REDACTED:";
    rebuilt += PiiLabel(f.type);
    rebuilt += "]";
    previous_end = f.end;
  }
  rebuilt.append(text.substr(previous_end));
  Check(whole.output == rebuilt);
  if (whole.findings.empty()) Check(whole.output == text);
  for (const PiiFinding& f : whole.findings) {
    std::string_view value = text.substr(f.start, f.end - f.start);
    if (text.find(value) == f.start && text.find(value, f.start + 1) == std::string_view::npos) {
      Check(whole.output.find(value) == std::string::npos);
    }
  }

  // Hash tokens have a known shape; partial redaction keeps the bytes
  // between findings too.
  static const PiiScanner hash = Make(size_t{1} << 20, RedactMode::kHash);
  static const PiiScanner partial = Make(size_t{1} << 20, RedactMode::kPartial);
  Run hashed = Stream(hash, text, cut);
  Check(Same(hashed.findings, whole.findings));
  size_t out_at = 0;
  previous_end = 0;
  for (const PiiFinding& f : hashed.findings) {
    std::string_view gap = text.substr(previous_end, f.start - previous_end);
    Check(hashed.output.compare(out_at, gap.size(), gap) == 0);
    out_at += gap.size();
    std::string head = "[" + std::string(PiiLabel(f.type)) + ":";
    Check(hashed.output.compare(out_at, head.size(), head) == 0);
    out_at += head.size() + 12;
    Check(out_at < hashed.output.size() && hashed.output[out_at] == ']');
    ++out_at;
    previous_end = f.end;
  }
  Check(hashed.output.compare(out_at, std::string::npos, text.substr(previous_end)) == 0);
  Run partly = Stream(partial, text, cut);
  Check(Same(partly.findings, whole.findings));
  if (whole.findings.empty()) Check(partly.output == text);

  Run split = Stream(big, text, cut);
  Check(Same(split.findings, whole.findings) && split.output == whole.output);
  Run pieces = Stream(small, text, cut);
  Check(Same(pieces.findings, whole.findings) && pieces.output == whole.output);
  return 0;
}
