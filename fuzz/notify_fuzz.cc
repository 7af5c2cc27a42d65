// Fuzzes the notification side's readers: the delivery settings file (YAML,
// checked against the default governance), a stored outbox message (what
// reads back must write back the same) and an emergency stop's scope.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/memory_fs.h"
#include "governance/defaults.h"
#include "governance/loader.h"
#include "notify/delivery.h"
#include "notify/outbox.h"
#include "safety/stop.h"

namespace {

const interlock::governance::Governance& Defaults() {
  static const interlock::governance::Governance* g = [] {
    static interlock::MemoryFileSystem fs;
    if (!interlock::governance::Scaffold(fs, "/g", false)) std::abort();
    auto loaded = interlock::governance::Load(fs, "/g");
    if (!loaded) std::abort();
    return new interlock::governance::Governance(std::move(*loaded));
  }();
  return *g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static interlock::MemoryFileSystem fs;
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name.empty() || name[0] == 'X') return std::nullopt;
    return "secret-of-" + name;
  };
  auto delivery = interlock::notify::ParseDelivery("delivery.yaml", text, Defaults(), fs, env);
  if (!delivery && delivery.error().message().find("delivery.yaml:") != 0) __builtin_trap();

  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  if (auto m = interlock::notify::FromJson(j)) {
    nlohmann::json written = interlock::notify::ToJson(*m);
    auto again = interlock::notify::FromJson(written);
    if (!again || interlock::notify::ToJson(*again) != written) __builtin_trap();
    // Every body renders, whatever the stored text.
    (void)interlock::notify::SlackBody(*m);
    (void)interlock::notify::PagerDutyBody(*m, "key");
    (void)interlock::notify::WebhookBody(*m);
  }
  nlohmann::ordered_json o = nlohmann::ordered_json::parse(text, nullptr, false);
  if (auto scope = interlock::safety::Scope::FromJson(Defaults(), o)) {
    auto back = interlock::safety::Scope::FromKey(scope->Key());
    if (!back || !(*back == *scope)) __builtin_trap();
    auto again = interlock::safety::Scope::FromJson(Defaults(), scope->ToJson());
    if (!again || !(*again == *scope)) __builtin_trap();
  }
  return 0;
}
