#include "governance/defaults.h"

#include <fmt/format.h>

namespace interlock::governance {

Result<std::vector<std::string>> Scaffold(FileSystem& fs, const std::string& dir, bool force) {
  if (fs.Exists(dir) && !fs.IsDirectory(dir)) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}: exists and is not a directory", dir)));
  }
  if (fs.IsDirectory(dir) && !force) {
    auto existing = fs.ListFiles(dir);
    if (!existing) return std::unexpected(existing.error());
    if (!existing->empty()) {
      return std::unexpected(Error::InvalidArgument(fmt::format(
          "{}: directory is not empty; use --force to overwrite the default files", dir)));
    }
  }
  std::vector<std::string> written;
  for (size_t index = 0; index < kDefaultFilesCount; ++index) {
    const EmbeddedFile& file = kDefaultFiles[index];
    std::string path = JoinPath(dir, std::string(file.path));
    size_t slash = path.rfind('/');
    if (slash != std::string::npos) {
      if (auto ok = fs.CreateDirectories(path.substr(0, slash)); !ok)
        return std::unexpected(ok.error());
    }
    if (auto ok = fs.WriteFile(path, std::string(file.contents)); !ok) {
      return std::unexpected(ok.error());
    }
    written.emplace_back(file.path);
  }
  return written;
}

}  // namespace interlock::governance
