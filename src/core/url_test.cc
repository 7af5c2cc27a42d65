#include "core/url.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace interlock {
namespace {

Url MustParse(std::string_view text) {
  auto url = ParseUrl(text);
  EXPECT_TRUE(url.has_value()) << text << ": " << url.error().message();
  return url.value_or(Url{});
}

TEST(UrlTest, SplitsEveryPart) {
  Url url = MustParse("HTTPS://me@Example.com:8443/a/b?x=1&y#top");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.userinfo, "me");
  EXPECT_EQ(url.host, "Example.com");
  EXPECT_FALSE(url.ipv6);
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.authority, "me@Example.com:8443");
  EXPECT_EQ(url.path, "/a/b");
  EXPECT_EQ(url.query, "x=1&y");
  EXPECT_EQ(url.fragment, "top");
  EXPECT_EQ(url.HostForm(), "Example.com");
}

TEST(UrlTest, AbsentPartsAreEmptyOrNullopt) {
  Url url = MustParse("smtp://mail.example.com");
  EXPECT_EQ(url.scheme, "smtp");
  EXPECT_EQ(url.userinfo, std::nullopt);
  EXPECT_EQ(url.host, "mail.example.com");
  EXPECT_EQ(url.port, std::nullopt);
  EXPECT_EQ(url.path, "");
  EXPECT_EQ(url.query, std::nullopt);
  EXPECT_EQ(url.fragment, std::nullopt);

  Url empty_query = MustParse("http://h?");
  EXPECT_EQ(empty_query.query, "");
  EXPECT_EQ(empty_query.path, "");
}

TEST(UrlTest, Ipv6HostIsKeptWithoutBrackets) {
  Url url = MustParse("http://[::1]:8080/hook");
  EXPECT_TRUE(url.ipv6);
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.HostForm(), "[::1]");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.path, "/hook");
}

TEST(UrlTest, TheHostIsAfterTheLastAt) {
  Url url = MustParse("http://127.0.0.1:80@evil.example/");
  EXPECT_EQ(url.userinfo, "127.0.0.1:80");
  EXPECT_EQ(url.host, "evil.example");
  EXPECT_EQ(url.port, std::nullopt);
}

TEST(UrlTest, TheAuthorityEndsAtAQueryOrFragment) {
  Url url = MustParse("http://127.0.0.1?@evil.example/");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.userinfo, std::nullopt);
  EXPECT_EQ(url.query, "@evil.example/");
}

TEST(UrlTest, MalformedUrlsAreRefusedSayingWhatAndWhere) {
  for (auto [text, message] : {
           std::pair{"example.com", "expected scheme://host"},
           std::pair{"://example.com",
                     "scheme \"\": expected a letter, then letters, digits, "
                     "\"+\", \"-\" or \".\""},
           std::pair{"1http://example.com",
                     "scheme \"1http\": expected a letter, then letters, "
                     "digits, \"+\", \"-\" or \".\""},
           std::pair{"http://exa mple.com",
                     "spaces, control and non-ASCII characters are not allowed"},
           std::pair{"http://b\xc3\xa9.example",
                     "spaces, control and non-ASCII characters are not allowed"},
           std::pair{"http://", "no host"},
           std::pair{"http://:80/", "no host"},
           std::pair{"http://me@/", "no host"},
           std::pair{"http://[]/", "not an IPv6 address in the brackets"},
           std::pair{"http://[::1/", "an IPv6 address needs its closing ]"},
           std::pair{"http://[::g]/", "not an IPv6 address in the brackets"},
           std::pair{"http://[::1]x/", "expected :port after ]"},
           std::pair{"http://::1:8080/", "an IPv6 address goes in brackets: [::1]:8080"},
           std::pair{"http://a%2eb/",
                     "host \"a%2eb\": expected a name, an IPv4 address or [an IPv6 address]"},
           std::pair{"http://a\\b/",
                     "host \"a\\b\": expected a name, an IPv4 address or [an IPv6 address]"},
           std::pair{"http://h:/", "port \"\": expected 1 to 65535"},
           std::pair{"http://h:0/", "port \"0\": expected 1 to 65535"},
           std::pair{"http://h:65536/", "port \"65536\": expected 1 to 65535"},
           std::pair{"http://h:+80/", "port \"+80\": expected 1 to 65535"},
           std::pair{"http://h:8o/", "port \"8o\": expected 1 to 65535"},
       }) {
    SCOPED_TRACE(text);
    auto url = ParseUrl(text);
    ASSERT_FALSE(url.has_value());
    EXPECT_EQ(url.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(url.error().message(), message);
  }
}

TEST(UrlTest, LoopbackHostsAreLocalhost127Slash8AndIpv6One) {
  for (const char* text :
       {"http://127.0.0.1:9/hook", "http://127.255.1.0/", "http://localhost/",
        "http://LocalHost:80/", "http://[::1]:8080/", "http://[0:0:0:0:0:0:0:1]/"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(MustParse(text).IsLoopbackHost());
  }
  for (const char* text :
       {"http://127.0.0.1.evil.example/", "http://localhost.evil/", "http://evil.localhost/",
        "http://128.0.0.1/", "http://127.1/", "http://0177.0.0.1/", "http://127.0.0.01/",
        "http://127.0.0.256/", "http://127.0.0.1./", "http://[::2]/", "http://[::ffff:127.0.0.1]/",
        "http://2130706433/", "http://0x7f.0.0.1/"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(MustParse(text).IsLoopbackHost());
  }
}

}  // namespace
}  // namespace interlock
