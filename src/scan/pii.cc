#include "scan/pii.h"

#include <fmt/format.h>
#include <string.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <thread>

#include "core/hmac.h"
#include "scan/pii_detect.h"
#include "scan/pii_validate.h"

namespace interlock::scan {
namespace {

struct TypeNames {
  PiiType type;
  std::string_view rule_id;
  std::string_view name;
  std::string_view label;
};
constexpr TypeNames kTypeNames[] = {
    {PiiType::kEmail, "pii-email", "email", "EMAIL"},
    {PiiType::kPhone, "pii-phone", "phone", "PHONE"},
    {PiiType::kIpv4, "pii-ipv4", "ipv4", "IPV4"},
    {PiiType::kIpv6, "pii-ipv6", "ipv6", "IPV6"},
    {PiiType::kCard, "pii-card", "card", "CARD"},
    {PiiType::kIban, "pii-iban", "iban", "IBAN"},
    {PiiType::kUsSsn, "pii-us-ssn", "us_ssn", "SSN"},
};

const TypeNames& NamesOf(PiiType type) { return kTypeNames[static_cast<size_t>(type)]; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string Hex(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// The form of a value that its hash token is computed from, so that
// spellings of one value share a token: digits only for numbers, e-mail in
// lower case, IPv6 as its 16 bytes.
std::string Normalise(PiiType type, std::string_view v) {
  std::string out;
  switch (type) {
    case PiiType::kEmail:
      for (char c : v) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      return out;
    case PiiType::kPhone:
    case PiiType::kCard:
    case PiiType::kUsSsn:
      for (char c : v) {
        if (IsDigit(c)) out += c;
      }
      return out;
    case PiiType::kIban:
      for (char c : v) {
        if (IsAlnum(c)) out += c;
      }
      return out;
    case PiiType::kIpv4:
      return std::string(v);
    case PiiType::kIpv6: {
      std::array<uint8_t, 16> bytes;
      int groups = 0;
      if (pii::ParseIpv6(v, &groups, &bytes) != v.size()) return std::string(v);
      return Hex(bytes);
    }
  }
  return std::string(v);
}

// `v` with every digit (or letter and digit) but the last `keep` masked by
// '*'; other bytes (separators) kept.
void AppendMasked(std::string* out, std::string_view v, size_t keep, bool letters) {
  size_t total = 0;
  for (char c : v) total += letters ? IsAlnum(c) : IsDigit(c);
  size_t seen = 0;
  for (char c : v) {
    bool counted = letters ? IsAlnum(c) : IsDigit(c);
    if (counted && ++seen + keep <= total) {
      out->push_back('*');
    } else {
      out->push_back(c);
    }
  }
}

void AppendPartial(std::string* out, PiiType type, std::string_view v) {
  switch (type) {
    case PiiType::kEmail: {
      size_t at = v.find('@');
      out->push_back(v[0]);
      out->append("***");
      out->append(v.substr(at));
      return;
    }
    case PiiType::kPhone:
      AppendMasked(out, v, 2, false);
      return;
    case PiiType::kCard:
    case PiiType::kUsSsn:
      AppendMasked(out, v, 4, false);
      return;
    case PiiType::kIban:
      out->append(v.substr(0, 2));
      AppendMasked(out, v.substr(2), 4, true);
      return;
    case PiiType::kIpv4: {
      size_t first = v.find('.');
      size_t second = v.find('.', first + 1);
      out->append(v.substr(0, second));
      out->append(".*.*");
      return;
    }
    case PiiType::kIpv6: {
      if (v.starts_with("::")) {
        out->append("::*");
        return;
      }
      size_t i = 0;
      int colons = 0;
      for (; i < v.size(); ++i) {
        if (v[i] != ':') continue;
        if (++colons == 2 || (i + 1 < v.size() && v[i + 1] == ':')) break;
      }
      out->append(v.substr(0, i));
      out->append(":*");
      return;
    }
  }
}

}  // namespace

std::string_view PiiRuleId(PiiType type) { return NamesOf(type).rule_id; }
std::string_view PiiTypeName(PiiType type) { return NamesOf(type).name; }
std::string_view PiiLabel(PiiType type) { return NamesOf(type).label; }

std::optional<PiiType> ParsePiiType(std::string_view name) {
  for (const TypeNames& t : kTypeNames) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

std::string_view ConfidenceName(Confidence c) {
  switch (c) {
    case Confidence::kLow:
      return "low";
    case Confidence::kMedium:
      return "medium";
    case Confidence::kHigh:
      return "high";
  }
  return "low";
}

std::optional<Confidence> ParseConfidence(std::string_view name) {
  if (name == "low") return Confidence::kLow;
  if (name == "medium") return Confidence::kMedium;
  if (name == "high") return Confidence::kHigh;
  return std::nullopt;
}

std::optional<RedactMode> ParseRedactMode(std::string_view name) {
  if (name == "full") return RedactMode::kFull;
  if (name == "partial") return RedactMode::kPartial;
  if (name == "hash") return RedactMode::kHash;
  return std::nullopt;
}

uint64_t PiiCounts::Total() const {
  uint64_t total = 0;
  for (uint64_t n : by_type) total += n;
  return total;
}

PiiCounts& PiiCounts::operator+=(const PiiCounts& other) {
  for (size_t k = 0; k < kPiiTypeCount; ++k) by_type[k] += other.by_type[k];
  return *this;
}

Result<PiiScanner> PiiScanner::Create(PiiOptions options) {
  if (options.redact == RedactMode::kHash && options.hash_key.size() < 16) {
    return std::unexpected(Error::InvalidArgument(
        options.hash_key.empty()
            ? "hash redaction needs a key: give --key-file or set INTERLOCK_SCAN_KEY"
            : fmt::format("the hash redaction key is {} bytes; it must have at least 16",
                          options.hash_key.size())));
  }
  if (options.threads != 1 && options.threads != 2) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("threads is {}; it must be 1 or 2", options.threads)));
  }
  if (options.max_piece < 4096) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("max_piece is {} bytes; it must be at least 4096", options.max_piece)));
  }
  return PiiScanner(std::move(options));
}

std::vector<PiiFinding> PiiScanner::Scan(std::string_view text) const {
  std::vector<PiiFinding> findings;
  PiiStream stream(
      *this, [&](const PiiFinding& f) { findings.push_back(f); }, nullptr);
  stream.Write(text);
  stream.Finish();
  return findings;
}

std::string PiiScanner::Redact(std::string_view text) const {
  if (options_.redact == RedactMode::kNone) return std::string(text);
  std::string out;
  out.reserve(text.size());
  PiiStream stream(*this, nullptr, [&](std::string_view bytes) { out.append(bytes); });
  stream.Write(text);
  stream.Finish();
  return out;
}

PiiStream::PiiStream(const PiiScanner& scanner, PiiFindingSink on_finding, PiiOutputSink on_output)
    : scanner_(scanner),
      on_finding_(std::move(on_finding)),
      on_output_(std::move(on_output)),
      redacting_(scanner.options().redact != RedactMode::kNone && on_output_ != nullptr) {
  const std::string& key = scanner.options().hash_key;
  if (scanner.options().redact == RedactMode::kHash) {
    hmac_ = std::make_unique<Hmac>(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
  }
}

PiiStream::~PiiStream() = default;

void PiiStream::Write(std::string_view bytes) {
  if (bytes.empty()) return;
  uint64_t base = total_;
  total_ += bytes.size();
  if (!pending_.empty()) {
    // Only the unfinished line is completed in pending_; the lines after it
    // are scanned in place.
    const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
    size_t take =
        nl ? static_cast<size_t>(static_cast<const char*>(nl) - bytes.data()) + 1 : bytes.size();
    pending_.append(bytes.substr(0, take));
    ProcessLines(pending_, pending_base_);
    bytes.remove_prefix(take);
    base += take;
    if (bytes.empty()) {
      Keep(pending_, pending_base_);
      Flush();
      return;
    }
    pending_.clear();  // the line is done: done_ == base
  }
  ProcessLines(bytes, base);
  Keep(bytes, base);
  Flush();
}

void PiiStream::Keep(std::string_view view, uint64_t base) {
  // What the next bytes need: the unfinished line from the margin before
  // the first undecided byte.
  uint64_t keep = std::max(line_start_, done_ > pii::kMargin ? done_ - pii::kMargin : 0);
  keep = std::max(keep, base);
  size_t drop = static_cast<size_t>(keep - base);
  if (view.data() == pending_.data()) {
    pending_.erase(0, drop);
  } else {
    pending_.assign(view.substr(drop));
  }
  pending_base_ = keep;
}

namespace {

// Writes of at least this many bytes have their detection shared with a
// helper thread when PiiOptions::threads is 2.
constexpr size_t kParallelMin = size_t{1} << 20;

// Appends the candidates of one segment (a line, or a piece of a long one:
// candidates starting in [from, to), the window reaching to window_end) at
// or above `min`, with offsets in the stream, in the order they are
// decided: the leftmost first; of those starting together, the more
// confident, then the longer. Deciding in order of start is what makes a
// line cut into pieces give the findings of the whole line.
void DetectSegment(std::string_view view, uint64_t base, uint64_t line_start, uint64_t from,
                   uint64_t to, uint64_t window_end, Confidence min,
                   std::vector<pii::Candidate>* out) {
  uint64_t window_start = std::max(line_start, from > pii::kMargin ? from - pii::kMargin : 0);
  std::string_view window = view.substr(static_cast<size_t>(window_start - base),
                                        static_cast<size_t>(window_end - window_start));
  size_t first = out->size();
  pii::Detect(window, static_cast<size_t>(from - window_start),
              static_cast<size_t>(to - window_start), out);
  auto begin = out->begin() + static_cast<ptrdiff_t>(first);
  auto kept_end = std::remove_if(begin, out->end(),
                                 [&](const pii::Candidate& c) { return c.confidence < min; });
  out->erase(kept_end, out->end());
  begin = out->begin() + static_cast<ptrdiff_t>(first);
  for (auto it = begin; it != out->end(); ++it) {
    it->start += window_start;
    it->end += window_start;
  }
  std::sort(begin, out->end(), [](const pii::Candidate& a, const pii::Candidate& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.confidence != b.confidence) return a.confidence > b.confidence;
    return a.end > b.end;
  });
}

// The candidates of the whole lines [from, to) of the stream (from at a
// line's start, to just after a newline), segmented as PiiStream does.
void DetectLines(std::string_view view, uint64_t base, uint64_t from, uint64_t to, size_t piece,
                 Confidence min, std::vector<pii::Candidate>* out) {
  uint64_t done = from;
  while (done < to) {
    uint64_t line_start = done;
    const void* nl = std::memchr(view.data() + (done - base), '\n', static_cast<size_t>(to - done));
    uint64_t line_end = base + static_cast<uint64_t>(static_cast<const char*>(nl) - view.data());
    while (line_end - done > piece + pii::kMargin) {
      DetectSegment(view, base, line_start, done, done + piece, done + piece + pii::kMargin, min,
                    out);
      done += piece;
    }
    DetectSegment(view, base, line_start, done, line_end, line_end, min, out);
    done = line_end + 1;
  }
}

}  // namespace

void PiiStream::ProcessLines(std::string_view view, uint64_t base) {
  const uint64_t end = base + view.size();
  if (scanner_.options().threads > 1 && end - done_ >= kParallelMin) {
    // The whole lines are cut in two at a newline; a helper thread finds
    // the candidates of the second half while this one does the first.
    const char* from = view.data() + (done_ - base);
    const void* last = ::memrchr(from, '\n', static_cast<size_t>(end - done_));
    if (last != nullptr) {
      uint64_t lines_end =
          base + static_cast<uint64_t>(static_cast<const char*>(last) - view.data()) + 1;
      uint64_t guess = done_ + (lines_end - done_) / 2;
      const void* nl =
          std::memchr(view.data() + (guess - base), '\n', static_cast<size_t>(lines_end - guess));
      uint64_t middle =
          base + static_cast<uint64_t>(static_cast<const char*>(nl) - view.data()) + 1;
      if (middle < lines_end) {
        std::vector<pii::Candidate> second;
        std::thread helper([&] {
          DetectLines(view, base, middle, lines_end, scanner_.options().max_piece,
                      scanner_.options().min_confidence, &second);
        });
        RunLines(view, base, middle);
        helper.join();
        precomputed_ = &second;
        precomputed_next_ = 0;
        RunLines(view, base, lines_end);
        precomputed_ = nullptr;
      }
    }
  }
  RunLines(view, base, end);
}

void PiiStream::RunLines(std::string_view view, uint64_t base, uint64_t end) {
  const size_t piece = scanner_.options().max_piece;
  while (done_ < end) {
    const char* from = view.data() + (done_ - base);
    const void* nl = std::memchr(from, '\n', static_cast<size_t>(end - done_));
    if (nl == nullptr) break;
    uint64_t line_end = base + static_cast<uint64_t>(static_cast<const char*>(nl) - view.data());
    // A line longer than a piece is scanned in pieces first.
    while (line_end - done_ > piece + pii::kMargin) {
      ScanSegment(view, base, done_ + piece, done_ + piece + pii::kMargin);
    }
    ScanSegment(view, base, line_end, line_end);
    Emit(view, base, line_end + 1);
    done_ = line_end + 1;
    line_start_ = done_;
    ++line_number_;
    ++lines_;
  }
  // The unfinished last line: its pieces that are certain already.
  while (end - done_ >= piece + pii::kMargin) {
    ScanSegment(view, base, done_ + piece, done_ + piece + pii::kMargin);
  }
}

void PiiStream::ScanSegment(std::string_view view, uint64_t base, uint64_t to,
                            uint64_t window_end) {
  std::span<const pii::Candidate> candidates;
  if (precomputed_ != nullptr) {
    size_t first = precomputed_next_;
    while (precomputed_next_ < precomputed_->size() &&
           (*precomputed_)[precomputed_next_].start < to) {
      ++precomputed_next_;
    }
    candidates =
        std::span<const pii::Candidate>(precomputed_->data() + first, precomputed_next_ - first);
  } else {
    candidates_.clear();
    DetectSegment(view, base, line_start_, done_, to, window_end, scanner_.options().min_confidence,
                  &candidates_);
    candidates = candidates_;
  }
  for (const pii::Candidate& c : candidates) {
    uint64_t start = c.start;
    uint64_t end = c.end;
    if (start < emitted_) continue;  // overlaps a value already decided
    PiiFinding finding{c.type, c.confidence, start, end, line_number_, start - line_start_ + 1};
    ++counts_[c.type];
    if (on_finding_) on_finding_(finding);
    Emit(view, base, start);
    if (redacting_) {
      std::string_view value =
          view.substr(static_cast<size_t>(start - base), static_cast<size_t>(end - start));
      PiiType type = c.type;
      switch (scanner_.options().redact) {
        case RedactMode::kFull:
          out_.append("[REDACTED:");
          out_.append(PiiLabel(type));
          out_.push_back(']');
          break;
        case RedactMode::kPartial:
          AppendPartial(&out_, type, value);
          break;
        case RedactMode::kHash:
          out_.append(HashToken(type, value));
          break;
        case RedactMode::kNone:
          break;
      }
    }
    emitted_ = end;
  }
  Emit(view, base, to);
  done_ = to;
}

const std::string& PiiStream::HashToken(PiiType type, std::string_view value) {
  std::string message(PiiLabel(type));
  message += ':';
  message += Normalise(type, value);
  // Logs repeat their values (one client's address on every line): a
  // bounded cache of tokens spares most MACs.
  if (auto it = tokens_.find(message); it != tokens_.end()) return it->second;
  if (tokens_.size() >= kMaxCachedTokens) tokens_.clear();
  auto mac = hmac_->Mac(message);
  std::string token = "[";
  token += PiiLabel(type);
  token += ':';
  token += Hex(std::span<const uint8_t>(mac.data(), 6));
  token += ']';
  return tokens_.emplace(std::move(message), std::move(token)).first->second;
}

void PiiStream::Emit(std::string_view view, uint64_t base, uint64_t up_to) {
  if (up_to <= emitted_) return;
  if (redacting_) {
    out_.append(
        view.substr(static_cast<size_t>(emitted_ - base), static_cast<size_t>(up_to - emitted_)));
  }
  emitted_ = up_to;
  if (out_.size() >= (size_t{1} << 16)) Flush();
}

void PiiStream::Flush() {
  if (!out_.empty() && on_output_) on_output_(out_);
  out_.clear();
}

void PiiStream::Finish() {
  if (finished_) return;
  finished_ = true;
  if (done_ < total_) {
    ScanSegment(pending_, pending_base_, total_, total_);
    Emit(pending_, pending_base_, total_);
    ++lines_;
  }
  Flush();
  pending_.clear();
}

}  // namespace interlock::scan
