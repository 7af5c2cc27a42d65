#include "http_receiver.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
          if (answer_) {
            answer = *answer_;
          } else {
            answer.status = status_;
            answer.content_type = "text/plain";
            answer.body = answer.status < 300 ? "ok" : "refused";
          }
        }
        cv_.notify_all();
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
  answer_.reset();
}

void HttpReceiver::AnswerWith(server::HttpResponse answer) {
  std::lock_guard lock(mu_);
  answer_ = std::move(answer);
}

SilentListener::SilentListener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), size), 0);
  EXPECT_EQ(::listen(fd_, 4), 0);
  EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size), 0);
  port_ = ntohs(address.sin_port);
}

SilentListener::~SilentListener() { Close(); }

void SilentListener::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

uint16_t ClosedPort() {
  SilentListener listener;
  listener.Close();
  return listener.port();
}

}  // namespace interlock::testing
