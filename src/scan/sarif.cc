#include "scan/sarif.h"

#include <fmt/format.h>

#include "core/json.h"

namespace interlock::scan {

std::string PathToUri(std::string_view path) {
  std::string out;
  for (unsigned char c : path) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string SarifLog(const SarifTool& tool, const std::vector<SarifRule>& rules,
                     const std::vector<SarifResult>& results,
                     const std::vector<std::pair<std::string, uint64_t>>& counts) {
  std::string out;
  json::Writer w(&out, 2);
  w.BeginObject();
  w.Key("$schema");
  w.String("https://json.schemastore.org/sarif-2.1.0.json");
  w.Key("version");
  w.String("2.1.0");
  w.Key("runs");
  w.BeginArray();
  w.BeginObject();
  w.Key("tool");
  w.BeginObject();
  w.Key("driver");
  w.BeginObject();
  w.Key("name");
  w.String(tool.name);
  if (!tool.version.empty()) {
    w.Key("version");
    w.String(tool.version);
  }
  if (!tool.semantic_version.empty()) {
    w.Key("semanticVersion");
    w.String(tool.semantic_version);
  }
  if (!tool.information_uri.empty()) {
    w.Key("informationUri");
    w.String(tool.information_uri);
  }
  w.Key("rules");
  w.BeginArray();
  for (const SarifRule& rule : rules) {
    w.BeginObject();
    w.Key("id");
    w.String(rule.id);
    w.Key("name");
    w.String(rule.id);
    w.Key("shortDescription");
    w.BeginObject();
    w.Key("text");
    w.String(rule.description);
    w.EndObject();
    w.Key("fullDescription");
    w.BeginObject();
    w.Key("text");
    w.String(rule.description);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  w.Key("columnKind");
  w.String("unicodeCodePoints");
  w.Key("results");
  w.BeginArray();
  for (const SarifResult& result : results) {
    w.BeginObject();
    w.Key("ruleId");
    w.String(result.rule_id);
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].id != result.rule_id) continue;
      w.Key("ruleIndex");
      w.Uint(i);
      break;
    }
    w.Key("level");
    w.String(result.level);
    w.Key("message");
    w.BeginObject();
    w.Key("text");
    w.String(result.message);
    w.EndObject();
    w.Key("locations");
    w.BeginArray();
    w.BeginObject();
    w.Key("physicalLocation");
    w.BeginObject();
    w.Key("artifactLocation");
    w.BeginObject();
    w.Key("uri");
    w.String(PathToUri(result.path));
    w.EndObject();
    if (result.line > 0) {
      w.Key("region");
      w.BeginObject();
      w.Key("startLine");
      w.Uint(result.line);
      if (result.column > 0) {
        w.Key("startColumn");
        w.Uint(result.column);
      }
      if (!result.snippet.empty()) {
        w.Key("snippet");
        w.BeginObject();
        w.Key("text");
        w.String(result.snippet);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
    w.EndArray();
    if (!result.partial_fingerprints.empty()) {
      w.Key("partialFingerprints");
      w.BeginObject();
      for (const auto& [name, value] : result.partial_fingerprints) {
        w.Key(name);
        w.String(value);
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  if (!counts.empty()) {
    w.Key("properties");
    w.BeginObject();
    w.Key("counts");
    w.BeginObject();
    for (const auto& [name, count] : counts) {
      w.Key(name);
      w.Uint(count);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  w.EndArray();
  w.EndObject();
  out += '\n';
  return out;
}

}  // namespace interlock::scan
