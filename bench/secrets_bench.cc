// Throughput of `interlock scan secrets` over a tree of files, printed as
// rows: files, bytes, findings, seconds, MB/s for each thread count.
//
//   secrets_bench                 writes ~256 MiB of a generated repository
//                                 of mixed source (bench/source_tree.h,
//                                 seeded) to a temporary folder and scans it
//   secrets_bench --dense         generates the worst case instead: source in
//                                 which nearly every line names a token,
//                                 password or secret
//   secrets_bench --dir=PATH      scans PATH instead (e.g. a checkout)
//   secrets_bench --mb=N          generate N MiB instead of 256
//   secrets_bench --threads=1,2   the thread counts to measure (default 1,2)
//   secrets_bench --benchmark_min_time=...   a smoke run over 8 MiB (the
//                                 test command uses it)
//   secrets_bench --write=DIR     only writes the generated repository to
//                                 DIR (which must not exist yet) and prints
//                                 the bytes written; bench/scan.sh uses it
//
// The goal is at least 500 MB/s on 2 cores over mixed source code.
#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/process.h"
#include "scan/secrets.h"
#include "source_tree.h"

namespace {

// The worst case: source-like lines of which most name tokens, passwords
// and secrets; now and then a fake secret.
std::string GenerateDense(std::mt19937_64& rng, size_t bytes) {
  static const char* kLines[] = {
      "  for (size_t i = 0; i < tokens.size(); ++i) total += tokens[i].length();\n",
      "  // Reads the password from the environment; never log it.\n",
      "  auto secret = config.Get(\"api_key\");\n",
      "  if (!status.ok()) return Error::InvalidArgument(\"bad token\");\n",
      "def authenticate(user, password):\n    return check_password(user.hash, password)\n",
      "const url = `https://api.example.com/v1/items?page=${page}`;\n",
      "    \"integrity\": \"sha512-Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4\",\n",
      "import { useState, useEffect } from 'react';\n",
      "  return fmt::format(\"{}:{}: {}\", path, line, message);\n",
      "SELECT id, name, created_at FROM users WHERE tenant_id = $1 ORDER BY id;\n",
      "    <div class=\"container\"><span>{{ title }}</span></div>\n",
      "  max_tokens: 4096\n  temperature: 0.2\n",
      "commit 3f786850e387550fdab836ed7e6dc881de23001b\n",
      "\n",
      "}\n",
  };
  std::string out;
  std::uniform_int_distribution<size_t> pick(0, std::size(kLines) - 1);
  std::uniform_int_distribution<int> rare(0, 20000);
  while (out.size() < bytes) {
    out += kLines[pick(rng)];
    if (rare(rng) == 0)
      out += "GITHUB_TOKEN=ghp_" + std::string(36, 'a' + static_cast<char>(rng() % 26)) + "Q1\n";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir, write;
  bool dense = false;
  size_t mb = 256;
  std::vector<int> thread_counts = {1, 2};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.starts_with("--dir=")) dir = arg.substr(6);
    if (arg.starts_with("--write=")) write = arg.substr(8);
    if (arg == "--dense") dense = true;
    if (arg.starts_with("--benchmark_min_time")) mb = 8;
    if (arg.starts_with("--mb=")) mb = std::stoul(arg.substr(5));
    if (arg.starts_with("--threads=")) {
      thread_counts.clear();
      std::string list = arg.substr(10);
      for (size_t p = 0; p < list.size();) {
        size_t comma = list.find(',', p);
        thread_counts.push_back(std::stoi(list.substr(p, comma - p)));
        p = comma == std::string::npos ? list.size() : comma + 1;
      }
    }
  }
  interlock::RealFileSystem fs;
  if (!write.empty()) {
    if (std::filesystem::exists(write)) {
      std::fprintf(stderr, "error: %s already exists\n", write.c_str());
      return 2;
    }
    interlock::bench::SourceTree tree(42);
    auto written = tree.Write(fs, write, mb << 20);
    if (!written) {
      std::fprintf(stderr, "error: %s\n", written.error().message().c_str());
      return 1;
    }
    std::printf("wrote %llu bytes to %s\n", static_cast<unsigned long long>(*written),
                write.c_str());
    return 0;
  }
  std::string generated;
  if (dir.empty()) {
    char templ[] = "/tmp/secrets_bench.XXXXXX";
    generated = dir = ::mkdtemp(templ);
    if (dense) {
      std::mt19937_64 rng(42);
      size_t written = 0;
      for (int n = 0; written < mb << 20; ++n) {
        size_t size =
            (n % 50 == 0) ? (size_t{6} << 20) : (size_t{8} << 10) + rng() % (size_t{64} << 10);
        std::string path = fmt::format("{}/d{}/f{}.src", dir, n % 64, n);
        (void)fs.CreateDirectories(fmt::format("{}/d{}", dir, n % 64));
        (void)fs.WriteFile(path, GenerateDense(rng, size));
        written += size;
      }
    } else {
      interlock::bench::SourceTree tree(42);
      if (auto written = tree.Write(fs, dir, mb << 20); !written) {
        std::fprintf(stderr, "error: %s\n", written.error().message().c_str());
        return 1;
      }
    }
  }
  interlock::RealProcessRunner processes;
  std::printf("%-8s %8s %12s %9s %8s %9s\n", "threads", "files", "bytes", "findings", "seconds",
              "MB/s");
  for (int threads : thread_counts) {
    interlock::scan::SecretScanOptions options;
    options.paths = {dir};
    options.key = "bench-key-0123456789abcdef";
    options.threads = threads;
    // A warm-up run first, so the page cache holds the files.
    (void)interlock::scan::ScanSecrets(options, fs, processes);
    auto start = std::chrono::steady_clock::now();
    auto report = interlock::scan::ScanSecrets(options, fs, processes);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!report) {
      std::fprintf(stderr, "error: %s\n", report.error().message().c_str());
      return 1;
    }
    std::printf("%-8d %8llu %12llu %9llu %8.3f %9.1f\n", threads,
                static_cast<unsigned long long>(report->counts.files_scanned),
                static_cast<unsigned long long>(report->counts.bytes_scanned),
                static_cast<unsigned long long>(report->counts.findings), seconds,
                static_cast<double>(report->counts.bytes_scanned) / 1e6 / seconds);
  }
  if (!generated.empty()) std::filesystem::remove_all(generated);
  return 0;
}
