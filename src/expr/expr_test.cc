#include "expr/expr.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>
#include <tuple>
#include <utility>

// Heap allocations are counted while g_counting is set. Under AddressSanitizer
// the sanitizer's allocator hooks count them (replacing operator new would
// switch off ASan's new/delete checks for the whole test binary); otherwise
// global operator new is replaced.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<int> g_allocations{0};

void CountAllocation() {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             size_t),
                                                         void (*free_hook)(const volatile void*));

namespace {
void InstallHooks() {
  static const int installed = __sanitizer_install_malloc_and_free_hooks(
      [](const volatile void*, size_t) { CountAllocation(); }, [](const volatile void*) {});
  ASSERT_NE(installed, 0);
}
}  // namespace
#else
// Not inlined, so that tools which substitute their own allocator (valgrind)
// replace both halves of each pair.
[[gnu::noinline]] void* operator new(std::size_t size) {
  CountAllocation();
  if (void* block = std::malloc(size == 0 ? 1 : size)) return block;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* block) noexcept { std::free(block); }
[[gnu::noinline]] void operator delete(void* block, std::size_t) noexcept { std::free(block); }

namespace {
void InstallHooks() {}
}  // namespace
#endif

namespace interlock::expr {

// Lets gtest print "unknown" rather than a byte dump.
static void PrintTo(Tri t, std::ostream* os) { *os << TriName(t); }

namespace {

struct FieldDecl {
  std::string_view path;
  Type type;
};

constexpr FieldDecl kFields[] = {
    {"consecutive_failures", Type::kNumber},
    {"error_rate_increase", Type::kNumber},
    {"latency_p99_increase", Type::kNumber},
    {"security_scan_failed", Type::kBool},
    {"ai_agent_confidence", Type::kNumber},
    {"change.environment", Type::kString},
    {"checks.tests_passed", Type::kBool},
    {"metadata.rollback_plan", Type::kUnknown},
    {"p", Type::kBool},
    {"q", Type::kBool},
    {"r", Type::kBool},
    {"n", Type::kNumber},
    {"s", Type::kString},
    {"any", Type::kUnknown},
};

uint32_t SlotOf(std::string_view path) {
  for (uint32_t slot = 0; slot < std::size(kFields); ++slot) {
    if (kFields[slot].path == path) return slot;
  }
  ADD_FAILURE() << "no test field " << path;
  return 0;
}

// Binds the paths in kFields; a field's slot is its index there.
class TestSchema : public Schema {
 public:
  std::optional<Field> Bind(std::string_view path) override {
    ++binds;
    for (uint32_t slot = 0; slot < std::size(kFields); ++slot) {
      if (kFields[slot].path == path) return Field{slot, kFields[slot].type};
    }
    return std::nullopt;
  }

  int binds = 0;
};

// Values by path; fields not given are missing.
class TestEnv : public Env {
 public:
  TestEnv(std::initializer_list<std::pair<std::string_view, Value>> values) {
    for (const auto& [path, value] : values) values_[SlotOf(path)] = value;
  }
  Value Lookup(uint32_t slot) const override { return values_[slot]; }

 private:
  std::array<Value, std::size(kFields)> values_{};
};

// Compiles and evaluates `source`; a compile error fails the test.
Tri Eval(std::string_view source, const TestEnv& env = {}) {
  TestSchema schema;
  auto program = Compile(source, schema);
  if (!program) {
    ADD_FAILURE() << "'" << source << "' failed at column " << program.error().column << ": "
                  << program.error().message;
    return Tri::kUnknown;
  }
  return program->Evaluate(env);
}

// The error compiling `source`; compiling successfully fails the test.
CompileError ErrorOf(std::string_view source) {
  TestSchema schema;
  auto program = Compile(source, schema);
  if (program) {
    ADD_FAILURE() << "'" << source << "' compiled";
    return {};
  }
  return program.error();
}

constexpr Tri T = Tri::kTrue;
constexpr Tri F = Tri::kFalse;
constexpr Tri U = Tri::kUnknown;

TEST(ExprTest, TriName) {
  EXPECT_EQ(TriName(F), "false");
  EXPECT_EQ(TriName(T), "true");
  EXPECT_EQ(TriName(U), "unknown");
}

TEST(ExprTest, ThresholdsAreTheComparisonsOfAFieldWithANumber) {
  TestSchema schema;
  auto program = Compile(
      "error_rate_increase >= 10% || 1 > n || !(latency_p99_increase < 50%) || s == 'x' || n == "
      "any",
      schema);
  ASSERT_TRUE(program.has_value());
  std::vector<Threshold> t = program->Thresholds();
  ASSERT_EQ(t.size(), 3u);
  std::vector<std::tuple<uint32_t, std::string_view, double>> got;
  for (const Threshold& x : t) got.emplace_back(x.slot, x.op, x.value);
  // In the compiled order; a literal on the left reads as if on the right.
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::tuple<uint32_t, std::string_view, double>>{
                     {SlotOf("error_rate_increase"), ">=", 0.10},
                     {SlotOf("latency_p99_increase"), "<", 0.50},
                     {SlotOf("n"), "<", 1.0}}));
  EXPECT_TRUE(Program().Thresholds().empty());
}

TEST(ExprTest, ANumberThatIsAFlagEqualsABoolean) {
  TestEnv one({{"any", Value::Number(1)}});
  TestEnv zero({{"any", Value::Number(0)}});
  TestEnv two({{"any", Value::Number(2)}});
  EXPECT_EQ(Eval("any == true", one), T);
  EXPECT_EQ(Eval("any == true", zero), F);
  EXPECT_EQ(Eval("any != true", zero), T);
  EXPECT_EQ(Eval("any == false", zero), T);
  EXPECT_EQ(Eval("any == true", two), U);
}

TEST(ExprTest, NumberComparisons) {
  TestEnv three({{"n", Value::Number(3)}});
  EXPECT_EQ(Eval("n == 3", three), T);
  EXPECT_EQ(Eval("n == 4", three), F);
  EXPECT_EQ(Eval("n != 4", three), T);
  EXPECT_EQ(Eval("n != 3", three), F);
  EXPECT_EQ(Eval("n < 4", three), T);
  EXPECT_EQ(Eval("n < 3", three), F);
  EXPECT_EQ(Eval("n <= 3", three), T);
  EXPECT_EQ(Eval("n <= 2.5", three), F);
  EXPECT_EQ(Eval("n > 2", three), T);
  EXPECT_EQ(Eval("n > 3", three), F);
  EXPECT_EQ(Eval("n >= 3", three), T);
  EXPECT_EQ(Eval("n >= 3.5", three), F);
  EXPECT_EQ(Eval("3 == n", three), T);
  EXPECT_EQ(Eval("n>-2", TestEnv({{"n", Value::Number(-1.5)}})), T);
  EXPECT_EQ(Eval("n == -1.5", TestEnv({{"n", Value::Number(-1.5)}})), T);
  EXPECT_EQ(Eval("n == 0.5", TestEnv({{"n", Value::Number(0.5)}})), T);
}

TEST(ExprTest, StringAndBoolComparisons) {
  TestEnv env({{"s", Value::String("prod")}, {"p", Value::Bool(true)}});
  EXPECT_EQ(Eval(R"(s == "prod")", env), T);
  EXPECT_EQ(Eval("s == 'prod'", env), T);
  EXPECT_EQ(Eval(R"(s == "pro")", env), F);
  EXPECT_EQ(Eval(R"(s != "dev")", env), T);
  EXPECT_EQ(Eval("p == true", env), T);
  EXPECT_EQ(Eval("p == false", env), F);
  EXPECT_EQ(Eval("p != false", env), T);
}

TEST(ExprTest, StringEscapesAndQuotes) {
  auto matches = [](std::string_view literal, std::string_view value) {
    return Eval(std::string("s == ") + std::string(literal),
                TestEnv({{"s", Value::String(value)}}));
  };
  EXPECT_EQ(matches(R"("a\"b")", "a\"b"), T);
  EXPECT_EQ(matches(R"('it\'s')", "it's"), T);
  EXPECT_EQ(matches(R"("it's")", "it's"), T);
  EXPECT_EQ(matches(R"('say "hi"')", "say \"hi\""), T);
  EXPECT_EQ(matches(R"("back\\slash")", "back\\slash"), T);
  EXPECT_EQ(matches(R"("line\nbreak\ttab")", "line\nbreak\ttab"), T);
  EXPECT_EQ(matches(R"("")", ""), T);
  EXPECT_EQ(matches("\"caf\xC3\xA9\"", "caf\xC3\xA9"), T);
  EXPECT_EQ(matches(std::string("\"nul\0byte\"", 10), std::string_view("nul\0byte", 8)), T);
  EXPECT_EQ(matches(R"("a\\")", "a\\"), T);
  EXPECT_EQ(matches(R"("a\\")", "a"), F);
}

TEST(ExprTest, PercentIsHundredths) {
  EXPECT_EQ(Eval("n == 10%", TestEnv({{"n", Value::Number(0.10)}})), T);
  EXPECT_EQ(Eval("n == 50%", TestEnv({{"n", Value::Number(0.5)}})), T);
  EXPECT_EQ(Eval("n == 150%", TestEnv({{"n", Value::Number(1.5)}})), T);
  EXPECT_EQ(Eval("n == 0.5%", TestEnv({{"n", Value::Number(0.005)}})), T);
  EXPECT_EQ(Eval("n == -20%", TestEnv({{"n", Value::Number(-0.2)}})), T);
  EXPECT_EQ(Eval("n == 10", TestEnv({{"n", Value::Number(0.10)}})), F);
}

TEST(ExprTest, DurationUnitsAreSeconds) {
  const std::pair<std::string_view, double> cases[] = {
      {"250ms", 0.25}, {"30s", 30},      {"5m", 300},    {"48h", 172800}, {"2d", 172800},
      {"1w", 604800},  {"1y", 31536000}, {"1.5h", 5400}, {"-2m", -120},   {"0s", 0},
  };
  for (const auto& [literal, seconds] : cases) {
    EXPECT_EQ(
        Eval(std::string("n == ") + std::string(literal), TestEnv({{"n", Value::Number(seconds)}})),
        T)
        << literal;
  }
  TestEnv window({{"n", Value::Number(600)}});
  EXPECT_EQ(Eval("n > 5m && n < 48h", window), T);
  EXPECT_EQ(Eval("n > 1h", window), F);
}

TEST(ExprTest, InLists) {
  TestEnv env({{"s", Value::String("staging")}, {"n", Value::Number(0.25)}});
  EXPECT_EQ(Eval(R"(s in ["staging", "production"])", env), T);
  EXPECT_EQ(Eval(R"(s in ['dev', 'test'])", env), F);
  EXPECT_EQ(Eval("n in [1, 250ms, 3]", env), T);
  EXPECT_EQ(Eval("n in [25%]", env), T);
  EXPECT_EQ(Eval("n in [1, 2]", env), F);
  EXPECT_EQ(Eval("n in []", env), F);
  EXPECT_EQ(Eval("p in [true]", TestEnv({{"p", Value::Bool(true)}})), T);
  EXPECT_EQ(Eval("p in [false]", TestEnv({{"p", Value::Bool(true)}})), F);
  EXPECT_EQ(Eval("n in [1, 2]"), U);
  EXPECT_EQ(Eval("n in []"), U);
  EXPECT_EQ(Eval("any in [1, 2]", TestEnv({{"any", Value::String("1")}})), U);
}

TEST(ExprTest, Precedence) {
  TestEnv env({{"p", Value::Bool(true)},
               {"q", Value::Bool(false)},
               {"r", Value::Bool(false)},
               {"n", Value::Number(3)}});
  EXPECT_EQ(Eval("p || q && r", env), T);    // p || (q && r)
  EXPECT_EQ(Eval("(p || q) && r", env), F);  // parentheses override
  EXPECT_EQ(Eval("q && r || p", env), T);    // (q && r) || p
  EXPECT_EQ(Eval("!q && r", env), F);        // (!q) && r
  EXPECT_EQ(Eval("!(q && r)", env), T);
  EXPECT_EQ(Eval("!n == 3", env), F);  // !(n == 3)
  EXPECT_EQ(Eval("!n in [1, 2]", env), T);
  EXPECT_EQ(Eval("n > 1 && n < 5 || q", env), T);
  EXPECT_EQ(Eval("!!p", env), T);
  EXPECT_EQ(Eval("((((p))))", env), T);
}

TEST(ExprTest, KleeneLogic) {
  const std::pair<std::string_view, Value> values[] = {
      {"false", Value::Bool(false)}, {"true", Value::Bool(true)}, {"unknown", Value::Unknown()}};
  // Indexed [p][q] in the order false, true, unknown.
  const Tri kAnd[3][3] = {{F, F, F}, {F, T, U}, {F, U, U}};
  const Tri kOr[3][3] = {{F, T, U}, {T, T, T}, {U, T, U}};
  const Tri kNot[3] = {T, F, U};
  for (int p = 0; p < 3; ++p) {
    for (int q = 0; q < 3; ++q) {
      TestEnv env({{"p", values[p].second}, {"q", values[q].second}});
      std::string names = std::string(values[p].first) + ", " + std::string(values[q].first);
      EXPECT_EQ(Eval("p && q", env), kAnd[p][q]) << names;
      EXPECT_EQ(Eval("p || q", env), kOr[p][q]) << names;
    }
    EXPECT_EQ(Eval("!p", TestEnv({{"p", values[p].second}})), kNot[p]) << values[p].first;
  }
}

TEST(ExprTest, UnknownNeverPasses) {
  const TestEnv empty{};
  for (std::string_view source :
       {"n >= 3", "n < 3", "n == 0", "n != 0", "!(n > 3)", "s == 'x'", "s != 'x'", "p", "!p",
        "p == false", "n > 3 || !(n > 3)", "n > 3 || q", "n in [1, 2]"}) {
    EXPECT_EQ(Eval(source, empty), U) << source;
  }
  EXPECT_EQ(Eval("n > 3 && q", TestEnv({{"q", Value::Bool(false)}})), F);
  EXPECT_EQ(Eval("n > 3 || q", TestEnv({{"q", Value::Bool(true)}})), T);
}

TEST(ExprTest, RuntimeTypeMismatchIsUnknown) {
  TestEnv text({{"any", Value::String("3")},
                {"metadata.rollback_plan", Value::String("b")},
                {"n", Value::String("3")},
                {"p", Value::Number(1)}});
  EXPECT_EQ(Eval("any == 3", text), U);
  EXPECT_EQ(Eval("any != 3", text), U);
  EXPECT_EQ(Eval("any == '3'", text), T);
  EXPECT_EQ(Eval("any < metadata.rollback_plan", text), U);  // strings do not order
  EXPECT_EQ(Eval("any", text), U);                           // a non-boolean is no condition
  EXPECT_EQ(Eval("n == 3", text), U);                        // the Env broke the schema's promise
  EXPECT_EQ(Eval("p", text), U);
  EXPECT_EQ(Eval("any", TestEnv({{"any", Value::Bool(true)}})), T);
  EXPECT_EQ(Eval("!any", TestEnv({{"any", Value::Bool(false)}})), T);
  EXPECT_EQ(Eval("any < 1", TestEnv({{"any", Value::Bool(false)}})), U);
  EXPECT_EQ(Eval("any == true", TestEnv({{"any", Value::Bool(true)}})), T);
}

TEST(ExprTest, NotANumberIsUnknown) {
  TestEnv nan({{"n", Value::Number(std::numeric_limits<double>::quiet_NaN())}});
  EXPECT_EQ(Eval("n != 1", nan), U);
  EXPECT_EQ(Eval("n < 1", nan), U);
  EXPECT_EQ(Eval("has(n)", nan), F);
  TestEnv infinite({{"n", Value::Number(std::numeric_limits<double>::infinity())}});
  EXPECT_EQ(Eval("n > 1y", infinite), T);
}

TEST(ExprTest, Has) {
  TestEnv env(
      {{"metadata.rollback_plan", Value::String("docs/rollback.md")}, {"p", Value::Bool(false)}});
  EXPECT_EQ(Eval("has(metadata.rollback_plan)", env), T);
  EXPECT_EQ(Eval("has( p )", env), T);  // present though false
  EXPECT_EQ(Eval("has(n)", env), F);    // missing: false, not unknown
  EXPECT_EQ(Eval("!has(n)", env), T);
  EXPECT_EQ(Eval("!has(n) || n > 3", env), T);
  EXPECT_EQ(Eval("has(n) && n > 3", env), F);
}

TEST(ExprTest, RealWorldExamples) {
  EXPECT_EQ(
      Eval("consecutive_failures >= 3", TestEnv({{"consecutive_failures", Value::Number(3)}})), T);
  EXPECT_EQ(
      Eval("consecutive_failures >= 3", TestEnv({{"consecutive_failures", Value::Number(2)}})), F);
  EXPECT_EQ(
      Eval("error_rate_increase >= 10%", TestEnv({{"error_rate_increase", Value::Number(0.12)}})),
      T);
  EXPECT_EQ(
      Eval("error_rate_increase >= 10%", TestEnv({{"error_rate_increase", Value::Number(5)}})), T);
  EXPECT_EQ(
      Eval("latency_p99_increase >= 50%", TestEnv({{"latency_p99_increase", Value::Number(0.49)}})),
      F);
  EXPECT_EQ(Eval("latency_p99_increase >= 50%"), U);
  EXPECT_EQ(
      Eval("security_scan_failed == true", TestEnv({{"security_scan_failed", Value::Bool(true)}})),
      T);
  EXPECT_EQ(
      Eval("ai_agent_confidence < 0.5", TestEnv({{"ai_agent_confidence", Value::Number(0.3)}})), T);
  const std::string_view gate =
      R"(change.environment in ["staging", "production"] && !checks.tests_passed)";
  EXPECT_EQ(Eval(gate, TestEnv({{"change.environment", Value::String("production")},
                                {"checks.tests_passed", Value::Bool(false)}})),
            T);
  EXPECT_EQ(Eval(gate, TestEnv({{"change.environment", Value::String("production")},
                                {"checks.tests_passed", Value::Bool(true)}})),
            F);
  EXPECT_EQ(Eval(gate, TestEnv({{"change.environment", Value::String("dev")}})), F);
  EXPECT_EQ(Eval(gate, TestEnv({{"change.environment", Value::String("staging")}})), U);
}

TEST(ExprTest, CompileErrors) {
  struct Case {
    std::string source;
    int column;
    std::string_view message;
  };
  const Case cases[] = {
      {"", 1, "empty condition"},
      {" \t\n", 1, "empty condition"},
      {"n >= 3 && ", 11, "expected an operand after '&&', found end of expression"},
      {"!", 2, "expected an operand after '!', found end of expression"},
      {")", 1, "expected an operand, found ')'"},
      {"n == (3)", 6, "expected a field or literal after '==', found '('"},
      {"change.enviroment == 'x'", 1, "unknown field 'change.enviroment'"},
      {"has(nope)", 5, "unknown field 'nope'"},
      {"s == \"abc", 6, "unterminated string"},
      {"s == 'abc\\", 6, "unterminated string"},
      {"n # 3", 3, "unexpected character '#'"},
      {"p = q", 3, "unexpected character '='; did you mean '=='?"},
      {"p & q", 3, "unexpected character '&'; did you mean '&&'?"},
      {"p | q", 3, "unexpected character '|'; did you mean '||'?"},
      {"s == \xC3\xA9", 6, "non-ASCII byte 0xC3 outside a string literal"},
      {std::string("p\0", 2), 2, "unexpected byte 0x00"},
      {R"(s == "a\qb")", 8,
       R"(unknown escape character 'q' after '\'; expected one of \" \' \\ \n \t)"},
      {R"(any in ["a", "b")", 17,
       "expected ']' to close the list opened at column 8, found end of expression"},
      {"any in [1 2]", 11, "expected ']' to close the list opened at column 8, found '2'"},
      {"any in [1,]", 11, "expected a literal in the list, found ']'"},
      {"any in [n]", 9, "expected a literal in the list, found 'n'"},
      {"any in 'a'", 8, "expected '[' after 'in', found ''a''"},
      {"(p", 3, "expected ')' to close the '(' opened at column 1, found end of expression"},
      {"p || q)", 7, "expected '&&', '||' or end of expression, found ')'"},
      {"p q #", 3, "expected '&&', '||' or end of expression, found 'q'"},
      {"has p", 5, "expected '(' after 'has', found 'p'"},
      {"has(3)", 5, "expected a field path in has(), found '3'"},
      {"has(p", 6, "expected ')' to close 'has(' opened at column 4, found end of expression"},
      {"n == null", 6, "'null' is not a value; test for a missing field with has(field)"},
      {"n < 1 < 2", 7, "comparisons cannot be chained; join them with '&&'"},
      {"any == 1 in [1]", 10, "comparisons cannot be chained; join them with '&&'"},
      {"has(p) == true", 8, "'==' compares fields and literals, found a condition on its left"},
      {"change.environment < 3", 20, "cannot compare a string with a number"},
      {"n == 'x'", 3, "cannot compare a number with a string"},
      {"p != 1", 3, "cannot compare a boolean with a number"},
      {"s < 'b'", 3, "'<' compares numbers only, found a string"},
      {"p >= any", 3, "'>=' compares numbers only, found a boolean"},
      {"n in ['a']", 3, "cannot compare a number with a list of strings"},
      {"any in ['a', 1]", 14, "a list holds one type: expected a string, found a number"},
      {"3", 1, "expected a condition, found a number"},
      {"true", 1, "expected a condition, found a boolean"},
      {"p && 'x'", 6, "expected a condition, found a string"},
      {"n", 1, "expected a condition, found number field 'n'"},
      {"!(s)", 3, "expected a condition, found string field 's'"},
      {"n > 5min", 6, "unknown unit 'min' after a number; expected %, ms, s, m, h, d, w or y"},
      {"n > 1e3", 6, "unknown unit 'e3' after a number; expected %, ms, s, m, h, d, w or y"},
      {"n == 3.", 8, "expected a digit after '3.'"},
      {"n == 3.x", 8, "expected a digit after '3.'"},
      {"n > 1" + std::string(400, '0'), 5, "number out of range"},
      {"n > 1" + std::string(308, '0') + "y", 5, "number out of range"},
      {"a.", 3, "expected a field name after 'a.'"},
      {"n - 1", 3, "unexpected character '-'"},
  };
  for (const Case& c : cases) {
    CompileError error = ErrorOf(c.source);
    EXPECT_EQ(error.column, c.column) << c.source;
    EXPECT_EQ(error.message, c.message) << c.source;
  }
}

TEST(ExprTest, TooLongSourceIsAnError) {
  std::string longest = "s == '" + std::string(4096 - 7, 'x') + "'";
  ASSERT_EQ(longest.size(), 4096u);
  EXPECT_EQ(Eval(longest), U);
  CompileError error = ErrorOf(longest + " ");
  EXPECT_EQ(error.column, 4097);
  EXPECT_EQ(error.message, "condition is longer than 4096 bytes");
}

TEST(ExprTest, DeepNestingIsAnError) {
  CompileError too_long = ErrorOf(std::string(10000, '('));
  EXPECT_EQ(too_long.column, 4097);
  for (char opener : {'(', '!'}) {
    CompileError error = ErrorOf(std::string(4000, opener) + "p");
    EXPECT_EQ(error.column, 65) << opener;
    EXPECT_EQ(error.message, "condition nested deeper than 64 levels") << opener;
  }
  EXPECT_EQ(
      Eval(std::string(64, '(') + "p" + std::string(64, ')'), TestEnv({{"p", Value::Bool(true)}})),
      T);
  EXPECT_EQ(Eval(std::string(64, '!') + "p", TestEnv({{"p", Value::Bool(true)}})), T);
}

TEST(ExprTest, NodeLimit) {
  // k operands joined by '&&' make 2k - 1 nodes.
  auto chain = [](int operands) {
    std::string source = "p";
    for (int operand = 1; operand < operands; ++operand) source += " && p";
    return source;
  };
  EXPECT_EQ(Eval(chain(128), TestEnv({{"p", Value::Bool(true)}})), T);
  CompileError error = ErrorOf(chain(129));
  EXPECT_EQ(error.column, 3 + 5 * 127);  // the last '&&', the 257th node
  EXPECT_EQ(error.message, "condition too complex: more than 256 nodes");
}

TEST(ExprTest, BindsEachPathOnceAndListsFieldsInOrder) {
  TestSchema schema;
  auto program = Compile("q && has(n) && (q || n > 1 || p) && s == 'x' && !p", schema);
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_EQ(schema.binds, 4);
  EXPECT_EQ(program->fields(), (std::vector<std::string>{"q", "n", "p", "s"}));
}

TEST(ExprTest, ProgramKeepsSourceAndMoves) {
  TestSchema schema;
  auto compiled = Compile("s == 'x'", schema);
  ASSERT_TRUE(compiled);
  Program program = std::move(*compiled);
  EXPECT_EQ(program.source(), "s == 'x'");
  EXPECT_EQ(program.Evaluate(TestEnv({{"s", Value::String("x")}})), T);
  Program empty;
  EXPECT_EQ(empty.Evaluate(TestEnv{}), U);
  EXPECT_EQ(empty.source(), "");
  EXPECT_TRUE(empty.fields().empty());
}

TEST(ExprTest, ArbitraryBytesNeverCrash) {
  TestSchema schema;
  std::string bytes;
  for (int byte = 0; byte < 256; ++byte) bytes += static_cast<char>(byte);
  for (size_t start = 0; start < bytes.size(); ++start) {
    auto program = Compile(std::string_view(bytes).substr(start), schema);
    EXPECT_FALSE(program);
  }
  EXPECT_FALSE(Compile("\xFF\xFE", schema));
  EXPECT_FALSE(Compile(std::string_view("s == '\0", 7), schema));
  EXPECT_TRUE(Compile("s == '\xFF\xC3'", schema));
}

TEST(ExprTest, EvaluateDoesNotAllocate) {
  InstallHooks();
  TestSchema schema;
  // Compiling allocates; if the counter misses that, it cannot judge Evaluate
  // (valgrind, for one, substitutes its own operator new).
  g_allocations = 0;
  g_counting = true;
  auto probe = Compile("p", schema);
  g_counting = false;
  if (g_allocations.load() == 0) GTEST_SKIP() << "heap allocations cannot be counted here";
  auto program =
      Compile(R"(change.environment in ["staging", "production"] && !checks.tests_passed )"
              R"(|| has(metadata.rollback_plan) && n >= 10% && s != 'x' && any == "y" && p)",
              schema);
  ASSERT_TRUE(program) << program.error().message;
  const TestEnv envs[] = {
      {},
      {{"change.environment", Value::String("production")},
       {"checks.tests_passed", Value::Bool(false)}},
      {{"metadata.rollback_plan", Value::Bool(true)},
       {"n", Value::Number(1)},
       {"s", Value::String("y")},
       {"any", Value::String("y")},
       {"p", Value::Bool(true)}},
  };
  Tri results[std::size(envs)];
  g_allocations = 0;
  g_counting = true;
  for (size_t env = 0; env < std::size(envs); ++env) results[env] = program->Evaluate(envs[env]);
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_EQ(results[0], U);
  EXPECT_EQ(results[1], T);
  EXPECT_EQ(results[2], T);
}

}  // namespace
}  // namespace interlock::expr
