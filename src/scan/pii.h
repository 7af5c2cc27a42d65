// The PII scanner: finds e-mail addresses, phone numbers, IPv4 and IPv6
// addresses, payment card numbers, IBANs and US social security numbers in
// log lines, plain text or JSON lines, counts them, and writes the input
// back with each one redacted.
//
// Scanning is one pass over the raw bytes. Candidates are checked by
// validators (Luhn and issuer prefixes for cards, mod-97 and the registry's
// length for IBANs, area/group/serial for SSNs, octets and groups for IP
// addresses) and graded by context words near them; see
// docs/pii-scanning.md for every rule.
//
// Any bytes are accepted: invalid UTF-8, binary, NUL, no final newline.
// Redaction replaces only the bytes of a finding and copies every other
// byte unchanged. A replacement is printable ASCII without '"' or '\\', and
// no finding contains either, so JSON lines stay valid JSON.
//
// Memory is bounded whatever the input: PiiStream holds at most one piece
// of a line (PiiOptions::max_piece) plus small margins, so a 100 MB line
// without a newline costs about a megabyte.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace interlock {
class Hmac;
}

namespace interlock::scan {

namespace pii {
struct Candidate;
}

enum class PiiType { kEmail, kPhone, kIpv4, kIpv6, kCard, kIban, kUsSsn };
inline constexpr size_t kPiiTypeCount = 7;
inline constexpr std::array<PiiType, kPiiTypeCount> kAllPiiTypes = {
    PiiType::kEmail, PiiType::kPhone, PiiType::kIpv4, PiiType::kIpv6,
    PiiType::kCard,  PiiType::kIban,  PiiType::kUsSsn};

// "pii-email", "pii-phone", "pii-ipv4", "pii-ipv6", "pii-card", "pii-iban",
// "pii-us-ssn": the rule id a report (SARIF included) names a finding by.
std::string_view PiiRuleId(PiiType type);
// "email", "phone", "ipv4", "ipv6", "card", "iban", "us_ssn".
std::string_view PiiTypeName(PiiType type);
// "EMAIL", "PHONE", "IPV4", "IPV6", "CARD", "IBAN", "SSN": the label in a
// redaction token.
std::string_view PiiLabel(PiiType type);
// The type named by PiiTypeName; nullopt for any other text.
std::optional<PiiType> ParsePiiType(std::string_view name);

// How sure the scanner is that a finding is PII. Each type has a base
// level; a context word near the value raises it one level.
enum class Confidence { kLow, kMedium, kHigh };
std::string_view ConfidenceName(Confidence c);  // "low", "medium", "high"
std::optional<Confidence> ParseConfidence(std::string_view name);

// One value found. Offsets count bytes from the start of the input.
struct PiiFinding {
  PiiType type;
  Confidence confidence;
  uint64_t start = 0;   // first byte of the value
  uint64_t end = 0;     // one past its last byte
  uint64_t line = 0;    // 1-based
  uint64_t column = 0;  // 1-based, in bytes (not characters) from the line's start
};

// How a finding is written in the redacted output.
enum class RedactMode {
  kNone,     // no output is written
  kFull,     // [REDACTED:EMAIL]
  kPartial,  // a little kept: j***@example.com, **** **** **** 1111, ***-**-6789
  kHash,     // [EMAIL:1a2b3c4d5e6f]: the first 6 bytes of HMAC-SHA256(key, normalised
             // value) in hex, so one value maps to one token under one key
};
std::optional<RedactMode> ParseRedactMode(std::string_view name);  // "full", "partial", "hash"

struct PiiOptions {
  // Findings below this level are neither reported nor redacted.
  // Default: kMedium.
  Confidence min_confidence = Confidence::kMedium;
  RedactMode redact = RedactMode::kNone;
  // The HMAC key for RedactMode::kHash: at least 16 bytes. Ignored otherwise.
  std::string hash_key;
  // The longest piece of a line scanned at once. A longer line is scanned
  // in pieces of this size that overlap by a margin longer than any value
  // and its context, so the findings are those of the whole line.
  // Default: 1 MiB. At least 4096.
  size_t max_piece = size_t{1} << 20;
  // 2: a write of at least 1 MiB is cut in two at a newline and a helper
  // thread finds the candidates of the second half while the writer's
  // thread does the first; the findings and output are the same. Default: 1.
  int threads = 1;
};

// Findings per type.
struct PiiCounts {
  std::array<uint64_t, kPiiTypeCount> by_type{};
  uint64_t& operator[](PiiType t) { return by_type[static_cast<size_t>(t)]; }
  uint64_t operator[](PiiType t) const { return by_type[static_cast<size_t>(t)]; }
  uint64_t Total() const;
  PiiCounts& operator+=(const PiiCounts& other);
};

// The validated, immutable settings of a scan. Thread-safe: one scanner
// serves any number of PiiStreams on any threads.
class PiiScanner {
 public:
  // Fails with kInvalidArgument when the options are inconsistent: hash
  // redaction without a key of at least 16 bytes, max_piece below 4096,
  // threads other than 1 or 2.
  static Result<PiiScanner> Create(PiiOptions options);

  const PiiOptions& options() const { return options_; }

  // Every finding of `text` at or above min_confidence, in order.
  std::vector<PiiFinding> Scan(std::string_view text) const;
  // `text` with its findings redacted (options().redact; kNone returns the
  // text unchanged).
  std::string Redact(std::string_view text) const;

 private:
  explicit PiiScanner(PiiOptions options) : options_(std::move(options)) {}
  PiiOptions options_;
};

// Receives a finding as soon as it is certain.
using PiiFindingSink = std::function<void(const PiiFinding&)>;
// Receives the redacted output, in order, in pieces of any size.
using PiiOutputSink = std::function<void(std::string_view)>;

// One input scanned as it arrives: feed its bytes in pieces of any size with
// Write, then call Finish once. Findings and output come out in input
// order; the output, concatenated, is the input with every finding
// redacted. Not thread-safe: one stream per input and thread.
class PiiStream {
 public:
  // `scanner` must outlive the stream. `on_finding` and `on_output` may be
  // null; on_output is called only when the scanner redacts.
  PiiStream(const PiiScanner& scanner, PiiFindingSink on_finding, PiiOutputSink on_output);
  ~PiiStream();
  PiiStream(const PiiStream&) = delete;
  PiiStream& operator=(const PiiStream&) = delete;

  // REQUIRES: Finish() not called yet.
  void Write(std::string_view bytes);
  // Scans what is left (a last line without a newline) and flushes the
  // output. REQUIRES: called once.
  void Finish();

  const PiiCounts& counts() const { return counts_; }
  uint64_t bytes() const { return total_; }
  // Lines seen so far; a last line without a newline counts after Finish.
  uint64_t lines() const { return lines_; }
  // Bytes of input held between writes: at most max_piece plus about a
  // kilobyte of margins, whatever the length of a line.
  size_t buffered() const { return pending_.size(); }

 private:
  void ProcessLines(std::string_view view, uint64_t view_base);
  void RunLines(std::string_view view, uint64_t view_base, uint64_t end);
  void ScanSegment(std::string_view view, uint64_t view_base, uint64_t to, uint64_t window_end);
  void Emit(std::string_view view, uint64_t view_base, uint64_t up_to);
  void Keep(std::string_view view, uint64_t view_base);
  const std::string& HashToken(PiiType type, std::string_view value);
  void Flush();

  const PiiScanner& scanner_;
  PiiFindingSink on_finding_;
  PiiOutputSink on_output_;
  std::unique_ptr<Hmac> hmac_;
  bool redacting_;

  std::string pending_;        // the stream's bytes from pending_base_ on, not yet done with
  uint64_t pending_base_ = 0;  // offset of pending_[0]
  uint64_t total_ = 0;         // bytes written so far
  uint64_t line_start_ = 0;    // offset of the current line's first byte
  uint64_t line_number_ = 1;   // of the current line
  uint64_t done_ = 0;          // candidates starting before this offset are decided
  uint64_t emitted_ = 0;       // output written for the bytes before this offset
  uint64_t lines_ = 0;
  bool finished_ = false;
  std::string out_;                         // output gathered before it goes to on_output_
  std::vector<pii::Candidate> candidates_;  // of the segment being scanned
  // Candidates found ahead by the helper thread, and the next one to use.
  const std::vector<pii::Candidate>* precomputed_ = nullptr;
  size_t precomputed_next_ = 0;
  // Hash tokens by "LABEL:normalised value", at most kMaxCachedTokens.
  static constexpr size_t kMaxCachedTokens = 4096;
  std::unordered_map<std::string, std::string> tokens_;
  PiiCounts counts_;
};

}  // namespace interlock::scan
