// Files compiled into the binary by cmake/embed.cmake: the default
// governance directory and the dashboard.
#pragma once

#include <string_view>

namespace interlock {

struct EmbeddedFile {
  std::string_view path;  // relative, '/'-separated
  std::string_view contents;
};

}  // namespace interlock
