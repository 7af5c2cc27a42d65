// Fuzzes the audit event parser and checks the canonical form's promise: the
// canonical text of any accepted event parses again to the same bytes and the
// same fields, whatever `now` is.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audit/event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr interlock::UnixMillis kNow = 1705314600000;  // 2024-01-15T10:30:00Z
  auto event = interlock::audit::ParseEvent(text, kNow);
  if (!event) return 0;
  auto again = interlock::audit::ParseEvent(event->canonical, kNow + 1);
  if (!again || again->canonical != event->canonical || again->timestamp != event->timestamp ||
      again->event_type != event->event_type || again->actor_id != event->actor_id ||
      again->actor_type != event->actor_type || again->environment != event->environment ||
      again->classes != event->classes) {
    __builtin_trap();
  }
  return 0;
}
