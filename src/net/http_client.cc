#include "net/http_client.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <string_view>
#include <system_error>

#include "core/url.h"
#include "net/curl.h"

namespace interlock::net {
namespace {

// Far more than a bundle of every public root.
constexpr size_t kCaFileLimit = size_t{4} << 20;
// The header fields of an answer, together; a peer sending more is cut off.
constexpr size_t kHeaderLimit = size_t{256} << 10;

std::unexpected<Error> Invalid(std::string message) {
  return std::unexpected(Error::InvalidArgument(std::move(message)));
}

// RFC 9110 section 5.6.2.
bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool IsFieldValue(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return c == ' ' || c == '\t' || (c > 0x20 && c < 0x7f);
  });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Where a call goes, from HttpCall::url.
struct Target {
  std::string origin;  // "https://example.com:8443", for messages
  std::string host;    // without brackets
  std::string url;     // rebuilt from the parsed parts, for libcurl
};

Result<Target> ParseTarget(std::string_view url) {
  Result<Url> parsed = ParseUrl(url);
  if (!parsed) return Invalid("not an http(s) URL: " + parsed.error().message());
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    return Invalid(fmt::format("not an http(s) URL: the scheme is \"{}\"", parsed->scheme));
  }
  if (parsed->userinfo) return Invalid("not an http(s) URL: credentials do not go in the URL");
  if (parsed->fragment) return Invalid("not an http(s) URL: a fragment is not sent");
  std::string authority = parsed->HostForm();
  if (parsed->port) authority += fmt::format(":{}", *parsed->port);
  Target target;
  target.origin = fmt::format("{}://{}", parsed->scheme, parsed->authority);
  target.host = parsed->host;
  target.url = fmt::format("{}://{}{}", parsed->scheme, authority,
                           parsed->path.empty() ? "/" : parsed->path);
  if (parsed->query) target.url += "?" + *parsed->query;
  return target;
}

Result<void> CheckCall(const HttpCall& call) {
  if (call.method.empty() || !std::all_of(call.method.begin(), call.method.end(),
                                          [](unsigned char c) { return c >= 'A' && c <= 'Z'; })) {
    return Invalid(fmt::format("\"{}\" is not an HTTP method", curl::Printable(call.method)));
  }
  for (const auto& [name, value] : call.headers) {
    std::string lower = Lower(name);
    if (!IsToken(name) || !IsFieldValue(value) || lower == "host" || lower == "content-length" ||
        lower == "transfer-encoding") {
      return Invalid(
          fmt::format("the header \"{}\" cannot go into a request", curl::Printable(name)));
    }
  }
  return Ok();
}

// The certificates of a PEM file, checked here so that a file that is
// missing or holds none says so rather than failing every handshake.
Result<std::string> ReadCaFile(const FileSystem& fs, const std::string& path) {
  auto pem = fs.ReadFile(path, kCaFileLimit);
  if (!pem) return Invalid("CA file " + pem.error().message());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), &BIO_free);
  if (!bio) return std::unexpected(Error::Internal("OpenSSL cannot read from memory"));
  ERR_clear_error();
  size_t certificates = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++certificates;
  }
  unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (certificates > 0) return std::move(*pem);
  const char* reason = error != 0 ? ERR_reason_error_string(error) : nullptr;
  return Invalid(fmt::format("CA file {}: not a PEM file of certificates ({})", path,
                             reason != nullptr ? reason : "none found"));
}

// What libcurl reads into while it runs.
struct Answer {
  HttpReply reply;
  size_t body_limit = 0;
  size_t header_bytes = 0;
  bool over_body_limit = false;
  bool over_header_limit = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<Answer*>(user);
  size_t n = size * count;
  if (answer->reply.body.size() + n > answer->body_limit) {
    answer->over_body_limit = true;
    return 0;  // ends the transfer with CURLE_WRITE_ERROR
  }
  try {
    answer->reply.body.append(data, n);
  } catch (const std::exception&) {
    return 0;
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<Answer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  answer->header_bytes += n;
  if (answer->header_bytes > kHeaderLimit) {
    answer->over_header_limit = true;
    return 0;
  }
  try {
    // A status line starts the fields of a new answer (after a 100 Continue).
    if (line.starts_with("HTTP/")) {
      answer->reply.headers.clear();
      return n;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;  // the blank line at the end
    std::string_view value = line.substr(colon + 1);
    size_t first = value.find_first_not_of(" \t");
    size_t last = value.find_last_not_of(" \t\r\n");
    value = first == std::string_view::npos ? std::string_view()
                                            : value.substr(first, last - first + 1);
    answer->reply.headers.emplace_back(Lower(line.substr(0, colon)), std::string(value));
  } catch (const std::exception&) {
    return 0;
  }
  return n;
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(const FileSystem& fs) : fs_(fs) {}

  Result<HttpReply> Send(const HttpCall& call) override {
    try {
      return Exchange(call);
    } catch (const std::exception& e) {
      return std::unexpected(Error::Internal(fmt::format("HTTP client: {}", e.what())));
    }
  }

 private:
  Result<HttpReply> Exchange(const HttpCall& call) {
    auto target = ParseTarget(call.url);
    if (!target) return std::unexpected(target.error());
    if (auto ok = CheckCall(call); !ok) return std::unexpected(ok.error());
    std::string ca;
    if (!call.ca_file.empty() && target->url.starts_with("https:")) {
      auto read = ReadCaFile(fs_, call.ca_file);
      if (!read) return std::unexpected(read.error());
      ca = std::move(*read);
    }
    auto easy = curl::Easy::Open("http,https", call.connect_timeout, call.timeout);
    if (!easy) return std::unexpected(easy.error());

    curl::List headers;
    bool typed = false;
    bool accepts = false;
    for (const auto& [name, value] : call.headers) {
      std::string lower = Lower(name);
      typed = typed || lower == "content-type";
      accepts = accepts || lower == "accept";
      // "Name;" is libcurl's way to send a field with an empty value.
      std::string field = name;
      if (value.empty()) {
        field += ';';
      } else {
        field += ": ";
        field += value;
      }
      if (!curl::Append(headers, field)) {
        return std::unexpected(Error::Internal("out of memory"));
      }
    }
    // No field the caller did not ask for: "Name:" removes libcurl's own.
    for (const char* removed :
         {typed ? "" : "Content-Type:", accepts ? "" : "Accept:", "Expect:"}) {
      if (*removed != '\0' && !curl::Append(headers, removed)) {
        return std::unexpected(Error::Internal("out of memory"));
      }
    }

    Answer answer;
    answer.body_limit = call.body_limit;
    easy->Set(CURLOPT_URL, target->url.c_str());
    easy->Set(CURLOPT_PATH_AS_IS, 1L);
    easy->Set(CURLOPT_PROXY, "");
    easy->Set(CURLOPT_FOLLOWLOCATION, 0L);
    easy->Set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    easy->Set(CURLOPT_HTTPHEADER, headers.get());
    easy->Set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(call.body_limit));
    easy->Set(CURLOPT_WRITEFUNCTION, OnBody);
    easy->Set(CURLOPT_WRITEDATA, &answer);
    easy->Set(CURLOPT_HEADERFUNCTION, OnHeader);
    easy->Set(CURLOPT_HEADERDATA, &answer);
    if (!ca.empty()) {
      curl_blob blob{ca.data(), ca.size(), CURL_BLOB_COPY};
      easy->Set(CURLOPT_CAINFO_BLOB, &blob);
      easy->Set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    }
    if (call.method == "HEAD") {
      easy->Set(CURLOPT_NOBODY, 1L);
    } else if (call.method == "POST" || !call.body.empty()) {
      easy->Set(CURLOPT_POSTFIELDS, call.body.data());
      easy->Set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    }
    if (call.method != "GET" && call.method != "HEAD" && call.method != "POST") {
      easy->Set(CURLOPT_CUSTOMREQUEST, call.method.c_str());
    } else if (call.method == "GET" && !call.body.empty()) {
      easy->Set(CURLOPT_CUSTOMREQUEST, "GET");
    }
    if (auto ready = easy->Ready(); !ready) return std::unexpected(ready.error());

    CURLcode code = easy->Perform();
    if (code == CURLE_OK) {
      answer.reply.status = static_cast<int>(easy->Info(CURLINFO_RESPONSE_CODE));
      return std::move(answer.reply);
    }
    return std::unexpected(Failure(*easy, code, call, *target, answer));
  }

  // What went wrong in one exchange, in a message for the operator.
  static Error Failure(const curl::Easy& easy, CURLcode code, const HttpCall& call,
                       const Target& target, const Answer& answer) {
    auto unreachable = [&](std::string_view why) {
      return Error::Unavailable(fmt::format("cannot reach {}: {}", target.origin, why));
    };
    auto no_answer = [&](std::string_view why) {
      return Error::Unavailable(fmt::format("no answer from {}: {}", target.origin, why));
    };
    std::string detail = easy.Detail(code);
    bool connected =
        easy.InfoOff(CURLINFO_CONNECT_TIME_T) > 0 || easy.Info(CURLINFO_REQUEST_SIZE) > 0;
    bool tls = target.url.starts_with("https:");
    bool handshaken = !tls || easy.InfoOff(CURLINFO_APPCONNECT_TIME_T) > 0;
    switch (code) {
      case CURLE_OUT_OF_MEMORY:
        return Error::Internal(fmt::format("HTTP client: {}", detail));
      case CURLE_COULDNT_RESOLVE_HOST:
        return unreachable(fmt::format("cannot resolve {} ({})", target.host, detail));
      case CURLE_COULDNT_CONNECT: {
        long os_error = easy.Info(CURLINFO_OS_ERRNO);
        if (os_error == 0) return unreachable(detail);
        return unreachable(
            std::error_code(static_cast<int>(os_error), std::system_category()).message());
      }
      case CURLE_PEER_FAILED_VERIFICATION: {
        // libcurl checks the host name once the chain is verified, and
        // leaves the result X509_V_ERR_UNSPECIFIED when the name fails.
        long verify = easy.Info(CURLINFO_SSL_VERIFYRESULT);
        if (verify != X509_V_OK && verify != X509_V_ERR_UNSPECIFIED) {
          return unreachable(fmt::format("the server's certificate is not trusted: {}",
                                         X509_verify_cert_error_string(verify)));
        }
        return unreachable(fmt::format("the server's certificate does not name {}", target.host));
      }
      case CURLE_SSL_CONNECT_ERROR:
        return unreachable(fmt::format("TLS handshake failed ({})", detail));
      case CURLE_OPERATION_TIMEDOUT: {
        std::chrono::milliseconds first = std::min(call.connect_timeout, call.timeout);
        if (!connected) {
          return unreachable(fmt::format("no connection within {}", curl::Duration(first)));
        }
        if (!handshaken) {
          return unreachable(fmt::format("no TLS handshake within {}", curl::Duration(first)));
        }
        return no_answer(fmt::format("nothing within {}", curl::Duration(call.timeout)));
      }
      case CURLE_FILESIZE_EXCEEDED:
        return no_answer(fmt::format("the answer is larger than {} bytes", call.body_limit));
      case CURLE_GOT_NOTHING:
        return no_answer("the connection closed before an answer");
      case CURLE_SEND_ERROR:
        return no_answer(fmt::format("sending the request failed ({})", detail));
      default:
        break;
    }
    if (answer.over_body_limit) {
      return no_answer(fmt::format("the answer is larger than {} bytes", call.body_limit));
    }
    if (answer.over_header_limit) {
      return no_answer(fmt::format("the answer's header is larger than {} bytes", kHeaderLimit));
    }
    if (!connected || !handshaken) return unreachable(detail);
    return no_answer(detail);
  }

  const FileSystem& fs_;
};

}  // namespace

const std::string* HttpReply::Header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (field == name) return &value;
  }
  return nullptr;
}

std::unique_ptr<HttpClient> NewCurlHttpClient(const FileSystem& fs) {
  return std::make_unique<CurlHttpClient>(fs);
}

std::unique_ptr<HttpClient> NewCurlHttpClient() {
  static RealFileSystem fs;
  return NewCurlHttpClient(fs);
}

}  // namespace interlock::net
