#include "notify/slack.h"

#include <fmt/format.h>

namespace interlock::notify {

std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string SlackMention(std::string_view slack_id) { return fmt::format("<@{}>", slack_id); }

}  // namespace interlock::notify
