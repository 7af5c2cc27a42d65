#include "http_receiver.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace interlock::testing {

HttpReceiver::HttpReceiver() {
  server::ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 1;
  auto started =
      server::HttpServer::Start(o, [this](server::HttpRequest r, server::Respond respond) {
        server::HttpResponse answer;
        {
          std::lock_guard lock(mu_);
          received_.push_back(std::move(r));
          answer.status = status_;
        }
        cv_.notify_all();
        answer.content_type = "text/plain";
        answer.body = answer.status < 300 ? "ok" : "refused";
        respond(std::move(answer));
      });
  if (!started) {
    ADD_FAILURE() << "the receiver did not start: " << started.error().message();
    return;
  }
  server_ = std::move(*started);
}

HttpReceiver::~HttpReceiver() { server_.reset(); }

std::string HttpReceiver::Url(const std::string& path) const {
  return fmt::format("http://127.0.0.1:{}{}", server_ ? server_->port() : 0, path);
}

std::vector<server::HttpRequest> HttpReceiver::WaitFor(size_t n,
                                                       std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  return received_;
}

std::vector<server::HttpRequest> HttpReceiver::Received() {
  std::lock_guard lock(mu_);
  return received_;
}

void HttpReceiver::AnswerWith(int status) {
  std::lock_guard lock(mu_);
  status_ = status;
}

}  // namespace interlock::testing
