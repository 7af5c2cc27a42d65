#include "core/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace interlock::json {
namespace {

Document MustParse(std::string_view text, ParseOptions options = {}) {
  auto parsed = Parse(text, options);
  if (!parsed) {
    ADD_FAILURE() << "unexpected error: " << parsed.error().message();
    return Document();
  }
  return std::move(*parsed);
}

std::string ErrorOf(std::string_view text, ParseOptions options = {.subject = "request"}) {
  auto parsed = Parse(text, options);
  if (parsed) return "parsed without error";
  EXPECT_EQ(parsed.error().kind(), ErrorKind::kInvalidArgument);
  return parsed.error().message();
}

std::string Compact(Value value) {
  std::string out;
  AppendJson(&out, value);
  return out;
}

// Parsing

TEST(JsonTest, ReadsEveryKindOfValue) {
  Document doc = MustParse(
      R"( {"s": "text", "n": -12.5e1, "t": true, "f": false, "z": null, "a": [1, [], {}]} )");
  Value root = doc.root();
  ASSERT_TRUE(root.is_object());
  EXPECT_EQ(root.size(), 6u);
  EXPECT_EQ(root.Find("s")->AsString(), "text");
  EXPECT_EQ(root.Find("n")->AsNumber(), -125.0);
  EXPECT_EQ(root.Find("n")->NumberText(), "-12.5e1");
  EXPECT_TRUE(root.Find("t")->AsBool());
  EXPECT_FALSE(root.Find("f")->AsBool());
  EXPECT_TRUE(root.Find("z")->is_null());
  EXPECT_EQ(root.Find("a")->size(), 3u);
  EXPECT_FALSE(root.Find("missing").has_value());
  std::string keys;
  for (Member m : root.members()) keys += std::string(m.key) + ",";
  EXPECT_EQ(keys, "s,n,t,f,z,a,");
}

TEST(JsonTest, IntegersAreReadExactlyWhenWrittenAsIntegers) {
  Document doc = MustParse(R"([18446744073709551615, -9223372036854775808, 1.0, 1e2, -0])",
                           {.require_object = false});
  std::vector<Value> v(doc.root().elements().begin(), doc.root().elements().end());
  EXPECT_EQ(v[0].AsUint64(), 18446744073709551615u);
  EXPECT_FALSE(v[0].AsInt64());
  EXPECT_EQ(v[1].AsInt64(), INT64_MIN);
  EXPECT_FALSE(v[1].AsUint64());
  EXPECT_FALSE(v[2].AsInt64());
  EXPECT_FALSE(v[3].AsUint64());
  EXPECT_EQ(v[4].AsInt64(), 0);
}

TEST(JsonTest, ValuesSurviveMovingTheDocument) {
  Document doc = MustParse(R"({"a": "b"})");
  Value a = *doc.root().Find("a");
  Document moved = std::move(doc);
  EXPECT_EQ(a.AsString(), "b");
  EXPECT_EQ(moved.root().Find("a")->AsString(), "b");
}

TEST(JsonTest, TinyNumbersReadAsTheNearestDouble) {
  Document doc = MustParse("[1e-400, -1e-400, 5e-324]", {.require_object = false});
  std::vector<Value> v(doc.root().elements().begin(), doc.root().elements().end());
  EXPECT_EQ(v[0].AsNumber(), 0.0);
  EXPECT_TRUE(std::signbit(v[1].AsNumber()));
  EXPECT_EQ(v[2].AsNumber(), 5e-324);
}

TEST(JsonTest, ByteOrderMarkOnlyWhenAllowed) {
  EXPECT_TRUE(Parse("\xEF\xBB\xBF{}", {.allow_bom = true}));
  EXPECT_EQ(ErrorOf("\xEF\xBB\xBF{}"),
            "request: malformed JSON at line 1, column 1: expected a value, found byte 0xef");
}

// Round trips

TEST(JsonTest, EscapesDecodeAndEncodeBack) {
  Document doc = MustParse(
      R"({"k": "\" \\ \/ \b \f \n \r \t \u0000 \u001F \u007f \u00e9 \u20AC \ud83d\ude00 é 😀"})");
  std::string_view text = doc.root().Find("k")->AsString();
  using namespace std::string_view_literals;
  EXPECT_EQ(text, "\" \\ / \b \f \n \r \t \0 \x1f \x7f é € 😀 é 😀"sv);
  EXPECT_EQ(Compact(doc.root()),
            "{\"k\":\"\\\" \\\\ / \\b \\f \\n \\r \\t \\u0000 \\u001f \x7f é € 😀 é 😀\"}");
}

TEST(JsonTest, SerialisedDocumentParsesToTheSameDocument) {
  for (std::string_view text : {
           R"({})",
           R"({"a": [1, -2.50, 3e+7, true, false, null, "x\ty"], "b": {"c": {"d": []}}})",
           R"({"\u00e9": "\ud834\udd1e", "": ""})",
       }) {
    Document doc = MustParse(text);
    std::string once = Compact(doc.root());
    Document again = MustParse(once);
    EXPECT_TRUE(Equal(doc.root(), again.root())) << text;
    EXPECT_EQ(Compact(again.root()), once);
  }
}

TEST(JsonTest, QuotingReplacesInvalidUtf8) {
  std::string out;
  AppendQuoted(&out,
               "a\xff"
               "b\xc3");
  EXPECT_EQ(out,
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
}

// Every error, to the letter

TEST(JsonTest, MalformedSyntaxSaysWhatAndWhere) {
  EXPECT_EQ(ErrorOf(""),
            "request: malformed JSON at line 1, column 1: expected a value, found end of input");
  EXPECT_EQ(ErrorOf(R"({"actor": {"type": "human",}})"),
            "actor: malformed JSON at line 1, column 28: expected a string key, found '}'");
  EXPECT_EQ(ErrorOf(R"({"a" 1})"),
            "a: malformed JSON at line 1, column 6: expected ':', found '1'");
  EXPECT_EQ(ErrorOf(R"({"a": 1 "b": 2})"),
            "request: malformed JSON at line 1, column 9: expected ',' or '}', found '\"'");
  EXPECT_EQ(ErrorOf("{\"a\": [1,\n 2 3]}"),
            "a: malformed JSON at line 2, column 4: expected ',' or ']', found '3'");
  EXPECT_EQ(ErrorOf(R"({"a": -})"),
            "a: malformed JSON at line 1, column 8: expected a digit, found '}'");
  EXPECT_EQ(ErrorOf(R"({"a": tru})"),
            "a: malformed JSON at line 1, column 10: expected true, found '}'");
  EXPECT_EQ(ErrorOf(R"({"a": nul)"),
            "a: malformed JSON at line 1, column 10: expected null, found end of input");
  EXPECT_EQ(
      ErrorOf(R"({"a": "\x"})"),
      R"(a: malformed JSON at line 1, column 9: expected an escape (\" \\ \/ \b \f \n \r \t \uXXXX), found 'x')");
  EXPECT_EQ(ErrorOf(R"({"a": "\u12G4"})"),
            "a: malformed JSON at line 1, column 12: expected four hex digits, found 'G'");
  EXPECT_EQ(ErrorOf("{\"a\": \"x\ty\"}"),
            "a: malformed JSON at line 1, column 9: expected a printable character or an escape, "
            "found byte 0x09");
  EXPECT_EQ(ErrorOf(R"({"a": "open)"),
            "a: malformed JSON at line 1, column 12: expected '\"', found end of input");
  EXPECT_EQ(ErrorOf(R"({"a": 'x'})"),
            "a: malformed JSON at line 1, column 7: expected a value, found '''");
}

TEST(JsonTest, DuplicateKeyIsRefusedAtAnyDepth) {
  EXPECT_EQ(ErrorOf(R"({"change": {"environment": "production", "environment": "dev"}})"),
            R"(change: duplicate key "environment" at line 1, column 42)");
  EXPECT_EQ(ErrorOf(R"({"a": 1, "a": 1})"), R"(request: duplicate key "a" at line 1, column 10)");
  // Compared after unescaping; columns count bytes.
  EXPECT_EQ(ErrorOf(R"({"x": [{"é": 1, "\u00e9": 2}]})"),
            R"(x[0]: duplicate key "é" at line 1, column 18)");
}

TEST(JsonTest, DuplicateKeyInALargeObjectIsRefused) {
  std::string text = "{";
  for (int i = 0; i < 1000; ++i) text += "\"k" + std::to_string(i) + "\": 0, ";
  text += "\"k500\": 1}";
  EXPECT_EQ(ErrorOf(text), R"(request: duplicate key "k500" at line 1, column 10892)");
  text = "{";
  for (int i = 0; i < 1000; ++i) text += (i ? ", \"k" : "\"k") + std::to_string(i) + "\": 0";
  text += "}";
  EXPECT_TRUE(Parse(text));
}

TEST(JsonTest, InvalidUtf8IsRefused) {
  EXPECT_EQ(ErrorOf("{\"a\": \"a\xff\"}"), "a: invalid UTF-8 at line 1, column 9");
  EXPECT_EQ(ErrorOf("{\"a\": \"\xc0\xaf\"}"), "a: invalid UTF-8 at line 1, column 8");  // overlong
  EXPECT_EQ(ErrorOf("{\"a\": \"\xed\xa0\x80\"}"), "a: invalid UTF-8 at line 1, column 8");
  EXPECT_EQ(ErrorOf("{\"a\": \"\xf4\x90\x80\x80\"}"), "a: invalid UTF-8 at line 1, column 8");
  EXPECT_EQ(ErrorOf("{\"\xe2\x82\": 1}"), "request: invalid UTF-8 at line 1, column 3");
  EXPECT_EQ(ErrorOf("{\"a\": \xff}"),
            "a: malformed JSON at line 1, column 7: expected a value, found byte 0xff");
}

TEST(JsonTest, LoneSurrogatesAreRefused) {
  EXPECT_EQ(ErrorOf(R"({"a": "x\ud800"})"), R"(a: lone surrogate \ud800 at line 1, column 9)");
  EXPECT_EQ(ErrorOf(R"({"a": "\uDC00\uD800"})"), R"(a: lone surrogate \uDC00 at line 1, column 8)");
  EXPECT_EQ(ErrorOf(R"({"a": "\ud800\u0041"})"), R"(a: lone surrogate \ud800 at line 1, column 8)");
  EXPECT_EQ(ErrorOf(R"({"a": "\ud800\ud800"})"), R"(a: lone surrogate \ud800 at line 1, column 8)");
}

TEST(JsonTest, NulByteIsRefused) {
  using namespace std::string_view_literals;
  EXPECT_EQ(ErrorOf("{\"a\": \"x\0\"}"sv), "a: NUL byte at line 1, column 9");
  EXPECT_EQ(ErrorOf("{\"a\": \0}"sv), "a: NUL byte at line 1, column 7");
  EXPECT_EQ(ErrorOf("{}\0"sv), "request: NUL byte at line 1, column 3");
}

TEST(JsonTest, NestingDeeperThanTheLimitIsRefused) {
  EXPECT_TRUE(Parse(R"({"a": [[{}]]})", {.max_depth = 4}));
  EXPECT_EQ(ErrorOf(R"({"a": [[{"b": 1}]]})", {.subject = "request", .max_depth = 3}),
            "a[0][0]: nesting deeper than 3 levels at line 1, column 9");
  std::string deep = R"({"x": )" + std::string(10000, '[') + std::string(10000, ']') + "}";
  std::string path = "x";
  for (int level = 2; level <= 32; ++level) path += "[0]";
  EXPECT_EQ(ErrorOf(deep), path + ": nesting deeper than 32 levels at line 1, column 38");
}

TEST(JsonTest, InputLargerThanTheLimitIsRefused) {
  EXPECT_TRUE(Parse("{}   ", {.max_bytes = 5}));
  EXPECT_EQ(ErrorOf("{}    ", {.subject = "request", .max_bytes = 5}),
            "request: larger than the limit of 5 bytes");
}

TEST(JsonTest, NumbersOutOfRangeAreRefused) {
  EXPECT_EQ(ErrorOf(R"({"a": 1e400})"), "a: number out of range at line 1, column 7");
  EXPECT_EQ(ErrorOf(R"({"a": [-1)" + std::string(400, '0') + "]}"),
            "a[0]: number out of range at line 1, column 8");
  EXPECT_TRUE(Parse(R"({"a": 1.7976931348623157e308})"));
}

TEST(JsonTest, TrailingDataIsRefused) {
  EXPECT_EQ(ErrorOf("{} {}"), "request: trailing data at line 1, column 4");
  EXPECT_EQ(ErrorOf("{}\n,"), "request: trailing data at line 2, column 1");
  EXPECT_EQ(ErrorOf(R"({"a": 01})"),
            "request: malformed JSON at line 1, column 8: expected ',' or '}', found '1'");
}

TEST(JsonTest, TopLevelMustBeWhatWasAskedFor) {
  EXPECT_EQ(ErrorOf("[]"), "request: expected a JSON object, found an array");
  EXPECT_EQ(ErrorOf(" \"s\""), "request: expected a JSON object, found a string");
  EXPECT_EQ(ErrorOf("-1"), "request: expected a JSON object, found a number");
  EXPECT_EQ(ErrorOf("true"), "request: expected a JSON object, found a boolean");
  EXPECT_EQ(ErrorOf("null"), "request: expected a JSON object, found null");
  EXPECT_TRUE(Parse("[1]", {.require_object = false}));
  EXPECT_TRUE(Parse(" 7 ", {.require_object = false}));
}

TEST(JsonTest, PointerPathsWhenAskedFor) {
  EXPECT_EQ(ErrorOf(R"({"a/b": {"c~": [1, {"d": 1, "d": 2}]}})",
                    {.subject = "event", .path_style = PathStyle::kPointer}),
            R"(/a~1b/c~0/1: duplicate key "d" at line 1, column 29)");
}

// Reading fields

constexpr std::string_view kBodyFields[] = {"rationale", "to", "count", "flag", "roles", "scope"};
constexpr std::string_view kScopeFields[] = {"environment"};

Result<Object> Body(std::string_view text) { return ReadObject(text, kBodyFields); }

std::string BodyError(std::string_view text) {
  auto body = Body(text);
  if (body) return "read without error";
  return body.error().message();
}

TEST(ObjectReaderTest, ReadsTypedFields) {
  auto body = Body(R"({"rationale": "ok", "count": 0.5, "flag": true, "roles": ["a", "b"],
                       "scope": {"environment": "dev"}, "to": null})");
  ASSERT_TRUE(body) << body.error().message();
  // Moving keeps the fields valid.
  Object moved = std::move(*body);
  const ObjectReader& f = moved.fields;
  EXPECT_EQ(*f.String("rationale"), "ok");
  EXPECT_EQ(**f.OptionalNumber("count", 0, 1), 0.5);
  EXPECT_EQ(**f.OptionalBool("flag"), true);
  EXPECT_EQ(**f.OptionalStringArray("roles"), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(*f.OptionalString("to"));  // null is absent
  auto scope = f.Object("scope", kScopeFields);
  ASSERT_TRUE(scope);
  EXPECT_EQ(*scope->Enum<Environment>("environment"), Environment::kDev);
  EXPECT_EQ(scope->Path("environment"), "scope.environment");
}

TEST(ObjectReaderTest, UnknownFieldListsTheKnownOnes) {
  EXPECT_EQ(
      BodyError(R"({"rationale": "x", "too": "bob"})"),
      R"(body: unknown field "too" (expected one of: rationale, to, count, flag, roles, scope))");
  auto body = Body(R"({"scope": {"environment": "dev", "service": "api"}})");
  ASSERT_TRUE(body);
  EXPECT_EQ(body->fields.Object("scope", kScopeFields).error().message(),
            R"(scope: unknown field "service" (expected one of: environment))");
}

TEST(ObjectReaderTest, WrongTypeNamesBothTypes) {
  auto body = Body(R"({"rationale": 5, "count": "x", "flag": "yes", "roles": [1], "scope": [],
                       "to": {}})");
  ASSERT_TRUE(body);
  const ObjectReader& f = body->fields;
  EXPECT_EQ(f.String("rationale").error().message(),
            "rationale: expected a string, found a number");
  EXPECT_EQ(f.OptionalNumber("count", 0, 1).error().message(),
            "count: expected a number, found a string");
  EXPECT_EQ(f.OptionalBool("flag").error().message(), "flag: expected a boolean, found a string");
  EXPECT_EQ(f.OptionalStringArray("roles").error().message(),
            "roles[0]: expected a string, found a number");
  EXPECT_EQ(f.OptionalStringArray("to").error().message(),
            "to: expected an array of strings, found an object");
  EXPECT_EQ(f.Object("scope", kScopeFields).error().message(),
            "scope: expected an object, found an array");
}

TEST(ObjectReaderTest, RequiredEnumAndRange) {
  auto body = Body(R"({"count": 1.5, "scope": {"environment": "prod"}})");
  ASSERT_TRUE(body);
  const ObjectReader& f = body->fields;
  EXPECT_EQ(f.String("rationale").error().message(), "rationale: required");
  EXPECT_EQ(f.OptionalNumber("count", 0, 1).error().message(),
            "count: expected a number from 0 to 1, found 1.5");
  auto scope = f.Object("scope", kScopeFields);
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->Enum<Environment>("environment").error().message(),
            R"(scope.environment: expected one of dev, staging, production, found "prod")");
  EXPECT_EQ(f.Object("to", kScopeFields).error().message(), "to: required");
}

TEST(ObjectReaderTest, BodyMustBeAnObjectOfWellFormedJson) {
  EXPECT_EQ(BodyError("[]"), "body: expected a JSON object, found an array");
  EXPECT_EQ(BodyError(R"({"to": "a", "to": "b"})"),
            R"(body: duplicate key "to" at line 1, column 13)");
  EXPECT_EQ(BodyError("{"),
            "body: malformed JSON at line 1, column 2: expected a string key, found end of input");
}

// Writing

TEST(JsonWriterTest, IndentedLayoutMatchesNlohmannDump) {
  std::string out;
  Writer w(&out, 2);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.EndArray();
  w.Key("b");
  w.BeginArray();
  w.Int(-1);
  w.Uint(2);
  w.EndArray();
  w.Key("c");
  w.BeginObject();
  w.Key("d");
  w.Null();
  w.Key("e");
  w.Bool(false);
  w.EndObject();
  w.Key("f");
  w.Raw("{\"x\":1}");
  w.EndObject();
  EXPECT_EQ(out,
            "{\n  \"a\": [],\n  \"b\": [\n    -1,\n    2\n  ],\n  \"c\": {\n    \"d\": null,\n"
            "    \"e\": false\n  },\n  \"f\": {\"x\":1}\n}");
  std::string compact;
  Writer c(&compact);
  c.BeginObject();
  c.Key("k\"");
  c.String("v\n");
  c.Key("o");
  c.BeginObject();
  c.EndObject();
  c.EndObject();
  EXPECT_EQ(compact, R"({"k\"":"v\n","o":{}})");
}

}  // namespace
}  // namespace interlock::json
