#include "audit/crypto.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/digest.h"

namespace interlock::audit {
namespace {

// OpenSSL lengths are ints; longer inputs are fed in pieces of this size.
constexpr size_t kChunk = size_t{1} << 30;

// Master key files hold one line; anything much longer is not a key file.
constexpr size_t kMaxKeyFileBytes = 4096;

struct KdfFree {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
};
struct KdfContextFree {
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};

// Overwrites a string that held key material before it is freed.
void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

// OpenSSL rejects a null pointer even with length zero in some places.
const uint8_t* NonNull(std::span<const uint8_t> bytes) {
  static const uint8_t kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
}

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

Error AuthenticationFailed() { return Error::Corruption("authentication failed"); }

Error OpenSslFailed(std::string_view what) {
  return Error::Internal(fmt::format("OpenSSL failed to {}", what));
}

// Feeds `aad` to a GCM context initialised for encryption or decryption.
bool UpdateAad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  for (size_t done = 0; done < aad.size();) {
    size_t chunk = std::min(aad.size() - done, kChunk);
    int unused = 0;
    if (EVP_CipherUpdate(ctx, nullptr, &unused, Bytes(aad) + done, static_cast<int>(chunk)) != 1) {
      return false;
    }
    done += chunk;
  }
  return true;
}

// Runs `in` through the cipher into `out` (GCM is a stream mode: the output
// is as long as the input).
bool UpdateData(EVP_CIPHER_CTX* ctx, std::string_view in, uint8_t* out) {
  for (size_t done = 0; done < in.size();) {
    size_t chunk = std::min(in.size() - done, kChunk);
    int written = 0;
    if (EVP_CipherUpdate(ctx, out + done, &written, Bytes(in) + done, static_cast<int>(chunk)) !=
            1 ||
        static_cast<size_t>(written) != chunk) {
      return false;
    }
    done += chunk;
  }
  return true;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Parses a key written as 64 hex digits or as base64 of 32 bytes. `where`
// names the source for the error; the text itself is never quoted.
Result<Key256> ParseKeyText(std::string_view text, std::string_view where) {
  text = Trim(text);
  auto decoded = text.size() == 64 ? HexDecode(text) : Base64Decode(text);
  if (!decoded || decoded->size() != 32) {
    if (decoded) Wipe(*decoded);
    return std::unexpected(Error::InvalidArgument(
        fmt::format("{}: not a valid master key: expected 64 hex digits or the base64 "
                    "encoding of 32 bytes",
                    where)));
  }
  Key256 key;
  std::memcpy(key.data(), decoded->data(), key.size());
  Wipe(*decoded);
  return key;
}

// Reads and parses an existing key file. `source` is recorded in the key.
Result<MasterKey> ReadKeyFile(FileSystem& fs, const std::string& path, std::string source) {
  auto text = fs.ReadFile(path, kMaxKeyFileBytes);
  if (!text) return std::unexpected(text.error());
  auto key = ParseKeyText(*text, fmt::format("master key file {}", path));
  Wipe(*text);
  if (!key) return std::unexpected(key.error());
  auto mode = fs.FileMode(path);
  if (!mode) return std::unexpected(mode.error());
  MasterKey master{*key, std::move(source), ""};
  if ((*mode & 077) != 0) {
    master.warning = fmt::format(
        "master key file {} has mode {:04o}, so other users may read it; run chmod 600 {}", path,
        *mode, path);
  }
  return master;
}

std::string ParentDirectory(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  return path.substr(0, slash);
}

// Creates `path` holding a fresh key, or reads the key of whoever created it
// first.
Result<MasterKey> CreateOrReadDefault(FileSystem& fs, Random& random, const std::string& path) {
  std::string parent = ParentDirectory(path);
  if (!parent.empty() && !fs.IsDirectory(parent)) {
    if (auto made = fs.CreateDirectories(parent); !made) return std::unexpected(made.error());
  }
  Key256 key;
  if (auto filled = random.Fill(key); !filled) return std::unexpected(filled.error());
  std::string contents = HexEncode(key) + "\n";
  auto created = fs.CreatePrivateFile(path, contents);
  Wipe(contents);
  if (created) {
    return MasterKey{
        key, "created " + path,
        fmt::format("created a new master key at {}; back it up: without it the audit log "
                    "cannot be read",
                    path)};
  }
  OPENSSL_cleanse(key.data(), key.size());
  if (created.error().kind() != ErrorKind::kAlreadyExists) {
    return std::unexpected(created.error());
  }
  // Another process won the race. Its file exists but may still be empty
  // for an instant, between its creation and its write; wait briefly for
  // the key rather than failing a concurrent first start.
  for (int attempt = 0;; ++attempt) {
    auto text = fs.ReadFile(path, kMaxKeyFileBytes);
    if (!text || !Trim(*text).empty() || attempt == 50) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ReadKeyFile(fs, path, "file " + path);
}

}  // namespace

// ---------------------------------------------------------------------------
// AES-256-GCM

void Aead::ContextFree::operator()(evp_cipher_ctx_st* ctx) const { EVP_CIPHER_CTX_free(ctx); }

Aead::Aead() : ctx_(EVP_CIPHER_CTX_new()) {
  // Bind the cipher once; each call then only sets the key and the nonce.
  if (ctx_ != nullptr &&
      EVP_CipherInit_ex(ctx_.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, 1) != 1) {
    ctx_.reset();
  }
}

Aead::~Aead() { OPENSSL_cleanse(key_.data(), key_.size()); }

bool Aead::Init(const Key256& key, const uint8_t* nonce, int encrypt) {
  if (direction_ == encrypt && key == key_) {
    return EVP_CipherInit_ex(ctx_.get(), nullptr, nullptr, nullptr, nonce, encrypt) == 1;
  }
  direction_ = -1;
  if (EVP_CipherInit_ex(ctx_.get(), nullptr, nullptr, key.data(), nonce, encrypt) != 1) {
    return false;
  }
  key_ = key;
  direction_ = encrypt;
  return true;
}
Aead::Aead(Aead&&) noexcept = default;
Aead& Aead::operator=(Aead&&) noexcept = default;

Result<std::string> Aead::Seal(const Key256& key, Random& random, std::string_view plaintext,
                               std::string_view aad) {
  std::array<uint8_t, kNonceSize> nonce;
  if (auto filled = random.Fill(nonce); !filled) return std::unexpected(filled.error());
  return SealWithNonce(key, nonce, plaintext, aad);
}

Result<std::string> Aead::SealWithNonce(const Key256& key,
                                        std::span<const uint8_t, kNonceSize> nonce,
                                        std::string_view plaintext, std::string_view aad) {
  if (ctx_ == nullptr) return std::unexpected(OpenSslFailed("set up AES-256-GCM"));
  EVP_CIPHER_CTX* ctx = ctx_.get();
  std::string sealed(kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* out = reinterpret_cast<uint8_t*>(sealed.data());
  std::memcpy(out, nonce.data(), kNonceSize);
  int unused = 0;
  if (!Init(key, nonce.data(), 1) || !UpdateAad(ctx, aad) ||
      !UpdateData(ctx, plaintext, out + kNonceSize) ||
      EVP_CipherFinal_ex(ctx, out + kNonceSize + plaintext.size(), &unused) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize,
                          out + kNonceSize + plaintext.size()) != 1) {
    return std::unexpected(OpenSslFailed("encrypt with AES-256-GCM"));
  }
  return sealed;
}

Result<std::string> Aead::Open(const Key256& key, std::string_view sealed, std::string_view aad) {
  std::string plaintext;
  if (auto ok = OpenInto(key, sealed, aad, plaintext); !ok) return std::unexpected(ok.error());
  return plaintext;
}

Result<void> Aead::OpenInto(const Key256& key, std::string_view sealed, std::string_view aad,
                            std::string& plaintext) {
  plaintext.clear();
  if (sealed.size() < kNonceSize + kTagSize) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("sealed value is {} bytes; at least {} are needed for the nonce and the tag",
                    sealed.size(), kNonceSize + kTagSize)));
  }
  if (ctx_ == nullptr) return std::unexpected(OpenSslFailed("set up AES-256-GCM"));
  EVP_CIPHER_CTX* ctx = ctx_.get();
  std::string_view ciphertext = sealed.substr(kNonceSize, sealed.size() - kNonceSize - kTagSize);
  // SET_TAG takes a non-const pointer.
  std::array<uint8_t, kTagSize> tag;
  std::memcpy(tag.data(), sealed.data() + sealed.size() - kTagSize, kTagSize);
  plaintext.resize(ciphertext.size());
  auto* out = reinterpret_cast<uint8_t*>(plaintext.data());
  if (!Init(key, Bytes(sealed), 0) || !UpdateAad(ctx, aad) || !UpdateData(ctx, ciphertext, out) ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagSize, tag.data()) != 1) {
    Wipe(plaintext);
    plaintext.clear();
    return std::unexpected(OpenSslFailed("decrypt with AES-256-GCM"));
  }
  int unused = 0;
  if (EVP_CipherFinal_ex(ctx, out + plaintext.size(), &unused) != 1) {
    Wipe(plaintext);
    plaintext.clear();
    return std::unexpected(AuthenticationFailed());
  }
  return Ok();
}

Result<std::string> Seal(const Key256& key, Random& random, std::string_view plaintext,
                         std::string_view aad) {
  return Aead().Seal(key, random, plaintext, aad);
}

Result<std::string> Open(const Key256& key, std::string_view sealed, std::string_view aad) {
  return Aead().Open(key, sealed, aad);
}

// ---------------------------------------------------------------------------
// Key derivation

Result<std::string> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                               std::string_view info, size_t length) {
  if (length == 0 || length > size_t{255} * 32) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("HKDF-SHA256 output length {} is outside 1..{}", length, 255 * 32)));
  }
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (kdf == nullptr) return std::unexpected(OpenSslFailed("load HKDF"));
  std::unique_ptr<EVP_KDF_CTX, KdfContextFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (ctx == nullptr) return std::unexpected(OpenSslFailed("create an HKDF context"));

  char digest[] = "SHA256";
  OSSL_PARAM params[5];
  size_t count = 0;
  params[count++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[count++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(NonNull(ikm)), ikm.size());
  if (!salt.empty()) {
    params[count++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[count++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
  }
  params[count] = OSSL_PARAM_construct_end();

  std::string out(length, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<uint8_t*>(out.data()), out.size(), params) != 1) {
    return std::unexpected(OpenSslFailed("derive a key with HKDF-SHA256"));
  }
  return out;
}

Key256 DeriveKey(const Key256& master, std::string_view info) {
  auto derived = HkdfSha256(master, {}, info, 32);
  // The inputs are always valid, so failure means OpenSSL lacks HKDF.
  if (!derived) std::abort();
  Key256 key;
  std::memcpy(key.data(), derived->data(), key.size());
  Wipe(*derived);
  return key;
}

// ---------------------------------------------------------------------------
// The master key

std::string KeyFingerprint(const Key256& key) {
  Sha256Hasher hasher;
  hasher.Update("interlock master key");
  hasher.Update(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  Sha256 digest = hasher.Finish();
  return ToHex(digest.data(), 8);
}

std::string MasterKey::Fingerprint() const { return KeyFingerprint(key); }

Result<MasterKey> LoadMasterKey(FileSystem& fs, Random& random, std::string_view env_key,
                                std::string_view env_key_file, const std::string& default_path) {
  if (!env_key.empty()) {
    auto key = ParseKeyText(env_key, "INTERLOCK_MASTER_KEY");
    if (!key) return std::unexpected(key.error());
    return MasterKey{*key, "INTERLOCK_MASTER_KEY", ""};
  }
  if (!env_key_file.empty()) {
    std::string path(env_key_file);
    if (!fs.Exists(path)) {
      return std::unexpected(Error::NotFound(
          fmt::format("INTERLOCK_MASTER_KEY_FILE names {}, which does not exist", path)));
    }
    return ReadKeyFile(fs, path, "file " + path);
  }
  if (default_path.empty()) {
    return std::unexpected(Error::InvalidArgument(
        "no master key: set INTERLOCK_MASTER_KEY or INTERLOCK_MASTER_KEY_FILE"));
  }
  if (fs.Exists(default_path)) return ReadKeyFile(fs, default_path, "file " + default_path);
  return CreateOrReadDefault(fs, random, default_path);
}

Result<std::string> WrapKey(const Key256& master, Random& random, const Key256& data_key,
                            std::string_view key_id) {
  return Seal(master, random,
              std::string_view(reinterpret_cast<const char*>(data_key.data()), data_key.size()),
              key_id);
}

Result<Key256> UnwrapKey(const Key256& master, std::string_view wrapped, std::string_view key_id) {
  auto opened = Open(master, wrapped, key_id);
  if (!opened) {
    if (opened.error().kind() != ErrorKind::kCorruption) {
      return std::unexpected(
          Error(opened.error().kind(),
                fmt::format("cannot unwrap data key {}: {}", key_id, opened.error().message())));
    }
    return std::unexpected(Error::Corruption(fmt::format(
        "cannot unwrap data key {}: authentication failed; the master key (fingerprint {}) is "
        "probably not the one that wrapped it, or the stored key is corrupted",
        key_id, KeyFingerprint(master))));
  }
  if (opened->size() != 32) {
    size_t size = opened->size();
    Wipe(*opened);
    return std::unexpected(Error::Corruption(
        fmt::format("cannot unwrap data key {}: it is {} bytes; expected 32", key_id, size)));
  }
  Key256 key;
  std::memcpy(key.data(), opened->data(), key.size());
  Wipe(*opened);
  return key;
}

}  // namespace interlock::audit
