#include "core/text.h"

#include <fmt/format.h>

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

}  // namespace interlock
