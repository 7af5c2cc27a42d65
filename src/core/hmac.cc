#include "core/hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

#include "core/digest.h"
#include "core/evp.h"

namespace interlock {

std::array<uint8_t, 32> HmacSha256(std::span<const uint8_t> key, std::string_view message) {
  return Hmac(key).Mac(message);
}

void Hmac::ContextFree::operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }

Hmac::Hmac(std::span<const uint8_t> key)
    : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()), work_(EVP_MD_CTX_new()) {
  constexpr size_t kBlock = 64;
  std::array<uint8_t, kBlock> block{};
  if (key.size() > kBlock) {
    Sha256Hasher hasher;
    hasher.Update(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
    Sha256 digest = hasher.Finish();
    std::copy(digest.begin(), digest.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<uint8_t, kBlock> ipad, opad;
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] = block[i] ^ 0x36;
    opad[i] = block[i] ^ 0x5c;
  }
  // Failure here means OpenSSL cannot compute SHA-256 at all.
  if (!inner_ || !outer_ || !work_ || EVP_DigestInit_ex2(inner_.get(), Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(inner_.get(), ipad.data(), kBlock) != 1 ||
      EVP_DigestInit_ex2(outer_.get(), Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(outer_.get(), opad.data(), kBlock) != 1) {
    std::abort();
  }
  OPENSSL_cleanse(block.data(), kBlock);
  OPENSSL_cleanse(ipad.data(), kBlock);
  OPENSSL_cleanse(opad.data(), kBlock);
}

Hmac::~Hmac() = default;

std::array<uint8_t, 32> Hmac::Mac(std::string_view message) {
  std::array<uint8_t, 32> inner{}, mac{};
  unsigned size = 0;
  if (EVP_MD_CTX_copy_ex(work_.get(), inner_.get()) != 1 ||
      EVP_DigestUpdate(work_.get(), message.data(), message.size()) != 1 ||
      EVP_DigestFinal_ex(work_.get(), inner.data(), &size) != 1 ||
      EVP_MD_CTX_copy_ex(work_.get(), outer_.get()) != 1 ||
      EVP_DigestUpdate(work_.get(), inner.data(), inner.size()) != 1 ||
      EVP_DigestFinal_ex(work_.get(), mac.data(), &size) != 1) {
    std::abort();
  }
  return mac;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace interlock
