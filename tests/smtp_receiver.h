// A small SMTP server for tests, on 127.0.0.1 and an ephemeral port. It
// serves one connection at a time on its own thread and keeps what it was
// sent: EHLO (advertising AUTH PLAIN LOGIN, and no STARTTLS), HELO, AUTH
// PLAIN and LOGIN, MAIL FROM, RCPT TO, DATA (collected up to CRLF.CRLF with
// dot-stuffing undone), RSET, NOOP and QUIT; anything else gets 502.
//
// It never hangs a test: a connection that sends nothing for 10 seconds is
// closed, and the destructor unblocks the thread wherever it waits.
//
// Thread safety: every method may be called from any thread while the
// server thread runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace interlock::testing {

class SmtpReceiver {
 public:
  // Starts listening and serving. Aborts the test binary if no socket can be
  // had.
  SmtpReceiver();
  // Stops serving, closing any open connection, and joins the thread.
  ~SmtpReceiver();
  SmtpReceiver(const SmtpReceiver&) = delete;
  SmtpReceiver& operator=(const SmtpReceiver&) = delete;

  uint16_t port() const { return port_; }
  // "smtp://127.0.0.1:<port>".
  std::string url() const;

  struct Received {
    std::string from;             // the MAIL FROM address, without <>
    std::vector<std::string> to;  // the RCPT TO addresses, without <>, in order
    std::string data;             // the message, CRLF line endings, dot-stuffing undone,
                                  // without the final ".\r\n"
    std::string auth_user;        // as AUTH gave them on this connection; empty without AUTH
    std::string auth_password;
  };

  // Waits up to `timeout` for at least n messages; returns all received so
  // far (fewer than n if the time ran out).
  std::vector<Received> WaitFor(size_t n, std::chrono::milliseconds timeout);

  // The reply code to give to every following MAIL FROM (e.g. 451 or 550)
  // until changed; 0 gives the normal 250.
  void FailWith(int code);

  // From now on, AUTH succeeds only with these credentials (535 otherwise)
  // and MAIL FROM needs a successful AUTH first (530 otherwise).
  void RequireLogin(std::string user, std::string password);

  // The command lines received so far, across connections, in order. AUTH
  // lines are cut to "AUTH <mechanism>"; neither message data nor the
  // answers to AUTH challenges are included.
  std::vector<std::string> Commands();

  // The number of connections accepted so far.
  size_t Connections();

 private:
  class Session;
  void Run();

  int listen_fd_ = -1;
  int wake_read_ = -1;  // readable once the destructor runs
  int wake_write_ = -1;
  uint16_t port_ = 0;

  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Received> received_;  // guarded by mutex_
  std::vector<std::string> commands_;
  size_t connections_ = 0;
  int fail_code_ = 0;
  bool require_login_ = false;
  std::string login_user_;
  std::string login_password_;

  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace interlock::testing
