#include "test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/fs.h"
#include "governance/defaults.h"
#include "governance/loader.h"

namespace interlock::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "interlock-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::Write(const std::string& relative, const std::string& contents) const {
  std::filesystem::path full = std::filesystem::path(path_) / relative;
  std::filesystem::create_directories(full.parent_path());
  std::ofstream(full, std::ios::binary) << contents;
}

std::string TempDir::Read(const std::string& relative) const {
  std::ifstream in(std::filesystem::path(path_) / relative, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const governance::Governance& DefaultGovernance() {
  static const governance::Governance* g = [] {
    TempDir dir;
    RealFileSystem fs;
    if (!governance::Scaffold(fs, dir.path() + "/g", false)) std::abort();
    auto loaded = governance::Load(fs, dir.path() + "/g");
    if (!loaded) {
      for (const auto& d : loaded.error()) fprintf(stderr, "%s\n", d.ToString().c_str());
      std::abort();
    }
    return new governance::Governance(std::move(*loaded));
  }();
  return *g;
}

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(INTERLOCK_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace interlock::testing
