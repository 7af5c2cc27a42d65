#include "scan/pii.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

}  // namespace
}  // namespace interlock::scan
