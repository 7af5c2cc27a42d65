// PiiStream: the findings and output of a stream are those of the whole
// input, however it is cut into writes and however long its lines are, and
// the bytes it holds stay bounded.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "scan/pii.h"

namespace interlock::scan {
namespace {

PiiScanner Scanner(size_t max_piece, RedactMode mode = RedactMode::kFull) {
  PiiOptions options;
  options.redact = mode;
  options.max_piece = max_piece;
  auto scanner = PiiScanner::Create(options);
  EXPECT_TRUE(scanner.has_value());
  return *scanner;
}

struct Result {
  std::vector<PiiFinding> findings;
  std::string output;
  size_t max_buffered = 0;
  uint64_t lines = 0;
};

// Streams `text` through `scanner` in writes of `write_size` bytes.
Result StreamIt(const PiiScanner& scanner, std::string_view text, size_t write_size) {
  Result r;
  PiiStream stream(
      scanner, [&](const PiiFinding& f) { r.findings.push_back(f); },
      [&](std::string_view bytes) { r.output.append(bytes); });
  for (size_t at = 0; at < text.size(); at += write_size) {
    stream.Write(text.substr(at, write_size));
    r.max_buffered = std::max(r.max_buffered, stream.buffered());
  }
  stream.Finish();
  r.lines = stream.lines();
  return r;
}

std::string Spans(const std::vector<PiiFinding>& findings) {
  std::string out;
  for (const PiiFinding& f : findings) {
    out += fmt::format("{}@{}-{}:{}:{};", PiiTypeName(f.type), f.start, f.end, f.line, f.column);
  }
  return out;
}

// Values of every type at pseudo-random places in long lines without
// newlines, with filler of letters, digits and punctuation between them.
std::string LongLines(size_t bytes, uint32_t seed) {
  const std::vector<std::string> values = {"john.doe@example.com",    "203.0.113.7",
                                           "4111 1111 1111 1111",     "123-45-6789",
                                           "+44 20 7946 0958",        "DE89 3704 0044 0532 0130 00",
                                           "2001:db8::8a2e:370:7334", "ssn 457-55-5462",
                                           "(415) 555-2671"};
  const std::string filler = "abc 12:34:56 x=1.2.3 -- ";
  std::mt19937 rng(seed);
  std::string text;
  while (text.size() < bytes) {
    size_t run = rng() % 700;
    for (size_t k = 0; k < run; ++k) text += filler[(text.size() + k) % filler.size()];
    text += ' ';
    text += values[rng() % values.size()];
    text += ' ';
    if (rng() % 50 == 0) text += "\r\n";
  }
  return text;
}

TEST(PiiStreamTest, PiecesOfALongLineFindWhatTheWholeLineHolds) {
  std::string text = LongLines(300000, 7);
  // One piece holds every line whole: the reference.
  Result whole = StreamIt(Scanner(size_t{1} << 24), text, text.size());
  ASSERT_GT(whole.findings.size(), 300u);
  for (size_t piece : {4096, 5000, 65536}) {
    for (size_t write : {1, 777, 4096, 100000}) {
      if (write == 1 && piece != 4096) continue;  // one-byte writes are slow under ASan
      Result cut = StreamIt(Scanner(piece), text, write);
      EXPECT_EQ(Spans(cut.findings), Spans(whole.findings)) << piece << " " << write;
      EXPECT_EQ(cut.output, whole.output) << piece << " " << write;
      EXPECT_LE(cut.max_buffered, piece + 1024 + write) << piece << " " << write;
    }
  }
}

TEST(PiiStreamTest, ATwentyMegabyteLineIsScannedInBoundedMemory) {
  std::string text = LongLines(20 << 20, 11);
  text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
  text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
  Result r = StreamIt(Scanner(size_t{1} << 20), text, 1 << 16);
  EXPECT_LE(r.max_buffered, (size_t{1} << 20) + 1024 + (1 << 16));
  EXPECT_GT(r.findings.size(), 20000u);
  EXPECT_EQ(r.lines, 1u);
  EXPECT_EQ(r.output.find("john.doe@"), std::string::npos);
  EXPECT_EQ(r.output.find("4111 1111"), std::string::npos);
  // Every byte but the values is kept: the output, with its tokens put
  // back, is the input.
  std::string rebuilt;
  uint64_t at = 0;
  size_t out_at = 0;
  for (const PiiFinding& f : r.findings) {
    size_t gap = f.start - at;
    rebuilt.append(r.output, out_at, gap);
    out_at += gap;
    std::string token = fmt::format("[REDACTED:{}]", PiiLabel(f.type));
    ASSERT_EQ(r.output.compare(out_at, token.size(), token), 0);
    out_at += token.size();
    rebuilt.append(text, f.start, f.end - f.start);
    at = f.end;
  }
  rebuilt.append(r.output, out_at);
  EXPECT_TRUE(rebuilt == text);
}

TEST(PiiStreamTest, TwoThreadsFindAndWriteWhatOneDoes) {
  // Lines of about 17 KB on average: both halves hold lines longer than a
  // piece.
  std::string text = LongLines(6 << 20, 13);
  PiiOptions options;
  options.redact = RedactMode::kPartial;
  options.max_piece = 4096;
  auto one = PiiScanner::Create(options);
  options.threads = 2;
  auto two = PiiScanner::Create(options);
  ASSERT_TRUE(one.has_value() && two.has_value());
  for (size_t write : {size_t{1} << 20, size_t{3} << 20, text.size()}) {
    Result a = StreamIt(*one, text, write);
    Result b = StreamIt(*two, text, write);
    EXPECT_GT(a.findings.size(), 1000u);
    EXPECT_EQ(Spans(a.findings), Spans(b.findings)) << write;
    EXPECT_TRUE(a.output == b.output) << write;
    EXPECT_EQ(a.lines, b.lines);
  }
  options.threads = 3;
  EXPECT_FALSE(PiiScanner::Create(options).has_value());
}

TEST(PiiStreamTest, CountsLinesAndBytesWithOrWithoutAFinalNewline) {
  auto scanner = Scanner(4096);
  EXPECT_EQ(StreamIt(scanner, "a\nb\n", 1).lines, 2u);
  EXPECT_EQ(StreamIt(scanner, "a\nb", 1).lines, 2u);
  EXPECT_EQ(StreamIt(scanner, "", 1).lines, 0u);
  Result r = StreamIt(scanner, "x 8.8.8.8", 3);
  EXPECT_EQ(r.output, "x [REDACTED:IPV4]");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].line, 1u);
}

TEST(PiiStreamTest, WithoutRedactionNothingIsWrittenButCountsAreKept) {
  PiiOptions options;
  auto scanner = PiiScanner::Create(options);
  ASSERT_TRUE(scanner.has_value());
  std::string written;
  PiiStream stream(*scanner, nullptr, [&](std::string_view b) { written.append(b); });
  stream.Write("a@example.com 8.8.8.8\n9.9.9.9");
  stream.Finish();
  EXPECT_EQ(written, "");
  EXPECT_EQ(stream.counts()[PiiType::kEmail], 1u);
  EXPECT_EQ(stream.counts()[PiiType::kIpv4], 2u);
  EXPECT_EQ(stream.counts().Total(), 3u);
  EXPECT_EQ(stream.bytes(), 29u);
}

}  // namespace
}  // namespace interlock::scan
