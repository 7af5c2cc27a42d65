// FileSystem::OpenInput and CreateOutput: files read and written piece by
// piece, on the disk and in memory.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "../../tests/test_util.h"
#include "core/fs.h"
#include "core/memory_fs.h"

namespace interlock {
namespace {

std::string ReadAll(InputFile& file, size_t piece) {
  std::string out;
  std::string buffer(piece, '\0');
  while (true) {
    auto n = file.Read(std::span<char>(buffer.data(), buffer.size()));
    EXPECT_TRUE(n.has_value());
    if (!n || *n == 0) return out;
    out.append(buffer.data(), *n);
  }
}

TEST(FsStreamTest, RealFileIsReadInPieces) {
  testing::TempDir dir;
  std::string contents(100000, 'x');
  contents[5] = '\0';
  contents.back() = '\xff';
  dir.Write("big", contents);
  RealFileSystem fs;
  auto file = fs.OpenInput(dir.path() + "/big");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(ReadAll(**file, 4096), contents);
}

TEST(FsStreamTest, RealOpenInputNamesWhatIsWrong) {
  testing::TempDir dir;
  RealFileSystem fs;
  auto missing = fs.OpenInput(dir.path() + "/nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().message(), dir.path() + "/nope: cannot open: no such file");
  auto directory = fs.OpenInput(dir.path());
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().message(), dir.path() + ": is a directory");
}

TEST(FsStreamTest, RealOutputAppearsOnlyWhenClosed) {
  testing::TempDir dir;
  RealFileSystem fs;
  std::string path = dir.path() + "/out";
  {
    auto out = fs.CreateOutput(path);
    ASSERT_TRUE(out.has_value());
    ASSERT_TRUE((*out)->Write("abandoned"));
  }
  EXPECT_FALSE(fs.Exists(path));
  EXPECT_TRUE(fs.ListFiles(dir.path())->empty());  // no temporary file left
  auto out = fs.CreateOutput(path);
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE((*out)->Write("one "));
  ASSERT_TRUE((*out)->Write("two"));
  EXPECT_FALSE(fs.Exists(path));
  ASSERT_TRUE((*out)->Close());
  EXPECT_EQ(*fs.ReadFile(path, 100), "one two");
  EXPECT_FALSE((*out)->Write("late").has_value());
}

TEST(FsStreamTest, MemoryFilesStreamThroughTheDefaults) {
  MemoryFileSystem fs;
  ASSERT_TRUE(fs.WriteFile("in", "hello world"));
  auto in = fs.OpenInput("in");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(ReadAll(**in, 3), "hello world");
  fs.FailReads("in");
  auto failed = fs.OpenInput("in");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind(), ErrorKind::kIo);
  auto out = fs.CreateOutput("out");
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE((*out)->Write("a"));
  EXPECT_FALSE(fs.Exists("out"));
  ASSERT_TRUE((*out)->Close());
  EXPECT_EQ(*fs.ReadFile("out", 10), "a");
}

}  // namespace
}  // namespace interlock
