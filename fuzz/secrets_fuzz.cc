// Fuzzes the secret scanner (scan/secrets.h) on arbitrary bytes: any input
// is scanned without a crash, in windows as small as 1 byte, and every
// finding has a line and column from 1, a 64-digit fingerprint, and a report
// that the JSON reader accepts.
//
// Input: byte 0 picks the window size (1 to 256 bytes, or the default);
// the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/json.h"
#include "core/memory_fs.h"
#include "core/process.h"
#include "scan/matcher.h"
#include "scan/secrets.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  interlock::MemoryFileSystem fs;
  Check(fs.WriteFile("f", std::string(reinterpret_cast<const char*>(data + 1), size - 1))
            .has_value());
  interlock::FakeProcessRunner processes;
  interlock::scan::SecretScanOptions options;
  options.paths = {"f"};
  options.key = "fuzz-key-0123456789";
  options.threads = 1;
  if (data[0] != 0) {
    options.window_size = data[0];
    options.overlap = 64;
  }
  // Compiled once: compiling the rules costs far more than a scan.
  static const auto matcher = std::move(
      interlock::scan::SecretMatcher::Compile(interlock::scan::DefaultSecretConfig()).value());
  auto report = interlock::scan::ScanSecrets(options, *matcher, fs, processes);
  Check(report.has_value());
  for (const auto& f : report->findings) {
    Check(f.line >= 1 && f.column >= 1);
    Check(f.fingerprint.size() == 64);
  }
  interlock::json::ParseOptions po;
  po.max_bytes = size_t{64} << 20;
  Check(interlock::json::Parse(interlock::scan::ReportJson(*report), po).has_value());
  Check(interlock::json::Parse(interlock::scan::ReportSarif(*report), po).has_value());
  return 0;
}
