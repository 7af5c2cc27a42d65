// Fuzzes the compliance readers: a policy document's review facts, and the
// stored evidence rows. Whatever evidence is accepted must write back to a
// form that reads back to the same thing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "app/evidence.h"
#include "compliance/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  interlock::compliance::PolicyFact p = interlock::compliance::ReadPolicy("policies/f.md", text);
  if (p.next_review.has_value() == !p.problem.empty()) __builtin_trap();
  if (auto a = interlock::app::AttestationFromJson(text)) {
    std::string written = interlock::app::AttestationJson(*a).dump();
    auto again = interlock::app::AttestationFromJson(written);
    if (!again || interlock::app::AttestationJson(*again).dump() != written) __builtin_trap();
  }
  return 0;
}
