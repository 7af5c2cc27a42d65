// ParseSecretConfig: gitleaks' TOML rule files, read with toml++.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <initializer_list>
#include <set>

#include "scan/rules.h"

namespace interlock::scan {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view file) : file_(file) {}

  std::string Where(const toml::node& node) const {
    return fmt::format("{}:{}", file_, node.source().begin.line);
  }
  Error Fail(const toml::node& node, std::string_view what) const {
    return Error::InvalidArgument(fmt::format("{}: {}", Where(node), what));
  }

  Result<void> OnlyKeys(const toml::table& table, std::string_view section,
                        std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return std::unexpected(Fail(
          value,
          fmt::format("unknown key \"{}\" in {} (expected one of: {})", key.str(), section, list)));
    }
    return Ok();
  }

  Result<std::string> String(const toml::table& table, std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::string();
    if (const auto* s = node->as_string()) return std::string(s->get());
    return std::unexpected(Fail(*node, fmt::format("{}: expected a string", key)));
  }

  Result<std::vector<std::string>> Strings(const toml::table& table, std::string_view key) const {
    std::vector<std::string> out;
    const toml::node* node = table.get(key);
    if (node == nullptr) return out;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      return std::unexpected(Fail(*node, fmt::format("{}: expected an array of strings", key)));
    }
    for (const toml::node& element : *array) {
      const auto* s = element.as_string();
      if (s == nullptr) {
        return std::unexpected(Fail(element, fmt::format("{}: expected an array of strings", key)));
      }
      out.emplace_back(s->get());
    }
    return out;
  }

  Result<Allowlist> ReadAllowlist(const toml::table& table, bool global) const {
    std::string section = global ? "an allowlist" : "a rule's allowlist";
    auto keys = global ? OnlyKeys(table, section,
                                  {"description", "condition", "paths", "regexes", "regexTarget",
                                   "stopwords", "commits", "targetRules"})
                       : OnlyKeys(table, section,
                                  {"description", "condition", "paths", "regexes", "regexTarget",
                                   "stopwords", "commits"});
    if (!keys) return std::unexpected(keys.error());
    Allowlist a;
    a.source = Where(table);
    auto description = String(table, "description");
    auto paths = Strings(table, "paths");
    auto regexes = Strings(table, "regexes");
    auto stopwords = Strings(table, "stopwords");
    auto commits = Strings(table, "commits");
    auto targets = Strings(table, "targetRules");
    auto target = String(table, "regexTarget");
    auto condition = String(table, "condition");
    for (const Result<std::vector<std::string>>* r :
         {&paths, &regexes, &stopwords, &commits, &targets}) {
      if (!*r) return std::unexpected(r->error());
    }
    if (!description) return std::unexpected(description.error());
    if (!target) return std::unexpected(target.error());
    if (!condition) return std::unexpected(condition.error());
    a.description = *description;
    a.paths = *paths;
    a.regexes = *regexes;
    a.stopwords = *stopwords;
    a.target_rules = *targets;
    if (target->empty() || *target == "secret") {
      a.regex_target = RegexTarget::kSecret;
    } else if (*target == "match") {
      a.regex_target = RegexTarget::kMatch;
    } else if (*target == "line") {
      a.regex_target = RegexTarget::kLine;
    } else {
      return std::unexpected(Fail(*table.get("regexTarget"),
                                  fmt::format("regexTarget: expected one of secret, match, line, "
                                              "found \"{}\"",
                                              *target)));
    }
    if (condition->empty() || *condition == "OR" || *condition == "or") {
      a.condition = Condition::kOr;
    } else if (*condition == "AND" || *condition == "and") {
      a.condition = Condition::kAnd;
    } else {
      return std::unexpected(
          Fail(*table.get("condition"),
               fmt::format("condition: expected OR or AND, found \"{}\"", *condition)));
    }
    if (a.paths.empty() && a.regexes.empty() && a.stopwords.empty() && commits->empty()) {
      return std::unexpected(
          Fail(table, "an allowlist needs at least one of paths, regexes, stopwords, commits"));
    }
    return a;
  }

  Result<std::vector<Allowlist>> ReadAllowlists(const toml::table& parent, bool global) const {
    std::vector<Allowlist> out;
    const char* single = "allowlist";
    const char* many = "allowlists";
    if (const toml::node* node = parent.get(single)) {
      const toml::table* table = node->as_table();
      if (table == nullptr) return std::unexpected(Fail(*node, "allowlist: expected a table"));
      auto a = ReadAllowlist(*table, global);
      if (!a) return std::unexpected(a.error());
      out.push_back(std::move(*a));
    }
    if (const toml::node* node = parent.get(many)) {
      const toml::array* array = node->as_array();
      if (array == nullptr) {
        return std::unexpected(Fail(*node, "allowlists: expected an array of tables ([[...]])"));
      }
      for (const toml::node& element : *array) {
        const toml::table* table = element.as_table();
        if (table == nullptr) {
          return std::unexpected(Fail(element, "allowlists: expected an array of tables"));
        }
        auto a = ReadAllowlist(*table, global);
        if (!a) return std::unexpected(a.error());
        out.push_back(std::move(*a));
      }
    }
    return out;
  }

  Result<SecretRule> ReadRule(const toml::table& table) const {
    if (table.contains("required")) {
      return std::unexpected(
          Fail(*table.get("required"), "composite rules ([[rules.required]]) are not supported"));
    }
    auto keys = OnlyKeys(table, "a rule",
                         {"id", "description", "regex", "secretGroup", "entropy", "keywords",
                          "path", "tags", "allowlist", "allowlists", "maxLength", "skipReport"});
    if (!keys) return std::unexpected(keys.error());
    SecretRule rule;
    rule.source = Where(table);
    auto id = String(table, "id");
    auto description = String(table, "description");
    auto regex = String(table, "regex");
    auto path = String(table, "path");
    for (const Result<std::string>* r : {&id, &description, &regex, &path}) {
      if (!*r) return std::unexpected(r->error());
    }
    auto keywords = Strings(table, "keywords");
    if (!keywords) return std::unexpected(keywords.error());
    auto tags = Strings(table, "tags");
    if (!tags) return std::unexpected(tags.error());
    if (id->empty()) return std::unexpected(Fail(table, "a rule needs an id"));
    rule.id = *id;
    rule.generic = rule.id.starts_with("generic");
    rule.description = description->empty() ? *id : *description;
    rule.regex = *regex;
    rule.path = *path;
    if (rule.regex.empty() && rule.path.empty()) {
      return std::unexpected(Fail(table, fmt::format("rule \"{}\" needs a regex or a path", *id)));
    }
    for (std::string& k : *keywords) {
      if (k.empty()) {
        return std::unexpected(
            Fail(*table.get("keywords"), fmt::format("rule \"{}\": an empty keyword", *id)));
      }
      std::transform(k.begin(), k.end(), k.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    rule.keywords = std::move(*keywords);
    if (const toml::node* node = table.get("secretGroup")) {
      auto v = node->value<int64_t>();
      if (!node->is_integer() || !v || *v < 0 || *v > 100) {
        return std::unexpected(Fail(*node, "secretGroup: expected an integer from 0 to 100"));
      }
      rule.secret_group = static_cast<int>(*v);
    }
    if (const toml::node* node = table.get("entropy")) {
      auto v = node->value<double>();
      if (!(node->is_number()) || !v || !(*v >= 0 && *v <= 8)) {
        return std::unexpected(Fail(*node, "entropy: expected a number from 0 to 8"));
      }
      rule.entropy = *v;
    }
    if (const toml::node* node = table.get("maxLength")) {
      auto v = node->value<int64_t>();
      if (!node->is_integer() || !v || *v < 1 || *v > 65536) {
        return std::unexpected(Fail(*node, "maxLength: expected an integer from 1 to 65536"));
      }
      rule.max_length = static_cast<size_t>(*v);
    }
    if (const toml::node* node = table.get("skipReport")) {
      if (!node->is_boolean())
        return std::unexpected(Fail(*node, "skipReport: expected a boolean"));
      if (node->value_or(false)) {
        return std::unexpected(
            Fail(*node, "skipReport is only for composite rules, which are not supported"));
      }
    }
    auto allowlists = ReadAllowlists(table, false);
    if (!allowlists) return std::unexpected(allowlists.error());
    rule.allowlists = std::move(*allowlists);
    return rule;
  }

 private:
  std::string_view file_;
};

}  // namespace

Result<SecretConfig> ParseSecretConfig(std::string_view text, std::string_view file) {
  Reader reader(file);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "{}:{}:{}: {}", file, e.source().begin.line, e.source().begin.column, e.description())));
  }
  auto keys = reader.OnlyKeys(
      root, "the file",
      {"title", "description", "minVersion", "extend", "rules", "allowlist", "allowlists"});
  if (!keys) return std::unexpected(keys.error());

  bool use_default = false;
  std::set<std::string> disabled;
  if (const toml::node* node = root.get("extend")) {
    const toml::table* extend = node->as_table();
    if (extend == nullptr) return std::unexpected(reader.Fail(*node, "extend: expected a table"));
    auto ekeys =
        reader.OnlyKeys(*extend, "[extend]", {"useDefault", "disabledRules", "path", "url"});
    if (!ekeys) return std::unexpected(ekeys.error());
    if (extend->contains("path") || extend->contains("url")) {
      const toml::node* at = extend->contains("path") ? extend->get("path") : extend->get("url");
      return std::unexpected(reader.Fail(
          *at, "extend: only useDefault is supported; merge the other file into this one"));
    }
    if (const toml::node* u = extend->get("useDefault")) {
      if (!u->is_boolean())
        return std::unexpected(reader.Fail(*u, "useDefault: expected a boolean"));
      use_default = u->value_or(false);
    }
    auto names = reader.Strings(*extend, "disabledRules");
    if (!names) return std::unexpected(names.error());
    disabled.insert(names->begin(), names->end());
  }

  SecretConfig config;
  if (use_default) {
    config = DefaultSecretConfig();
    std::erase_if(config.rules, [&](const SecretRule& r) { return disabled.count(r.id) > 0; });
  }
  std::set<std::string> ids_in_file;
  if (const toml::node* node = root.get("rules")) {
    const toml::array* rules = node->as_array();
    if (rules == nullptr) {
      return std::unexpected(reader.Fail(*node, "rules: expected an array of tables ([[rules]])"));
    }
    for (const toml::node& element : *rules) {
      const toml::table* table = element.as_table();
      if (table == nullptr) {
        return std::unexpected(
            reader.Fail(element, "rules: expected an array of tables ([[rules]])"));
      }
      auto rule = reader.ReadRule(*table);
      if (!rule) return std::unexpected(rule.error());
      if (!ids_in_file.insert(rule->id).second) {
        return std::unexpected(
            reader.Fail(*table, fmt::format("duplicate rule id \"{}\"", rule->id)));
      }
      if (disabled.count(rule->id)) continue;
      auto same = std::find_if(config.rules.begin(), config.rules.end(),
                               [&](const SecretRule& r) { return r.id == rule->id; });
      if (same != config.rules.end()) {
        *same = std::move(*rule);
      } else {
        config.rules.push_back(std::move(*rule));
      }
    }
  }
  auto allowlists = reader.ReadAllowlists(root, true);
  if (!allowlists) return std::unexpected(allowlists.error());
  for (Allowlist& a : *allowlists) config.allowlists.push_back(std::move(a));
  return config;
}

}  // namespace interlock::scan
