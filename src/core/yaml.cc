#include "core/yaml.h"

#include <fmt/format.h>
#include <yaml.h>  // libyaml

#include <algorithm>
#include <climits>
#include <optional>
#include <unordered_map>
#include <utility>

namespace interlock::yaml {
namespace {

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

// libyaml counts lines and columns from 0 in size_t; Mark counts from 1 in int.
int OneBased(size_t zero_based) {
  return static_cast<int>(std::min<size_t>(zero_based, INT_MAX - 1) + 1);
}

Mark ToMark(const yaml_mark_t& mark) { return {OneBased(mark.line), OneBased(mark.column)}; }

// The mark of byte `offset` of `text`, counted as libyaml counts: lines end at
// LF, CR, CRLF, NEL, LS or PS, and columns count UTF-8 characters. For reader
// errors, which libyaml reports as a byte offset only; the text before the
// offset has passed libyaml's UTF-8 check.
Mark MarkAtByte(std::string_view text, size_t offset) {
  const std::string_view before = text.substr(0, offset);
  size_t line = 0;
  size_t column = 0;
  for (size_t byte = 0; byte < before.size(); ++byte) {
    const std::string_view rest = before.substr(byte);
    if (rest.starts_with("\r\n")) continue;  // counted at the '\n'
    if (rest[0] == '\n' || rest[0] == '\r' || rest.starts_with("\xC2\x85") ||
        rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) {
      ++line;
      column = 0;
    } else if ((static_cast<unsigned char>(rest[0]) & 0xC0) != 0x80) {
      ++column;  // a leading byte; continuation bytes belong to its character
    }
  }
  return {OneBased(line), OneBased(column)};
}

std::string_view Text(const yaml_char_t* text) {
  return text == nullptr ? std::string_view() : reinterpret_cast<const char*>(text);
}

std::unexpected<ParseError> Fail(Mark mark, std::string message) {
  return std::unexpected(ParseError{mark, std::move(message)});
}

// Owns one libyaml event; deleting a zeroed event is a no-op.
struct Event {
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { yaml_event_delete(&raw); }

  yaml_event_t raw{};
};

}  // namespace

// Turns libyaml's event stream for one input into a Node tree, without
// recursion: collections still open are kept on an explicit stack. Use once:
// construct, then Build().
class Builder {
 public:
  Builder(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {
    parser_ready_ = yaml_parser_initialize(&parser_) != 0;
    if (!parser_ready_) return;
    // libyaml asserts a non-null input, which an empty string_view may lack.
    static constexpr unsigned char kEmpty[1] = {};
    const auto* input = text.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(text.data());
    yaml_parser_set_input_string(&parser_, input, text.size());
    // Without this libyaml would decode input that starts with a UTF-16 BOM.
    yaml_parser_set_encoding(&parser_, YAML_UTF8_ENCODING);
  }
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;
  ~Builder() {
    if (parser_ready_) yaml_parser_delete(&parser_);
  }

  std::expected<Node, ParseError> Build() {
    if (!parser_ready_) return Fail({1, 1}, "out of memory while starting the YAML parser");
    for (;;) {
      Event event;
      if (yaml_parser_parse(&parser_, &event.raw) == 0) return std::unexpected(LibyamlError());
      const yaml_event_t& raw = event.raw;
      const Mark mark = ToMark(raw.start_mark);
      Status status;
      switch (raw.type) {
        case YAML_STREAM_END_EVENT:
          return root_ ? std::move(*root_) : MakeNode(NodeType::kNull, {1, 1});
        case YAML_DOCUMENT_START_EVENT:
          if (seen_document_) {
            return Fail(mark, fmt::format("expected one YAML document, found a second at {}:{}",
                                          mark.line, mark.column));
          }
          seen_document_ = true;
          break;
        case YAML_ALIAS_EVENT:
          return Fail(mark, "anchors and aliases are not supported; write the value out");
        case YAML_SCALAR_EVENT:
          status = OnScalar(raw, mark);
          break;
        case YAML_SEQUENCE_START_EVENT:
          status = OnCollectionStart(NodeType::kSequence, raw.data.sequence_start.anchor,
                                     raw.data.sequence_start.tag, mark);
          break;
        case YAML_MAPPING_START_EVENT:
          status = OnCollectionStart(NodeType::kMapping, raw.data.mapping_start.anchor,
                                     raw.data.mapping_start.tag, mark);
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          status = Close();
          break;
        case YAML_NO_EVENT:
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
          break;
      }
      if (!status) return std::unexpected(std::move(status.error()));
    }
  }

 private:
  using Status = std::expected<void, ParseError>;

  // A sequence or mapping whose end event has not arrived yet.
  struct Open {
    Node node;
    // Mappings only: the key waiting for its value, and where each key so far
    // first appeared.
    std::optional<Entry> pending;
    std::unordered_map<std::string, Mark> key_marks;
  };

  static Node MakeNode(NodeType type, Mark mark) {
    Node node;
    node.type_ = type;
    node.mark_ = mark;
    return node;
  }

  bool ExpectsKey() const {
    return !open_.empty() && open_.back().node.IsMapping() && !open_.back().pending;
  }

  // Refuses anchors, and tags other than !!str (allowed on scalars only).
  // Returns whether the node is tagged !!str.
  static std::expected<bool, ParseError> CheckProperties(const yaml_char_t* anchor,
                                                         const yaml_char_t* tag, bool is_scalar,
                                                         Mark mark) {
    if (anchor != nullptr) {
      return Fail(mark, "anchors and aliases are not supported; write the value out");
    }
    if (tag == nullptr) return false;
    if (is_scalar && Text(tag) == kStrTag) return true;
    return Fail(mark, "tags are not supported");
  }

  Status CountNode(Mark mark) {
    if (++nodes_ > limits_.max_nodes) {
      return Fail(mark, fmt::format("document has more than {} nodes", limits_.max_nodes));
    }
    return {};
  }

  Status OnScalar(const yaml_event_t& event, Mark mark) {
    const auto& scalar = event.data.scalar;
    const auto str_tagged = CheckProperties(scalar.anchor, scalar.tag, true, mark);
    if (!str_tagged) return std::unexpected(str_tagged.error());
    if (Status counted = CountNode(mark); !counted) return counted;
    std::string text(reinterpret_cast<const char*>(scalar.value), scalar.length);

    if (ExpectsKey()) {
      Open& mapping = open_.back();
      const auto [first, inserted] = mapping.key_marks.try_emplace(text, mark);
      if (!inserted) {
        return Fail(mark, fmt::format("duplicate key '{}' (first at {}:{})", text,
                                      first->second.line, first->second.column));
      }
      mapping.pending = Entry{std::move(text), mark, Node()};
      return {};
    }

    const bool plain = scalar.style == YAML_PLAIN_SCALAR_STYLE && !*str_tagged;
    if (plain &&
        (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")) {
      Attach(MakeNode(NodeType::kNull, mark));
      return {};
    }
    Node node = MakeNode(NodeType::kScalar, mark);
    node.quoted_ = !plain;
    node.scalar_ = std::move(text);
    Attach(std::move(node));
    return {};
  }

  Status OnCollectionStart(NodeType type, const yaml_char_t* anchor, const yaml_char_t* tag,
                           Mark mark) {
    if (const auto checked = CheckProperties(anchor, tag, false, mark); !checked) {
      return std::unexpected(checked.error());
    }
    if (ExpectsKey()) return Fail(mark, "mapping keys must be scalars");
    // Checked before the stack grows, so no input can nest deeper than the limit.
    if (std::cmp_greater_equal(open_.size(), limits_.max_depth)) {
      return Fail(mark, fmt::format("nesting deeper than {} levels", limits_.max_depth));
    }
    if (Status counted = CountNode(mark); !counted) return counted;
    open_.push_back(Open{MakeNode(type, mark), std::nullopt, {}});
    return {};
  }

  Status Close() {
    // libyaml balances start and end events; guard anyway rather than crash.
    if (open_.empty()) return Fail({1, 1}, "internal error: unbalanced YAML events");
    Node node = std::move(open_.back().node);
    open_.pop_back();
    Attach(std::move(node));
    return {};
  }

  // Places a finished node: as the root, as the next sequence item, or as the
  // value of the pending mapping key.
  void Attach(Node node) {
    if (open_.empty()) {
      root_ = std::move(node);
      return;
    }
    Open& parent = open_.back();
    if (parent.node.IsSequence()) {
      parent.node.items_.push_back(std::move(node));
      return;
    }
    parent.pending->value = std::move(node);
    parent.node.entries_.push_back(std::move(*parent.pending));
    parent.pending.reset();
  }

  // The error libyaml stopped with, e.g. "found character that cannot start any
  // token while scanning for the next token".
  ParseError LibyamlError() const {
    const std::string problem(parser_.problem != nullptr ? parser_.problem : "invalid YAML");
    switch (parser_.error) {
      case YAML_MEMORY_ERROR:
        return {{1, 1}, "out of memory while parsing YAML"};
      case YAML_READER_ERROR: {
        const Mark mark = MarkAtByte(text_, parser_.problem_offset);
        if (parser_.problem_value == -1) return {mark, problem};
        return {mark, fmt::format("{} (0x{:02X})", problem, parser_.problem_value)};
      }
      default:
        break;
    }
    const Mark mark = ToMark(parser_.problem_mark);
    if (parser_.context == nullptr) return {mark, problem};
    const Mark context = ToMark(parser_.context_mark);
    if (context.line == mark.line && context.column == mark.column) {
      return {mark, fmt::format("{} {}", problem, parser_.context)};
    }
    return {mark, fmt::format("{} {} started at {}:{}", problem, parser_.context, context.line,
                              context.column)};
  }

  std::string_view text_;
  Limits limits_;
  yaml_parser_t parser_;
  bool parser_ready_ = false;
  bool seen_document_ = false;
  size_t nodes_ = 0;
  std::vector<Open> open_;  // outermost first
  std::optional<Node> root_;
};

const Node* Node::Find(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

std::string_view Node::TypeName() const {
  switch (type_) {
    case NodeType::kNull:
      return "null";
    case NodeType::kScalar:
      return "scalar";
    case NodeType::kSequence:
      return "sequence";
    case NodeType::kMapping:
      return "mapping";
  }
  return "unknown";
}

std::expected<Node, ParseError> Parse(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    return Fail({1, 1}, fmt::format("document is larger than {} bytes", limits.max_bytes));
  }
  return Builder(text, limits).Build();
}

}  // namespace interlock::yaml
