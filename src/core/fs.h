// The only road from Interlock to the file system, so tests can inject
// faults and keep files in memory.
//
// Thread safety: implementations must be safe to call from several threads.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace interlock {

// A file read piece by piece, so that an input larger than memory can be
// streamed. Not thread-safe; one reader per object.
class InputFile {
 public:
  virtual ~InputFile() = default;
  // Reads up to buffer.size() bytes into buffer; returns how many, 0 only at
  // the end of the file.
  virtual Result<size_t> Read(std::span<char> buffer) = 0;
};

// A file written piece by piece. Readers see the whole file only after
// Close() succeeds (it is written under a temporary name and renamed);
// destroying it unclosed leaves `path` as it was. Not thread-safe.
class OutputFile {
 public:
  virtual ~OutputFile() = default;
  virtual Result<void> Write(std::string_view bytes) = 0;
  virtual Result<void> Close() = 0;
};

// A whole file's bytes, read-only, as MapFile returns them. The view stays
// valid, and its bytes unchanged by this process, while the object lives
// (another process that rewrites the file in place may change what a
// mapping shows; a file replaced by rename is not affected).
//
// Thread safety: data() may be read from several threads at once.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual std::string_view data() const = 0;
  // A hint that the caller is done with data()[offset, offset + length)
  // for now: a real mapping gives the whole pages within it back (they stay
  // in the kernel's page cache, and come back unchanged if read again), so
  // scanning a file piece by piece holds only the pieces in flight. May be
  // called from several threads at once. Default: nothing.
  virtual void Release(size_t offset, size_t length) const {
    (void)offset;
    (void)length;
  }
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Reads a whole file. Fails with kInvalidArgument if it is larger than
  // max_bytes, kNotFound if it does not exist.
  virtual Result<std::string> ReadFile(const std::string& path, size_t max_bytes) const = 0;
  // Maps a regular file for reading without copying it into memory (the
  // real file system uses mmap, so only the pages read are resident, and
  // the kernel may drop them again; files under 256 KiB it reads instead).
  // An empty file gives an empty view. Fails with kNotFound if it does not
  // exist, kInvalidArgument if it is not a regular file.
  virtual Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) const = 0;
  // Creates or replaces `path` with `contents` (via a temporary file and a
  // rename, so readers see the old or the new file, never half of one).
  virtual Result<void> WriteFile(const std::string& path, const std::string& contents) = 0;
  // Creates `path` readable and writable by its owner only (mode 0600) and
  // makes it durable (fsync). Fails with kAlreadyExists if it exists, so two
  // processes racing to create a key cannot both win.
  virtual Result<void> CreatePrivateFile(const std::string& path, const std::string& contents) = 0;
  // The permission bits of `path` (e.g. 0600).
  virtual Result<unsigned> FileMode(const std::string& path) const = 0;
  // Creates a directory and its missing parents.
  virtual Result<void> CreateDirectories(const std::string& path) = 0;
  // Every regular file below `dir`, as paths relative to it with '/'
  // separators, sorted bytewise. Symbolic links are not followed.
  virtual Result<std::vector<std::string>> ListFiles(const std::string& dir) const = 0;
  virtual bool Exists(const std::string& path) const = 0;
  virtual bool IsDirectory(const std::string& path) const = 0;
  // Opens `path` for reading piece by piece. Fails with kNotFound if it does
  // not exist. The default reads the whole file with ReadFile (fine for
  // files kept in memory); RealFileSystem reads from the disk as asked.
  virtual Result<std::unique_ptr<InputFile>> OpenInput(const std::string& path) const;
  // Starts writing `path` piece by piece (see OutputFile). The default
  // gathers the bytes and calls WriteFile at Close.
  virtual Result<std::unique_ptr<OutputFile>> CreateOutput(const std::string& path);
};

// The real file system. Stateless; one shared instance is fine.
class RealFileSystem final : public FileSystem {
 public:
  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) const override;
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) const override;
  Result<void> WriteFile(const std::string& path, const std::string& contents) override;
  Result<void> CreatePrivateFile(const std::string& path, const std::string& contents) override;
  Result<unsigned> FileMode(const std::string& path) const override;
  Result<void> CreateDirectories(const std::string& path) override;
  Result<std::vector<std::string>> ListFiles(const std::string& dir) const override;
  bool Exists(const std::string& path) const override;
  bool IsDirectory(const std::string& path) const override;
  Result<std::unique_ptr<InputFile>> OpenInput(const std::string& path) const override;
  Result<std::unique_ptr<OutputFile>> CreateOutput(const std::string& path) override;
};

// Joins two path pieces with exactly one '/'.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace interlock
