#include "governance/reader.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace interlock::governance {
namespace {

std::string Describe(const yaml::Node& node) {
  if (node.IsScalar()) return fmt::format("'{}'", node.scalar());
  if (node.IsNull()) return "nothing";
  return fmt::format("a {}", node.TypeName());
}

std::optional<double> ParseDouble(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

void Reader::Error(yaml::Mark mark, std::string message) {
  diagnostics_->push_back({file_, mark.line, mark.column, std::move(message)});
}

void Reader::WrongType(const yaml::Node& node, std::string_view expected) {
  Error(node.mark(), fmt::format("expected {}, found {}", expected, Describe(node)));
}

bool Reader::Mapping(const yaml::Node& node, std::span<const std::string_view> allowed,
                     std::span<const std::string_view> more, std::string_view what) {
  if (!node.IsMapping()) {
    Error(node.mark(), fmt::format("expected {} (a mapping), found {}", what, Describe(node)));
    return false;
  }
  std::vector<std::string_view> names(allowed.begin(), allowed.end());
  names.insert(names.end(), more.begin(), more.end());
  for (const yaml::Entry& entry : node.entries()) {
    bool known = false;
    for (std::string_view name : names) known = known || entry.key == name;
    if (known) continue;
    std::string suggestion = Suggest(entry.key, names);
    std::string message = fmt::format("unknown key '{}' in {}", entry.key, what);
    if (!suggestion.empty()) message += fmt::format(" (did you mean '{}'?)", suggestion);
    Error(entry.key_mark, std::move(message));
  }
  return true;
}

const yaml::Node* Reader::Required(const yaml::Node& mapping, std::string_view key,
                                   std::string_view what) {
  const yaml::Node* value = mapping.Find(key);
  if (value == nullptr)
    Error(mapping.mark(), fmt::format("missing required key '{}' in {}", key, what));
  return value;
}

std::optional<std::string> Reader::String(const yaml::Node* node) {
  if (node == nullptr) return std::nullopt;
  if (!node->IsScalar()) {
    WrongType(*node, "a string");
    return std::nullopt;
  }
  return node->scalar();
}

std::optional<int64_t> Reader::Integer(const yaml::Node* node, int64_t min, int64_t max) {
  if (node == nullptr) return std::nullopt;
  int64_t value = 0;
  if (node->IsScalar() && !node->quoted()) {
    const std::string& text = node->scalar();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) {
      if (value >= min && value <= max) return value;
      Error(node->mark(),
            fmt::format("expected an integer from {} to {}, found {}", min, max, value));
      return std::nullopt;
    }
  }
  WrongType(*node, "an integer");
  return std::nullopt;
}

std::optional<double> Reader::Number(const yaml::Node* node) {
  if (node == nullptr) return std::nullopt;
  if (node->IsScalar() && !node->quoted()) {
    if (auto value = ParseDouble(node->scalar())) return value;
  }
  WrongType(*node, "a number");
  return std::nullopt;
}

std::optional<double> Reader::Fraction(const yaml::Node* node) {
  if (node == nullptr) return std::nullopt;
  if (node->IsScalar()) {
    std::string_view text = node->scalar();
    bool percent = text.ends_with('%');
    if (percent) text.remove_suffix(1);
    if (auto value = ParseDouble(text)) {
      double fraction = percent ? *value / 100 : *value;
      if (fraction >= 0 && fraction <= 1) return fraction;
    }
  }
  WrongType(*node, "a fraction such as 5% or 0.05");
  return std::nullopt;
}

std::optional<bool> Reader::Bool(const yaml::Node* node) {
  if (node == nullptr) return std::nullopt;
  if (node->IsScalar() && !node->quoted()) {
    if (node->scalar() == "true") return true;
    if (node->scalar() == "false") return false;
  }
  WrongType(*node, "true or false");
  return std::nullopt;
}

std::optional<Millis> Reader::Duration(const yaml::Node* node) {
  if (node == nullptr) return std::nullopt;
  if (node->IsScalar()) {
    if (auto value = ParseDuration(node->scalar())) return value;
  }
  WrongType(*node, "a duration such as 30m, 24h or 7y");
  return std::nullopt;
}

std::optional<std::vector<std::string>> Reader::StringList(const yaml::Node* node) {
  if (node == nullptr) return std::nullopt;
  if (!node->IsSequence()) {
    WrongType(*node, "a list");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const yaml::Node& item : node->items()) {
    if (auto text = String(&item)) {
      out.push_back(std::move(*text));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

void Reader::Version(const yaml::Node& root, bool required) {
  const yaml::Node* version =
      required ? Required(root, "version", "the file") : root.Find("version");
  if (version == nullptr) return;
  if (version->IsScalar() && (version->scalar() == "1" || version->scalar() == "1.0")) return;
  Error(version->mark(),
        fmt::format("unsupported version {}; this Interlock reads version 1", Describe(*version)));
}

const std::vector<yaml::Node>& Reader::List(const yaml::Node& mapping, std::string_view key,
                                            std::string_view what, bool required) {
  static const std::vector<yaml::Node> kNone;
  const yaml::Node* list = required ? Required(mapping, key, "the file") : mapping.Find(key);
  if (list == nullptr) return kNone;
  if (!list->IsSequence()) {
    Error(list->mark(), fmt::format("expected a list of {}, found {}", what, Describe(*list)));
    return kNone;
  }
  return list->items();
}

std::optional<size_t> Reader::OneOf(const yaml::Node* node,
                                    const std::vector<std::string_view>& names,
                                    std::string_view kind) {
  auto text = String(node);
  if (!text) return std::nullopt;
  for (size_t index = 0; index < names.size(); ++index) {
    if (names[index] == *text) return index;
  }
  UnknownName(*node, *text, names, kind);
  return std::nullopt;
}

void Reader::UnknownName(const yaml::Node& node, std::string_view found,
                         const std::vector<std::string_view>& names, std::string_view kind) {
  std::string message;
  if (kind.empty()) {
    message = fmt::format("expected one of {}, found '{}'", fmt::join(names, ", "), found);
  } else {
    message = fmt::format("unknown {} '{}'", kind, found);
  }
  std::string suggestion = Suggest(found, names);
  if (!suggestion.empty()) message += fmt::format(" (did you mean '{}'?)", suggestion);
  Error(node.mark(), std::move(message));
}

bool Unique(Reader& r, std::map<std::string, yaml::Mark>* seen, const std::string& id,
            yaml::Mark mark, std::string_view kind) {
  auto [it, inserted] = seen->emplace(id, mark);
  if (!inserted) {
    r.Error(mark, fmt::format("duplicate {} id '{}' (first defined at {}:{})", kind, id,
                              it->second.line, it->second.column));
  }
  return inserted;
}

std::optional<size_t> ReadRole(Reader& r, const Governance& g, const yaml::Node* node) {
  auto id = r.String(node);
  if (!id) return std::nullopt;
  if (auto index = g.FindRole(*id)) return index;
  std::vector<std::string_view> names;
  for (const Role& role : g.roles) names.push_back(role.id);
  r.UnknownName(*node, *id, names, "role");
  return std::nullopt;
}

std::optional<RoleSet> ReadRoles(Reader& r, const Governance& g, const yaml::Node* node) {
  if (node == nullptr) return std::nullopt;
  if (!node->IsSequence()) {
    r.Error(node->mark(), fmt::format("expected a list of roles, found a {}", node->TypeName()));
    return std::nullopt;
  }
  RoleSet set;
  bool ok = true;
  for (const yaml::Node& item : node->items()) {
    if (auto index = ReadRole(r, g, &item)) {
      set.set(*index);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return set;
}

}  // namespace interlock::governance
