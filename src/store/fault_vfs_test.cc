#include "store/fault_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace interlock::store {
namespace {

namespace fs = std::filesystem;

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

// Opens (creating) `path` through the VFS named `vfs`, nullptr for SQLite's default, with
// extended result codes so failures name the exact I/O call.
Db Open(const fs::path& path, const char* vfs) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs);
  Db db(raw);
  EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errstr(rc);
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

// Runs `sql` and returns SQLite's extended result code.
int Exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

// The first column of the first row `sql` returns, as text, or what went wrong instead.
std::string Query(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    return std::string("error: ") + sqlite3_errmsg(db);
  }
  std::string out;
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    out = std::string("error: ") + sqlite3_errmsg(db);
  } else if (const unsigned char* text = sqlite3_column_text(stmt, 0); text != nullptr) {
    out = reinterpret_cast<const char*>(text);
  } else {
    out = "NULL";
  }
  sqlite3_finalize(stmt);
  return out;
}

// A file opened straight through a VFS, to drive xWrite, xSync and xRead one call at a time.
class RawFile {
 public:
  RawFile(const char* vfs_name, const fs::path& path)
      : vfs_(sqlite3_vfs_find(vfs_name)), path_(path.string()) {
    const size_t size = static_cast<size_t>(vfs_->szOsFile);
    storage_.resize((size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
    file_ = reinterpret_cast<sqlite3_file*>(storage_.data());
    const int flags = SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    EXPECT_EQ(vfs_->xOpen(vfs_, path_.c_str(), file_, flags, nullptr), SQLITE_OK);
  }
  ~RawFile() {
    if (file_->pMethods != nullptr) file_->pMethods->xClose(file_);
  }
  RawFile(const RawFile&) = delete;
  RawFile& operator=(const RawFile&) = delete;

  int Write(sqlite3_int64 offset) { return file_->pMethods->xWrite(file_, "8 bytes", 8, offset); }
  int Read(char* buffer, int amount, sqlite3_int64 offset) {
    return file_->pMethods->xRead(file_, buffer, amount, offset);
  }
  int Sync() { return file_->pMethods->xSync(file_, SQLITE_SYNC_NORMAL); }
  sqlite3_int64 Size() {
    sqlite3_int64 size = -1;
    EXPECT_EQ(file_->pMethods->xFileSize(file_, &size), SQLITE_OK);
    return size;
  }

 private:
  sqlite3_vfs* vfs_;
  std::string path_;  // the VFS keeps a pointer to the name while the file is open
  std::vector<std::max_align_t> storage_;
  sqlite3_file* file_ = nullptr;
};

class FaultVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vfs_ = FaultVfs::Register();
    ASSERT_NE(vfs_, nullptr);
    FaultVfs::Clear();
    FaultVfs::ResetCounters();
    dir_ = fs::temp_directory_path() /
           ("interlock_fault_vfs_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  void TearDown() override {
    FaultVfs::Clear();
    fs::remove_all(dir_);
  }

  // A WAL database through the fault VFS that syncs the WAL on every commit.
  Db OpenWal(const fs::path& path) {
    Db db = Open(path, vfs_);
    EXPECT_EQ(Query(db.get(), "PRAGMA journal_mode=WAL"), "wal");
    EXPECT_EQ(Exec(db.get(), "PRAGMA synchronous=FULL"), SQLITE_OK);
    return db;
  }

  // The rows of t as SQLite's default VFS sees them after every other connection has closed.
  std::string RowsAfterReopen(const fs::path& path) {
    Db db = Open(path, nullptr);
    EXPECT_EQ(Query(db.get(), "PRAGMA integrity_check"), "ok");
    return Query(db.get(), "SELECT group_concat(x, ',') FROM (SELECT x FROM t ORDER BY x)");
  }

  const char* vfs_ = nullptr;
  fs::path dir_;
};

TEST_F(FaultVfsTest, RegisterReturnsOneNameFromEveryThread) {
  std::vector<const char*> names(4);
  {
    std::vector<std::jthread> threads;
    for (const char*& name : names) threads.emplace_back([&name] { name = FaultVfs::Register(); });
  }
  for (const char* name : names) EXPECT_EQ(name, vfs_);
  EXPECT_STREQ(vfs_, "interlock-fault");
  sqlite3_vfs* vfs = sqlite3_vfs_find(vfs_);
  ASSERT_NE(vfs, nullptr);
  EXPECT_NE(vfs, sqlite3_vfs_find(nullptr));  // registered, but not as the default
  EXPECT_GT(vfs->szOsFile, sqlite3_vfs_find(nullptr)->szOsFile);
}

TEST_F(FaultVfsTest, WalDatabaseWorksWithoutFaults) {
  const fs::path path = dir_ / "audit.db";
  Db db = OpenWal(path);  // "wal" is only granted when the shared-memory methods are forwarded
  ASSERT_EQ(Exec(db.get(), "CREATE TABLE t(x INTEGER)"), SQLITE_OK);
  ASSERT_EQ(Exec(db.get(), "BEGIN; INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); COMMIT"),
            SQLITE_OK);
  EXPECT_TRUE(fs::exists(dir_ / "audit.db-wal"));
  EXPECT_TRUE(fs::exists(dir_ / "audit.db-shm"));

  // A second connection reads the commit through the shared WAL index.
  Db reader = Open(path, vfs_);
  EXPECT_EQ(Query(reader.get(), "SELECT group_concat(x, ',') FROM t"), "1,2");
  EXPECT_GT(FaultVfs::Calls(FaultOp::kWrite), 0u);
  EXPECT_GT(FaultVfs::Calls(FaultOp::kSync), 0u);
  EXPECT_GT(FaultVfs::Calls(FaultOp::kRead), 0u);

  reader.reset();
  db.reset();
  EXPECT_EQ(RowsAfterReopen(path), "1,2");
}

TEST_F(FaultVfsTest, FailedFsyncFailsCommitOnceAndLosesOnlyThatTransaction) {
  const fs::path path = dir_ / "audit.db";
  Db db = OpenWal(path);
  ASSERT_EQ(Exec(db.get(), "CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1)"), SQLITE_OK);

  FaultVfs::ResetCounters();
  FaultVfs::FailAfter(FaultOp::kSync, 0, SQLITE_IOERR_FSYNC, /*sticky=*/false);
  ASSERT_EQ(Exec(db.get(), "BEGIN; INSERT INTO t VALUES (2)"), SQLITE_OK);
  EXPECT_EQ(Exec(db.get(), "COMMIT"), SQLITE_IOERR_FSYNC);
  EXPECT_STREQ(sqlite3_errmsg(db.get()), "disk I/O error");
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kSync), 1u);
  EXPECT_NE(sqlite3_get_autocommit(db.get()), 0);  // SQLite rolled the transaction back

  // The fault was one-shot: the next transaction commits on the same connection.
  EXPECT_EQ(Exec(db.get(), "INSERT INTO t VALUES (3)"), SQLITE_OK);
  db.reset();
  EXPECT_EQ(RowsAfterReopen(path), "1,3");
}

TEST_F(FaultVfsTest, FullDiskFailsCommitAndKeepsCommittedRows) {
  const fs::path path = dir_ / "audit.db";
  Db db = OpenWal(path);
  ASSERT_EQ(Exec(db.get(), "CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2)"), SQLITE_OK);

  FaultVfs::FailAfter(FaultOp::kWrite, 0, SQLITE_FULL, /*sticky=*/true);
  EXPECT_EQ(Exec(db.get(), "INSERT INTO t VALUES (3)"), SQLITE_FULL);
  EXPECT_STREQ(sqlite3_errmsg(db.get()), "database or disk is full");
  EXPECT_EQ(Exec(db.get(), "INSERT INTO t VALUES (4)"), SQLITE_FULL);  // sticky: still full

  FaultVfs::Clear();
  db.reset();
  EXPECT_EQ(RowsAfterReopen(path), "1,2");
}

TEST_F(FaultVfsTest, FailedJournalWriteFailsCommitAndKeepsDatabase) {
  const fs::path path = dir_ / "audit.db";
  Db db = Open(path, vfs_);
  ASSERT_EQ(Query(db.get(), "PRAGMA journal_mode=DELETE"), "delete");
  ASSERT_EQ(Exec(db.get(), "CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1)"), SQLITE_OK);

  // In rollback-journal mode the first write of a transaction goes to the journal.
  FaultVfs::FailAfter(FaultOp::kWrite, 0, SQLITE_IOERR_WRITE, /*sticky=*/false);
  EXPECT_EQ(Exec(db.get(), "INSERT INTO t VALUES (2)"), SQLITE_IOERR_WRITE);
  db.reset();
  EXPECT_EQ(RowsAfterReopen(path), "1");
}

TEST_F(FaultVfsTest, FailedReadFailsQueriesUntilCleared) {
  const fs::path path = dir_ / "audit.db";
  {
    Db db = OpenWal(path);
    ASSERT_EQ(Exec(db.get(), "CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (7)"), SQLITE_OK);
  }
  Db db = Open(path, vfs_);  // opening reads the header, so arm the fault after it
  FaultVfs::FailAfter(FaultOp::kRead, 0, SQLITE_IOERR_READ, /*sticky=*/true);
  EXPECT_EQ(Query(db.get(), "SELECT x FROM t"), "error: disk I/O error");
  EXPECT_EQ(sqlite3_extended_errcode(db.get()), SQLITE_IOERR_READ);

  FaultVfs::Clear();
  EXPECT_EQ(Query(db.get(), "SELECT x FROM t"), "7");
}

TEST_F(FaultVfsTest, ConnectionsThroughOtherVfsAreUnaffected) {
  FaultVfs::FailAfter(FaultOp::kWrite, 0, SQLITE_FULL, /*sticky=*/true);
  FaultVfs::FailAfter(FaultOp::kSync, 0, SQLITE_IOERR_FSYNC, /*sticky=*/true);
  Db db = Open(dir_ / "plain.db", nullptr);
  EXPECT_EQ(Exec(db.get(), "CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1)"), SQLITE_OK);
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kWrite), 0u);
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kSync), 0u);
}

TEST_F(FaultVfsTest, SkipLetsThatManyCallsThroughBeforeOneFails) {
  RawFile file(vfs_, dir_ / "raw");
  FaultVfs::FailAfter(FaultOp::kWrite, 2, SQLITE_IOERR_WRITE, /*sticky=*/false);
  std::vector<int> results;
  for (int i = 0; i < 5; ++i) results.push_back(file.Write(8 * i));
  EXPECT_EQ(results,
            (std::vector<int>{SQLITE_OK, SQLITE_OK, SQLITE_IOERR_WRITE, SQLITE_OK, SQLITE_OK}));
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kWrite), 5u);
}

TEST_F(FaultVfsTest, StickyFaultFailsEveryLaterCallUntilCleared) {
  RawFile file(vfs_, dir_ / "raw");
  FaultVfs::FailAfter(FaultOp::kSync, 1, SQLITE_IOERR_FSYNC, /*sticky=*/true);
  std::vector<int> results;
  for (int i = 0; i < 4; ++i) results.push_back(file.Sync());
  EXPECT_EQ(results, (std::vector<int>{SQLITE_OK, SQLITE_IOERR_FSYNC, SQLITE_IOERR_FSYNC,
                                       SQLITE_IOERR_FSYNC}));
  FaultVfs::Clear();
  EXPECT_EQ(file.Sync(), SQLITE_OK);
}

TEST_F(FaultVfsTest, FailAfterReplacesThePlanForItsOpOnly) {
  RawFile file(vfs_, dir_ / "raw");
  FaultVfs::FailAfter(FaultOp::kWrite, 0, SQLITE_IOERR_WRITE, /*sticky=*/true);
  FaultVfs::FailAfter(FaultOp::kSync, 0, SQLITE_IOERR_FSYNC, /*sticky=*/true);
  FaultVfs::FailAfter(FaultOp::kWrite, 1, SQLITE_FULL, /*sticky=*/false);
  EXPECT_EQ(file.Write(0), SQLITE_OK);
  EXPECT_EQ(file.Write(0), SQLITE_FULL);
  EXPECT_EQ(file.Sync(), SQLITE_IOERR_FSYNC);
  FaultVfs::FailAfter(FaultOp::kSync, 0, SQLITE_OK, /*sticky=*/true);  // disarms
  EXPECT_EQ(file.Sync(), SQLITE_OK);
}

TEST_F(FaultVfsTest, FullDiskWriteWritesNothing) {
  RawFile file(vfs_, dir_ / "raw");
  ASSERT_EQ(file.Write(0), SQLITE_OK);
  FaultVfs::FailAfter(FaultOp::kWrite, 0, SQLITE_FULL, /*sticky=*/false);
  EXPECT_EQ(file.Write(8), SQLITE_FULL);
  EXPECT_EQ(file.Size(), 8);
}

TEST_F(FaultVfsTest, ShortReadZeroFillsTheBuffer) {
  RawFile file(vfs_, dir_ / "raw");
  ASSERT_EQ(file.Write(0), SQLITE_OK);
  FaultVfs::FailAfter(FaultOp::kRead, 0, SQLITE_IOERR_SHORT_READ, /*sticky=*/false);
  char buffer[8];
  std::memset(buffer, 'x', sizeof buffer);
  EXPECT_EQ(file.Read(buffer, sizeof buffer, 0), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(std::string(buffer, sizeof buffer), std::string(8, '\0'));
  EXPECT_EQ(file.Read(buffer, sizeof buffer, 0), SQLITE_OK);
  EXPECT_EQ(std::string(buffer, sizeof buffer), std::string("8 bytes", 8));
}

TEST_F(FaultVfsTest, CountersCountEachOpUntilReset) {
  RawFile file(vfs_, dir_ / "raw");
  char buffer[8];
  for (int i = 0; i < 3; ++i) ASSERT_EQ(file.Write(0), SQLITE_OK);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(file.Read(buffer, sizeof buffer, 0), SQLITE_OK);
  ASSERT_EQ(file.Sync(), SQLITE_OK);
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kWrite), 3u);
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kRead), 2u);
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kSync), 1u);

  FaultVfs::ResetCounters();
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kWrite), 0u);
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kRead), 0u);
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kSync), 0u);
}

TEST_F(FaultVfsTest, ConcurrentCallsCountOnceAndFailExactlyOnce) {
  constexpr int kCallsPerThread = 2000;
  FaultVfs::FailAfter(FaultOp::kWrite, kCallsPerThread, SQLITE_IOERR_WRITE, /*sticky=*/false);
  std::vector<int> failures(2);
  {
    std::vector<std::jthread> threads;
    for (size_t t = 0; t < failures.size(); ++t) {
      threads.emplace_back([this, t, &failures] {
        RawFile file(vfs_, dir_ / ("raw" + std::to_string(t)));
        for (int i = 0; i < kCallsPerThread; ++i) failures[t] += file.Write(0) != SQLITE_OK;
      });
    }
  }
  EXPECT_EQ(failures[0] + failures[1], 1);
  EXPECT_EQ(FaultVfs::Calls(FaultOp::kWrite), 2u * kCallsPerThread);
}

TEST_F(FaultVfsTest, ConcurrentConnectionsCommitThroughTheVfs) {
  constexpr int kCommitsPerThread = 50;
  std::vector<std::string> rows(2);
  {
    std::vector<std::jthread> threads;
    for (size_t t = 0; t < rows.size(); ++t) {
      threads.emplace_back([this, t, &rows] {
        const fs::path path = dir_ / ("db" + std::to_string(t));
        Db db = OpenWal(path);
        EXPECT_EQ(Exec(db.get(), "CREATE TABLE t(x INTEGER)"), SQLITE_OK);
        for (int i = 0; i < kCommitsPerThread; ++i) {
          EXPECT_EQ(Exec(db.get(), "INSERT INTO t VALUES (1)"), SQLITE_OK);
        }
        rows[t] = Query(db.get(), "SELECT count(*) FROM t");
      });
    }
    // Replanning while both threads do I/O; these faults never fire.
    for (int i = 0; i < 100; ++i) {
      FaultVfs::FailAfter(FaultOp::kRead, 1'000'000, SQLITE_IOERR_READ, /*sticky=*/true);
      FaultVfs::Clear();
    }
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"50", "50"}));
  // Each commit syncs the WAL at least once.
  EXPECT_GE(FaultVfs::Calls(FaultOp::kSync), 2u * kCommitsPerThread);
}

}  // namespace
}  // namespace interlock::store
