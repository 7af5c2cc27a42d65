// SHA-256 through OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace interlock {

using Sha256 = std::array<uint8_t, 32>;

// Incremental SHA-256. Not thread safe; one per thread.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view bytes);
  // Returns the digest; the hasher may not be used afterwards.
  Sha256 Finish();

 private:
  void* ctx_;  // EVP_MD_CTX, kept opaque to keep OpenSSL headers out of ours
};

std::string ToHex(const uint8_t* data, size_t size);
inline std::string ToHex(const Sha256& d) { return ToHex(d.data(), d.size()); }

// True for a digest named as "sha256:" and 64 lowercase hex digits.
bool IsSha256Digest(std::string_view text);

}  // namespace interlock
