// Over 600 lines on purpose: one file because the parser, the object
// reader and the writer share one node layout and one set of error
// wordings, which must not drift apart.
#include "core/json.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "core/text.h"

namespace interlock::json {

using detail::Node;

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "a boolean";
    case Type::kNumber:
      return "a number";
    case Type::kString:
      return "a string";
    case Type::kArray:
      return "an array";
    case Type::kObject:
      return "an object";
  }
  return "a value";
}

namespace {

bool IsContainer(const Node& n) { return n.type == Type::kArray || n.type == Type::kObject; }

// One RFC 6901 reference token: "~" and "/" escaped.
void AppendPointerToken(std::string* out, std::string_view key) {
  for (char c : key) {
    if (c == '~') {
      *out += "~0";
    } else if (c == '/') {
      *out += "~1";
    } else {
      *out += c;
    }
  }
}

// The length of the well-formed UTF-8 sequence at the start of `s`, or 0.
size_t Utf8Length(const unsigned char* s, size_t available) {
  unsigned char c = s[0];
  auto cont = [&](size_t i, unsigned char lo, unsigned char hi) {
    return i < available && s[i] >= lo && s[i] <= hi;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) {
    return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char* EncodeUtf8(char* out, uint32_t cp) {
  if (cp < 0x80) {
    *out++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out++ = static_cast<char>(0xC0 | (cp >> 6));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (cp >> 12));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (cp >> 18));
    *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Objects with more members than this check for duplicate keys with a hash
// set instead of comparing with every earlier key.
constexpr uint32_t kLinearKeyCheck = 32;

}  // namespace

// Recursive descent over the input. Every failure records its message and
// returns false; the callers unwind without further work.
class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options, Document* doc)
      : in_(text), options_(options), doc_(doc) {}

  Result<void> Run() {
    if (in_.size() > options_.max_bytes) {
      return Fail(fmt::format("{}: larger than the limit of {} bytes", options_.subject,
                              options_.max_bytes));
    }
    doc_->arena_ = std::make_unique_for_overwrite<char[]>(in_.size() + 1);
    arena_ = doc_->arena_.get();
    doc_->nodes_.reserve(in_.size() / 8 + 4);
    if (options_.allow_bom && in_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    SkipSpace();
    if (options_.require_object && pos_ < in_.size() && in_[pos_] != '{') {
      std::optional<Type> found;
      switch (in_[pos_]) {
        case '[':
          found = Type::kArray;
          break;
        case '"':
          found = Type::kString;
          break;
        case 't':
        case 'f':
          found = Type::kBool;
          break;
        case 'n':
          found = Type::kNull;
          break;
        default:
          if (in_[pos_] == '-' || (in_[pos_] >= '0' && in_[pos_] <= '9')) found = Type::kNumber;
      }
      if (found) {
        return Fail(fmt::format("{}: expected a JSON object, found {}", options_.subject,
                                TypeName(*found)));
      }
    }
    if (!ParseValue(1)) return std::unexpected(std::move(*error_));
    SkipSpace();
    if (pos_ < in_.size()) {
      if (in_[pos_] == '\0') {
        Located("NUL byte");
      } else {
        error_ = Error::InvalidArgument(
            fmt::format("{}: trailing data at {}", options_.subject, TextPosition(in_, pos_)));
      }
      return std::unexpected(std::move(*error_));
    }
    return Ok();
  }

 private:
  struct Frame {
    bool object;
    bool inside;  // a member's key has been read / an element is being read
    std::string_view key;
    uint32_t index;
  };

  static std::unexpected<Error> Fail(std::string message) {
    return std::unexpected(Error::InvalidArgument(std::move(message)));
  }

  std::string Where() const {
    std::string path;
    for (const Frame& f : frames_) {
      if (!f.inside) break;
      if (options_.path_style == PathStyle::kPointer) {
        path += '/';
        if (f.object) {
          AppendPointerToken(&path, f.key);
        } else {
          path += std::to_string(f.index);
        }
      } else if (f.object) {
        if (!path.empty()) path += '.';
        path += f.key;
      } else {
        path += fmt::format("[{}]", f.index);
      }
    }
    return path.empty() ? std::string(options_.subject) : path;
  }

  // "WHERE: WHAT at POS" for the byte at pos_.
  bool Located(std::string_view what, size_t at) {
    error_ =
        Error::InvalidArgument(fmt::format("{}: {} at {}", Where(), what, TextPosition(in_, at)));
    return false;
  }
  bool Located(std::string_view what) { return Located(what, pos_); }

  bool Expected(std::string_view what) {
    if (pos_ < in_.size() && in_[pos_] == '\0') return Located("NUL byte");
    std::string found;
    if (pos_ >= in_.size()) {
      found = "end of input";
    } else {
      unsigned char c = static_cast<unsigned char>(in_[pos_]);
      found = c >= 0x20 && c < 0x7F ? fmt::format("'{}'", static_cast<char>(c))
                                    : fmt::format("byte 0x{:02x}", c);
    }
    error_ = Error::InvalidArgument(fmt::format("{}: malformed JSON at {}: expected {}, found {}",
                                                Where(), TextPosition(in_, pos_), what, found));
    return false;
  }

  void SkipSpace() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
      ++pos_;
    }
  }

  uint32_t Push(Type type) {
    doc_->nodes_.push_back(Node{type, false, static_cast<uint32_t>(pos_), 0, 0, 0});
    return static_cast<uint32_t>(doc_->nodes_.size() - 1);
  }

  bool ParseValue(int depth) {
    SkipSpace();
    if (pos_ >= in_.size()) return Expected("a value");
    switch (in_[pos_]) {
      case '{':
        return ParseObject(depth);
      case '[':
        return ParseArray(depth);
      case '"': {
        uint32_t index = Push(Type::kString);
        return ParseString(index);
      }
      case 't':
        return ParseLiteral("true", Type::kBool, true);
      case 'f':
        return ParseLiteral("false", Type::kBool, false);
      case 'n':
        return ParseLiteral("null", Type::kNull, false);
      default:
        if (in_[pos_] == '-' || (in_[pos_] >= '0' && in_[pos_] <= '9')) return ParseNumber();
        return Expected("a value");
    }
  }

  bool ParseLiteral(std::string_view word, Type type, bool flag) {
    uint32_t index = Push(type);
    doc_->nodes_[index].flag = flag;
    for (char c : word) {
      if (pos_ >= in_.size() || in_[pos_] != c) return Expected(word);
      ++pos_;
    }
    return true;
  }

  bool Open(int depth) {
    if (depth > options_.max_depth) {
      return Located(fmt::format("nesting deeper than {} levels", options_.max_depth));
    }
    return true;
  }

  bool ParseObject(int depth) {
    if (!Open(depth)) return false;
    uint32_t index = Push(Type::kObject);
    ++pos_;
    frames_.push_back({true, false, {}, 0});
    std::unique_ptr<std::unordered_set<std::string_view>> seen;
    uint32_t count = 0;
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
    } else {
      while (true) {
        SkipSpace();
        if (pos_ >= in_.size() || in_[pos_] != '"') return Expected("a string key");
        size_t key_at = pos_;
        uint32_t key_index = Push(Type::kString);
        if (!ParseString(key_index)) return false;
        const Node& k = doc_->nodes_[key_index];
        std::string_view key(arena_ + k.a, k.b);
        if (!IsNew(index, key_index, key, count, seen)) {
          std::string shown;
          AppendQuoted(&shown, key);
          return Located(fmt::format("duplicate key {}", shown), key_at);
        }
        ++count;
        frames_.back().inside = true;
        frames_.back().key = key;
        SkipSpace();
        if (pos_ >= in_.size() || in_[pos_] != ':') return Expected("':'");
        ++pos_;
        if (!ParseValue(depth + 1)) return false;
        frames_.back().inside = false;
        SkipSpace();
        if (pos_ < in_.size() && in_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < in_.size() && in_[pos_] == '}') {
          ++pos_;
          break;
        }
        return Expected("',' or '}'");
      }
    }
    frames_.pop_back();
    Node& n = doc_->nodes_[index];
    n.a = count;
    n.b = static_cast<uint32_t>(doc_->nodes_.size());
    return true;
  }

  // Whether `key` (at key_index) differs from every earlier key of the
  // object at `object`, which has `count` members before it.
  bool IsNew(uint32_t object, uint32_t key_index, std::string_view key, uint32_t count,
             std::unique_ptr<std::unordered_set<std::string_view>>& seen) {
    const std::vector<Node>& nodes = doc_->nodes_;
    if (count < kLinearKeyCheck) {
      for (uint32_t k = object + 1; k < key_index;) {
        if (std::string_view(arena_ + nodes[k].a, nodes[k].b) == key) return false;
        const Node& v = nodes[k + 1];
        k = IsContainer(v) ? v.b : k + 2;
      }
      return true;
    }
    if (!seen) {
      seen = std::make_unique<std::unordered_set<std::string_view>>();
      for (uint32_t k = object + 1; k < key_index;) {
        seen->insert(std::string_view(arena_ + nodes[k].a, nodes[k].b));
        const Node& v = nodes[k + 1];
        k = IsContainer(v) ? v.b : k + 2;
      }
    }
    return seen->insert(key).second;
  }

  bool ParseArray(int depth) {
    if (!Open(depth)) return false;
    uint32_t index = Push(Type::kArray);
    ++pos_;
    frames_.push_back({false, false, {}, 0});
    uint32_t count = 0;
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
    } else {
      while (true) {
        frames_.back().inside = true;
        frames_.back().index = count;
        if (!ParseValue(depth + 1)) return false;
        frames_.back().inside = false;
        ++count;
        SkipSpace();
        if (pos_ < in_.size() && in_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < in_.size() && in_[pos_] == ']') {
          ++pos_;
          break;
        }
        return Expected("',' or ']'");
      }
    }
    frames_.pop_back();
    Node& n = doc_->nodes_[index];
    n.a = count;
    n.b = static_cast<uint32_t>(doc_->nodes_.size());
    return true;
  }

  // At a '"': decodes the string into the arena as node `index`.
  bool ParseString(uint32_t index) {
    ++pos_;
    char* const start = arena_ + used_;
    char* out = start;
    const size_t size = in_.size();
    const char* data = in_.data();
    while (true) {
      // The common case: a run of plain ASCII.
      size_t run = pos_;
      while (run < size) {
        unsigned char c = static_cast<unsigned char>(data[run]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++run;
      }
      std::memcpy(out, data + pos_, run - pos_);
      out += run - pos_;
      pos_ = run;
      if (pos_ >= size) return Expected("'\"'");
      unsigned char c = static_cast<unsigned char>(data[pos_]);
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        if (!ParseEscape(&out)) return false;
      } else if (c < 0x20) {
        if (c == 0) return Located("NUL byte");
        return Expected("a printable character or an escape");
      } else {
        size_t length =
            Utf8Length(reinterpret_cast<const unsigned char*>(data + pos_), size - pos_);
        if (length == 0) return Located("invalid UTF-8");
        std::memcpy(out, data + pos_, length);
        out += length;
        pos_ += length;
      }
    }
    Node& n = doc_->nodes_[index];
    n.a = static_cast<uint32_t>(used_);
    n.b = static_cast<uint32_t>(out - start);
    used_ += n.b;
    return true;
  }

  // Four hex digits at pos_ as a code unit; -1 with pos_ at the first byte
  // that is not one.
  int32_t Hex4() {
    int32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      if (pos_ >= in_.size()) return -1;
      int digit = HexDigit(in_[pos_]);
      if (digit < 0) return -1;
      value = value * 16 + digit;
      ++pos_;
    }
    return value;
  }

  bool ParseEscape(char** out) {
    size_t at = pos_;
    ++pos_;
    if (pos_ >= in_.size()) {
      return Expected("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    }
    char c = in_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        *(*out)++ = c;
        return true;
      case 'b':
        *(*out)++ = '\b';
        return true;
      case 'f':
        *(*out)++ = '\f';
        return true;
      case 'n':
        *(*out)++ = '\n';
        return true;
      case 'r':
        *(*out)++ = '\r';
        return true;
      case 't':
        *(*out)++ = '\t';
        return true;
      case 'u':
        break;
      default:
        --pos_;
        return Expected("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    }
    int32_t unit = Hex4();
    if (unit < 0) return Expected("four hex digits");
    uint32_t cp = static_cast<uint32_t>(unit);
    auto lone = [&] { return Located(fmt::format("lone surrogate {}", in_.substr(at, 6)), at); };
    if (cp >= 0xDC00 && cp <= 0xDFFF) return lone();
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (pos_ + 1 >= in_.size() || in_[pos_] != '\\' || in_[pos_ + 1] != 'u') return lone();
      size_t second = pos_;
      pos_ += 2;
      int32_t low = Hex4();
      if (low < 0) return Expected("four hex digits");
      if (low < 0xDC00 || low > 0xDFFF) {
        pos_ = second;
        return lone();
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
    }
    *out = EncodeUtf8(*out, cp);
    return true;
  }

  bool Digits() {
    if (pos_ >= in_.size() || in_[pos_] < '0' || in_[pos_] > '9') return Expected("a digit");
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    return true;
  }

  bool ParseNumber() {
    uint32_t index = Push(Type::kNumber);
    size_t start = pos_;
    if (in_[pos_] == '-') ++pos_;
    // Where the significant digits begin relative to the decimal point, to
    // tell overflow from underflow.
    int64_t magnitude = 0;
    if (pos_ < in_.size() && in_[pos_] == '0') {
      ++pos_;
    } else {
      size_t first = pos_;
      if (!Digits()) return false;
      magnitude = static_cast<int64_t>(pos_ - first);
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      size_t first = pos_;
      if (!Digits()) return false;
      if (magnitude == 0) {
        size_t zeros = first;
        while (zeros < pos_ && in_[zeros] == '0') ++zeros;
        magnitude = -static_cast<int64_t>(zeros - first);
      }
    }
    int64_t exponent = 0;
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      bool negative = false;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) {
        negative = in_[pos_] == '-';
        ++pos_;
      }
      size_t first = pos_;
      if (!Digits()) return false;
      for (size_t i = first; i < pos_ && exponent < 100000; ++i) {
        exponent = exponent * 10 + (in_[i] - '0');
      }
      if (negative) exponent = -exponent;
    }
    std::string_view text = in_.substr(start, pos_ - start);
    Node& n = doc_->nodes_[index];
    char* copy = arena_ + used_;
    std::memcpy(copy, text.data(), text.size());
    n.a = static_cast<uint32_t>(used_);
    n.b = static_cast<uint32_t>(text.size());
    used_ += text.size();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n.number);
    if (ec == std::errc::result_out_of_range) {
      if (magnitude + exponent > 0) return Located("number out of range", start);
      // Too small for a double: the nearest one (a subnormal or zero), as
      // strtod rounds. The arena always has room for the terminator.
      copy[text.size()] = '\0';
      n.number = std::strtod(copy, nullptr);
    } else if (ec != std::errc() || end != text.data() + text.size()) {
      return Located("number out of range", start);
    }
    return true;
  }

  std::string_view in_;
  const ParseOptions& options_;
  Document* doc_;
  char* arena_ = nullptr;
  size_t used_ = 0;
  size_t pos_ = 0;
  std::vector<Frame> frames_;
  std::optional<Error> error_;
};

Result<Document> Parse(std::string_view text, const ParseOptions& options) {
  Document doc;
  Parser parser(text, options, &doc);
  if (auto ok = parser.Run(); !ok) return std::unexpected(ok.error());
  return doc;
}

std::optional<int64_t> Value::AsInt64() const {
  std::string_view text = NumberText();
  if (text.find_first_of(".eE") != std::string_view::npos) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<uint64_t> Value::AsUint64() const {
  std::string_view text = NumberText();
  if (text.empty() || text[0] == '-' || text.find_first_of(".eE") != std::string_view::npos) {
    return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

size_t Value::size() const { return IsContainer(node()) ? node().a : 0; }

std::optional<Value> Value::Find(std::string_view key) const {
  for (Member m : members()) {
    if (m.key == key) return m.value();
  }
  return std::nullopt;
}

Value::Range<Value::MemberIterator> Value::members() const {
  return {{nodes_, arena_, index_ + 1}, {nodes_, arena_, node().b}};
}

Value::Range<Value::ElementIterator> Value::elements() const {
  return {{nodes_, arena_, index_ + 1}, {nodes_, arena_, node().b}};
}

bool Equal(Value a, Value b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kNull:
      return true;
    case Type::kBool:
      return a.AsBool() == b.AsBool();
    case Type::kNumber:
      return a.NumberText() == b.NumberText();
    case Type::kString:
      return a.AsString() == b.AsString();
    case Type::kArray: {
      if (a.size() != b.size()) return false;
      auto other = b.elements().begin();
      for (Value element : a.elements()) {
        if (!Equal(element, *other)) return false;
        ++other;
      }
      return true;
    }
    case Type::kObject: {
      if (a.size() != b.size()) return false;
      auto other = b.members().begin();
      for (Member member : a.members()) {
        Member theirs = *other;
        if (member.key != theirs.key || !Equal(member.value(), theirs.value())) return false;
        ++other;
      }
      return true;
    }
  }
  return false;
}

void AppendJson(std::string* out, Value value) {
  switch (value.type()) {
    case Type::kNull:
      *out += "null";
      return;
    case Type::kBool:
      *out += value.AsBool() ? "true" : "false";
      return;
    case Type::kNumber:
      *out += value.NumberText();
      return;
    case Type::kString:
      AppendQuoted(out, value.AsString());
      return;
    case Type::kArray: {
      *out += '[';
      bool first = true;
      for (Value element : value.elements()) {
        if (!first) *out += ',';
        first = false;
        AppendJson(out, element);
      }
      *out += ']';
      return;
    }
    case Type::kObject: {
      *out += '{';
      bool first = true;
      for (Member member : value.members()) {
        if (!first) *out += ',';
        first = false;
        AppendQuoted(out, member.key);
        *out += ':';
        AppendJson(out, member.value());
      }
      *out += '}';
      return;
    }
  }
}

namespace {

// True when none of the eight bytes at `p` is escaped or starts a UTF-8
// sequence: each is at least 0x20, below 0x80, and neither '"' nor '\\'.
bool IsPlain(const unsigned char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101u;
  constexpr uint64_t kHigh = 0x8080808080808080u;
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return ((w & kHigh) | below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) ==
         0;
}

}  // namespace

void AppendQuoted(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + text.size() + 2);
  *out += '"';
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  size_t size = text.size();
  size_t index = 0;
  while (index < size) {
    size_t run = index;
    while (size - run >= 8 && IsPlain(data + run)) run += 8;
    while (run < size) {
      unsigned char c = data[run];
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++run;
    }
    out->append(text.data() + index, run - index);
    index = run;
    if (index >= size) break;
    unsigned char c = data[index];
    if (c >= 0x80) {
      size_t length = Utf8Length(data + index, size - index);
      if (length == 0) {
        *out += "\xEF\xBF\xBD";
        ++index;
      } else {
        out->append(text.data() + index, length);
        index += length;
      }
      continue;
    }
    ++index;
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\r':
        *out += "\\r";
        break;
      default: {
        char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(escape, 6);
      }
    }
  }
  *out += '"';
}

void Writer::NewLine(int depth) {
  *out_ += '\n';
  out_->append(static_cast<size_t>(indent_) * static_cast<size_t>(depth), ' ');
}

void Writer::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0) return;
  if (counts_[depth_ - 1]++ > 0) *out_ += ',';
  if (indent_ >= 0) NewLine(depth_);
}

void Writer::Open(char bracket) {
  BeforeValue();
  *out_ += bracket;
  counts_[depth_++] = 0;
}

void Writer::Close(char bracket) {
  --depth_;
  if (indent_ >= 0 && counts_[depth_] > 0) NewLine(depth_);
  *out_ += bracket;
}

void Writer::Key(std::string_view key) {
  BeforeValue();
  AppendQuoted(out_, key);
  *out_ += indent_ >= 0 ? ": " : ":";
  after_key_ = true;
}

void Writer::String(std::string_view text) {
  BeforeValue();
  AppendQuoted(out_, text);
}

void Writer::Int(int64_t number) {
  BeforeValue();
  fmt::format_to(std::back_inserter(*out_), "{}", number);
}

void Writer::Uint(uint64_t number) {
  BeforeValue();
  fmt::format_to(std::back_inserter(*out_), "{}", number);
}

void Writer::Bool(bool value) {
  BeforeValue();
  *out_ += value ? "true" : "false";
}

void Writer::Null() {
  BeforeValue();
  *out_ += "null";
}

void Writer::Raw(std::string_view json) {
  BeforeValue();
  *out_ += json;
}

// ObjectReader

Result<ObjectReader> ObjectReader::Make(Value object, std::string path, std::string_view subject,
                                        std::span<const std::string_view> allowed) {
  std::string where = path.empty() ? std::string(subject) : path;
  for (Member member : object.members()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || member.key == name;
    if (!known) {
      std::string shown;
      AppendQuoted(&shown, member.key);
      return std::unexpected(Error::InvalidArgument(fmt::format(
          "{}: unknown field {} (expected one of: {})", where, shown, fmt::join(allowed, ", "))));
    }
  }
  return ObjectReader(object, std::move(path), std::move(where));
}

std::optional<Value> ObjectReader::Find(std::string_view key) const {
  auto value = object_.Find(key);
  if (!value || value->is_null()) return std::nullopt;
  return value;
}

std::string ObjectReader::Path(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

Error ObjectReader::WrongType(std::string_view key, std::string_view what, Value found) const {
  return Error::InvalidArgument(
      fmt::format("{}: expected {}, found {}", Path(key), what, TypeName(found.type())));
}

Error ObjectReader::NotOneOf(std::string_view key, std::span<const std::string_view> names,
                             std::string_view found) const {
  std::string shown;
  AppendQuoted(&shown, found);
  return Error::InvalidArgument(
      fmt::format("{}: expected one of {}, found {}", Path(key), fmt::join(names, ", "), shown));
}

Result<std::string_view> ObjectReader::String(std::string_view key) const {
  auto text = OptionalString(key);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::unexpected(Error::InvalidArgument(Path(key) + ": required"));
  return **text;
}

Result<std::optional<std::string_view>> ObjectReader::OptionalString(std::string_view key) const {
  auto value = Find(key);
  if (!value) return std::nullopt;
  if (!value->is_string()) return std::unexpected(WrongType(key, "a string", *value));
  return value->AsString();
}

Result<std::optional<bool>> ObjectReader::OptionalBool(std::string_view key) const {
  auto value = Find(key);
  if (!value) return std::nullopt;
  if (!value->is_bool()) return std::unexpected(WrongType(key, "a boolean", *value));
  return value->AsBool();
}

Result<std::optional<double>> ObjectReader::OptionalNumber(std::string_view key, double min,
                                                           double max) const {
  auto value = Find(key);
  if (!value) return std::nullopt;
  if (!value->is_number()) return std::unexpected(WrongType(key, "a number", *value));
  double number = value->AsNumber();
  if (number < min || number > max) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("{}: expected a number from {} to {}, found {}",
                                           Path(key), min, max, value->NumberText())));
  }
  return number;
}

Result<std::optional<std::vector<std::string>>> ObjectReader::OptionalStringArray(
    std::string_view key) const {
  auto value = Find(key);
  if (!value) return std::nullopt;
  if (!value->is_array()) return std::unexpected(WrongType(key, "an array of strings", *value));
  std::vector<std::string> out;
  out.reserve(value->size());
  for (Value element : value->elements()) {
    if (!element.is_string()) {
      return std::unexpected(Error::InvalidArgument(fmt::format(
          "{}[{}]: expected a string, found {}", Path(key), out.size(), TypeName(element.type()))));
    }
    out.emplace_back(element.AsString());
  }
  return out;
}

Result<ObjectReader> ObjectReader::Object(std::string_view key,
                                          std::span<const std::string_view> allowed) const {
  auto object = OptionalObject(key, allowed);
  if (!object) return std::unexpected(object.error());
  if (!*object) return std::unexpected(Error::InvalidArgument(Path(key) + ": required"));
  return std::move(**object);
}

Result<std::optional<ObjectReader>> ObjectReader::OptionalObject(
    std::string_view key, std::span<const std::string_view> allowed) const {
  auto value = Find(key);
  if (!value) return std::nullopt;
  if (!value->is_object()) return std::unexpected(WrongType(key, "an object", *value));
  auto reader = Make(*value, Path(key), where_, allowed);
  if (!reader) return std::unexpected(reader.error());
  return std::move(*reader);
}

Result<Object> ReadObject(std::string_view body, std::span<const std::string_view> allowed,
                          const ParseOptions& options) {
  ParseOptions strict = options;
  strict.require_object = true;
  auto document = Parse(body, strict);
  if (!document) return std::unexpected(document.error());
  auto fields = ObjectReader::Make(document->root(), "", options.subject, allowed);
  if (!fields) return std::unexpected(fields.error());
  return Object{std::move(*document), std::move(*fields)};
}

}  // namespace interlock::json
