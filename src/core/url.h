// Absolute URLs as Interlock's configuration and command line give them:
// scheme://[userinfo@]host[:port][/path][?query][#fragment] (RFC 3986
// section 3), split into parts. Nothing is percent-decoded, and host names
// are not resolved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace interlock {

struct Url {
  std::string scheme;  // lower-cased: "https"
  // What came before the last "@" of the authority, or nullopt without "@".
  std::optional<std::string> userinfo;
  // As written, without brackets for an IPv6 address: "example.com",
  // "127.0.0.1", "::1". Never empty.
  std::string host;
  bool ipv6 = false;  // the host was an IPv6 address in brackets
  // 1-65535 when the URL names a port; nullopt when it does not.
  std::optional<uint16_t> port;
  std::string authority;                // as written, userinfo included: "[::1]:8080"
  std::string path;                     // "" or starting with "/"
  std::optional<std::string> query;     // after "?", when there is a "?"
  std::optional<std::string> fragment;  // after "#", when there is a "#"

  // The host as it goes into a URL or a Host header: "[::1]" for IPv6.
  std::string HostForm() const;
  // Whether the host is this machine without asking a resolver: "localhost"
  // (ASCII case ignored), an IPv4 address in 127.0.0.0/8 written as four
  // decimal numbers without leading zeros, or the IPv6 address ::1.
  bool IsLoopbackHost() const;
};

// Splits an absolute URL. Fails with kInvalidArgument, the message saying
// what is wrong and in which part, for: no "scheme://"; a scheme that is not
// a letter followed by letters, digits, "+", "-" or "."; a space, control or
// non-ASCII character anywhere; an empty host; a host that is not a name of
// letters, digits, "-", ".", "_" and "~" nor a bracketed IPv6 address; an
// IPv6 address outside brackets; a port that is not a number from 1 to 65535.
Result<Url> ParseUrl(std::string_view text);

// `text` with every byte but the unreserved ones of RFC 3986 (A-Z a-z 0-9
// - . _ ~) written as %XX (upper-case hex): a path segment or a query
// parameter's value.
std::string PercentEncode(std::string_view text);

}  // namespace interlock
