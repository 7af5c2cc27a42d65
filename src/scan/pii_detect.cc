// Over 600 lines on purpose (see the last paragraph below): the detectors
// share one file with the loop that drives them.
//
// The scan is a loop over the bytes of a window that stops only at what can
// begin a value: the first character of a word (digit, upper-case letter,
// hex letter), '@', '+', '(' and "::". Words are skipped whole, so a
// letter costs one table look-up. Each stop runs only the detectors whose
// shape fits the next few bytes (a 3-digit word followed by '-' may be an
// SSN or a phone number, a 4-digit word followed by ' ' a card), and each
// detector reads a bounded number of bytes around its start.
//
// The detectors stay in this one file, past 600 lines, because they share
// the byte classes, the rules for where a number may begin and end, and the
// context look-up, and the loop above them is what must stay fast.
#include "scan/pii_detect.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "scan/pii_validate.h"

namespace interlock::scan::pii {
namespace {

enum ByteClass : uint8_t { kOther, kAlnum, kAt, kPlus, kParen, kColon };

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = kAlnum;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kAlnum;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kAlnum;
  t['@'] = kAt;
  t['+'] = kPlus;
  t['('] = kParen;
  t[':'] = kColon;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClasses();

inline uint8_t U(char c) { return static_cast<uint8_t>(c); }
inline bool IsAlnum(char c) { return kClass[U(c)] == kAlnum; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsAlpha(char c) { return IsUpper(c) || IsLower(c); }
inline bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
// Bytes that join numbers into one token: "1.2.3.4.5", "2024-123-45-6789".
inline bool IsJoiner(char c) { return c == '.' || c == '-' || c == ':' || c == '/'; }
// Characters of an e-mail address's local part (the dot-atom subset used in
// practice; quoted local parts are not looked for).
inline bool IsLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

// Context words, by type. Matched whole, case-insensitively, against the
// words just before and after a value; a word is a run of letters and
// digits, split where a lower-case letter meets an upper-case one (userSsn),
// so "lic" never matches inside "public". Two words separated by anything
// non-alphanumeric match a phrase with one space.
constexpr std::string_view kEmailWords[] = {"email",   "e mail",    "mail",   "mailto",
                                            "contact", "recipient", "sender", "reply to"};
constexpr std::string_view kPhoneWords[] = {"phone",  "tel",     "telephone", "mobile",
                                            "cell",   "fax",     "call",      "sms",
                                            "msisdn", "contact", "whatsapp",  "dial"};
constexpr std::string_view kIpWords[] = {"ip",     "ipv4",      "ipv6", "addr", "address",
                                         "client", "remote",    "host", "src",  "dst",
                                         "peer",   "forwarded", "from"};
constexpr std::string_view kCardWords[] = {
    "card", "credit", "debit",    "cc",       "ccn",    "pan",     "visa",       "mastercard",
    "amex", "jcb",    "discover", "unionpay", "diners", "payment", "cardnumber", "cvv"};
constexpr std::string_view kIbanWords[] = {"iban", "bank",  "account", "acct",
                                           "bic",  "swift", "sepa",    "transfer"};
constexpr std::string_view kSsnWords[] = {"ssn", "social security", "soc sec", "taxpayer", "tin",
                                          "lic", "license",         "licence"};
// Words before a dotted quad that make it a version, not an address.
constexpr std::string_view kVersionWords[] = {"version", "ver", "v", "release", "build", "rev"};

template <size_t N>
bool InList(const std::string_view (&list)[N], std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

constexpr uint16_t TypeBit(PiiType type) { return uint16_t{1} << static_cast<int>(type); }
// Further bits of a word: it marks a version; it begins a phrase.
constexpr uint16_t kVersionBit = 1 << 8;
constexpr uint16_t kPhraseStartBit = 1 << 9;

constexpr uint32_t HashWord(std::string_view word) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (char c : word) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// Every context word, phrase and version word with its bits, in an open-
// addressing table built at compile time: a look-up hashes the word once.
struct WordTable {
  static constexpr size_t kSlots = 512;
  std::string_view words[kSlots] = {};
  uint16_t bits[kSlots] = {};

  constexpr void Add(std::string_view word, uint16_t b) {
    size_t slot = HashWord(word) % kSlots;
    while (!words[slot].empty() && words[slot] != word) slot = (slot + 1) % kSlots;
    words[slot] = word;
    bits[slot] |= b;
    if (size_t space = word.find(' '); space != std::string_view::npos) {
      Add(word.substr(0, space), kPhraseStartBit);
    }
  }
  template <size_t N>
  constexpr void AddAll(const std::string_view (&list)[N], uint16_t b) {
    for (std::string_view word : list) Add(word, b);
  }
  constexpr uint16_t Find(std::string_view word) const {
    size_t slot = HashWord(word) % kSlots;
    while (!words[slot].empty()) {
      if (words[slot] == word) return bits[slot];
      slot = (slot + 1) % kSlots;
    }
    return 0;
  }
};

constexpr WordTable MakeWordTable() {
  WordTable t;
  t.AddAll(kEmailWords, TypeBit(PiiType::kEmail));
  t.AddAll(kPhoneWords, TypeBit(PiiType::kPhone));
  t.AddAll(kIpWords, TypeBit(PiiType::kIpv4) | TypeBit(PiiType::kIpv6));
  t.AddAll(kCardWords, TypeBit(PiiType::kCard));
  t.AddAll(kIbanWords, TypeBit(PiiType::kIban));
  t.AddAll(kSsnWords, TypeBit(PiiType::kUsSsn));
  t.AddAll(kVersionWords, kVersionBit);
  return t;
}
constexpr WordTable kWords = MakeWordTable();

// Calls visit(word) for each whole word of window[begin, end) in order,
// lower-cased; a word cut by either edge of the range is left out, as are
// words longer than 24 bytes.
template <class Visit>
void ForEachWord(std::string_view w, size_t begin, size_t end, Visit&& visit) {
  size_t i = begin;
  // A word running into the range from before it is not whole.
  if (i > 0 && i < end && IsAlnum(w[i - 1])) {
    while (i < end && IsAlnum(w[i]) && !(IsLower(w[i - 1]) && IsUpper(w[i]))) ++i;
  }
  char buffer[24];
  while (i < end) {
    if (!IsAlnum(w[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    ++i;
    while (i < end && IsAlnum(w[i]) && !(IsLower(w[i - 1]) && IsUpper(w[i]))) ++i;
    if (i == end && end < w.size() && IsAlnum(w[end]) &&
        !(IsLower(w[end - 1]) && IsUpper(w[end]))) {
      break;  // cut by the end of the range
    }
    size_t len = i - start;
    if (len > sizeof buffer) continue;
    for (size_t k = 0; k < len; ++k) buffer[k] = Lower(w[start + k]);
    if (!visit(std::string_view(buffer, len))) return;
  }
}

// Whether a context word of `type` stands near [start, end): in the 48
// bytes before it or the 24 after it.
bool HasContext(std::string_view w, PiiType type, size_t start, size_t end) {
  const uint16_t bit = TypeBit(type);
  bool found = false;
  char phrase[50];
  size_t previous = 0;  // length of the previous word if it begins a phrase, at phrase[0]
  auto visit = [&](std::string_view word) {
    uint16_t bits = kWords.Find(word);
    if (bits & bit) {
      found = true;
      return false;
    }
    if (previous > 0) {
      phrase[previous] = ' ';
      std::copy(word.begin(), word.end(), phrase + previous + 1);
      if (kWords.Find(std::string_view(phrase, previous + 1 + word.size())) & bit) {
        found = true;
        return false;
      }
    }
    previous = 0;
    if (bits & kPhraseStartBit) {
      std::copy(word.begin(), word.end(), phrase);
      previous = word.size();
    }
    return true;
  };
  ForEachWord(w, start > 48 ? start - 48 : 0, start, visit);
  if (found) return true;
  previous = 0;
  ForEachWord(w, end, std::min(w.size(), end + 24), visit);
  return found;
}

// Whether the last whole word in the 16 bytes before `start` marks a
// version ("version 10.0.19041.1").
bool AfterVersionWord(std::string_view w, size_t start) {
  uint16_t bits = 0;
  ForEachWord(w, start > 16 ? start - 16 : 0, start, [&](std::string_view word) {
    bits = kWords.Find(word);
    return true;
  });
  return (bits & kVersionBit) != 0;
}

Confidence Raise(Confidence c) {
  return c == Confidence::kLow ? Confidence::kMedium : Confidence::kHigh;
}

// File extensions that follow '@' in names such as icon@2x.png: never an
// e-mail address's top-level domain.
constexpr std::string_view kFileExtensions[] = {"png", "jpg", "jpeg", "gif", "svg", "webp",
                                                "ico", "bmp", "js",   "css", "map", "json",
                                                "txt", "log", "pdf",  "gz",  "tar", "html"};

class Detector {
 public:
  Detector(std::string_view w, size_t from, size_t to, std::vector<Candidate>* out)
      : w_(w), n_(w.size()), from_(from), to_(to), out_(out) {}

  // A word [i, e) (letters and digits) begins at i.
  void Word(size_t i, size_t e) {
    char c = w_[i];
    if (IsDigit(c)) {
      Numeric(i, e);
      return;
    }
    if (IsUpper(c) && e - i >= 4 && IsUpper(w_[i + 1]) && IsDigit(w_[i + 2]) &&
        IsDigit(w_[i + 3])) {
      Iban(i);
    }
    if (IsHex(c) && e - i <= 4 && e < n_ && w_[e] == ':' && AllHex(i, e) && NumericStart(i)) {
      Ipv6(i);
    }
    // A JSON or C escape glued to the word's front ("\tname", "\u00e9")
    // is not part of it: the word proper begins after the escape.
    if (i > 0 && w_[i - 1] == '\\') {
      size_t skip = c == 'u'                                                     ? 5
                    : (c == 'n' || c == 't' || c == 'r' || c == 'b' || c == 'f') ? 1
                                                                                 : 0;
      if (skip > 0 && i + skip < e) Word(i + skip, e);
    }
  }

  // '@' at `at`.
  void Email(size_t at) {
    size_t s = at;
    while (s > 0 && IsLocalChar(w_[s - 1]) && at - s <= 64) --s;
    if (at - s > 64) return;
    // An escape glued to the front ("\njohn@…", "\u0022john@…").
    if (s > 0 && w_[s - 1] == '\\' && s < at) s += w_[s] == 'u' ? 5 : 1;
    while (s < at && !IsAlnum(w_[s])) ++s;
    if (s >= at || w_[at - 1] == '.') return;
    for (size_t k = s; k + 1 < at; ++k) {
      if (w_[k] == '.' && w_[k + 1] == '.') return;
    }
    // The domain: labels of letters, digits and inner hyphens, at least two,
    // the last one (top-level) letters only.
    size_t pos = at + 1;
    int labels = 0;
    size_t last_label = pos;
    size_t end = 0;
    while (pos < n_ && pos - at <= 254) {
      size_t label = pos;
      while (pos < n_ && (IsAlnum(w_[pos]) || w_[pos] == '-') && pos - label <= 63) ++pos;
      size_t len = pos - label;
      if (len == 0 || len > 63 || w_[label] == '-' || w_[pos - 1] == '-') break;
      ++labels;
      last_label = label;
      end = pos;
      if (pos + 1 < n_ && w_[pos] == '.' && IsAlnum(w_[pos + 1])) {
        ++pos;
        continue;
      }
      break;
    }
    if (labels < 2 || end - at - 1 > 253) return;
    std::string_view tld = w_.substr(last_label, end - last_label);
    if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), IsAlpha)) return;
    std::string lower(tld);
    for (char& ch : lower) ch = Lower(ch);
    if (InList(kFileExtensions, lower)) return;
    if (end < n_ && (IsAlnum(w_[end]) || w_[end] == '@')) return;
    Add(PiiType::kEmail, Confidence::kMedium, s, end);
  }

  // '+' at i, not glued to a word before it.
  void Plus(size_t i) { E164(i, i + 1, Confidence::kMedium); }

  // '(' at i, not glued to a word before it.
  void Paren(size_t i) {
    if (i + 1 < n_ && IsDigit(w_[i + 1])) Nanp(i, i);
  }

  // "::" at i, not glued to a word before it.
  void DoubleColon(size_t i) {
    if (i + 2 < n_ && IsHex(w_[i + 2])) Ipv6(i);
  }

 private:
  bool AllHex(size_t i, size_t e) const {
    for (size_t k = i; k < e; ++k) {
      if (!IsHex(w_[k])) return false;
    }
    return true;
  }

  // Whether a number may begin at i: not glued to a word, nor to a number
  // by a joiner ("1.2.3.4.5" holds no address starting at "2").
  bool NumericStart(size_t i) const {
    if (i == 0) return true;
    char p = w_[i - 1];
    if (IsAlnum(p)) return false;
    if (IsJoiner(p) && i >= 2 && IsAlnum(w_[i - 2])) return IsAlpha(w_[i - 2]) && p != '.';
    return true;
  }
  // Whether a number may end at e: not glued to a word, nor joined to a
  // further number by one of `joiners`.
  bool NumericEnd(size_t e, std::string_view joiners) const {
    if (e >= n_) return true;
    char c = w_[e];
    if (IsAlnum(c)) return false;
    if (joiners.find(c) != std::string_view::npos && e + 1 < n_ && IsAlnum(w_[e + 1])) return false;
    return true;
  }

  void Add(PiiType type, Confidence base, size_t start, size_t end) {
    if (start < from_ || start >= to_) return;
    Confidence c = base;
    if (c != Confidence::kHigh && HasContext(w_, type, start, end)) c = Raise(c);
    out_->push_back({type, c, start, end});
  }

  // A word of digits (and perhaps hex letters) [i, e) begins at i.
  void Numeric(size_t i, size_t e) {
    if (!NumericStart(i)) return;
    size_t r = i;
    while (r < e && IsDigit(w_[r])) ++r;
    size_t digits = r - i;
    char next = e < n_ ? w_[e] : '\0';
    if (e - i <= 4 && next == ':' && AllHex(i, e)) Ipv6(i);
    if (r != e) return;  // letters after the digits
    if (digits <= 3 && next == '.') Ipv4(i);
    if (digits == 3 && (next == '-' || next == ' ')) Ssn(i);
    if ((digits == 3 && (next == '-' || next == '.' || next == ' ')) ||
        (digits == 1 && w_[i] == '1' && (next == '-' || next == '.' || next == ' '))) {
      Nanp(i, i);
    }
    if ((digits >= 13 && digits <= 19) || (digits == 4 && (next == ' ' || next == '-'))) {
      Card(i);
    }
    if (w_[i] == '0' && digits >= 2 && digits <= 5 &&
        (next == ' ' || next == '-' || next == '.' || next == '/')) {
      National(i);
    }
  }

  void Ipv4(size_t i) {
    std::array<uint8_t, 4> octets;
    size_t len = ParseIpv4(w_.substr(i, 16), &octets);
    if (len == 0) return;
    size_t e = i + len;
    if (!NumericEnd(e, ".-")) return;
    if (AfterVersionWord(w_, i)) return;
    // A product token's version, as in a User-Agent: "Chrome/120.0.0.0".
    if (i >= 2 && w_[i - 1] == '/' && IsAlnum(w_[i - 2])) return;
    // Addresses that name no one: unspecified, loopback, broadcast.
    bool impersonal =
        octets[0] == 0 || octets[0] == 127 ||
        (octets[0] == 255 && octets[1] == 255 && octets[2] == 255 && octets[3] == 255);
    Add(PiiType::kIpv4, impersonal ? Confidence::kLow : Confidence::kMedium, i, e);
  }

  void Ipv6(size_t i) {
    if (i > 0 && (IsAlnum(w_[i - 1]) || w_[i - 1] == ':' || w_[i - 1] == '.')) return;
    int groups = 0;
    std::array<uint8_t, 16> bytes;
    size_t len = ParseIpv6(w_.substr(i, 64), &groups, &bytes);
    if (len == 0 || groups == 0) return;
    size_t e = i + len;
    if (e < n_) {
      char c = w_[e];
      if (IsAlnum(c)) return;
      if ((c == ':' || c == '.') && e + 1 < n_ && IsHex(w_[e + 1])) return;
    }
    bool loopback = groups == 1 &&
                    std::all_of(bytes.begin(), bytes.end() - 1, [](uint8_t b) { return b == 0; });
    Confidence c = groups >= 3 && !loopback ? Confidence::kMedium : Confidence::kLow;
    Add(PiiType::kIpv6, c, i, e);
  }

  void Ssn(size_t i) {
    if (i + 11 > n_) return;
    char sep = w_[i + 3];
    for (size_t k : {0, 1, 2, 4, 5, 7, 8, 9, 10}) {
      if (!IsDigit(w_[i + k])) return;
    }
    if (w_[i + 6] != sep) return;
    if (!NumericEnd(i + 11, ".-/")) return;
    auto num = [&](size_t at, size_t len) {
      int v = 0;
      for (size_t k = 0; k < len; ++k) v = v * 10 + (w_[i + at + k] - '0');
      return v;
    };
    if (!SsnValid(num(0, 3), num(4, 2), num(7, 4))) return;
    Add(PiiType::kUsSsn, sep == '-' ? Confidence::kMedium : Confidence::kLow, i, i + 11);
  }

  // A North American number at i: [1 sep] (ddd) ddd-dddd, ddd-ddd-dddd,
  // ddd.ddd.dddd or ddd ddd dddd, the area code and exchange beginning 2-9.
  void Nanp(size_t i, size_t pos) {
    auto digits_at = [&](size_t at, size_t count) {
      if (at + count > n_) return false;
      for (size_t k = 0; k < count; ++k) {
        if (!IsDigit(w_[at + k])) return false;
      }
      return true;
    };
    auto is_sep = [](char c) { return c == '-' || c == '.' || c == ' '; };
    if (w_[pos] == '1' && pos + 1 < n_ && is_sep(w_[pos + 1]) && !digits_at(pos, 3)) {
      pos += 2;
      if (pos < n_ && w_[pos] == ' ') return;
    }
    bool paren = pos < n_ && w_[pos] == '(';
    if (paren) ++pos;
    if (!digits_at(pos, 3) || w_[pos] < '2') return;
    pos += 3;
    char sep1 = '\0';
    if (paren) {
      if (pos >= n_ || w_[pos] != ')') return;
      ++pos;
      if (pos < n_ && (w_[pos] == ' ' || w_[pos] == '-')) sep1 = w_[pos++];
    } else {
      if (pos >= n_ || !is_sep(w_[pos])) return;
      sep1 = w_[pos++];
    }
    if (!digits_at(pos, 3) || w_[pos] < '2') return;
    pos += 3;
    if (pos >= n_ || !is_sep(w_[pos])) return;
    char sep2 = w_[pos++];
    if (!paren && sep2 != sep1) return;
    if (!digits_at(pos, 4)) return;
    pos += 4;
    if (!NumericEnd(pos, ".-/:")) return;
    bool spaced = !paren && sep1 == ' ';
    Add(PiiType::kPhone, spaced ? Confidence::kLow : Confidence::kMedium, i, pos);
  }

  // An international number: the country code's first digit at `pos`, after
  // '+' (or "00") at i. Digits may be grouped by single spaces, hyphens or
  // dots, one group may be in parentheses, "(0)" is the trunk prefix.
  void E164(size_t i, size_t pos, Confidence base) {
    if (pos >= n_ || w_[pos] < '1' || w_[pos] > '9') return;
    int digits = 0;
    bool paren_used = false;
    while (pos < n_) {
      while (pos < n_ && IsDigit(w_[pos])) {
        if (++digits > 15) return;
        ++pos;
      }
      if (pos + 1 < n_ && (w_[pos] == ' ' || w_[pos] == '-' || w_[pos] == '.') &&
          IsDigit(w_[pos + 1])) {
        ++pos;
        continue;
      }
      size_t open = pos;
      if (open + 1 < n_ && w_[open] == ' ' && w_[open + 1] == '(') ++open;
      if (!paren_used && open < n_ && w_[open] == '(') {
        size_t close = open + 1;
        while (close < n_ && IsDigit(w_[close]) && close - open <= 4) ++close;
        size_t inner = close - open - 1;
        if (inner == 0 || inner > 4 || close >= n_ || w_[close] != ')') break;
        if (!(inner == 1 && w_[open + 1] == '0')) {
          digits += static_cast<int>(inner);
          if (digits > 15) return;
        }
        paren_used = true;
        pos = close + 1;
        if (pos + 1 < n_ && (w_[pos] == ' ' || w_[pos] == '-') && IsDigit(w_[pos + 1])) ++pos;
        continue;
      }
      break;
    }
    if (digits < 8 || w_[pos - 1] == ')') return;
    if (!NumericEnd(pos, ".-/:")) return;
    Add(PiiType::kPhone, base, i, pos);
  }

  // A national number written with its trunk prefix 0 ("020 7946 0958",
  // "06 12 34 56 78", "0151-1234567"), or an international one after "00".
  void National(size_t i) {
    if (w_[i + 1] == '0') {
      E164(i, i + 2, Confidence::kLow);
      return;
    }
    size_t pos = i;
    int digits = 0, groups = 0;
    char sep = '\0';
    while (pos < n_) {
      size_t start = pos;
      while (pos < n_ && IsDigit(w_[pos])) ++pos;
      size_t len = pos - start;
      if (len < 2 || len > 8) return;
      digits += static_cast<int>(len);
      ++groups;
      if (digits > 12) return;
      if (pos + 1 < n_ && IsDigit(w_[pos + 1])) {
        char c = w_[pos];
        bool is_sep = c == ' ' || c == '-' || c == '.' || c == '/';
        // The first separator may differ from the rest: "030/1234 5678".
        if (is_sep && (groups == 1 || sep == '\0' || c == sep)) {
          if (groups > 1) sep = c;
          ++pos;
          continue;
        }
      }
      break;
    }
    if (groups < 2 || digits < 9) return;
    if (!NumericEnd(pos, ".-/:")) return;
    Add(PiiType::kPhone, Confidence::kLow, i, pos);
  }

  // A card number at i: 13-19 digits, bare or in groups separated by single
  // spaces or hyphens (the first group of four), with a known issuer and a
  // valid Luhn digit.
  void Card(size_t i) {
    char digits[19];
    int count = 0;
    struct Group {
      int digits;  // digits up to the group's end
      size_t end;
      size_t len;
    } groups[8];
    int ngroups = 0;
    char sep = '\0';
    bool more = false;  // digits continue past the last group kept
    size_t pos = i;
    while (true) {
      size_t start = pos;
      int before = count;
      while (pos < n_ && IsDigit(w_[pos]) && count < 19) digits[count++] = w_[pos++];
      if (pos < n_ && IsDigit(w_[pos])) {
        if (ngroups == 0) return;  // a run of more than 19 digits is no card
        count = before;
        more = true;
        break;
      }
      groups[ngroups++] = {count, pos, pos - start};
      if (pos + 1 < n_ && (w_[pos] == ' ' || w_[pos] == '-') && IsDigit(w_[pos + 1]) &&
          (sep == '\0' || w_[pos] == sep)) {
        if (ngroups == 8 || count == 19) {
          more = true;
          break;
        }
        sep = w_[pos++];
        continue;
      }
      break;
    }
    if (ngroups == 1) {
      if (count < 13 || !NumericEnd(pos, ".-/:")) return;
      if (CardNumberValid(std::string_view(digits, static_cast<size_t>(count)))) {
        Add(PiiType::kCard, Confidence::kMedium, i, pos);
      }
      return;
    }
    if (groups[0].len != 4) return;
    // The longest run of groups that is a card number: a card followed by
    // another number on a space-separated line is still found.
    for (int k = ngroups; k >= 2; --k) {
      bool shaped = true;
      for (int g = 1; g < k; ++g) shaped = shaped && groups[g].len >= 2 && groups[g].len <= 6;
      if (!shaped) continue;
      int total = groups[k - 1].digits;
      if (total < 13) break;
      bool prefix = k < ngroups || more;
      if (prefix && sep != ' ') continue;
      if (!prefix && !NumericEnd(groups[k - 1].end, ".-/:")) {
        if (sep == ' ') continue;  // the last group belongs to what follows
        return;
      }
      if (CardNumberValid(std::string_view(digits, static_cast<size_t>(total)))) {
        Add(PiiType::kCard, Confidence::kMedium, i, groups[k - 1].end);
        return;
      }
    }
  }

  // An IBAN at i, compact or printed in groups of four separated by single
  // spaces, of exactly its country's length, passing mod-97.
  void Iban(size_t i) {
    int length = IbanLength(w_[i], w_[i + 1]);
    if (length == 0) return;
    char compact[34];
    int count = 0;
    size_t pos = i;
    int spaced = -1;  // unknown until the first group's end
    while (count < length) {
      if (count > 0 && count % 4 == 0) {
        bool space = pos < n_ && w_[pos] == ' ';
        if (spaced == -1) spaced = space ? 1 : 0;
        if (space != (spaced == 1)) return;
        if (space) ++pos;
      }
      if (pos >= n_ || !(IsDigit(w_[pos]) || IsUpper(w_[pos]))) return;
      compact[count++] = w_[pos++];
    }
    if (pos < n_ && IsAlnum(w_[pos])) return;
    if (!IbanValid(std::string_view(compact, static_cast<size_t>(count)))) return;
    Add(PiiType::kIban, Confidence::kHigh, i, pos);
  }

  std::string_view w_;
  size_t n_;
  size_t from_, to_;
  std::vector<Candidate>* out_;
};

}  // namespace

void Detect(std::string_view w, size_t from, size_t to, std::vector<Candidate>* out) {
  const size_t n = w.size();
  to = std::min(to, n);
  if (from >= to) return;
  Detector detector(w, from, to, out);
  // '@' is looked for past `to`: an address starting before it has its '@'
  // up to 65 bytes further.
  const size_t scan_end = std::min(n, to + 66);
  size_t i = from;
  // A word that `from` cuts is looked at from its start (Add keeps only the
  // candidates from `from` on), unless it runs past the window's start:
  // then it is longer than the margin and holds no candidate after `from`.
  if (i > 0 && IsAlnum(w[i - 1])) {
    size_t start = i - 1;
    while (start > 0 && IsAlnum(w[start - 1])) --start;
    while (i < n && IsAlnum(w[i])) ++i;
    if (start > 0) detector.Word(start, i);
  }
  const char* p = w.data();
  while (i < scan_end) {
    switch (kClass[U(p[i])]) {
      case kOther:
        ++i;
        while (i < scan_end && kClass[U(p[i])] == kOther) ++i;
        continue;
      case kAlnum: {
        size_t e = i + 1;
        while (e < n && kClass[U(p[e])] == kAlnum) ++e;
        // Most words are lower-case letters that begin nothing: only a
        // digit, an upper-case letter, a hex word before ':' or a word after
        // '\\' is looked at.
        char c = p[i];
        if (i < to && (IsDigit(c) || IsUpper(c) || (e - i <= 4 && e < n && p[e] == ':') ||
                       (i > 0 && p[i - 1] == '\\'))) {
          detector.Word(i, e);
        }
        i = e;
        continue;
      }
      case kAt:
        detector.Email(i);
        ++i;
        continue;
      case kPlus:
        if (i < to && (i == 0 || !IsAlnum(p[i - 1]))) detector.Plus(i);
        ++i;
        continue;
      case kParen:
        if (i < to && (i == 0 || !IsAlnum(p[i - 1]))) detector.Paren(i);
        ++i;
        continue;
      case kColon:
        if (i < to && i + 1 < n && p[i + 1] == ':' &&
            (i == 0 || (!IsAlnum(p[i - 1]) && p[i - 1] != ':'))) {
          detector.DoubleColon(i);
        }
        ++i;
        continue;
      default:
        ++i;
    }
  }
}

}  // namespace interlock::scan::pii
