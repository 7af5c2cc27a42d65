// E-mail delivery over SMTP for the notification outbox: one plain-text
// message per call, handed to a relay with libcurl.
//
// Nothing in this header throws.
//
// Thread safety: FormatMail and SendMail may be called from any number of
// threads at once; each SendMail call has its own connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace interlock::notify {

struct SmtpOptions {
  // The relay: "smtp://host[:port]" (port 25 by default) or
  // "smtps://host[:port]" (TLS from the first byte, port 465 by default).
  // The host is a name, an IPv4 address or an IPv6 address in brackets.
  // Credentials, paths, queries and any other scheme are refused. Required.
  std::string url;
  // For smtp://: require STARTTLS before anything is sent, and fail if the
  // relay does not offer it; never falls back to clear text. false sends in
  // clear (a relay on loopback, tests). Ignored for smtps://. Default: true.
  bool starttls = true;
  // Authenticate (AUTH PLAIN or LOGIN, as the relay offers) unless empty.
  // Default: empty, no AUTH.
  std::string username;
  // Used only with a username. Never appears in an error message.
  std::string password;
  // A PEM file of the certificate authorities to trust. Default: empty, the
  // system's trust store. Certificates and host names are always verified.
  std::string ca_file;
  // From the start of connecting to the end of the TLS handshake. Must be
  // positive. Default: 10 s.
  std::chrono::milliseconds connect_timeout{10000};
  // The whole exchange, connecting included. Must be positive. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
};

struct Mail {
  // The envelope sender and the From header: a bare address such as
  // "interlock@example.com" (no display name, no angle brackets).
  std::string from;
  // The envelope recipients and the To header: at least one bare address.
  std::vector<std::string> to;
  // One line of UTF-8.
  std::string subject;
  // The body: UTF-8, lines separated by "\n" (a "\r\n" counts as one line
  // break; "a" and "a\n" give the same message).
  std::string text;
  // The Message-ID header, angle brackets included: "<ntf_0123@interlock>".
  // Keep it stable across retries of one notification. Required.
  std::string message_id;
  // The Date header, milliseconds since the Unix epoch; the year must be
  // 1970 to 9999.
  int64_t date_unix_millis = 0;
};

// Builds the RFC 5322 message for `mail`, lines ending in CRLF, in this
// order: From, To, Subject, Date (RFC 5322 form, "+0000"), Message-ID,
// MIME-Version: 1.0, Content-Type: text/plain; charset=utf-8,
// Content-Transfer-Encoding: quoted-printable, a blank line, then the body
// encoded per RFC 2045 (no line over 76 characters, every non-ASCII byte
// escaped) and ending in CRLF. A subject that is not printable ASCII, is too
// long for one line or contains "=?" becomes RFC 2047 encoded-words
// (=?UTF-8?B?...?=) of whole characters, folded over lines of under 78
// characters; a long To header is folded after commas. SMTP dot-stuffing is
// not applied: that is the transport's job (SendMail's libcurl does it).
//
// Fails with kInvalidArgument, naming the field and quoting it with control
// characters escaped, when:
//   - from, an entry of to, subject or message_id contains CR, LF or NUL;
//   - from or an entry of to is not an address: not exactly one '@', an
//     empty part before or after it, a space, a control or non-ASCII
//     character, one of <>()[]\,;:" or more than 254 characters
//     (`to[2]: "a b@x" is not an e-mail address (it contains a space)`);
//   - to is empty;
//   - subject or text is not valid UTF-8 (the message gives the byte offset);
//   - message_id is not "<left@right>" with both parts made of letters,
//     digits and !#$%&'*+-/=?^_`{|}~. only, or is over 250 bytes;
//   - date_unix_millis is outside the years 1970 to 9999.
Result<std::string> FormatMail(const Mail& mail);

// Sends `mail` (formatted by FormatMail) through the relay in `options`, to
// every address of mail.to, and returns once the relay has accepted it.
// Fails with:
//   kInvalidArgument  the options or the mail are unusable (FormatMail's
//                     checks; a bad url, quoted; a non-positive timeout; a
//                     CR, LF or NUL in username or password; a password
//                     without a username; a CA file that cannot be loaded),
//                     or the relay refused for good (a 5xx reply, to MAIL,
//                     RCPT, DATA or AUTH): retrying will not help
//   kUnavailable      the host cannot be resolved or reached, the TLS
//                     handshake fails (an untrusted certificate, a host name
//                     it does not cover), STARTTLS is required and not
//                     offered, a timeout passes, the connection breaks, or
//                     the relay refused for now (a 4xx reply): retry later
//   kInternal         anything unexpected (out of memory, libcurl failing to
//                     initialise)
// Messages name the relay by its url and include the relay's last reply or
// libcurl's description of the failure; never the password.
//
// A kUnavailable after the relay received the whole message (the connection
// broke before its final reply) may mean it is delivered anyway: retries
// should reuse message_id so that readers can tell duplicates.
Result<void> SendMail(const SmtpOptions& options, const Mail& mail);

}  // namespace interlock::notify
