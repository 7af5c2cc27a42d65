// Fuzzes the one JSON reader (core/json.h): any bytes either parse or are
// refused with a message, and an accepted document written out again parses
// to the same document and the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace interlock::json;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseOptions options{.subject = "fuzz", .max_depth = 64, .require_object = false};
  auto document = Parse(text, options);
  if (!document) {
    if (document.error().message().empty()) __builtin_trap();
    return 0;
  }
  std::string once;
  AppendJson(&once, document->root());
  auto again = Parse(once, options);
  if (!again || !Equal(document->root(), again->root())) __builtin_trap();
  std::string twice;
  AppendJson(&twice, again->root());
  if (twice != once) __builtin_trap();
  // A top-level object read field by field never fails on a known field set.
  if (document->root().is_object()) {
    constexpr std::string_view kAllowed[] = {"a", "b"};
    auto object = ReadObject(text, kAllowed, options);
    if (object) {
      (void)object->fields.OptionalString("a");
      (void)object->fields.OptionalStringArray("b");
    }
  }
  return 0;
}
