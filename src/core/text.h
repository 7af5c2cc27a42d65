// Small helpers for messages about text input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace interlock {

// "line L, column C" (both from 1, the column in bytes) of a byte offset.
std::string TextPosition(std::string_view text, size_t offset);

// The offset of the first byte that does not begin a well-formed UTF-8
// sequence (RFC 3629, table 3-7 of Unicode: no overlong forms, no
// surrogates, nothing above U+10FFFF), or npos when all of `text` is.
size_t FindInvalidUtf8(std::string_view text);

// `text` without the spaces, tabs, carriage returns and newlines at either
// end.
std::string TrimSpace(std::string_view text);

// A service name in its canonical form: 1 to 128 of a-z 0-9 . _ -, with
// upper-case letters lowered, so "Payments" and "payments" are one service
// wherever names are compared (stop scopes, requests, the known list).
// kInvalidArgument otherwise:
//   "\"pay ments\" is not a service name (1-128 of a-z A-Z 0-9 . _ -)"
Result<std::string> CanonicalService(std::string_view name);

}  // namespace interlock
