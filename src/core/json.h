// The one JSON reader for input from outside, and the one JSON string escaper.
//
// Parse is a strict RFC 8259 parser: it accepts exactly one JSON value and
// refuses everything a lenient parser would guess about. Its Document is
// compact and immutable (all values in one array, all strings decoded into
// one buffer), so reading a request costs two heap allocations. ObjectReader
// reads one object by field name with one wording for every caller; ReadObject
// is the whole path for a small body such as an HTTP request's.
//
// Thread safety: a Document, its Values and an ObjectReader are immutable;
// share them freely. Parse may run on several threads at once.
//
// ---------------------------------------------------------------------------
// Accepted input (Parse)
//
//   - At most `limits.max_bytes` bytes.
//   - One JSON value (RFC 8259), surrounded by whitespace (space, tab, LF,
//     CR) only. With `top` = kObject (the default) it must be an object.
//   - Strings are well-formed UTF-8 (RFC 3629: no overlong forms, no
//     surrogates, nothing above U+10FFFF). Escapes are \" \\ \/ \b \f \n \r
//     \t and \uXXXX; a \uXXXX surrogate must be a high one followed by a low
//     one. \u0000 is accepted and decodes to U+0000; a raw NUL byte is not.
//   - Objects and arrays nest at most `limits.max_depth` deep; the top-level
//     value is level 1.
//   - No object has the same key twice (compared after unescaping).
//   - A number's value must fit in an IEEE-754 double; a number too small
//     for one reads as zero.
//   - A byte order mark is refused unless `allow_bom`, when one leading BOM
//     is skipped.
//
// Errors are kInvalidArgument with one of these messages. WHERE is the member
// path of the innermost member being read, from its key to the end of its
// value ("change.environment", "actor.roles[1]"; with PathStyle::kPointer the
// RFC 6901 pointer "/change/environment", "/actor/roles/1"); between members
// it is the enclosing object's or array's path, and the subject ("request")
// at the top level. POS is "line L, column C" (from 1, the column in bytes). FOUND
// is 'c' for a printable ASCII character, "byte 0xNN" for any other byte and
// "end of input" at the end.
//
//   SUBJECT: larger than the limit of N bytes
//   SUBJECT: expected a JSON object, found T       (T from TypeName)
//   SUBJECT: trailing data at POS
//   WHERE: malformed JSON at POS: expected X, found FOUND
//       X is one of: a value; a string key; ':'; ',' or '}'; ',' or ']';
//       a digit; four hex digits; an escape (\" \\ \/ \b \f \n \r \t \uXXXX);
//       a printable character or an escape; true; false; null
//   WHERE: NUL byte at POS
//   WHERE: invalid UTF-8 at POS
//   WHERE: lone surrogate \uXXXX at POS             (as spelled in the input)
//   WHERE: duplicate key "K" at POS                 (WHERE: the object)
//   WHERE: nesting deeper than N levels at POS
//   WHERE: number out of range at POS
//
// For example:
//   change: duplicate key "environment" at line 1, column 62
//
// ---------------------------------------------------------------------------
// Reading fields (ObjectReader). PATH is the member path of the field (or of
// the object), the subject at the top level. A member whose value is null
// counts as absent.
//
//   PATH: unknown field "K" (expected one of: a, b, c)
//   PATH: required
//   PATH: expected T, found T2          (T, T2 from TypeName; "an array of
//                                        strings" for string arrays)
//   PATH: expected one of a, b, c, found "x"
//   PATH: expected a number from MIN to MAX, found N    (N as written)
// ---------------------------------------------------------------------------
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/names.h"
#include "core/status.h"

namespace interlock::json {

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

// "null", "a boolean", "a number", "a string", "an array", "an object".
std::string_view TypeName(Type type);

enum class PathStyle : uint8_t {
  kDotted,   // change.environment, actor.roles[0]
  kPointer,  // /change/environment, /actor/roles/0 (RFC 6901)
};

struct ParseOptions {
  // Names the whole input in messages. Default: "document".
  std::string_view subject = "document";
  size_t max_bytes = size_t{1} << 20;  // Default: 1 MiB.
  int max_depth = 32;                  // Default: 32 nested objects/arrays.
  bool require_object = true;          // Default: the top level must be an object.
  bool allow_bom = false;              // Default: a byte order mark is an error.
  PathStyle path_style = PathStyle::kDotted;
};

namespace detail {
struct Node {
  Type type;
  bool flag;        // kBool: the value
  uint32_t offset;  // of the value's first byte in the input
  uint32_t a;       // kString, kNumber: start in the arena; containers: member count
  uint32_t b;       // kString, kNumber: length; containers: index after the last descendant
  double number;    // kNumber
};
}  // namespace detail

class Value;

// One member of an object, in input order.
struct Member {
  std::string_view key;
  Value value() const;

  const detail::Node* nodes;
  const char* arena;
  uint32_t value_index;
};

// A read-only view of one value of a Document. Cheap to copy. Valid while
// the Document it came from (or the one it was moved into) lives.
class Value {
 public:
  Type type() const { return node().type; }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // REQUIRES: the value has the type named.
  bool AsBool() const { return node().flag; }
  double AsNumber() const { return node().number; }
  std::string_view AsString() const { return {arena_ + node().a, node().b}; }
  // The number exactly as written in the input ("1.50e2").
  std::string_view NumberText() const { return {arena_ + node().a, node().b}; }
  // The number as an integer, when written without fraction or exponent and
  // in range; else nullopt.
  std::optional<int64_t> AsInt64() const;
  std::optional<uint64_t> AsUint64() const;

  // Members (object) or elements (array); 0 for scalars.
  size_t size() const;
  // Byte offset of the value's first character in the input.
  size_t offset() const { return node().offset; }

  // REQUIRES: is_object(). The member named `key`, or nullopt. Never allocates.
  std::optional<Value> Find(std::string_view key) const;

  class MemberIterator;
  class ElementIterator;
  template <class It>
  struct Range {
    It first, last;
    It begin() const { return first; }
    It end() const { return last; }
  };
  // REQUIRES: is_object() / is_array().
  Range<MemberIterator> members() const;
  Range<ElementIterator> elements() const;

 private:
  friend class Document;
  friend struct Member;
  Value(const detail::Node* nodes, const char* arena, uint32_t index)
      : nodes_(nodes), arena_(arena), index_(index) {}
  const detail::Node& node() const { return nodes_[index_]; }

  const detail::Node* nodes_;
  const char* arena_;
  uint32_t index_;
};

class Value::MemberIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Member;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = Member;
  MemberIterator() = default;
  MemberIterator(const detail::Node* nodes, const char* arena, uint32_t key)
      : nodes_(nodes), arena_(arena), key_(key) {}
  Member operator*() const {
    const detail::Node& k = nodes_[key_];
    return {std::string_view(arena_ + k.a, k.b), nodes_, arena_, key_ + 1};
  }
  MemberIterator& operator++() {
    const detail::Node& v = nodes_[key_ + 1];
    key_ = v.type == Type::kArray || v.type == Type::kObject ? v.b : key_ + 2;
    return *this;
  }
  MemberIterator operator++(int) {
    MemberIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const MemberIterator& o) const { return key_ == o.key_; }

 private:
  const detail::Node* nodes_ = nullptr;
  const char* arena_ = nullptr;
  uint32_t key_ = 0;
};

class Value::ElementIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = Value;
  ElementIterator() = default;
  ElementIterator(const detail::Node* nodes, const char* arena, uint32_t index)
      : nodes_(nodes), arena_(arena), index_(index) {}
  Value operator*() const { return {nodes_, arena_, index_}; }
  ElementIterator& operator++() {
    const detail::Node& v = nodes_[index_];
    index_ = v.type == Type::kArray || v.type == Type::kObject ? v.b : index_ + 1;
    return *this;
  }
  ElementIterator operator++(int) {
    ElementIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const ElementIterator& o) const { return index_ == o.index_; }

 private:
  const detail::Node* nodes_ = nullptr;
  const char* arena_ = nullptr;
  uint32_t index_ = 0;
};

inline Value Member::value() const { return {nodes, arena, value_index}; }

// A parsed JSON text. Move-only; moving keeps every Value valid.
class Document {
 public:
  Document() = default;
  Document(Document&&) noexcept = default;
  Document& operator=(Document&&) noexcept = default;

  // REQUIRES: produced by Parse.
  Value root() const { return {nodes_.data(), arena_.get(), 0}; }

 private:
  friend class Parser;
  std::vector<detail::Node> nodes_;
  std::unique_ptr<char[]> arena_;
};

// Parses `text` (see "Accepted input"). Never throws.
Result<Document> Parse(std::string_view text, const ParseOptions& options = {});

// Deep equality: same types, same members in the same order, equal strings,
// numbers written the same way.
bool Equal(Value a, Value b);

// Appends `value` as compact JSON: members in input order, numbers as
// written, strings escaped by AppendQuoted.
void AppendJson(std::string* out, Value value);

// Appends `text` as a JSON string, escaped exactly as nlohmann::json 3.11
// dumps it (so output stays byte-identical to earlier releases): " and \ are
// escaped; U+0008, U+0009, U+000A, U+000C, U+000D become \b \t \n \f \r;
// every other code point below U+0020 becomes \u00xx (lowercase hex);
// everything else, "/" and non-ASCII included, is copied. A byte that does
// not belong to well-formed UTF-8 becomes U+FFFD.
void AppendQuoted(std::string* out, std::string_view text);

// Writes JSON text straight into a string. With indent >= 0 the layout is
// nlohmann::json's dump(indent): one member or element per line, "key": value,
// and [] / {} for empty containers. The caller writes a well-formed
// sequence (Key before each member's value; every Begin has its End);
// nesting is at most 64 deep.
class Writer {
 public:
  // `out` must outlive the writer. Default: compact.
  explicit Writer(std::string* out, int indent = -1) : out_(out), indent_(indent) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);
  void String(std::string_view text);
  void Int(int64_t number);
  void Uint(uint64_t number);
  void Bool(bool value);
  void Null();
  // A value already serialised as compact JSON, written as it is.
  void Raw(std::string_view json);

 private:
  void Open(char bracket);
  void Close(char bracket);
  void BeforeValue();
  void NewLine(int depth);

  std::string* out_;
  int indent_;
  int depth_ = 0;
  bool after_key_ = false;
  uint32_t counts_[64] = {};
};

// One object, read by field name (see "Reading fields").
class ObjectReader {
 public:
  // `object` must be an object; `path` names it ("" for the top level, which
  // messages then call `subject`). Refuses a member not in `allowed`.
  static Result<ObjectReader> Make(Value object, std::string path, std::string_view subject,
                                   std::span<const std::string_view> allowed);

  // The member, or nullopt when absent or null.
  std::optional<Value> Find(std::string_view key) const;
  // The field's path for messages: "change.environment".
  std::string Path(std::string_view key) const;
  // The object's own path for messages: "change", or the subject.
  const std::string& path() const { return where_; }
  Value value() const { return object_; }

  Result<std::string_view> String(std::string_view key) const;
  Result<std::optional<std::string_view>> OptionalString(std::string_view key) const;
  Result<std::optional<bool>> OptionalBool(std::string_view key) const;
  // A number from `min` to `max`.
  Result<std::optional<double>> OptionalNumber(std::string_view key, double min, double max) const;
  Result<std::optional<std::vector<std::string>>> OptionalStringArray(std::string_view key) const;
  Result<ObjectReader> Object(std::string_view key,
                              std::span<const std::string_view> allowed) const;
  Result<std::optional<ObjectReader>> OptionalObject(
      std::string_view key, std::span<const std::string_view> allowed) const;

  // A string naming one value of E (core/names.h).
  template <class E>
  Result<E> Enum(std::string_view key) const {
    auto text = String(key);
    if (!text) return std::unexpected(text.error());
    return ToEnum<E>(key, *text);
  }
  template <class E>
  Result<std::optional<E>> OptionalEnum(std::string_view key) const {
    auto text = OptionalString(key);
    if (!text) return std::unexpected(text.error());
    if (!*text) return std::nullopt;
    return ToEnum<E>(key, **text);
  }

  // "PATH: expected WHAT, found T" for `found`.
  Error WrongType(std::string_view key, std::string_view what, Value found) const;
  // "PATH: expected one of a, b, c, found "x"".
  Error NotOneOf(std::string_view key, std::span<const std::string_view> names,
                 std::string_view found) const;

 private:
  ObjectReader(Value object, std::string path, std::string where)
      : object_(object), path_(std::move(path)), where_(std::move(where)) {}

  template <class E>
  Result<E> ToEnum(std::string_view key, std::string_view text) const {
    if (auto value = ParseEnum<E>(text)) return *value;
    return std::unexpected(NotOneOf(key, EnumNames<E>::kNames, text));
  }

  Value object_;
  std::string path_;   // "" at the top level
  std::string where_;  // path_, or the subject
};

// A parsed body whose top level is an object with only `allowed` members.
// Move-only; `fields` stays valid when moved.
struct Object {
  Document document;
  ObjectReader fields;
};

// Parses `body` (see "Accepted input"; `options.require_object` is forced
// on) and refuses members outside `allowed`. Never throws.
Result<Object> ReadObject(std::string_view body, std::span<const std::string_view> allowed,
                          const ParseOptions& options = {.subject = "body"});

}  // namespace interlock::json
