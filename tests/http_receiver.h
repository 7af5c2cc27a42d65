// A webhook receiver for tests: the real HTTP server on a loopback port that
// records every request and answers with a status the test chooses.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
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
  // The status of the answers from now on (default 200).
  void AnswerWith(int status);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<server::HttpRequest> received_;
  int status_ = 200;
  std::unique_ptr<server::HttpServer> server_;
};

}  // namespace interlock::testing
