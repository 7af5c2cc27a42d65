#include "net/curl.h"

#include <algorithm>
#include <climits>
#include <mutex>

namespace interlock::net::curl {
namespace {

CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

long Millis(std::chrono::milliseconds d) {
  return static_cast<long>(std::min<std::chrono::milliseconds::rep>(d.count(), LONG_MAX));
}

}  // namespace

bool Append(List& list, const std::string& line) {
  curl_slist* longer = curl_slist_append(list.get(), line.c_str());
  if (longer == nullptr) return false;
  if (!list) list.reset(longer);  // later appends return the same head
  return true;
}

std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= kQuoteLimit) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string Duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
  return fmt::format("{}ms", d.count());
}

Result<Easy> Easy::Open(const char* protocols, std::chrono::milliseconds connect_timeout,
                        std::chrono::milliseconds timeout) {
  if (connect_timeout.count() <= 0) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("connect_timeout must be positive, not {} ms", connect_timeout.count())));
  }
  if (timeout.count() <= 0) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("timeout must be positive, not {} ms", timeout.count())));
  }
  if (CURLcode init = GlobalInit(); init != CURLE_OK) {
    return std::unexpected(
        Error::Internal(fmt::format("libcurl failed to initialise: {}", curl_easy_strerror(init))));
  }
  Easy easy;
  easy.handle_.reset(curl_easy_init());
  if (!easy.handle_) return std::unexpected(Error::Internal("libcurl failed to create a handle"));
  easy.error_ = std::make_unique<char[]>(CURL_ERROR_SIZE);
  easy.error_[0] = '\0';
  easy.Set(CURLOPT_ERRORBUFFER, easy.error_.get());
  easy.Set(CURLOPT_NOSIGNAL, 1L);
  easy.Set(CURLOPT_PROTOCOLS_STR, protocols);
  easy.Set(CURLOPT_CONNECTTIMEOUT_MS, Millis(connect_timeout));
  easy.Set(CURLOPT_TIMEOUT_MS, Millis(timeout));
  easy.Set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  easy.Set(CURLOPT_SSL_VERIFYPEER, 1L);
  easy.Set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (auto ready = easy.Ready(); !ready) return std::unexpected(ready.error());
  return easy;
}

Result<void> Easy::Ready() const {
  if (refused_ == CURLE_OK) return Ok();
  return std::unexpected(
      Error::Internal(fmt::format("libcurl refused an option: {}", curl_easy_strerror(refused_))));
}

std::string Easy::Detail(CURLcode code) const {
  return Printable(error_ && error_[0] != '\0' ? error_.get() : curl_easy_strerror(code));
}

long Easy::Info(CURLINFO info) const {
  long value = 0;
  if (curl_easy_getinfo(handle_.get(), info, &value) != CURLE_OK) return 0;
  return value;
}

curl_off_t Easy::InfoOff(CURLINFO info) const {
  curl_off_t value = 0;
  if (curl_easy_getinfo(handle_.get(), info, &value) != CURLE_OK) return 0;
  return value;
}

}  // namespace interlock::net::curl
