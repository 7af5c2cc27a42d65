#include "audit/note.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <optional>

#include "core/digest.h"
#include "core/encoding.h"

namespace interlock::audit {
namespace {

constexpr uint8_t kAlgEd25519 = 0x01;
constexpr size_t kSignatureSize = 64;
constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014, then a space

using Seed = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, kSignatureSize>;

struct PkeyFree {
  void operator()(EVP_PKEY* pkey) const { EVP_PKEY_free(pkey); }
};
struct MdContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdContextPtr = std::unique_ptr<EVP_MD_CTX, MdContextFree>;

Error Malformed(std::string what) {
  return Error::InvalidArgument("malformed note: " + std::move(what));
}

// `s` for an error message: printable ASCII kept, other bytes escaped, and
// cut short so a hostile input cannot flood a log.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > kMax) out += "...";
  return out + "'";
}

// Decodes the UTF-8 sequence at s[i]. Returns its length, or 0 if it is not
// valid UTF-8 (overlong forms, surrogates and values past U+10FFFF
// included).
size_t DecodeRune(std::string_view s, size_t i, char32_t* rune) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  auto continuation = [&](size_t k) { return i + k < s.size() && (byte(k) & 0xC0) == 0x80; };
  uint8_t b0 = byte(0);
  if (b0 < 0x80) {
    *rune = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF && continuation(1)) {
    *rune = (char32_t{b0} & 0x1F) << 6 | (byte(1) & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && continuation(1) && continuation(2)) {
    char32_t r = (char32_t{b0} & 0x0F) << 12 | (char32_t{byte(1)} & 0x3F) << 6 | (byte(2) & 0x3F);
    if (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF)) return 0;
    *rune = r;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && continuation(1) && continuation(2) && continuation(3)) {
    char32_t r = (char32_t{b0} & 0x07) << 18 | (char32_t{byte(1)} & 0x3F) << 12 |
                 (char32_t{byte(2)} & 0x3F) << 6 | (byte(3) & 0x3F);
    if (r < 0x10000 || r > 0x10FFFF) return 0;
    *rune = r;
    return 4;
  }
  return 0;
}

// Unicode White_Space, as Go's unicode.IsSpace.
bool IsUnicodeSpace(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Checks that `s` is UTF-8 without control characters other than '\n'.
// `what` starts the error message.
Result<void> CheckNoteBytes(std::string_view s, std::string_view what) {
  for (size_t i = 0; i < s.size();) {
    char32_t rune = 0;
    size_t size = DecodeRune(s, i, &rune);
    if (size == 0) {
      return std::unexpected(
          Error::InvalidArgument(fmt::format("{}: invalid UTF-8 at byte {}", what, i)));
    }
    if (rune < 0x20 && rune != '\n') {
      return std::unexpected(Error::InvalidArgument(
          fmt::format("{}: control character 0x{:02x} at byte {}", what, uint32_t{rune}, i)));
    }
    i += size;
  }
  return Ok();
}

bool IsValidName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    char32_t rune = 0;
    size_t size = DecodeRune(name, i, &rune);
    if (size == 0 || rune < 0x20 || rune == '+' || IsUnicodeSpace(rune)) return false;
    i += size;
  }
  return true;
}

Error InvalidName(std::string_view name) {
  return Error::InvalidArgument(
      fmt::format("invalid key name {}: it must be non-empty UTF-8 without spaces, control "
                  "characters or '+'",
                  Quote(name)));
}

std::string_view AsChars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

uint32_t ComputeKeyId(std::string_view name, const Ed25519PublicKey& public_key) {
  Sha256Hasher hasher;
  hasher.Update(name);
  hasher.Update(std::string_view("\n\x01", 2));
  hasher.Update(AsChars(public_key));
  Sha256 digest = hasher.Finish();
  return uint32_t{digest[0]} << 24 | uint32_t{digest[1]} << 16 | uint32_t{digest[2]} << 8 |
         digest[3];
}

// 0x01 || key, base64: the key part of signer and verifier keys.
std::string EncodeKey(const std::array<uint8_t, 32>& key) {
  std::string raw(1, static_cast<char>(kAlgEd25519));
  raw.append(AsChars(key));
  std::string encoded = Base64Encode(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return encoded;
}

// Parses exactly 8 hex digits.
std::optional<uint32_t> ParseKeyId(std::string_view hex) {
  if (hex.size() != 8) return std::nullopt;
  uint32_t id = 0;
  for (char c : hex) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0) return std::nullopt;
    id = id << 4 | static_cast<uint32_t>(digit);
  }
  return id;
}

// Splits `s` at the first `sep`: returns the part before and leaves the rest
// in `s` (empty if there is no `sep`).
std::string_view Chop(std::string_view& s, char sep) {
  size_t at = s.find(sep);
  std::string_view before = s.substr(0, at);
  s = at == std::string_view::npos ? std::string_view() : s.substr(at + 1);
  return before;
}

Result<Ed25519PublicKey> PublicKeyFromSeed(const Seed& seed) {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  Ed25519PublicKey public_key{};
  size_t size = public_key.size();
  if (pkey == nullptr || EVP_PKEY_get_raw_public_key(pkey.get(), public_key.data(), &size) != 1 ||
      size != public_key.size()) {
    return std::unexpected(Error::Internal("OpenSSL failed to derive an Ed25519 public key"));
  }
  return public_key;
}

Result<Signature> SignEd25519(const Seed& seed, std::string_view message) {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  MdContextPtr ctx(EVP_MD_CTX_new());
  Signature signature{};
  size_t size = signature.size();
  // Ed25519 hashes internally, so no digest is named.
  if (pkey == nullptr || ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &size,
                     reinterpret_cast<const uint8_t*>(message.data()), message.size()) != 1 ||
      size != signature.size()) {
    return std::unexpected(Error::Internal("OpenSSL failed to make an Ed25519 signature"));
  }
  return signature;
}

bool VerifyEd25519(const Ed25519PublicKey& public_key, std::string_view message,
                   std::span<const uint8_t> signature) {
  if (signature.size() != kSignatureSize) return false;
  PkeyPtr pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  MdContextPtr ctx(EVP_MD_CTX_new());
  return pkey != nullptr && ctx != nullptr &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const uint8_t*>(message.data()), message.size()) == 1;
}

// Checks the text part of a note before signing.
Result<void> CheckText(std::string_view text) {
  if (text.empty()) return std::unexpected(Error::InvalidArgument("note text is empty"));
  if (text.back() != '\n') {
    return std::unexpected(Error::InvalidArgument("note text does not end in a newline"));
  }
  return CheckNoteBytes(text, "note text");
}

}  // namespace

// ---------------------------------------------------------------------------
// NoteSigner

NoteSigner::NoteSigner(std::string name, const Seed& seed, const Ed25519PublicKey& public_key)
    : name_(std::move(name)), seed_(seed), public_key_(public_key) {
  key_id_ = ComputeKeyId(name_, public_key_);
}

Result<NoteSigner> NoteSigner::Generate(std::string name, Random& random) {
  if (!IsValidName(name)) return std::unexpected(InvalidName(name));
  Seed seed;
  if (auto filled = random.Fill(seed); !filled) return std::unexpected(filled.error());
  auto public_key = PublicKeyFromSeed(seed);
  if (!public_key) return std::unexpected(public_key.error());
  NoteSigner signer(std::move(name), seed, *public_key);
  OPENSSL_cleanse(seed.data(), seed.size());
  return signer;
}

Result<NoteSigner> NoteSigner::FromSignerKey(std::string_view signer_key) {
  constexpr std::string_view kShape = "expected PRIVATE+KEY+<name>+<key id>+<key>";
  std::string_view rest = signer_key;
  std::string_view private_word = Chop(rest, '+');
  std::string_view key_word = Chop(rest, '+');
  std::string_view name = Chop(rest, '+');
  std::string_view hex_id = Chop(rest, '+');
  if (private_word != "PRIVATE" || key_word != "KEY") {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("malformed signer key: it does not start with PRIVATE+KEY+; {}", kShape)));
  }
  if (!IsValidName(name)) return std::unexpected(InvalidName(name));
  std::optional<uint32_t> key_id = ParseKeyId(hex_id);
  if (!key_id) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "malformed signer key for {}: the key id is not 8 hex digits; {}", name, kShape)));
  }
  auto raw = Base64Decode(rest);
  if (!raw || raw->size() != 33 || static_cast<uint8_t>((*raw)[0]) != kAlgEd25519) {
    if (raw) OPENSSL_cleanse(raw->data(), raw->size());
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "malformed signer key for {}: the key is not the base64 of 0x01 and a 32-byte Ed25519 "
        "private key",
        name)));
  }
  Seed seed;
  std::memcpy(seed.data(), raw->data() + 1, seed.size());
  OPENSSL_cleanse(raw->data(), raw->size());
  auto public_key = PublicKeyFromSeed(seed);
  if (!public_key) return std::unexpected(public_key.error());
  NoteSigner signer(std::string(name), seed, *public_key);
  OPENSSL_cleanse(seed.data(), seed.size());
  if (signer.key_id() != *key_id) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("signer key for {} says key id {:08x}, but the key's id is {:08x}", name,
                    *key_id, signer.key_id())));
  }
  return signer;
}

std::string NoteSigner::SignerKey() const {
  return fmt::format("PRIVATE+KEY+{}+{:08x}+{}", name_, key_id_, EncodeKey(seed_));
}

std::string NoteSigner::VerifierKey() const {
  return fmt::format("{}+{:08x}+{}", name_, key_id_, EncodeKey(public_key_));
}

Result<std::string> NoteSigner::Sign(std::string_view text) const {
  if (auto checked = CheckText(text); !checked) return std::unexpected(checked.error());
  auto signature = SignEd25519(seed_, text);
  if (!signature) return std::unexpected(signature.error());
  std::string blob(4, '\0');
  for (int i = 0; i < 4; ++i) blob[i] = static_cast<char>(key_id_ >> (24 - 8 * i));
  blob.append(AsChars(*signature));

  std::string note(text);
  note += '\n';
  note += kEmDashSpace;
  note += name_;
  note += ' ';
  note += Base64Encode(blob);
  note += '\n';
  if (note.size() > kMaxNoteSize) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("signed note would be {} bytes; the limit is {}", note.size(), kMaxNoteSize)));
  }
  return note;
}

// ---------------------------------------------------------------------------
// NoteVerifier

Result<NoteVerifier> NoteVerifier::Parse(std::string_view verifier_key) {
  constexpr std::string_view kShape = "expected <name>+<key id>+<key>";
  std::string_view rest = verifier_key;
  std::string_view name = Chop(rest, '+');
  std::string_view hex_id = Chop(rest, '+');
  if (!IsValidName(name)) return std::unexpected(InvalidName(name));
  std::optional<uint32_t> key_id = ParseKeyId(hex_id);
  if (!key_id) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("malformed verifier key for {}: the key id {} is not 8 hex digits; {}", name,
                    Quote(hex_id), kShape)));
  }
  auto raw = Base64Decode(rest);
  if (!raw || raw->empty()) {
    return std::unexpected(Error::InvalidArgument(fmt::format(
        "malformed verifier key for {}: the key is not valid base64; {}", name, kShape)));
  }
  if (static_cast<uint8_t>((*raw)[0]) != kAlgEd25519) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("verifier key for {} uses algorithm 0x{:02x}; only Ed25519 (0x01) is supported",
                    name, static_cast<uint8_t>((*raw)[0]))));
  }
  if (raw->size() != 33) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("malformed verifier key for {}: the Ed25519 key is {} bytes; expected 32", name,
                    raw->size() - 1)));
  }
  Ed25519PublicKey public_key;
  std::memcpy(public_key.data(), raw->data() + 1, public_key.size());
  uint32_t actual_id = ComputeKeyId(name, public_key);
  if (actual_id != *key_id) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("verifier key for {} says key id {:08x}, but the key's id is {:08x}", name,
                    *key_id, actual_id)));
  }
  return NoteVerifier(std::string(name), *key_id, public_key);
}

std::string NoteVerifier::VerifierKey() const {
  return fmt::format("{}+{:08x}+{}", name_, key_id_, EncodeKey(public_key_));
}

Result<std::string> NoteVerifier::Verify(std::string_view note) const {
  if (note.size() > kMaxNoteSize) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("note is {} bytes; the limit is {}", note.size(), kMaxNoteSize)));
  }
  if (auto checked = CheckNoteBytes(note, "malformed note"); !checked) {
    return std::unexpected(checked.error());
  }
  // The signatures follow the last blank line, so the text may itself hold
  // blank lines.
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return std::unexpected(Malformed("no blank line before the signatures"));
  }
  std::string_view text = note.substr(0, split + 1);
  std::string_view signatures = note.substr(split + 2);
  if (signatures.empty()) return std::unexpected(Malformed("no signature lines"));
  if (signatures.back() != '\n') {
    return std::unexpected(Malformed("the last signature line does not end in a newline"));
  }

  // Every line is checked, so a note is either well formed or rejected,
  // whichever signature is ours. The first line by this key decides.
  std::optional<bool> verdict;
  size_t line_number = 0;
  while (!signatures.empty()) {
    std::string_view line = Chop(signatures, '\n');
    ++line_number;
    if (line_number > kMaxNoteSignatures) {
      return std::unexpected(
          Malformed(fmt::format("more than {} signature lines", kMaxNoteSignatures)));
    }
    if (!line.starts_with(kEmDashSpace)) {
      return std::unexpected(Malformed(fmt::format(
          "signature line {} does not start with an em dash (U+2014) and a space", line_number)));
    }
    line.remove_prefix(kEmDashSpace.size());
    std::string_view name = Chop(line, ' ');
    if (!IsValidName(name)) {
      return std::unexpected(Malformed(
          fmt::format("signature line {}: invalid key name {}", line_number, Quote(name))));
    }
    auto blob = Base64Decode(line);
    if (!blob || line.empty()) {
      return std::unexpected(Malformed(
          fmt::format("signature line {}: the signature is not valid base64", line_number)));
    }
    if (blob->size() < 5) {
      return std::unexpected(
          Malformed(fmt::format("signature line {}: the signature is too short", line_number)));
    }
    auto bytes = AsBytes(*blob);
    uint32_t key_id =
        uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 | bytes[3];
    if (verdict.has_value() || name != name_ || key_id != key_id_) continue;
    verdict = VerifyEd25519(public_key_, text, bytes.subspan(4));
  }
  if (!verdict.has_value()) {
    return std::unexpected(
        Error::NotFound(fmt::format("note has no signature by {}+{:08x}", name_, key_id_)));
  }
  if (!*verdict) {
    return std::unexpected(
        Error::Corruption(fmt::format("invalid signature by {}+{:08x}", name_, key_id_)));
  }
  return std::string(text);
}

// ---------------------------------------------------------------------------
// Checkpoints

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  std::string text = fmt::format("{}\n{}\n{}\n", checkpoint.origin, checkpoint.size,
                                 Base64Encode(AsChars(checkpoint.root)));
  for (const std::string& extension : checkpoint.extensions) {
    text += extension;
    text += '\n';
  }
  return text;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  auto fail = [](size_t line, std::string what) {
    return std::unexpected(
        Error::InvalidArgument(fmt::format("checkpoint line {}: {}", line, what)));
  };
  if (text.empty() || text.back() != '\n') {
    return std::unexpected(Error::InvalidArgument("checkpoint does not end in a newline"));
  }
  if (auto checked = CheckNoteBytes(text, "checkpoint"); !checked) {
    return std::unexpected(checked.error());
  }
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) lines.push_back(Chop(rest, '\n'));
  if (lines.size() < 3) {
    return std::unexpected(Error::InvalidArgument(
        fmt::format("checkpoint has {} line{}; it needs an origin, a tree size and a root hash",
                    lines.size(), lines.size() == 1 ? "" : "s")));
  }

  Checkpoint checkpoint;
  if (lines[0].empty()) return fail(1, "the origin is empty");
  checkpoint.origin = std::string(lines[0]);

  std::string_view size = lines[1];
  if (size.empty()) return fail(2, "the tree size is empty");
  auto [end, error] = std::from_chars(size.data(), size.data() + size.size(), checkpoint.size);
  if (size.front() < '0' || size.front() > '9' || end != size.data() + size.size() ||
      (error != std::errc() && error != std::errc::result_out_of_range)) {
    return fail(2, fmt::format("the tree size {} is not a decimal number", Quote(size)));
  }
  if (error == std::errc::result_out_of_range) {
    return fail(2, fmt::format("the tree size {} does not fit in 64 bits", Quote(size)));
  }
  if (size.size() > 1 && size.front() == '0') {
    return fail(2, fmt::format("the tree size {} has a leading zero", Quote(size)));
  }

  auto root = Base64Decode(lines[2]);
  if (!root) return fail(3, "the root hash is not valid base64 (" + root.error().message() + ")");
  if (root->size() != checkpoint.root.size()) {
    return fail(3, fmt::format("the root hash is {} bytes; expected 32", root->size()));
  }
  std::memcpy(checkpoint.root.data(), root->data(), checkpoint.root.size());

  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return fail(i + 1, "the extension line is empty");
    checkpoint.extensions.emplace_back(lines[i]);
  }
  return checkpoint;
}

}  // namespace interlock::audit
