// An HttpClient for tests: records every call and answers from a script,
// so that a test checks what would have been sent and how its caller takes
// each kind of answer or failure, without a network.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <deque>
#include <mutex>
#include <vector>

#include "net/http_client.h"

namespace interlock::net {

class FakeHttpClient final : public HttpClient {
 public:
  // Queues the outcome of a call to come: a reply, or a failure such as
  // Error::Unavailable("cannot reach ..."). Calls take them in order; once
  // the script runs out, each is answered 200 with an empty body.
  void Script(Result<HttpReply> outcome);
  // Queues a reply with `status` and `body`.
  void Answer(int status, std::string body = "");

  // Every call so far, in order.
  std::vector<HttpCall> calls() const;

  Result<HttpReply> Send(const HttpCall& call) override;

 private:
  mutable std::mutex mu_;
  std::deque<Result<HttpReply>> script_;
  std::vector<HttpCall> calls_;
};

}  // namespace interlock::net
