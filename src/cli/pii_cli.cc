// `interlock scan pii`: scans files or standard input for PII, reports the
// findings and their counts, and with --redact writes the input back with
// each value redacted, as a filter in a log pipeline.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <functional>
#include <iostream>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/fs.h"
#include "scan/pii.h"
#include "scan/sarif.h"

namespace interlock::cli {
namespace {

struct PiiFlags {
  std::vector<std::string> inputs;
  std::string format = "text";
  std::string redact;
  std::string output;
  std::string key_file;
  std::string min_confidence = "medium";
  size_t max_findings = 1000;
  int threads = 2;
};

// Input is read in pieces of this size.
constexpr size_t kChunk = size_t{4} << 20;
// The longest key file read.
constexpr size_t kMaxKeyFile = 4096;

// Every error exits 2, an I/O failure too: 1 means PII was found.
int Error2(Io& io, const Error& error) {
  Print(io.err, "error: {}\n", error.message());
  return kExitInvalid;
}

struct Listed {
  std::string file;
  scan::PiiFinding finding;
};

struct FileReport {
  std::string file;
  uint64_t bytes = 0;
  uint64_t lines = 0;
  scan::PiiCounts counts;
};

std::string CountsText(const scan::PiiCounts& counts) {
  std::string out;
  for (scan::PiiType type : scan::kAllPiiTypes) {
    if (counts[type] == 0) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", scan::PiiTypeName(type), counts[type]);
  }
  return out;
}

nlohmann::json CountsJson(const scan::PiiCounts& counts) {
  nlohmann::json out = nlohmann::json::object();
  for (scan::PiiType type : scan::kAllPiiTypes)
    out[std::string(scan::PiiTypeName(type))] = counts[type];
  return out;
}

// What each rule finds, for SARIF's rule descriptions.
std::string_view Description(scan::PiiType type) {
  switch (type) {
    case scan::PiiType::kEmail:
      return "An e-mail address";
    case scan::PiiType::kPhone:
      return "A phone number";
    case scan::PiiType::kIpv4:
      return "An IPv4 address";
    case scan::PiiType::kIpv6:
      return "An IPv6 address";
    case scan::PiiType::kCard:
      return "A payment card number (Luhn check and issuer prefix)";
    case scan::PiiType::kIban:
      return "An IBAN (mod-97 check and the country's length)";
    case scan::PiiType::kUsSsn:
      return "A US Social Security number (valid area, group and serial)";
  }
  return "";
}

// The report as a SARIF 2.1.0 log: one result per listed finding (its line;
// columns here count bytes, so none is given), the counts per type in the
// run's properties.
std::string PiiSarif(const std::vector<Listed>& listed, const scan::PiiCounts& total) {
  std::vector<scan::SarifRule> rules;
  std::vector<std::pair<std::string, uint64_t>> counts;
  for (scan::PiiType type : scan::kAllPiiTypes) {
    rules.push_back({std::string(scan::PiiRuleId(type)), std::string(Description(type))});
    counts.emplace_back(scan::PiiTypeName(type), total[type]);
  }
  std::vector<scan::SarifResult> results;
  for (const Listed& l : listed) {
    scan::SarifResult r;
    r.rule_id = scan::PiiRuleId(l.finding.type);
    r.level = "warning";
    r.message = fmt::format("{} ({} confidence)", Description(l.finding.type),
                            scan::ConfidenceName(l.finding.confidence));
    r.path = l.file;
    r.line = l.finding.line;
    results.push_back(std::move(r));
  }
  return scan::SarifLog({.name = "interlock", .version = "0.1.0"}, rules, results, counts);
}

// The key for hash redaction: the key file's bytes (one final newline
// dropped), else $INTERLOCK_SCAN_KEY.
Result<std::string> HashKey(const PiiFlags& f, Io& io) {
  if (!f.key_file.empty()) {
    auto key = io.fs.ReadFile(f.key_file, kMaxKeyFile);
    if (!key)
      return std::unexpected(
          Error::InvalidArgument(fmt::format("--key-file: {}", key.error().message())));
    if (key->ends_with("\r\n")) {
      key->resize(key->size() - 2);
    } else if (key->ends_with('\n')) {
      key->pop_back();
    }
    return *key;
  }
  if (auto env = io.env("INTERLOCK_SCAN_KEY"); env && !env->empty()) return *env;
  return std::string();
}

// Streams one input through `stream`.
// Streams one input through `stream`, calling `written` after each piece.
Result<void> Feed(const std::string& path, Io& io, scan::PiiStream& stream, std::string& buffer,
                  const std::function<void()>& written) {
  if (path == "-" && &io.in == &std::cin) {
    // The process's standard input is read as it arrives, not 4 MiB at a
    // time, so that a live log (tail -f | ...) comes out redacted line by
    // line.
    while (true) {
      ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return std::unexpected(
            Error::Io(fmt::format("standard input: read failed: {}", std::strerror(errno))));
      }
      if (n == 0) return Ok();
      stream.Write(std::string_view(buffer.data(), static_cast<size_t>(n)));
      written();
    }
  }
  if (path == "-") {
    while (io.in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) ||
           io.in.gcount() > 0) {
      stream.Write(std::string_view(buffer.data(), static_cast<size_t>(io.in.gcount())));
      written();
    }
    if (io.in.bad()) return std::unexpected(Error::Io("standard input: read failed"));
    return Ok();
  }
  auto file = io.fs.OpenInput(path);
  if (!file) return std::unexpected(file.error());
  while (true) {
    auto n = (*file)->Read(std::span<char>(buffer.data(), buffer.size()));
    if (!n) return std::unexpected(n.error());
    if (*n == 0) return Ok();
    stream.Write(std::string_view(buffer.data(), *n));
    written();
  }
}

int RunScanPii(const PiiFlags& f, Io& io) {
  scan::PiiOptions options;
  options.threads = f.threads;
  options.min_confidence = *scan::ParseConfidence(f.min_confidence);
  if (!f.redact.empty()) options.redact = *scan::ParseRedactMode(f.redact);
  if (options.redact == scan::RedactMode::kNone && !f.output.empty()) {
    return Fail(io,
                Error::InvalidArgument("--output needs --redact: it receives the redacted input"));
  }
  if (options.redact != scan::RedactMode::kHash && !f.key_file.empty()) {
    return Error2(io, Error::InvalidArgument("--key-file is for --redact hash"));
  }
  if (options.redact == scan::RedactMode::kHash) {
    auto key = HashKey(f, io);
    if (!key) return Error2(io, key.error());
    options.hash_key = std::move(*key);
  }
  auto scanner = scan::PiiScanner::Create(options);
  if (!scanner) return Error2(io, scanner.error());

  std::vector<std::string> inputs = f.inputs.empty() ? std::vector<std::string>{"-"} : f.inputs;
  if (std::count(inputs.begin(), inputs.end(), "-") > 1) {
    return Error2(io, Error::InvalidArgument("standard input (-) can be read only once"));
  }
  // The redacted stream goes to --output or standard output; the report to
  // standard output, or to standard error when the stream is there.
  bool redacting = options.redact != scan::RedactMode::kNone;
  std::unique_ptr<OutputFile> output_file;
  if (redacting && !f.output.empty()) {
    auto created = io.fs.CreateOutput(f.output);
    if (!created) return Error2(io, created.error());
    output_file = std::move(*created);
  }
  std::ostream& report = redacting && !output_file ? io.err : io.out;
  std::optional<Error> write_error;
  scan::PiiOutputSink sink;
  if (redacting) {
    sink = [&](std::string_view bytes) {
      if (write_error) return;
      if (output_file) {
        if (auto ok = output_file->Write(bytes); !ok) write_error = ok.error();
      } else {
        io.out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!io.out) write_error = Error::Io("standard output: write failed");
      }
    };
  }

  std::vector<Listed> listed;
  uint64_t unlisted = 0;
  std::vector<FileReport> files;
  scan::PiiCounts total;
  std::string buffer(kChunk, '\0');
  for (const std::string& path : inputs) {
    std::string name = path == "-" ? "<stdin>" : path;
    scan::PiiStream stream(
        *scanner,
        [&](const scan::PiiFinding& finding) {
          if (listed.size() < f.max_findings) {
            listed.push_back({name, finding});
          } else {
            ++unlisted;
          }
        },
        sink);
    auto fed = Feed(path, io, stream, buffer, [&] {
      if (redacting && !output_file) io.out.flush();
    });
    if (!fed) return Error2(io, fed.error());
    stream.Finish();
    if (write_error) return Error2(io, *write_error);
    files.push_back({name, stream.bytes(), stream.lines(), stream.counts()});
    total += stream.counts();
  }
  if (output_file) {
    if (auto closed = output_file->Close(); !closed) return Error2(io, closed.error());
  } else if (redacting) {
    io.out.flush();
  }

  if (f.format == "sarif") {
    report << PiiSarif(listed, total);
  } else if (f.format == "json") {
    nlohmann::json out;
    out["findings"] = nlohmann::json::array();
    for (const Listed& l : listed) {
      out["findings"].push_back({{"rule_id", scan::PiiRuleId(l.finding.type)},
                                 {"type", scan::PiiTypeName(l.finding.type)},
                                 {"confidence", scan::ConfidenceName(l.finding.confidence)},
                                 {"file", l.file},
                                 {"line", l.finding.line},
                                 {"column", l.finding.column},
                                 {"start", l.finding.start},
                                 {"end", l.finding.end}});
    }
    out["findings_not_listed"] = unlisted;
    out["files"] = nlohmann::json::array();
    for (const FileReport& r : files) {
      out["files"].push_back({{"file", r.file},
                              {"bytes", r.bytes},
                              {"lines", r.lines},
                              {"counts", CountsJson(r.counts)},
                              {"total", r.counts.Total()}});
    }
    out["counts"] = CountsJson(total);
    out["total"] = total.Total();
    report << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    for (const Listed& l : listed) {
      Print(report, "{}:{}:{}: {} ({})\n", l.file, l.finding.line, l.finding.column,
            scan::PiiRuleId(l.finding.type), scan::ConfidenceName(l.finding.confidence));
    }
    if (unlisted > 0) Print(report, "... and {} more not listed (--max-findings)\n", unlisted);
    if (files.size() > 1) {
      for (const FileReport& r : files) {
        Print(report, "{}: {} finding{}{}{}\n", r.file, r.counts.Total(),
              r.counts.Total() == 1 ? "" : "s", r.counts.Total() > 0 ? ": " : "",
              CountsText(r.counts));
      }
    }
    if (total.Total() == 0) {
      Print(report, "no PII found\n");
    } else {
      Print(report, "{} finding{}: {}\n", total.Total(), total.Total() == 1 ? "" : "s",
            CountsText(total));
    }
  }
  return total.Total() > 0 ? kExitFailure : kExitOk;
}

}  // namespace

std::vector<Command> PiiCommands() {
  auto f = std::make_shared<PiiFlags>();
  return {
      {"scan pii",
       "Find PII in logs, text or JSON lines; --redact writes them redacted (exit 0 none, 1 found, "
       "2 error)",
       [f](CLI::App* sub) {
         sub->add_option("FILE", f->inputs, "Files to scan, or - for standard input (the default)");
         sub->add_option("--format", f->format, "Report as text, json or sarif")
             ->check(CLI::IsMember({"text", "json", "sarif"}))
             ->capture_default_str();
         sub->add_option("--redact", f->redact,
                         "Write the input with PII redacted: full, partial or hash")
             ->check(CLI::IsMember({"full", "partial", "hash"}));
         sub->add_option("--output", f->output,
                         "Write the redacted input to FILE instead of standard output");
         sub->add_option("--key-file", f->key_file,
                         "Key for --redact hash (default: $INTERLOCK_SCAN_KEY); 16 bytes or more");
         sub->add_option("--min-confidence", f->min_confidence,
                         "Report and redact findings of this confidence and above")
             ->check(CLI::IsMember({"low", "medium", "high"}))
             ->capture_default_str();
         sub->add_option("--max-findings", f->max_findings,
                         "List at most N findings (the counts include them all)")
             ->capture_default_str();
         sub->add_option("--threads", f->threads, "Threads that scan a large input: 1 or 2")
             ->check(CLI::Range(1, 2))
             ->capture_default_str();
       },
       [f](Io& io) { return RunScanPii(*f, io); }},
  };
}

}  // namespace interlock::cli
