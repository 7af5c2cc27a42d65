// Fuzzes the reader of gitleaks TOML rule files (scan/rules.h) and the
// compilation of what it reads (scan/matcher.h): any bytes are refused
// with a message or give rules that compile or are refused with one.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scan/matcher.h"
#include "scan/rules.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;  // regex compilation cost grows with the text
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = interlock::scan::ParseSecretConfig(text, "fuzz.toml");
  if (!config) {
    Check(!config.error().message().empty());
    return 0;
  }
  for (const auto& rule : config->rules) Check(!rule.id.empty());
  auto matcher = interlock::scan::SecretMatcher::Compile(*config);
  if (!matcher) Check(!matcher.error().message().empty());
  return 0;
}
