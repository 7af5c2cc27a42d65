// The audit log end to end over a real SQLite file: appends and proofs, group
// commit, tampering with the file, storage faults, access rules, retention,
// backup and the master key.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audit/crypto.h"
#include "audit/event.h"
#include "audit/log.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/tiles.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/random.h"
#include "store/fault_store.h"
#include "store/sqlite.h"
#include "test_util.h"

namespace interlock::audit {
namespace {

using interlock::testing::FlipBits;
using interlock::testing::TempDir;
using json = nlohmann::json;
using store::FaultStore;
using store::StoreOp;

UnixMillis At(std::string_view text) {
  auto t = ParseTimestamp(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

// A deployment event by `actor` in `environment`, told apart by `n`.
std::string Deploy(const std::string& actor, const std::string& environment, int n) {
  return json{
      {"event_type", "deploy"},
      {"actor", {{"type", "human"}, {"id", actor}}},
      {"environment", environment},
      {"action", {{"type", "deploy"}, {"target", "api"}, {"version", fmt::format("1.0.{}", n)}}}}
      .dump();
}

const Reader kSecurityLead{"erin", "human", ReadScope::kAll, {"erin"}, false};

// RFC 9162 MTH computed straight from the definition, independent of the
// tiles and the compact range.
Hash TreeHead(std::span<const Hash> leaves) {
  if (leaves.empty()) return EmptyRoot();
  if (leaves.size() == 1) return leaves[0];
  size_t split = 1;
  while (split * 2 < leaves.size()) split *= 2;
  return NodeHash(TreeHead(leaves.first(split)), TreeHead(leaves.subspan(split)));
}

// The log's SQLite file opened directly, as someone holding the file could.
// Use only while no AuditLog has the file open.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    auto db = store::Database::Open(path, false, nullptr);
    EXPECT_TRUE(db.has_value()) << db.error().message();
    if (db) db_ = std::move(*db);
  }

  void Exec(const std::string& sql) {
    auto ok = db_.Exec(sql);
    EXPECT_TRUE(ok.has_value()) << sql << ": " << ok.error().message();
  }

  // The first column of the first row of `sql`, as bytes.
  std::string Bytes(const std::string& sql) {
    auto s = db_.Prepare(sql);
    EXPECT_TRUE(s.has_value()) << sql;
    if (!s) return {};
    auto row = s->Step();
    EXPECT_TRUE(row.has_value() && *row) << sql;
    return row && *row ? s->Text(0) : std::string();
  }

  int64_t Int(const std::string& sql) {
    auto s = db_.Prepare(sql);
    EXPECT_TRUE(s.has_value()) << sql;
    if (!s) return -1;
    auto row = s->Step();
    EXPECT_TRUE(row.has_value() && *row) << sql;
    return row && *row ? s->Int(0) : -1;
  }

  // Runs `sql`, whose parameters are bound in order to `values` as blobs.
  void Write(const std::string& sql, const std::vector<std::string>& values) {
    auto s = db_.Prepare(sql);
    ASSERT_TRUE(s.has_value()) << sql;
    for (size_t i = 0; i < values.size(); ++i) s->BindBlob(static_cast<int>(i + 1), values[i]);
    auto ok = s->Run();
    EXPECT_TRUE(ok.has_value()) << sql << ": " << ok.error().message();
    EXPECT_EQ(db_.Changes(), 1) << sql;
  }

  // Flips the lowest bit of byte `offset` of one blob: `column` of the row
  // of `table` that `where` selects.
  void FlipByte(const std::string& table, const std::string& column, const std::string& where,
                size_t offset) {
    std::string bytes = Bytes(fmt::format("SELECT {} FROM {} WHERE {}", column, table, where));
    ASSERT_GT(bytes.size(), offset) << table << "." << column << " where " << where;
    FlipBits(bytes, offset);
    Write(fmt::format("UPDATE {} SET {} = ? WHERE {}", table, column, where), {bytes});
  }

 private:
  store::Database db_;
};

class AuditLogTest : public ::testing::Test {
 protected:
  LogOptions Options(const std::string& data_dir) {
    LogOptions options;
    options.data_dir = data_dir;
    options.fs = &fs_;
    options.clock = &clock_;
    options.random = &random_;
    return options;
  }

  std::unique_ptr<AuditLog> Open(const LogOptions& options,
                                 const store::SqliteOptions& sqlite = {}) {
    auto log = testing::OpenSqliteLog(options, sqlite);
    if (!log) {
      ADD_FAILURE() << "cannot open the log: " << log.error().message();
      return nullptr;
    }
    return std::move(*log);
  }
  std::unique_ptr<AuditLog> Open() { return Open(Options(data_)); }

  // The log of `options` over its SQLite store wrapped in a FaultStore,
  // which `*faults` points to while the log lives.
  std::unique_ptr<AuditLog> OpenWithFaults(const LogOptions& options, FaultStore** faults) {
    auto sqlite = store::SqliteAuditStore::OpenInDirectory(fs_, options.data_dir);
    if (!sqlite) {
      ADD_FAILURE() << "cannot open the store: " << sqlite.error().message();
      return nullptr;
    }
    auto wrapped = std::make_unique<FaultStore>(std::move(*sqlite));
    *faults = wrapped.get();
    auto log = AuditLog::Open(options, std::move(wrapped));
    if (!log) {
      ADD_FAILURE() << "cannot open the log: " << log.error().message();
      return nullptr;
    }
    return std::move(*log);
  }

  static Appended MustAppend(AuditLog& log, const std::string& event) {
    auto appended = log.Append(event);
    EXPECT_TRUE(appended.has_value()) << appended.error().message();
    return appended.value_or(Appended{});
  }

  // Every record, as the security lead reads them.
  static std::vector<Entry> All(AuditLog& log, QueryFilter filter = {}) {
    filter.limit = 100000;
    auto entries = log.Query(kSecurityLead, filter);
    EXPECT_TRUE(entries.has_value()) << entries.error().message();
    return entries.value_or(std::vector<Entry>{});
  }

  static std::vector<Entry> Deploys(AuditLog& log) {
    QueryFilter filter;
    filter.event_type = "deploy";
    return All(log, filter);
  }

  static VerifyReport MustVerify(AuditLog& log, const VerifyOptions& options = {}) {
    auto report = log.Verify(options);
    EXPECT_TRUE(report.has_value()) << report.error().message();
    return report.value_or(VerifyReport{});
  }

  // Writes `n` deployments by alternating actors and environments, signs a
  // checkpoint of them and closes the log. Returns that checkpoint.
  std::string WriteEvents(int n) {
    auto log = Open();
    if (!log) return {};
    const char* actors[] = {"alice", "bob", "carol"};
    const char* environments[] = {"production", "staging", "dev"};
    for (int i = 0; i < n; ++i) MustAppend(*log, Deploy(actors[i % 3], environments[i % 3], i));
    auto note = log->Checkpoint();
    EXPECT_TRUE(note.has_value()) << note.error().message();
    return note.value_or("");
  }

  VerifyReport ReopenAndVerify(std::optional<std::string> checkpoint_note = std::nullopt) {
    auto log = Open();
    if (!log) return {};
    VerifyOptions options;
    options.checkpoint_note = std::move(checkpoint_note);
    return MustVerify(*log, options);
  }

  std::string Db() const { return data_ + "/audit.db"; }

  TempDir dir_;
  std::string data_ = dir_.path() + "/data";
  RealFileSystem fs_;
  ManualClock clock_{At("2026-01-10T09:00:00Z")};
  SeededRandom random_{20260110};
};

// ---------------------------------------------------------------------------
// Appends, proofs and checkpoints

TEST_F(AuditLogTest, AppendedEntriesProveAndVerify) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  std::vector<Appended> appended;
  for (int i = 0; i < 21; ++i) {
    appended.push_back(MustAppend(*log, Deploy(i % 2 ? "alice" : "bob", "production", i)));
    EXPECT_EQ(appended.back().index, static_cast<uint64_t>(i));
    clock_.Advance(1500);  // past the checkpoint interval: some batches sign one
  }
  ASSERT_EQ(log->size(), 21u);
  std::vector<Hash> leaves;
  for (const Appended& a : appended) leaves.push_back(a.leaf_hash);

  // The stored leaf bytes hash to the acknowledged leaf hashes.
  std::vector<Entry> entries = Deploys(*log);
  ASSERT_EQ(entries.size(), 21u);
  for (const Entry& e : entries) {
    EXPECT_EQ(LeafHash(e.leaf), leaves[e.index]) << e.index;
    EXPECT_EQ(e.leaf_hash, leaves[e.index]) << e.index;
    EXPECT_EQ(json::parse(e.event)["action"]["version"], fmt::format("1.0.{}", e.index));
  }

  for (uint64_t size : {1u, 2u, 7u, 16u, 21u}) {
    std::span<const Hash> prefix(leaves.data(), size);
    for (uint64_t index = 0; index < size; ++index) {
      auto p = log->ProveInclusion(index, size);
      ASSERT_TRUE(p.has_value()) << p.error().message();
      EXPECT_EQ(p->leaf_hash, appended[index].leaf_hash);
      EXPECT_EQ(p->root, TreeHead(prefix)) << "size " << size;
      EXPECT_TRUE(VerifyInclusion(index, size, p->leaf_hash, p->proof, p->root).has_value())
          << index << " in " << size;
      EXPECT_FALSE(
          VerifyInclusion(index, size, leaves[(index + 1) % 21], p->proof, p->root).has_value());
    }
  }
  for (uint64_t from : {1u, 5u, 16u, 20u}) {
    auto c = log->ProveConsistency(from, std::nullopt);
    ASSERT_TRUE(c.has_value()) << c.error().message();
    EXPECT_EQ(c->to, log->size());
    EXPECT_EQ(c->from_root, TreeHead(std::span<const Hash>(leaves.data(), from)));
    EXPECT_TRUE(VerifyConsistency(from, c->to, c->from_root, c->to_root, c->proof).has_value());
  }
  EXPECT_FALSE(log->ProveInclusion(log->size(), std::nullopt).has_value());
  EXPECT_FALSE(log->ProveConsistency(0, std::nullopt).has_value());

  auto note = log->Checkpoint();
  ASSERT_TRUE(note.has_value()) << note.error().message();
  auto verifier = NoteVerifier::Parse(log->VerifierKey());
  ASSERT_TRUE(verifier.has_value()) << verifier.error().message();
  EXPECT_EQ(verifier->name(), log->origin());
  auto text = verifier->Verify(*note);
  ASSERT_TRUE(text.has_value()) << text.error().message();
  auto checkpoint = ParseCheckpoint(*text);
  ASSERT_TRUE(checkpoint.has_value()) << checkpoint.error().message();
  EXPECT_EQ(checkpoint->origin, log->origin());
  // The query above was logged: it is part of the signed tree.
  EXPECT_EQ(checkpoint->size, 22u);

  VerifyReport report = MustVerify(*log);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.size, 22u);
  EXPECT_EQ(report.pruned, 0u);
  EXPECT_GE(report.checkpoints, 2u);
  EXPECT_EQ(HashHex(report.root), HashHex(Hash(checkpoint->root)));
  auto head = log->ProveInclusion(0, std::nullopt);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->root, report.root);
}

TEST_F(AuditLogTest, LargeBatchesAndReopensKeepOneTree) {
  // Batches that fill several tiles at once, and writers that start from a
  // tree loaded back from the file, half-way through a tile.
  std::vector<Hash> leaves;
  int n = 0;
  for (size_t batch : {10u, 40u, 1u, 300u}) {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    ASSERT_EQ(log->size(), leaves.size());
    std::vector<Event> events;
    for (size_t i = 0; i < batch; ++i, ++n) {
      auto event = ParseEvent(Deploy("alice", "production", n), clock_.Now());
      ASSERT_TRUE(event.has_value()) << event.error().message();
      events.push_back(std::move(*event));
    }
    auto appended = log->AppendEvents(std::move(events));
    ASSERT_TRUE(appended.has_value()) << appended.error().message();
    ASSERT_EQ(appended->size(), batch);
    for (const Appended& a : *appended) {
      EXPECT_EQ(a.index, leaves.size());
      leaves.push_back(a.leaf_hash);
    }
    auto head = log->ProveInclusion(0, std::nullopt);
    ASSERT_TRUE(head.has_value()) << head.error().message();
    EXPECT_EQ(head->root, TreeHead(leaves)) << "after " << leaves.size();
  }

  auto log = Open();
  ASSERT_NE(log, nullptr);
  VerifyReport report = MustVerify(*log);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.root, TreeHead(leaves));
  for (uint64_t size : {11u, 50u, 51u, 256u, 351u}) {
    std::span<const Hash> prefix(leaves.data(), size);
    for (uint64_t index : {uint64_t{0}, size / 2, size - 1}) {
      auto p = log->ProveInclusion(index, size);
      ASSERT_TRUE(p.has_value()) << p.error().message();
      EXPECT_EQ(p->leaf_hash, leaves[index]);
      EXPECT_EQ(p->root, TreeHead(prefix)) << index << " in " << size;
      EXPECT_TRUE(VerifyInclusion(index, size, leaves[index], p->proof, p->root).has_value());
    }
  }
}

TEST_F(AuditLogTest, ConcurrentAppendsAreDenseAndDurable) {
  constexpr int kThreads = 64;
  constexpr int kPerThread = 50;
  constexpr uint64_t kTotal = kThreads * kPerThread;
  FaultStore* faults = nullptr;  // no faults: only to count the commits
  std::vector<std::vector<Appended>> acked(kThreads);
  std::atomic<int> failures{0};
  {
    auto log = OpenWithFaults(Options(data_), &faults);
    ASSERT_NE(log, nullptr);
    faults->ResetCounters();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int n = 0; n < kPerThread; ++n) {
          std::string event = json{
              {"event_type", "deploy"},
              {"actor", {{"type", "service"}, {"id", fmt::format("t{}", t)}}},
              {"seq", n}}.dump();
          auto a = log->Append(event);
          if (!a) {
            ++failures;
            continue;
          }
          acked[t].push_back(*a);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    ASSERT_EQ(failures.load(), 0);
    // Group commit: far fewer transactions than appends.
    EXPECT_LT(faults->Calls(StoreOp::kCommit), kTotal / 4);

    std::set<uint64_t> indices;
    for (const auto& thread : acked) {
      for (const Appended& a : thread) indices.insert(a.index);
      // One thread's appends are acknowledged in order.
      for (size_t n = 1; n < thread.size(); ++n) EXPECT_LT(thread[n - 1].index, thread[n].index);
    }
    ASSERT_EQ(indices.size(), kTotal);
    EXPECT_EQ(*indices.begin(), 0u);
    EXPECT_EQ(*indices.rbegin(), kTotal - 1);
    EXPECT_EQ(log->size(), kTotal);
    VerifyReport report = MustVerify(*log);
    EXPECT_TRUE(report.ok) << report.problem;
  }

  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), kTotal);
  std::vector<Entry> entries = Deploys(*log);
  ASSERT_EQ(entries.size(), kTotal);
  for (int t = 0; t < kThreads; ++t) {
    for (int n = 0; n < kPerThread; ++n) {
      const Appended& a = acked[t][n];
      const Entry& e = entries[a.index];
      ASSERT_EQ(e.index, a.index);
      EXPECT_EQ(e.leaf_hash, a.leaf_hash) << a.index;
      EXPECT_EQ(LeafHash(e.leaf), a.leaf_hash) << a.index;
      json event = json::parse(e.event);
      EXPECT_EQ(event["actor"]["id"], fmt::format("t{}", t));
      EXPECT_EQ(event["seq"], n);
    }
  }
  VerifyReport report = MustVerify(*log);
  EXPECT_TRUE(report.ok) << report.problem;
}

TEST_F(AuditLogTest, VerifyWhileAppendingFindsNothingWrong) {
  LogOptions options = Options(data_);
  options.checkpoint_interval_ms = 0;  // every batch signs a checkpoint
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  MustAppend(*log, Deploy("alice", "production", 0));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i < 400; ++i) MustAppend(*log, Deploy("alice", "production", i));
    done = true;
  });
  int verified = 0;
  while (!done) {
    VerifyReport report = MustVerify(*log);
    ASSERT_TRUE(report.ok) << "verify " << verified << ": " << report.problem;
    ++verified;
  }
  writer.join();
  EXPECT_GT(verified, 0);
  VerifyReport report = MustVerify(*log);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.size, 400u);
}

// ---------------------------------------------------------------------------
// Tampering with the SQLite file

TEST_F(AuditLogTest, IntactLogVerifies) {
  std::string note = WriteEvents(20);
  VerifyReport report = ReopenAndVerify(note);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.size, 20u);
  EXPECT_FALSE(report.first_bad_index.has_value());
}

TEST_F(AuditLogTest, ChangedPayloadIsFoundAtItsIndex) {
  WriteEvents(20);
  RawDb(Db()).FlipByte("records", "payload", "idx = 13", 20);
  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 13u);
  EXPECT_EQ(report.problem,
            "record 13: the payload fails authentication (changed, or moved from another index)");
}

// Checkpoints run beside the commits, and the writer steps in when they fall
// behind: under steady appends the WAL stays bounded and the database file
// receives the records.
TEST_F(AuditLogTest, TheWalStaysBoundedUnderSteadyAppends) {
  store::SqliteOptions sqlite;
  sqlite.checkpoint_pages = 8;
  auto log = Open(Options(data_), sqlite);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 1500; ++i) MustAppend(*log, Deploy("alice", "dev", i));
  uintmax_t wal = std::filesystem::file_size(Db() + "-wal");
  uintmax_t db = std::filesystem::file_size(Db());
  EXPECT_LT(wal, uintmax_t{1} << 20) << "WAL of " << wal << " bytes";
  EXPECT_GT(db, uintmax_t{200} << 10) << "database of " << db << " bytes";
  log.reset();
  VerifyReport report = ReopenAndVerify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.size, 1500u);
}

// Verification checks slices of 1,024 leaves on worker threads: a log of
// several slices finds damage at the same index, with the same words, as a
// small one.
TEST_F(AuditLogTest, DamageInALogOfManySlicesIsFoundAtItsIndex) {
  std::string note = WriteEvents(4500);
  VerifyReport intact = ReopenAndVerify(note);
  EXPECT_TRUE(intact.ok) << intact.problem;
  EXPECT_EQ(intact.size, 4500u);
  std::string pristine = dir_.path() + "/pristine.db";
  std::filesystem::copy_file(Db(), pristine);
  struct Damage {
    std::function<void(RawDb&)> apply;
    uint64_t index;
    std::string problem;  // empty: any words
  };
  std::vector<Damage> damages = {
      {[](RawDb& db) { db.FlipByte("records", "payload", "idx = 4100", 20); }, 4100,
       "record 4100: the payload fails authentication (changed, or moved from another index)"},
      {[](RawDb& db) { db.Exec("DELETE FROM records WHERE idx = 2048"); }, 2048,
       "record 2048 is missing"},
      {[](RawDb& db) { db.Exec("DELETE FROM records WHERE idx = 1023"); }, 1023,
       "record 1023 is missing"},
      // A stored node of the first tile level, inside the third slice.
      {[](RawDb& db) { db.FlipByte("tiles", "hashes", "level = 0 AND idx = 150", 0); }, 2400, ""},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.index);
    std::filesystem::copy_file(pristine, Db(), std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove(Db() + "-wal");
    {
      RawDb db(Db());
      damage.apply(db);
    }
    VerifyReport report = ReopenAndVerify();
    EXPECT_FALSE(report.ok);
    ASSERT_TRUE(report.first_bad_index.has_value()) << report.problem;
    if (damage.problem.empty()) {
      EXPECT_GE(*report.first_bad_index, damage.index) << report.problem;
      EXPECT_LT(*report.first_bad_index, damage.index + 16) << report.problem;
    } else {
      EXPECT_EQ(*report.first_bad_index, damage.index);
      EXPECT_EQ(report.problem, damage.problem);
    }
  }
}

TEST_F(AuditLogTest, DeletedRecordIsFoundAtItsIndex) {
  WriteEvents(20);
  RawDb(Db()).Exec("DELETE FROM records WHERE idx = 13");
  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 13u);
  EXPECT_EQ(report.problem, "record 13 is missing");
}

TEST_F(AuditLogTest, ReorderedRecordsAreFoundAtTheFirst) {
  WriteEvents(20);
  {
    RawDb db(Db());
    // Rows 3 and 11 trade everything but their index.
    const char* columns[] = {"recorded_at", "class",     "key_id", "event_type",
                             "environment", "actor_tag", "tag",    "payload"};
    for (const char* column : columns) {
      std::string third =
          db.Bytes(fmt::format("SELECT quote({}) FROM records WHERE idx = 3", column));
      std::string eleventh =
          db.Bytes(fmt::format("SELECT quote({}) FROM records WHERE idx = 11", column));
      db.Exec(fmt::format("UPDATE records SET {} = {} WHERE idx = 3", column, eleventh));
      db.Exec(fmt::format("UPDATE records SET {} = {} WHERE idx = 11", column, third));
    }
    EXPECT_EQ(db.Int("SELECT count(*) FROM records"), 20);
  }
  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 3u);
  EXPECT_EQ(report.problem,
            "record 3: its row was altered (index, time, class, key id or query columns no "
            "longer match the row tag)");
}

TEST_F(AuditLogTest, PayloadErasedWithoutAPruneIsFound) {
  WriteEvents(20);
  RawDb(Db()).Exec("UPDATE records SET payload = NULL WHERE idx = 13");
  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 13u);
  EXPECT_EQ(report.problem,
            "record 13: its payload is gone, but no audit_prune in the log removed it (class "
            "staging, recorded 2026-01-10T09:00:00.000Z)");
}

TEST_F(AuditLogTest, DataKeyDeletedWithoutAPruneIsFound) {
  WriteEvents(20);
  RawDb(Db()).Exec("DELETE FROM keys WHERE id = 'staging-2026-01'");
  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 1u);  // the first staging record
  EXPECT_EQ(report.problem,
            "record 1: its data key is gone, but no audit_prune in the log removed it (class "
            "staging, recorded 2026-01-10T09:00:00.000Z)");
}

TEST_F(AuditLogTest, RowMadeToLookExpiredIsFound) {
  // Backdating a production record and calling it dev would make its erasure
  // look like retention; the row tag says otherwise.
  const char* edits[] = {"class = 2, recorded_at = 0, payload = NULL", "event_type = 'other'",
                         "environment = 'dev'", "actor_tag = x'00'", "key_id = 'dev-2026-01'"};
  for (const char* edit : edits) {
    SCOPED_TRACE(edit);
    std::filesystem::remove_all(data_);
    WriteEvents(20);
    RawDb(Db()).Exec(fmt::format("UPDATE records SET {} WHERE idx = 12", edit));
    VerifyReport report = ReopenAndVerify();
    EXPECT_FALSE(report.ok);
    EXPECT_EQ(report.first_bad_index, 12u);
    EXPECT_EQ(report.problem,
              "record 12: its row was altered (index, time, class, key id or query columns no "
              "longer match the row tag)");
  }
}

TEST_F(AuditLogTest, TruncationIsFoundAgainstASavedCheckpoint) {
  std::string note = WriteEvents(20);
  {
    RawDb db(Db());
    db.Exec("DELETE FROM records WHERE idx >= 13");
    db.Exec("UPDATE log SET size = 13");
    db.Exec("DELETE FROM checkpoints WHERE size > 13");
  }
  VerifyReport report = ReopenAndVerify(note);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 13u);
  EXPECT_EQ(report.problem,
            "the log is truncated: it has 13 entries, but the checkpoint given covers 20");
}

TEST_F(AuditLogTest, TruncationWithoutASavedCheckpointGoesUnnoticed) {
  // What the saved checkpoint is for: the shortened log is self-consistent.
  WriteEvents(20);
  {
    RawDb db(Db());
    db.Exec("DELETE FROM records WHERE idx >= 13");
    db.Exec("UPDATE log SET size = 13");
    db.Exec("DELETE FROM checkpoints WHERE size > 13");
  }
  VerifyReport report = ReopenAndVerify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.size, 13u);
}

TEST_F(AuditLogTest, RewrittenHistoryNoLongerMatchesASavedCheckpoint) {
  std::string fork_dir = dir_.path() + "/fork";
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 5; ++i) MustAppend(*log, Deploy("alice", "production", i));
  }
  std::filesystem::copy(data_, fork_dir, std::filesystem::copy_options::recursive);
  std::string note;
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    for (int i = 5; i < 10; ++i) MustAppend(*log, Deploy("alice", "production", i));
    note = log->Checkpoint().value_or("");
  }
  {
    // The same log with another history from index 5: signed by the real
    // key, so every stored checkpoint of it verifies.
    auto log = Open(Options(fork_dir));
    ASSERT_NE(log, nullptr);
    for (int i = 5; i < 10; ++i) MustAppend(*log, Deploy("mallory", "production", i));
    VerifyReport own = MustVerify(*log);
    EXPECT_TRUE(own.ok) << own.problem;
  }
  std::filesystem::copy_file(fork_dir + "/audit.db", Db(),
                             std::filesystem::copy_options::overwrite_existing);

  VerifyReport report = ReopenAndVerify(note);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 5u);
  EXPECT_EQ(report.problem,
            "the log no longer matches the checkpoint given (size 10): an entry between index 5 "
            "and 9 was changed");
}

TEST_F(AuditLogTest, ChangedLeafHashInATileIsFoundAtThatLeaf) {
  WriteEvents(20);
  {
    RawDb db(Db());
    std::string tile = db.Bytes("SELECT hashes FROM tiles WHERE level = 0 AND idx = 0");
    ASSERT_EQ(tile.size(), kTileBytes);
    FlipBits(tile, SlotOf(0, 9).offset + 5, 0x40);
    db.Write("UPDATE tiles SET hashes = ? WHERE level = 0 AND idx = 0", {tile});
  }
  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 9u);
  EXPECT_EQ(report.problem, "record 9: its leaf hash differs from the one in the tree");
}

TEST_F(AuditLogTest, ChangedInteriorNodeIsFoundAtItsFirstLeaf) {
  WriteEvents(20);
  // The node over leaves 4 and 5.
  RawDb(Db()).FlipByte("tiles", "hashes", "level = 0 AND idx = 0", SlotOf(1, 2).offset);
  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 4u);
  EXPECT_EQ(report.problem,
            "the stored tree node at level 1, index 2 differs from the one recomputed from "
            "records 4 to 5");
}

TEST_F(AuditLogTest, ForgedStoredCheckpointIsRefused) {
  std::string note = WriteEvents(20);
  std::string verifier_key;
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    verifier_key = log->VerifierKey();
  }
  // The root line changed, the signature kept.
  size_t root_start = note.find('\n', note.find('\n') + 1) + 1;
  std::string forged = note;
  forged[root_start] = forged[root_start] == 'A' ? 'B' : 'A';
  RawDb(Db()).Write("UPDATE checkpoints SET note = ? WHERE size = 20", {forged});

  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_FALSE(report.first_bad_index.has_value());
  std::string key_name = verifier_key.substr(0, verifier_key.find('+', verifier_key.find('+') + 1));
  EXPECT_EQ(report.problem, "the stored checkpoint of size 20: invalid signature by " + key_name);
}

TEST_F(AuditLogTest, StoredCheckpointOfAnotherSizeIsRefused) {
  WriteEvents(20);
  {
    RawDb db(Db());
    std::string small = db.Bytes("SELECT note FROM checkpoints WHERE size = 1");
    db.Write("UPDATE checkpoints SET note = ? WHERE size = 20", {small});
  }
  VerifyReport report = ReopenAndVerify();
  EXPECT_FALSE(report.ok);
  EXPECT_FALSE(report.first_bad_index.has_value());
  EXPECT_EQ(report.problem, "the stored checkpoint of size 20 says size 1");
}

// ---------------------------------------------------------------------------
// Storage faults: the append fails, clearly, and nothing durable is lost

class AuditLogFaultTest : public AuditLogTest {
 protected:
  // Five acknowledged appends, then one in a new month (a new data key)
  // while commits fail with `error` (every one if `sticky`), then one after
  // the fault is cleared.
  void ExpectFailedCommitLosesNothing(const Error& error, bool sticky) {
    std::vector<Appended> acked;
    {
      FaultStore* faults = nullptr;
      auto log = OpenWithFaults(Options(data_), &faults);
      ASSERT_NE(log, nullptr);
      for (int i = 0; i < 5; ++i)
        acked.push_back(MustAppend(*log, Deploy("alice", "production", i)));
      clock_.Advance(31 * kDay);

      faults->FailAfter(StoreOp::kCommit, 0, error, sticky);
      auto failed = log->Append(Deploy("alice", "production", 99));
      faults->Clear();
      ASSERT_FALSE(failed.has_value());
      EXPECT_EQ(failed.error().kind(), error.kind());
      EXPECT_EQ(failed.error().message(),
                "the audit record could not be made durable: " + error.message());
      EXPECT_EQ(log->size(), 5u);

      auto again = log->Append(Deploy("alice", "production", 5));
      ASSERT_TRUE(again.has_value()) << again.error().message();
      EXPECT_EQ(again->index, 5u);
      acked.push_back(*again);
    }

    auto log = Open();
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->size(), 6u);
    VerifyReport report = MustVerify(*log);
    EXPECT_TRUE(report.ok) << report.problem;
    std::vector<Entry> entries = Deploys(*log);
    ASSERT_EQ(entries.size(), 6u);
    for (const Entry& e : entries) {
      EXPECT_FALSE(e.pruned) << e.index;  // its data key was stored with it
      EXPECT_EQ(e.leaf_hash, acked[e.index].leaf_hash);
      EXPECT_EQ(json::parse(e.event, nullptr, false)["action"]["version"],
                fmt::format("1.0.{}", e.index));
    }
  }
};

TEST_F(AuditLogFaultTest, FailedCommitLosesNothing) {
  ExpectFailedCommitLosesNothing(Error::Io("disk I/O error (fsync)"), /*sticky=*/false);
}

TEST_F(AuditLogFaultTest, FullDiskLosesNothing) {
  ExpectFailedCommitLosesNothing(Error::Io("database or disk is full"), /*sticky=*/true);
}

// A commit refused because the store moved is retried once after the tree is
// loaded again; refused twice, the append fails.
TEST_F(AuditLogFaultTest, CommitRefusedAsMovedIsRetriedOnce) {
  FaultStore* faults = nullptr;
  auto log = OpenWithFaults(Options(data_), &faults);
  ASSERT_NE(log, nullptr);
  MustAppend(*log, Deploy("alice", "production", 0));
  faults->ResetCounters();
  faults->FailAfter(StoreOp::kCommit, 0, Error::Unavailable("the log moved"), /*sticky=*/false);
  EXPECT_EQ(MustAppend(*log, Deploy("alice", "production", 1)).index, 1u);
  EXPECT_EQ(faults->Calls(StoreOp::kCommit), 2u);
  EXPECT_EQ(faults->Calls(StoreOp::kEdgeTiles), 1u);  // the tree loaded again

  faults->FailAfter(StoreOp::kCommit, 0, Error::Unavailable("the log moved"), /*sticky=*/true);
  auto failed = log->Append(Deploy("alice", "production", 2));
  faults->Clear();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(failed.error().message(), "the audit record could not be made durable: the log moved");
  EXPECT_EQ(log->size(), 2u);
  EXPECT_EQ(MustAppend(*log, Deploy("alice", "production", 2)).index, 2u);
}

TEST_F(AuditLogFaultTest, ReadIsRefusedWhenItsRecordCannotBeWritten) {
  FaultStore* faults = nullptr;
  auto log = OpenWithFaults(Options(data_), &faults);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 3; ++i) MustAppend(*log, Deploy("alice", "production", i));

  faults->FailAfter(StoreOp::kCommit, 0, Error::Io("disk I/O error (fsync)"), /*sticky=*/true);
  auto read = log->Query(kSecurityLead, {});
  faults->Clear();
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().kind(), ErrorKind::kIo);
  EXPECT_EQ(read.error().message(),
            "read refused: its access record could not be written: the audit record could not be "
            "made durable: disk I/O error (fsync)");
  EXPECT_EQ(log->size(), 3u);

  // The same read once the record can be written.
  auto entries = log->Query(kSecurityLead, {});
  ASSERT_TRUE(entries.has_value()) << entries.error().message();
  EXPECT_EQ(entries->size(), 3u);
  EXPECT_EQ(log->size(), 4u);
}

// A read that fails returns nothing, so there is nothing to record.
TEST_F(AuditLogFaultTest, FailedStoreReadFailsTheQuery) {
  FaultStore* faults = nullptr;
  auto log = OpenWithFaults(Options(data_), &faults);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 3; ++i) MustAppend(*log, Deploy("alice", "production", i));

  faults->FailAfter(store::kStoreReads, 0, Error::Io("disk I/O error (read)"), /*sticky=*/true);
  auto read = log->Query(kSecurityLead, {});
  faults->Clear();
  ASSERT_FALSE(read.has_value());
  EXPECT_EQ(read.error().kind(), ErrorKind::kIo);
  EXPECT_EQ(read.error().message(), "disk I/O error (read)");
  EXPECT_EQ(log->size(), 3u);
  EXPECT_EQ(faults->Calls(StoreOp::kCommit), 3u);
}

TEST_F(AuditLogFaultTest, StateChangeFailsWithItsRecord) {
  FaultStore* faults = nullptr;
  auto log = OpenWithFaults(Options(data_), &faults);
  ASSERT_NE(log, nullptr);
  auto event = [&](int n) { return *ParseEvent(Deploy("alice", "production", n), clock_.Now()); };
  ASSERT_TRUE(log->Commit(event(0), {{"approval", "a1", "pending"}}).has_value());

  faults->FailAfter(StoreOp::kCommit, 0, Error::Io("disk I/O error (fsync)"), /*sticky=*/true);
  auto failed = log->Commit(event(1), {{"approval", "a1", "approved"}});
  faults->Clear();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(log->size(), 1u);
  auto state = log->LoadState("approval");
  ASSERT_TRUE(state.has_value()) << state.error().message();
  EXPECT_EQ(*state, (std::vector<std::pair<std::string, std::string>>{{"a1", "pending"}}));
}

// Power lost after commits were acknowledged but before they reached the
// disk: the log opened again is the log as it was made durable, its state
// rows agree with it, and it verifies and grows on from there.
TEST_F(AuditLogFaultTest, PowerLossLeavesTheDurableLogWhole) {
  std::vector<Appended> durable;
  {
    FaultStore* faults = nullptr;
    auto log = OpenWithFaults(Options(data_), &faults);
    ASSERT_NE(log, nullptr);
    auto event = [&](int n) { return *ParseEvent(Deploy("alice", "production", n), clock_.Now()); };
    ASSERT_TRUE(log->Commit(event(0), {{"approval", "a1", "pending"}}).has_value());
    durable.push_back(MustAppend(*log, Deploy("alice", "production", 1)));
    faults->PowerLossAfter(0);
    ASSERT_TRUE(log->Commit(event(2), {{"approval", "a1", "approved"}}).has_value());
    MustAppend(*log, Deploy("alice", "production", 3));
    EXPECT_EQ(log->size(), 4u);  // as the process saw it before the power went
    EXPECT_EQ(faults->LostCommits(), 2u);
  }  // the final checkpoint is lost too

  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 2u);
  auto state = log->LoadState("approval");
  ASSERT_TRUE(state.has_value()) << state.error().message();
  EXPECT_EQ(*state, (std::vector<std::pair<std::string, std::string>>{{"a1", "pending"}}));
  VerifyReport report = MustVerify(*log);
  EXPECT_TRUE(report.ok) << report.problem;
  std::vector<Entry> entries = Deploys(*log);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].leaf_hash, durable[0].leaf_hash);
  // After the record of that read, at index 2.
  EXPECT_EQ(MustAppend(*log, Deploy("alice", "production", 2)).index, 3u);
}

// ---------------------------------------------------------------------------
// State kept beside the log

TEST_F(AuditLogTest, StateIsCommittedWithItsRecordSealedAndSurvivesReopening) {
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    auto event = [&](int n) { return *ParseEvent(Deploy("bob", "staging", n), clock_.Now()); };
    auto first = log->Commit(event(0), {{"approval", "a1", "pending: the secret plan"},
                                        {"approval", "a2", "pending"},
                                        {"stop", "global", "inactive"}});
    ASSERT_TRUE(first.has_value()) << first.error().message();
    EXPECT_EQ(first->index, 0u);

    // Asynchronous commits are answered from the writer once durable.
    std::mutex m;
    std::condition_variable cv;
    std::vector<uint64_t> answered;
    for (int i = 1; i <= 20; ++i) {
      std::vector<Event> events;
      events.push_back(event(i));
      log->CommitAsync(std::move(events), {{"approval", "a2", fmt::format("revision {}", i)}},
                       [&](Result<std::vector<Appended>> a) {
                         ASSERT_TRUE(a.has_value()) << a.error().message();
                         std::lock_guard lock(m);
                         answered.push_back(a->front().index);
                         cv.notify_all();
                       });
    }
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return answered.size() == 20; });
    std::sort(answered.begin(), answered.end());
    for (uint64_t i = 0; i < 20; ++i) EXPECT_EQ(answered[i], i + 1);
    lock.unlock();
    ASSERT_TRUE(log->Commit(event(21), {{"approval", "a1", std::nullopt}}).has_value());
  }
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->size(), 22u);
  auto approvals = log->LoadState("approval");
  ASSERT_TRUE(approvals.has_value()) << approvals.error().message();
  EXPECT_EQ(*approvals, (std::vector<std::pair<std::string, std::string>>{{"a2", "revision 20"}}));
  auto stop = log->LoadState("stop");
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(*stop, (std::vector<std::pair<std::string, std::string>>{{"global", "inactive"}}));
  log.reset();

  // Sealed at rest, and bound to its kind and id.
  RawDb db(Db());
  EXPECT_EQ(db.Int("SELECT count(*) FROM state WHERE instr(value, 'revision') > 0"), 0);
  db.Exec("UPDATE state SET kind = 'approval', id = 'a9' WHERE kind = 'stop'");
  db.Exec("DELETE FROM state WHERE id = 'a2'");
  // A row moved to another kind and id no longer opens: the log refuses to.
  auto moved = testing::OpenSqliteLog(Options(data_));
  ASSERT_FALSE(moved.has_value());
  EXPECT_EQ(moved.error().message(), "state approval a9: the stored value fails authentication");
}

// Rows bound to the log: a row deleted, restored from an old copy, or added
// outside the log is named, by Open and by Verify.
TEST_F(AuditLogTest, StateRowsAreExactlyWhatTheLogCommitsTo) {
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Commit(std::vector<Event>{}, {{"approval", "a1", "first"}}).has_value());
    ASSERT_TRUE(log->Commit(std::vector<Event>{}, {{"stop", "global", "active"}}).has_value());
  }
  RawDb db(Db());
  db.Exec("CREATE TABLE saved AS SELECT * FROM state");
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    auto report = log->Verify({});
    ASSERT_TRUE(report.has_value());
    EXPECT_TRUE(report->ok) << report->problem;
    ASSERT_TRUE(log->Commit(std::vector<Event>{}, {{"approval", "a1", "second"}}).has_value());
  }
  auto refused = [&](const std::string& says) {
    auto log = testing::OpenSqliteLog(Options(data_));
    ASSERT_FALSE(log.has_value()) << says;
    EXPECT_EQ(log.error().kind(), ErrorKind::kCorruption);
    EXPECT_NE(log.error().message().find(says), std::string::npos) << log.error().message();
  };
  // Restored from the copy taken before "second".
  db.Exec("CREATE TABLE now AS SELECT * FROM state");
  db.Exec("UPDATE state SET value = (SELECT value FROM saved WHERE saved.id = state.id)");
  refused("state row approval a1 is not the version the audit log commits to (record 2)");
  db.Exec("DELETE FROM state");
  db.Exec("INSERT INTO state SELECT * FROM now");
  ASSERT_NE(Open(), nullptr);
  // Deleted.
  db.Exec("DELETE FROM state WHERE kind = 'stop'");
  refused("state row stop global is missing; the audit log commits to it at record 1");
}

// ---------------------------------------------------------------------------
// Access rules

TEST_F(AuditLogTest, ReadersSeeOnlyTheirScopeAndEveryReadIsLogged) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  const char* actors[] = {"alice", "bob", "carol", "dave"};
  for (int i = 0; i < 12; ++i) MustAppend(*log, Deploy(actors[i % 4], "production", i));

  const Reader alice{"alice", "human", ReadScope::kOwn, {"alice"}, false};
  const Reader bob{"bob", "human", ReadScope::kTeam, {"alice", "bob", "carol"}, false};
  const Reader nobody{"frank", "human", ReadScope::kNone, {"frank"}, false};
  const Reader oscar{"oscar", "human", ReadScope::kAll, {"oscar"}, true};
  std::vector<std::pair<std::string, std::string>> reads;  // reader, status, in order

  auto actors_seen = [](const std::vector<Entry>& entries) {
    std::map<std::string, int> seen;
    for (const Entry& e : entries) ++seen[json::parse(e.event)["actor"]["id"].get<std::string>()];
    return seen;
  };
  auto allowed = [&](const Reader& reader, QueryFilter filter = {}) {
    reads.emplace_back(reader.id, "success");
    filter.event_type = "deploy";
    auto entries = log->Query(reader, filter);
    EXPECT_TRUE(entries.has_value()) << reader.id << ": " << entries.error().message();
    return actors_seen(entries.value_or(std::vector<Entry>{}));
  };
  auto refused = [&](const Reader& reader, QueryFilter filter = {}) {
    reads.emplace_back(reader.id, "denied");
    auto entries = log->Query(reader, filter);
    EXPECT_FALSE(entries.has_value()) << reader.id;
    if (entries) return std::string();
    EXPECT_EQ(entries.error().kind(), ErrorKind::kPermissionDenied);
    return entries.error().message();
  };
  auto only = [](const std::string& actor) {
    QueryFilter filter;
    filter.actor = actor;
    return filter;
  };
  using Seen = std::map<std::string, int>;

  EXPECT_EQ(allowed(alice), (Seen{{"alice", 3}}));
  EXPECT_EQ(allowed(alice, only("alice")), (Seen{{"alice", 3}}));
  EXPECT_EQ(refused(alice, only("bob")), "alice may read only their own actions, not those of bob");
  EXPECT_EQ(allowed(bob), (Seen{{"alice", 3}, {"bob", 3}, {"carol", 3}}));
  EXPECT_EQ(allowed(bob, only("carol")), (Seen{{"carol", 3}}));
  EXPECT_EQ(refused(bob, only("dave")),
            "bob may read only their team's actions, not those of dave");
  EXPECT_EQ(allowed(kSecurityLead), (Seen{{"alice", 3}, {"bob", 3}, {"carol", 3}, {"dave", 3}}));
  EXPECT_EQ(allowed(kSecurityLead, only("dave")), (Seen{{"dave", 3}}));
  EXPECT_EQ(refused(nobody), "frank has no read access to the audit log");

  const std::string no_grant =
      "oscar may read the audit log only within a time-limited grant, and has no unexpired one "
      "(interlock audit grant --to oscar)";
  EXPECT_EQ(refused(oscar), no_grant);

  // Only a reader of everything without a grant may grant.
  auto by_alice = log->Grant(alice, "oscar", 30 * kDay);
  ASSERT_FALSE(by_alice.has_value());
  EXPECT_EQ(by_alice.error().message(),
            "alice may not grant audit access: only principals who read the whole log without a "
            "grant may");
  EXPECT_FALSE(log->Grant(oscar, "oscar", 30 * kDay).has_value());
  EXPECT_FALSE(log->Grant(kSecurityLead, "oscar", 0).has_value());
  auto granted = log->Grant(kSecurityLead, "oscar", 30 * kDay);
  ASSERT_TRUE(granted.has_value()) << granted.error().message();

  EXPECT_EQ(allowed(oscar), (Seen{{"alice", 3}, {"bob", 3}, {"carol", 3}, {"dave", 3}}));
  clock_.Advance(30 * kDay - 1);
  EXPECT_EQ(allowed(oscar, only("bob")), (Seen{{"bob", 3}}));
  clock_.Advance(1);  // the grant has expired
  EXPECT_EQ(refused(oscar), no_grant);

  // Every read, allowed or refused, left a record, in order.
  QueryFilter audit_reads;
  audit_reads.event_type = "audit_read";
  std::vector<Entry> logged = All(*log, audit_reads);
  ASSERT_EQ(logged.size(), reads.size());
  for (size_t i = 0; i < reads.size(); ++i) {
    json event = json::parse(logged[i].event);
    EXPECT_EQ(event["actor"]["id"], reads[i].first) << i;
    EXPECT_EQ(event["outcome"]["status"], reads[i].second) << i;
  }
  QueryFilter grants;
  grants.event_type = "audit_access_grant";
  std::vector<Entry> grant_records = All(*log, grants);
  ASSERT_EQ(grant_records.size(), 1u);
  EXPECT_EQ(grant_records[0].index, granted->index);
  EXPECT_EQ(json::parse(grant_records[0].event)["action"]["target"], "oscar");
}

// ---------------------------------------------------------------------------
// Retention

TEST_F(AuditLogTest, PruneDropsExpiredPayloadsAndShredsExpiredKeys) {
  const RetentionPeriods retention = {7 * 365 * kDay, 365 * kDay, 90 * kDay, 7 * 365 * kDay,
                                      7 * 365 * kDay};
  auto log = Open();
  ASSERT_NE(log, nullptr);
  std::vector<Appended> appended;
  for (int i = 0; i < 6; ++i) {
    appended.push_back(MustAppend(*log, Deploy("alice", i % 2 ? "production" : "dev", i)));
  }
  auto note = log->Checkpoint();
  ASSERT_TRUE(note.has_value());
  const uint64_t size = log->size();
  std::vector<InclusionProofResult> proofs;
  for (uint64_t i = 0; i < size; ++i) {
    auto p = log->ProveInclusion(i, size);
    ASSERT_TRUE(p.has_value()) << p.error().message();
    proofs.push_back(*p);
  }

  clock_.Advance(100 * kDay);  // dev records expired; their January key not yet
  auto pruned = log->Prune(retention, "erin");
  ASSERT_TRUE(pruned.has_value()) << pruned.error().message();
  EXPECT_EQ(pruned->payloads, 3u);
  EXPECT_EQ(pruned->keys, 0u);
  EXPECT_TRUE(pruned->shredded_keys.empty());

  std::vector<Entry> entries = Deploys(*log);
  ASSERT_EQ(entries.size(), 6u);
  for (const Entry& e : entries) {
    bool dev = e.index % 2 == 0;
    EXPECT_EQ(e.pruned, dev) << e.index;
    EXPECT_EQ(e.event.empty(), dev) << e.index;
    EXPECT_EQ(e.retention_class, dev ? "dev" : "production");
    EXPECT_EQ(e.leaf_hash, appended[e.index].leaf_hash);  // hashes stay
  }

  auto check_history = [&] {
    VerifyOptions options;
    options.checkpoint_note = *note;
    VerifyReport report = MustVerify(*log, options);
    EXPECT_TRUE(report.ok) << report.problem;
    EXPECT_EQ(report.pruned, 3u);
    for (uint64_t i = 0; i < size; ++i) {
      auto p = log->ProveInclusion(i, size);
      ASSERT_TRUE(p.has_value()) << p.error().message();
      EXPECT_EQ(p->root, proofs[i].root);
      EXPECT_EQ(p->proof, proofs[i].proof);
      EXPECT_TRUE(
          VerifyInclusion(i, size, appended[i].leaf_hash, p->proof, proofs[i].root).has_value());
    }
    auto c = log->ProveConsistency(size, std::nullopt);
    ASSERT_TRUE(c.has_value()) << c.error().message();
    EXPECT_TRUE(VerifyConsistency(size, c->to, proofs[0].root, c->to_root, c->proof).has_value());
  };
  check_history();

  // Past the end of January plus 90 days: the dev key of January goes.
  clock_.Set(At("2026-05-03T00:00:00Z"));
  auto shredded = log->Prune(retention, "erin");
  ASSERT_TRUE(shredded.has_value()) << shredded.error().message();
  EXPECT_EQ(shredded->shredded_keys, std::vector<std::string>{"dev-2026-01"});
  EXPECT_EQ(shredded->keys, 1u);
  check_history();

  QueryFilter prunes;
  prunes.event_type = "audit_prune";
  std::vector<Entry> prune_records = All(*log, prunes);
  ASSERT_EQ(prune_records.size(), 2u);
  EXPECT_EQ(prune_records[0].index, pruned->record.index);
  EXPECT_EQ(prune_records[1].index, shredded->record.index);
  json second = json::parse(prune_records[1].event);
  EXPECT_EQ(second["actor"]["id"], "erin");
  EXPECT_EQ(second["shredded_keys"], json::array({"dev-2026-01"}));
  EXPECT_EQ(second["retention"]["dev"]["retention_days"], 90);

  log.reset();
  RawDb db(Db());
  EXPECT_EQ(db.Int("SELECT count(*) FROM keys WHERE id = 'dev-2026-01'"), 0);
  EXPECT_EQ(db.Int("SELECT count(*) FROM keys WHERE id = 'production-2026-01'"), 1);
  EXPECT_EQ(db.Int("SELECT count(*) FROM records WHERE key_id = 'dev-2026-01' AND payload IS NOT "
                   "NULL"),
            0);
}

// ---------------------------------------------------------------------------
// Backup

TEST_F(AuditLogTest, BackupTakenDuringAppendsOpensAndVerifies) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 20; ++i) MustAppend(*log, Deploy("alice", "production", i));
  std::atomic<int> failures{0};
  std::atomic<bool> finished{false};
  std::thread writer([&] {
    for (int i = 20; i < 220; ++i) {
      if (!log->Append(Deploy("bob", "production", i))) ++failures;
    }
    finished = true;
  });
  // Copy once the appends are under way.
  while (log->size() < 60 && !finished) std::this_thread::yield();
  std::string copy = dir_.path() + "/audit-backup.db";
  auto backed_up = log->Backup(copy);
  writer.join();
  ASSERT_TRUE(backed_up.has_value()) << backed_up.error().message();
  EXPECT_EQ(failures.load(), 0);
  auto again = log->Backup(copy);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().kind(), ErrorKind::kAlreadyExists);
  EXPECT_EQ(again.error().message(), copy + ": already exists");
  const std::string origin = log->origin();
  auto first = log->ProveInclusion(0, std::nullopt);
  ASSERT_TRUE(first.has_value());
  log.reset();

  std::string restored = dir_.path() + "/restored";
  std::filesystem::create_directories(restored);
  std::filesystem::copy_file(copy, restored + "/audit.db");
  for (const char* key : {"master.key", "audit-signing.key"}) {
    std::filesystem::copy_file(data_ + "/" + key, restored + "/" + key);
  }
  auto copy_log = Open(Options(restored));
  ASSERT_NE(copy_log, nullptr);
  EXPECT_EQ(copy_log->origin(), origin);
  EXPECT_GE(copy_log->size(), 60u);
  EXPECT_LE(copy_log->size(), 220u);
  VerifyReport report = MustVerify(*copy_log);
  EXPECT_TRUE(report.ok) << report.problem;
  auto copied_first = copy_log->ProveInclusion(0, std::nullopt);
  ASSERT_TRUE(copied_first.has_value());
  EXPECT_EQ(copied_first->leaf_hash, first->leaf_hash);
  EXPECT_EQ(Deploys(*copy_log).size(), copy_log->size());
}

// ---------------------------------------------------------------------------
// Keys

TEST_F(AuditLogTest, AnotherMasterKeyIsRefusedNamingBothFingerprints) {
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->warnings(),
              std::vector<std::string>{
                  fmt::format("created a new master key at {}/master.key; back it up: without it "
                              "the audit log cannot be read",
                              data_)});
    MustAppend(*log, Deploy("alice", "production", 1));
  }
  EXPECT_EQ(fs_.FileMode(data_ + "/master.key").value_or(0), 0600u);
  EXPECT_EQ(fs_.FileMode(data_ + "/audit-signing.key").value_or(0), 0600u);

  std::string stored_hex = fs_.ReadFile(data_ + "/master.key", 1024).value_or("");
  while (!stored_hex.empty() && stored_hex.back() == '\n') stored_hex.pop_back();
  auto stored_bytes = HexDecode(stored_hex);
  ASSERT_TRUE(stored_bytes.has_value());
  ASSERT_EQ(stored_bytes->size(), 32u);
  Key256 stored;
  std::copy(stored_bytes->begin(), stored_bytes->end(), stored.begin());
  Key256 other;
  other.fill(0x5a);

  LogOptions options = Options(data_);
  options.master_key_env = HexEncode(other);
  auto refused = testing::OpenSqliteLog(options);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kPermissionDenied);
  EXPECT_EQ(refused.error().message(),
            fmt::format("{}: data key production-2026-01 is wrapped by master key {}, but the "
                        "master key loaded (INTERLOCK_MASTER_KEY) is {}",
                        Db(), KeyFingerprint(stored), KeyFingerprint(other)));

  // The right key through the environment opens the log.
  options.master_key_env = stored_hex;
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->warnings().empty());
  EXPECT_EQ(Deploys(*log).size(), 1u);
}

// ---------------------------------------------------------------------------
// Input

TEST_F(AuditLogTest, MalformedEventIsRefusedAndNothingIsWritten) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  MustAppend(*log, Deploy("alice", "production", 1));
  MustAppend(*log, Deploy("alice", "production", 2));

  struct Case {
    std::string event;
    std::string message;
  } cases[] = {
      {R"({"event_type":"deploy","actor":{"id":"u","type":"robot"}})",
       "/actor/type: expected one of human, ai_agent, service, got \"robot\""},
      {"[1]", "event: expected a JSON object, found an array"},
      {R"({"actor":{"id":"u","type":"human"}})", ""},
      {R"({"event_type":"deploy","actor":)", ""},
  };
  for (const Case& c : cases) {
    auto appended = log->Append(c.event);
    ASSERT_FALSE(appended.has_value()) << c.event;
    EXPECT_EQ(appended.error().kind(), ErrorKind::kInvalidArgument) << c.event;
    if (!c.message.empty()) {
      EXPECT_EQ(appended.error().message(), c.message);
    } else {
      EXPECT_FALSE(appended.error().message().empty());
    }
  }
  EXPECT_EQ(log->size(), 2u);
  log.reset();

  RawDb db(Db());
  EXPECT_EQ(db.Int("SELECT size FROM log"), 2);
  EXPECT_EQ(db.Int("SELECT count(*) FROM records"), 2);
}

}  // namespace
}  // namespace interlock::audit
