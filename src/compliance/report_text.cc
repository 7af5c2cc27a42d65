#include "compliance/report_text.h"

#include <array>
#include <utility>

#include "core/digest.h"
#include "core/text.h"

namespace interlock::compliance {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

}  // namespace

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const size_t bad = FindInvalidUtf8(text);
    if (bad == std::string_view::npos) {
      out += text;
      break;
    }
    out += text.substr(0, bad);
    out += kReplacement;
    text.remove_prefix(bad + 1);
  }
  return out;
}

namespace {

// The entity reference that stands for `ch` in markup (& < >), or "".
std::string_view MarkupEntity(char ch) {
  switch (ch) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    default:
      return "";
  }
}

// ValidUtf8(text) with each character passed through `escape`, which
// appends what stands for it.
template <class Escape>
std::string EscapeEach(std::string_view text, Escape escape) {
  const std::string valid = ValidUtf8(text);
  std::string out;
  out.reserve(valid.size() + valid.size() / 8);
  for (char ch : valid) {
    if (std::string_view entity = MarkupEntity(ch); !entity.empty()) {
      out += entity;
    } else {
      escape(ch, out);
    }
  }
  return out;
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  return EscapeEach(text, [](char ch, std::string& out) {
    static constexpr std::array<std::pair<char, std::string_view>, 5> kReferences = {
        {{'"', "&quot;"}, {'\'', "&#39;"}, {'\t', "&#9;"}, {'\n', "&#10;"}, {'\r', "&#13;"}}};
    for (const auto& [c, reference] : kReferences) {
      if (c == ch) {
        out += reference;
        return;
      }
    }
    if (IsControl(static_cast<unsigned char>(ch))) {
      out += kReplacement;
    } else {
      out += ch;
    }
  });
}

std::string MarkdownCell(std::string_view text) {
  return EscapeEach(text, [](char ch, std::string& out) {
    if (std::string_view("\\|`*_[]#").find(ch) != std::string_view::npos) {
      out += '\\';
      out += ch;
    } else {
      out += IsControl(static_cast<unsigned char>(ch)) ? ' ' : ch;
    }
  });
}

std::string CsvField(std::string_view text) {
  std::string field = ValidUtf8(text);
  bool quote = field.find_first_of(",\"\r\n") != std::string::npos;
  if (!field.empty() &&
      std::string_view("=+-@\t\r").find(field.front()) != std::string_view::npos) {
    field.insert(field.begin(), '\'');
    quote = true;
  }
  if (!quote) return field;
  std::string out = "\"";
  for (char ch : field) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

std::string NameBasedUuid(std::string_view name) {
  Sha256Hasher hasher;
  hasher.Update("interlock/");
  hasher.Update(name);
  Sha256 digest = hasher.Finish();
  digest[6] = static_cast<uint8_t>((digest[6] & 0x0F) | 0x50);
  digest[8] = static_cast<uint8_t>((digest[8] & 0x3F) | 0x80);
  const std::string hex = ToHex(digest.data(), 16);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace interlock::compliance
