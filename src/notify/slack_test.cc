#include "notify/slack.h"

#include <gtest/gtest.h>

namespace interlock::notify {
namespace {

TEST(SlackTest, EscapeReplacesAmpersandAndAngleBracketsOnly) {
  EXPECT_EQ(SlackEscape(""), "");
  EXPECT_EQ(SlackEscape("plain *bold* _it_ \"q\" 'a' é"), "plain *bold* _it_ \"q\" 'a' é");
  EXPECT_EQ(SlackEscape("a & b < c > d"), "a &amp; b &lt; c &gt; d");
  EXPECT_EQ(SlackEscape("<!channel> <!here|x> <@U999>"),
            "&lt;!channel&gt; &lt;!here|x&gt; &lt;@U999&gt;");
  EXPECT_EQ(SlackEscape("<https://evil.example|docs>"), "&lt;https://evil.example|docs&gt;");
}

TEST(SlackTest, EscapeEscapesAnEntityAgainSoThatItShowsAsWritten) {
  EXPECT_EQ(SlackEscape("&lt;!channel&gt;"), "&amp;lt;!channel&amp;gt;");
}

TEST(SlackTest, MentionIsMarkup) { EXPECT_EQ(SlackMention("U123"), "<@U123>"); }

}  // namespace
}  // namespace interlock::notify
