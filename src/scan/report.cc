// The secret scanner's reports (JSON, text, SARIF), baselines and key.
#include <fmt/format.h>

#include "core/encoding.h"
#include "core/json.h"
#include "core/text.h"
#include "scan/sarif.h"
#include "scan/secrets.h"

namespace interlock::scan {
namespace {

void WriteFinding(json::Writer& w, const SecretFinding& f) {
  w.BeginObject();
  w.Key("rule_id");
  w.String(f.rule_id);
  w.Key("description");
  w.String(f.description);
  w.Key("path");
  w.String(f.path);
  w.Key("line");
  w.Uint(f.line);
  w.Key("column");
  w.Uint(f.column);
  w.Key("preview");
  w.String(f.preview);
  w.Key("fingerprint");
  w.String(f.fingerprint);
  if (!f.allow_reason.empty()) {
    w.Key("allow_reason");
    w.String(f.allow_reason);
  }
  if (f.allow_without_reason) {
    w.Key("note");
    w.String("interlock:allow without a reason does not allow a finding");
  }
  w.EndObject();
}

std::string Json(const SecretReport& report, bool baseline) {
  std::string out;
  json::Writer w(&out, 2);
  w.BeginObject();
  w.Key("version");
  w.Int(1);
  w.Key("scanner");
  w.String("secrets");
  w.Key("counts");
  w.BeginObject();
  const SecretCounts& c = report.counts;
  for (auto [name, value] : {std::pair<const char*, uint64_t>{"files_scanned", c.files_scanned},
                             {"bytes_scanned", c.bytes_scanned},
                             {"binary_skipped", c.binary_skipped},
                             {"paths_allowlisted", c.paths_allowlisted},
                             {"findings", c.findings},
                             {"suppressed", c.suppressed},
                             {"allowed", c.allowed},
                             {"allow_without_reason", c.allow_without_reason}}) {
    w.Key(name);
    w.Uint(value);
  }
  w.EndObject();
  w.Key("findings");
  w.BeginArray();
  for (const SecretFinding& f : report.findings) WriteFinding(w, f);
  if (baseline) {
    for (const SecretFinding& f : report.suppressed) WriteFinding(w, f);
  }
  w.EndArray();
  if (!baseline) {
    w.Key("allowed");
    w.BeginArray();
    for (const SecretFinding& f : report.allowed) WriteFinding(w, f);
    w.EndArray();
  }
  w.EndObject();
  out += '\n';
  return out;
}

// Text for a terminal: every byte that is not well-formed UTF-8 becomes '?'
// (previews have no control characters already).
std::string Printable(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    size_t bad = FindInvalidUtf8(text);
    if (bad == std::string_view::npos) {
      out.append(text);
      break;
    }
    out.append(text.substr(0, bad));
    out += '?';
    text.remove_prefix(bad + 1);
  }
  return out;
}

}  // namespace

std::string ReportJson(const SecretReport& report) { return Json(report, false); }

std::string BaselineJson(const SecretReport& report) { return Json(report, true); }

std::string ReportText(const SecretReport& report) {
  std::string out;
  for (const SecretFinding& f : report.findings) {
    out += fmt::format("{}:{}:{}: {} ({})\n    {}\n    fingerprint {}\n", Printable(f.path), f.line,
                       f.column, f.rule_id, f.description, Printable(f.preview), f.fingerprint);
    if (f.allow_without_reason) {
      out += "    note: interlock:allow without a reason does not allow a finding\n";
    }
  }
  const SecretCounts& c = report.counts;
  out += fmt::format(
      "{} {} in {} {} ({} bytes); {} suppressed by the baseline, {} allowed inline; {} binary "
      "{} skipped",
      c.findings, c.findings == 1 ? "secret" : "secrets", c.files_scanned,
      c.files_scanned == 1 ? "file" : "files", c.bytes_scanned, c.suppressed, c.allowed,
      c.binary_skipped, c.binary_skipped == 1 ? "file" : "files");
  if (c.paths_allowlisted > 0) out += fmt::format(", {} allowlisted", c.paths_allowlisted);
  out += "\n";
  return out;
}

std::string ReportSarif(const SecretReport& report) {
  std::vector<SarifRule> rules;
  for (const auto& r : report.rules) rules.push_back({r.id, r.description});
  std::vector<SarifResult> results;
  for (const SecretFinding& f : report.findings) {
    SarifResult r;
    r.rule_id = f.rule_id;
    r.message = fmt::format("{} found: {}", f.description, f.preview);
    r.path = f.path;
    r.line = f.line;
    r.column = f.column;
    r.snippet = f.preview;
    r.partial_fingerprints["interlockSecret/v1"] = f.fingerprint;
    results.push_back(std::move(r));
  }
  SarifTool tool;
  tool.name = "interlock-secrets";
  tool.version = "0.1.0";
  tool.semantic_version = "0.1.0";
  return SarifLog(tool, rules, results);
}

Result<std::set<std::string>> ParseBaseline(std::string_view text, std::string_view file) {
  std::set<std::string> out;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    json::ParseOptions po;
    po.subject = file;
    po.max_bytes = size_t{256} << 20;
    po.require_object = false;
    auto doc = json::Parse(text, po);
    if (!doc) return std::unexpected(doc.error());
    json::Value root = doc->root();
    std::optional<json::Value> list;
    if (root.is_array()) {
      list = root;
    } else {
      list = root.Find("findings");
      if (!list || !list->is_array()) {
        return std::unexpected(Error::InvalidArgument(
            fmt::format("{}: expected a report with a \"findings\" array, or an array of "
                        "fingerprints",
                        file)));
      }
    }
    size_t index = 0;
    for (json::Value element : list->elements()) {
      std::optional<json::Value> fp = element;
      if (element.is_object()) fp = element.Find("fingerprint");
      if (!fp || !fp->is_string()) {
        return std::unexpected(Error::InvalidArgument(
            fmt::format("{}: entry {} has no fingerprint string", file, index)));
      }
      out.insert(std::string(fp->AsString()));
      ++index;
    }
    return out;
  }
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = TrimSpace(text.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    if (line.size() != 64 || line.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return std::unexpected(Error::InvalidArgument(fmt::format(
          "{}:{}: expected a fingerprint (64 lowercase hex digits)", file, line_number)));
    }
    out.insert(line);
  }
  return out;
}

Result<std::string> LoadScanKey(const std::string& key_file, const Env& env, FileSystem& fs,
                                Random& random) {
  // The key read from `from`, in *text, or the error that it is too short.
  auto checked = [](Result<std::string>& text, std::string_view from) {
    if (text->size() < 16) {
      text = std::unexpected(
          Error::InvalidArgument(fmt::format("{}: the scan key must be at least 16 bytes", from)));
    }
  };
  if (!key_file.empty()) {
    auto text = fs.ReadFile(key_file, 4096);
    if (text) *text = TrimSpace(*text);
    if (text) checked(text, key_file);
    return text;
  }
  if (auto value = env("INTERLOCK_SCAN_KEY"); value && !value->empty()) {
    Result<std::string> key(std::move(*value));
    checked(key, "INTERLOCK_SCAN_KEY");
    return key;
  }
  std::string dir;
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty() && (*xdg)[0] == '/') {
    dir = JoinPath(*xdg, "interlock");
  } else if (auto home = env("HOME"); home && !home->empty()) {
    dir = JoinPath(JoinPath(*home, ".config"), "interlock");
  } else {
    return std::unexpected(
        Error::InvalidArgument("no scan key: give --key-file or INTERLOCK_SCAN_KEY (neither "
                               "XDG_CONFIG_HOME nor HOME is set)"));
  }
  const std::string path = JoinPath(dir, "scan.key");
  if (!fs.Exists(path)) {
    uint8_t bytes[32];
    if (auto filled = random.Fill(bytes); !filled) return std::unexpected(filled.error());
    if (auto made = fs.CreateDirectories(dir); !made) return std::unexpected(made.error());
    auto created = fs.CreatePrivateFile(path, HexEncode(std::span<const uint8_t>(bytes)) + "\n");
    if (!created && created.error().kind() != ErrorKind::kAlreadyExists) {
      return std::unexpected(created.error());
    }
  }
  auto text = fs.ReadFile(path, 4096);
  if (text) *text = TrimSpace(*text);
  if (text) checked(text, path);
  return text;
}

}  // namespace interlock::scan
