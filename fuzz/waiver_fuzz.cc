// Fuzzes the readers of waivers and drill records: a waiver request checked
// against the default catalogue (compliance/waiver.h), a drill's
// documentation (compliance/drill.h), and their stored rows (app/waivers.h,
// app/drills.h). Any bytes are refused with a message naming what is wrong,
// or read into a value within its bounds; a stored row that is accepted
// writes back to a form that reads back to the same thing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/drills.h"
#include "app/waivers.h"
#include "compliance/drill.h"
#include "compliance/waiver.h"
#include "core/memory_fs.h"
#include "governance/defaults.h"
#include "governance/loader.h"

namespace {

constexpr interlock::UnixMillis kNow = 1'796'083'200'000;  // 2026-12-01T00:00:00Z

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

const interlock::governance::Governance& Defaults() {
  static const interlock::governance::Governance* g = [] {
    interlock::MemoryFileSystem fs;
    Check(interlock::governance::Scaffold(fs, "g", false).has_value());
    auto loaded = interlock::governance::Load(fs, "g");
    Check(loaded.has_value());
    return new interlock::governance::Governance(std::move(*loaded));
  }();
  return *g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto w = interlock::compliance::ParseWaiverRequest(Defaults(), text, kNow);
  if (w) {
    Check(Defaults().compliance.FindControl(w->control) != nullptr);
    Check(w->expires > kNow && w->expires - kNow <= interlock::compliance::kMaxWaiverMs);
    Check(!w->justification.empty() &&
          w->justification.size() <= interlock::compliance::kMaxJustificationBytes);
  } else {
    Check(!w.error().message().empty());
  }
  if (auto row = interlock::app::WaiverFromJson(text)) {
    std::string written = interlock::app::WaiverJson(*row).dump();
    auto again = interlock::app::WaiverFromJson(written);
    Check(again.has_value() && interlock::app::WaiverJson(*again).dump() == written);
  }
  auto report = interlock::compliance::ParseDrillReport(text);
  if (report) {
    Check(!report->scenario.empty() && report->issues.size() <= 32);
    Check(report->passed && report->issues.empty() ? true : !report->remediation.empty());
  } else {
    Check(!report.error().message().empty());
  }
  if (auto row = interlock::app::DrillRecordFromJson(text)) {
    std::string written = interlock::app::DrillRecordJson(*row).dump();
    auto again = interlock::app::DrillRecordFromJson(written);
    Check(again.has_value() && interlock::app::DrillRecordJson(*again).dump() == written);
  }
  return 0;
}
