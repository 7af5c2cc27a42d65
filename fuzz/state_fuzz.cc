// Fuzzes the readers of stored state (what the database holds): approval
// requests, the emergency stop and rollouts. Whatever is accepted must write back to
// a form that reads back to the same thing.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "rollout/rollout.h"
#include "safety/stop.h"
#include "workflow/approval.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  if (auto a = interlock::workflow::FromJson(j)) {
    nlohmann::json written = interlock::workflow::ToJson(*a);
    auto again = interlock::workflow::FromJson(written);
    if (!again || interlock::workflow::ToJson(*again) != written) __builtin_trap();
  }
  nlohmann::ordered_json o = nlohmann::ordered_json::parse(text, nullptr, false);
  if (auto s = interlock::safety::StopState::FromJson(o)) {
    nlohmann::ordered_json written = s->ToJson();
    auto again = interlock::safety::StopState::FromJson(written);
    if (!again || again->ToJson() != written) __builtin_trap();
  }
  if (auto r = interlock::rollout::RolloutFromJson(text)) {
    std::string written = interlock::rollout::ToJson(*r).dump();
    auto again = interlock::rollout::RolloutFromJson(written);
    if (!again || interlock::rollout::ToJson(*again).dump() != written) __builtin_trap();
  }
  return 0;
}
