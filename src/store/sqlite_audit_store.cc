// Over 600 lines on purpose: one file because the schema, the prepared
// statements and the connections that share them (writer, reader, range
// readers, checkpointer) are one layout that must change together.
#include "store/sqlite_audit_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace interlock::store {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  log_id TEXT NOT NULL,
  size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
  idx INTEGER PRIMARY KEY,
  recorded_at INTEGER NOT NULL,
  class INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  environment TEXT NOT NULL,
  actor_tag BLOB NOT NULL,
  tag BLOB NOT NULL,
  payload BLOB
);
CREATE INDEX IF NOT EXISTS records_by_time ON records (recorded_at);
CREATE INDEX IF NOT EXISTS records_by_actor ON records (actor_tag, idx);
CREATE TABLE IF NOT EXISTS tiles (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY,
  class INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  wrapped BLOB NOT NULL,
  master TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  size INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_versions (
  kind TEXT PRIMARY KEY,
  version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS grants (
  principal TEXT NOT NULL,
  granted_by TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
)sql";

// PRAGMA user_version of the layout above. Files of another version are refused.
constexpr int64_t kSchemaVersion = 1;

constexpr std::string_view kRecordColumns =
    "idx, recorded_at, class, key_id, event_type, environment, actor_tag, tag, payload";

// Assigning into `r` reuses the capacity of its strings.
void ReadRecordInto(const Statement& s, AuditRecord& r) {
  r.index = static_cast<uint64_t>(s.Int(0));
  r.recorded_at = s.Int(1);
  r.retention_class = static_cast<uint8_t>(s.Int(2));
  r.key_id = s.View(3);
  r.event_type = s.View(4);
  r.environment = s.View(5);
  r.actor_tag = s.View(6);
  r.row_tag = s.View(7);
  if (s.IsNull(8)) {
    r.payload.reset();
  } else if (r.payload) {
    *r.payload = s.View(8);
  } else {
    r.payload.emplace(s.View(8));
  }
}

// Runs `s` with integer parameters and reads its rows into `out` with
// `read`, reusing the elements already there.
template <class T, class F>
Result<void> ReadRows(Statement& s, std::initializer_list<uint64_t> params, std::vector<T>& out,
                      F&& read) {
  int i = 1;
  for (uint64_t p : params) s.Bind(i++, static_cast<int64_t>(std::min<uint64_t>(p, INT64_MAX)));
  size_t n = 0;
  Result<void> result = Ok();
  for (;;) {
    auto row = s.Step();
    if (!row) {
      result = std::unexpected(row.error());
      break;
    }
    if (!*row) break;
    if (n == out.size()) out.emplace_back();
    read(s, out[n++]);
  }
  s.Reset();
  out.resize(n);
  return result;
}

AuditRecord ReadRecord(const Statement& s) {
  AuditRecord r;
  ReadRecordInto(s, r);
  return r;
}

// Steps `s` to its end, turning each row into a value with `read`.
template <class F>
auto CollectRows(Statement& s, F&& read) -> Result<std::vector<decltype(read(s))>> {
  std::vector<decltype(read(s))> out;
  for (;;) {
    auto row = s.Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out.push_back(read(s));
  }
}

// Runs `f` and, on any error, rolls the open transaction back. Not
// analysed: `f` requires whatever lock guards `db`, which the caller holds.
template <class F>
NO_THREAD_SAFETY_ANALYSIS auto InTransaction(Database& db, F&& f) -> decltype(f()) {
  if (auto begun = db.Exec("BEGIN IMMEDIATE"); !begun) return std::unexpected(begun.error());
  // A failed ROLLBACK leaves nothing to do: SQLite has already rolled back
  // or will on the next open; the first error is the one to report.
  auto result = f();
  if (!result) {
    [[maybe_unused]] auto rolled_back = db.Exec("ROLLBACK");
    return result;
  }
  if (auto committed = db.Exec("COMMIT"); !committed) {
    [[maybe_unused]] auto rolled_back = db.Exec("ROLLBACK");
    return std::unexpected(committed.error());
  }
  return result;
}

}  // namespace

Result<std::unique_ptr<SqliteAuditStore>> SqliteAuditStore::Open(const std::string& path,
                                                                 const SqliteOptions& options) {
  std::unique_ptr<SqliteAuditStore> store(new SqliteAuditStore());
  // Nobody else sees the store yet; held for the analysis' sake.
  MutexLock write_lock(&store->write_mu_);
  MutexLock read_lock(&store->read_mu_);
  store->path_ = path;
  auto writer = Database::Open(path, true, options.vfs);
  if (!writer) return std::unexpected(writer.error());
  store->writer_ = std::move(*writer);
  Database& w = store->writer_;
  // WAL with synchronous=FULL: a commit returns after the log is fsynced.
  // The writer touches only the right edges of the trees, so 16 MiB of page
  // cache holds a large batch; a larger one (it was 64 MiB) only grows the
  // heap page by page while the file grows, which cost a steady load about
  // 5-7 % of its CPU.
  for (std::string_view pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                                  "PRAGMA foreign_keys=OFF", "PRAGMA cache_size=-16384"}) {
    if (auto ok = w.Exec(pragma); !ok) return std::unexpected(ok.error());
  }
  auto created = InTransaction(w, [&]() REQUIRES(store->write_mu_) -> Result<void> {
    auto version = w.Prepare("PRAGMA user_version");
    if (!version) return std::unexpected(version.error());
    auto row = version->Step();
    if (!row) return std::unexpected(row.error());
    int64_t found = *row ? version->Int(0) : 0;
    version->Reset();
    auto tables = w.Prepare("SELECT count(*) FROM sqlite_master WHERE name = 'records'");
    if (!tables) return std::unexpected(tables.error());
    row = tables->Step();
    if (!row) return std::unexpected(row.error());
    bool existing = *row && tables->Int(0) > 0;
    if (existing && found != kSchemaVersion) {
      return std::unexpected(Error::InvalidArgument(fmt::format(
          "the file has layout version {}; this build reads version {}", found, kSchemaVersion)));
    }
    if (auto ok = w.Exec(kSchema); !ok) return ok;
    if (auto ok = w.Exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion)); !ok) return ok;
    // The log id is recorded by the first ClaimLogId.
    return w.Exec("INSERT OR IGNORE INTO log (id, log_id, size) VALUES (1, '', 0)");
  });
  if (!created) {
    return std::unexpected(Error(
        created.error().kind(),
        fmt::format("{}: cannot create the audit schema: {}", path, created.error().message())));
  }

  struct {
    Statement* stmt;
    std::string_view sql;
  } writes[] = {
      {&store->insert_record_,
       "INSERT INTO records (idx, recorded_at, class, key_id, event_type, environment, "
       "actor_tag, tag, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
      {&store->upsert_tile_, "INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)"},
      {&store->insert_key_,
       "INSERT INTO keys (id, class, period_end, wrapped, master) VALUES (?, ?, ?, ?, ?)"},
      {&store->insert_checkpoint_,
       "INSERT OR REPLACE INTO checkpoints (size, created_at, note) VALUES (?, ?, ?)"},
      {&store->insert_grant_,
       "INSERT INTO grants (principal, granted_by, expires_at) VALUES (?, ?, ?)"},
      {&store->read_size_, "SELECT size FROM log WHERE id = 1"},
      {&store->write_size_, "UPDATE log SET size = ? WHERE id = 1"},
      {&store->prune_,
       "UPDATE records SET payload = NULL WHERE class = ? AND recorded_at < ? AND payload IS NOT "
       "NULL"},
      {&store->shred_key_, "DELETE FROM keys WHERE id = ?"},
      {&store->put_state_, "INSERT OR REPLACE INTO state (kind, id, value) VALUES (?, ?, ?)"},
      {&store->delete_state_, "DELETE FROM state WHERE kind = ? AND id = ?"},
      {&store->bump_state_version_,
       "INSERT INTO state_versions (kind, version) VALUES (?, 1) "
       "ON CONFLICT (kind) DO UPDATE SET version = version + 1"},
      {&store->shred_payloads_,
       "UPDATE records SET payload = NULL WHERE key_id = ? AND payload IS NOT NULL"},
  };
  for (auto& [stmt, sql] : writes) {
    auto prepared = w.Prepare(sql);
    if (!prepared) return std::unexpected(prepared.error());
    *stmt = std::move(*prepared);
  }

  // A reading connection. Proofs read tiles at random: keep many pages
  // cached and map the file.
  auto open_reader = [&]() -> Result<Database> {
    auto db = Database::Open(path, false, options.vfs);
    if (!db) return std::unexpected(db.error());
    for (std::string_view pragma : {"PRAGMA cache_size=-65536", "PRAGMA mmap_size=4294967296"}) {
      if (auto ok = db->Exec(pragma); !ok) return std::unexpected(ok.error());
    }
    return db;
  };
  auto reader = open_reader();
  if (!reader) return std::unexpected(reader.error());
  store->reader_ = std::move(*reader);
  for (size_t i = 0; i < kRangeReaders; ++i) {
    auto r = std::make_unique<RangeReader>();
    RangeReaderLock lock(r.get());
    auto db = open_reader();
    if (!db) return std::unexpected(db.error());
    r->db = std::move(*db);
    auto tiles = r->db.Prepare(
        "SELECT idx, hashes FROM tiles WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx");
    if (!tiles) return std::unexpected(tiles.error());
    r->tiles = std::move(*tiles);
    auto records = r->db.Prepare(fmt::format(
        "SELECT {} FROM records WHERE idx >= ? AND idx < ? ORDER BY idx", kRecordColumns));
    if (!records) return std::unexpected(records.error());
    r->records = std::move(*records);
    auto state_version = r->db.Prepare("SELECT version FROM state_versions WHERE kind = ?");
    if (!state_version) return std::unexpected(state_version.error());
    r->state_version = std::move(*state_version);
    store->range_readers_.push_back(std::move(r));
  }

  // Checkpoints leave the writer: the hook replaces SQLite's automatic
  // checkpoint, which would copy the WAL inside a commit.
  auto checkpointer = Database::Open(path, false, options.vfs);
  if (!checkpointer) return std::unexpected(checkpointer.error());
  store->checkpointer_ = std::move(*checkpointer);
  // A connection learns that the file is in WAL mode when it first reads
  // it; until then a checkpoint does nothing.
  if (auto ok = store->checkpointer_.Exec("SELECT count(*) FROM log"); !ok) {
    return std::unexpected(ok.error());
  }
  store->checkpoint_pages_ = std::max(1, options.checkpoint_pages);
  sqlite3_wal_hook(w.raw(), &SqliteAuditStore::OnWalCommit, store.get());
  store->checkpoint_thread_ = std::thread([s = store.get()] { s->RunCheckpoints(); });
  return store;
}

Result<std::unique_ptr<SqliteAuditStore>> SqliteAuditStore::OpenInDirectory(
    FileSystem& fs, const std::string& data_dir, const SqliteOptions& options) {
  if (auto made = fs.CreateDirectories(data_dir); !made) return std::unexpected(made.error());
  return Open(JoinPath(data_dir, std::string(kSqliteAuditFile)), options);
}

SqliteAuditStore::~SqliteAuditStore() {
  {
    MutexLock lock(&checkpoint_mu_);
    stopping_ = true;
  }
  checkpoint_cv_.SignalAll();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  MutexLock lock(&write_mu_);
  if (writer_.raw()) sqlite3_wal_hook(writer_.raw(), nullptr, nullptr);
}

int SqliteAuditStore::OnWalCommit(void* arg, sqlite3* db, const char*, int pages) {
  auto* store = static_cast<SqliteAuditStore*>(arg);
  if (pages >= 4 * store->checkpoint_pages_) {
    // Between two commits, on the writer: copies what the background
    // checkpoints have not, and lets the next commit restart the WAL. A
    // failure leaves the WAL as it was; the next commit tries again.
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= store->checkpoint_pages_) {
    {
      MutexLock lock(&store->checkpoint_mu_);
      store->checkpoint_wanted_ = true;
    }
    store->checkpoint_cv_.Signal();
  }
  return SQLITE_OK;
}

void SqliteAuditStore::RunCheckpoints() {
  MutexLock lock(&checkpoint_mu_);
  for (;;) {
    while (!stopping_ && !checkpoint_wanted_) checkpoint_cv_.Wait(&checkpoint_mu_);
    if (stopping_) return;
    checkpoint_wanted_ = false;
    checkpoint_mu_.Unlock();
    // Passive: copies what no reader still needs, never waits for or
    // blocks the writer. What it cannot copy now is copied next time; a
    // failure (a full disk) leaves the WAL longer, and commits go on.
    sqlite3_wal_checkpoint_v2(checkpointer_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
    checkpoint_mu_.Lock();
  }
}

Result<AuditMeta> SqliteAuditStore::Meta() {
  MutexLock lock(&read_mu_);
  auto s = reader_.Prepare("SELECT log_id, size FROM log WHERE id = 1");
  if (!s) return std::unexpected(s.error());
  auto row = s->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row)
    return std::unexpected(Error::Corruption(fmt::format("{}: the log row is missing", path_)));
  return AuditMeta{s->Text(0), static_cast<uint64_t>(s->Int(1))};
}

Result<std::string> SqliteAuditStore::ClaimLogId(const std::string& proposed) {
  MutexLock lock(&write_mu_);
  return InTransaction(writer_, [&]() REQUIRES(write_mu_) -> Result<std::string> {
    auto claim = writer_.Prepare("UPDATE log SET log_id = ? WHERE id = 1 AND log_id = ''");
    if (!claim) return std::unexpected(claim.error());
    claim->Bind(1, proposed);
    if (auto ok = claim->Run(); !ok) return std::unexpected(ok.error());
    auto read = writer_.Prepare("SELECT log_id FROM log WHERE id = 1");
    if (!read) return std::unexpected(read.error());
    auto row = read->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      return std::unexpected(Error::Corruption(fmt::format("{}: the log row is missing", path_)));
    }
    return read->Text(0);
  });
}

Result<PruneCounts> SqliteAuditStore::Commit(const AuditBatch& batch) {
  MutexLock lock(&write_mu_);
  return InTransaction(writer_, [&]() REQUIRES(write_mu_) { return Apply(batch); });
}

Result<PruneCounts> SqliteAuditStore::Apply(const AuditBatch& batch) {
  auto row = read_size_.Step();
  if (!row) return std::unexpected(row.error());
  uint64_t size = *row ? static_cast<uint64_t>(read_size_.Int(0)) : 0;
  read_size_.Reset();
  if (size != batch.base_size) {
    return std::unexpected(Error::Unavailable(
        fmt::format("the audit log grew to {} entries elsewhere (expected {}); reload and retry",
                    size, batch.base_size)));
  }
  for (const AuditKey& k : batch.keys) {
    insert_key_.Bind(1, k.id);
    insert_key_.Bind(2, static_cast<int64_t>(k.retention_class));
    insert_key_.Bind(3, k.period_end);
    insert_key_.BindBlob(4, k.wrapped);
    insert_key_.Bind(5, k.master_fingerprint);
    if (auto ok = insert_key_.Run(); !ok) return std::unexpected(ok.error());
  }
  for (const AuditRecord& r : batch.records) {
    insert_record_.Bind(1, static_cast<int64_t>(r.index));
    insert_record_.Bind(2, r.recorded_at);
    insert_record_.Bind(3, static_cast<int64_t>(r.retention_class));
    insert_record_.Bind(4, r.key_id);
    insert_record_.Bind(5, r.event_type);
    insert_record_.Bind(6, r.environment);
    insert_record_.BindBlob(7, r.actor_tag);
    insert_record_.BindBlob(8, r.row_tag);
    if (r.payload) {
      insert_record_.BindBlob(9, *r.payload);
    } else {
      insert_record_.BindNull(9);
    }
    if (auto ok = insert_record_.Run(); !ok) return std::unexpected(ok.error());
  }
  for (const AuditTile& t : batch.tiles) {
    upsert_tile_.Bind(1, static_cast<int64_t>(t.level));
    upsert_tile_.Bind(2, static_cast<int64_t>(t.index));
    upsert_tile_.BindBlob(3, t.hashes);
    if (auto ok = upsert_tile_.Run(); !ok) return std::unexpected(ok.error());
  }
  if (batch.checkpoint) {
    insert_checkpoint_.Bind(1, static_cast<int64_t>(batch.checkpoint->size));
    insert_checkpoint_.Bind(2, batch.checkpoint->created_at);
    insert_checkpoint_.Bind(3, batch.checkpoint->note);
    if (auto ok = insert_checkpoint_.Run(); !ok) return std::unexpected(ok.error());
  }
  for (const AuditGrant& g : batch.grants) {
    insert_grant_.Bind(1, g.principal);
    insert_grant_.Bind(2, g.granted_by);
    insert_grant_.Bind(3, g.expires_at);
    if (auto ok = insert_grant_.Run(); !ok) return std::unexpected(ok.error());
  }
  PruneCounts counts;
  for (const PruneRule& p : batch.prune) {
    prune_.Bind(1, static_cast<int64_t>(p.retention_class));
    prune_.Bind(2, p.recorded_before);
    if (auto ok = prune_.Run(); !ok) return std::unexpected(ok.error());
    counts.payloads += static_cast<uint64_t>(writer_.Changes());
  }
  for (const std::string& id : batch.shred_keys) {
    shred_payloads_.Bind(1, id);
    if (auto ok = shred_payloads_.Run(); !ok) return std::unexpected(ok.error());
    counts.payloads += static_cast<uint64_t>(writer_.Changes());
    shred_key_.Bind(1, id);
    if (auto ok = shred_key_.Run(); !ok) return std::unexpected(ok.error());
    counts.keys += static_cast<uint64_t>(writer_.Changes());
  }
  for (const StateRow& row : batch.state) {
    Statement& s = row.value ? put_state_ : delete_state_;
    s.Bind(1, row.kind);
    s.Bind(2, row.id);
    if (row.value) s.BindBlob(3, *row.value);
    if (auto ok = s.Run(); !ok) return std::unexpected(ok.error());
  }
  // Each kind written once per batch, whatever its number of rows.
  for (size_t i = 0; i < batch.state.size(); ++i) {
    const std::string& kind = batch.state[i].kind;
    bool earlier = false;
    for (size_t j = 0; j < i && !earlier; ++j) earlier = batch.state[j].kind == kind;
    if (earlier) continue;
    bump_state_version_.Bind(1, kind);
    if (auto ok = bump_state_version_.Run(); !ok) return std::unexpected(ok.error());
  }
  write_size_.Bind(1, static_cast<int64_t>(batch.base_size + batch.records.size()));
  if (auto ok = write_size_.Run(); !ok) return std::unexpected(ok.error());
  return counts;
}

SqliteAuditStore::RangeReader* SqliteAuditStore::PickRangeReader() {
  for (auto& r : range_readers_) {
    if (!r->busy.load(std::memory_order_relaxed)) return r.get();
  }
  return range_readers_[next_range_reader_.fetch_add(1) % range_readers_.size()].get();
}

Result<void> SqliteAuditStore::ReadTiles(uint8_t level, uint64_t from, uint64_t to,
                                         std::vector<AuditTile>& out) {
  RangeReader* reader = PickRangeReader();
  RangeReaderLock lock(reader);
  return ReadRows(reader->tiles, {level, from, to}, out, [&](const Statement& s, AuditTile& t) {
    t.level = level;
    t.index = static_cast<uint64_t>(s.Int(0));
    t.hashes = s.View(1);
  });
}

Result<std::vector<AuditTile>> SqliteAuditStore::EdgeTiles() {
  MutexLock lock(&read_mu_);
  auto s = reader_.Prepare(
      "SELECT t.level, t.idx, t.hashes FROM tiles t JOIN (SELECT level, MAX(idx) AS idx FROM "
      "tiles GROUP BY level) m ON t.level = m.level AND t.idx = m.idx ORDER BY t.level");
  if (!s) return std::unexpected(s.error());
  return CollectRows(*s, [](const Statement& r) -> AuditTile {
    return {static_cast<uint8_t>(r.Int(0)), static_cast<uint64_t>(r.Int(1)), r.Text(2)};
  });
}

Result<void> SqliteAuditStore::ReadRecords(uint64_t from, uint64_t to,
                                           std::vector<AuditRecord>& out) {
  RangeReader* reader = PickRangeReader();
  RangeReaderLock lock(reader);
  return ReadRows(reader->records, {from, to}, out, ReadRecordInto);
}

Result<std::vector<AuditRecord>> SqliteAuditStore::QueryRecords(const RecordFilter& f) {
  std::string sql = fmt::format("SELECT {} FROM records WHERE idx >= ?", kRecordColumns);
  if (f.to_index) sql += " AND idx < ?";
  if (f.since) sql += " AND recorded_at >= ?";
  if (f.until) sql += " AND recorded_at < ?";
  if (f.event_type) sql += " AND event_type = ?";
  if (f.environment) sql += " AND environment = ?";
  if (f.actor_tags) {
    sql += " AND actor_tag IN (";
    for (size_t i = 0; i < f.actor_tags->size(); ++i) sql += i ? ", ?" : "?";
    sql += ")";
  }
  sql += " ORDER BY idx LIMIT ?";
  MutexLock lock(&read_mu_);
  auto s = reader_.Prepare(sql);
  if (!s) return std::unexpected(s.error());
  int i = 1;
  s->Bind(i++, static_cast<int64_t>(std::min<uint64_t>(f.from_index, INT64_MAX)));
  if (f.to_index) s->Bind(i++, static_cast<int64_t>(std::min<uint64_t>(*f.to_index, INT64_MAX)));
  if (f.since) s->Bind(i++, *f.since);
  if (f.until) s->Bind(i++, *f.until);
  if (f.event_type) s->Bind(i++, *f.event_type);
  if (f.environment) s->Bind(i++, *f.environment);
  if (f.actor_tags) {
    for (const std::string& tag : *f.actor_tags) s->BindBlob(i++, tag);
  }
  s->Bind(i++, static_cast<int64_t>(std::min<size_t>(f.limit, INT64_MAX)));
  return CollectRows(*s, ReadRecord);
}

Result<std::vector<AuditKey>> SqliteAuditStore::Keys() {
  MutexLock lock(&read_mu_);
  auto s = reader_.Prepare("SELECT id, class, period_end, wrapped, master FROM keys ORDER BY id");
  if (!s) return std::unexpected(s.error());
  return CollectRows(*s, [](const Statement& r) -> AuditKey {
    return {r.Text(0), static_cast<uint8_t>(r.Int(1)), r.Int(2), r.Text(3), r.Text(4)};
  });
}

Result<std::vector<AuditCheckpoint>> SqliteAuditStore::Checkpoints() {
  MutexLock lock(&read_mu_);
  auto s = reader_.Prepare("SELECT size, created_at, note FROM checkpoints ORDER BY size");
  if (!s) return std::unexpected(s.error());
  return CollectRows(*s, [](const Statement& r) -> AuditCheckpoint {
    return {static_cast<uint64_t>(r.Int(0)), r.Int(1), r.Text(2)};
  });
}

Result<std::vector<AuditGrant>> SqliteAuditStore::Grants(const std::string& principal) {
  MutexLock lock(&read_mu_);
  auto s = reader_.Prepare(
      "SELECT principal, granted_by, expires_at FROM grants WHERE principal = ? ORDER BY "
      "expires_at");
  if (!s) return std::unexpected(s.error());
  s->Bind(1, principal);
  return CollectRows(*s, [](const Statement& r) -> AuditGrant {
    return {r.Text(0), r.Text(1), r.Int(2)};
  });
}

Result<std::vector<StateRow>> SqliteAuditStore::State(const StateQuery& query) {
  MutexLock lock(&read_mu_);
  auto s = reader_.Prepare(query.id ? "SELECT kind, id, value FROM state WHERE kind = ? AND id = ?"
                                    : "SELECT kind, id, value FROM state WHERE kind = ? AND id > ? "
                                      "ORDER BY id LIMIT ?");
  if (!s) return std::unexpected(s.error());
  s->Bind(1, query.kind);
  if (query.id) {
    s->Bind(2, *query.id);
  } else {
    s->Bind(2, query.after);
    s->Bind(3, static_cast<int64_t>(std::min<size_t>(query.limit, INT64_MAX)));
  }
  return CollectRows(*s, [](const Statement& r) -> StateRow {
    return {r.Text(0), r.Text(1), r.Text(2)};
  });
}

Result<std::vector<StateRow>> SqliteAuditStore::AllState() {
  MutexLock lock(&read_mu_);
  auto s = reader_.Prepare("SELECT kind, id, value FROM state ORDER BY kind, id");
  if (!s) return std::unexpected(s.error());
  return CollectRows(*s, [](const Statement& r) -> StateRow {
    return {r.Text(0), r.Text(1), r.Text(2)};
  });
}

Result<uint64_t> SqliteAuditStore::StateVersion(const std::string& kind) {
  RangeReader* reader = PickRangeReader();
  RangeReaderLock lock(reader);
  Statement& s = reader->state_version;
  s.Bind(1, kind);
  auto row = s.Step();
  uint64_t version = row && *row ? static_cast<uint64_t>(s.Int(0)) : 0;
  s.Reset();
  if (!row) return std::unexpected(row.error());
  return version;
}

Result<void> SqliteAuditStore::Backup(const std::string& path) {
  auto target = Database::Open(path, true, nullptr);
  if (!target) return std::unexpected(target.error());
  MutexLock lock(&read_mu_);
  // One step copies every page inside one read transaction: a consistent
  // snapshot even while batches commit.
  sqlite3_backup* backup = sqlite3_backup_init(target->raw(), "main", reader_.raw(), "main");
  if (!backup) return std::unexpected(target->ErrorFor(fmt::format("{}: backup", path), 1));
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE)
    return std::unexpected(target->ErrorFor(fmt::format("{}: backup", path), rc));
  return Ok();
}

}  // namespace interlock::store
