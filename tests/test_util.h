// Helpers shared by the tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "audit/event.h"
#include "audit/log.h"
#include "governance/model.h"
#include "store/sqlite_audit_store.h"

namespace interlock::testing {

// A fresh empty directory under the system temporary directory, removed
// when the object is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `contents` to path()/relative, creating parent directories.
  void Write(const std::string& relative, const std::string& contents) const;
  std::string Read(const std::string& relative) const;

 private:
  std::string path_;
};

// The default governance, scaffolded into a temporary directory and loaded
// once per test binary. Aborts the test binary if the defaults are invalid.
const governance::Governance& DefaultGovernance();
// A copy of its own (Governance cannot be copied), for tests that change it.
governance::Governance FreshDefaultGovernance();

// Scaffolds the default governance into `dir`, then gives every human of
// alice, bob, carol, dave, erin and trent an e-mail address (id@example.com)
// and a Slack id ("U" + the id in capitals), and adds a channel "hooks" of
// type webhook.
void ScaffoldWithContacts(const std::string& dir);
// That governance, loaded once per test binary.
const governance::Governance& ContactGovernance();

// Tampers with stored bytes: XORs byte `offset` of `bytes` with `mask`, so the
// byte changes whatever it was (writing a fixed value would not change a byte
// that already had it). Fails the test, changing nothing, if `offset` is out
// of range. REQUIRES: mask != 0.
void FlipBits(std::string& bytes, size_t offset, uint8_t mask = 0x01);

// Expects two ways of building an event to give the same event (every field
// of audit::Event) or the same error (kind and message).
void ExpectSameEvent(const Result<audit::Event>& got, const Result<audit::Event>& want);

// Reads a file of the source tree (path relative to the repository root).
std::string ReadSourceFile(const std::string& relative);

// Opens the audit log of `options` over the SQLite store of
// options.data_dir, opened with `sqlite`.
Result<std::unique_ptr<audit::AuditLog>> OpenSqliteLog(const audit::LogOptions& options,
                                                       const store::SqliteOptions& sqlite = {});

// The master key of the logs tests open.
inline constexpr const char* kTestMasterKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// Opens the audit log of `data_dir` over SQLite with kTestMasterKey, on
// `fs`, `clock` and `random`; fails the test and aborts if it cannot.
std::unique_ptr<audit::AuditLog> OpenTestLog(const std::string& data_dir, FileSystem& fs,
                                             const Clock& clock, Random& random);

}  // namespace interlock::testing
