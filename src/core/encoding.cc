#include "core/encoding.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "core/digest.h"

namespace interlock {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of a base64 character, or -1.
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error BadBase64(std::string what) {
  return Error::InvalidArgument("invalid base64: " + std::move(what));
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const uint8_t* in = AsBytes(bytes).data();
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out += kBase64Alphabet[(group >> 18) & 63];
    out += kBase64Alphabet[(group >> 12) & 63];
    out += kBase64Alphabet[(group >> 6) & 63];
    out += kBase64Alphabet[group & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = uint32_t{in[i]} << 16;
    if (rest == 2) group |= uint32_t{in[i + 1]} << 8;
    out += kBase64Alphabet[(group >> 18) & 63];
    out += kBase64Alphabet[(group >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(group >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::unexpected(BadBase64(fmt::format("length {} is not a multiple of 4", text.size())));
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    size_t data_chars = last ? 4 - padding : 4;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      int value = 0;
      if (j < data_chars) {
        value = Base64Value(text[i + j]);
        if (value < 0) {
          return std::unexpected(BadBase64(
              text[i + j] == '=' ? fmt::format("misplaced padding at offset {}", i + j)
                                 : fmt::format("unexpected character at offset {}", i + j)));
        }
      }
      group = (group << 6) | static_cast<uint32_t>(value);
    }
    out += static_cast<char>(group >> 16);
    if (data_chars >= 3) out += static_cast<char>((group >> 8) & 0xff);
    if (data_chars == 4) out += static_cast<char>(group & 0xff);
    // Bits below the last whole byte must be zero, or two encodings would
    // decode to the same bytes.
    if ((data_chars == 2 && (group & 0xffff) != 0) || (data_chars == 3 && (group & 0xff) != 0)) {
      return std::unexpected(BadBase64("non-zero bits after the last byte"));
    }
  }
  return out;
}

std::string HexEncode(std::span<const uint8_t> bytes) { return ToHex(bytes.data(), bytes.size()); }

Result<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("invalid hex: odd length {}", text.size())));
  }
  std::string out(text.size() / 2, '\0');
  for (size_t i = 0; i < text.size(); i += 2) {
    int high = HexValue(text[i]);
    int low = HexValue(text[i + 1]);
    if (high < 0 || low < 0) {
      OPENSSL_cleanse(out.data(), out.size());  // part of a key, perhaps
      return std::unexpected(Error::InvalidArgument(
          fmt::format("invalid hex: unexpected character at offset {}", high < 0 ? i : i + 1)));
    }
    out[i / 2] = static_cast<char>((high << 4) | low);
  }
  return out;
}

}  // namespace interlock
