// HMAC-SHA256 and constant-time comparison: signing what Interlock sends
// (webhooks), checking what it is sent (Slack's signatures, bearer tokens),
// and the audit log's keyed hashes.
//
// Everything goes through OpenSSL 3 EVP. Nothing here throws; OpenSSL
// failures that can only mean a broken installation (a missing SHA-256)
// abort, as in core/digest.h.
//
// Thread safety: the free functions are safe to call from several threads.
// An Hmac object is not; give each thread its own.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace interlock {

// HMAC-SHA256 (RFC 2104, FIPS 198-1). Any key length is allowed.
std::array<uint8_t, 32> HmacSha256(std::span<const uint8_t> key, std::string_view message);

// HMAC-SHA256 under one key, for many messages: the key's inner and outer
// blocks are hashed once, so each message costs only its own compression.
// One instance per thread.
class Hmac {
 public:
  explicit Hmac(std::span<const uint8_t> key);
  ~Hmac();
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  std::array<uint8_t, 32> Mac(std::string_view message);

 private:
  struct ContextFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  using Context = std::unique_ptr<evp_md_ctx_st, ContextFree>;
  Context inner_, outer_, work_;
};

// Whether a and b are equal, in time that depends only on their lengths.
// Use it to compare MACs and tags.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace interlock
