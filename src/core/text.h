// Small helpers for messages about text input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace interlock {

// "line L, column C" (both from 1, the column in bytes) of a byte offset.
std::string TextPosition(std::string_view text, size_t offset);

}  // namespace interlock
