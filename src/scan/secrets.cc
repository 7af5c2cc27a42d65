// ScanSecrets: units of work (a mapped file, or the lines a diff adds) are
// split into windows that a small pool of threads scans; the last window of
// a unit to finish turns its matches into findings and lets the mapping go,
// so memory stays bounded by the windows in flight, whatever the sizes.
#include "scan/secrets.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "core/encoding.h"
#include "core/hmac.h"
#include "core/text.h"
#include "scan/diff.h"
#include "scan/matcher.h"

namespace interlock::scan {
namespace {

constexpr size_t kBinaryProbe = 8192;
constexpr size_t kPreviewWidth = 120;
constexpr size_t kPreviewBefore = 40;
constexpr std::string_view kAllowMarker = "interlock:allow";

struct Unit {
  std::string path;
  // git modes: the added lines, and their line numbers in the new file.
  bool from_diff = false;
  std::string added;
  std::vector<uint64_t> new_lines;
  bool diff_binary = false;

  std::unique_ptr<MappedFile> map;
  std::string_view data;
  std::atomic<size_t> pending{0};
  std::mutex mutex;
  std::vector<Match> matches;
  std::vector<uint32_t> path_rules;
  SecretMatcher::PathPlan plan;
  std::optional<Error> error;
  bool binary = false;
  bool skipped = false;
  std::vector<SecretFinding> findings;
};

struct Task {
  size_t unit;
  size_t window;  // kOpen: map the unit and split it
};
constexpr size_t kOpen = static_cast<size_t>(-1);

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Lines are counted in pieces of this many bytes.
constexpr size_t kCountPiece = size_t{4} << 20;

uint64_t CodePoints(std::string_view text) {
  uint64_t n = 0;
  for (unsigned char c : text) n += IsContinuation(c) ? 0 : 1;
  return n;
}

// The reason after `interlock:allow` on `line`, without comment closers;
// nullopt when the marker is absent, "" when it has no reason.
std::optional<std::string> AllowReason(std::string_view line) {
  size_t at = line.find(kAllowMarker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string reason = TrimSpace(line.substr(at + kAllowMarker.size()));
  for (std::string_view closer : {"*/", "-->", "#}", "%>", "--}}"}) {
    if (reason.ends_with(closer))
      reason = TrimSpace(std::string_view(reason).substr(0, reason.size() - closer.size()));
  }
  if (!reason.empty() && reason[0] == ':') reason = TrimSpace(std::string_view(reason).substr(1));
  return reason;
}

class Scanner {
 public:
  Scanner(const SecretScanOptions& options, const SecretMatcher& matcher, FileSystem& fs)
      : options_(options), matcher_(matcher), fs_(fs) {}

  void Run(std::vector<std::unique_ptr<Unit>>* units) {
    units_ = units;
    for (size_t i = 0; i < units->size(); ++i) queue_.push_back({i, kOpen});
    const int threads = std::max(1, std::min(options_.threads, 64));
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; ++t) workers.emplace_back([this] { Work(); });
    Work();
    for (std::thread& w : workers) w.join();
  }

  std::optional<Error> error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  void Work() {
    auto scratch = matcher_.NewScratch();
    if (!scratch) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = scratch.error();
      failed_ = true;
      cv_.notify_all();
      return;
    }
    while (true) {
      Task task;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !queue_.empty() || opening_ == 0 || failed_; });
        if (queue_.empty() || failed_) return;
        task = queue_.front();
        queue_.pop_front();
        if (task.window == kOpen) ++opening_;
      }
      if (task.window == kOpen) {
        Open(task.unit, **scratch);
      } else {
        ScanWindow(task.unit, task.window, **scratch);
      }
    }
  }

  size_t WindowCount(size_t size) const {
    return size == 0 ? 0 : (size + options_.window_size - 1) / options_.window_size;
  }

  void Open(size_t index, SecretMatcher::Scratch& scratch) {
    Unit& unit = *(*units_)[index];
    size_t windows = 0;
    unit.plan = matcher_.PlanFor(unit.path);
    if (unit.plan.skip_file) {
      unit.skipped = true;
    } else if (unit.from_diff) {
      unit.binary = unit.diff_binary;
      unit.data = unit.added;
    } else {
      auto map = fs_.MapFile(unit.path);
      if (!map) {
        unit.error = map.error();
      } else {
        unit.map = std::move(*map);
        unit.data = unit.map->data();
        std::string_view probe = unit.data.substr(0, kBinaryProbe);
        unit.binary = !probe.empty() && std::memchr(probe.data(), '\0', probe.size()) != nullptr;
      }
    }
    if (!unit.skipped && !unit.error) {
      unit.path_rules = matcher_.PathOnlyRules(unit.path);
      if (!unit.binary) windows = WindowCount(unit.data.size());
    }
    unit.pending = windows;
    {
      std::lock_guard lock(mutex_);
      // Windows go to the front, so a big file's windows are shared out and
      // finished before more files are mapped.
      for (size_t w = windows; w-- > 1;) queue_.push_front({index, w});
      --opening_;
    }
    cv_.notify_all();
    if (windows == 0) {
      Finish(unit);
    } else {
      ScanWindow(index, 0, scratch);
    }
  }

  void ScanWindow(size_t index, size_t window, SecretMatcher::Scratch& scratch) {
    Unit& unit = *(*units_)[index];
    const size_t size = unit.data.size();
    const size_t own_begin = window * options_.window_size;
    const size_t own_end = std::min(size, own_begin + options_.window_size);
    const size_t begin = own_begin > options_.overlap ? own_begin - options_.overlap : 0;
    const size_t end = std::min(size, own_end + options_.overlap);
    std::vector<Match> found;
    matcher_.Scan(unit.data.substr(begin, end - begin), begin, own_begin, own_end, unit.path,
                  unit.plan, scratch, &found);
    if (!found.empty()) {
      std::lock_guard lock(unit.mutex);
      unit.matches.insert(unit.matches.end(), found.begin(), found.end());
    }
    // Memory stays bounded by the windows in flight, whatever the file's
    // size: a window's pages go back once it is scanned (a neighbour that
    // still reads the overlap maps them again).
    if (unit.map) unit.map->Release(own_begin, own_end - own_begin);
    if (unit.pending.fetch_sub(1) == 1) Finish(unit);
  }

  // Line and column, the preview and the fingerprint of each match.
  void Finish(Unit& unit) {
    if (unit.error || unit.skipped || unit.binary) {
      unit.map.reset();
      return;
    }
    const SecretConfig& config = matcher_.config();
    Hmac hmac(AsBytes(options_.key));
    auto fingerprint = [&](std::string_view rule_id, std::string_view secret) {
      std::string message;
      message.reserve(rule_id.size() + unit.path.size() + secret.size() + 2);
      message.append(rule_id);
      message += '\0';
      message.append(unit.path);
      message += '\0';
      message.append(secret);
      auto mac = hmac.Mac(message);
      return HexEncode(std::span<const uint8_t>(mac.data(), mac.size()));
    };
    for (uint32_t rule : unit.path_rules) {
      SecretFinding f;
      f.rule_id = config.rules[rule].id;
      f.description = config.rules[rule].description;
      f.path = unit.path;
      f.line = 1;
      f.column = 1;
      f.preview = "(the file's path matches the rule)";
      f.fingerprint = fingerprint(f.rule_id, unit.path);
      unit.findings.push_back(std::move(f));
    }
    std::vector<Match>& matches = unit.matches;
    std::sort(matches.begin(), matches.end(), [](const Match& a, const Match& b) {
      return a.secret_begin != b.secret_begin ? a.secret_begin < b.secret_begin : a.rule < b.rule;
    });
    matches.erase(std::unique(matches.begin(), matches.end(),
                              [](const Match& a, const Match& b) {
                                return a.rule == b.rule && a.secret_begin == b.secret_begin;
                              }),
                  matches.end());
    // A catch-all rule's match gives way to another rule's that overlaps it:
    // the others' spans in order of start, with the furthest end so far.
    std::vector<size_t> starts, reach;
    for (const Match& m : matches) {
      if (config.rules[m.rule].generic) continue;
      starts.push_back(m.secret_begin);
      reach.push_back(std::max(reach.empty() ? 0 : reach.back(), m.secret_end));
    }
    std::vector<char> drop(matches.size(), 0);
    for (size_t a = 0; a < matches.size(); ++a) {
      if (!config.rules[matches[a].rule].generic) continue;
      size_t before = static_cast<size_t>(
          std::lower_bound(starts.begin(), starts.end(), matches[a].secret_end) - starts.begin());
      drop[a] = before > 0 && reach[before - 1] > matches[a].secret_begin ? 1 : 0;
    }
    size_t kept = 0;
    for (size_t a = 0; a < matches.size(); ++a) {
      if (!drop[a]) matches[kept++] = matches[a];
    }
    matches.resize(kept);
    const std::string_view data = unit.data;
    // The matches are in order of their start, so the line each is on, its
    // end, its column and its allow comment are found moving forward only:
    // many matches on one huge line cost one pass over it, not one each.
    size_t counted_to = 0;
    uint64_t line_index = 0;  // of counted_to, from 0
    size_t line_begin = 0, line_end = 0;
    bool line_known = false;  // line_end and allow are the current line's
    std::optional<std::string> allow;
    uint64_t columns = 0;  // code points from line_begin to counted_to
    size_t longest = 0;    // the longest secret, for Preview
    for (const Match& m : matches) longest = std::max(longest, m.secret_end - m.secret_begin);
    for (const Match& m : matches) {
      // Counting reads the file up to the match again, a piece at a time;
      // each piece goes back once it is counted.
      while (counted_to < m.secret_begin) {
        const std::string_view piece =
            data.substr(counted_to, std::min(kCountPiece, m.secret_begin - counted_to));
        const auto newlines = static_cast<uint64_t>(std::count(piece.begin(), piece.end(), '\n'));
        if (newlines > 0) {
          line_index += newlines;
          line_begin = counted_to + piece.rfind('\n') + 1;
          columns = CodePoints(data.substr(line_begin, counted_to + piece.size() - line_begin));
          line_known = false;
        } else {
          columns += CodePoints(piece);
        }
        if (unit.map) unit.map->Release(counted_to, piece.size());
        counted_to += piece.size();
      }
      if (!line_known) {
        const void* after =
            std::memchr(data.data() + m.secret_begin, '\n', data.size() - m.secret_begin);
        line_end = after ? static_cast<size_t>(static_cast<const char*>(after) - data.data())
                         : data.size();
        allow = AllowReason(data.substr(line_begin, line_end - line_begin));
        line_known = true;
      }

      SecretFinding f;
      const SecretRule& rule = config.rules[m.rule];
      f.rule_id = rule.id;
      f.description = rule.description;
      f.path = unit.path;
      if (unit.from_diff) {
        f.line = line_index < unit.new_lines.size() ? unit.new_lines[line_index] : 0;
      } else {
        f.line = line_index + 1;
      }
      f.column = columns + 1;
      f.preview = Preview(data, line_begin, line_end, m.secret_begin, matches, longest);
      f.fingerprint =
          fingerprint(rule.id, data.substr(m.secret_begin, m.secret_end - m.secret_begin));
      if (allow) {
        if (allow->empty()) {
          f.allow_without_reason = true;
        } else {
          f.allow_reason = *allow;
        }
      }
      unit.findings.push_back(std::move(f));
    }
    unit.matches.clear();
    unit.matches.shrink_to_fit();
    unit.map.reset();
  }

  // `matches` in order of their start, none longer than `longest` bytes.
  static std::string Preview(std::string_view data, size_t line_begin, size_t line_end,
                             size_t secret_begin, const std::vector<Match>& all, size_t longest) {
    size_t begin =
        secret_begin > line_begin + kPreviewBefore ? secret_begin - kPreviewBefore : line_begin;
    while (begin > line_begin && IsContinuation(static_cast<unsigned char>(data[begin]))) --begin;
    size_t end = std::min(line_end, begin + kPreviewWidth);
    while (end < line_end && IsContinuation(static_cast<unsigned char>(data[end]))) ++end;
    std::string out = begin > line_begin ? "..." : "";
    size_t pos = begin;
    // Secrets that touch [begin, end), in order of their start: only those
    // that start less than `longest` bytes before it can.
    auto starts_before = [](const Match& m, size_t at) { return m.secret_begin < at; };
    auto first = std::lower_bound(all.begin(), all.end(), begin > longest ? begin - longest : 0,
                                  starts_before);
    auto last = std::lower_bound(first, all.end(), end, starts_before);
    for (const Match& m : std::span(first, last)) {
      if (m.secret_end <= pos || m.secret_begin >= end) continue;
      if (m.secret_begin > pos) out.append(data.substr(pos, m.secret_begin - pos));
      const size_t length = m.secret_end - m.secret_begin;
      const size_t shown = m.secret_begin >= pos ? std::min<size_t>(4, length / 4) : 0;
      out.append(data.substr(m.secret_begin, shown));
      out += "*****";
      pos = std::min(end, std::max(pos, m.secret_end));
    }
    if (pos < end) out.append(data.substr(pos, end - pos));
    if (end < line_end) out += "...";
    // Control characters would garble a terminal or a log.
    for (char& c : out) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) c = '?';
    }
    return out;
  }

  const SecretScanOptions& options_;
  const SecretMatcher& matcher_;
  FileSystem& fs_;
  std::vector<std::unique_ptr<Unit>>* units_ = nullptr;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  int opening_ = 0;
  bool failed_ = false;
  std::optional<Error> error_;
};

bool UnderGitFolder(const std::string& relative) {
  return relative == ".git" || relative.starts_with(".git/") ||
         relative.find("/.git/") != std::string::npos;
}

Result<std::vector<std::unique_ptr<Unit>>> PathUnits(const SecretScanOptions& options,
                                                     FileSystem& fs) {
  std::vector<std::string> roots = options.paths;
  if (roots.empty()) roots.push_back(".");
  std::vector<std::string> files;
  for (const std::string& root : roots) {
    if (fs.IsDirectory(root)) {
      auto listed = fs.ListFiles(root);
      if (!listed) return std::unexpected(listed.error());
      for (const std::string& relative : *listed) {
        if (UnderGitFolder(relative)) continue;
        files.push_back(root == "." ? relative : JoinPath(root, relative));
      }
    } else if (fs.Exists(root)) {
      files.push_back(root.starts_with("./") ? root.substr(2) : root);
    } else {
      return std::unexpected(Error::NotFound(fmt::format("{}: no such file or directory", root)));
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  std::vector<std::unique_ptr<Unit>> units;
  for (std::string& f : files) {
    auto unit = std::make_unique<Unit>();
    unit->path = std::move(f);
    units.push_back(std::move(unit));
  }
  return units;
}

Result<std::vector<std::unique_ptr<Unit>>> DiffUnits(const SecretScanOptions& options,
                                                     ProcessRunner& processes) {
  ProcessRequest request;
  request.cwd = options.git_dir;
  request.argv = {"git", "-c", "core.quotePath=false", "diff"};
  if (options.source == SecretSource::kStaged) {
    request.argv.push_back("--cached");
  }
  for (const char* flag : {"--no-color", "--no-ext-diff", "--no-textconv", "-U0",
                           "--diff-filter=ACMR", "--src-prefix=a/", "--dst-prefix=b/"}) {
    request.argv.push_back(flag);
  }
  if (options.source == SecretSource::kDiff) {
    if (options.diff_base.empty() || options.diff_base[0] == '-') {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("--diff: expected a commit, found \"{}\"", options.diff_base)));
    }
    request.argv.push_back(options.diff_base);
  }
  request.argv.push_back("--");
  for (const std::string& p : options.paths) request.argv.push_back(p);
  request.max_output = size_t{1} << 30;
  auto ran = processes.Run(request);
  if (!ran) return std::unexpected(ran.error());
  if (ran->exit_code != 0) {
    std::string why = TrimSpace(ran->err);
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "git diff failed (exit {}): {}", ran->exit_code, why.empty() ? "no message" : why)));
  }
  auto files = ParseUnifiedDiff(ran->out);
  if (!files) return std::unexpected(files.error());
  std::vector<std::unique_ptr<Unit>> units;
  for (AddedLines& f : *files) {
    auto unit = std::make_unique<Unit>();
    unit->path = std::move(f.path);
    unit->from_diff = true;
    unit->added = std::move(f.text);
    unit->new_lines = std::move(f.lines);
    unit->diff_binary = f.binary;
    units.push_back(std::move(unit));
  }
  return units;
}

}  // namespace

Result<SecretReport> ScanSecrets(const SecretScanOptions& options, FileSystem& fs,
                                 ProcessRunner& processes) {
  auto matcher = SecretMatcher::Compile(options.config);
  if (!matcher) return std::unexpected(matcher.error());
  return ScanSecrets(options, **matcher, fs, processes);
}

Result<SecretReport> ScanSecrets(const SecretScanOptions& options, const SecretMatcher& matcher,
                                 FileSystem& fs, ProcessRunner& processes) {
  if (options.key.empty()) return std::unexpected(Error::InvalidArgument("no fingerprint key"));
  if (options.window_size == 0 || options.window_size > (size_t{1} << 30) ||
      options.overlap > (size_t{1} << 26)) {
    return std::unexpected(Error::InvalidArgument(
        "the window size must be from 1 byte to 1 GiB and the overlap at most 64 MiB"));
  }
  auto units = options.source == SecretSource::kPaths ? PathUnits(options, fs)
                                                      : DiffUnits(options, processes);
  if (!units) return std::unexpected(units.error());

  Scanner scanner(options, matcher, fs);
  scanner.Run(&*units);
  if (auto error = scanner.error()) return std::unexpected(*error);

  SecretReport report;
  for (const SecretRule& rule : matcher.config().rules) {
    report.rules.push_back({rule.id, rule.description});
  }
  SecretCounts& c = report.counts;
  for (const auto& unit : *units) {
    if (unit->error) return std::unexpected(*unit->error);
    if (unit->skipped) {
      ++c.paths_allowlisted;
      continue;
    }
    if (unit->binary) {
      ++c.binary_skipped;
      continue;
    }
    ++c.files_scanned;
    c.bytes_scanned += unit->data.size();
    for (SecretFinding& f : unit->findings) {
      if (f.allow_without_reason) ++c.allow_without_reason;
      if (!f.allow_reason.empty()) {
        report.allowed.push_back(std::move(f));
      } else if (options.baseline.count(f.fingerprint)) {
        report.suppressed.push_back(std::move(f));
      } else {
        report.findings.push_back(std::move(f));
      }
    }
  }
  auto order = [](const SecretFinding& a, const SecretFinding& b) {
    return std::tie(a.path, a.line, a.column, a.rule_id, a.fingerprint) <
           std::tie(b.path, b.line, b.column, b.rule_id, b.fingerprint);
  };
  for (auto* list : {&report.findings, &report.suppressed, &report.allowed}) {
    std::sort(list->begin(), list->end(), order);
  }
  c.findings = report.findings.size();
  c.suppressed = report.suppressed.size();
  c.allowed = report.allowed.size();
  return report;
}

}  // namespace interlock::scan
