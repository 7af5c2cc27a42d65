// A YAML document tree that remembers where every node came from, so that a
// governance error can name file:line:column. Built on libyaml's event parser.
//
// Supported: the block and flow styles of YAML 1.1/1.2 that people write in
// configuration files: mappings, sequences, plain/quoted/literal/folded
// scalars, comments, one document per file. Refused with a clear error:
// anchors and aliases (they hide what a reviewer reads), tags other than
// !!str, multiple documents, complex (non-scalar) mapping keys, duplicate keys
// in one mapping, nesting deeper than Limits::max_depth, more than
// Limits::max_nodes nodes, input longer than Limits::max_bytes, invalid UTF-8.
//
// Thread safety: a Node tree is immutable after Parse and may be read from
// any number of threads.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace interlock::yaml {

// Where a node or a problem starts: 1-based line and 1-based column. The
// column counts Unicode characters (code points), as libyaml does, not bytes;
// for ASCII text the two agree. Lines end at LF, CR, CRLF, NEL, LS or PS.
struct Mark {
  int line = 0;
  int column = 0;
};

enum class NodeType { kNull, kScalar, kSequence, kMapping };

struct Entry;

class Node {
 public:
  NodeType type() const { return type_; }
  // Where the node's first character is; for an empty value (`key:` with
  // nothing after it), where the value would have been.
  Mark mark() const { return mark_; }
  bool IsNull() const { return type_ == NodeType::kNull; }
  bool IsScalar() const { return type_ == NodeType::kScalar; }
  bool IsSequence() const { return type_ == NodeType::kSequence; }
  bool IsMapping() const { return type_ == NodeType::kMapping; }

  // The scalar's text after YAML unescaping (it may contain NUL characters).
  // Empty for other types. A plain `~`, `null`, `Null`, `NULL` or empty value
  // is a kNull node, never a scalar; every other scalar keeps its text, and
  // typing it (bool, number) is the caller's job.
  const std::string& scalar() const { return scalar_; }
  // True for single/double quoted, literal, folded and !!str-tagged scalars:
  // their text is always a string, never a number, boolean or null.
  bool quoted() const { return quoted_; }

  // Items of a sequence, in document order. Empty for other types.
  const std::vector<Node>& items() const { return items_; }
  // Entries of a mapping, in document order, with distinct keys. Empty for
  // other types.
  const std::vector<Entry>& entries() const { return entries_; }
  // The value for `key` in a mapping, or nullptr if absent or not a mapping.
  // A linear search over entries().
  const Node* Find(std::string_view key) const;

  // Short name of the type for messages: "null", "scalar", "sequence", "mapping".
  std::string_view TypeName() const;

 private:
  friend class Builder;
  NodeType type_ = NodeType::kNull;
  Mark mark_;
  bool quoted_ = false;
  std::string scalar_;
  std::vector<Node> items_;
  std::vector<Entry> entries_;
};

struct Entry {
  // The key scalar's text, as written after unescaping: a key spelled `null`
  // or `~` is the text "null" or "~".
  std::string key;
  Mark key_mark;
  Node value;
};

// Parse refuses input beyond these. max_depth also bounds the recursion of
// copying and destroying the tree, so keep it small.
struct Limits {
  int max_depth = 64;            // Default: 64 nested collections.
  size_t max_nodes = 1'000'000;  // Default: one million nodes, keys included.
  size_t max_bytes = 16u << 20;  // Default: 16 MiB of input.
};

struct ParseError {
  Mark mark;            // where the problem was found
  std::string message;  // e.g. "duplicate key 'timeout' (first at 3:5)"
};

// Parses one YAML document from UTF-8 `text` (need not be NUL-terminated).
// An empty document (only comments or nothing) yields a null root node at
// 1:1. Returns the first problem found otherwise. Never throws, never crashes
// on any input; recursion and memory are bounded by `limits`.
std::expected<Node, ParseError> Parse(std::string_view text, const Limits& limits = {});

}  // namespace interlock::yaml
