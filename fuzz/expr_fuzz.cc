// libFuzzer target for the condition language: any bytes either compile or
// fail with a column inside the input, and a compiled program evaluates
// against any values (missing, NaN, mistyped) without crashing. It also
// checks that `!(x)` evaluates to the Kleene negation of `x`.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "expr/expr.h"

namespace {

using interlock::expr::Compile;
using interlock::expr::Env;
using interlock::expr::Field;
using interlock::expr::Schema;
using interlock::expr::Tri;
using interlock::expr::Type;
using interlock::expr::Value;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 14695981039346656037u;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211u;
  return hash;
}

// Binds every path; its type and slot follow from a hash of the path.
class AnySchema : public Schema {
 public:
  std::optional<Field> Bind(std::string_view path) override {
    uint64_t hash = Fnv1a(path);
    return Field{static_cast<uint32_t>(hash >> 8), static_cast<Type>(hash % 4)};
  }
};

const Value kValues[] = {
    Value::Unknown(),
    Value::Bool(false),
    Value::Bool(true),
    Value::Number(0),
    Value::Number(-2),
    Value::Number(0.1),
    Value::Number(300),
    Value::Number(std::numeric_limits<double>::quiet_NaN()),
    Value::Number(std::numeric_limits<double>::infinity()),
    Value::Number(-std::numeric_limits<double>::infinity()),
    Value::String(""),
    Value::String("production"),
    Value::String(std::string_view("a\0b", 3)),
};

// Looks slots up in kValues, rotated by `shift` so that each pass sees other
// combinations of values.
class AssortedEnv : public Env {
 public:
  explicit AssortedEnv(uint32_t shift) : shift_(shift) {}
  Value Lookup(uint32_t slot) const override {
    return kValues[(slot + shift_) % std::size(kValues)];
  }

 private:
  uint32_t shift_;
};

Tri Not(Tri t) {
  if (t == Tri::kUnknown) return t;
  return t == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  AnySchema schema;
  auto program = Compile(source, schema);
  if (!program) {
    Check(program.error().column >= 1);
    Check(static_cast<size_t>(program.error().column) <= size + 1);
    Check(!program.error().message.empty());
    return 0;
  }
  Check(program->source() == source);
  const auto& fields = program->fields();
  for (size_t field = 0; field < fields.size(); ++field) {
    for (size_t other = field + 1; other < fields.size(); ++other) {
      Check(fields[field] != fields[other]);
    }
  }
  auto negated = Compile("!(" + std::string(source) + ")", schema);
  for (uint32_t shift = 0; shift < std::size(kValues); ++shift) {
    AssortedEnv env(shift);
    Tri result = program->Evaluate(env);
    Check(result == Tri::kFalse || result == Tri::kTrue || result == Tri::kUnknown);
    if (negated) Check(negated->Evaluate(env) == Not(result));
  }
  return 0;
}
