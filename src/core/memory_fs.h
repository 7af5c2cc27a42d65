// A FileSystem held in memory, for tests and fuzzing. Can be told to fail
// reads or writes of chosen paths.
//
// Thread safety: not thread safe.
#pragma once

#include <map>
#include <set>
#include <string>

#include "core/fs.h"

namespace interlock {

class MemoryFileSystem final : public FileSystem {
 public:
  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) const override;
  // A copy of the file's contents (failing like ReadFile).
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) const override;
  Result<void> WriteFile(const std::string& path, const std::string& contents) override;
  Result<void> CreatePrivateFile(const std::string& path, const std::string& contents) override;
  Result<unsigned> FileMode(const std::string& path) const override;
  Result<void> CreateDirectories(const std::string& path) override;
  Result<std::vector<std::string>> ListFiles(const std::string& dir) const override;
  bool Exists(const std::string& path) const override;
  bool IsDirectory(const std::string& path) const override;

  // Reads or writes of `path` fail with kIo from now on.
  void FailReads(const std::string& path) { failing_reads_.insert(path); }
  void FailWrites(const std::string& path) { failing_writes_.insert(path); }

 private:
  std::map<std::string, std::string> files_;
  std::map<std::string, unsigned> modes_;  // files made by CreatePrivateFile
  std::set<std::string> directories_;
  std::set<std::string> failing_reads_;
  std::set<std::string> failing_writes_;
};

}  // namespace interlock
