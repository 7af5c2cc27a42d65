// Audit trail throughput and proof latency, printed as figures.
//
//   audit_bench                 appends (1, 8, 64 writers), bulk, verify, proofs at 1M
//   audit_bench --full          the same plus proofs at 10M entries
//   audit_bench --only=NAME     one part: appends, bulk (with SQLite's own ceiling), verify,
//                               proofs
//   audit_bench --benchmark_min_time=...   a quick smoke run (the test command uses it)
//   audit_bench --dir=PATH      build the logs under PATH and keep them; a later run with the
//                               same PATH verifies the log already there instead of appending
//                               again, so runs before and after a change verify the same log
//   audit_bench --repeat=N      verify N times (default 1)
//
// Every append is durable (WAL, synchronous=FULL) before it is counted.
#include <fcntl.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "audit/log.h"
#include "audit/tiles.h"
#include "store/sqlite.h"
#include "store/sqlite_audit_store.h"

using namespace interlock;
using Stopwatch = std::chrono::steady_clock;

namespace {

constexpr std::string_view kMasterKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// The seed's deployment event (000 §5.2), about 500 bytes in canonical form.
constexpr std::string_view kEvent = R"({
  "event_type": "deployment",
  "actor": {"type": "human", "id": "user123", "name": "John Doe", "role": "engineer"},
  "action": {"type": "deploy", "target": "production", "version": "v2.5.4", "service": "api-gateway"},
  "approval": {"required": true, "approvers": ["team-lead", "on-call"], "approved_at": "2024-01-15T10:25:00Z"},
  "outcome": {"status": "success", "duration": "45s", "rollback_available": true},
  "compliance": {"frameworks": ["SOC2", "HIPAA"], "controls_verified": true},
  "ai_agent": {"involved": false}
})";

double Seconds(Stopwatch::time_point start) {
  return std::chrono::duration<double>(Stopwatch::now() - start).count();
}

struct Env {
  RealFileSystem fs;
  SystemClock clock;
  SystemRandom random;
};

std::unique_ptr<audit::AuditLog> OpenLog(Env& env, const std::string& dir) {
  audit::LogOptions o;
  o.data_dir = dir;
  o.fs = &env.fs;
  o.clock = &env.clock;
  o.random = &env.random;
  o.master_key_env = std::string(kMasterKey);
  auto store = store::SqliteAuditStore::OpenInDirectory(env.fs, dir);
  if (!store) {
    fmt::print(stderr, "open {}: {}\n", dir, store.error().message());
    std::exit(1);
  }
  auto log = audit::AuditLog::Open(o, std::move(*store));
  if (!log) {
    fmt::print(stderr, "open {}: {}\n", dir, log.error().message());
    std::exit(1);
  }
  return std::move(*log);
}

audit::Event TheEvent() {
  auto e = audit::ParseEvent(kEvent, 1'700'000'000'000);
  if (!e) {
    fmt::print(stderr, "event: {}\n", e.error().message());
    std::exit(1);
  }
  return *e;
}

void Check(const Result<std::vector<audit::Appended>>& r) {
  if (!r) {
    fmt::print(stderr, "append: {}\n", r.error().message());
    std::exit(1);
  }
}

struct Throughput {
  uint64_t appended = 0;
  double seconds = 0;
  double per_second() const { return appended / seconds; }
};

// `writers` threads append `batch` over and over, each waiting for
// durability, for `seconds`.
Throughput Drive(audit::AuditLog& log, int writers, double seconds,
                 const std::vector<audit::Event>& batch) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> threads;
  auto start = Stopwatch::now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        Check(log.AppendEvents(batch));
        done.fetch_add(batch.size(), std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  return {done.load(), Seconds(start)};
}

// `writers` threads each append one event at a time.
void Concurrent(Env& env, const std::string& dir, int writers, double seconds) {
  auto log = OpenLog(env, dir);
  Throughput t = Drive(*log, writers, seconds, {TheEvent()});
  audit::LogStats stats = log->stats();
  fmt::print(
      "appends, {:2} concurrent writers: {:9.0f} durable appends/s  ({} in {:.2f} s; {} "
      "commits, mean batch {:.1f}, largest {})\n",
      writers, t.per_second(), t.appended, t.seconds, stats.batches,
      stats.batches ? double(stats.records) / stats.batches : 0.0, stats.largest_batch);
}

// Batches of 1,000 events per call, from `writers` threads.
void Bulk(Env& env, const std::string& dir, int writers, double seconds) {
  auto log = OpenLog(env, dir);
  Throughput t = Drive(*log, writers, seconds, std::vector<audit::Event>(1000, TheEvent()));
  fmt::print("bulk, batches of 1,000, {} writer{}:  {:9.0f} durable appends/s  ({} in {:.2f} s)\n",
             writers, writers == 1 ? " " : "s", t.per_second(), t.appended, t.seconds);
}

// The disk's durability latency: 4 KiB write + fdatasync, median of 50. With
// W writers each waiting for durability, no log can commit more than
// W / latency appends per second.
double FsyncMicros(const std::string& dir) {
  std::string path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  std::vector<double> samples;
  std::string block(4096, 'x');
  for (int i = 0; i < 50; ++i) {
    auto start = Stopwatch::now();
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) < 0) break;
    if (::fdatasync(fd) != 0) break;
    samples.push_back(Seconds(start) * 1e6);
  }
  ::close(fd);
  ::unlink(path.c_str());
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// openssl speed's SHA-256 figure, bytes per second, for one block size.
double OpensslSha256(int block) {
  std::string cmd =
      fmt::format("openssl speed -evp sha256 -bytes {} -seconds 1 2>/dev/null", block);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0;
  char line[512];
  double kps = 0;
  while (fgets(line, sizeof line, p)) {
    std::string l(line);
    if (l.rfind("sha256", 0) == 0 || l.rfind("SHA256", 0) == 0) {
      size_t k = l.rfind('k');
      size_t start = l.find_last_of(' ', k);
      if (k != std::string::npos && start != std::string::npos) {
        kps = std::atof(l.substr(start + 1, k - start - 1).c_str());
      }
    }
  }
  pclose(p);
  return kps * 1000;
}

void VerifyThroughput(Env& env, const std::string& dir) {
  auto log = OpenLog(env, dir);
  uint64_t n = log->size();
  auto start = Stopwatch::now();
  auto report = log->Verify({});
  double elapsed = Seconds(start);
  if (!report || !report->ok) {
    fmt::print(stderr, "verify failed: {}\n", report ? report->problem : report.error().message());
    std::exit(1);
  }
  // Bytes that went through SHA-256: each leaf (0x00, 34-byte header, the
  // event) and each of the n - 1 interior nodes (0x01 and two hashes).
  double leaf_bytes = 1 + 34 + TheEvent().canonical.size();
  double hashed = n * leaf_bytes + (n - 1) * 65.0;
  double rate = hashed / elapsed;
  // openssl at the size of one leaf hash input, and at its standard sizes.
  const int leaf_block = static_cast<int>(leaf_bytes);
  double openssl_leaf = OpensslSha256(leaf_block);
  double openssl_256 = OpensslSha256(256);
  double openssl_1024 = OpensslSha256(1024);
  fmt::print(
      "verify: {} entries in {:.2f} s = {:.0f} entries/s, {:.0f} MB/s through SHA-256 "
      "(with row tags, decryption and reads)\n",
      n, elapsed, n / elapsed, rate / 1e6);
  if (openssl_leaf > 0 && openssl_256 > 0 && openssl_1024 > 0) {
    fmt::print(
        "  openssl speed -evp sha256 (one core): {:.0f} MB/s at {}-byte blocks (one leaf), {:.0f} "
        "at 256, {:.0f} at 1024; verify = {:.0f}% / {:.0f}% / {:.0f}% of them\n",
        openssl_leaf / 1e6, leaf_block, openssl_256 / 1e6, openssl_1024 / 1e6,
        100 * rate / openssl_leaf, 100 * rate / openssl_256, 100 * rate / openssl_1024);
  }
}

// A log of `n` entries whose tree exists but whose records do not: proofs
// read only the tree, so this measures them at sizes too large to append here.
void Proofs(Env& env, const std::string& dir, uint64_t n, int samples) {
  { OpenLog(env, dir); }  // creates the keys and the schema
  auto db = store::Database::Open(dir + "/audit.db", false, nullptr);
  if (!db) std::exit(1);
  (void)db->Exec("PRAGMA synchronous=OFF");
  auto insert = db->Prepare("INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)");
  if (!insert) std::exit(1);
  auto build_start = Stopwatch::now();
  (void)db->Exec("BEGIN");
  std::map<uint8_t, store::AuditTile> edge;
  auto write = [&](const store::AuditTile& t) {
    insert->Bind(1, t.level);
    insert->Bind(2, static_cast<int64_t>(t.index));
    insert->BindBlob(3, t.hashes);
    (void)insert->Run();
  };
  audit::TreeHasher hasher;
  audit::CompactRange range;
  for (uint64_t i = 0; i < n; ++i) {
    std::string leaf = fmt::format("leaf {}", i);
    (void)range.Append(hasher.Leaf(leaf), hasher,
                       [&](unsigned level, uint64_t index, const audit::Hash& h) {
                         audit::TileSlot slot = audit::SlotOf(level, index);
                         auto it = edge.find(slot.tile_level);
                         if (it != edge.end() && it->second.index != slot.tile_index)
                           write(it->second);
                         audit::PlaceNode(edge, level, index, h);
                       });
  }
  for (auto& [level, tile] : edge) write(tile);
  (void)db->Exec(fmt::format("UPDATE log SET size = {} WHERE id = 1; COMMIT", n));
  double build = Seconds(build_start);
  *db = store::Database();

  auto log = OpenLog(env, dir);
  std::mt19937_64 rng(42);
  auto start = Stopwatch::now();
  size_t hashes = 0;
  for (int s = 0; s < samples; ++s) {
    auto p = log->ProveInclusion(rng() % n, n);
    if (!p) std::exit(1);
    hashes += p->proof.size();
  }
  double inclusion = Seconds(start) / samples * 1e6;
  start = Stopwatch::now();
  for (int s = 0; s < samples; ++s) {
    auto p = log->ProveConsistency(1 + rng() % (n - 1), n);
    if (!p) std::exit(1);
  }
  double consistency = Seconds(start) / samples * 1e6;
  fmt::print(
      "proofs at {} entries: inclusion {:.1f} µs, consistency {:.1f} µs (mean of {} random, "
      "each with both roots; tree built in {:.1f} s)\n",
      n, inclusion, consistency, samples, build);
}

// What SQLite alone does with the same durability and row sizes, with no
// cryptography and no tree: the ceiling of a row-per-record store here.
//   rows: one row per record, no secondary index
//   indexed: one row per record with the log's two secondary indexes
//   blob: one row per batch holding all its payloads
void SqliteCeiling(const std::string& dir, double seconds) {
  std::filesystem::create_directories(dir);
  for (std::string_view shape : {"rows", "indexed", "blob"}) {
    std::string path = fmt::format("{}/{}.db", dir, shape);
    auto db = store::Database::Open(path, true, nullptr);
    if (!db) std::exit(1);
    for (std::string_view sql :
         {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA cache_size=-65536",
          "PRAGMA wal_autocheckpoint=8192",
          "CREATE TABLE r (idx INTEGER PRIMARY KEY, t INTEGER, c INTEGER, k TEXT, e TEXT, "
          "env TEXT, a BLOB, tag BLOB, p BLOB)"}) {
      if (!db->Exec(sql)) std::exit(1);
    }
    if (shape == "indexed" &&
        !db->Exec("CREATE INDEX r_t ON r (t); CREATE INDEX r_a ON r (a, idx)")) {
      std::exit(1);
    }
    auto insert = db->Prepare("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) std::exit(1);
    // A sealed payload: nonce, the 34-byte leaf header and the event, GCM tag.
    const size_t payload_size = 12 + 34 + TheEvent().canonical.size() + 16;
    std::string payload(payload_size, 'x'), tag(16, 't'), batch(payload_size * 1000, 'y');
    uint64_t n = 0;
    auto start = Stopwatch::now();
    while (Seconds(start) < seconds) {
      if (!db->Exec("BEGIN")) std::exit(1);
      for (int i = 0; i < (shape == "blob" ? 1 : 1000); ++i, ++n) {
        payload[n % payload_size] ^= 1;
        insert->Bind(1, static_cast<int64_t>(n));
        insert->Bind(2, static_cast<int64_t>(n / 1000));
        insert->Bind(3, 0);
        insert->Bind(4, "production-2026-11");
        insert->Bind(5, "deployment");
        insert->Bind(6, "production");
        insert->BindBlob(7, tag);
        insert->BindBlob(8, tag);
        insert->BindBlob(9, shape == "blob" ? batch : payload);
        if (!insert->Run()) std::exit(1);
      }
      if (shape == "blob") n += 999;
      if (!db->Exec("COMMIT")) std::exit(1);
    }
    fmt::print("sqlite alone, batches of 1,000, {:7}: {:10.0f} records/s\n", shape,
               n / Seconds(start));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false, full = false;
  std::string only, dir;
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--benchmark_min_time", 0) == 0) smoke = true;
    if (a == "--full") full = true;
    if (a.rfind("--only=", 0) == 0) only = a.substr(7);
    if (a.rfind("--dir=", 0) == 0) dir = a.substr(6);
    if (a.rfind("--repeat=", 0) == 0) repeat = std::max(1, std::atoi(a.c_str() + 9));
  }
  char pattern[] = "/tmp/interlock-audit-bench-XXXXXX";
  if (dir.empty() && !mkdtemp(pattern)) return 1;
  std::string root = dir.empty() ? std::string(pattern) : dir;
  const bool keep = !dir.empty();
  std::filesystem::create_directories(root);
  const bool reuse_verify_log = keep && std::filesystem::exists(root + "/bulk1/audit.db");
  Env env;
  double seconds = smoke ? 0.2 : 3.0;
  auto want = [&](std::string_view part) { return only.empty() || only == part; };
  if (want("appends")) {
    double fsync = FsyncMicros(root);
    fmt::print(
        "disk: 4 KiB write + fdatasync takes {:.0f} µs (median of 50), so {} writers each "
        "waiting for durability can reach at most {:.0f} appends/s\n",
        fsync, 64, fsync > 0 ? 64 / (fsync / 1e6) : 0.0);
    for (int writers : {1, 8, 64}) {
      Concurrent(env, fmt::format("{}/w{}", root, writers), writers, seconds);
    }
  }
  if (want("bulk") || (want("verify") && !reuse_verify_log)) {
    Bulk(env, root + "/bulk1", 1, seconds);
  }
  if (want("bulk")) Bulk(env, root + "/bulk2", 2, seconds);
  if (want("bulk")) SqliteCeiling(root + "/ceiling", seconds);
  if (want("verify")) {
    for (int r = 0; r < repeat; ++r) VerifyThroughput(env, root + "/bulk1");
  }
  if (want("proofs")) {
    Proofs(env, root + "/proofs1m", smoke ? 10'000 : 1'000'000, smoke ? 100 : 5000);
    if (full) Proofs(env, root + "/proofs10m", 10'000'000, 5000);
  }
  if (!keep) std::filesystem::remove_all(root);
  return 0;
}
