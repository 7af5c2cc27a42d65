#include "core/memory_fs.h"

#include <fmt/format.h>

namespace interlock {

Result<std::string> MemoryFileSystem::ReadFile(const std::string& path, size_t max_bytes) const {
  if (failing_reads_.count(path)) {
    return std::unexpected(Error::Io(fmt::format("{}: read failed: injected fault", path)));
  }
  auto it = files_.find(path);
  if (it == files_.end())
    return std::unexpected(Error::NotFound(fmt::format("{}: no such file", path)));
  if (it->second.size() > max_bytes) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{}: larger than the limit of {} bytes", path, max_bytes)));
  }
  return it->second;
}

namespace {
class CopiedFile final : public MappedFile {
 public:
  explicit CopiedFile(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string_view data() const override { return bytes_; }

 private:
  std::string bytes_;
};
}  // namespace

Result<std::unique_ptr<MappedFile>> MemoryFileSystem::MapFile(const std::string& path) const {
  auto bytes = ReadFile(path, std::string().max_size());
  if (!bytes) return std::unexpected(bytes.error());
  return std::make_unique<CopiedFile>(std::move(*bytes));
}

Result<void> MemoryFileSystem::WriteFile(const std::string& path, const std::string& contents) {
  if (failing_writes_.count(path)) {
    return std::unexpected(Error::Io(fmt::format("{}: write failed: injected fault", path)));
  }
  files_[path] = contents;
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    directories_.insert(path.substr(0, slash));
  }
  return Ok();
}

Result<void> MemoryFileSystem::CreatePrivateFile(const std::string& path,
                                                 const std::string& contents) {
  if (files_.count(path)) {
    return std::unexpected(Error::AlreadyExists(fmt::format("{}: already exists", path)));
  }
  auto written = WriteFile(path, contents);
  if (written) modes_[path] = 0600;
  return written;
}

Result<unsigned> MemoryFileSystem::FileMode(const std::string& path) const {
  if (!files_.count(path))
    return std::unexpected(Error::NotFound(fmt::format("{}: no such file", path)));
  auto it = modes_.find(path);
  return it == modes_.end() ? 0644u : it->second;
}

Result<void> MemoryFileSystem::CreateDirectories(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    directories_.insert(path.substr(0, slash));
    start = slash + 1;
  }
  return Ok();
}

Result<std::vector<std::string>> MemoryFileSystem::ListFiles(const std::string& dir) const {
  std::vector<std::string> out;
  std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  for (const auto& [path, contents] : files_) {
    if (path.starts_with(prefix)) out.push_back(path.substr(prefix.size()));
  }
  return out;
}

bool MemoryFileSystem::Exists(const std::string& path) const {
  return files_.count(path) > 0 || directories_.count(path) > 0;
}

bool MemoryFileSystem::IsDirectory(const std::string& path) const {
  return directories_.count(path) > 0;
}

}  // namespace interlock
