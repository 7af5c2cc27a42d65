// Byte encodings for storing and sending binary values as text: base64
// (RFC 4648 section 4) and hex. Decoding is strict, so every byte string has
// exactly one accepted encoding, and errors never quote the input, which may
// be a key.
//
// Nothing here throws, apart from std::bad_alloc. Thread safety: pure
// functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace interlock {

// The bytes of `s`, for the functions that take binary input.
inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Standard base64 alphabet (RFC 4648 section 4) with '=' padding.
std::string Base64Encode(std::string_view bytes);
// Strict inverse of Base64Encode: rejects a length that is not a multiple of
// 4, characters outside the alphabet (including whitespace), misplaced
// padding, and non-zero bits after the last byte, so every byte string has
// exactly one accepted encoding. Errors never quote the input, which may be
// a key.
Result<std::string> Base64Decode(std::string_view text);

// Lowercase hex.
std::string HexEncode(std::span<const uint8_t> bytes);
inline std::string HexEncode(std::string_view bytes) { return HexEncode(AsBytes(bytes)); }
// Accepts upper and lower case. Errors never quote the input.
Result<std::string> HexDecode(std::string_view text);

}  // namespace interlock
