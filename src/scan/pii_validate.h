// The PII scanner's validators: the checks a candidate must pass to be a
// finding (internal to src/scan/, exposed for its tests).
//
// Every function is pure, thread-safe and total: any input gives an answer,
// never a crash.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace interlock::scan::pii {

// Whether a string of decimal digits passes the Luhn (mod 10) check.
// REQUIRES: digits holds only '0'..'9'.
bool LuhnValid(std::string_view digits);

enum class CardIssuer { kVisa, kMastercard, kAmex, kDiscover, kJcb, kDiners, kUnionPay };
// The issuer whose prefix and lengths fit a card number of 13 to 19 digits:
// Visa 4 (13, 16, 19 digits); Mastercard 51-55 and 2221-2720 (16); Amex 34,
// 37 (15); Discover 6011, 65, 644-649 (16-19); JCB 3528-3589 (16-19); Diners
// 300-305, 36, 38 (14-19); UnionPay 62 (16-19). nullopt for any other.
// REQUIRES: digits holds only '0'..'9'.
std::optional<CardIssuer> CardIssuerOf(std::string_view digits);
// A number of 13-19 digits with a known issuer that passes Luhn.
bool CardNumberValid(std::string_view digits);

// The IBAN length of a country of the IBAN registry (ISO 13616), by its
// two upper-case letters; 0 for a country without IBANs.
int IbanLength(char a, char b);
// Whether `compact` (upper-case letters and digits, no spaces) is an IBAN:
// a registry country, its exact length, two check digits and mod-97 = 1.
bool IbanValid(std::string_view compact);

// Whether area-group-serial is a possible US SSN: area neither 000, 666 nor
// 900-999; group not 00; serial not 0000.
bool SsnValid(int area, int group, int serial);

// A dotted-quad IPv4 address at the start of `text`: four decimal octets
// 0-255 without leading zeros. Returns its length, or 0.
size_t ParseIpv4(std::string_view text, std::array<uint8_t, 4>* octets);
// An IPv6 address (RFC 4291 text forms: eight groups, `::` compression, a
// trailing dotted quad) at the start of `text`, as long as possible.
// Returns its length, or 0; `groups` receives the number of groups written
// (a dotted quad counts two) and `bytes` the address.
size_t ParseIpv6(std::string_view text, int* groups, std::array<uint8_t, 16>* bytes);

}  // namespace interlock::scan::pii
