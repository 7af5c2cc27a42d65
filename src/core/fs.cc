#include "core/fs.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>

namespace interlock {
namespace {

namespace stdfs = std::filesystem;

Error IoError(std::string_view what, const std::string& path, int errnum) {
  if (errnum == ENOENT) return Error::NotFound(fmt::format("{}: {}: no such file", path, what));
  return Error::Io(fmt::format("{}: {}: {}", path, what, std::strerror(errnum)));
}

// The default InputFile: a whole file held in memory.
class StringInput final : public InputFile {
 public:
  explicit StringInput(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(std::span<char> buffer) override {
    size_t n = std::min(buffer.size(), data_.size() - offset_);
    std::memcpy(buffer.data(), data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t offset_ = 0;
};

// The default OutputFile: gathers the bytes, and writes them whole at Close.
class GatheringOutput final : public OutputFile {
 public:
  GatheringOutput(FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  Result<void> Write(std::string_view bytes) override {
    data_.append(bytes);
    return Ok();
  }
  Result<void> Close() override { return fs_.WriteFile(path_, data_); }

 private:
  FileSystem& fs_;
  std::string path_;
  std::string data_;
};

class FdInput final : public InputFile {
 public:
  FdInput(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FdInput() override { ::close(fd_); }
  Result<size_t> Read(std::span<char> buffer) override {
    while (true) {
      ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return std::unexpected(IoError("read failed", path_, errno));
    }
  }

 private:
  int fd_;
  std::string path_;
};

class FdOutput final : public OutputFile {
 public:
  FdOutput(int fd, std::string tmp, std::string path)
      : fd_(fd), tmp_(std::move(tmp)), path_(std::move(path)) {}
  ~FdOutput() override {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(tmp_.c_str());
    }
  }
  Result<void> Write(std::string_view bytes) override {
    if (fd_ < 0) return std::unexpected(Error::Internal(path_ + ": written after close"));
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::unexpected(IoError("write failed", tmp_, errno));
      done += static_cast<size_t>(n);
    }
    return Ok();
  }
  Result<void> Close() override {
    if (fd_ < 0) return std::unexpected(Error::Internal(path_ + ": closed twice"));
    int closed = ::close(fd_);
    int close_errno = errno;
    fd_ = -1;
    if (closed != 0) {
      ::unlink(tmp_.c_str());
      return std::unexpected(IoError("close failed", tmp_, close_errno));
    }
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      int rename_errno = errno;
      ::unlink(tmp_.c_str());
      return std::unexpected(IoError("rename failed", path_, rename_errno));
    }
    return Ok();
  }

 private:
  int fd_;
  std::string tmp_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<InputFile>> FileSystem::OpenInput(const std::string& path) const {
  auto data = ReadFile(path, std::numeric_limits<size_t>::max());
  if (!data) return std::unexpected(data.error());
  return std::make_unique<StringInput>(std::move(*data));
}

Result<std::unique_ptr<OutputFile>> FileSystem::CreateOutput(const std::string& path) {
  return std::make_unique<GatheringOutput>(*this, path);
}

Result<std::unique_ptr<InputFile>> RealFileSystem::OpenInput(const std::string& path) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(IoError("cannot open", path, errno));
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return std::unexpected(Error::InvalidArgument(fmt::format("{}: is a directory", path)));
  }
  return std::make_unique<FdInput>(fd, path);
}

Result<std::unique_ptr<OutputFile>> RealFileSystem::CreateOutput(const std::string& path) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(IoError("cannot create", tmp, errno));
  return std::make_unique<FdOutput>(fd, tmp, path);
}

Result<std::string> RealFileSystem::ReadFile(const std::string& path, size_t max_bytes) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(IoError("cannot open", path, errno));
  std::string data;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    data.append(buffer, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("{}: larger than the limit of {} bytes", path, max_bytes)));
    }
  }
  if (in.bad()) return std::unexpected(IoError("read failed", path, errno));
  return data;
}

namespace {

// Files up to this size are read rather than mapped: for them a read is
// cheaper than setting up and tearing down a mapping (and munmap makes
// every thread of the process flush its TLB).
constexpr size_t kReadBelow = size_t{256} << 10;

class ReadFileBytes final : public MappedFile {
 public:
  explicit ReadFileBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string_view data() const override { return bytes_; }

 private:
  std::string bytes_;
};

class MemoryMappedFile final : public MappedFile {
 public:
  MemoryMappedFile(void* address, size_t size) : address_(address), size_(size) {}
  ~MemoryMappedFile() override {
    if (address_ != nullptr) ::munmap(address_, size_);
  }
  MemoryMappedFile(const MemoryMappedFile&) = delete;
  MemoryMappedFile& operator=(const MemoryMappedFile&) = delete;
  std::string_view data() const override {
    return address_ == nullptr ? std::string_view()
                               : std::string_view(static_cast<const char*>(address_), size_);
  }
  void Release(size_t offset, size_t length) const override {
    if (address_ == nullptr || offset >= size_) return;
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    size_t begin = (offset + page - 1) / page * page;
    size_t end = std::min(size_, offset + std::min(length, size_ - offset)) / page * page;
    if (end <= begin) return;
    // The mapping is private and never written, so its pages are the
    // file's: dropping them loses nothing.
    ::madvise(static_cast<char*>(address_) + begin, end - begin, MADV_DONTNEED);
  }

 private:
  void* address_;
  size_t size_;
};

}  // namespace

Result<std::unique_ptr<MappedFile>> RealFileSystem::MapFile(const std::string& path) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::unexpected(IoError("cannot open", path, errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int errnum = errno;
    ::close(fd);
    return std::unexpected(IoError("cannot stat", path, errnum));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::unexpected(Error::InvalidArgument(fmt::format("{}: not a regular file", path)));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return std::make_unique<MemoryMappedFile>(nullptr, 0);
  }
  if (size < kReadBelow) {
    std::string bytes(size, '\0');
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::read(fd, bytes.data() + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int errnum = errno;
        ::close(fd);
        return std::unexpected(IoError("read failed", path, errnum));
      }
      if (n == 0) break;  // the file shrank meanwhile
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    bytes.resize(done);
    return std::make_unique<ReadFileBytes>(std::move(bytes));
  }
  void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int errnum = errno;
  ::close(fd);
  if (address == MAP_FAILED) return std::unexpected(IoError("cannot map", path, errnum));
  ::madvise(address, size, MADV_SEQUENTIAL);
  return std::make_unique<MemoryMappedFile>(address, size);
}

Result<void> RealFileSystem::WriteFile(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return std::unexpected(IoError("cannot create", tmp, errno));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) return std::unexpected(IoError("write failed", tmp, errno));
  }
  std::error_code ec;
  stdfs::rename(tmp, path, ec);
  if (ec) return std::unexpected(IoError("rename failed", path, ec.value()));
  return Ok();
}

Result<void> RealFileSystem::CreatePrivateFile(const std::string& path,
                                               const std::string& contents) {
  // Written whole and fsynced under a temporary name, then linked into place:
  // a crash never leaves a half-written key at `path`, and link() fails if
  // another process created it first.
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(IoError("cannot create", tmp, errno));
  auto fail = [&](std::string_view what, int errnum) -> Result<void> {
    ::close(fd);
    ::unlink(tmp.c_str());
    return std::unexpected(IoError(what, path, errnum));
  };
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write failed", errno);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync failed", errno);
  ::close(fd);
  int linked = ::link(tmp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST)
      return std::unexpected(Error::AlreadyExists(fmt::format("{}: already exists", path)));
    return std::unexpected(IoError("cannot create", path, link_errno));
  }
  // Make the new name durable too.
  std::string dir = stdfs::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    int synced = ::fsync(dfd);
    int sync_errno = errno;
    ::close(dfd);
    if (synced != 0)
      return std::unexpected(IoError("fsync of its directory failed", path, sync_errno));
  }
  return Ok();
}

Result<unsigned> RealFileSystem::FileMode(const std::string& path) const {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::unexpected(IoError("cannot stat", path, errno));
  return static_cast<unsigned>(st.st_mode & 07777);
}

Result<void> RealFileSystem::CreateDirectories(const std::string& path) {
  std::error_code ec;
  stdfs::create_directories(path, ec);
  if (ec) return std::unexpected(IoError("cannot create directory", path, ec.value()));
  return Ok();
}

Result<std::vector<std::string>> RealFileSystem::ListFiles(const std::string& dir) const {
  std::error_code ec;
  std::vector<std::string> files;
  stdfs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return std::unexpected(IoError("cannot list", dir, ec.value()));
  for (; it != end; it.increment(ec)) {
    if (ec) return std::unexpected(IoError("cannot list", dir, ec.value()));
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
      // Lexical: the iterator's paths are `dir` joined with the names below
      // it, and stdfs::relative would resolve each one on disk.
      files.push_back(it->path().lexically_relative(dir).generic_string());
    }
  }
  if (ec) return std::unexpected(IoError("cannot list", dir, ec.value()));
  std::sort(files.begin(), files.end());
  return files;
}

bool RealFileSystem::Exists(const std::string& path) const {
  std::error_code ec;
  return stdfs::exists(path, ec);
}

bool RealFileSystem::IsDirectory(const std::string& path) const {
  std::error_code ec;
  return stdfs::is_directory(path, ec);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

}  // namespace interlock
