#include "smtp_receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "core/encoding.h"

namespace interlock::testing {
namespace {

// A client that sends nothing for this long is dropped.
constexpr int kReadTimeoutMillis = 10000;
// Longer command lines and messages are refused, so a runaway client cannot
// exhaust memory.
constexpr size_t kLineLimit = size_t{64} << 10;
constexpr size_t kDataLimit = size_t{16} << 20;

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::abort();
}

std::string Upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// The address between < and > after "MAIL FROM:" or "RCPT TO:", if any.
std::optional<std::string> PathOf(std::string_view argument) {
  size_t open = argument.find('<');
  size_t close = argument.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return std::nullopt;
  return std::string(argument.substr(open + 1, close - open - 1));
}

}  // namespace

// One client connection, served to its end on the receiver's thread.
class SmtpReceiver::Session {
 public:
  Session(SmtpReceiver& receiver, int fd) : receiver_(receiver), fd_(fd) {}

  void Serve() {
    if (!Reply("220 127.0.0.1 interlock test receiver ready")) return;
    std::string line;
    while (ReadLine(line)) {
      if (!Handle(line)) return;
    }
  }

 private:
  // Handles one command; false ends the session.
  bool Handle(const std::string& line) {
    size_t space = line.find(' ');
    std::string verb = Upper(std::string_view(line).substr(0, space));
    std::string_view argument =
        space == std::string::npos ? std::string_view() : std::string_view(line).substr(space + 1);
    if (verb.starts_with("MAIL") || verb.starts_with("RCPT")) {
      verb = Upper(std::string_view(line).substr(0, line.find(':')));
      argument = std::string_view(line).substr(std::min(line.size(), verb.size() + 1));
    }
    Log(verb == "AUTH" ? fmt::format("AUTH {}", Upper(argument.substr(0, argument.find(' '))))
                       : line);
    if (verb == "EHLO") {
      Reset();
      return Reply("250-127.0.0.1 greets you\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME");
    }
    if (verb == "HELO") {
      Reset();
      return Reply("250 127.0.0.1");
    }
    if (verb == "AUTH") return Auth(argument);
    if (verb == "MAIL FROM") return Mail(argument);
    if (verb == "RCPT TO") {
      if (!from_) return Reply("503 5.5.1 MAIL first");
      std::optional<std::string> path = PathOf(argument);
      if (!path) return Reply("501 5.5.4 expected RCPT TO:<address>");
      to_.push_back(*path);
      return Reply("250 2.1.5 OK");
    }
    if (verb == "DATA") return Data();
    if (verb == "RSET") {
      Reset();
      return Reply("250 2.0.0 OK");
    }
    if (verb == "NOOP") return Reply("250 2.0.0 OK");
    if (verb == "QUIT") {
      Reply("221 2.0.0 bye");
      return false;
    }
    return Reply("502 5.5.2 command not recognised");
  }

  bool Auth(std::string_view argument) {
    if (authenticated_) return Reply("503 5.5.1 already authenticated");
    size_t space = argument.find(' ');
    std::string mechanism = Upper(argument.substr(0, space));
    std::string_view initial =
        space == std::string_view::npos ? std::string_view() : argument.substr(space + 1);
    std::string user, password;
    if (mechanism == "PLAIN") {
      std::string encoded(initial);
      if (encoded.empty() && !Challenge("", encoded)) return false;
      auto decoded = Base64Decode(encoded);
      if (!decoded) return Reply("501 5.5.2 bad base64");
      // authzid NUL authcid NUL passwd
      size_t first = decoded->find('\0');
      size_t second = first == std::string::npos ? first : decoded->find('\0', first + 1);
      if (second == std::string::npos) return Reply("501 5.5.2 expected authzid\\0user\\0password");
      user = decoded->substr(first + 1, second - first - 1);
      password = decoded->substr(second + 1);
    } else if (mechanism == "LOGIN") {
      std::string encoded_user(initial);
      std::string encoded_password;
      if (encoded_user.empty() && !Challenge("VXNlcm5hbWU6", encoded_user)) return false;
      if (!Challenge("UGFzc3dvcmQ6", encoded_password)) return false;
      auto decoded_user = Base64Decode(encoded_user);
      auto decoded_password = Base64Decode(encoded_password);
      if (!decoded_user || !decoded_password) return Reply("501 5.5.2 bad base64");
      user = *decoded_user;
      password = *decoded_password;
    } else {
      return Reply("504 5.5.4 unrecognised authentication mechanism");
    }
    {
      std::lock_guard lock(receiver_.mutex_);
      if (receiver_.require_login_ &&
          (user != receiver_.login_user_ || password != receiver_.login_password_)) {
        return Reply("535 5.7.8 authentication credentials invalid");
      }
    }
    authenticated_ = true;
    user_ = std::move(user);
    password_ = std::move(password);
    return Reply("235 2.7.0 authentication successful");
  }

  // Sends "334 <prompt>" and reads the client's answer; false if the
  // connection ended.
  bool Challenge(std::string_view prompt, std::string& answer) {
    return Reply(fmt::format("334 {}", prompt)) && ReadLine(answer);
  }

  bool Mail(std::string_view argument) {
    int fail_code = 0;
    bool require_login = false;
    {
      std::lock_guard lock(receiver_.mutex_);
      fail_code = receiver_.fail_code_;
      require_login = receiver_.require_login_;
    }
    if (from_) return Reply("503 5.5.1 nested MAIL command");
    if (require_login && !authenticated_) return Reply("530 5.7.0 authentication required");
    if (fail_code != 0) {
      return Reply(
          fmt::format("{} {}.7.1 sender refused by the test receiver", fail_code, fail_code / 100));
    }
    std::optional<std::string> path = PathOf(argument);
    if (!path) return Reply("501 5.5.4 expected MAIL FROM:<address>");
    from_ = *path;
    return Reply("250 2.1.0 OK");
  }

  bool Data() {
    if (!from_ || to_.empty()) return Reply("503 5.5.1 MAIL and RCPT first");
    if (!Reply("354 end data with <CR><LF>.<CR><LF>")) return false;
    std::string data;
    std::string line;
    bool too_long = false;
    for (;;) {
      if (!ReadLine(line)) return false;
      if (line == ".") break;
      std::string_view content(line);
      if (content.starts_with('.')) content.remove_prefix(1);
      if (data.size() + content.size() + 2 > kDataLimit) too_long = true;
      if (!too_long) {
        data += content;
        data += "\r\n";
      }
    }
    if (too_long) {
      Reset();
      return Reply("552 5.3.4 message too big");
    }
    Received received{*from_, to_, std::move(data), user_, password_};
    Reset();
    {
      std::lock_guard lock(receiver_.mutex_);
      receiver_.received_.push_back(std::move(received));
    }
    receiver_.arrived_.notify_all();
    return Reply("250 2.0.0 OK queued");
  }

  void Reset() {
    from_.reset();
    to_.clear();
  }

  void Log(std::string line) {
    std::lock_guard lock(receiver_.mutex_);
    receiver_.commands_.push_back(std::move(line));
  }

  // Sends `text` and CRLF; false if the connection is gone.
  bool Reply(std::string_view text) {
    std::string out = fmt::format("{}\r\n", text);
    for (size_t sent = 0; sent < out.size();) {
      ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // The next line without its CRLF (a lone LF stays in the line); false when
  // the client closes, sends nothing for kReadTimeoutMillis, overflows
  // kLineLimit, or the receiver is stopping.
  bool ReadLine(std::string& line) {
    for (;;) {
      size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return true;
      }
      if (buffer_.size() > kLineLimit) return false;
      pollfd fds[2] = {{fd_, POLLIN, 0}, {receiver_.wake_read_, POLLIN, 0}};
      int ready = ::poll(fds, 2, kReadTimeoutMillis);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0 || (fds[1].revents & POLLIN) != 0) return false;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  SmtpReceiver& receiver_;
  int fd_;
  std::string buffer_;
  bool authenticated_ = false;
  std::string user_;
  std::string password_;
  std::optional<std::string> from_;
  std::vector<std::string> to_;
};

SmtpReceiver::SmtpReceiver() {
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) Die("SmtpReceiver: pipe2");
  wake_read_ = wake[0];
  wake_write_ = wake[1];
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) Die("SmtpReceiver: socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Die("SmtpReceiver: bind");
  }
  if (::listen(listen_fd_, 16) != 0) Die("SmtpReceiver: listen");
  socklen_t length = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    Die("SmtpReceiver: getsockname");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

SmtpReceiver::~SmtpReceiver() {
  char byte = 1;
  while (::write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

std::string SmtpReceiver::url() const { return fmt::format("smtp://127.0.0.1:{}", port_); }

void SmtpReceiver::Run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (fds[1].revents & POLLIN) != 0) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mutex_);
      ++connections_;
    }
    Session(*this, fd).Serve();
    ::close(fd);
  }
}

std::vector<SmtpReceiver::Received> SmtpReceiver::WaitFor(size_t n,
                                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  return received_;
}

void SmtpReceiver::FailWith(int code) {
  std::lock_guard lock(mutex_);
  fail_code_ = code;
}

void SmtpReceiver::RequireLogin(std::string user, std::string password) {
  std::lock_guard lock(mutex_);
  require_login_ = true;
  login_user_ = std::move(user);
  login_password_ = std::move(password);
}

std::vector<std::string> SmtpReceiver::Commands() {
  std::lock_guard lock(mutex_);
  return commands_;
}

size_t SmtpReceiver::Connections() {
  std::lock_guard lock(mutex_);
  return connections_;
}

}  // namespace interlock::testing
