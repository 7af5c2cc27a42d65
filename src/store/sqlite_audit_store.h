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
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/audit_store.h"
#include "store/sqlite.h"

namespace interlock::store {

struct SqliteOptions {
  const char* vfs = nullptr;  // a SQLite VFS name, for fault injection in tests
  std::string new_log_id;     // the log id recorded if the file is new
  // WAL pages (4 KiB) that start a background checkpoint. Default: 256.
  int checkpoint_pages = 256;
};

class SqliteAuditStore final : public AuditStore {
 public:
  // Opens the store at `path`, creating the file and schema if missing.
  static Result<std::unique_ptr<SqliteAuditStore>> Open(const std::string& path,
                                                        const SqliteOptions& options);

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
  Result<std::vector<StateRow>> State(const std::string& kind) override;
  Result<std::vector<StateRow>> AllState() override;
  Result<void> Backup(const std::string& path) override;

  ~SqliteAuditStore() override;

 private:
  SqliteAuditStore() = default;
  Result<PruneCounts> Apply(const AuditBatch& batch);
  // sqlite3_wal_hook: called on the writer after each commit.
  static int OnWalCommit(void* store, sqlite3* db, const char* name, int pages);
  void RunCheckpoints();

  std::string path_;
  std::mutex write_mu_;
  Database writer_;
  Statement insert_record_, upsert_tile_, insert_key_, insert_checkpoint_, insert_grant_,
      read_size_, write_size_, prune_, shred_key_, shred_payloads_, put_state_, delete_state_;
  std::mutex read_mu_;
  Database reader_;

  // Range reads of records and tiles, which verification makes from several
  // threads at once and proofs make often: each on a connection of its own
  // (WAL readers do not wait for each other), taken from a small pool.
  struct RangeReader {
    std::mutex mu;
    Database db;  // declared before the statements: closed after them
    Statement tiles, records;
  };
  static constexpr size_t kRangeReaders = 4;
  std::vector<std::unique_ptr<RangeReader>> range_readers_;
  std::atomic<size_t> next_range_reader_{0};
  // A free reader, else the next one in turn, locked.
  std::pair<RangeReader*, std::unique_lock<std::mutex>> TakeRangeReader();

  Database checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool stopping_ = false;
  int checkpoint_pages_ = 256;
  std::thread checkpoint_thread_;
};

}  // namespace interlock::store
