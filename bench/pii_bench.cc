// PII scanner throughput over about 100 MB of generated log lines (fixed
// seed: application logs, JSON lines and web access logs, timestamps and
// numbers everywhere, PII on about one line in twenty). Goal: 300 MB/s on
// two cores over a 1 GB file; each case prints MB/s as bytes_per_second.
//
//   pii_bench                          every case
//   pii_bench --benchmark_filter=Scan  one case
//   pii_bench --benchmark_min_time=0.01   a quick smoke run
//   PII_BENCH_MB=1000 pii_bench        a larger input (in MiB)
//   pii_bench --write=FILE [--mb=N]    only writes N MiB (default 1024) of
//                                      the same log to FILE (which must not
//                                      exist yet); bench/scan.sh uses it
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "scan/pii.h"

namespace {

using namespace interlock::scan;

// Appends whole lines to `log` until it holds at least `bytes`; the lines
// continue the seeded sequence across calls, so a log made in pieces is the
// log made at once.
class LogMaker {
 public:
  void Append(std::string& log, size_t bytes);

 private:
  std::mt19937 rng{20261207};
};

void LogMaker::Append(std::string& log, size_t bytes) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const char* levels[] = {"INFO", "DEBUG", "WARN", "ERROR"};
  const char* paths[] = {"/api/v1/orders", "/api/v1/users", "/healthz", "/static/app.js",
                         "/api/v2/payments/charge"};
  const char* pii[] = {"user=john.doe@example.com",   "client=203.0.113.7",
                       "card=4111 1111 1111 1111",    "ssn 123-45-6789",
                       "phone +44 20 7946 0958",      "iban DE89370400440532013000",
                       "peer 2001:db8::8a2e:370:7334"};
  while (log.size() < bytes) {
    int h = static_cast<int>(pick(24)), m = static_cast<int>(pick(60)),
        s = static_cast<int>(pick(60)), ms = static_cast<int>(pick(1000));
    switch (pick(3)) {
      case 0:
        log += fmt::format(
            "2026-12-07T{:02}:{:02}:{:02}.{:03}Z {} [http-nio-8080-exec-{}] "
            "c.e.api.OrderController - GET {}/{} {} {}ms version 1.{}.{} retries={}",
            h, m, s, ms, levels[pick(4)], pick(200), paths[pick(5)], pick(1000000),
            pick(2) ? 200 : 404, pick(5000), pick(20), pick(100), pick(4));
        break;
      case 1:
        log += fmt::format(
            R"({{"ts":"2026-12-07T{:02}:{:02}:{:02}.{:03}Z","level":"{}","msg":"order processed",)"
            R"("order_id":"ORD-20261207-{:06}","amount":{}.{:02},"trace_id":"{:016x}{:016x}",)"
            R"("duration_ms":{}}})",
            h, m, s, ms, levels[pick(4)], pick(1000000), pick(1000), pick(100),
            static_cast<uint64_t>(rng()) << 32 | rng(), static_cast<uint64_t>(rng()) << 32 | rng(),
            pick(10000));
        break;
      default:
        log += fmt::format(
            R"(10.{}.{}.{} - - [07/Dec/2026:{:02}:{:02}:{:02} +0000] "GET {} HTTP/1.1" {} {} "-" )"
            R"("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0")",
            pick(256), pick(256), pick(256), h, m, s, paths[pick(5)], pick(2) ? 200 : 304,
            pick(100000));
    }
    if (pick(20) == 0) {
      log += ' ';
      log += pii[pick(7)];
    }
    log += '\n';
  }
}

std::string MakeLog(size_t bytes) {
  std::string log;
  log.reserve(bytes + 512);
  LogMaker().Append(log, bytes);
  return log;
}

// Writes `bytes` (rounded up to a whole line) of the log to `path`.
int WriteLog(const std::string& path, size_t bytes) {
  if (std::filesystem::exists(path)) {
    std::fprintf(stderr, "error: %s already exists\n", path.c_str());
    return 2;
  }
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "error: cannot create %s\n", path.c_str());
    return 1;
  }
  LogMaker maker;
  std::string piece;
  size_t written = 0;
  while (written < bytes) {
    piece.clear();
    maker.Append(piece, std::min(bytes - written, size_t{4} << 20));
    if (std::fwrite(piece.data(), 1, piece.size(), out) != piece.size()) {
      std::fprintf(stderr, "error: cannot write %s\n", path.c_str());
      std::fclose(out);
      return 1;
    }
    written += piece.size();
  }
  if (std::fclose(out) != 0) {
    std::fprintf(stderr, "error: cannot write %s\n", path.c_str());
    return 1;
  }
  std::printf("wrote %zu bytes to %s\n", written, path.c_str());
  return 0;
}

const std::string& Log() {
  static const std::string log = [] {
    const char* mb = std::getenv("PII_BENCH_MB");
    size_t size = (mb ? std::strtoul(mb, nullptr, 10) : 100) << 20;
    return MakeLog(size);
  }();
  return log;
}

PiiScanner Scanner(RedactMode mode, int threads) {
  PiiOptions options;
  options.redact = mode;
  options.threads = threads;
  options.hash_key = "bench-key-0123456789abcdef";
  return *PiiScanner::Create(options);
}

// One stream over the whole log, written in 4 MiB pieces as the command
// reads a file.
uint64_t StreamAll(const PiiScanner& scanner, std::string_view log, size_t* out_bytes) {
  PiiStream stream(scanner, nullptr, [&](std::string_view b) { *out_bytes += b.size(); });
  for (size_t at = 0; at < log.size(); at += 4 << 20) stream.Write(log.substr(at, 4 << 20));
  stream.Finish();
  return stream.counts().Total();
}

void Run(benchmark::State& state, RedactMode mode, int threads) {
  const std::string& log = Log();
  PiiScanner scanner = Scanner(mode, threads);
  uint64_t found = 0;
  size_t out_bytes = 0;
  for (auto _ : state) {
    found = StreamAll(scanner, log, &out_bytes);
    benchmark::DoNotOptimize(found);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * log.size()));
  state.counters["findings"] = static_cast<double>(found);
}

void Scan(benchmark::State& state) { Run(state, RedactMode::kNone, 1); }
void ScanTwoThreads(benchmark::State& state) { Run(state, RedactMode::kNone, 2); }
void RedactFull(benchmark::State& state) { Run(state, RedactMode::kFull, 1); }
void RedactFullTwoThreads(benchmark::State& state) { Run(state, RedactMode::kFull, 2); }
void RedactPartial(benchmark::State& state) { Run(state, RedactMode::kPartial, 1); }
void RedactHash(benchmark::State& state) { Run(state, RedactMode::kHash, 1); }

BENCHMARK(Scan)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(ScanTwoThreads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(RedactFull)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(RedactFullTwoThreads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(RedactPartial)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(RedactHash)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  std::string write;
  size_t mb = 1024;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.starts_with("--write=")) write = arg.substr(8);
    if (arg.starts_with("--mb=")) mb = std::strtoul(arg.substr(5).c_str(), nullptr, 10);
  }
  if (!write.empty()) return WriteLog(write, mb << 20);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
