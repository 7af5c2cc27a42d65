#include "notify/smtp.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <string_view>

#include "core/encoding.h"
#include "core/text.h"
#include "core/url.h"
#include "net/curl.h"

namespace interlock::notify {
namespace {

// RFC 5321 section 4.5.3.1.3: a path is at most 256 octets, <> included.
constexpr size_t kMaxAddress = 254;
constexpr size_t kMaxMessageId = 250;
// Bytes of subject per encoded-word: 42 bytes are 56 base64 characters, so
// "Subject: =?UTF-8?B?...?=" is 77 characters, under the 78 of RFC 5322.
constexpr size_t kEncodedWordBytes = 42;
// Header lines are folded before they pass this many characters.
constexpr size_t kFoldColumn = 77;
// Quoted-printable lines carry at most 76 characters (RFC 2045 section 6.7).
constexpr size_t kQuotedPrintableLine = 76;
// 10000-01-01T00:00:00Z.
constexpr int64_t kEndOfYear9999 = 253402300800000;
using net::curl::kQuoteLimit;
using net::curl::Printable;

// The value as a double-quoted string for an error message: control and
// non-ASCII bytes escaped, so that a hostile value cannot break the line
// that logs the message, and cut after kQuoteLimit bytes.
std::string Quote(std::string_view value) {
  std::string out = "\"";
  for (size_t index = 0; index < value.size() && index < kQuoteLimit; ++index) {
    auto c = static_cast<unsigned char>(value[index]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02X}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += value.size() > kQuoteLimit ? "\"..." : "\"";
  return out;
}

Result<void> Invalid(std::string message) {
  return std::unexpected(Error::InvalidArgument(std::move(message)));
}

// A header field must stay one line, and NUL ends strings in libcurl.
Result<void> CheckOneLine(std::string_view field, std::string_view value) {
  size_t bad = value.find_first_of(std::string_view("\r\n\0", 3));
  if (bad == std::string_view::npos) return Ok();
  const char* what = value[bad] == '\r'   ? "a carriage return (CR)"
                     : value[bad] == '\n' ? "a line feed (LF)"
                                          : "a NUL byte";
  return Invalid(fmt::format("{}: contains {} at byte {}", field, what, bad));
}

// RFC 5322 atext, and '.': what may appear unquoted in a dot-atom.
bool IsAtomChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
}

// Why `address` is not a bare address local@domain of atom characters, or
// empty if it is one.
std::string AddressProblem(std::string_view address) {
  if (address.size() > kMaxAddress) return fmt::format("longer than {} bytes", kMaxAddress);
  for (char c : address) {
    auto u = static_cast<unsigned char>(c);
    if (c == '@' || IsAtomChar(c)) continue;
    if (c == ' ') return "it contains a space";
    if (u < 0x20 || u == 0x7f) return "it contains a control character";
    if (u >= 0x80) return "it contains a non-ASCII byte";
    return fmt::format("it contains '{}'", c);
  }
  size_t at = address.find('@');
  if (at == std::string_view::npos) return "no '@'";
  if (address.find('@', at + 1) != std::string_view::npos) return "more than one '@'";
  if (at == 0) return "nothing before the '@'";
  if (at + 1 == address.size()) return "nothing after the '@'";
  return {};
}

Result<void> CheckAddress(std::string_view field, std::string_view address) {
  if (auto line = CheckOneLine(field, address); !line) return line;
  if (address.empty()) {
    return Invalid(fmt::format("{}: is empty; expected an e-mail address", field));
  }
  if (std::string why = AddressProblem(address); !why.empty()) {
    return Invalid(fmt::format("{}: {} is not an e-mail address ({})", field, Quote(address), why));
  }
  return Ok();
}

Result<void> CheckMessageId(std::string_view id) {
  if (auto line = CheckOneLine("message_id", id); !line) return line;
  bool ok = id.size() >= 5 && id.size() <= kMaxMessageId && id.front() == '<' && id.back() == '>';
  if (ok) {
    std::string_view inner = id.substr(1, id.size() - 2);
    size_t at = inner.find('@');
    ok = at != std::string_view::npos && at > 0 && at + 1 < inner.size() &&
         inner.find('@', at + 1) == std::string_view::npos &&
         std::all_of(inner.begin(), inner.end(), [](char c) { return c == '@' || IsAtomChar(c); });
  }
  if (ok) return Ok();
  return Invalid(
      fmt::format("message_id: {} is not a message id like \"<id@host>\" (at most {} bytes)",
                  Quote(id), kMaxMessageId));
}

Result<void> CheckMail(const Mail& mail) {
  if (auto r = CheckAddress("from", mail.from); !r) return r;
  if (mail.to.empty()) return Invalid("to: no recipients; give at least one address");
  for (size_t index = 0; index < mail.to.size(); ++index) {
    if (auto r = CheckAddress(fmt::format("to[{}]", index), mail.to[index]); !r) return r;
  }
  if (auto r = CheckOneLine("subject", mail.subject); !r) return r;
  if (size_t bad = FindInvalidUtf8(mail.subject); bad != std::string_view::npos) {
    return Invalid(fmt::format("subject: invalid UTF-8 at byte {}", bad));
  }
  if (size_t bad = FindInvalidUtf8(mail.text); bad != std::string_view::npos) {
    return Invalid(
        fmt::format("text: invalid UTF-8 at {} (byte {})", TextPosition(mail.text, bad), bad));
  }
  if (auto r = CheckMessageId(mail.message_id); !r) return r;
  if (mail.date_unix_millis < 0 || mail.date_unix_millis >= kEndOfYear9999) {
    return Invalid(fmt::format("date_unix_millis: {} is outside the years 1970 to 9999",
                               mail.date_unix_millis));
  }
  return Ok();
}

// "Mon, 15 Jan 2024 10:30:00 +0000" (RFC 5322 section 3.3).
std::string FormatDate(int64_t unix_millis) {
  using namespace std::chrono;
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  sys_time<milliseconds> time{milliseconds{unix_millis}};
  sys_days day = floor<days>(time);
  year_month_day date{day};
  hh_mm_ss clock{floor<seconds>(time - day)};
  return fmt::format("{}, {} {} {} {:02}:{:02}:{:02} +0000", kDays[weekday{day}.c_encoding()],
                     static_cast<unsigned>(date.day()),
                     kMonths[static_cast<unsigned>(date.month()) - 1],
                     static_cast<int>(date.year()), clock.hours().count(), clock.minutes().count(),
                     clock.seconds().count());
}

// The length of the UTF-8 sequence whose lead byte is `lead` (valid input).
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// "Subject: ..." with its CRLF: as is when it is printable ASCII that fits on
// one line and cannot be mistaken for an encoded-word, otherwise as RFC 2047
// B encoded-words of whole characters, one per line.
std::string SubjectHeader(std::string_view subject) {
  constexpr std::string_view kName = "Subject: ";
  bool plain = kName.size() + subject.size() <= kFoldColumn &&
               subject.find("=?") == std::string_view::npos &&
               std::all_of(subject.begin(), subject.end(), [](char c) {
                 auto u = static_cast<unsigned char>(c);
                 return u >= 0x20 && u < 0x7f;
               });
  if (plain) return fmt::format("{}{}\r\n", kName, subject);
  std::string out(kName);
  size_t start = 0;
  while (start < subject.size()) {
    size_t end = start;
    while (end < subject.size()) {
      size_t next = end + SequenceLength(static_cast<unsigned char>(subject[end]));
      if (next - start > kEncodedWordBytes) break;
      end = next;
    }
    if (start > 0) out += "\r\n ";
    out += fmt::format("=?UTF-8?B?{}?=", Base64Encode(subject.substr(start, end - start)));
    start = end;
  }
  out += "\r\n";
  return out;
}

// "To: a@x, b@y" with its CRLF, folded after a comma before kFoldColumn.
std::string ToHeader(const std::vector<std::string>& to) {
  std::string out = "To:";
  size_t column = out.size();
  for (size_t index = 0; index < to.size(); ++index) {
    if (index > 0) {
      out += ',';
      ++column;
    }
    if (index > 0 && column + 1 + to[index].size() > kFoldColumn) {
      out += "\r\n";
      column = 0;
    }
    out += ' ';
    out += to[index];
    column += 1 + to[index].size();
  }
  out += "\r\n";
  return out;
}

// One line of the body (without its line break) in quoted-printable, each
// output line ending in CRLF, soft breaks ("=" CRLF) keeping them within
// kQuotedPrintableLine characters.
void AppendQuotedPrintable(std::string_view line, std::string& out) {
  size_t column = 0;
  for (size_t index = 0; index < line.size(); ++index) {
    auto c = static_cast<unsigned char>(line[index]);
    bool last = index + 1 == line.size();
    // Whitespace at the end of a line is dropped by transports: escape it.
    bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
    std::string token = literal ? std::string(1, static_cast<char>(c)) : fmt::format("={:02X}", c);
    // A soft break needs a column of its own, except after the last token.
    size_t room = last ? kQuotedPrintableLine : kQuotedPrintableLine - 1;
    if (column + token.size() > room) {
      out += "=\r\n";
      column = 0;
    }
    out += token;
    column += token.size();
  }
  out += "\r\n";
}

std::string Body(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    AppendQuotedPrintable(line, out);
    start = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Sending

struct Relay {
  std::string url;  // normalised: scheme://host:port
  bool implicit_tls = false;
};

Result<Relay> ParseRelayUrl(std::string_view url) {
  auto invalid = [url](std::string_view why) {
    return std::unexpected(Error::InvalidArgument(fmt::format("url {}: {}", Quote(url), why)));
  };
  if (url.find("://") == std::string_view::npos) {
    return invalid("expected smtp://host[:port] or smtps://...");
  }
  Result<Url> parsed = ParseUrl(url);
  if (!parsed) return invalid(parsed.error().message());
  Relay relay;
  if (parsed->scheme == "smtps") {
    relay.implicit_tls = true;
  } else if (parsed->scheme != "smtp") {
    return invalid("the scheme must be smtp or smtps");
  }
  if (parsed->userinfo) {
    return invalid("credentials do not go in the URL; set username and password");
  }
  if ((!parsed->path.empty() && parsed->path != "/") || parsed->query || parsed->fragment) {
    return invalid("a path, query or fragment is not allowed");
  }
  unsigned port = parsed->port.value_or(relay.implicit_tls ? 465 : 25);
  relay.url = fmt::format("{}://{}:{}", parsed->scheme, parsed->HostForm(), port);
  return relay;
}

// The relay's replies as libcurl hands them to the header callback, one line
// per call. The last few complete replies are kept, so that the one that
// failed the exchange can be found after libcurl has gone on to QUIT.
class Replies {
 public:
  // Bounds the memory a hostile relay can make us spend.
  static constexpr size_t kKeep = 4;
  static constexpr size_t kReplyLimit = 512;

  void Add(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (!open_) {
      if (done_.size() == kKeep) done_.erase(done_.begin());
      done_.emplace_back();
      open_ = true;
    }
    std::string& reply = done_.back();
    if (reply.size() < kReplyLimit) {
      // Continuation lines repeat the code: keep only their text.
      if (!reply.empty()) reply += ' ';
      reply += Printable(reply.empty() ? line : line.substr(std::min<size_t>(line.size(), 4)));
    }
    // "250-..." continues a reply; "250 ..." or a bare "250" ends it.
    if (line.size() <= 3 || line[3] != '-') open_ = false;
  }

  // The last complete reply with this code ("550 5.7.1 relaying denied"), or
  // empty.
  std::string Find(long code) const {
    std::string prefix = fmt::format("{}", code);
    for (auto it = done_.rbegin(); it != done_.rend(); ++it) {
      if (it->starts_with(prefix)) return *it;
    }
    return {};
  }

 private:
  std::vector<std::string> done_;
  bool open_ = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  try {
    static_cast<Replies*>(user)->Add(std::string_view(data, size * count));
  } catch (const std::exception&) {
    return 0;  // ends the transfer with CURLE_WRITE_ERROR
  }
  return size * count;
}

struct Upload {
  std::string_view data;
  size_t sent = 0;
};

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data.size() - upload->sent);
  std::memcpy(buffer, upload->data.data() + upload->sent, n);
  upload->sent += n;
  return n;
}

// What went wrong in one exchange, in a message for the operator.
Error Classify(const std::string& url, const SmtpOptions& options, CURLcode code, long reply_code,
               const Replies& replies, std::string detail) {
  std::string reply = reply_code >= 400 ? replies.Find(reply_code) : std::string();
  std::string said = reply.empty() ? fmt::format("reply {}", reply_code) : Quote(reply);
  std::string message;
  ErrorKind kind = ErrorKind::kUnavailable;
  if (reply_code >= 500 && reply_code < 600) {
    kind = ErrorKind::kInvalidArgument;
    message =
        fmt::format("SMTP relay {} refused: {} ({}); retrying will not help", url, said, detail);
  } else if (reply_code >= 400 && reply_code < 500) {
    message = fmt::format("SMTP relay {} refused for now: {} ({}); retry later", url, said, detail);
  } else if (code == CURLE_USE_SSL_FAILED) {
    message = fmt::format(
        "SMTP relay {} does not offer STARTTLS, which starttls requires; nothing was sent ({})",
        url, detail);
  } else if (code == CURLE_SSL_CACERT_BADFILE) {
    kind = ErrorKind::kInvalidArgument;
    message = fmt::format("ca_file {}: cannot be loaded ({})", Quote(options.ca_file), detail);
  } else if (code == CURLE_OUT_OF_MEMORY) {
    kind = ErrorKind::kInternal;
    message = fmt::format("SMTP relay {}: {}", url, detail);
  } else {
    message = fmt::format("SMTP relay {}: {}", url, detail);
  }
  // A relay that echoes the password must not get it into our logs. Shorter
  // passwords would match ordinary words; the relay can log them anyway.
  if (options.password.size() >= 4) {
    for (size_t at = message.find(options.password); at != std::string::npos;
         at = message.find(options.password, at)) {
      message.replace(at, options.password.size(), "<password>");
    }
  }
  return {kind, std::move(message)};
}

Result<void> CheckOptions(const SmtpOptions& options) {
  if (auto r = CheckOneLine("username", options.username); !r) return r;
  if (options.password.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return Invalid("password: contains a CR, LF or NUL byte");
  }
  if (options.username.empty() && !options.password.empty()) {
    return Invalid("password is set but username is empty");
  }
  return Ok();
}

Result<void> Send(const SmtpOptions& options, const Mail& mail) {
  Result<Relay> relay = ParseRelayUrl(options.url);
  if (!relay) return std::unexpected(relay.error());
  if (auto r = CheckOptions(options); !r) return r;
  Result<std::string> message = FormatMail(mail);
  if (!message) return std::unexpected(message.error());

  auto easy = net::curl::Easy::Open("smtp,smtps", options.connect_timeout, options.timeout);
  if (!easy) return std::unexpected(easy.error());
  net::curl::List recipients;
  for (const std::string& to : mail.to) {
    if (!net::curl::Append(recipients, fmt::format("<{}>", to))) {
      return std::unexpected(Error::Internal("out of memory"));
    }
  }
  std::string from = fmt::format("<{}>", mail.from);
  Upload upload{*message};
  Replies replies;

  long use_ssl = relay->implicit_tls || options.starttls ? static_cast<long>(CURLUSESSL_ALL)
                                                         : static_cast<long>(CURLUSESSL_NONE);
  easy->Set(CURLOPT_URL, relay->url.c_str());
  easy->Set(CURLOPT_USE_SSL, use_ssl);
  if (!options.ca_file.empty()) easy->Set(CURLOPT_CAINFO, options.ca_file.c_str());
  if (!options.username.empty()) {
    easy->Set(CURLOPT_USERNAME, options.username.c_str());
    easy->Set(CURLOPT_PASSWORD, options.password.c_str());
  }
  easy->Set(CURLOPT_MAIL_FROM, from.c_str());
  easy->Set(CURLOPT_MAIL_RCPT, recipients.get());
  easy->Set(CURLOPT_UPLOAD, 1L);
  easy->Set(CURLOPT_READFUNCTION, OnRead);
  easy->Set(CURLOPT_READDATA, &upload);
  easy->Set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message->size()));
  easy->Set(CURLOPT_HEADERFUNCTION, OnHeader);
  easy->Set(CURLOPT_HEADERDATA, &replies);
  if (auto ready = easy->Ready(); !ready) return std::unexpected(ready.error());

  CURLcode code = easy->Perform();
  if (code == CURLE_OK) return Ok();
  long reply_code = easy->Info(CURLINFO_RESPONSE_CODE);
  return std::unexpected(
      Classify(relay->url, options, code, reply_code, replies, easy->Detail(code)));
}

}  // namespace

Result<std::string> FormatMail(const Mail& mail) {
  try {
    if (auto r = CheckMail(mail); !r) return std::unexpected(r.error());
    std::string out;
    out += fmt::format("From: {}\r\n", mail.from);
    out += ToHeader(mail.to);
    out += SubjectHeader(mail.subject);
    out += fmt::format("Date: {}\r\n", FormatDate(mail.date_unix_millis));
    out += fmt::format("Message-ID: {}\r\n", mail.message_id);
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += "Content-Transfer-Encoding: quoted-printable\r\n";
    out += "\r\n";
    out += Body(mail.text);
    return out;
  } catch (const std::exception& e) {
    return std::unexpected(Error::Internal(fmt::format("formatting a mail: {}", e.what())));
  }
}

Result<void> SendMail(const SmtpOptions& options, const Mail& mail) {
  try {
    return Send(options, mail);
  } catch (const std::exception& e) {
    return std::unexpected(Error::Internal(fmt::format("sending a mail: {}", e.what())));
  }
}

}  // namespace interlock::notify
