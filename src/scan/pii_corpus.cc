// The PII corpus (see corpus.h) and its scoring.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "scan/corpus.h"
#include "scan/pii.h"
#include "scan/pii_validate.h"

namespace interlock::scan {
namespace {

struct Labelled {
  PiiType type;
  std::string value;
};

struct Line {
  std::string text;
  std::vector<Labelled> pii;
};

// `digits` (spaces allowed) completed with its Luhn check digit.
std::string WithLuhn(std::string digits) {
  for (char d = '0'; d <= '9'; ++d) {
    std::string candidate = digits + d;
    std::string bare;
    for (char c : candidate) {
      if (c != ' ') bare += c;
    }
    if (pii::LuhnValid(bare)) return candidate;
  }
  return digits;
}

// The same number with its last digit changed, so Luhn fails.
std::string BreakLuhn(std::string number) {
  number.back() = number.back() == '9' ? '0' : static_cast<char>(number.back() + 1);
  return number;
}

std::vector<Line> Corpus() {
  using enum PiiType;
  std::vector<Line> lines;
  auto add = [&](std::string text, std::vector<Labelled> pii) {
    lines.push_back({std::move(text), std::move(pii)});
  };
  // Cards: test numbers of each issuer, bare and grouped.
  const std::vector<std::string> cards = {
      "4111111111111111",
      "4012888888881881",
      "4222222222222",
      "4111 1111 1111 1111",
      "5555555555554444",
      "5105-1051-0510-5100",
      "2223003122003222",
      WithLuhn("272099999999999"),
      "378282246310005",
      "3714 496353 98431",
      "6011111111111117",
      "6011 0009 9013 9424",
      WithLuhn("654321987654321"),
      WithLuhn("644111122223333"),
      WithLuhn("6491234567890123"),
      "3530111333300000",
      "3566002020360505",
      WithLuhn("358912345678901"),
      "30569309025904",
      "38520000023237",
      WithLuhn("3612345678901"),
      "6200000000000005",
      WithLuhn("621234567890123456"),
      WithLuhn("4000 1234 5678 901"),
  };
  for (const std::string& card : cards) {
    add("2026-12-07T10:00:01Z payment accepted card=" + card + " amount=12.50 EUR",
        {{kCard, card}});
  }
  add(R"({"ts":"2026-12-07T10:00:02Z","pan":"4242424242424242","status":"ok"})",
      {{kCard, "4242424242424242"}});
  add("charge failed for 5425 2334 3010 9903 code=51", {{kCard, "5425 2334 3010 9903"}});
  // IBANs from several countries, compact and printed.
  const std::vector<std::string> ibans = {
      "DE89370400440532013000",       "DE89 3704 0044 0532 0130 00",
      "GB29NWBK60161331926819",       "GB29 NWBK 6016 1331 9268 19",
      "FR1420041010050500013M02606",  "ES9121000418450200051332",
      "NL91ABNA0417164300",           "BE68539007547034",
      "CH9300762011623852957",        "IT60X0542811101000000123456",
      "AT611904300234573201",         "NO9386011117947",
      "PL61109010140000071219812874", "SE4550000000058398257466",
  };
  for (const std::string& iban : ibans) {
    add("transfer queued to " + iban + " ref=INV-2026-0042", {{kIban, iban}});
  }
  add(R"({"iban":"DE89370400440532013000"})", {{kIban, "DE89370400440532013000"}});
  // SSNs.
  for (std::string ssn : {"078-05-1120", "219-09-9999", "457-55-5462", "536-22-1234", "123-45-6789",
                          "665-12-3456", "899-99-0001"}) {
    add("applicant ssn: " + ssn + " verified", {{kUsSsn, ssn}});
  }
  add("record 536-22-1234 updated", {{kUsSsn, "536-22-1234"}});
  add(R"({"social_security":"219-09-9999"})", {{kUsSsn, "219-09-9999"}});
  add("lic 457 55 5462", {{kUsSsn, "457 55 5462"}});
  // E-mail addresses.
  for (std::string email : {"john.doe@example.com", "j.smith+newsletter@mail.example.co.uk",
                            "ALICE@EXAMPLE.ORG", "bob_99@sub.domain.example.net", "x@example.io"}) {
    add("login ok user=" + email + " session=abc123", {{kEmail, email}});
  }
  add(R"({"user":"mary-ann@example.com","msg":"hi \"there\""})",
      {{kEmail, "mary-ann@example.com"}});
  add(R"({"msg":"contact\nsupport@example.com now"})", {{kEmail, "support@example.com"}});
  add("<john@example.com>, \"Jane\" <jane.roe@example.org>",
      {{kEmail, "john@example.com"}, {kEmail, "jane.roe@example.org"}});
  // Phone numbers.
  for (std::string phone :
       {"+1 415 555 2671", "+442079460958", "+49 30 901820", "+33 6 12 34 56 78",
        "+44 (0)20 7946 0958", "+1 (415) 555-2671", "+81-3-1234-5678"}) {
    add("sms sent to " + phone + " status=delivered", {{kPhone, phone}});
  }
  for (std::string phone : {"(415) 555-2671", "415-555-2671", "415.555.2671", "1-800-555-0199"}) {
    add("callback requested " + phone, {{kPhone, phone}});
  }
  add("phone: 020 7946 0958", {{kPhone, "020 7946 0958"}});
  add("tel 06 12 34 56 78", {{kPhone, "06 12 34 56 78"}});
  add("mobile 0151-12345678", {{kPhone, "0151-12345678"}});
  // IPv4 and IPv6 addresses.
  for (std::string ip : {"192.168.1.20", "8.8.8.8", "203.0.113.195", "10.0.0.1", "172.16.254.1"}) {
    add("GET /api/v1/users 200 client=" + ip + " 12ms", {{kIpv4, ip}});
  }
  add("connect to 10.0.0.1:8080 failed", {{kIpv4, "10.0.0.1"}});
  add("route 203.0.113.0/24 added", {{kIpv4, "203.0.113.0"}});
  add("[2001:db8::1]:443 accepted", {{kIpv6, "2001:db8::1"}});
  for (std::string ip : {"2001:0db8:85a3:0000:0000:8a2e:0370:7334", "fe80::1ff:fe23:4567:890a",
                         "2001:db8:85a3::8a2e:370:7334", "::ffff:192.0.2.128"}) {
    add("remote_addr=" + ip + " method=POST", {{kIpv6, ip}});
  }

  // Look-alikes that hold no PII.
  for (std::string clean : {
           "2026-12-07T14:06:33.123Z INFO server started in 1234ms",
           "2026/12/07 14:06:33,123 [main] DEBUG pool size=16",
           "Dec  7 14:06:33 host sshd[12345]: Accepted publickey",
           "epoch=1733580393123 took 0.00123s retries=3",
           "upgraded libfoo from 1.2.3 to 1.2.4 (build 20261207)",
           "version 10.0.19041.1 detected",
           "release 2.4.1.0 is out",
           "v1.2.3.4 tagged",
           "request_id=550e8400-e29b-41d4-a716-446655440000",
           "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
           "commit 4f2a9c1d8e7b6a5c4f3e2d1c0b9a8f7e6d5c4b3a",
           "order 1234567812345678 shipped",
           "order id 20261207000123 created",
           "invoice INV-2026-000123 paid",
           "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "mac 00:1a:2b:3c:4d:5e link up",
           "std::vector<int>::iterator it = v.begin();",
           "icon@2x.png loaded",
           "npm install left-pad@1.3.0",
           "ssh deploy@localhost",
           "tz offset +0100 and +05:30",
           "HTTP/1.1 200 1534 \"-\" \"curl/8.4.0\"",
           "date 07/12/2026 and 2026-12-07",
           "total 1,234,567,890 bytes",
           "ISBN 978-3-16-148410-0",
           "pid=12345 tid=67890 fd=7",
           "bytes=123456789 id 987654321",
           "public 457 55 5462",
           "zip 90210 hotel 415 555 2671",
           "1.2.3.4.5 is an OID",
           "scores 3.14 2.71 1.41",
           "matrix 12:34:56:78 cells",
           "a::b and c::d::e",
           "port 8080 timeout 30000 ms",
           "elapsed 00:01:23.456",
           "uuid 123e4567-e89b-12d3-a456-426614174000",
           "build 2026.12.07.1",
           "memory 4096 MB of 16384 MB",
       }) {
    add(clean, {});
  }
  // An access log line: the client's address, and versions in the
  // User-Agent that look like addresses.
  add(R"(10.1.2.3 - - [07/Dec/2026:14:06:33 +0000] "GET / HTTP/1.1" 200 512 "-" )"
      R"("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36")",
      {{kIpv4, "10.1.2.3"}});
  for (const std::string& bad_card :
       {BreakLuhn("4111111111111111"), BreakLuhn("5555555555554444"), BreakLuhn("378282246310005"),
        BreakLuhn("6011111111111117"), std::string("1234 5678 9012 3456"),
        std::string("9111111111111111"), BreakLuhn("4111 1111 1111 1111")}) {
    add("card=" + bad_card + " declined", {});
  }
  // A 17-digit Visa (right Luhn, wrong length for the issuer).
  add("card=" + WithLuhn("4111111111111111") + " declined", {});
  for (std::string bad_iban :
       {"DE89370400440532013001", "DE8937040044053201300", "GB29NWBK6016133192681",
        "XX89370400440532013000", "GB29 NWBK 6016 1331 9268 18"}) {
    add("transfer to " + bad_iban + " refused", {});
  }
  for (std::string bad_ssn :
       {"000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000", "999-99-9999"}) {
    add("ssn " + bad_ssn + " rejected", {});
  }
  return lines;
}

}  // namespace

Result<CorpusScore> ScorePiiCorpus() {
  auto scanner = PiiScanner::Create(PiiOptions{});
  if (!scanner) return std::unexpected(scanner.error());
  CorpusScore score;
  for (const Line& line : Corpus()) {
    ++score.samples;
    std::vector<PiiFinding> found = scanner->Scan(line.text);
    std::vector<bool> matched(found.size(), false);
    for (const Labelled& expected : line.pii) {
      ++score.positives;
      size_t at = line.text.find(expected.value);
      bool hit = false;
      for (size_t k = 0; at != std::string::npos && k < found.size(); ++k) {
        if (!matched[k] && found[k].type == expected.type && found[k].start == at &&
            found[k].end == at + expected.value.size()) {
          matched[k] = hit = true;
          break;
        }
      }
      if (hit) {
        ++score.detected;
        ++score.true_findings;
      } else {
        score.problems.push_back(fmt::format("missed {} '{}' in: {}", PiiTypeName(expected.type),
                                             expected.value, line.text));
      }
    }
    for (size_t k = 0; k < found.size(); ++k) {
      if (matched[k]) continue;
      ++score.false_findings;
      score.problems.push_back(
          fmt::format("false alarm {} '{}' in: {}", PiiTypeName(found[k].type),
                      line.text.substr(found[k].start, found[k].end - found[k].start), line.text));
    }
  }
  return score;
}

}  // namespace interlock::scan
