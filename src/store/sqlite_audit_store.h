// The embedded audit store: one SQLite file in WAL mode with synchronous=FULL,
// so a committed batch has been fsynced. One connection writes, others read;
// WAL lets reads run while a batch commits. One more connection, on its own
// thread, copies the WAL into the database file (a passive checkpoint) once
// the WAL passes checkpoint_pages, so that the copy and its fsync mostly
// happen beside the commits. A background checkpoint cannot restart a WAL
// that keeps growing, so at four times that size the writer checkpoints
// itself between two commits (what is left to copy is little by then) and
// the WAL starts over: it stays bounded under any load.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/fs.h"
#include "core/mutex.h"
#include "store/audit_store.h"
#include "store/sqlite.h"

namespace interlock::store {

struct SqliteOptions {
  // A SQLite VFS name, for tests of this store (store/fault_vfs.h).
  // Default: SQLite's default VFS.
  const char* vfs = nullptr;
  // WAL pages (4 KiB) that start a background checkpoint; small in tests.
  // Small checkpoints keep each fsync of the database file short, and with
  // it the commits that wait behind it on the disk: under bench/load.sh, 256
  // gave p99 4.7 to 4.9 ms where 1024 gave 5.5 and 4096 gave 7.3.
  // Default: 256.
  int checkpoint_pages = 256;
};

// The store's file in a data directory.
inline constexpr std::string_view kSqliteAuditFile = "audit.db";

class SqliteAuditStore final : public AuditStore {
 public:
  // Opens the store at `path`, creating the file and schema if missing.
  static Result<std::unique_ptr<SqliteAuditStore>> Open(const std::string& path,
                                                        const SqliteOptions& options);
  // Opens the store of the data directory `data_dir` (its file
  // kSqliteAuditFile), creating the directory through `fs` if missing.
  static Result<std::unique_ptr<SqliteAuditStore>> OpenInDirectory(
      FileSystem& fs, const std::string& data_dir, const SqliteOptions& options = {});

  const std::string& Location() const override { return path_; }
  Result<std::string> ClaimLogId(const std::string& proposed) override;
  Result<AuditMeta> Meta() override;
  Result<PruneCounts> Commit(const AuditBatch& batch) override;
  Result<void> ReadTiles(uint8_t level, uint64_t from, uint64_t to,
                         std::vector<AuditTile>& out) override;
  Result<std::vector<AuditTile>> EdgeTiles() override;
  Result<void> ReadRecords(uint64_t from, uint64_t to, std::vector<AuditRecord>& out) override;
  Result<std::vector<AuditRecord>> QueryRecords(const RecordFilter& filter) override;
  Result<std::vector<AuditKey>> Keys() override;
  Result<std::vector<AuditCheckpoint>> Checkpoints() override;
  Result<std::vector<AuditGrant>> Grants(const std::string& principal) override;
  Result<std::vector<StateRow>> State(const StateQuery& query) override;
  Result<std::vector<StateRow>> AllState() override;
  Result<uint64_t> StateVersion(const std::string& kind) override;
  Result<void> Backup(const std::string& path) override;

  ~SqliteAuditStore() override;

 private:
  SqliteAuditStore() = default;
  Result<PruneCounts> Apply(const AuditBatch& batch) REQUIRES(write_mu_);
  // sqlite3_wal_hook: called on the writer after each commit.
  static int OnWalCommit(void* store, sqlite3* db, const char* name, int pages);
  void RunCheckpoints();

  std::string path_;
  Mutex write_mu_;
  Database writer_ GUARDED_BY(write_mu_);
  Statement insert_record_ GUARDED_BY(write_mu_), upsert_tile_ GUARDED_BY(write_mu_),
      insert_key_ GUARDED_BY(write_mu_), insert_checkpoint_ GUARDED_BY(write_mu_),
      insert_grant_ GUARDED_BY(write_mu_), read_size_ GUARDED_BY(write_mu_),
      write_size_ GUARDED_BY(write_mu_), prune_ GUARDED_BY(write_mu_),
      shred_key_ GUARDED_BY(write_mu_), shred_payloads_ GUARDED_BY(write_mu_),
      put_state_ GUARDED_BY(write_mu_), delete_state_ GUARDED_BY(write_mu_),
      bump_state_version_ GUARDED_BY(write_mu_);
  Mutex read_mu_;
  Database reader_ GUARDED_BY(read_mu_);

  // Range reads of records and tiles, which verification makes from several
  // threads at once and proofs make often: each on a connection of its own
  // (WAL readers do not wait for each other), taken from a small pool.
  struct RangeReader {
    Mutex mu;
    // Whether a read holds mu: a hint for PickRangeReader, set under mu.
    std::atomic<bool> busy{false};
    Database db GUARDED_BY(mu);  // declared before the statements: closed after them
    Statement tiles GUARDED_BY(mu), records GUARDED_BY(mu), state_version GUARDED_BY(mu);
  };
  // Holds a range reader's lock, marking it busy meanwhile.
  class SCOPED_CAPABILITY RangeReaderLock {
   public:
    explicit RangeReaderLock(RangeReader* r) ACQUIRE(r->mu) : r_(r) {
      r_->mu.Lock();
      r_->busy.store(true, std::memory_order_relaxed);
    }
    ~RangeReaderLock() RELEASE() {
      r_->busy.store(false, std::memory_order_relaxed);
      r_->mu.Unlock();
    }
    RangeReaderLock(const RangeReaderLock&) = delete;
    RangeReaderLock& operator=(const RangeReaderLock&) = delete;

   private:
    RangeReader* const r_;
  };
  static constexpr size_t kRangeReaders = 4;
  std::vector<std::unique_ptr<RangeReader>> range_readers_;
  std::atomic<size_t> next_range_reader_{0};
  // A reader that is not busy, else the next one in turn; the caller locks
  // it with a RangeReaderLock.
  RangeReader* PickRangeReader();

  Database checkpointer_;
  Mutex checkpoint_mu_;
  CondVar checkpoint_cv_;
  bool checkpoint_wanted_ GUARDED_BY(checkpoint_mu_) = false;
  bool stopping_ GUARDED_BY(checkpoint_mu_) = false;
  int checkpoint_pages_ = 256;
  std::thread checkpoint_thread_;
};

}  // namespace interlock::store
