#include "net/fake_http_client.h"

namespace interlock::net {

void FakeHttpClient::Script(Result<HttpReply> outcome) {
  std::lock_guard lock(mu_);
  script_.push_back(std::move(outcome));
}

void FakeHttpClient::Answer(int status, std::string body) {
  Script(HttpReply{status, {}, std::move(body)});
}

std::vector<HttpCall> FakeHttpClient::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

Result<HttpReply> FakeHttpClient::Send(const HttpCall& call) {
  std::lock_guard lock(mu_);
  calls_.push_back(call);
  if (script_.empty()) return HttpReply{200, {}, ""};
  Result<HttpReply> outcome = std::move(script_.front());
  script_.pop_front();
  return outcome;
}

}  // namespace interlock::net
