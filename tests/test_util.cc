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

namespace {

// Loads the governance that `make` writes into a fresh directory; aborts the
// test binary if it is invalid.
governance::Governance LoadOnce(void (*make)(const std::string& dir)) {
  TempDir dir;
  RealFileSystem fs;
  make(dir.path() + "/g");
  auto loaded = governance::Load(fs, dir.path() + "/g");
  if (!loaded) {
    for (const auto& d : loaded.error()) fprintf(stderr, "%s\n", d.ToString().c_str());
    std::abort();
  }
  return std::move(*loaded);
}

void ScaffoldDefaults(const std::string& dir) {
  RealFileSystem fs;
  if (!governance::Scaffold(fs, dir, false)) std::abort();
}

}  // namespace

void ScaffoldWithContacts(const std::string& dir) {
  ScaffoldDefaults(dir);
  auto edit = [&](const std::string& file, auto change) {
    std::string path = dir + "/" + file;
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string contents = text.str();
    change(contents);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  };
  edit("principals.yaml", [](std::string& text) {
    for (std::string who : {"alice", "bob", "carol", "dave", "erin", "trent"}) {
      std::string line = "  - id: " + who + "\n";
      size_t at = text.find(line);
      if (at == std::string::npos) std::abort();
      std::string upper = who;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      text.insert(at + line.size(),
                  "    email: " + who + "@example.com\n    slack_id: U" + upper + "\n");
    }
  });
  edit("interlock.yaml", [](std::string& text) { text += "  - id: hooks\n    type: webhook\n"; });
}

const governance::Governance& ContactGovernance() {
  static const governance::Governance* g =
      new governance::Governance(LoadOnce(&ScaffoldWithContacts));
  return *g;
}

const governance::Governance& DefaultGovernance() {
  static const governance::Governance* g = new governance::Governance(LoadOnce(&ScaffoldDefaults));
  return *g;
}

governance::Governance FreshDefaultGovernance() { return LoadOnce(&ScaffoldDefaults); }

void FlipBits(std::string& bytes, size_t offset, uint8_t mask) {
  ASSERT_NE(mask, 0) << "a zero mask changes nothing";
  ASSERT_LT(offset, bytes.size()) << "no byte " << offset << " to flip";
  bytes[offset] = static_cast<char>(static_cast<uint8_t>(bytes[offset]) ^ mask);
}

std::string ReadSourceFile(const std::string& relative) {
  // Appended in place: GCC 12 at -O1 misreads operator+ on a temporary
  // here as out of bounds (-Warray-bounds).
  std::string path = INTERLOCK_SOURCE_DIR;
  path += '/';
  path += relative;
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Result<std::unique_ptr<audit::AuditLog>> OpenSqliteLog(const audit::LogOptions& options,
                                                       const store::SqliteOptions& sqlite) {
  auto store = store::SqliteAuditStore::OpenInDirectory(*options.fs, options.data_dir, sqlite);
  if (!store) return std::unexpected(store.error());
  return audit::AuditLog::Open(options, std::move(*store));
}

std::unique_ptr<audit::AuditLog> OpenTestLog(const std::string& data_dir, FileSystem& fs,
                                             const Clock& clock, Random& random) {
  audit::LogOptions o;
  o.data_dir = data_dir;
  o.fs = &fs;
  o.clock = &clock;
  o.random = &random;
  o.master_key_env = kTestMasterKey;
  auto log = OpenSqliteLog(o);
  if (!log) {
    ADD_FAILURE() << "the test's audit log: " << log.error().message();
    std::abort();
  }
  return std::move(*log);
}

void ExpectSameEvent(const Result<audit::Event>& got, const Result<audit::Event>& want) {
  ASSERT_EQ(got.has_value(), want.has_value())
      << (want ? got.error().message() : want.error().message());
  if (!want) {
    EXPECT_EQ(got.error().kind(), want.error().kind());
    EXPECT_EQ(got.error().message(), want.error().message());
    return;
  }
  EXPECT_EQ(got->canonical, want->canonical);
  EXPECT_EQ(got->timestamp, want->timestamp);
  EXPECT_EQ(got->event_type, want->event_type);
  EXPECT_EQ(got->actor_id, want->actor_id);
  EXPECT_EQ(got->actor_type, want->actor_type);
  EXPECT_EQ(got->environment, want->environment);
  EXPECT_EQ(got->classes, want->classes);
}

}  // namespace interlock::testing
