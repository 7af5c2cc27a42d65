// What every libcurl exchange of Interlock shares (HTTP here, SMTP in
// notify/smtp.cc): the process-wide initialisation, an easy handle with an
// error buffer, one protocol family, timeouts and TLS verification, and
// libcurl's text made fit for an error message.
//
// Nothing in this header throws.
//
// Thread safety: an Easy is used by one thread at a time; any number of
// them may run at once.
#pragma once

#include <curl/curl.h>
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace interlock::net::curl {

struct Free {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using List = std::unique_ptr<curl_slist, Free>;

// Appends `line` to `list`. False when out of memory (the list is as it was).
bool Append(List& list, const std::string& line);

// At most this many bytes of libcurl's or a peer's text go into a message.
inline constexpr size_t kQuoteLimit = 120;

// Printable ASCII only, trimmed, cut after kQuoteLimit bytes ("..." added):
// a hostile peer cannot break the line that logs the message.
std::string Printable(std::string_view text);

// "10s" or "300ms", for messages about timeouts.
std::string Duration(std::chrono::milliseconds d);

// One easy handle set up for one exchange: errors into its own buffer, no
// signals, only `protocols` ("http,https", "smtp,smtps"), the two
// timeouts, and TLS 1.2 or newer with the peer's certificate and host name
// verified against the system's trust store (callers set their own CA).
class Easy {
 public:
  // Fails with kInternal when libcurl cannot be initialised or refuses an
  // option; with kInvalidArgument when a timeout is not positive.
  static Result<Easy> Open(const char* protocols, std::chrono::milliseconds connect_timeout,
                           std::chrono::milliseconds timeout);

  CURL* get() const { return handle_.get(); }

  // Sets an option; the first refusal is kept for Ready.
  template <class T>
  void Set(CURLoption option, T value) {
    if (refused_ == CURLE_OK) refused_ = curl_easy_setopt(handle_.get(), option, value);
  }
  // Whether every Set so far was accepted (kInternal naming the refusal).
  Result<void> Ready() const;

  CURLcode Perform() { return curl_easy_perform(handle_.get()); }
  // What went wrong with `code`: libcurl's error buffer or its description
  // of the code, Printable.
  std::string Detail(CURLcode code) const;
  // CURLINFO values of the last Perform; 0 when libcurl has none.
  long Info(CURLINFO info) const;
  curl_off_t InfoOff(CURLINFO info) const;

 private:
  Easy() = default;
  std::unique_ptr<CURL, Free> handle_;
  std::unique_ptr<char[]> error_;  // CURL_ERROR_SIZE bytes, at a stable address
  CURLcode refused_ = CURLE_OK;
};

}  // namespace interlock::net::curl
