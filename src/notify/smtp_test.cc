// FormatMail byte by byte, the refusals of hostile input, and SendMail
// against a real SMTP server on loopback (tests/smtp_receiver.h).
#include "notify/smtp.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../../tests/smtp_receiver.h"
#include "core/encoding.h"

namespace interlock::notify {
namespace {

using testing::SmtpReceiver;
using namespace std::chrono_literals;

// 2024-01-15T10:30:00Z, a Monday.
constexpr int64_t kMonday = 1705314600000;
// Long enough for a loaded machine; a passing test never waits this long.
constexpr auto kWait = 20s;

Mail SampleMail() {
  Mail mail;
  mail.from = "interlock@example.com";
  mail.to = {"alice@example.com", "bob@example.org"};
  mail.subject = "Approval needed: deploy api 1.2.3";
  mail.text = "Hello,\n\napprove at https://x/?a=1\n";
  mail.message_id = "<ntf_0123@interlock>";
  mail.date_unix_millis = kMonday;
  return mail;
}

// What a reader does with a message: unfolded headers, and the body decoded
// from quoted-printable with CRLF turned back into "\n".
struct Parsed {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string text;

  std::string Header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return "<missing " + name + ">";
  }
};

// Strict: a malformed escape or a bare LF fails the test.
std::optional<std::string> DecodeQuotedPrintable(std::string_view body) {
  std::string out;
  while (!body.empty()) {
    size_t end = body.find("\r\n");
    if (end == std::string_view::npos) return std::nullopt;  // no final CRLF
    std::string_view line = body.substr(0, end);
    body.remove_prefix(end + 2);
    if (line.find('\n') != std::string_view::npos || line.size() > 76) return std::nullopt;
    bool soft = line.ends_with('=');
    if (soft) line.remove_suffix(1);
    for (size_t index = 0; index < line.size(); ++index) {
      if (line[index] != '=') {
        out += line[index];
        continue;
      }
      if (index + 2 >= line.size()) return std::nullopt;
      unsigned value = 0;
      for (char c : line.substr(index + 1, 2)) {
        value *= 16;
        if (c >= '0' && c <= '9') {
          value += static_cast<unsigned>(c - '0');
        } else if (c >= 'A' && c <= 'F') {
          value += static_cast<unsigned>(c - 'A' + 10);
        } else {
          return std::nullopt;
        }
      }
      out += static_cast<char>(value);
      index += 2;
    }
    if (!soft) out += '\n';
  }
  return out;
}

// The text of a header: as is, or the concatenation of its RFC 2047 B
// encoded-words.
std::optional<std::string> DecodeEncodedWords(std::string_view value) {
  if (!value.starts_with("=?")) return std::string(value);
  std::string out;
  while (!value.empty()) {
    size_t end = value.find(' ');
    std::string_view word = value.substr(0, end);
    value.remove_prefix(end == std::string_view::npos ? value.size() : end + 1);
    if (!word.starts_with("=?UTF-8?B?") || !word.ends_with("?=")) return std::nullopt;
    word.remove_prefix(10);
    word.remove_suffix(2);
    auto decoded = Base64Decode(word);
    if (!decoded) return std::nullopt;
    out += *decoded;
  }
  return out;
}

Parsed Parse(const std::string& message) {
  Parsed parsed;
  size_t split = message.find("\r\n\r\n");
  EXPECT_NE(split, std::string::npos) << message;
  if (split == std::string::npos) return parsed;
  std::string head = message.substr(0, split + 2);
  size_t start = 0;
  while (start < head.size()) {
    size_t end = head.find("\r\n", start);
    std::string line = head.substr(start, end - start);
    start = end + 2;
    if (line.starts_with(' ')) {
      EXPECT_FALSE(parsed.headers.empty()) << message;
      if (!parsed.headers.empty()) parsed.headers.back().second += line;  // unfold
      continue;
    }
    size_t colon = line.find(": ");
    EXPECT_NE(colon, std::string::npos) << line;
    if (colon == std::string::npos) continue;
    parsed.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  auto text = DecodeQuotedPrintable(std::string_view(message).substr(split + 4));
  EXPECT_TRUE(text.has_value()) << message;
  parsed.text = text.value_or("");
  return parsed;
}

std::vector<std::string> Lines(const std::string& message) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find("\r\n", start);
    if (end == std::string::npos) end = message.size();
    lines.push_back(message.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

std::string Body(const std::string& message) {
  size_t split = message.find("\r\n\r\n");
  return split == std::string::npos ? "" : message.substr(split + 4);
}

// ---------------------------------------------------------------------------
// FormatMail

TEST(SmtpFormat, WritesTheHeadersInOrderAndTheBodyInQuotedPrintable) {
  Result<std::string> message = FormatMail(SampleMail());
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_EQ(*message,
            "From: interlock@example.com\r\n"
            "To: alice@example.com, bob@example.org\r\n"
            "Subject: Approval needed: deploy api 1.2.3\r\n"
            "Date: Mon, 15 Jan 2024 10:30:00 +0000\r\n"
            "Message-ID: <ntf_0123@interlock>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n"
            "\r\n"
            "Hello,\r\n"
            "\r\n"
            "approve at https://x/?a=3D1\r\n");
}

TEST(SmtpFormat, EveryLineEndsInCrlf) {
  Mail mail = SampleMail();
  mail.text = "one\ntwo\r\nthree\rstill three\n\nfive";
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  ASSERT_TRUE(message->ends_with("\r\n"));
  for (size_t at = message->find('\n'); at != std::string::npos; at = message->find('\n', at + 1)) {
    ASSERT_GT(at, 0u);
    EXPECT_EQ((*message)[at - 1], '\r') << "bare LF at byte " << at;
  }
  // "\r\n" in the text is one line break; a lone CR is data, escaped.
  EXPECT_EQ(Body(*message), "one\r\ntwo\r\nthree=0Dstill three\r\n\r\nfive\r\n");
  EXPECT_EQ(Parse(*message).text, "one\ntwo\nthree\rstill three\n\nfive\n");
}

TEST(SmtpFormat, LongLinesGetSoftBreaksWithinSeventySixCharacters) {
  Mail mail = SampleMail();
  mail.text = std::string(200, 'x') + "\n";
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_EQ(Body(*message), std::string(75, 'x') + "=\r\n" + std::string(75, 'x') + "=\r\n" +
                                std::string(50, 'x') + "\r\n");
  EXPECT_EQ(Parse(*message).text, mail.text);
}

TEST(SmtpFormat, ALineOfExactlySeventySixCharactersNeedsNoSoftBreak) {
  Mail mail = SampleMail();
  mail.text = std::string(76, 'y');
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_EQ(Body(*message), std::string(76, 'y') + "\r\n");
}

TEST(SmtpFormat, NonAsciiEqualsAndTrailingWhitespaceAreEscaped) {
  Mail mail = SampleMail();
  mail.text = "Grüße — a=b\nend  \ntab\t\n";
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_EQ(Body(*message), "Gr=C3=BC=C3=9Fe =E2=80=94 a=3Db\r\nend =20\r\ntab=09\r\n");
  EXPECT_EQ(Parse(*message).text, mail.text);
}

TEST(SmtpFormat, SoftBreaksNeverSplitAnEscape) {
  Mail mail = SampleMail();
  std::string line;
  for (int index = 0; index < 60; ++index) line += "é.";
  mail.text = line + "\n";
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  for (const std::string& body_line : Lines(Body(*message))) {
    EXPECT_LE(body_line.size(), 76u) << body_line;
    // An escape cut in two would leave "=" or "=C" before the soft break.
    std::string_view content(body_line);
    if (content.ends_with('=')) content.remove_suffix(1);
    for (size_t at = content.find('='); at != std::string_view::npos;
         at = content.find('=', at + 1)) {
      ASSERT_LE(at + 3, content.size()) << body_line;
      EXPECT_EQ(content.substr(at + 1, 2).find_first_not_of("0123456789ABCDEF"),
                std::string_view::npos)
          << body_line;
    }
  }
  EXPECT_EQ(Parse(*message).text, mail.text);
}

TEST(SmtpFormat, BodyLinesStartingWithADotAreLeftForTheTransport) {
  Mail mail = SampleMail();
  mail.text = ".\n..two\n.three\n";
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_EQ(Body(*message), ".\r\n..two\r\n.three\r\n");
}

TEST(SmtpFormat, NonAsciiSubjectIsAnEncodedWord) {
  Mail mail = SampleMail();
  mail.subject = "Freigabe nötig: api 1.2.3";
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_NE(message->find("\r\nSubject: =?UTF-8?B?RnJlaWdhYmUgbsO2dGlnOiBhcGkgMS4yLjM=?=\r\n"),
            std::string::npos)
      << *message;
  EXPECT_EQ(DecodeEncodedWords(Parse(*message).Header("Subject")), mail.subject);
}

TEST(SmtpFormat, LongSubjectsAreSplitIntoWholeCharactersOnShortLines) {
  for (std::string subject : {std::string(40, 'a') + std::string(100, 'b'),  // ASCII, too long
                              std::string("Überprüfung ") + std::string(30, 'x') + "→✓ 😀 ü ö ä",
                              std::string(),  // filled below
                              std::string("a =?UTF-8?B?eA==?= b")}) {
    if (subject.empty()) {
      for (int index = 0; index < 50; ++index) subject += "ü€😀";  // 2, 3 and 4 byte characters
    }
    Mail mail = SampleMail();
    mail.subject = subject;
    Result<std::string> message = FormatMail(mail);
    ASSERT_TRUE(message.has_value()) << message.error().message();
    size_t lines = 0;
    bool in_subject = false;
    for (const std::string& line : Lines(message->substr(0, message->find("\r\n\r\n")))) {
      EXPECT_LT(line.size(), 78u) << line;
      if (line.starts_with("Subject: ")) in_subject = true;
      if (!line.starts_with("Subject: ") && !line.starts_with(" ")) in_subject = false;
      if (!in_subject) continue;
      ++lines;
      // Every encoded-word decodes on its own to complete UTF-8 characters.
      std::string_view word(line);
      word.remove_prefix(line.starts_with(" ") ? 1 : 9);
      auto decoded = DecodeEncodedWords(word);
      ASSERT_TRUE(decoded.has_value()) << line;
      Mail alone = SampleMail();
      alone.subject = *decoded;
      EXPECT_TRUE(FormatMail(alone).has_value()) << "not whole characters: " << line;
    }
    EXPECT_GE(lines, 1u);
    EXPECT_EQ(DecodeEncodedWords(Parse(*message).Header("Subject")), subject);
  }
}

TEST(SmtpFormat, ManyRecipientsFoldTheToHeader) {
  Mail mail = SampleMail();
  mail.to.clear();
  for (int index = 0; index < 12; ++index) {
    mail.to.push_back(fmt::format("reviewer{:02}@governance.example.com", index));
  }
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  for (const std::string& line : Lines(message->substr(0, message->find("\r\n\r\n")))) {
    EXPECT_LT(line.size(), 78u) << line;
  }
  std::string joined;
  for (const std::string& to : mail.to) joined += (joined.empty() ? "" : ", ") + to;
  EXPECT_EQ(Parse(*message).Header("To"), joined);
}

TEST(SmtpFormat, DatesAreRfc5322InUtc) {
  struct Case {
    int64_t millis;
    const char* date;
  };
  for (const Case& c :
       {Case{0, "Thu, 1 Jan 1970 00:00:00 +0000"}, Case{kMonday, "Mon, 15 Jan 2024 10:30:00 +0000"},
        Case{1709251199999, "Thu, 29 Feb 2024 23:59:59 +0000"},
        Case{253402300799999, "Fri, 31 Dec 9999 23:59:59 +0000"}}) {
    Mail mail = SampleMail();
    mail.date_unix_millis = c.millis;
    Result<std::string> message = FormatMail(mail);
    ASSERT_TRUE(message.has_value()) << message.error().message();
    EXPECT_EQ(Parse(*message).Header("Date"), c.date);
  }
}

TEST(SmtpFormat, AnEmptyBodyIsJustTheHeaders) {
  Mail mail = SampleMail();
  mail.text.clear();
  Result<std::string> message = FormatMail(mail);
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_TRUE(message->ends_with("quoted-printable\r\n\r\n")) << *message;
}

// ---------------------------------------------------------------------------
// Refusals

struct Refusal {
  const char* name;
  void (*change)(Mail&);
  const char* message;
};

const Refusal kRefusals[] = {
    {"FromWithCrlf", [](Mail& m) { m.from = "a@x\r\nBcc: evil@x"; },
     "from: contains a carriage return (CR) at byte 3"},
    {"ToWithLf", [](Mail& m) { m.to[1] = "b@x\nBcc: evil@x"; },
     "to[1]: contains a line feed (LF) at byte 3"},
    {"ToWithNul", [](Mail& m) { m.to[0] = std::string("b@x\0y", 5); },
     "to[0]: contains a NUL byte at byte 3"},
    {"SubjectWithLf", [](Mail& m) { m.subject = "hi\nBcc: evil@x"; },
     "subject: contains a line feed (LF) at byte 2"},
    {"SubjectWithCr", [](Mail& m) { m.subject = "hi\rthere"; },
     "subject: contains a carriage return (CR) at byte 2"},
    {"SubjectWithNul", [](Mail& m) { m.subject = std::string("a\0b", 3); },
     "subject: contains a NUL byte at byte 1"},
    {"MessageIdWithCrlf", [](Mail& m) { m.message_id = "<a@b>\r\nBcc: evil@x"; },
     "message_id: contains a carriage return (CR) at byte 5"},
    {"ToWithSpace",
     [](Mail& m) {
       m.to = {"a@x", "b@x", "a b@x"};
     },
     "to[2]: \"a b@x\" is not an e-mail address (it contains a space)"},
    {"FromWithoutAt", [](Mail& m) { m.from = "interlock"; },
     "from: \"interlock\" is not an e-mail address (no '@')"},
    {"ToWithTwoAts", [](Mail& m) { m.to[0] = "a@b@c"; },
     "to[0]: \"a@b@c\" is not an e-mail address (more than one '@')"},
    {"ToInAngleBrackets", [](Mail& m) { m.to[0] = "<a@b>"; },
     "to[0]: \"<a@b>\" is not an e-mail address (it contains '<')"},
    {"ToWithClosingBracket", [](Mail& m) { m.to[0] = "a@b>"; },
     "to[0]: \"a@b>\" is not an e-mail address (it contains '>')"},
    {"ToWithComma", [](Mail& m) { m.to[0] = "a@b,c@d"; },
     "to[0]: \"a@b,c@d\" is not an e-mail address (it contains ',')"},
    {"ToWithoutLocalPart", [](Mail& m) { m.to[0] = "@b"; },
     "to[0]: \"@b\" is not an e-mail address (nothing before the '@')"},
    {"ToWithoutDomain", [](Mail& m) { m.to[0] = "a@"; },
     "to[0]: \"a@\" is not an e-mail address (nothing after the '@')"},
    {"ToWithTab", [](Mail& m) { m.to[0] = "a\t@b"; },
     "to[0]: \"a\\t@b\" is not an e-mail address (it contains a control character)"},
    {"ToNonAscii", [](Mail& m) { m.to[0] = "jörg@x"; },
     "to[0]: \"j\\xC3\\xB6rg@x\" is not an e-mail address (it contains a non-ASCII byte)"},
    {"ToTooLong", [](Mail& m) { m.to[0] = std::string(250, 'a') + "@b.cd"; },
     "to[0]: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"... is not an e-mail address (longer than 254 "
     "bytes)"},
    {"FromEmpty", [](Mail& m) { m.from.clear(); }, "from: is empty; expected an e-mail address"},
    {"NoRecipients", [](Mail& m) { m.to.clear(); }, "to: no recipients; give at least one address"},
    {"SubjectNotUtf8", [](Mail& m) { m.subject = "caf\xC3"; }, "subject: invalid UTF-8 at byte 3"},
    {"SubjectOverlongUtf8", [](Mail& m) { m.subject = "a\xC0\xAF"; },
     "subject: invalid UTF-8 at byte 1"},
    {"TextNotUtf8", [](Mail& m) { m.text = "ok\nbad \xFF!\n"; },
     "text: invalid UTF-8 at line 2, column 5 (byte 7)"},
    {"TextSurrogate", [](Mail& m) { m.text = "\xED\xA0\x80"; },
     "text: invalid UTF-8 at line 1, column 1 (byte 0)"},
    {"MessageIdWithoutBrackets", [](Mail& m) { m.message_id = "ntf_1@interlock"; },
     "message_id: \"ntf_1@interlock\" is not a message id like \"<id@host>\" (at most 250 bytes)"},
    {"MessageIdEmpty", [](Mail& m) { m.message_id.clear(); },
     "message_id: \"\" is not a message id like \"<id@host>\" (at most 250 bytes)"},
    {"MessageIdWithSpace", [](Mail& m) { m.message_id = "<a b@c>"; },
     "message_id: \"<a b@c>\" is not a message id like \"<id@host>\" (at most 250 bytes)"},
    {"DateBeforeTheEpoch", [](Mail& m) { m.date_unix_millis = -1; },
     "date_unix_millis: -1 is outside the years 1970 to 9999"},
    {"DateAfterTheYear9999", [](Mail& m) { m.date_unix_millis = 253402300800000; },
     "date_unix_millis: 253402300800000 is outside the years 1970 to 9999"},
};

TEST(SmtpRefusal, HostileFieldsAreRefusedNamingTheField) {
  for (const Refusal& refusal : kRefusals) {
    SCOPED_TRACE(refusal.name);
    Mail mail = SampleMail();
    refusal.change(mail);
    Result<std::string> message = FormatMail(mail);
    ASSERT_FALSE(message.has_value());
    EXPECT_EQ(message.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(message.error().message(), refusal.message);
  }
}

TEST(SmtpRefusal, SendMailRefusesHostileMailWithoutConnecting) {
  SmtpReceiver receiver;
  SmtpOptions options{.url = receiver.url(), .starttls = false};
  for (const Refusal& refusal : kRefusals) {
    SCOPED_TRACE(refusal.name);
    Mail mail = SampleMail();
    refusal.change(mail);
    Result<void> sent = SendMail(options, mail);
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(sent.error().message(), refusal.message);
  }
  EXPECT_EQ(receiver.Connections(), 0u);
}

TEST(SmtpRefusal, UnusableOptionsAreRefused) {
  struct Case {
    const char* name;
    void (*change)(SmtpOptions&);
    const char* message;
  };
  const Case cases[] = {
      {"Scheme", [](SmtpOptions& o) { o.url = "http://127.0.0.1:25"; },
       "url \"http://127.0.0.1:25\": the scheme must be smtp or smtps"},
      {"NoScheme", [](SmtpOptions& o) { o.url = "mail.example.com"; },
       "url \"mail.example.com\": expected smtp://host[:port] or smtps://..."},
      {"Credentials", [](SmtpOptions& o) { o.url = "smtp://me:pw@mail.example.com"; },
       "url \"smtp://me:pw@mail.example.com\": credentials do not go in the URL; set username "
       "and password"},
      {"Path", [](SmtpOptions& o) { o.url = "smtp://mail.example.com/x"; },
       "url \"smtp://mail.example.com/x\": a path, query or fragment is not allowed"},
      {"NoHost", [](SmtpOptions& o) { o.url = "smtps://:465"; }, "url \"smtps://:465\": no host"},
      {"PortZero", [](SmtpOptions& o) { o.url = "smtp://mail.example.com:0"; },
       "url \"smtp://mail.example.com:0\": port \"0\": expected 1 to 65535"},
      {"PortEmpty", [](SmtpOptions& o) { o.url = "smtp://mail.example.com:"; },
       "url \"smtp://mail.example.com:\": port \"\": expected 1 to 65535"},
      {"Space", [](SmtpOptions& o) { o.url = "smtp://mail example.com"; },
       "url \"smtp://mail example.com\": spaces, control and non-ASCII characters are not "
       "allowed"},
      {"BadIpv6", [](SmtpOptions& o) { o.url = "smtp://[::g]:25"; },
       "url \"smtp://[::g]:25\": not an IPv6 address in the brackets"},
      {"ConnectTimeout", [](SmtpOptions& o) { o.connect_timeout = 0ms; },
       "connect_timeout must be positive, not 0 ms"},
      {"Timeout", [](SmtpOptions& o) { o.timeout = -5ms; }, "timeout must be positive, not -5 ms"},
      {"UsernameWithLf", [](SmtpOptions& o) { o.username = "me\n"; },
       "username: contains a line feed (LF) at byte 2"},
      {"PasswordWithNul",
       [](SmtpOptions& o) {
         o.username = "me";
         o.password = std::string("pa\0ss", 5);
       },
       "password: contains a CR, LF or NUL byte"},
      {"PasswordWithoutUsername", [](SmtpOptions& o) { o.password = "secret"; },
       "password is set but username is empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SmtpOptions options{.url = "smtp://127.0.0.1:25", .starttls = false};
    c.change(options);
    Result<void> sent = SendMail(options, SampleMail());
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(sent.error().message(), c.message);
  }
}

// ---------------------------------------------------------------------------
// SendMail against the receiver

SmtpOptions ClearText(const SmtpReceiver& receiver) {
  return {.url = receiver.url(), .starttls = false, .connect_timeout = 10s, .timeout = 20s};
}

TEST(SmtpSend, DeliversTheMessageToEveryRecipient) {
  SmtpReceiver receiver;
  Mail mail = SampleMail();
  mail.to = {"alice@example.com", "bob@example.org", "carol+ops@example.net"};
  mail.subject = "Freigabe nötig: api 1.2.3 → prod";
  mail.text = "Grüße,\n\n" + std::string(120, '-') + "\nrequest=apr_42 \n";
  Result<void> sent = SendMail(ClearText(receiver), mail);
  ASSERT_TRUE(sent.has_value()) << sent.error().message();

  std::vector<SmtpReceiver::Received> received = receiver.WaitFor(1, kWait);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].from, "interlock@example.com");
  EXPECT_EQ(received[0].to, mail.to);
  EXPECT_EQ(received[0].auth_user, "");
  EXPECT_EQ(received[0].data, *FormatMail(mail));
  Parsed parsed = Parse(received[0].data);
  EXPECT_EQ(parsed.Header("From"), "interlock@example.com");
  EXPECT_EQ(parsed.Header("To"), "alice@example.com, bob@example.org, carol+ops@example.net");
  EXPECT_EQ(DecodeEncodedWords(parsed.Header("Subject")), mail.subject);
  EXPECT_EQ(parsed.Header("Message-ID"), "<ntf_0123@interlock>");
  EXPECT_EQ(parsed.text, mail.text);
}

TEST(SmtpSend, BodyLinesStartingWithADotSurvive) {
  SmtpReceiver receiver;
  Mail mail = SampleMail();
  // A lone "." would end the DATA early if the transport did not stuff it.
  mail.text = "before\n.\n..two\n.three\nafter\n";
  Result<void> sent = SendMail(ClearText(receiver), mail);
  ASSERT_TRUE(sent.has_value()) << sent.error().message();
  std::vector<SmtpReceiver::Received> received = receiver.WaitFor(1, kWait);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].data, *FormatMail(mail));
  EXPECT_EQ(Parse(received[0].data).text, mail.text);
}

TEST(SmtpSend, AuthPlainCredentialsReachTheRelay) {
  SmtpReceiver receiver;
  receiver.RequireLogin("interlock", "s3cret pass");
  SmtpOptions options = ClearText(receiver);
  options.username = "interlock";
  options.password = "s3cret pass";
  Result<void> sent = SendMail(options, SampleMail());
  ASSERT_TRUE(sent.has_value()) << sent.error().message();
  std::vector<SmtpReceiver::Received> received = receiver.WaitFor(1, kWait);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].auth_user, "interlock");
  EXPECT_EQ(received[0].auth_password, "s3cret pass");
  std::vector<std::string> commands = receiver.Commands();
  EXPECT_NE(std::find(commands.begin(), commands.end(), "AUTH PLAIN"), commands.end());
}

TEST(SmtpSend, AWrongPasswordIsPermanentAndNotQuoted) {
  SmtpReceiver receiver;
  receiver.RequireLogin("interlock", "right password");
  SmtpOptions options = ClearText(receiver);
  options.username = "interlock";
  options.password = "wrong password";
  Result<void> sent = SendMail(options, SampleMail());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(sent.error().message().find("535 5.7.8 authentication credentials invalid"),
            std::string::npos)
      << sent.error().message();
  EXPECT_EQ(sent.error().message().find("wrong password"), std::string::npos)
      << sent.error().message();
  EXPECT_TRUE(receiver.WaitFor(1, 0ms).empty());
}

TEST(SmtpSend, ATemporaryRefusalIsUnavailableAndARetryDelivers) {
  SmtpReceiver receiver;
  receiver.FailWith(451);
  Result<void> sent = SendMail(ClearText(receiver), SampleMail());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(sent.error().message(),
            fmt::format("SMTP relay smtp://127.0.0.1:{} refused for now: \"451 4.7.1 sender "
                        "refused by the test receiver\" (MAIL failed: 451); retry later",
                        receiver.port()));
  EXPECT_TRUE(receiver.WaitFor(1, 0ms).empty());

  receiver.FailWith(0);
  Result<void> retried = SendMail(ClearText(receiver), SampleMail());
  ASSERT_TRUE(retried.has_value()) << retried.error().message();
  EXPECT_EQ(receiver.WaitFor(1, kWait).size(), 1u);
}

TEST(SmtpSend, APermanentRefusalIsInvalidArgument) {
  SmtpReceiver receiver;
  receiver.FailWith(550);
  Result<void> sent = SendMail(ClearText(receiver), SampleMail());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(sent.error().message(),
            fmt::format("SMTP relay smtp://127.0.0.1:{} refused: \"550 5.7.1 sender refused by "
                        "the test receiver\" (MAIL failed: 550); retrying will not help",
                        receiver.port()));
  EXPECT_TRUE(receiver.WaitFor(1, 0ms).empty());
}

// A port that was just free and that nothing listens on.
uint16_t ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(SmtpSend, AClosedPortIsUnavailableAtOnce) {
  SmtpOptions options{.url = fmt::format("smtp://127.0.0.1:{}", ClosedPort()),
                      .starttls = false,
                      .connect_timeout = 20s,
                      .timeout = 30s};
  auto start = std::chrono::steady_clock::now();
  Result<void> sent = SendMail(options, SampleMail());
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().kind(), ErrorKind::kUnavailable);
  EXPECT_TRUE(sent.error().message().starts_with(fmt::format("SMTP relay {}: ", options.url)))
      << sent.error().message();
  // A refused connection, not a timeout: well under connect_timeout.
  EXPECT_LT(elapsed, 10s);
}

TEST(SmtpSend, ImplicitTlsToAPlainServerFailsAsUnavailable) {
  SmtpReceiver receiver;
  SmtpOptions options{.url = fmt::format("smtps://127.0.0.1:{}", receiver.port()),
                      .connect_timeout = 10s,
                      .timeout = 20s};
  Result<void> sent = SendMail(options, SampleMail());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().kind(), ErrorKind::kUnavailable) << sent.error().message();
  EXPECT_TRUE(receiver.WaitFor(1, 0ms).empty());
  for (const std::string& command : receiver.Commands()) {
    EXPECT_FALSE(command.starts_with("MAIL")) << command;
  }
}

TEST(SmtpSend, ACaFileThatCannotBeLoadedIsInvalidArgument) {
  SmtpReceiver receiver;
  SmtpOptions options{.url = fmt::format("smtps://127.0.0.1:{}", receiver.port()),
                      .ca_file = "/nonexistent/ca.pem",
                      .connect_timeout = 10s,
                      .timeout = 20s};
  Result<void> sent = SendMail(options, SampleMail());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_TRUE(
      sent.error().message().starts_with("ca_file \"/nonexistent/ca.pem\": cannot be loaded"))
      << sent.error().message();
  EXPECT_TRUE(receiver.WaitFor(1, 0ms).empty());
}

TEST(SmtpSend, RequiredStarttlsThatIsNotOfferedSendsNothing) {
  SmtpReceiver receiver;
  SmtpOptions options{.url = receiver.url(), .connect_timeout = 10s, .timeout = 20s};
  ASSERT_TRUE(options.starttls);  // the default
  options.username = "interlock";
  options.password = "s3cret pass";
  Result<void> sent = SendMail(options, SampleMail());
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().kind(), ErrorKind::kUnavailable);
  EXPECT_TRUE(sent.error().message().starts_with(
      fmt::format("SMTP relay {} does not offer STARTTLS, which starttls requires; nothing was "
                  "sent",
                  receiver.url())))
      << sent.error().message();
  EXPECT_TRUE(receiver.WaitFor(1, 0ms).empty());
  // Neither the credentials nor the envelope went out in clear.
  for (const std::string& command : receiver.Commands()) {
    EXPECT_FALSE(command.starts_with("AUTH")) << command;
    EXPECT_FALSE(command.starts_with("MAIL")) << command;
  }
}

TEST(SmtpSend, CallsFromSeveralThreadsAllDeliver) {
  SmtpReceiver receiver;
  constexpr size_t kThreads = 4;
  constexpr size_t kEach = 3;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (size_t thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (size_t index = 0; index < kEach; ++index) {
        Mail mail = SampleMail();
        mail.message_id = fmt::format("<ntf_{}_{}@interlock>", thread, index);
        Result<void> sent = SendMail(ClearText(receiver), mail);
        if (!sent) failures[thread] += sent.error().message() + "\n";
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  std::vector<SmtpReceiver::Received> received = receiver.WaitFor(kThreads * kEach, kWait);
  ASSERT_EQ(received.size(), kThreads * kEach);
  std::map<std::string, int> ids;
  for (const auto& message : received) ++ids[Parse(message.data).Header("Message-ID")];
  EXPECT_EQ(ids.size(), kThreads * kEach);
}

}  // namespace
}  // namespace interlock::notify
