// Text made safe for each report format, and the identifiers reports share.
// Pure functions of their arguments; thread safe.
#pragma once

#include <string>
#include <string_view>

namespace interlock::compliance {

// `text` with every byte that does not begin a well-formed UTF-8 sequence
// (core/text.h FindInvalidUtf8) replaced by U+FFFD, as the JSON reports do
// (nlohmann's error_handler_t::replace).
std::string ValidUtf8(std::string_view text);

// XML 1.0 character data or attribute value (also HTML): ValidUtf8, then
// & < > " ' as entity references, tab, newline and carriage return as
// character references (so attributes keep them), and every other control
// character, which XML 1.0 cannot carry, as U+FFFD.
std::string XmlEscape(std::string_view text);

// One cell of a Markdown table: ValidUtf8; & < > as entities (no HTML gets
// through); \ | ` * _ [ ] # preceded by a backslash; newlines, carriage
// returns and other control characters as spaces.
std::string MarkdownCell(std::string_view text);

// One field of an RFC 4180 record: ValidUtf8; a field starting with
// = + - @, tab or carriage return gets a leading ' (so a spreadsheet does
// not read it as a formula); quoted, quotes doubled, when it holds , " CR
// or LF or when it was prefixed.
std::string CsvField(std::string_view text);

// A name-based UUID: the first 16 bytes of SHA-256("interlock/" + name)
// with the version nibble set to 5 and the RFC 4122 variant, lower-case
// hex, "xxxxxxxx-xxxx-5xxx-[89ab]xxx-xxxxxxxxxxxx". The same name always
// gives the same UUID.
std::string NameBasedUuid(std::string_view name);

}  // namespace interlock::compliance
