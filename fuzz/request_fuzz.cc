// Fuzzes the request parser and, for requests that parse, the decision and
// its rendering against the default governance.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/memory_fs.h"
#include "decision/engine.h"
#include "decision/render.h"
#include "decision/request.h"
#include "governance/defaults.h"
#include "governance/loader.h"

namespace {

const interlock::governance::Governance& Defaults() {
  static const interlock::governance::Governance* g = [] {
    interlock::MemoryFileSystem fs;
    if (!interlock::governance::Scaffold(fs, "g", false)) __builtin_trap();
    auto loaded = interlock::governance::Load(fs, "g");
    if (!loaded) __builtin_trap();
    return new interlock::governance::Governance(std::move(*loaded));
  }();
  return *g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = interlock::decision::ParseRequest(text);
  if (!request) return 0;
  const auto& g = Defaults();
  if (!interlock::decision::CheckRequest(g, *request)) return 0;
  interlock::decision::Decision d;
  interlock::decision::Decide(g, *request, {}, &d);
  interlock::decision::RenderDecision(g, *request, {}, d, true);
  return 0;
}
