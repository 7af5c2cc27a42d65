#include "core/url.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace interlock {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 3986 section 3.1.
bool IsScheme(std::string_view text) {
  return !text.empty() && IsAlpha(text[0]) && std::all_of(text.begin(), text.end(), [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.';
  });
}

// Unreserved characters (RFC 3986 section 2.3), the only ones Interlock takes
// in a host name: no percent-encoding, no sub-delimiters.
bool IsHostName(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The first number of `host` if it is four decimal numbers 0-255 without
// leading zeros, separated by dots; nullopt otherwise. Resolvers read other
// forms ("127.1", "0177.0.0.1") in ways of their own.
std::optional<unsigned> DottedQuadFirstOctet(std::string_view host) {
  std::optional<unsigned> first;
  for (int part = 0; part < 4; ++part) {
    size_t dot = host.find('.');
    if ((part < 3) == (dot == std::string_view::npos)) return std::nullopt;
    std::string_view number = host.substr(0, dot);
    if (number.empty() || number.size() > 3 ||
        !std::all_of(number.begin(), number.end(), IsDigit) ||
        (number.size() > 1 && number[0] == '0')) {
      return std::nullopt;
    }
    unsigned value = 0;
    std::from_chars(number.data(), number.data() + number.size(), value);
    if (value > 255) return std::nullopt;
    if (part == 0) first = value;
    host = dot == std::string_view::npos ? std::string_view() : host.substr(dot + 1);
  }
  return first;
}

}  // namespace

std::string Url::HostForm() const { return ipv6 ? fmt::format("[{}]", host) : host; }

bool Url::IsLoopbackHost() const {
  if (ipv6) {
    in6_addr address{};
    return inet_pton(AF_INET6, host.c_str(), &address) == 1 &&
           std::memcmp(&address, &in6addr_loopback, sizeof address) == 0;
  }
  return IEquals(host, "localhost") || DottedQuadFirstOctet(host) == 127u;
}

Result<Url> ParseUrl(std::string_view text) {
  auto invalid = [](std::string why) -> Result<Url> {
    return std::unexpected(Error::InvalidArgument(std::move(why)));
  };
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return invalid("spaces, control and non-ASCII characters are not allowed");
    }
  }
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return invalid("expected scheme://host");
  Url url;
  std::string_view scheme = text.substr(0, sep);
  if (!IsScheme(scheme)) {
    return invalid(
        fmt::format("scheme \"{}\": expected a letter, then letters, digits, "
                    "\"+\", \"-\" or \".\"",
                    scheme));
  }
  url.scheme = std::string(scheme);
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  std::string_view rest = text.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  rest.remove_prefix(authority.size());
  url.authority = std::string(authority);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
    url.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  if (size_t mark = rest.find('?'); mark != std::string_view::npos) {
    url.query = std::string(rest.substr(mark + 1));
    rest = rest.substr(0, mark);
  }
  url.path = std::string(rest);

  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  std::string_view port;
  bool port_given = false;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("an IPv6 address needs its closing ]");
    url.ipv6 = true;
    url.host = std::string(authority.substr(1, close - 1));
    in6_addr address{};
    if (inet_pton(AF_INET6, url.host.c_str(), &address) != 1) {
      return invalid("not an IPv6 address in the brackets");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return invalid("expected :port after ]");
    port_given = !after.empty();
    if (port_given) port = after.substr(1);
  } else {
    size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    port_given = colon != std::string_view::npos;
    if (port_given) {
      port = authority.substr(colon + 1);
      if (port.find(':') != std::string_view::npos) {
        return invalid("an IPv6 address goes in brackets: [::1]:8080");
      }
    }
    if (!IsHostName(url.host)) {
      return invalid(
          fmt::format("host \"{}\": expected a name, an IPv4 address or [an IPv6 "
                      "address]",
                      url.host));
    }
  }
  if (url.host.empty()) return invalid("no host");
  if (port_given) {
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number == 0 ||
        number > 65535) {
      return invalid(fmt::format("port \"{}\": expected 1 to 65535", port));
    }
    url.port = static_cast<uint16_t>(number);
  }
  return url;
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      unsigned char u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

}  // namespace interlock
