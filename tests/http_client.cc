#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

namespace interlock::testing {

HttpClient::HttpClient(uint16_t port) : port_(port) {}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpClient::Connect() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

HttpAnswer HttpClient::Send(const std::string& method, const std::string& target,
                            const std::string& token, const std::string& body,
                            const std::map<std::string, std::string>& headers) {
  HttpAnswer answer;
  if (fd_ < 0 && !Connect()) return answer;
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST") {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413) before reading it all
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buffer[65536];
  size_t header_end = std::string::npos;
  size_t length = 0;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = in.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string head = in.substr(0, header_end);
        answer.status = std::atoi(head.substr(9, 3).c_str());
        size_t line = head.find("\r\n");
        while (line != std::string::npos) {
          size_t next = head.find("\r\n", line + 2);
          std::string h = head.substr(
              line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
          size_t colon = h.find(':');
          if (colon != std::string::npos) {
            std::string name = h.substr(0, colon);
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            size_t v = h.find_first_not_of(' ', colon + 1);
            answer.headers[name] = v == std::string::npos ? "" : h.substr(v);
          }
          line = next;
        }
        // A HEAD answer names the length of a body it does not send.
        length = method == "HEAD"
                     ? 0
                     : static_cast<size_t>(std::atoll(answer.headers["content-length"].c_str()));
      }
    }
    if (header_end != std::string::npos && in.size() >= header_end + 4 + length) break;
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      ::close(fd_);
      fd_ = -1;
      if (header_end == std::string::npos) answer.status = 0;
      break;
    }
    in.append(buffer, static_cast<size_t>(n));
  }
  if (header_end != std::string::npos) answer.body = in.substr(header_end + 4, length);
  if (answer.headers["connection"] == "close" && fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  return answer;
}

}  // namespace interlock::testing
