// Signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and the
// checkpoint text they carry (https://c2sp.org/tlog-checkpoint). The formats
// are those of golang.org/x/mod/sumdb/note, so checkpoints can be checked by
// existing tools and cosigned by witnesses.
//
// A note is
//   text                   non-empty UTF-8 ending in '\n'; no control
//                          characters other than '\n'
//   "\n"                   a blank line
//   signature lines        "— <name> <base64(key id || signature)>\n"
//                          (U+2014 EM DASH, then a space)
// where the key id is the first 4 bytes, big-endian, of
// SHA-256(name || "\n" || 0x01 || public key) and the Ed25519 signature is
// over the text bytes exactly, final newline included.
//
// Key names are non-empty UTF-8 without spaces, control characters or '+'.
// Keys are written as
//   verifier key: <name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>
//   signer key:   PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || seed)>
// where seed is the 32-byte Ed25519 private key.
//
// Every parser here accepts arbitrary bytes: malformed input gives an
// error, never a crash.
//
// Thread safety: NoteSigner and NoteVerifier are immutable values; their
// const methods may be called from several threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/random.h"
#include "core/status.h"

namespace interlock::audit {

// Notes larger than this are rejected, to bound the work a hostile input
// can cause.
constexpr size_t kMaxNoteSize = size_t{1} << 20;
// As in the Go implementation: a note with more signature lines is rejected.
constexpr size_t kMaxNoteSignatures = 100;

using Ed25519PublicKey = std::array<uint8_t, 32>;

// Signs notes with one Ed25519 key. Holds the private key in memory; keep
// SignerKey() in a file readable by its owner only.
class NoteSigner {
 public:
  // A new key named `name`, from 32 bytes of `random`. Fails with
  // kInvalidArgument for an invalid name.
  static Result<NoteSigner> Generate(std::string name, Random& random);
  // Parses a signer key (PRIVATE+KEY+...). Fails with kInvalidArgument if it
  // is malformed or its key id does not match the key; the error never
  // quotes the private key.
  static Result<NoteSigner> FromSignerKey(std::string_view signer_key);

  // The private key, encoded as FromSignerKey accepts it.
  std::string SignerKey() const;
  // The public key, encoded as NoteVerifier::Parse accepts it.
  std::string VerifierKey() const;

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const Ed25519PublicKey& public_key() const { return public_key_; }

  // The whole signed note: text, a blank line, and one signature line.
  // Fails with kInvalidArgument if `text` is not valid note text or the note
  // would exceed kMaxNoteSize.
  Result<std::string> Sign(std::string_view text) const;

 private:
  NoteSigner(std::string name, const std::array<uint8_t, 32>& seed,
             const Ed25519PublicKey& public_key);

  std::string name_;
  uint32_t key_id_ = 0;
  std::array<uint8_t, 32> seed_{};
  Ed25519PublicKey public_key_{};
};

// Checks notes against one Ed25519 public key.
class NoteVerifier {
 public:
  // Parses a verifier key (<name>+<key id>+<key>). Fails with
  // kInvalidArgument if it is malformed, names another algorithm, or its key
  // id does not match the key.
  static Result<NoteVerifier> Parse(std::string_view verifier_key);

  // Returns the note's text if the note carries a valid signature by this
  // key. Signatures by other keys (witness cosignatures) are ignored, but
  // must be well formed; if this key signed more than once, the first
  // signature decides. Fails with
  //   kInvalidArgument  a malformed note (the message says what is wrong),
  //   kNotFound         no signature by this key ("... has no signature by
  //                     <name>+<key id>"),
  //   kCorruption       a signature by this key that does not verify.
  Result<std::string> Verify(std::string_view note) const;

  // The key encoded as Parse accepts it.
  std::string VerifierKey() const;

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const Ed25519PublicKey& public_key() const { return public_key_; }

 private:
  NoteVerifier(std::string name, uint32_t key_id, const Ed25519PublicKey& public_key)
      : name_(std::move(name)), key_id_(key_id), public_key_(public_key) {}

  std::string name_;
  uint32_t key_id_ = 0;
  Ed25519PublicKey public_key_{};
};

// The tree head a log signs: the text of a checkpoint note.
struct Checkpoint {
  std::string origin;                   // the log's identity, e.g. "interlock.example/audit"
  uint64_t size = 0;                    // number of leaves
  std::array<uint8_t, 32> root{};       // RFC 9162 root hash of the first `size` leaves
  std::vector<std::string> extensions;  // optional extra lines, each non-empty
};

// "<origin>\n<size>\n<base64 root>\n" followed by one line per extension.
// REQUIRES: origin and extensions are non-empty and free of control
// characters; otherwise the text will not parse back.
std::string FormatCheckpoint(const Checkpoint& checkpoint);

// Strict inverse of FormatCheckpoint: the size must be decimal without
// leading zeros, the root the padded base64 of 32 bytes, and no line may be
// empty. Fails with kInvalidArgument naming the offending line.
Result<Checkpoint> ParseCheckpoint(std::string_view text);

}  // namespace interlock::audit
