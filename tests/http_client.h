// A small blocking HTTP/1.1 client over loopback TCP, for tests that speak
// to a real server. One connection, kept alive across requests.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace interlock::testing {

struct HttpAnswer {
  int status = 0;                              // 0 when the connection failed or closed early
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the whole answer. `token` becomes
  // "Authorization: Bearer <token>" unless empty.
  HttpAnswer Send(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {});

 private:
  bool Connect();
  uint16_t port_;
  int fd_ = -1;
};

}  // namespace interlock::testing
