// Loopback peers for tests of outbound HTTP: a webhook receiver (the real
// HTTP server on a loopback port that records every request and answers as
// the test chooses), a port that accepts and never answers, and a port
// where nothing listens.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/http.h"

namespace interlock::testing {

class HttpReceiver {
 public:
  HttpReceiver();  // listens on 127.0.0.1, a free port
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  // "http://127.0.0.1:<port><path>"
  std::string Url(const std::string& path) const;
  // Waits up to `timeout` for at least n requests; returns all so far.
  std::vector<server::HttpRequest> WaitFor(
      size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::vector<server::HttpRequest> Received();
  // The status of the answers from now on (default 200), with the body
  // "ok" below 300 and "refused" from 300.
  void AnswerWith(int status);
  // The answer from now on, whole.
  void AnswerWith(server::HttpResponse answer);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<server::HttpRequest> received_;
  std::optional<server::HttpResponse> answer_;  // nullopt: by status_
  int status_ = 200;
  std::unique_ptr<server::HttpServer> server_;
};

// A loopback TCP socket that listens but never accepts: the kernel completes
// connections to it, and nothing ever answers.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  void Close();
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A loopback port where nothing listens.
uint16_t ClosedPort();

}  // namespace interlock::testing
