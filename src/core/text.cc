#include "core/text.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>

namespace interlock {

std::string TextPosition(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t line_start = 0;
  for (size_t index = 0; index < offset && index < text.size(); ++index) {
    if (text[index] == '\n') {
      ++line;
      line_start = index + 1;
    }
  }
  return fmt::format("line {}, column {}", line, offset - line_start + 1);
}

size_t FindInvalidUtf8(std::string_view text) {
  size_t index = 0;
  while (index < text.size()) {
    // Eight ASCII bytes at a time: none has its high bit set.
    uint64_t word;
    if (text.size() - index >= sizeof word &&
        (std::memcpy(&word, text.data() + index, sizeof word), (word & 0x8080808080808080u) == 0)) {
      index += sizeof word;
      continue;
    }
    auto lead = static_cast<unsigned char>(text[index]);
    if (lead < 0x80) {
      ++index;
      continue;
    }
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return index;
    }
    if (text.size() - index < length) return index;
    auto second = static_cast<unsigned char>(text[index + 1]);
    if (second < low || second > high) return index;
    for (size_t next = 2; next < length; ++next) {
      if ((static_cast<unsigned char>(text[index + next]) & 0xC0) != 0x80) return index;
    }
    index += length;
  }
  return std::string_view::npos;
}

Result<std::string> CanonicalService(std::string_view name) {
  std::string out(name);
  bool valid = !out.empty() && out.size() <= 128;
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 'A' && u <= 'Z') c = static_cast<char>(u - 'A' + 'a');
    valid = valid &&
            ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
  }
  if (!valid) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("\"{}\" is not a service name (1-128 of a-z A-Z 0-9 . _ -)", name)));
  }
  return out;
}

std::string TrimSpace(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  size_t b = 0, e = text.size();
  while (b < e && space(text[b])) ++b;
  while (e > b && space(text[e - 1])) --e;
  return std::string(text.substr(b, e - b));
}

}  // namespace interlock
