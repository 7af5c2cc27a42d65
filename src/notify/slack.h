// Text for Slack messages (mrkdwn). Slack reads "<...>" as a mention, a
// broadcast ("<!channel>") or a link ("<https://x|label>"), so text that
// Interlock did not write itself (a change summary, a reason, an id) must go
// through SlackEscape before it is put into a message; only the mentions
// Interlock means to make are written as markup, with SlackMention.
#pragma once

#include <string>
#include <string_view>

namespace interlock::notify {

// `text` with "&", "<" and ">" replaced by "&amp;", "&lt;" and "&gt;", the
// escaping Slack documents for text that must show as written. Everything
// else, "*" and "_" included, is kept.
std::string SlackEscape(std::string_view text);

// A mention that notifies the Slack user `slack_id`: "<@U123>".
// REQUIRES: `slack_id` is a Slack user id (the governance loader checks each
// principal's slack_id).
std::string SlackMention(std::string_view slack_id);

}  // namespace interlock::notify
