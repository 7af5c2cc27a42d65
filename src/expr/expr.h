// The condition language of governance files: the common subset of CEL and
// expr. Examples:
//
//   consecutive_failures >= 3
//   error_rate_increase >= 10%            (10% is the number 0.10)
//   window > 5m && age < 48h              (durations are numbers of seconds)
//   change.environment in ["staging", "production"] && !checks.tests_passed
//   has(metadata.rollback_plan)
//
// Grammar (precedence from loosest): `||`, `&&`, unary `!`, comparison
// (`== != < <= > >=`, `in [list]`), primary (literal, field path, `( )`,
// `has(path)`). Literals: numbers (`3`, `0.5`, `-2`), numbers with `%` or a
// duration unit (ms s m h d w y), strings in double or single quotes,
// `true`, `false`. A field path is identifiers joined by dots.
//
// Missing data is a third truth value, unknown (Kleene logic): a comparison
// with a missing or mistyped operand is unknown, except that a number 0 or
// 1 compares with == and != as false or true (metrics are numbers, so a
// flag such as `security_scan_failed == true` reads a metric of 1); `!unknown` is unknown;
// `false && unknown` is false; `true || unknown` is true. `has(path)` is
// never unknown. Callers decide what unknown means; an empty metric never
// makes a condition pass.
//
// Thread safety: a Program is immutable after Compile; Evaluate may run
// concurrently on one Program. Evaluate never allocates and never throws.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace interlock::expr {

enum class Tri : uint8_t { kFalse, kTrue, kUnknown };

std::string_view TriName(Tri t);  // "false", "true", "unknown"

enum class Type : uint8_t { kUnknown, kBool, kNumber, kString };

// A runtime value. Strings are views: the Env that returns one keeps the
// bytes alive for the duration of Evaluate.
struct Value {
  Type type = Type::kUnknown;
  bool boolean = false;
  double number = 0;
  std::string_view string;

  static Value Unknown() { return {}; }
  static Value Bool(bool b) { return {Type::kBool, b, 0, {}}; }
  static Value Number(double n) { return {Type::kNumber, false, n, {}}; }
  static Value String(std::string_view s) { return {Type::kString, false, 0, s}; }
};

// What a field path refers to, decided once at compile time.
struct Field {
  uint32_t slot = 0;           // handed back to Env::Lookup
  Type type = Type::kUnknown;  // kUnknown: any type, checked at run time
};

// Maps field paths to slots at compile time. Bind returns nullopt for a path
// that does not exist, which makes Compile fail with "unknown field 'x.y'".
class Schema {
 public:
  virtual ~Schema() = default;
  virtual std::optional<Field> Bind(std::string_view path) = 0;
};

// Supplies values at evaluation time. Lookup returns Value::Unknown() for
// missing data. Must not allocate if the caller needs Evaluate not to.
class Env {
 public:
  virtual ~Env() = default;
  virtual Value Lookup(uint32_t slot) const = 0;
};

struct CompileError {
  int column = 0;       // 1-based byte column in the expression source
  std::string message;  // e.g. "expected ']' after list, found end of expression"
};

// A comparison of a field with a number, as a program states it, for
// showing a value beside what it is compared with: `error_rate > 1%` is
// {slot of error_rate, ">", 0.01}; `1% < error_rate` reads the same.
struct Threshold {
  uint32_t slot = 0;
  std::string_view op;  // == != < <= > >=
  double value = 0;
};

class Program {
 public:
  Program();
  ~Program();
  Program(Program&&) noexcept;
  Program& operator=(Program&&) noexcept;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  Tri Evaluate(const Env& env) const;
  // The source text as compiled.
  const std::string& source() const;
  // Every field path the program reads, in order of first appearance.
  const std::vector<std::string>& fields() const;
  // Every comparison of a field with a number literal, in the order the
  // compiled program holds them.
  std::vector<Threshold> Thresholds() const;

 private:
  friend std::expected<Program, CompileError> Compile(std::string_view, Schema&);
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

// Parses and type-checks `source`. Fails with the column of the first error:
// syntax, unknown field, a comparison whose operand types cannot match
// (`change.environment < 3`), `<` on strings or booleans, a list mixing
// types, an expression that is not a condition (`3`), more than 256 nodes
// of nesting.
std::expected<Program, CompileError> Compile(std::string_view source, Schema& schema);

}  // namespace interlock::expr
