#include "scan/pii_validate.h"

#include <algorithm>

namespace interlock::scan::pii {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The leading `n` digits as a number. REQUIRES: digits.size() >= n.
int Prefix(std::string_view digits, size_t n) {
  int value = 0;
  for (size_t i = 0; i < n; ++i) value = value * 10 + (digits[i] - '0');
  return value;
}

// The IBAN registry (ISO 13616): each country that issues IBANs and the
// length of its IBANs, sorted by code.
struct IbanCountry {
  char code[3];
  int length;
};
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20},
    {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
    {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25},
    {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
    {"YE", 30},
};

// kIbanCountries as a 26x26 table, built once.
struct IbanTable {
  uint8_t length[26][26] = {};
  constexpr IbanTable() {
    for (const IbanCountry& c : kIbanCountries) length[c.code[0] - 'A'][c.code[1] - 'A'] = c.length;
  }
};
constexpr IbanTable kIbanTable;

}  // namespace

bool LuhnValid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return !digits.empty() && sum % 10 == 0;
}

std::optional<CardIssuer> CardIssuerOf(std::string_view digits) {
  size_t n = digits.size();
  if (n < 13 || n > 19) return std::nullopt;
  int p1 = Prefix(digits, 1), p2 = Prefix(digits, 2), p3 = Prefix(digits, 3),
      p4 = Prefix(digits, 4);
  if (p1 == 4) {
    if (n == 13 || n == 16 || n == 19) return CardIssuer::kVisa;
    return std::nullopt;
  }
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) {
    if (n == 16) return CardIssuer::kMastercard;
    return std::nullopt;
  }
  if (p2 == 34 || p2 == 37) {
    if (n == 15) return CardIssuer::kAmex;
    return std::nullopt;
  }
  if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) {
    if (n >= 16) return CardIssuer::kDiscover;
    return std::nullopt;
  }
  if (p4 >= 3528 && p4 <= 3589) {
    if (n >= 16) return CardIssuer::kJcb;
    return std::nullopt;
  }
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38) {
    if (n >= 14) return CardIssuer::kDiners;
    return std::nullopt;
  }
  if (p2 == 62) {
    if (n >= 16) return CardIssuer::kUnionPay;
    return std::nullopt;
  }
  return std::nullopt;
}

bool CardNumberValid(std::string_view digits) {
  if (digits.size() < 13 || digits.size() > 19) return false;
  if (!std::all_of(digits.begin(), digits.end(), IsDigit)) return false;
  return CardIssuerOf(digits).has_value() && LuhnValid(digits);
}

int IbanLength(char a, char b) {
  if (!IsUpper(a) || !IsUpper(b)) return 0;
  return kIbanTable.length[a - 'A'][b - 'A'];
}

bool IbanValid(std::string_view compact) {
  if (compact.size() < 4) return false;
  int length = IbanLength(compact[0], compact[1]);
  if (length == 0 || compact.size() != static_cast<size_t>(length)) return false;
  if (!IsDigit(compact[2]) || !IsDigit(compact[3])) return false;
  // ISO 7064 MOD 97-10 over the BBAN followed by the first four characters,
  // letters counting 10 (A) to 35 (Z).
  uint32_t remainder = 0;
  for (size_t k = 0; k < compact.size(); ++k) {
    char c = compact[(k + 4) % compact.size()];
    if (IsDigit(c)) {
      remainder = (remainder * 10 + static_cast<uint32_t>(c - '0')) % 97;
    } else if (IsUpper(c)) {
      remainder = (remainder * 100 + static_cast<uint32_t>(c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

bool SsnValid(int area, int group, int serial) {
  if (area <= 0 || area == 666 || area >= 900 || area > 999) return false;
  if (group <= 0 || group > 99) return false;
  if (serial <= 0 || serial > 9999) return false;
  return true;
}

size_t ParseIpv4(std::string_view text, std::array<uint8_t, 4>* octets) {
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return 0;
      ++pos;
    }
    size_t begin = pos;
    int value = 0;
    while (pos < text.size() && IsDigit(text[pos]) && pos - begin < 4) {
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    size_t len = pos - begin;
    if (len == 0 || len > 3 || value > 255) return 0;
    if (len > 1 && text[begin] == '0') return 0;  // a leading zero: not an address, or octal
    if (octets) (*octets)[part] = static_cast<uint8_t>(value);
  }
  if (pos < text.size() && IsDigit(text[pos])) return 0;
  return pos;
}

size_t ParseIpv6(std::string_view text, int* groups_out, std::array<uint8_t, 16>* bytes) {
  // Groups before "::" go to head, after it to tail; the longest prefix of
  // `text` that is a whole address is remembered as it is read.
  uint16_t head[8] = {}, tail[8] = {};
  int heads = 0, tails = 0;
  bool compressed = false;
  size_t pos = 0;
  struct Kept {
    size_t end = 0;
    int heads = 0, tails = 0;
  } kept;
  auto mark = [&] {
    bool whole = compressed ? heads + tails <= 7 : heads == 8;
    if (whole) kept = {pos, heads, tails};
  };
  auto push = [&](uint16_t group) {
    if (compressed) {
      tail[tails++] = group;
    } else {
      head[heads++] = group;
    }
  };
  if (text.size() >= 2 && text[0] == ':' && text[1] == ':') {
    compressed = true;
    pos = 2;
    mark();
  }
  while (pos < text.size() && heads + tails < 8) {
    // A dotted quad takes the last two groups.
    if (heads + tails <= 6 && (compressed || heads == 6) && IsDigit(text[pos])) {
      std::array<uint8_t, 4> quad;
      if (size_t n = ParseIpv4(text.substr(pos), &quad); n > 0) {
        push(static_cast<uint16_t>(quad[0] << 8 | quad[1]));
        push(static_cast<uint16_t>(quad[2] << 8 | quad[3]));
        pos += n;
        mark();
        break;
      }
    }
    size_t begin = pos;
    uint32_t value = 0;
    while (pos < text.size() && pos - begin < 5 && HexValue(text[pos]) >= 0) {
      value = value << 4 | static_cast<uint32_t>(HexValue(text[pos]));
      ++pos;
    }
    if (pos == begin || pos - begin > 4) break;
    push(static_cast<uint16_t>(value));
    mark();
    if (pos + 1 < text.size() && text[pos] == ':' && text[pos + 1] == ':') {
      if (compressed) break;
      compressed = true;
      pos += 2;
      mark();
      continue;
    }
    if (pos + 1 < text.size() && text[pos] == ':' && HexValue(text[pos + 1]) >= 0) {
      ++pos;
      continue;
    }
    break;
  }
  if (kept.end == 0) return 0;
  if (groups_out) *groups_out = kept.heads + kept.tails;
  if (bytes) {
    bytes->fill(0);
    auto put = [&](size_t slot, uint16_t group) {
      (*bytes)[2 * slot] = static_cast<uint8_t>(group >> 8);
      (*bytes)[2 * slot + 1] = static_cast<uint8_t>(group);
    };
    const auto heads = static_cast<size_t>(kept.heads), tails = static_cast<size_t>(kept.tails);
    for (size_t k = 0; k < heads; ++k) put(k, head[k]);
    for (size_t k = 0; k < tails; ++k) put(8 - tails + k, tail[k]);
  }
  return kept.end;
}

}  // namespace interlock::scan::pii
