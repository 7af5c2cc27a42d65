#include "scan/pii.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/hmac.h"

namespace interlock::scan {
namespace {

PiiScanner MakeScanner(RedactMode mode = RedactMode::kNone, Confidence min = Confidence::kMedium) {
  PiiOptions options;
  options.redact = mode;
  options.min_confidence = min;
  options.hash_key = "0123456789abcdef-test-key";
  auto scanner = PiiScanner::Create(options);
  EXPECT_TRUE(scanner.has_value());
  return *scanner;
}

std::string Describe(const std::vector<PiiFinding>& findings, std::string_view text) {
  std::string out;
  for (const PiiFinding& f : findings) {
    out += std::string(PiiTypeName(f.type)) + ":" + std::string(ConfidenceName(f.confidence)) +
           ":" + std::string(text.substr(f.start, f.end - f.start)) + ";";
  }
  return out;
}

TEST(PiiScanTest, FindsEachTypeInALogLine) {
  std::string text =
      "2026-12-07T14:06:33.123Z INFO user=john.doe@example.com ip=203.0.113.7 "
      "card 4111 1111 1111 1111 ssn 123-45-6789 tel +44 20 7946 0958 "
      "iban DE89 3704 0044 0532 0130 00 from 2001:db8::8a2e:370:7334\n";
  auto findings = MakeScanner().Scan(text);
  EXPECT_EQ(Describe(findings, text),
            "email:medium:john.doe@example.com;ipv4:high:203.0.113.7;"
            "card:high:4111 1111 1111 1111;us_ssn:high:123-45-6789;"
            "phone:high:+44 20 7946 0958;iban:high:DE89 3704 0044 0532 0130 00;"
            "ipv6:high:2001:db8::8a2e:370:7334;");
}

std::string Redact(RedactMode mode, std::string_view text) {
  return MakeScanner(mode).Redact(text);
}

// The input has CRLF and LF line ends, invalid UTF-8 (a lone continuation
// byte, a truncated sequence), a NUL, and no final newline.
// A string literal with its NUL bytes.
template <size_t N>
std::string Bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

const std::string kMixed = Bytes(
    "mail john.doe@example.com from 203.0.113.7\r\n"
    "\xff\xfe\x80 card 4111 1111 1111 1111 \xe2\x82\n"
    "ssn 123-45-6789\0 iban DE89 3704 0044 0532 0130 00\n"
    "tel +1 415 555 2671 ip 2001:db8:85a3::8a2e:370:7334");

TEST(PiiRedactTest, FullReplacesEachValueByItsTypeAndKeepsEveryOtherByte) {
  EXPECT_EQ(Redact(RedactMode::kFull, kMixed),
            Bytes("mail [REDACTED:EMAIL] from [REDACTED:IPV4]\r\n"
                  "\xff\xfe\x80 card [REDACTED:CARD] \xe2\x82\n"
                  "ssn [REDACTED:SSN]\0 iban [REDACTED:IBAN]\n"
                  "tel [REDACTED:PHONE] ip [REDACTED:IPV6]"));
}

TEST(PiiRedactTest, PartialKeepsALittleOfEachValue) {
  EXPECT_EQ(Redact(RedactMode::kPartial, kMixed),
            Bytes("mail j***@example.com from 203.0.*.*\r\n"
                  "\xff\xfe\x80 card **** **** **** 1111 \xe2\x82\n"
                  "ssn ***-**-6789\0 iban DE** **** **** **** **30 00\n"
                  "tel +* *** *** **71 ip 2001:db8:*"));
}

std::string Token(std::string_view label, std::string_view normalised) {
  std::string key = "0123456789abcdef-test-key";
  auto mac =
      HmacSha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
                 std::string(label) + ":" + std::string(normalised));
  std::string hex;
  for (int k = 0; k < 6; ++k) hex += fmt::format("{:02x}", mac[k]);
  return "[" + std::string(label) + ":" + hex + "]";
}

TEST(PiiRedactTest, HashIsAKeyedTokenOfTheNormalisedValue) {
  EXPECT_EQ(Redact(RedactMode::kHash, "to John.Doe@Example.com\n"),
            "to " + Token("EMAIL", "john.doe@example.com") + "\n");
  // Two spellings of one card share a token, so joins on it still work.
  std::string a = Redact(RedactMode::kHash, "card 4111 1111 1111 1111");
  std::string b = Redact(RedactMode::kHash, "card 4111-1111-1111-1111");
  std::string c = Redact(RedactMode::kHash, "card 4111111111111111");
  EXPECT_EQ(a, "card " + Token("CARD", "4111111111111111"));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_NE(a, Redact(RedactMode::kHash, "card 5555555555554444"));
  EXPECT_EQ(Redact(RedactMode::kHash, "ip 2001:db8::1"),
            "ip " + Token("IPV6", "20010db8000000000000000000000001"));
}

TEST(PiiRedactTest, HashTokensStayTheSameBeyondTheCache) {
  // More distinct values than the stream caches tokens for, then the first
  // ones again: each still gets the token of its value.
  std::string text;
  for (int k = 0; k < 5000; ++k) text += fmt::format("ip 10.{}.{}.1\n", k / 200, k % 200);
  text += "ip 10.0.0.1\nip 10.0.1.1\n";
  std::string out = Redact(RedactMode::kHash, text);
  EXPECT_TRUE(out.starts_with("ip " + Token("IPV4", "10.0.0.1") + "\nip " +
                              Token("IPV4", "10.0.1.1") + "\n"));
  EXPECT_TRUE(out.ends_with("ip " + Token("IPV4", "10.0.0.1") + "\nip " +
                            Token("IPV4", "10.0.1.1") + "\n"));
}

TEST(PiiRedactTest, HashNeedsAKeyOfSixteenBytes) {
  PiiOptions options;
  options.redact = RedactMode::kHash;
  auto none = PiiScanner::Create(options);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().message(),
            "hash redaction needs a key: give --key-file or set INTERLOCK_SCAN_KEY");
  options.hash_key = "short";
  auto short_key = PiiScanner::Create(options);
  ASSERT_FALSE(short_key.has_value());
  EXPECT_EQ(short_key.error().message(),
            "the hash redaction key is 5 bytes; it must have at least 16");
}

TEST(PiiRedactTest, JsonLinesStayValidJson) {
  std::string line =
      R"({"user":"john.doe@example.com","msg":"card \"4111111111111111\" from 10.1.2.3",)"
      R"("ssn":"123-45-6789","esc":"\u0040 \ttel +442079460958"})"
      "\n";
  for (RedactMode mode : {RedactMode::kFull, RedactMode::kPartial, RedactMode::kHash}) {
    std::string out = Redact(mode, line);
    EXPECT_TRUE(nlohmann::json::accept(out)) << out;
    EXPECT_EQ(out.find("john.doe"), std::string::npos) << out;
    EXPECT_EQ(out.find("4111111111111111"), std::string::npos) << out;
    EXPECT_EQ(out.find("123-45-6789"), std::string::npos) << out;
    EXPECT_EQ(out.find("2079460958"), std::string::npos) << out;
  }
  EXPECT_EQ(Redact(RedactMode::kFull, line),
            R"({"user":"[REDACTED:EMAIL]","msg":"card \"[REDACTED:CARD]\" from [REDACTED:IPV4]",)"
            R"("ssn":"[REDACTED:SSN]","esc":"\u0040 \ttel [REDACTED:PHONE]"})"
            "\n");
}

TEST(PiiScanTest, ReportsLineAndColumnInBytes) {
  std::string text = "first line\r\n\xc3\xa9t\xc3\xa9 a@example.com\nthird 8.8.8.8";
  auto findings = MakeScanner().Scan(text);
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].line, 2u);
  EXPECT_EQ(findings[0].column, 7u);
  EXPECT_EQ(findings[0].start, 18u);
  EXPECT_EQ(findings[0].end, 31u);
  EXPECT_EQ(findings[1].line, 3u);
  EXPECT_EQ(findings[1].column, 7u);
}

TEST(PiiScanTest, ContextWordsRaiseConfidenceOnlyAsWholeWords) {
  auto all = MakeScanner(RedactMode::kNone, Confidence::kLow);
  auto confidence_of = [&](std::string text) {
    auto findings = all.Scan(text);
    return findings.size() == 1 ? std::string(ConfidenceName(findings[0].confidence))
                                : fmt::format("{} findings", findings.size());
  };
  EXPECT_EQ(confidence_of("id 123-45-6789"), "medium");
  EXPECT_EQ(confidence_of("ssn 123-45-6789"), "high");
  EXPECT_EQ(confidence_of("userSsn=123-45-6789"), "high");
  EXPECT_EQ(confidence_of("user_ssn=123-45-6789"), "high");
  EXPECT_EQ(confidence_of("lic 123-45-6789"), "high");
  EXPECT_EQ(confidence_of("public 123-45-6789"), "medium");
  EXPECT_EQ(confidence_of("123-45-6789 (social security)"), "high");
  EXPECT_EQ(confidence_of("hotel 415 555 2671"), "low");
  EXPECT_EQ(confidence_of("tel 415 555 2671"), "medium");
  EXPECT_EQ(confidence_of("zip 8.8.8.8"), "medium");
  EXPECT_EQ(confidence_of("ip 8.8.8.8"), "high");
  // A bare nine-digit number is never an SSN, with or without context.
  EXPECT_EQ(confidence_of("ssn 123456789"), "0 findings");
}

TEST(PiiScanTest, HostileInputsGiveNoFindingsAndNoCrash) {
  auto scanner = MakeScanner(RedactMode::kFull, Confidence::kLow);
  EXPECT_TRUE(scanner.Scan("").empty());
  EXPECT_EQ(scanner.Redact(""), "");
  std::string binary;
  for (int k = 0; k < 4096; ++k) binary.push_back(static_cast<char>((k * 7919) % 256));
  EXPECT_EQ(scanner.Redact(binary), scanner.Redact(binary));
  std::string symbols(10000, '@');
  EXPECT_EQ(scanner.Redact(symbols), symbols);
  std::string digits(100000, '4');
  EXPECT_EQ(scanner.Redact(digits), digits);
  std::string colons(10000, ':');
  EXPECT_EQ(scanner.Redact(colons), colons);
  std::string plus = "+" + std::string(5000, '1');
  EXPECT_EQ(scanner.Redact(plus), plus);
  std::string ats;
  for (int k = 0; k < 2000; ++k) ats += "a@b.";
  EXPECT_EQ(scanner.Redact(ats), ats);
}

}  // namespace
}  // namespace interlock::scan
