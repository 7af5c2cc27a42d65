#include "core/yaml.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>

namespace interlock::yaml {
namespace {

std::string Pos(Mark mark) { return fmt::format("{}:{}", mark.line, mark.column); }

Node MustParse(std::string_view text, const Limits& limits = {}) {
  auto parsed = Parse(text, limits);
  if (!parsed) {
    ADD_FAILURE() << "unexpected error at " << Pos(parsed.error().mark) << ": "
                  << parsed.error().message;
    return Node();
  }
  return std::move(*parsed);
}

ParseError MustFail(std::string_view text, const Limits& limits = {}) {
  auto parsed = Parse(text, limits);
  if (parsed) {
    ADD_FAILURE() << "parsed without error: " << text.substr(0, 80);
    return {};
  }
  return std::move(parsed.error());
}

// The value of `key` in `mapping`; a failure and a null node if absent.
const Node& At(const Node& mapping, std::string_view key) {
  static const Node kMissing;
  const Node* value = mapping.Find(key);
  if (value == nullptr) {
    ADD_FAILURE() << "no key '" << key << "' in " << mapping.TypeName();
    return kMissing;
  }
  return *value;
}

TEST(YamlTest, BlockMappingsAndSequencesWithMarks) {
  const Node root = MustParse(
      "# service\n"
      "name: billing\n"
      "limits:\n"
      "  timeout: 30s\n"
      "  retries: 3\n"
      "owners:\n"
      "  - alice\n"
      "  -   bob\n");
  ASSERT_TRUE(root.IsMapping());
  EXPECT_EQ(Pos(root.mark()), "2:1");
  ASSERT_EQ(root.entries().size(), 3u);
  EXPECT_EQ(root.entries()[0].key, "name");
  EXPECT_EQ(Pos(root.entries()[0].key_mark), "2:1");
  EXPECT_EQ(root.entries()[1].key, "limits");
  EXPECT_EQ(Pos(root.entries()[1].key_mark), "3:1");
  EXPECT_EQ(root.entries()[2].key, "owners");
  EXPECT_EQ(Pos(root.entries()[2].key_mark), "6:1");

  const Node& name = At(root, "name");
  EXPECT_TRUE(name.IsScalar());
  EXPECT_EQ(name.scalar(), "billing");
  EXPECT_EQ(Pos(name.mark()), "2:7");

  const Node& limits = At(root, "limits");
  ASSERT_TRUE(limits.IsMapping());
  EXPECT_EQ(Pos(limits.mark()), "4:3");
  ASSERT_EQ(limits.entries().size(), 2u);
  EXPECT_EQ(Pos(limits.entries()[1].key_mark), "5:3");
  EXPECT_EQ(At(limits, "timeout").scalar(), "30s");
  EXPECT_EQ(Pos(At(limits, "timeout").mark()), "4:12");
  EXPECT_EQ(At(limits, "retries").scalar(), "3");
  EXPECT_EQ(Pos(At(limits, "retries").mark()), "5:12");

  const Node& owners = At(root, "owners");
  ASSERT_TRUE(owners.IsSequence());
  EXPECT_EQ(Pos(owners.mark()), "7:3");
  ASSERT_EQ(owners.items().size(), 2u);
  EXPECT_EQ(owners.items()[0].scalar(), "alice");
  EXPECT_EQ(Pos(owners.items()[0].mark()), "7:5");
  EXPECT_EQ(owners.items()[1].scalar(), "bob");
  EXPECT_EQ(Pos(owners.items()[1].mark()), "8:7");
}

TEST(YamlTest, FlowCollectionsNestedWithMarks) {
  const Node root = MustParse("{a: [1, {b: c}], d: {}, e: []}");
  ASSERT_TRUE(root.IsMapping());
  EXPECT_EQ(Pos(root.mark()), "1:1");
  const Node& a = At(root, "a");
  ASSERT_TRUE(a.IsSequence());
  EXPECT_EQ(Pos(a.mark()), "1:5");
  ASSERT_EQ(a.items().size(), 2u);
  EXPECT_EQ(a.items()[0].scalar(), "1");
  EXPECT_EQ(Pos(a.items()[0].mark()), "1:6");
  const Node& inner = a.items()[1];
  ASSERT_TRUE(inner.IsMapping());
  EXPECT_EQ(Pos(inner.mark()), "1:9");
  EXPECT_EQ(Pos(inner.entries().at(0).key_mark), "1:10");
  EXPECT_EQ(At(inner, "b").scalar(), "c");
  EXPECT_EQ(Pos(At(inner, "b").mark()), "1:13");
  EXPECT_EQ(Pos(root.entries().at(1).key_mark), "1:18");
  EXPECT_TRUE(At(root, "d").IsMapping());
  EXPECT_TRUE(At(root, "d").entries().empty());
  EXPECT_TRUE(At(root, "e").IsSequence());
  EXPECT_TRUE(At(root, "e").items().empty());
}

TEST(YamlTest, SequenceOfMappings) {
  const Node root = MustParse(
      "- name: a\n"
      "  port: 80\n"
      "- name: b\n");
  ASSERT_TRUE(root.IsSequence());
  ASSERT_EQ(root.items().size(), 2u);
  EXPECT_EQ(Pos(root.items()[0].mark()), "1:3");
  EXPECT_EQ(At(root.items()[0], "port").scalar(), "80");
  EXPECT_EQ(Pos(root.items()[1].entries().at(0).key_mark), "3:3");
  EXPECT_EQ(At(root.items()[1], "name").scalar(), "b");
}

TEST(YamlTest, ScalarRoot) {
  const Node root = MustParse("  hello world\n");
  ASSERT_TRUE(root.IsScalar());
  EXPECT_EQ(root.scalar(), "hello world");
  EXPECT_EQ(Pos(root.mark()), "1:3");
}

TEST(YamlTest, QuotedVersusPlain) {
  const Node root = MustParse(
      "plain: 42\n"
      "single: 'it''s'\n"
      "double: \"tab\\there\\u00e9\"\n"
      "null_text: \"null\"\n"
      "empty: ''\n"
      "tagged: !!str 12\n"
      "verbatim: !<tag:yaml.org,2002:str> null\n");
  EXPECT_EQ(At(root, "plain").scalar(), "42");
  EXPECT_FALSE(At(root, "plain").quoted());
  EXPECT_EQ(At(root, "single").scalar(), "it's");
  EXPECT_TRUE(At(root, "single").quoted());
  EXPECT_EQ(At(root, "double").scalar(), "tab\there\xC3\xA9");
  EXPECT_TRUE(At(root, "double").quoted());
  EXPECT_TRUE(At(root, "null_text").IsScalar());
  EXPECT_TRUE(At(root, "null_text").quoted());
  EXPECT_TRUE(At(root, "empty").IsScalar());
  EXPECT_EQ(At(root, "empty").scalar(), "");
  EXPECT_TRUE(At(root, "tagged").quoted());
  EXPECT_EQ(At(root, "tagged").scalar(), "12");
  EXPECT_EQ(Pos(At(root, "tagged").mark()), "6:9");
  EXPECT_TRUE(At(root, "verbatim").IsScalar());
  EXPECT_EQ(At(root, "verbatim").scalar(), "null");
}

TEST(YamlTest, EscapedNulIsKept) {
  const Node root = MustParse("a: \"x\\0y\"");
  EXPECT_EQ(At(root, "a").scalar(), std::string("x\0y", 3));
}

TEST(YamlTest, LiteralAndFoldedBlocks) {
  const Node root = MustParse(
      "literal: |\n"
      "  line one\n"
      "  line two\n"
      "folded: >\n"
      "  word one\n"
      "  word two\n"
      "stripped: |-\n"
      "  last\n");
  EXPECT_EQ(At(root, "literal").scalar(), "line one\nline two\n");
  EXPECT_TRUE(At(root, "literal").quoted());
  EXPECT_EQ(Pos(At(root, "literal").mark()), "1:10");
  EXPECT_EQ(At(root, "folded").scalar(), "word one word two\n");
  EXPECT_TRUE(At(root, "folded").quoted());
  EXPECT_EQ(At(root, "stripped").scalar(), "last");
}

TEST(YamlTest, NullForms) {
  const Node root = MustParse(
      "tilde: ~\n"
      "lower: null\n"
      "title: Null\n"
      "upper: NULL\n"
      "empty:\n"
      "mixed: nUll\n"
      "list:\n"
      "  -\n"
      "  - x\n");
  for (std::string_view key : {"tilde", "lower", "title", "upper", "empty"}) {
    EXPECT_TRUE(At(root, key).IsNull()) << key;
    EXPECT_EQ(At(root, key).TypeName(), "null") << key;
  }
  EXPECT_EQ(Pos(At(root, "tilde").mark()), "1:8");
  EXPECT_EQ(Pos(At(root, "empty").mark()), "5:7");
  EXPECT_TRUE(At(root, "mixed").IsScalar());
  EXPECT_EQ(At(root, "mixed").scalar(), "nUll");
  const Node& list = At(root, "list");
  ASSERT_EQ(list.items().size(), 2u);
  EXPECT_TRUE(list.items()[0].IsNull());
  EXPECT_EQ(Pos(list.items()[0].mark()), "8:4");
}

TEST(YamlTest, KeysKeepTheirText) {
  const Node root = MustParse("~: a\nnull: b\n'quoted key': c\n");
  EXPECT_EQ(At(root, "~").scalar(), "a");
  EXPECT_EQ(At(root, "null").scalar(), "b");
  EXPECT_EQ(At(root, "quoted key").scalar(), "c");
}

TEST(YamlTest, FindAndTypeName) {
  const Node root = MustParse("a: 1\nb: [x]\nc: {d: e}\n");
  EXPECT_EQ(root.TypeName(), "mapping");
  EXPECT_EQ(At(root, "a").TypeName(), "scalar");
  EXPECT_EQ(At(root, "b").TypeName(), "sequence");
  EXPECT_EQ(root.Find("missing"), nullptr);
  EXPECT_EQ(At(root, "b").Find("x"), nullptr);  // not a mapping
  EXPECT_EQ(root.Find("c"), &root.entries()[2].value);
}

TEST(YamlTest, DuplicateKeyIsAnError) {
  const ParseError error = MustFail(
      "server:\n"
      "    host: example.com\n"
      "    timeout: 5s\n"
      "    timeout: 6s\n");
  EXPECT_EQ(error.message, "duplicate key 'timeout' (first at 3:5)");
  EXPECT_EQ(Pos(error.mark), "4:5");
}

TEST(YamlTest, DuplicateFlowKeyIsAnError) {
  const ParseError error = MustFail("{a: 1, b: 2, a: 3}");
  EXPECT_EQ(error.message, "duplicate key 'a' (first at 1:2)");
  EXPECT_EQ(Pos(error.mark), "1:14");
}

TEST(YamlTest, SameKeyInDifferentMappingsIsFine) {
  const Node root = MustParse("a: {x: 1}\nb: {x: 2}\n");
  EXPECT_EQ(At(At(root, "b"), "x").scalar(), "2");
}

TEST(YamlTest, ComplexKeyIsAnError) {
  const ParseError block = MustFail("? [a, b]\n: 1\n");
  EXPECT_EQ(block.message, "mapping keys must be scalars");
  EXPECT_EQ(Pos(block.mark), "1:3");
  const ParseError flow = MustFail("{x: 1, {a: b}: 2}");
  EXPECT_EQ(flow.message, "mapping keys must be scalars");
  EXPECT_EQ(Pos(flow.mark), "1:8");
}

TEST(YamlTest, AnchorIsRefused) {
  const ParseError error = MustFail("base: &defaults\n  a: 1\n");
  EXPECT_EQ(error.message, "anchors and aliases are not supported; write the value out");
  EXPECT_EQ(Pos(error.mark), "1:7");
}

TEST(YamlTest, AliasIsRefused) {
  const ParseError error = MustFail("a: 1\nb: *defaults\n");
  EXPECT_EQ(error.message, "anchors and aliases are not supported; write the value out");
  EXPECT_EQ(Pos(error.mark), "2:4");
}

TEST(YamlTest, TagsAreRefused) {
  const ParseError standard = MustFail("a: 1\nb: !!int 3\n");
  EXPECT_EQ(standard.message, "tags are not supported");
  EXPECT_EQ(Pos(standard.mark), "2:4");
  const ParseError custom = MustFail("- !secret x\n");
  EXPECT_EQ(custom.message, "tags are not supported");
  EXPECT_EQ(Pos(custom.mark), "1:3");
  const ParseError on_collection = MustFail("a: !!str [x]\n");
  EXPECT_EQ(on_collection.message, "tags are not supported");
  EXPECT_EQ(Pos(on_collection.mark), "1:4");
}

TEST(YamlTest, SecondDocumentIsRefused) {
  const ParseError error = MustFail("a: 1\n---\nb: 2\n");
  EXPECT_EQ(error.message, "expected one YAML document, found a second at 2:1");
  EXPECT_EQ(Pos(error.mark), "2:1");
  const ParseError after_end = MustFail("---\na: 1\n...\n---\nb: 2\n");
  EXPECT_EQ(after_end.message, "expected one YAML document, found a second at 4:1");
}

TEST(YamlTest, ExplicitDocumentMarkersAreFine) {
  const Node root = MustParse("%YAML 1.1\n---\na: 1\n...\n# trailing comment\n");
  EXPECT_EQ(At(root, "a").scalar(), "1");
}

TEST(YamlTest, NestingAtTheLimitIsFine) {
  const Node root = MustParse(std::string(64, '[') + std::string(64, ']'));
  EXPECT_TRUE(root.IsSequence());
  const ParseError error = MustFail(std::string(65, '[') + std::string(65, ']'));
  EXPECT_EQ(error.message, "nesting deeper than 64 levels");
  EXPECT_EQ(Pos(error.mark), "1:65");
}

TEST(YamlTest, DeepNestingIsRefused) {
  const ParseError error = MustFail(std::string(10'000, '[') + std::string(10'000, ']'));
  EXPECT_EQ(error.message, "nesting deeper than 64 levels");
  EXPECT_EQ(Pos(error.mark), "1:65");
}

TEST(YamlTest, DeepBlockNestingIsRefused) {
  std::string text;
  for (size_t level = 0; level < 200; ++level) {
    text += std::string(2 * level, ' ') + "k:\n";
  }
  const ParseError error = MustFail(text, {.max_depth = 3});
  EXPECT_EQ(error.message, "nesting deeper than 3 levels");
  EXPECT_EQ(Pos(error.mark), "4:7");
}

TEST(YamlTest, MillionOpenBracketsAreRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const ParseError error = MustFail(std::string(1'000'000, '['));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(error.message, "nesting deeper than 64 levels");
  EXPECT_EQ(Pos(error.mark), "1:65");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(YamlTest, InvalidUtf8IsRefused) {
  const ParseError leading = MustFail("a: ok\nb: \xFF\n");
  EXPECT_EQ(leading.message, "invalid leading UTF-8 octet (0xFF)");
  EXPECT_EQ(Pos(leading.mark), "2:4");
  const ParseError trailing = MustFail("\xC3\xA9\xC3\xA9: \xC3(\n");
  EXPECT_EQ(trailing.message, "invalid trailing UTF-8 octet (0x28)");
  EXPECT_EQ(Pos(trailing.mark), "1:6");  // the '(' after the lone leading octet
  const ParseError incomplete = MustFail("a: \xE2\x82");
  EXPECT_EQ(incomplete.message, "incomplete UTF-8 octet sequence");
  EXPECT_EQ(Pos(incomplete.mark), "1:4");
}

// libyaml gives byte offsets for encoding errors and marks for all others;
// both must count lines the same way.
TEST(YamlTest, EncodingErrorMarksCountLinesAsLibyamlDoes) {
  const std::pair<std::string_view, std::string_view> kBreakPairs[] = {
      {"\r\n", "\r"}, {"\xC2\x85", "\xE2\x80\xA8"}, {"\n", "\xE2\x80\xA9"}};
  for (const auto& [first, second] : kBreakPairs) {
    const std::string prefix = fmt::format("a: 1{}b: 2{}c: ", first, second);
    EXPECT_EQ(Pos(MustFail(prefix + "@").mark), "3:4");  // reported by libyaml's scanner
    EXPECT_EQ(Pos(MustFail(prefix + "\xFF").mark), "3:4");
  }
}

TEST(YamlTest, Utf16IsRefused) {
  // "a: 1" in UTF-16LE after its byte order mark.
  const ParseError error = MustFail("\xFF\xFE" + std::string("a\0:\0 \0001\0", 8));
  EXPECT_EQ(error.message, "invalid leading UTF-8 octet (0xFF)");
  EXPECT_EQ(Pos(error.mark), "1:1");
}

TEST(YamlTest, ControlCharacterIsRefused) {
  const ParseError error = MustFail(std::string("a: b\x01", 5));
  EXPECT_EQ(error.message, "control characters are not allowed (0x01)");
  EXPECT_EQ(Pos(error.mark), "1:5");
}

TEST(YamlTest, ColumnsCountCharacters) {
  const Node root = MustParse("\xC3\xA9t\xC3\xA9: \xC3\xBC\n");
  EXPECT_EQ(Pos(At(root, "\xC3\xA9t\xC3\xA9").mark()), "1:6");
}

TEST(YamlTest, Utf8ByteOrderMarkIsSkipped) {
  const std::string bom = "\xEF\xBB\xBF";
  const Node root = MustParse(bom + "a: 1\n");
  EXPECT_EQ(At(root, "a").scalar(), "1");
}

TEST(YamlTest, EmptyDocumentIsNull) {
  for (std::string_view text : {"", "# only a comment\n\n   # and another\n", "\n\n"}) {
    const Node root = MustParse(text);
    EXPECT_TRUE(root.IsNull()) << text;
    EXPECT_EQ(Pos(root.mark()), "1:1") << text;
  }
}

TEST(YamlTest, TabIndentationErrorHasOneBasedMark) {
  const ParseError error = MustFail("a:\n\tb: 1\n");
  EXPECT_EQ(error.message,
            "found character that cannot start any token while scanning for the next token");
  EXPECT_EQ(Pos(error.mark), "2:1");
}

TEST(YamlTest, MappingValueInPlainScalarIsAnError) {
  const ParseError error = MustFail("a: b: c\n");
  EXPECT_EQ(error.message, "mapping values are not allowed in this context");
  EXPECT_EQ(Pos(error.mark), "1:5");
}

TEST(YamlTest, ParserErrorNamesWhereTheContextStarted) {
  const ParseError error = MustFail("a: [1, 2\n");
  EXPECT_EQ(error.message,
            "did not find expected ',' or ']' while parsing a flow sequence started at 1:4");
  EXPECT_EQ(Pos(error.mark), "2:1");
}

TEST(YamlTest, MaxBytes) {
  EXPECT_TRUE(MustParse("a: 12345", {.max_bytes = 8}).IsMapping());
  const ParseError small = MustFail("a: 123456", {.max_bytes = 8});
  EXPECT_EQ(small.message, "document is larger than 8 bytes");
  EXPECT_EQ(Pos(small.mark), "1:1");
  const ParseError fallback = MustFail(std::string((16u << 20) + 1, ' '));
  EXPECT_EQ(fallback.message, "document is larger than 16777216 bytes");
  EXPECT_EQ(Pos(fallback.mark), "1:1");
}

TEST(YamlTest, MaxNodesCountsKeysAndValues) {
  EXPECT_TRUE(MustParse("{a: 1}", {.max_nodes = 3}).IsMapping());
  const ParseError error = MustFail("{a: 1, b: 2}", {.max_nodes = 3});
  EXPECT_EQ(error.message, "document has more than 3 nodes");
  EXPECT_EQ(Pos(error.mark), "1:8");
}

}  // namespace
}  // namespace interlock::yaml
