// Symmetric cryptography for the audit log: AES-256-GCM sealing, HKDF over
// SHA-256, the master key that wraps data keys. The byte encodings are
// core/encoding.h's; HMAC and constant-time comparison core/hmac.h's.
//
// Everything goes through OpenSSL 3 EVP. Nothing here throws; OpenSSL
// failures that can only mean a broken installation (a missing SHA-256)
// abort, as in core/digest.h.
//
// Thread safety: the free functions are safe to call from several threads.
// An Aead object is not; give each thread its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

// The audit log seals with these and with the shared encodings and MACs,
// which its code names unqualified.
#include "core/encoding.h"
#include "core/fs.h"
#include "core/hmac.h"
#include "core/random.h"
#include "core/status.h"

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX, kept out of this header

namespace interlock::audit {

using Key256 = std::array<uint8_t, 32>;

constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

// ---------------------------------------------------------------------------
// AES-256-GCM
//
// A sealed value is laid out as nonce (12 bytes) || ciphertext || tag (16
// bytes); the ciphertext is as long as the plaintext. `aad` is authenticated
// but not stored: Open must be given the same aad that Seal was.
//
// Nonces are 96 random bits drawn from `random` for every call, so one key
// may seal about 2^32 values before the chance of a repeated nonce stops
// being negligible. Rotate data keys well before that.

// Encrypts `plaintext`. Fails only if `random` does.
Result<std::string> Seal(const Key256& key, Random& random, std::string_view plaintext,
                         std::string_view aad);

// Decrypts a value made by Seal. Fails with kInvalidArgument if `sealed` is
// shorter than a nonce and a tag, and with kCorruption "authentication
// failed" if the key, the aad or any byte of `sealed` differs from what was
// sealed. Never returns unauthenticated plaintext.
Result<std::string> Open(const Key256& key, std::string_view sealed, std::string_view aad);

// Seal and Open with one OpenSSL context kept across calls, for loops that
// seal or open many values. Same contracts as the free functions.
//
// Thread safety: not thread safe; one Aead per thread.
class Aead {
 public:
  Aead();
  ~Aead();
  Aead(Aead&&) noexcept;
  Aead& operator=(Aead&&) noexcept;
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  Result<std::string> Seal(const Key256& key, Random& random, std::string_view plaintext,
                           std::string_view aad);
  Result<std::string> Open(const Key256& key, std::string_view sealed, std::string_view aad);
  // Open into `plaintext`, reusing its capacity; on failure it is left empty.
  Result<void> OpenInto(const Key256& key, std::string_view sealed, std::string_view aad,
                        std::string& plaintext);

  // Seal with a caller-chosen nonce, for known-answer tests and for callers
  // that construct nonces unique per key (the audit log uses its record
  // index). Reusing a nonce under one key destroys both confidentiality and
  // integrity.
  Result<std::string> SealWithNonce(const Key256& key, std::span<const uint8_t, kNonceSize> nonce,
                                    std::string_view plaintext, std::string_view aad);

 private:
  struct ContextFree {
    void operator()(evp_cipher_ctx_st* ctx) const;
  };
  // Sets the nonce, and the key unless the context already holds it for the
  // same direction (expanding an AES key is a large part of opening a short
  // record). False if OpenSSL fails.
  bool Init(const Key256& key, const uint8_t* nonce, int encrypt);

  // Null if OpenSSL could not set up a context; every call then fails.
  std::unique_ptr<evp_cipher_ctx_st, ContextFree> ctx_;
  // The key the context holds, and for which direction (-1: none yet).
  // Wiped on destruction.
  Key256 key_{};
  int direction_ = -1;
};

// ---------------------------------------------------------------------------
// Key derivation

// HKDF-SHA256 (RFC 5869) without salt: a 32-byte sub-key of `master` for
// the purpose named by `info`. Different infos give independent keys.
Key256 DeriveKey(const Key256& master, std::string_view info);

// HKDF-SHA256 with every parameter exposed, for DeriveKey and for the RFC
// 5869 test vectors. An empty salt means "no salt". `length` must be at most
// 255 * 32; larger values fail with kInvalidArgument.
Result<std::string> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                               std::string_view info, size_t length);

// ---------------------------------------------------------------------------
// The master key

// The key that wraps the data keys of the audit log. It is never stored in
// the database, so a copy of the database alone reveals nothing.
struct MasterKey {
  Key256 key{};
  // Where the key came from: "INTERLOCK_MASTER_KEY", "file PATH" or
  // "created PATH".
  std::string source;
  // Non-empty if the caller must show it to the user: a new key file was
  // created and must be backed up, or the key file is readable by others.
  std::string warning;

  // 16 hex digits (the first 8 bytes of SHA-256("interlock master key" ||
  // key)) that identify the key in messages without revealing it.
  std::string Fingerprint() const;
};

// The fingerprint of any key, as in MasterKey::Fingerprint.
std::string KeyFingerprint(const Key256& key);

// Finds the master key, in this order:
//   1. `env_key` (the value of INTERLOCK_MASTER_KEY), if non-empty;
//   2. the file named by `env_key_file` (INTERLOCK_MASTER_KEY_FILE), if
//      non-empty; it must exist;
//   3. the file `default_path`, created if it does not exist (with its
//      missing parent directories) holding a fresh key from `random`, by
//      FileSystem::CreatePrivateFile (mode 0600). If another process creates
//      it first, its key is used.
// A key is 64 hex digits or the base64 encoding of 32 bytes; surrounding
// whitespace is ignored. A malformed key fails with kInvalidArgument naming
// where it came from (never quoting it). A key file readable or writable by
// group or others sets `warning` but is used.
//
// The caller reads the environment; nothing here calls getenv.
Result<MasterKey> LoadMasterKey(FileSystem& fs, Random& random, std::string_view env_key,
                                std::string_view env_key_file, const std::string& default_path);

// Wraps a data key for storage: AES-256-GCM under `master` with the key id
// as aad, so a wrapped key cannot be moved to another id unnoticed.
Result<std::string> WrapKey(const Key256& master, Random& random, const Key256& data_key,
                            std::string_view key_id);

// Inverse of WrapKey. Fails with kCorruption, saying the master key is
// probably wrong, if authentication fails.
Result<Key256> UnwrapKey(const Key256& master, std::string_view wrapped, std::string_view key_id);

}  // namespace interlock::audit
