// Fuzzes the governance loader: the first byte picks one file of the default
// directory, the rest replaces its contents; the whole directory is loaded.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/memory_fs.h"
#include "governance/defaults.h"
#include "governance/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  interlock::MemoryFileSystem fs;
  if (!interlock::governance::Scaffold(fs, "g", false)) __builtin_trap();
  const auto& files = interlock::governance::GovernanceFiles();
  const auto& chosen = files[data[0] % files.size()];
  std::string contents(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!fs.WriteFile("g/" + std::string(chosen.path), contents)) __builtin_trap();
  auto loaded = interlock::governance::Load(fs, "g");
  if (loaded) {
    // A directory that loads must be usable: touch what decide reads.
    for (const auto& tier : loaded->tiers) (void)tier.when.source();
  } else {
    for (const auto& d : loaded.error()) (void)d.ToString();
  }
  return 0;
}
