// One file past 600 lines: reading both formats into one tree, checking the
// OpenAPI structure and comparing schemas share the tree, its positions and
// the error wording, which would otherwise have to be a header of their own.
#include "compliance/openapi_diff.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>

#include "core/json.h"
#include "core/yaml.h"

namespace interlock::compliance {
namespace {

using json::Type;

// ---------------------------------------------------------------------------
// One tree for both formats.

struct Member;

struct Node {
  Type type = Type::kNull;
  std::string text;  // kBool: "true"/"false"; kNumber: canonical; kString: the string
  std::vector<Node> items;
  std::vector<Member> members;
  int line = 0;
  int column = 0;

  const Node* Find(std::string_view key) const;
  bool is_object() const { return type == Type::kObject; }
};

struct Member {
  std::string key;
  Node value;
};

const Node* Node::Find(std::string_view key) const {
  for (const Member& m : members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

const Node& EmptySchema() {
  static const Node* empty = [] {
    auto* node = new Node;
    node->type = Type::kObject;
    return node;
  }();
  return *empty;
}

bool Same(const Node& a, const Node& b) {
  if (a.type != b.type || a.text != b.text || a.items.size() != b.items.size() ||
      a.members.size() != b.members.size()) {
    return false;
  }
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (!Same(a.items[i], b.items[i])) return false;
  }
  for (size_t i = 0; i < a.members.size(); ++i) {
    if (a.members[i].key != b.members[i].key || !Same(a.members[i].value, b.members[i].value)) {
      return false;
    }
  }
  return true;
}

// A number's text as one spelling for one value ("1.0", "1" and "1e0" agree).
std::string CanonicalNumber(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::string(text);
  return fmt::format("{}", value);
}

struct LineIndex {
  std::vector<size_t> starts;
  explicit LineIndex(std::string_view text) {
    starts.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts.push_back(i + 1);
    }
  }
  void Place(size_t offset, Node* node) const {
    auto it = std::upper_bound(starts.begin(), starts.end(), offset);
    size_t line = static_cast<size_t>(it - starts.begin());
    node->line = static_cast<int>(line);
    node->column = static_cast<int>(offset - starts[line - 1] + 1);
  }
};

Node FromJson(json::Value value, const LineIndex& lines) {
  Node node;
  node.type = value.type();
  lines.Place(value.offset(), &node);
  switch (value.type()) {
    case Type::kNull:
      break;
    case Type::kBool:
      node.text = value.AsBool() ? "true" : "false";
      break;
    case Type::kNumber:
      node.text = CanonicalNumber(value.NumberText());
      break;
    case Type::kString:
      node.text = value.AsString();
      break;
    case Type::kArray:
      node.items.reserve(value.size());
      for (json::Value element : value.elements()) node.items.push_back(FromJson(element, lines));
      break;
    case Type::kObject:
      node.members.reserve(value.size());
      for (json::Member member : value.members()) {
        node.members.push_back({std::string(member.key), FromJson(member.value(), lines)});
      }
      break;
  }
  return node;
}

bool LooksLikeNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exponent = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == s.size();
}

// Plain YAML scalars are typed as YAML 1.2's core schema types them.
Node FromYaml(const yaml::Node& y) {
  Node node;
  node.line = y.mark().line;
  node.column = y.mark().column;
  switch (y.type()) {
    case yaml::NodeType::kNull:
      node.type = Type::kNull;
      break;
    case yaml::NodeType::kScalar: {
      const std::string& s = y.scalar();
      if (!y.quoted() && (s == "true" || s == "True" || s == "TRUE")) {
        node.type = Type::kBool;
        node.text = "true";
      } else if (!y.quoted() && (s == "false" || s == "False" || s == "FALSE")) {
        node.type = Type::kBool;
        node.text = "false";
      } else if (!y.quoted() && LooksLikeNumber(s)) {
        node.type = Type::kNumber;
        node.text = CanonicalNumber(s[0] == '+' ? std::string_view(s).substr(1) : s);
      } else {
        node.type = Type::kString;
        node.text = s;
      }
      break;
    }
    case yaml::NodeType::kSequence:
      node.type = Type::kArray;
      node.items.reserve(y.items().size());
      for (const yaml::Node& item : y.items()) node.items.push_back(FromYaml(item));
      break;
    case yaml::NodeType::kMapping:
      node.type = Type::kObject;
      node.members.reserve(y.entries().size());
      for (const yaml::Entry& entry : y.entries()) {
        node.members.push_back({entry.key, FromYaml(entry.value)});
      }
      break;
  }
  return node;
}

// ---------------------------------------------------------------------------
// A document, checked.

std::string Quoted(std::string_view text) {
  std::string out;
  json::AppendQuoted(&out, text);
  return out;
}

std::string Join(std::string_view location, std::string_view key) {
  if (location.empty()) return std::string(key);
  return fmt::format("{}.{}", location, key);
}

class Document {
 public:
  std::string name;
  Node root;

  Error Bad(const Node& at, std::string_view location, std::string_view what) const {
    return Error::InvalidArgument(
        fmt::format("{}:{}:{}: {}: {}", name, at.line, at.column, location, what));
  }
  Error WrongType(const Node& at, std::string_view location, std::string_view expected) const {
    return Bad(at, location,
               fmt::format("expected {}, found {}", expected, json::TypeName(at.type)));
  }

  // The node a local reference names, or an error.
  Result<const Node*> Pointer(const Node& at, std::string_view location,
                              std::string_view ref) const {
    if (ref.empty() || ref[0] != '#') {
      return std::unexpected(Bad(at, location,
                                 fmt::format("$ref {} is not a reference inside the document "
                                             "(only #/... references are followed)",
                                             Quoted(ref))));
    }
    std::string_view rest = ref.substr(1);
    const Node* node = &root;
    while (!rest.empty()) {
      if (rest[0] != '/') {
        return std::unexpected(
            Bad(at, location, fmt::format("$ref {} is not a JSON pointer", Quoted(ref))));
      }
      rest.remove_prefix(1);
      size_t end = rest.find('/');
      std::string_view raw = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
      std::string token;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
          token += raw[i + 1] == '0' ? '~' : '/';
          ++i;
        } else {
          token += raw[i];
        }
      }
      const Node* next = nullptr;
      if (node->is_object()) {
        next = node->Find(token);
      } else if (node->type == Type::kArray && !token.empty() &&
                 std::all_of(token.begin(), token.end(),
                             [](char c) { return c >= '0' && c <= '9'; })) {
        size_t index = 0;
        auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
        if (ec == std::errc() && index < node->items.size()) next = &node->items[index];
      }
      if (next == nullptr) {
        return std::unexpected(
            Bad(at, location, fmt::format("$ref {} does not resolve", Quoted(ref))));
      }
      node = next;
    }
    return node;
  }

  // Follows `node`'s $ref chain to a node without one. At most kMaxHops.
  Result<const Node*> Resolve(const Node* node, std::string_view location) const {
    constexpr int kMaxHops = 32;
    std::vector<const Node*> seen;
    while (node->is_object()) {
      const Node* ref = node->Find("$ref");
      if (ref == nullptr || ref->type != Type::kString) return node;
      if (std::find(seen.begin(), seen.end(), node) != seen.end() ||
          seen.size() >= static_cast<size_t>(kMaxHops)) {
        return std::unexpected(
            Bad(*ref, location,
                fmt::format("$ref {} leads back here through $refs alone", Quoted(ref->text))));
      }
      seen.push_back(node);
      auto next = Pointer(*ref, location, ref->text);
      if (!next) return std::unexpected(next.error());
      node = *next;
    }
    return node;
  }
};

Result<Document> Load(const OpenApiSource& source, const OpenApiLimits& limits) {
  Document doc;
  doc.name = source.name;
  std::string_view text = source.text;
  if (text.size() > limits.max_bytes) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{}: larger than the limit of {} bytes", doc.name, limits.max_bytes)));
  }
  size_t first = 0;
  if (text.starts_with("\xEF\xBB\xBF")) first = 3;
  while (first < text.size() && (text[first] == ' ' || text[first] == '\t' || text[first] == '\n' ||
                                 text[first] == '\r')) {
    ++first;
  }
  if (first == text.size()) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}: empty: expected an OpenAPI 3 document", doc.name)));
  }
  if (text[first] == '{') {
    auto parsed = json::Parse(text, {.subject = "document",
                                     .max_bytes = limits.max_bytes,
                                     .max_depth = limits.max_depth,
                                     .allow_bom = true});
    if (!parsed) {
      return std::unexpected(
          Error::InvalidArgument(fmt::format("{}: {}", doc.name, parsed.error().message())));
    }
    doc.root = FromJson(parsed->root(), LineIndex(text));
  } else {
    auto parsed = yaml::Parse(text, {.max_depth = limits.max_depth,
                                     .max_nodes = limits.max_nodes,
                                     .max_bytes = limits.max_bytes});
    if (!parsed) {
      return std::unexpected(
          Error::InvalidArgument(fmt::format("{}:{}:{}: {}", doc.name, parsed.error().mark.line,
                                             parsed.error().mark.column, parsed.error().message)));
    }
    doc.root = FromYaml(*parsed);
  }
  const Node& root = doc.root;
  if (!root.is_object()) {
    return std::unexpected(doc.Bad(root, "document",
                                   fmt::format("expected an OpenAPI 3 document "
                                               "(an object), found {}",
                                               json::TypeName(root.type))));
  }
  const Node* version = root.Find("openapi");
  if (version == nullptr) {
    if (const Node* swagger = root.Find("swagger")) {
      return std::unexpected(doc.Bad(*swagger, "swagger",
                                     "this is a Swagger 2 document; expected OpenAPI 3.0 or 3.1"));
    }
    return std::unexpected(doc.Bad(root, "openapi", "required (an OpenAPI 3.0 or 3.1 document)"));
  }
  if (version->type != Type::kString ||
      !(version->text.starts_with("3.0.") || version->text.starts_with("3.1.") ||
        version->text == "3.0" || version->text == "3.1")) {
    std::string found = version->type == Type::kString ? Quoted(version->text)
                                                       : std::string(json::TypeName(version->type));
    return std::unexpected(doc.Bad(
        *version, "openapi", fmt::format("expected a version 3.0.x or 3.1.x, found {}", found)));
  }
  // Every $ref must resolve, wherever it is, so that a bad one is reported
  // even in parts the comparison does not reach.
  struct Pending {
    const Node* node;
    std::string location;
  };
  std::vector<Pending> stack = {{&root, ""}};
  while (!stack.empty()) {
    Pending p = std::move(stack.back());
    stack.pop_back();
    for (const Member& m : p.node->members) {
      if (m.key == "$ref" && m.value.type != Type::kObject) {
        if (m.value.type != Type::kString) {
          return std::unexpected(doc.WrongType(m.value, Join(p.location, "$ref"), "a string"));
        }
        if (auto resolved = doc.Resolve(p.node, p.location); !resolved) {
          return std::unexpected(resolved.error());
        }
        continue;
      }
      stack.push_back({&m.value, Join(p.location, m.key)});
    }
    for (size_t i = 0; i < p.node->items.size(); ++i) {
      stack.push_back({&p.node->items[i], fmt::format("{}[{}]", p.location, i)});
    }
  }
  return doc;
}

// ---------------------------------------------------------------------------
// The structure above schemas: paths, operations, parameters, bodies,
// responses.

constexpr std::string_view kMethods[] = {"get",     "put",  "post",  "delete",
                                         "options", "head", "patch", "trace"};

bool IsMethod(std::string_view key) {
  return std::find(std::begin(kMethods), std::end(kMethods), key) != std::end(kMethods);
}

// "/items/{id}" and "/items/{itemId}" are one path: template names do not
// reach the wire.
std::string PathShape(std::string_view path) {
  std::string out;
  bool in_braces = false;
  for (char c : path) {
    if (c == '{') {
      in_braces = true;
      out += "{}";
    } else if (c == '}') {
      in_braces = false;
    } else if (!in_braces) {
      out += c;
    }
  }
  return out;
}

struct Parameter {
  std::string key;  // "query.limit" (header names in lower case)
  const Node* node = nullptr;
  bool required = false;
};

struct OperationView {
  std::string method;
  std::string location;
  const Node* node = nullptr;
  std::vector<Parameter> parameters;
};

struct PathItem {
  std::string path;  // as written
  std::string location;
  const Node* node = nullptr;
  std::vector<OperationView> operations;
};

Result<const Node*> ResolveObject(const Document& doc, const Node* node,
                                  const std::string& location, std::string_view what) {
  auto resolved = doc.Resolve(node, location);
  if (!resolved) return std::unexpected(resolved.error());
  if (!(*resolved)->is_object()) return std::unexpected(doc.WrongType(**resolved, location, what));
  return *resolved;
}

Result<void> ReadParameters(const Document& doc, const Node* list, const std::string& location,
                            std::vector<Parameter>* out) {
  if (list == nullptr) return Ok();
  if (list->type != Type::kArray)
    return std::unexpected(doc.WrongType(*list, location, "an array"));
  for (size_t i = 0; i < list->items.size(); ++i) {
    std::string where = fmt::format("{}[{}]", location, i);
    auto p = ResolveObject(doc, &list->items[i], where, "a parameter (an object)");
    if (!p) return std::unexpected(p.error());
    const Node* name = (*p)->Find("name");
    const Node* in = (*p)->Find("in");
    if (name == nullptr || name->type != Type::kString) {
      return std::unexpected(name ? doc.WrongType(*name, where + ".name", "a string")
                                  : doc.Bad(**p, where + ".name", "required"));
    }
    if (in == nullptr || in->type != Type::kString) {
      return std::unexpected(in ? doc.WrongType(*in, where + ".in", "a string")
                                : doc.Bad(**p, where + ".in", "required"));
    }
    if (in->text != "query" && in->text != "header" && in->text != "path" && in->text != "cookie") {
      return std::unexpected(doc.Bad(*in, where + ".in",
                                     fmt::format("expected one of query, header, path, cookie, "
                                                 "found {}",
                                                 Quoted(in->text))));
    }
    std::string key_name = name->text;
    if (in->text == "header") {
      std::transform(key_name.begin(), key_name.end(), key_name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    Parameter parameter{in->text + "." + key_name, *p, in->text == "path"};
    if (const Node* required = (*p)->Find("required")) {
      if (required->type != Type::kBool) {
        return std::unexpected(doc.WrongType(*required, where + ".required", "a boolean"));
      }
      parameter.required = parameter.required || required->text == "true";
    }
    // An operation's parameter replaces the path item's of the same name.
    auto same = std::find_if(out->begin(), out->end(),
                             [&](const Parameter& q) { return q.key == parameter.key; });
    if (same != out->end()) {
      *same = std::move(parameter);
    } else {
      out->push_back(std::move(parameter));
    }
  }
  return Ok();
}

bool IsStatusKey(std::string_view key) {
  if (key == "default") return true;
  if (key.size() != 3 || key[0] < '1' || key[0] > '5') return false;
  if (key[1] == 'X' && key[2] == 'X') return true;
  return key[1] >= '0' && key[1] <= '9' && key[2] >= '0' && key[2] <= '9';
}

Result<std::vector<PathItem>> ReadPaths(const Document& doc) {
  std::vector<PathItem> out;
  const Node* paths = doc.root.Find("paths");
  if (paths == nullptr || paths->type == Type::kNull) return out;  // 3.1 allows webhooks alone
  if (!paths->is_object()) return std::unexpected(doc.WrongType(*paths, "paths", "an object"));
  std::map<std::string, std::string> shapes;  // shape -> the path as written
  for (const Member& m : paths->members) {
    std::string location = Join("paths", m.key);
    if (m.key.starts_with("x-")) continue;
    if (!m.key.starts_with("/")) {
      return std::unexpected(doc.Bad(m.value, location, "a path must start with '/'"));
    }
    int open = 0;
    for (char c : m.key) {
      open += c == '{' ? 1 : c == '}' ? -1 : 0;
      if (open < 0 || open > 1) break;
    }
    if (open != 0) {
      return std::unexpected(
          doc.Bad(m.value, location, "a path template's braces must pair up: /items/{id}"));
    }
    auto [earlier, fresh] = shapes.emplace(PathShape(m.key), m.key);
    if (!fresh) {
      return std::unexpected(
          doc.Bad(m.value, location,
                  fmt::format("the same path as {} (template names aside)", earlier->second)));
    }
    auto item = ResolveObject(doc, &m.value, location, "a path item (an object)");
    if (!item) return std::unexpected(item.error());
    PathItem path{m.key, location, *item, {}};
    std::vector<Parameter> shared;
    if (auto ok =
            ReadParameters(doc, (*item)->Find("parameters"), location + ".parameters", &shared);
        !ok) {
      return std::unexpected(ok.error());
    }
    for (const Member& op : (*item)->members) {
      if (!IsMethod(op.key)) continue;
      std::string op_location = Join(location, op.key);
      if (!op.value.is_object()) {
        return std::unexpected(doc.WrongType(op.value, op_location, "an operation (an object)"));
      }
      OperationView operation{op.key, op_location, &op.value, shared};
      if (auto ok = ReadParameters(doc, op.value.Find("parameters"), op_location + ".parameters",
                                   &operation.parameters);
          !ok) {
        return std::unexpected(ok.error());
      }
      if (const Node* responses = op.value.Find("responses");
          responses != nullptr && !responses->is_object()) {
        return std::unexpected(doc.WrongType(*responses, op_location + ".responses", "an object"));
      } else if (responses != nullptr) {
        for (const Member& r : responses->members) {
          if (!IsStatusKey(r.key) && !r.key.starts_with("x-")) {
            return std::unexpected(
                doc.Bad(r.value, Join(op_location + ".responses", r.key),
                        "expected a status code (such as 200 or 4XX) or default"));
          }
        }
      }
      path.operations.push_back(std::move(operation));
    }
    out.push_back(std::move(path));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Comparing.

enum class Side : uint8_t { kRequest, kResponse };

constexpr std::string_view kDocKeys[] = {"description", "summary",      "title",    "example",
                                         "examples",    "externalDocs", "$comment", "deprecated",
                                         "tags",        "operationId"};

bool IsDocKey(std::string_view key) {
  return std::find(std::begin(kDocKeys), std::end(kDocKeys), key) != std::end(kDocKeys);
}

// JSON Schema types as bits; "number" includes "integer".
enum : uint8_t {
  kNullBit = 1,
  kBooleanBit = 2,
  kObjectBit = 4,
  kArrayBit = 8,
  kIntegerBit = 16,
  kFractionBit = 32,  // numbers that are not integers
  kStringBit = 64,
  kAnyType = 127,
};

std::string TypeSetText(uint8_t set) {
  if (set == kAnyType) return "any type";
  if (set == 0) return "nothing";
  std::vector<std::string_view> names;
  if (set & kNullBit) names.push_back("null");
  if (set & kBooleanBit) names.push_back("boolean");
  if (set & kObjectBit) names.push_back("object");
  if (set & kArrayBit) names.push_back("array");
  if ((set & kFractionBit) && (set & kIntegerBit)) {
    names.push_back("number");
  } else if (set & kIntegerBit) {
    names.push_back("integer");
  } else if (set & kFractionBit) {
    names.push_back("non-integer number");
  }
  if (set & kStringBit) names.push_back("string");
  return fmt::format("{}", fmt::join(names, "|"));
}

class Differ {
 public:
  Differ(const Document& before, const Document& after, const OpenApiLimits& limits)
      : old_(before), new_(after), limits_(limits) {}

  Result<ContractDiff> Run();

 private:
  void Add(FindingKind kind, ChangeClass c, std::string location, std::string message) {
    diff_.counts[static_cast<size_t>(c)]++;
    diff_.verdict = std::max(diff_.verdict, c);
    if (diff_.findings.size() >= limits_.max_findings) {
      ++diff_.omitted;
      return;
    }
    diff_.findings.push_back({kind, c, std::move(location), std::move(message)});
  }
  // A change that lets fewer values through (narrowed) or more (widened).
  void Narrowed(FindingKind kind, Side side, std::string location, std::string message) {
    Add(kind, side == Side::kRequest ? ChangeClass::kBreaking : ChangeClass::kNonBreaking,
        std::move(location), std::move(message));
  }
  void Widened(FindingKind kind, Side side, std::string location, std::string message) {
    Add(kind, side == Side::kRequest ? ChangeClass::kAdditive : ChangeClass::kBreaking,
        std::move(location), std::move(message));
  }

  // Documentation, extensions, and (for keys not in `analysed`) anything
  // else that differs, which is counted as breaking since it was not
  // understood.
  void Rest(const Node& o, const Node& n, const std::string& location,
            std::span<const std::string_view> analysed);

  Result<void> CompareOperation(const OperationView& o, const OperationView& n);
  Result<void> Parameters(const OperationView& o, const OperationView& n);
  Result<void> RequestBody(const OperationView& o, const OperationView& n);
  Result<void> Responses(const OperationView& o, const OperationView& n);
  Result<void> Content(const Node* o, const Node* n, Side side, const std::string& location);
  Result<void> Schema(const Node* o, const Node* n, Side side, const std::string& location,
                      int depth);
  Result<void> SchemaBody(const Node& o, const Node& n, Side side, const std::string& location,
                          int depth);

  const Document& old_;
  const Document& new_;
  const OpenApiLimits& limits_;
  ContractDiff diff_;
  size_t comparisons_ = 0;
  std::vector<std::pair<const Node*, const Node*>> open_;  // schema pairs being compared
};

void Differ::Rest(const Node& o, const Node& n, const std::string& location,
                  std::span<const std::string_view> analysed) {
  auto handled = [&](std::string_view key) {
    return std::find(analysed.begin(), analysed.end(), key) != analysed.end();
  };
  auto visit = [&](std::string_view key, const Node* a, const Node* b) {
    if (handled(key)) return;
    if (a != nullptr && b != nullptr && Same(*a, *b)) return;
    std::string what = a == nullptr ? "added" : b == nullptr ? "removed" : "changed";
    std::string where = Join(location, key);
    if (IsDocKey(key)) {
      Add(FindingKind::kDocumentationChanged, ChangeClass::kNonBreaking, where,
          fmt::format("{} {}", key, what));
    } else if (key.starts_with("x-")) {
      Add(FindingKind::kExtensionChanged, ChangeClass::kNonBreaking, where,
          fmt::format("extension {} {}", key, what));
    } else {
      Add(FindingKind::kUnanalysedChange, ChangeClass::kBreaking, where,
          fmt::format("{} {} (not analysed, so counted as breaking)", key, what));
    }
  };
  for (const Member& m : o.members) visit(m.key, &m.value, n.Find(m.key));
  for (const Member& m : n.members) {
    if (o.Find(m.key) == nullptr) visit(m.key, nullptr, &m.value);
  }
}

Result<ContractDiff> Differ::Run() {
  constexpr std::string_view kTopAnalysed[] = {"openapi", "paths", "components", "info"};
  Rest(old_.root, new_.root, "", kTopAnalysed);
  if (const Node* oi = old_.root.Find("info"); oi != nullptr && oi->is_object()) {
    if (const Node* ni = new_.root.Find("info"); ni != nullptr && ni->is_object()) {
      // The version and contact details are the document's, not the API's.
      constexpr std::string_view kInfoSkipped[] = {"version", "contact", "license",
                                                   "termsOfService"};
      Rest(*oi, *ni, "info", kInfoSkipped);
    }
  }
  auto old_paths = ReadPaths(old_);
  if (!old_paths) return std::unexpected(old_paths.error());
  auto new_paths = ReadPaths(new_);
  if (!new_paths) return std::unexpected(new_paths.error());
  std::map<std::string, const PathItem*> by_shape;
  for (const PathItem& p : *new_paths) by_shape.emplace(PathShape(p.path), &p);
  std::set<const PathItem*> matched;
  for (const PathItem& o : *old_paths) {
    auto it = by_shape.find(PathShape(o.path));
    if (it == by_shape.end()) {
      Add(FindingKind::kPathRemoved, ChangeClass::kBreaking, o.location, "the path was removed");
      continue;
    }
    const PathItem& n = *it->second;
    matched.insert(&n);
    constexpr std::string_view kPathAnalysed[] = {"get",  "put",   "post",  "delete",     "options",
                                                  "head", "patch", "trace", "parameters", "$ref"};
    Rest(*o.node, *n.node, o.location, kPathAnalysed);
    for (const OperationView& op : o.operations) {
      auto same = std::find_if(n.operations.begin(), n.operations.end(),
                               [&](const OperationView& x) { return x.method == op.method; });
      if (same == n.operations.end()) {
        Add(FindingKind::kOperationRemoved, ChangeClass::kBreaking, op.location,
            fmt::format("the operation {} {} was removed", op.method, o.path));
        continue;
      }
      if (auto ok = CompareOperation(op, *same); !ok) return std::unexpected(ok.error());
    }
    for (const OperationView& op : n.operations) {
      auto same = std::find_if(o.operations.begin(), o.operations.end(),
                               [&](const OperationView& x) { return x.method == op.method; });
      if (same == o.operations.end()) {
        Add(FindingKind::kOperationAdded, ChangeClass::kAdditive, Join(o.location, op.method),
            fmt::format("the operation {} {} was added", op.method, o.path));
      }
    }
  }
  for (const PathItem& n : *new_paths) {
    if (!matched.contains(&n)) {
      Add(FindingKind::kPathAdded, ChangeClass::kAdditive, n.location, "the path was added");
    }
  }
  return std::move(diff_);
}

Result<void> Differ::CompareOperation(const OperationView& o, const OperationView& n) {
  constexpr std::string_view kOperationAnalysed[] = {"parameters", "requestBody", "responses"};
  Rest(*o.node, *n.node, o.location, kOperationAnalysed);
  if (auto ok = Parameters(o, n); !ok) return ok;
  if (auto ok = RequestBody(o, n); !ok) return ok;
  return Responses(o, n);
}

Result<void> Differ::Parameters(const OperationView& o, const OperationView& n) {
  std::string base = o.location + ".parameters";
  for (const Parameter& p : o.parameters) {
    std::string where = Join(base, p.key);
    auto same = std::find_if(n.parameters.begin(), n.parameters.end(),
                             [&](const Parameter& q) { return q.key == p.key; });
    if (same == n.parameters.end()) {
      Add(FindingKind::kParameterRemoved, ChangeClass::kBreaking, where,
          fmt::format("the parameter {} was removed", p.key));
      continue;
    }
    if (!p.required && same->required) {
      Add(FindingKind::kParameterRequired, ChangeClass::kBreaking, where,
          fmt::format("the parameter {} is now required", p.key));
    } else if (p.required && !same->required) {
      Add(FindingKind::kParameterOptional, ChangeClass::kAdditive, where,
          fmt::format("the parameter {} is now optional", p.key));
    }
    constexpr std::string_view kParameterAnalysed[] = {"name", "in", "required", "schema",
                                                       "content"};
    Rest(*p.node, *same->node, where, kParameterAnalysed);
    const Node* os = p.node->Find("schema");
    const Node* ns = same->node->Find("schema");
    if (os != nullptr || ns != nullptr) {
      if (auto ok = Schema(os ? os : &EmptySchema(), ns ? ns : &EmptySchema(), Side::kRequest,
                           where + ".schema", 0);
          !ok) {
        return ok;
      }
    }
    if (auto ok = Content(p.node->Find("content"), same->node->Find("content"), Side::kRequest,
                          where + ".content");
        !ok) {
      return ok;
    }
  }
  for (const Parameter& p : n.parameters) {
    if (std::any_of(o.parameters.begin(), o.parameters.end(),
                    [&](const Parameter& q) { return q.key == p.key; })) {
      continue;
    }
    std::string where = Join(base, p.key);
    if (p.required) {
      Add(FindingKind::kParameterRequired, ChangeClass::kBreaking, where,
          fmt::format("a new required parameter {}", p.key));
    } else {
      Add(FindingKind::kParameterAdded, ChangeClass::kAdditive, where,
          fmt::format("a new optional parameter {}", p.key));
    }
  }
  return Ok();
}

Result<void> Differ::RequestBody(const OperationView& o, const OperationView& n) {
  std::string where = o.location + ".requestBody";
  const Node* ob = o.node->Find("requestBody");
  const Node* nb = n.node->Find("requestBody");
  if (ob == nullptr && nb == nullptr) return Ok();
  auto body = [&](const Document& doc, const Node* node) -> Result<const Node*> {
    if (node == nullptr) return nullptr;
    return ResolveObject(doc, node, where, "a request body (an object)");
  };
  auto required = [](const Node* b) {
    const Node* r = b->Find("required");
    return r != nullptr && r->type == Type::kBool && r->text == "true";
  };
  auto before = body(old_, ob);
  if (!before) return std::unexpected(before.error());
  auto after = body(new_, nb);
  if (!after) return std::unexpected(after.error());
  if (*before == nullptr) {
    if (required(*after)) {
      Add(FindingKind::kRequestBodyRequired, ChangeClass::kBreaking, where,
          "a required request body was added");
    } else {
      Add(FindingKind::kRequestBodyAdded, ChangeClass::kAdditive, where,
          "an optional request body was added");
    }
    return Ok();
  }
  if (*after == nullptr) {
    Add(FindingKind::kRequestBodyRemoved, ChangeClass::kBreaking, where,
        "the request body was removed");
    return Ok();
  }
  if (!required(*before) && required(*after)) {
    Add(FindingKind::kRequestBodyRequired, ChangeClass::kBreaking, where,
        "the request body is now required");
  } else if (required(*before) && !required(*after)) {
    Add(FindingKind::kRequestBodyOptional, ChangeClass::kAdditive, where,
        "the request body is now optional");
  }
  constexpr std::string_view kBodyAnalysed[] = {"required", "content"};
  Rest(**before, **after, where, kBodyAnalysed);
  return Content((*before)->Find("content"), (*after)->Find("content"), Side::kRequest,
                 where + ".content");
}

Result<void> Differ::Responses(const OperationView& o, const OperationView& n) {
  std::string base = o.location + ".responses";
  const Node* orr = o.node->Find("responses");
  const Node* nr = n.node->Find("responses");
  const Node& before = orr ? *orr : EmptySchema();
  const Node& after = nr ? *nr : EmptySchema();
  for (const Member& m : before.members) {
    if (m.key.starts_with("x-")) continue;
    std::string where = Join(base, m.key);
    const Node* same = after.Find(m.key);
    if (same == nullptr) {
      Add(FindingKind::kResponseStatusRemoved, ChangeClass::kBreaking, where,
          fmt::format("the response {} was removed", m.key));
      continue;
    }
    auto ro = ResolveObject(old_, &m.value, where, "a response (an object)");
    if (!ro) return std::unexpected(ro.error());
    auto rn = ResolveObject(new_, same, where, "a response (an object)");
    if (!rn) return std::unexpected(rn.error());
    constexpr std::string_view kResponseAnalysed[] = {"content"};
    Rest(**ro, **rn, where, kResponseAnalysed);
    if (auto ok = Content((*ro)->Find("content"), (*rn)->Find("content"), Side::kResponse,
                          where + ".content");
        !ok) {
      return ok;
    }
  }
  for (const Member& m : after.members) {
    if (m.key.starts_with("x-") || before.Find(m.key) != nullptr) continue;
    Add(FindingKind::kResponseStatusAdded, ChangeClass::kAdditive, Join(base, m.key),
        fmt::format("the response {} was added", m.key));
  }
  return Ok();
}

Result<void> Differ::Content(const Node* o, const Node* n, Side side, const std::string& location) {
  const Node& before = o ? *o : EmptySchema();
  const Node& after = n ? *n : EmptySchema();
  if (!before.is_object()) return std::unexpected(old_.WrongType(before, location, "an object"));
  if (!after.is_object()) return std::unexpected(new_.WrongType(after, location, "an object"));
  for (const Member& m : before.members) {
    std::string where = Join(location, m.key);
    const Node* same = after.Find(m.key);
    if (same == nullptr) {
      Add(FindingKind::kMediaTypeRemoved, ChangeClass::kBreaking, where,
          fmt::format("the media type {} was removed", m.key));
      continue;
    }
    if (!m.value.is_object()) return std::unexpected(old_.WrongType(m.value, where, "an object"));
    if (!same->is_object()) return std::unexpected(new_.WrongType(*same, where, "an object"));
    constexpr std::string_view kMediaAnalysed[] = {"schema"};
    Rest(m.value, *same, where, kMediaAnalysed);
    const Node* os = m.value.Find("schema");
    const Node* ns = same->Find("schema");
    if (os == nullptr && ns == nullptr) continue;
    if (auto ok =
            Schema(os ? os : &EmptySchema(), ns ? ns : &EmptySchema(), side, where + ".schema", 0);
        !ok) {
      return ok;
    }
  }
  for (const Member& m : after.members) {
    if (before.Find(m.key) != nullptr) continue;
    Add(FindingKind::kMediaTypeAdded, ChangeClass::kAdditive, Join(location, m.key),
        fmt::format("the media type {} was added", m.key));
  }
  return Ok();
}

// A schema's properties and required names, allOf members merged in.
struct Flat {
  std::vector<std::pair<std::string, const Node*>> properties;
  std::set<std::string> required;
  std::optional<uint8_t> types;  // from "type"/"nullable", the first found
  const Node* enumeration = nullptr;
  const Node* additional = nullptr;  // additionalProperties, the first found
};

Result<void> Flatten(const Document& doc, const Node& schema, const std::string& location,
                     int depth, Flat* flat) {
  if (depth > 16) {
    return std::unexpected(doc.Bad(schema, location, "allOf nests deeper than 16 levels"));
  }
  if (schema.type == Type::kBool) {
    if (schema.text == "false") flat->types = uint8_t{0};
    return Ok();
  }
  if (!schema.is_object()) {
    return std::unexpected(doc.WrongType(schema, location, "a schema (an object or a boolean)"));
  }
  if (const Node* type = schema.Find("type"); type != nullptr && !flat->types) {
    uint8_t set = 0;
    auto add = [&](const Node& name) -> Result<void> {
      static constexpr std::pair<std::string_view, uint8_t> kBits[] = {
          {"null", kNullBit},    {"boolean", kBooleanBit}, {"object", kObjectBit},
          {"array", kArrayBit},  {"integer", kIntegerBit}, {"number", kIntegerBit | kFractionBit},
          {"string", kStringBit}};
      for (auto [text, bit] : kBits) {
        if (name.type == Type::kString && name.text == text) {
          set |= bit;
          return Ok();
        }
      }
      return std::unexpected(doc.Bad(name, location + ".type",
                                     "expected one of null, boolean, object, array, integer, "
                                     "number, string"));
    };
    if (type->type == Type::kArray) {
      for (const Node& t : type->items) {
        if (auto ok = add(t); !ok) return ok;
      }
    } else if (auto ok = add(*type); !ok) {
      return ok;
    }
    if (const Node* nullable = schema.Find("nullable");
        nullable != nullptr && nullable->type == Type::kBool && nullable->text == "true") {
      set |= kNullBit;
    }
    flat->types = set;
  }
  if (const Node* e = schema.Find("enum"); e != nullptr && flat->enumeration == nullptr) {
    if (e->type != Type::kArray)
      return std::unexpected(doc.WrongType(*e, location + ".enum", "an array"));
    flat->enumeration = e;
  }
  if (const Node* a = schema.Find("additionalProperties"); a != nullptr && !flat->additional) {
    flat->additional = a;
  }
  if (const Node* props = schema.Find("properties")) {
    if (!props->is_object()) {
      return std::unexpected(doc.WrongType(*props, location + ".properties", "an object"));
    }
    for (const Member& m : props->members) {
      auto same = std::find_if(flat->properties.begin(), flat->properties.end(),
                               [&](const auto& p) { return p.first == m.key; });
      if (same == flat->properties.end()) flat->properties.emplace_back(m.key, &m.value);
    }
  }
  if (const Node* required = schema.Find("required")) {
    if (required->type != Type::kArray) {
      return std::unexpected(
          doc.WrongType(*required, location + ".required", "an array of strings"));
    }
    for (const Node& name : required->items) {
      if (name.type != Type::kString) {
        return std::unexpected(doc.WrongType(name, location + ".required", "an array of strings"));
      }
      flat->required.insert(name.text);
    }
  }
  if (const Node* all = schema.Find("allOf")) {
    if (all->type != Type::kArray) {
      return std::unexpected(doc.WrongType(*all, location + ".allOf", "an array"));
    }
    for (size_t i = 0; i < all->items.size(); ++i) {
      std::string where = fmt::format("{}.allOf[{}]", location, i);
      auto member = doc.Resolve(&all->items[i], where);
      if (!member) return std::unexpected(member.error());
      if (auto ok = Flatten(doc, **member, where, depth + 1, flat); !ok) return ok;
    }
  }
  return Ok();
}

std::string EnumText(const Node& value) {
  return value.type == Type::kString ? Quoted(value.text) : value.text;
}

Result<void> Differ::Schema(const Node* o, const Node* n, Side side, const std::string& location,
                            int depth) {
  if (++comparisons_ > limits_.max_comparisons) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "{} and {}: too complex to compare: more than {} schema comparisons once $refs are "
        "followed",
        old_.name, new_.name, limits_.max_comparisons)));
  }
  if (depth > limits_.max_schema_depth) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{} and {}: {}: schemas nest deeper than {} levels once $refs are followed",
                    old_.name, new_.name, location, limits_.max_schema_depth)));
  }
  auto ro = old_.Resolve(o, location);
  if (!ro) return std::unexpected(ro.error());
  auto rn = new_.Resolve(n, location);
  if (!rn) return std::unexpected(rn.error());
  // A pair already being compared further up is a cycle through $refs: its
  // differences are reported there.
  std::pair<const Node*, const Node*> pair{*ro, *rn};
  if (std::find(open_.begin(), open_.end(), pair) != open_.end()) return Ok();
  open_.push_back(pair);
  auto result = SchemaBody(**ro, **rn, side, location, depth);
  open_.pop_back();
  return result;
}

Result<void> Differ::SchemaBody(const Node& o, const Node& n, Side side,
                                const std::string& location, int depth) {
  Flat fo, fn;
  if (auto ok = Flatten(old_, o, location, 0, &fo); !ok) return ok;
  if (auto ok = Flatten(new_, n, location, 0, &fn); !ok) return ok;
  // Types.
  uint8_t to = fo.types.value_or(kAnyType);
  uint8_t tn = fn.types.value_or(kAnyType);
  if (to != tn) {
    std::string message = fmt::format("type {} became {}", TypeSetText(to), TypeSetText(tn));
    if (to & ~tn) Narrowed(FindingKind::kTypeNarrowed, side, location, message);
    if (tn & ~to) Widened(FindingKind::kTypeWidened, side, location, message);
  }
  // Enumerations.
  if (fo.enumeration != nullptr || fn.enumeration != nullptr) {
    auto contains = [](const Node* list, const Node& value) {
      return std::any_of(list->items.begin(), list->items.end(),
                         [&](const Node& x) { return Same(x, value); });
    };
    std::string where = location + ".enum";
    if (fn.enumeration == nullptr) {
      Widened(FindingKind::kEnumWidened, side, where, "the enum was removed: any value is valid");
    } else if (fo.enumeration == nullptr) {
      Narrowed(FindingKind::kEnumNarrowed, side, where, "an enum now limits the values");
    } else {
      std::vector<std::string> removed, added;
      for (const Node& v : fo.enumeration->items) {
        if (!contains(fn.enumeration, v)) removed.push_back(EnumText(v));
      }
      for (const Node& v : fn.enumeration->items) {
        if (!contains(fo.enumeration, v)) added.push_back(EnumText(v));
      }
      if (!removed.empty()) {
        Narrowed(FindingKind::kEnumNarrowed, side, where,
                 fmt::format("enum values removed: {}", fmt::join(removed, ", ")));
      }
      if (!added.empty()) {
        Add(FindingKind::kEnumWidened, ChangeClass::kAdditive, where,
            fmt::format("enum values added: {}", fmt::join(added, ", ")));
      }
    }
  }
  // Bounds: a larger minimum or a smaller maximum narrows.
  static constexpr std::pair<std::string_view, bool> kBounds[] = {
      {"maximum", true},           {"exclusiveMaximum", true}, {"maxLength", true},
      {"maxItems", true},          {"maxProperties", true},    {"minimum", false},
      {"exclusiveMinimum", false}, {"minLength", false},       {"minItems", false},
      {"minProperties", false}};
  std::vector<std::string_view> analysed = {"type",
                                            "nullable",
                                            "enum",
                                            "properties",
                                            "required",
                                            "allOf",
                                            "items",
                                            "oneOf",
                                            "anyOf",
                                            "pattern",
                                            "format",
                                            "uniqueItems",
                                            "additionalProperties",
                                            "$ref"};
  for (auto [key, upper] : kBounds) {
    const Node* a = o.is_object() ? o.Find(key) : nullptr;
    const Node* b = n.is_object() ? n.Find(key) : nullptr;
    if ((a != nullptr && a->type != Type::kNumber) || (b != nullptr && b->type != Type::kNumber)) {
      continue;  // 3.0's boolean exclusiveMaximum: left to Rest
    }
    analysed.push_back(key);
    if (a == nullptr && b == nullptr) continue;
    std::string where = Join(location, key);
    if (a == nullptr) {
      Narrowed(FindingKind::kConstraintNarrowed, side, where,
               fmt::format("{} {} added", key, b->text));
      continue;
    }
    if (b == nullptr) {
      Widened(FindingKind::kConstraintWidened, side, where,
              fmt::format("{} {} removed", key, a->text));
      continue;
    }
    double x = 0, y = 0;
    std::from_chars(a->text.data(), a->text.data() + a->text.size(), x);
    std::from_chars(b->text.data(), b->text.data() + b->text.size(), y);
    if (x == y) continue;
    std::string message = fmt::format("{} {} became {}", key, a->text, b->text);
    if ((y < x) == upper) {
      Narrowed(FindingKind::kConstraintNarrowed, side, where, message);
    } else {
      Widened(FindingKind::kConstraintWidened, side, where, message);
    }
  }
  for (std::string_view key : {std::string_view("pattern"), std::string_view("format")}) {
    const Node* a = o.is_object() ? o.Find(key) : nullptr;
    const Node* b = n.is_object() ? n.Find(key) : nullptr;
    if (a == nullptr && b == nullptr) continue;
    if (a != nullptr && b != nullptr && Same(*a, *b)) continue;
    std::string where = Join(location, key);
    if (a == nullptr) {
      Narrowed(FindingKind::kConstraintNarrowed, side, where, fmt::format("{} added", key));
    } else if (b == nullptr) {
      Widened(FindingKind::kConstraintWidened, side, where, fmt::format("{} removed", key));
    } else {
      Add(FindingKind::kConstraintChanged, ChangeClass::kBreaking, where,
          fmt::format("{} {} became {}", key, EnumText(*a), EnumText(*b)));
    }
  }
  auto flag = [](const Node& s, std::string_view key) {
    const Node* f = s.is_object() ? s.Find(key) : nullptr;
    return f != nullptr && f->type == Type::kBool && f->text == "true";
  };
  if (flag(o, "uniqueItems") != flag(n, "uniqueItems")) {
    std::string where = location + ".uniqueItems";
    if (flag(n, "uniqueItems")) {
      Narrowed(FindingKind::kConstraintNarrowed, side, where, "items must now be unique");
    } else {
      Widened(FindingKind::kConstraintWidened, side, where, "items need no longer be unique");
    }
  }
  // Properties.
  for (const auto& [name, schema] : fo.properties) {
    std::string where = Join(location + ".properties", name);
    auto same = std::find_if(fn.properties.begin(), fn.properties.end(),
                             [&](const auto& p) { return p.first == name; });
    if (same == fn.properties.end()) {
      Add(side == Side::kRequest ? FindingKind::kRequestFieldRemoved
                                 : FindingKind::kResponseFieldRemoved,
          ChangeClass::kBreaking, where,
          fmt::format("the {} field {} was removed",
                      side == Side::kRequest ? "request" : "response", name));
      continue;
    }
    bool was = fo.required.contains(name);
    bool is = fn.required.contains(name);
    if (side == Side::kRequest && !was && is) {
      Add(FindingKind::kRequestFieldRequired, ChangeClass::kBreaking, where,
          fmt::format("the request field {} is now required", name));
    } else if (side == Side::kRequest && was && !is) {
      Add(FindingKind::kRequestFieldOptional, ChangeClass::kAdditive, where,
          fmt::format("the request field {} is now optional", name));
    } else if (side == Side::kResponse && was && !is) {
      Add(FindingKind::kResponseFieldOptional, ChangeClass::kBreaking, where,
          fmt::format("the response field {} may now be absent", name));
    } else if (side == Side::kResponse && !was && is) {
      Add(FindingKind::kResponseFieldRequired, ChangeClass::kNonBreaking, where,
          fmt::format("the response field {} is now always present", name));
    }
    if (auto ok = Schema(schema, same->second, side, where, depth + 1); !ok) return ok;
  }
  for (const auto& [name, schema] : fn.properties) {
    if (std::any_of(fo.properties.begin(), fo.properties.end(),
                    [&](const auto& p) { return p.first == name; })) {
      continue;
    }
    std::string where = Join(location + ".properties", name);
    if (side == Side::kResponse) {
      Add(FindingKind::kResponseFieldAdded, ChangeClass::kAdditive, where,
          fmt::format("the response field {} was added", name));
    } else if (fn.required.contains(name)) {
      Add(FindingKind::kRequestFieldRequired, ChangeClass::kBreaking, where,
          fmt::format("a new required request field {}", name));
    } else {
      Add(FindingKind::kRequestFieldAdded, ChangeClass::kAdditive, where,
          fmt::format("a new optional request field {}", name));
    }
  }
  // Required names without a property of their own (the value may be anything).
  if (side == Side::kRequest) {
    for (const std::string& name : fn.required) {
      bool declared = std::any_of(fn.properties.begin(), fn.properties.end(),
                                  [&](const auto& p) { return p.first == name; });
      if (!declared && !fo.required.contains(name)) {
        Add(FindingKind::kRequestFieldRequired, ChangeClass::kBreaking, location + ".required",
            fmt::format("the request field {} is now required", name));
      }
    }
  }
  if (!o.is_object() || !n.is_object()) return Ok();
  // Subschemas.
  const Node* oi = o.Find("items");
  const Node* ni = n.Find("items");
  if (oi != nullptr || ni != nullptr) {
    if (auto ok = Schema(oi ? oi : &EmptySchema(), ni ? ni : &EmptySchema(), side,
                         location + ".items", depth + 1);
        !ok) {
      return ok;
    }
  }
  const Node* oa = fo.additional;
  const Node* na = fn.additional;
  if (oa != nullptr || na != nullptr) {
    if (auto ok = Schema(oa ? oa : &EmptySchema(), na ? na : &EmptySchema(), side,
                         location + ".additionalProperties", depth + 1);
        !ok) {
      return ok;
    }
  }
  for (std::string_view key : {std::string_view("oneOf"), std::string_view("anyOf")}) {
    const Node* a = o.Find(key);
    const Node* b = n.Find(key);
    if (a == nullptr && b == nullptr) continue;
    std::string where = Join(location, key);
    if ((a != nullptr && a->type != Type::kArray)) {
      return std::unexpected(old_.WrongType(*a, where, "an array"));
    }
    if ((b != nullptr && b->type != Type::kArray)) {
      return std::unexpected(new_.WrongType(*b, where, "an array"));
    }
    size_t before = a ? a->items.size() : 0;
    size_t after = b ? b->items.size() : 0;
    if (a == nullptr) {
      Narrowed(FindingKind::kTypeNarrowed, side, where, fmt::format("{} added", key));
      continue;
    }
    if (b == nullptr) {
      Widened(FindingKind::kTypeWidened, side, where, fmt::format("{} removed", key));
      continue;
    }
    for (size_t i = 0; i < std::min(before, after); ++i) {
      if (auto ok =
              Schema(&a->items[i], &b->items[i], side, fmt::format("{}[{}]", where, i), depth + 1);
          !ok) {
        return ok;
      }
    }
    if (after > before) {
      Widened(FindingKind::kTypeWidened, side, where,
              fmt::format("{} alternatives became {}", before, after));
    } else if (after < before) {
      Narrowed(FindingKind::kTypeNarrowed, side, where,
               fmt::format("{} alternatives became {}", before, after));
    }
  }
  Rest(o, n, location, analysed);
  return Ok();
}

}  // namespace

Result<ContractDiff> DiffOpenApi(const OpenApiSource& before, const OpenApiSource& after,
                                 const OpenApiLimits& limits) {
  auto o = Load(before, limits);
  if (!o) return std::unexpected(o.error());
  auto n = Load(after, limits);
  if (!n) return std::unexpected(n.error());
  Differ differ(*o, *n, limits);
  return differ.Run();
}

std::string DiffText(const ContractDiff& diff) {
  std::string out;
  for (const ContractFinding& f : diff.findings) {
    out += fmt::format("{:<12}  {}  {}: {}\n", Name(f.change_class), Name(f.kind), f.location,
                       f.message);
  }
  if (diff.omitted > 0) out += fmt::format("... and {} more findings\n", diff.omitted);
  out += fmt::format("verdict: {} ({} breaking, {} additive, {} non_breaking)\n",
                     Name(diff.verdict), diff.Count(ChangeClass::kBreaking),
                     diff.Count(ChangeClass::kAdditive), diff.Count(ChangeClass::kNonBreaking));
  return out;
}

}  // namespace interlock::compliance
