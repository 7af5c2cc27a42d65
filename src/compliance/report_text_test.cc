#include "compliance/report_text.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "core/text.h"

namespace interlock::compliance {
namespace {

struct EscapeCase {
  const char* name;
  std::string in;
  std::string xml;
  std::string markdown;
  std::string csv;
};

class EscapeTest : public ::testing::TestWithParam<EscapeCase> {};

TEST_P(EscapeTest, EachFormat) {
  const EscapeCase& c = GetParam();
  EXPECT_EQ(XmlEscape(c.in), c.xml);
  EXPECT_EQ(MarkdownCell(c.in), c.markdown);
  EXPECT_EQ(CsvField(c.in), c.csv);
  for (const std::string& out : {XmlEscape(c.in), MarkdownCell(c.in), CsvField(c.in)}) {
    EXPECT_EQ(FindInvalidUtf8(out), std::string_view::npos) << out;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, EscapeTest,
    ::testing::Values(
        EscapeCase{"Plain", "audit verified", "audit verified", "audit verified", "audit verified"},
        EscapeCase{"Markup", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;",
                   "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"},
        EscapeCase{"Quotes", "a \"b\" 'c'", "a &quot;b&quot; &#39;c&#39;", "a \"b\" 'c'",
                   "\"a \"\"b\"\" 'c'\""},
        EscapeCase{"Ampersand", "R&D", "R&amp;D", "R&amp;D", "R&D"},
        EscapeCase{"Newlines", "one\ntwo\r\n", "one&#10;two&#13;&#10;", "one two  ",
                   "\"one\ntwo\r\n\""},
        EscapeCase{"Pipes", "a|b", "a|b", "a\\|b", "a|b"},
        EscapeCase{"MarkdownSyntax", "*x* _y_ [l](u) `c` #h \\", "*x* _y_ [l](u) `c` #h \\",
                   "\\*x\\* \\_y\\_ \\[l\\](u) \\`c\\` \\#h \\\\", "*x* _y_ [l](u) `c` #h \\"},
        EscapeCase{"FormulaEquals", "=HYPERLINK(\"x\")", "=HYPERLINK(&quot;x&quot;)",
                   "=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""},
        EscapeCase{"FormulaPlus", "+1", "+1", "+1", "\"'+1\""},
        EscapeCase{"FormulaMinus", "-1", "-1", "-1", "\"'-1\""},
        EscapeCase{"FormulaAt", "@SUM(A1)", "@SUM(A1)", "@SUM(A1)", "\"'@SUM(A1)\""},
        EscapeCase{"FormulaTab", "\t=1", "&#9;=1", " =1", "\"'\t=1\""},
        EscapeCase{"Comma", "a,b", "a,b", "a,b", "\"a,b\""},
        EscapeCase{"ControlCharacter",
                   std::string("a\x01"
                               "b"),
                   "a\xEF\xBF\xBD"
                   "b",
                   "a b",
                   std::string("a\x01"
                               "b")},
        EscapeCase{"InvalidUtf8", "caf\xE9 \xFF", "caf\xEF\xBF\xBD \xEF\xBF\xBD",
                   "caf\xEF\xBF\xBD \xEF\xBF\xBD", "caf\xEF\xBF\xBD \xEF\xBF\xBD"},
        EscapeCase{"ValidUtf8Kept", "Zoë ✓", "Zoë ✓", "Zoë ✓", "Zoë ✓"},
        EscapeCase{"Empty", "", "", "", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ValidUtf8Test, ReplacesEachInvalidByte) {
  EXPECT_EQ(ValidUtf8("ok"), "ok");
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(ValidUtf8("a\xED\xA0\x80z"),                         // a surrogate
            "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
  EXPECT_EQ(ValidUtf8(std::string_view("\0x", 2)), std::string("\0x", 2));
}

TEST(NameBasedUuidTest, DeterministicVersionFiveRfc4122Variant) {
  const RE2 shape("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (std::string_view name : {"", "a", "control|encryption-at-rest", "\xFF\xFE"}) {
    const std::string uuid = NameBasedUuid(name);
    EXPECT_TRUE(RE2::FullMatch(uuid, shape)) << uuid;
    EXPECT_EQ(uuid, NameBasedUuid(name));
  }
  EXPECT_NE(NameBasedUuid("a"), NameBasedUuid("b"));
}

}  // namespace
}  // namespace interlock::compliance
