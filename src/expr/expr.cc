// Over 600 lines on purpose: the lexer, the parser with its type checks,
// the evaluator and the thresholds all read and write one private compiled
// form (Code: nodes, list literals, strings), which must change together.
#include "expr/expr.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

namespace interlock::expr {
namespace {

constexpr size_t kMaxSourceBytes = 4096;
constexpr int kMaxDepth = 64;  // nested '(' and '!'
constexpr size_t kMaxNodes = 256;

// ---------------------------------------------------------------------------
// Compiled form: a flat vector of nodes with child indices. String bytes live
// in Code::strings and are referred to by offset, so moving a Code never
// invalidates them.

struct Literal {
  Type type = Type::kUnknown;
  bool boolean = false;
  double number = 0;
  uint32_t string_offset = 0;
  uint32_t string_size = 0;
};

enum class Op : uint8_t {
  kLiteral,  // an operand; never a condition
  kField,    // an operand; as a condition, the truth of a boolean value
  kHas,
  kNot,
  kAnd,
  kOr,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,  // left in lists[list_begin, list_begin + list_size)
};

struct Node {
  Op op = Op::kLiteral;
  Type type = Type::kUnknown;  // operands: static type; kUnknown is any type
  uint32_t left = 0;           // kNot, kAnd, kOr, comparisons, kIn
  uint32_t right = 0;          // kAnd, kOr, comparisons
  uint32_t slot = 0;           // kField, kHas
  uint32_t list_begin = 0;     // kIn
  uint32_t list_size = 0;      // kIn
  Literal literal;             // kLiteral
};

struct Code {
  std::vector<Node> nodes;
  std::vector<Literal> lists;
  std::string strings;
  uint32_t root = 0;
};

// ---------------------------------------------------------------------------
// Evaluation. Nothing here allocates or throws.

Tri FromBool(bool b) { return b ? Tri::kTrue : Tri::kFalse; }

Value ToValue(const Code& code, const Literal& literal) {
  return {literal.type, literal.boolean, literal.number,
          std::string_view(code.strings.data() + literal.string_offset, literal.string_size)};
}

// The Env's value, with NaN treated as missing.
Value Load(const Env& env, uint32_t slot) {
  Value value = env.Lookup(slot);
  if (value.type == Type::kNumber && std::isnan(value.number)) return Value::Unknown();
  return value;
}

Value OperandValue(const Code& code, const Node& node, const Env& env) {
  return node.op == Op::kField ? Load(env, node.slot) : ToValue(code, node.literal);
}

// Requires left.type == right.type.
bool Equal(const Value& left, const Value& right) {
  switch (left.type) {
    case Type::kBool:
      return left.boolean == right.boolean;
    case Type::kNumber:
      return left.number == right.number;
    case Type::kString:
      return left.string == right.string;
    case Type::kUnknown:
      break;
  }
  return false;
}

// A number that is a flag (0 or 1) as a boolean, for == and != against one.
std::optional<Value> AsFlag(const Value& v) {
  if (v.type != Type::kNumber || (v.number != 0 && v.number != 1)) return std::nullopt;
  return Value::Bool(v.number == 1);
}

Tri Compare(Op op, const Value& left, const Value& right) {
  if ((op == Op::kEq || op == Op::kNe) && left.type != right.type) {
    std::optional<Value> l = left.type == Type::kBool ? left : AsFlag(left);
    std::optional<Value> r = right.type == Type::kBool ? right : AsFlag(right);
    if (l && r && l->type == Type::kBool && r->type == Type::kBool) {
      return FromBool((l->boolean == r->boolean) == (op == Op::kEq));
    }
  }
  if (left.type == Type::kUnknown || left.type != right.type) return Tri::kUnknown;
  if (op == Op::kEq) return FromBool(Equal(left, right));
  if (op == Op::kNe) return FromBool(!Equal(left, right));
  if (left.type != Type::kNumber) return Tri::kUnknown;
  switch (op) {
    case Op::kLt:
      return FromBool(left.number < right.number);
    case Op::kLe:
      return FromBool(left.number <= right.number);
    case Op::kGt:
      return FromBool(left.number > right.number);
    case Op::kGe:
      return FromBool(left.number >= right.number);
    default:
      return Tri::kUnknown;
  }
}

// Recursion depth is bounded by kMaxNodes.
Tri Eval(const Code& code, uint32_t index, const Env& env) {
  const Node& node = code.nodes[index];
  switch (node.op) {
    case Op::kLiteral:
      return Tri::kUnknown;  // Compile never makes a literal a condition
    case Op::kField: {
      Value value = Load(env, node.slot);
      return value.type == Type::kBool ? FromBool(value.boolean) : Tri::kUnknown;
    }
    case Op::kHas:
      return FromBool(Load(env, node.slot).type != Type::kUnknown);
    case Op::kNot: {
      Tri operand = Eval(code, node.left, env);
      return operand == Tri::kUnknown ? operand : FromBool(operand == Tri::kFalse);
    }
    case Op::kAnd: {
      Tri left = Eval(code, node.left, env);
      if (left == Tri::kFalse) return Tri::kFalse;
      Tri right = Eval(code, node.right, env);
      if (right == Tri::kFalse) return Tri::kFalse;
      return left == Tri::kTrue && right == Tri::kTrue ? Tri::kTrue : Tri::kUnknown;
    }
    case Op::kOr: {
      Tri left = Eval(code, node.left, env);
      if (left == Tri::kTrue) return Tri::kTrue;
      Tri right = Eval(code, node.right, env);
      if (right == Tri::kTrue) return Tri::kTrue;
      return left == Tri::kFalse && right == Tri::kFalse ? Tri::kFalse : Tri::kUnknown;
    }
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
      return Compare(node.op, OperandValue(code, code.nodes[node.left], env),
                     OperandValue(code, code.nodes[node.right], env));
    case Op::kIn: {
      Value needle = OperandValue(code, code.nodes[node.left], env);
      if (needle.type == Type::kUnknown) return Tri::kUnknown;
      for (uint32_t item = node.list_begin; item < node.list_begin + node.list_size; ++item) {
        Value value = ToValue(code, code.lists[item]);
        if (value.type != needle.type) return Tri::kUnknown;  // lists hold one type
        if (Equal(needle, value)) return Tri::kTrue;
      }
      return Tri::kFalse;
    }
  }
  return Tri::kUnknown;
}

// ---------------------------------------------------------------------------
// Lexer.

enum class Tok : uint8_t {
  kEnd,
  kError,  // a lexical error; Token::value holds the message
  kNumber,
  kString,
  kPath,
  kTrue,
  kFalse,
  kNull,
  kIn,
  kHas,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kNot,
  kAnd,
  kOr,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  Tok kind = Tok::kEnd;
  int column = 0;
  std::string_view text;  // the source bytes
  double number = 0;      // kNumber
  std::string value;      // kString: the decoded string; kError: the message
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

// "character '#'" for a printable character, "byte 0x00" for anything else.
std::string DescribeChar(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return fmt::format("character '{}'", c);
  return fmt::format("byte 0x{:02X}", byte);
}

struct Suffix {
  std::string_view name;
  double multiply;
  double divide;  // dividing keeps 10% and 250ms exact where multiplying would not
};

constexpr Suffix kSuffixes[] = {
    {"%", 1, 100},  {"ms", 1, 1000}, {"s", 1, 1},         {"m", 60, 1},
    {"h", 3600, 1}, {"d", 86400, 1}, {"w", 7 * 86400, 1}, {"y", 365 * 86400, 1},
};

class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  // The tokens of the source, ending with kEnd or with the first kError.
  std::vector<Token> Run() {
    std::vector<Token> tokens;
    do {
      tokens.push_back(Next());
    } while (tokens.back().kind != Tok::kEnd && tokens.back().kind != Tok::kError);
    return tokens;
  }

 private:
  Token Make(Tok kind, size_t start) {
    return {kind, static_cast<int>(start) + 1, source_.substr(start, at_ - start), 0, {}};
  }
  static Token Error(size_t where, std::string message) {
    return {Tok::kError, static_cast<int>(where) + 1, {}, 0, std::move(message)};
  }
  bool At(char c) const { return at_ < source_.size() && source_[at_] == c; }
  bool Eat(char c) {
    if (!At(c)) return false;
    ++at_;
    return true;
  }

  Token Next() {
    while (at_ < source_.size() && (source_[at_] == ' ' || source_[at_] == '\t' ||
                                    source_[at_] == '\n' || source_[at_] == '\r')) {
      ++at_;
    }
    size_t start = at_;
    if (at_ == source_.size()) return Make(Tok::kEnd, start);
    char c = source_[at_];
    if (IsDigit(c) || (c == '-' && at_ + 1 < source_.size() && IsDigit(source_[at_ + 1]))) {
      return Number();
    }
    if (c == '"' || c == '\'') return String();
    if (IsNameStart(c)) return Path();
    ++at_;
    switch (c) {
      case '(':
        return Make(Tok::kLParen, start);
      case ')':
        return Make(Tok::kRParen, start);
      case '[':
        return Make(Tok::kLBracket, start);
      case ']':
        return Make(Tok::kRBracket, start);
      case ',':
        return Make(Tok::kComma, start);
      case '<':
        return Make(Eat('=') ? Tok::kLe : Tok::kLt, start);
      case '>':
        return Make(Eat('=') ? Tok::kGe : Tok::kGt, start);
      case '!':
        return Make(Eat('=') ? Tok::kNe : Tok::kNot, start);
      case '=':
        if (Eat('=')) return Make(Tok::kEq, start);
        return Error(start, "unexpected character '='; did you mean '=='?");
      case '&':
        if (Eat('&')) return Make(Tok::kAnd, start);
        return Error(start, "unexpected character '&'; did you mean '&&'?");
      case '|':
        if (Eat('|')) return Make(Tok::kOr, start);
        return Error(start, "unexpected character '|'; did you mean '||'?");
      default:
        break;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      return Error(start, fmt::format("non-ASCII {} outside a string literal", DescribeChar(c)));
    }
    return Error(start, fmt::format("unexpected {}", DescribeChar(c)));
  }

  Token Number() {
    size_t start = at_;
    Eat('-');
    while (at_ < source_.size() && IsDigit(source_[at_])) ++at_;
    if (At('.')) {
      ++at_;
      if (at_ == source_.size() || !IsDigit(source_[at_])) {
        return Error(
            at_, fmt::format("expected a digit after '{}'", source_.substr(start, at_ - start)));
      }
      while (at_ < source_.size() && IsDigit(source_[at_])) ++at_;
    }
    double number = 0;
    auto [end, error] = std::from_chars(source_.data() + start, source_.data() + at_, number);
    if (error != std::errc() || end != source_.data() + at_) {
      return Error(start, "number out of range");
    }
    size_t suffix_start = at_;
    if (!Eat('%')) {
      while (at_ < source_.size() && IsNameChar(source_[at_])) ++at_;
    }
    std::string_view suffix = source_.substr(suffix_start, at_ - suffix_start);
    if (!suffix.empty()) {
      const Suffix* found = nullptr;
      for (const Suffix& candidate : kSuffixes) {
        if (candidate.name == suffix) found = &candidate;
      }
      if (found == nullptr) {
        return Error(suffix_start, fmt::format("unknown unit '{}' after a number; expected "
                                               "%, ms, s, m, h, d, w or y",
                                               suffix));
      }
      number = number * found->multiply / found->divide;
    }
    if (!std::isfinite(number)) return Error(start, "number out of range");
    Token token = Make(Tok::kNumber, start);
    token.number = number;
    return token;
  }

  Token String() {
    size_t start = at_;
    char quote = source_[at_++];
    std::string value;
    while (true) {
      if (at_ >= source_.size()) return Error(start, "unterminated string");
      char c = source_[at_];
      if (c == quote) break;
      if (c == '\\') {
        if (at_ + 1 == source_.size()) return Error(start, "unterminated string");
        char escaped = source_[at_ + 1];
        switch (escaped) {
          case '"':
          case '\'':
          case '\\':
            value += escaped;
            break;
          case 'n':
            value += '\n';
            break;
          case 't':
            value += '\t';
            break;
          default:
            return Error(at_, fmt::format("unknown escape {} after '\\'; expected one of "
                                          "\\\" \\' \\\\ \\n \\t",
                                          DescribeChar(escaped)));
        }
        at_ += 2;
      } else {
        value += c;
        ++at_;
      }
    }
    ++at_;  // the closing quote
    Token token = Make(Tok::kString, start);
    token.value = std::move(value);
    return token;
  }

  Token Path() {
    size_t start = at_;
    while (true) {
      while (at_ < source_.size() && IsNameChar(source_[at_])) ++at_;
      if (!At('.')) break;
      if (at_ + 1 == source_.size() || !IsNameStart(source_[at_ + 1])) {
        return Error(at_ + 1, fmt::format("expected a field name after '{}'",
                                          source_.substr(start, at_ + 1 - start)));
      }
      ++at_;
    }
    Token token = Make(Tok::kPath, start);
    if (token.text == "true") token.kind = Tok::kTrue;
    if (token.text == "false") token.kind = Tok::kFalse;
    if (token.text == "null") token.kind = Tok::kNull;
    if (token.text == "in") token.kind = Tok::kIn;
    if (token.text == "has") token.kind = Tok::kHas;
    return token;
  }

  std::string_view source_;
  size_t at_ = 0;
};

// ---------------------------------------------------------------------------
// Parser and type checker.

bool IsComparison(Tok kind) {
  return kind == Tok::kEq || kind == Tok::kNe || kind == Tok::kLt || kind == Tok::kLe ||
         kind == Tok::kGt || kind == Tok::kGe;
}

Op ComparisonOp(Tok kind) {
  switch (kind) {
    case Tok::kNe:
      return Op::kNe;
    case Tok::kLt:
      return Op::kLt;
    case Tok::kLe:
      return Op::kLe;
    case Tok::kGt:
      return Op::kGt;
    case Tok::kGe:
      return Op::kGe;
    default:
      return Op::kEq;
  }
}

// "boolean", "number", "string"; error messages say "a {}" and "{}s".
std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kBool:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kUnknown:
      break;
  }
  return "value";
}

// How an error message names a token: "end of expression" or its quoted text.
std::string Describe(const Token& token) {
  if (token.kind == Tok::kEnd) return "end of expression";
  constexpr size_t kMaxShown = 32;
  if (token.text.size() > kMaxShown) return fmt::format("'{}...'", token.text.substr(0, kMaxShown));
  return fmt::format("'{}'", token.text);
}

class Parser {
 public:
  Parser(std::string_view source, Schema& schema, Code& code, std::vector<std::string>& fields)
      : tokens_(Lexer(source).Run()), schema_(schema), code_(code), fields_(fields) {}

  // Fills the Code and field list, or returns the first error.
  std::optional<CompileError> Run() {
    if (Peek().kind == Tok::kEnd) return CompileError{1, "empty condition"};
    std::optional<uint32_t> root = ParseOr();
    if (root && Peek().kind != Tok::kEnd) {
      Fail(Peek(),
           fmt::format("expected '&&', '||' or end of expression, found {}", Describe(Peek())));
    }
    if (error_) return error_;
    code_.root = *root;
    return std::nullopt;
  }

 private:
  const Token& Peek() const { return tokens_[next_]; }
  // Only called on a token other than kEnd and kError, so next_ stays in range.
  const Token& Take() { return tokens_[next_++]; }

  // Records the first error; a lexical error wins over the parser's complaint about it.
  std::nullopt_t Fail(const Token& at, std::string message) {
    if (!error_) {
      error_ = at.kind == Tok::kError ? CompileError{at.column, at.value}
                                      : CompileError{at.column, std::move(message)};
    }
    return std::nullopt;
  }

  std::optional<uint32_t> Add(const Node& node, const Token& at) {
    if (code_.nodes.size() == kMaxNodes) {
      return Fail(at, fmt::format("condition too complex: more than {} nodes", kMaxNodes));
    }
    code_.nodes.push_back(node);
    return static_cast<uint32_t>(code_.nodes.size() - 1);
  }

  bool Enter(const Token& at) {
    if (++depth_ <= kMaxDepth) return true;
    Fail(at, fmt::format("condition nested deeper than {} levels", kMaxDepth));
    return false;
  }

  // or := and ('||' and)*
  std::optional<uint32_t> ParseOr() { return ParseChain(Tok::kOr, Op::kOr); }
  // and := unary ('&&' unary)*
  std::optional<uint32_t> ParseAnd() { return ParseChain(Tok::kAnd, Op::kAnd); }

  std::optional<uint32_t> ParseChain(Tok separator, Op op) {
    std::optional<uint32_t> left = op == Op::kOr ? ParseAnd() : ParseUnary();
    while (left && Peek().kind == separator) {
      const Token& at = Take();
      std::optional<uint32_t> right = op == Op::kOr ? ParseAnd() : ParseUnary();
      if (!right) return std::nullopt;
      Node node;
      node.op = op;
      node.left = *left;
      node.right = *right;
      left = Add(node, at);
    }
    return left;
  }

  // unary := '!' unary | comparison, which must be a condition.
  std::optional<uint32_t> ParseUnary() {
    if (Peek().kind == Tok::kNot) {
      const Token& at = Take();
      if (!Enter(at)) return std::nullopt;
      std::optional<uint32_t> operand = ParseUnary();
      --depth_;
      if (!operand) return std::nullopt;
      Node node;
      node.op = Op::kNot;
      node.left = *operand;
      return Add(node, at);
    }
    const Token& first = Peek();
    std::optional<uint32_t> result = ParseComparison();
    if (!result) return std::nullopt;
    // A lexical error right after an operand explains more than the operand does.
    if (Peek().kind == Tok::kError) return Fail(Peek(), "");
    const Node& node = code_.nodes[*result];
    if (node.op == Op::kLiteral) {
      return Fail(first, fmt::format("expected a condition, found a {}", TypeName(node.type)));
    }
    if (node.op == Op::kField && node.type != Type::kBool && node.type != Type::kUnknown) {
      return Fail(first, fmt::format("expected a condition, found {} field {}", TypeName(node.type),
                                     Describe(first)));
    }
    return result;
  }

  // comparison := primary (('==' | ... | '>=') value | 'in' list)?
  std::optional<uint32_t> ParseComparison() {
    std::optional<uint32_t> left = ParsePrimary();
    if (!left) return std::nullopt;
    const Token& at = Peek();
    if (!IsComparison(at.kind) && at.kind != Tok::kIn) return left;
    Take();
    Type left_type = code_.nodes[*left].type;
    if (code_.nodes[*left].op != Op::kLiteral && code_.nodes[*left].op != Op::kField) {
      return Fail(
          at,
          fmt::format("'{}' compares fields and literals, found a condition on its left", at.text));
    }
    Node node;
    node.left = *left;
    if (at.kind == Tok::kIn) {
      node.op = Op::kIn;
      node.list_begin = static_cast<uint32_t>(code_.lists.size());
      std::optional<Type> list_type = ParseList();
      if (!list_type) return std::nullopt;
      node.list_size = static_cast<uint32_t>(code_.lists.size()) - node.list_begin;
      if (left_type != Type::kUnknown && *list_type != Type::kUnknown && left_type != *list_type) {
        return Fail(at, fmt::format("cannot compare a {} with a list of {}s", TypeName(left_type),
                                    TypeName(*list_type)));
      }
    } else {
      node.op = ComparisonOp(at.kind);
      std::optional<uint32_t> right = ParseValue("a field or literal");
      if (!right) return std::nullopt;
      node.right = *right;
      Type right_type = code_.nodes[*right].type;
      if (left_type != Type::kUnknown && right_type != Type::kUnknown && left_type != right_type) {
        return Fail(at, fmt::format("cannot compare a {} with a {}", TypeName(left_type),
                                    TypeName(right_type)));
      }
      bool ordering = node.op != Op::kEq && node.op != Op::kNe;
      for (Type operand_type : {left_type, right_type}) {
        if (ordering && operand_type != Type::kUnknown && operand_type != Type::kNumber) {
          return Fail(at, fmt::format("'{}' compares numbers only, found a {}", at.text,
                                      TypeName(operand_type)));
        }
      }
    }
    if (IsComparison(Peek().kind) || Peek().kind == Tok::kIn) {
      return Fail(Peek(), "comparisons cannot be chained; join them with '&&'");
    }
    return Add(node, at);
  }

  // primary := '(' or ')' | 'has' '(' path ')' | value
  std::optional<uint32_t> ParsePrimary() {
    const Token& open = Peek();
    if (open.kind == Tok::kHas) return ParseHas();
    if (open.kind != Tok::kLParen) return ParseValue("an operand");
    Take();
    if (!Enter(open)) return std::nullopt;
    std::optional<uint32_t> inner = ParseOr();
    --depth_;
    if (!inner) return std::nullopt;
    if (Peek().kind != Tok::kRParen) {
      return Fail(Peek(), fmt::format("expected ')' to close the '(' opened at column {}, found {}",
                                      open.column, Describe(Peek())));
    }
    Take();
    return inner;
  }

  std::optional<uint32_t> ParseHas() {
    const Token& has = Take();
    if (Peek().kind != Tok::kLParen) {
      return Fail(Peek(), fmt::format("expected '(' after 'has', found {}", Describe(Peek())));
    }
    const Token& open = Take();
    if (Peek().kind != Tok::kPath) {
      return Fail(Peek(),
                  fmt::format("expected a field path in has(), found {}", Describe(Peek())));
    }
    std::optional<Field> field = Bind(Take());
    if (!field) return std::nullopt;
    if (Peek().kind != Tok::kRParen) {
      return Fail(Peek(), fmt::format("expected ')' to close 'has(' opened at column {}, found {}",
                                      open.column, Describe(Peek())));
    }
    Take();
    Node node;
    node.op = Op::kHas;
    node.slot = field->slot;
    return Add(node, has);
  }

  // value := literal | path. `what` names the expectation in the error message.
  std::optional<uint32_t> ParseValue(std::string_view what) {
    const Token& token = Peek();
    Node node;
    if (token.kind == Tok::kPath) {
      std::optional<Field> field = Bind(token);
      if (!field) return std::nullopt;
      node.op = Op::kField;
      node.type = field->type;
      node.slot = field->slot;
    } else if (std::optional<Literal> literal = MakeLiteral(token)) {
      node.literal = *literal;
      node.type = literal->type;
    } else if (token.kind == Tok::kNull) {
      return Fail(token, "'null' is not a value; test for a missing field with has(field)");
    } else if (next_ == 0) {
      return Fail(token, fmt::format("expected {}, found {}", what, Describe(token)));
    } else {
      return Fail(token, fmt::format("expected {} after '{}', found {}", what,
                                     tokens_[next_ - 1].text, Describe(token)));
    }
    Take();
    return Add(node, token);
  }

  // list := '[' (literal (',' literal)*)? ']', after 'in'. Returns the type of
  // the elements, kUnknown for an empty list.
  std::optional<Type> ParseList() {
    if (Peek().kind != Tok::kLBracket) {
      return Fail(Peek(), fmt::format("expected '[' after 'in', found {}", Describe(Peek())));
    }
    const Token& open = Take();
    Type type = Type::kUnknown;
    if (Peek().kind == Tok::kRBracket) {
      Take();
      return type;
    }
    while (true) {
      const Token& item = Peek();
      std::optional<Literal> literal = MakeLiteral(item);
      if (!literal) {
        return Fail(item, fmt::format("expected a literal in the list, found {}", Describe(item)));
      }
      if (type != Type::kUnknown && literal->type != type) {
        return Fail(item, fmt::format("a list holds one type: expected a {}, found a {}",
                                      TypeName(type), TypeName(literal->type)));
      }
      Take();
      type = literal->type;
      code_.lists.push_back(*literal);
      if (Peek().kind == Tok::kRBracket) {
        Take();
        return type;
      }
      if (Peek().kind != Tok::kComma) {
        return Fail(Peek(), fmt::format("expected ']' to close the list opened at column {}, "
                                        "found {}",
                                        open.column, Describe(Peek())));
      }
      Take();
    }
  }

  // The literal a token spells, or nullopt if it is no literal.
  std::optional<Literal> MakeLiteral(const Token& token) {
    Literal literal;
    switch (token.kind) {
      case Tok::kNumber:
        literal.type = Type::kNumber;
        literal.number = token.number;
        return literal;
      case Tok::kString:
        literal.type = Type::kString;
        literal.string_offset = static_cast<uint32_t>(code_.strings.size());
        literal.string_size = static_cast<uint32_t>(token.value.size());
        code_.strings += token.value;
        return literal;
      case Tok::kTrue:
      case Tok::kFalse:
        literal.type = Type::kBool;
        literal.boolean = token.kind == Tok::kTrue;
        return literal;
      default:
        return std::nullopt;
    }
  }

  // Binds a path once per compile.
  std::optional<Field> Bind(const Token& path) {
    for (size_t field = 0; field < fields_.size(); ++field) {
      if (fields_[field] == path.text) return bound_[field];
    }
    std::optional<Field> field = schema_.Bind(path.text);
    if (!field) return Fail(path, fmt::format("unknown field '{}'", path.text));
    fields_.emplace_back(path.text);
    bound_.push_back(*field);
    return field;
  }

  const std::vector<Token> tokens_;
  size_t next_ = 0;
  int depth_ = 0;
  Schema& schema_;
  Code& code_;
  std::vector<std::string>& fields_;
  std::vector<Field> bound_;  // parallel to fields_
  std::optional<CompileError> error_;
};

}  // namespace

struct Program::Rep {
  std::string source;
  std::vector<std::string> fields;
  Code code;
};

Program::Program() = default;
Program::~Program() = default;
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;

Tri Program::Evaluate(const Env& env) const {
  if (rep_ == nullptr) return Tri::kUnknown;  // default-constructed or moved from
  return Eval(rep_->code, rep_->code.root, env);
}

const std::string& Program::source() const {
  static const std::string kEmpty;
  return rep_ == nullptr ? kEmpty : rep_->source;
}

const std::vector<std::string>& Program::fields() const {
  static const std::vector<std::string> kEmpty;
  return rep_ == nullptr ? kEmpty : rep_->fields;
}

std::vector<Threshold> Program::Thresholds() const {
  std::vector<Threshold> out;
  if (rep_ == nullptr) return out;
  const std::vector<Node>& nodes = rep_->code.nodes;
  for (const Node& n : nodes) {
    std::string_view op;
    std::string_view flipped;
    switch (n.op) {
      case Op::kEq:
        op = flipped = "==";
        break;
      case Op::kNe:
        op = flipped = "!=";
        break;
      case Op::kLt:
        op = "<", flipped = ">";
        break;
      case Op::kLe:
        op = "<=", flipped = ">=";
        break;
      case Op::kGt:
        op = ">", flipped = "<";
        break;
      case Op::kGe:
        op = ">=", flipped = "<=";
        break;
      default:
        continue;
    }
    const Node& left = nodes[n.left];
    const Node& right = nodes[n.right];
    auto number = [](const Node& x) {
      return x.op == Op::kLiteral && x.literal.type == Type::kNumber;
    };
    if (left.op == Op::kField && number(right)) {
      out.push_back({left.slot, op, right.literal.number});
    } else if (number(left) && right.op == Op::kField) {
      out.push_back({right.slot, flipped, left.literal.number});
    }
  }
  return out;
}

std::string_view TriName(Tri t) {
  switch (t) {
    case Tri::kFalse:
      return "false";
    case Tri::kTrue:
      return "true";
    case Tri::kUnknown:
      break;
  }
  return "unknown";
}

std::expected<Program, CompileError> Compile(std::string_view source, Schema& schema) {
  if (source.size() > kMaxSourceBytes) {
    return std::unexpected(
        CompileError{static_cast<int>(kMaxSourceBytes) + 1,
                     fmt::format("condition is longer than {} bytes", kMaxSourceBytes)});
  }
  auto rep = std::make_unique<Program::Rep>();
  if (std::optional<CompileError> error = Parser(source, schema, rep->code, rep->fields).Run()) {
    return std::unexpected(std::move(*error));
  }
  rep->source = source;
  Program program;
  program.rep_ = std::move(rep);
  return program;
}

}  // namespace interlock::expr
