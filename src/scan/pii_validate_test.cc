#include "scan/pii_validate.h"

#include <gtest/gtest.h>

namespace interlock::scan::pii {
namespace {

TEST(PiiValidateTest, LuhnAcceptsTestCardsAndRejectsOneDigitOff) {
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("378282246310005"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid(""));
}

TEST(PiiValidateTest, CardIssuerNeedsItsPrefixAndLength) {
  EXPECT_EQ(CardIssuerOf("4111111111111111"), CardIssuer::kVisa);
  EXPECT_EQ(CardIssuerOf("4222222222222"), CardIssuer::kVisa);
  EXPECT_EQ(CardIssuerOf("41111111111111111"), std::nullopt);  // 17 digits
  EXPECT_EQ(CardIssuerOf("5555555555554444"), CardIssuer::kMastercard);
  EXPECT_EQ(CardIssuerOf("2221000000000009"), CardIssuer::kMastercard);
  EXPECT_EQ(CardIssuerOf("2720990000000007"), CardIssuer::kMastercard);
  EXPECT_EQ(CardIssuerOf("2220990000000007"), std::nullopt);
  EXPECT_EQ(CardIssuerOf("2721000000000000"), std::nullopt);
  EXPECT_EQ(CardIssuerOf("5655555555554444"), std::nullopt);
  EXPECT_EQ(CardIssuerOf("378282246310005"), CardIssuer::kAmex);
  EXPECT_EQ(CardIssuerOf("3782822463100050"), std::nullopt);
  EXPECT_EQ(CardIssuerOf("6011111111111117"), CardIssuer::kDiscover);
  EXPECT_EQ(CardIssuerOf("6441111111111111"), CardIssuer::kDiscover);
  EXPECT_EQ(CardIssuerOf("6431111111111111"), std::nullopt);
  EXPECT_EQ(CardIssuerOf("6511111111111111"), CardIssuer::kDiscover);
  EXPECT_EQ(CardIssuerOf("3528000000000000"), CardIssuer::kJcb);
  EXPECT_EQ(CardIssuerOf("3589000000000000"), CardIssuer::kJcb);
  EXPECT_EQ(CardIssuerOf("3590000000000000"), std::nullopt);
  EXPECT_EQ(CardIssuerOf("30569309025904"), CardIssuer::kDiners);
  EXPECT_EQ(CardIssuerOf("30669309025904"), std::nullopt);
  EXPECT_EQ(CardIssuerOf("36000000000000"), CardIssuer::kDiners);
  EXPECT_EQ(CardIssuerOf("6200000000000005"), CardIssuer::kUnionPay);
  EXPECT_EQ(CardIssuerOf("1234567890123456"), std::nullopt);
  EXPECT_EQ(CardIssuerOf("411111111111"), std::nullopt);  // 12 digits
}

TEST(PiiValidateTest, IbanNeedsItsCountrysLengthAndMod97) {
  EXPECT_TRUE(IbanValid("DE89370400440532013000"));
  EXPECT_TRUE(IbanValid("GB29NWBK60161331926819"));
  EXPECT_TRUE(IbanValid("NO9386011117947"));
  EXPECT_TRUE(IbanValid("FR1420041010050500013M02606"));
  EXPECT_FALSE(IbanValid("DE89370400440532013001"));   // checksum
  EXPECT_FALSE(IbanValid("DE8937040044053201300"));    // 21 characters
  EXPECT_FALSE(IbanValid("DE893704004405320130000"));  // 23
  EXPECT_FALSE(IbanValid("US89370400440532013000"));   // no IBANs
  EXPECT_FALSE(IbanValid("de89370400440532013000"));
  EXPECT_FALSE(IbanValid("DE89 3704 0044 0532 0130 00"));  // printed form: compact it first
  EXPECT_EQ(IbanLength('D', 'E'), 22);
  EXPECT_EQ(IbanLength('N', 'O'), 15);
  EXPECT_EQ(IbanLength('R', 'U'), 33);
  EXPECT_EQ(IbanLength('Z', 'Z'), 0);
  EXPECT_EQ(IbanLength('d', 'e'), 0);
}

TEST(PiiValidateTest, SsnRejectsTheNeverIssuedRanges) {
  EXPECT_TRUE(SsnValid(123, 45, 6789));
  EXPECT_TRUE(SsnValid(665, 1, 1));
  EXPECT_TRUE(SsnValid(899, 99, 9999));
  EXPECT_FALSE(SsnValid(0, 45, 6789));
  EXPECT_FALSE(SsnValid(666, 45, 6789));
  EXPECT_FALSE(SsnValid(900, 45, 6789));
  EXPECT_FALSE(SsnValid(999, 45, 6789));
  EXPECT_FALSE(SsnValid(123, 0, 6789));
  EXPECT_FALSE(SsnValid(123, 45, 0));
}

TEST(PiiValidateTest, Ipv4NeedsFourOctetsWithoutLeadingZeros) {
  std::array<uint8_t, 4> octets;
  EXPECT_EQ(ParseIpv4("192.168.1.20 x", &octets), 12u);
  EXPECT_EQ(octets, (std::array<uint8_t, 4>{192, 168, 1, 20}));
  EXPECT_EQ(ParseIpv4("255.255.255.255", nullptr), 15u);
  EXPECT_EQ(ParseIpv4("256.1.1.1", nullptr), 0u);
  EXPECT_EQ(ParseIpv4("1.2.3", nullptr), 0u);
  EXPECT_EQ(ParseIpv4("01.2.3.4", nullptr), 0u);
  EXPECT_EQ(ParseIpv4("1.2.3.1234", nullptr), 0u);
  EXPECT_EQ(ParseIpv4("", nullptr), 0u);
}

TEST(PiiValidateTest, Ipv6ReadsEveryTextForm) {
  int groups = 0;
  std::array<uint8_t, 16> bytes;
  EXPECT_EQ(ParseIpv6("2001:db8::1", &groups, &bytes), 11u);
  EXPECT_EQ(groups, 3);
  EXPECT_EQ(bytes[0], 0x20);
  EXPECT_EQ(bytes[1], 0x01);
  EXPECT_EQ(bytes[15], 0x01);
  EXPECT_EQ(ParseIpv6("2001:0db8:85a3:0000:0000:8a2e:0370:7334", &groups, nullptr), 39u);
  EXPECT_EQ(groups, 8);
  EXPECT_EQ(ParseIpv6("::ffff:192.0.2.128", &groups, &bytes), 18u);
  EXPECT_EQ(groups, 3);
  EXPECT_EQ(bytes[12], 192);
  EXPECT_EQ(ParseIpv6("::1", &groups, nullptr), 3u);
  EXPECT_EQ(groups, 1);
  EXPECT_EQ(ParseIpv6("fe80::", &groups, nullptr), 6u);
  EXPECT_EQ(ParseIpv6("1:2:3:4:5:6:7:8", &groups, nullptr), 15u);
  // Not addresses: too few groups without "::", two "::", a 5-digit group.
  EXPECT_EQ(ParseIpv6("12:34:56", nullptr, nullptr), 0u);
  EXPECT_EQ(ParseIpv6("00:1a:2b:3c:4d:5e", nullptr, nullptr), 0u);
  EXPECT_EQ(ParseIpv6("12345::1", nullptr, nullptr), 0u);
  // The longest address that is a prefix.
  EXPECT_EQ(ParseIpv6("1::2::3", nullptr, nullptr), 4u);
  EXPECT_EQ(ParseIpv6("1:2:3:4:5:6:7:8:9", nullptr, nullptr), 15u);
}

}  // namespace
}  // namespace interlock::scan::pii
