#include "audit/note.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "../../tests/test_util.h"
#include "core/encoding.h"

namespace interlock::audit {
namespace {

// The example key and note from the documentation of
// golang.org/x/mod/sumdb/note, the reference implementation. Ed25519 is
// deterministic, so signing the text must reproduce the note byte for byte.
constexpr std::string_view kGoSignerKey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr std::string_view kGoVerifierKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr std::string_view kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr std::string_view kGoSignatureLine =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
constexpr std::string_view kEmDash = "\xE2\x80\x94";

std::string Unhex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or("");
}

std::string GoNote() { return std::string(kGoText) + "\n" + std::string(kGoSignatureLine); }

NoteSigner MustGenerate(std::string name, uint64_t seed) {
  SeededRandom random(seed);
  auto signer = NoteSigner::Generate(std::move(name), random);
  EXPECT_TRUE(signer.has_value()) << signer.error().message();
  return std::move(*signer);
}

NoteVerifier MustParse(std::string_view verifier_key) {
  auto verifier = NoteVerifier::Parse(verifier_key);
  EXPECT_TRUE(verifier.has_value()) << verifier.error().message();
  return std::move(*verifier);
}

std::string MustSign(const NoteSigner& signer, std::string_view text) {
  auto note = signer.Sign(text);
  EXPECT_TRUE(note.has_value()) << note.error().message();
  return note.value_or("");
}

// The error of a Verify that must fail.
Error MustFailVerify(const NoteVerifier& verifier, std::string_view note) {
  auto text = verifier.Verify(note);
  if (text.has_value()) {
    ADD_FAILURE() << "verified: " << note;
    return Error::Internal("verified");
  }
  return text.error();
}

// ---------------------------------------------------------------------------
// The reference example

TEST(NoteTest, SignerKeyFromTheGoExampleHasTheDocumentedIdAndVerifierKey) {
  auto signer = NoteSigner::FromSignerKey(kGoSignerKey);
  ASSERT_TRUE(signer.has_value()) << signer.error().message();
  EXPECT_EQ(signer->name(), "PeterNeumann");
  EXPECT_EQ(signer->key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer->VerifierKey(), kGoVerifierKey);
  EXPECT_EQ(signer->SignerKey(), kGoSignerKey);
}

TEST(NoteTest, SigningTheGoExampleReproducesItsSignatureExactly) {
  auto signer = NoteSigner::FromSignerKey(kGoSignerKey);
  ASSERT_TRUE(signer.has_value());
  EXPECT_EQ(MustSign(*signer, kGoText), GoNote());
}

TEST(NoteTest, VerifierAcceptsTheGoExampleNote) {
  NoteVerifier verifier = MustParse(kGoVerifierKey);
  EXPECT_EQ(verifier.name(), "PeterNeumann");
  EXPECT_EQ(verifier.key_id(), 0xc74f20a3u);
  EXPECT_EQ(verifier.VerifierKey(), kGoVerifierKey);
  auto text = verifier.Verify(GoNote());
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_EQ(*text, kGoText);
}

// ---------------------------------------------------------------------------
// Keys

TEST(NoteTest, GeneratedKeysRoundTripThroughTheirEncodings) {
  NoteSigner signer = MustGenerate("interlock.example/audit", 1);
  std::string verifier_key = signer.VerifierKey();
  // name + 8 lowercase hex digits + base64 of 33 bytes (44 characters).
  std::string prefix = "interlock.example/audit+" + fmt::format("{:08x}", signer.key_id()) + "+";
  ASSERT_TRUE(verifier_key.starts_with(prefix)) << verifier_key;
  auto raw = Base64Decode(verifier_key.substr(prefix.size()));
  ASSERT_TRUE(raw.has_value());
  ASSERT_EQ(raw->size(), 33u);
  EXPECT_EQ((*raw)[0], '\x01');
  EXPECT_EQ(raw->substr(1), std::string(signer.public_key().begin(), signer.public_key().end()));

  NoteVerifier verifier = MustParse(verifier_key);
  EXPECT_EQ(verifier.public_key(), signer.public_key());
  EXPECT_EQ(verifier.key_id(), signer.key_id());

  auto reparsed = NoteSigner::FromSignerKey(signer.SignerKey());
  ASSERT_TRUE(reparsed.has_value()) << reparsed.error().message();
  EXPECT_EQ(reparsed->VerifierKey(), verifier_key);
  EXPECT_TRUE(signer.SignerKey().starts_with("PRIVATE+KEY+" + prefix));
}

TEST(NoteTest, KeyIdDependsOnTheName) {
  NoteSigner a = MustGenerate("log-a", 7);
  NoteSigner b = MustGenerate("log-b", 7);  // same seed, so the same key
  EXPECT_EQ(a.public_key(), b.public_key());
  EXPECT_NE(a.key_id(), b.key_id());
}

TEST(NoteTest, InvalidNamesAreRejected) {
  SeededRandom random(1);
  for (std::string name : {"", "a+b", "a b", "tab\there", "nl\nx", "nbsp\xC2\xA0x",
                           "em\xE2\x80\x83space", "bad\xFFutf8"}) {
    auto signer = NoteSigner::Generate(name, random);
    ASSERT_FALSE(signer.has_value()) << name;
    EXPECT_EQ(signer.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_TRUE(signer.error().message().starts_with("invalid key name '"))
        << signer.error().message();
  }
  EXPECT_TRUE(NoteSigner::Generate("\xC3\xA9t\xC3\xA9/log", random).has_value());  // "été/log"
}

TEST(NoteTest, MalformedVerifierKeysAreRejected) {
  const std::pair<std::string, std::string> cases[] = {
      {"",
       "invalid key name '': it must be non-empty UTF-8 without spaces, control characters "
       "or '+'"},
      {"PeterNeumann",
       "malformed verifier key for PeterNeumann: the key id '' is not 8 hex "
       "digits; expected <name>+<key id>+<key>"},
      {"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       "malformed verifier key for PeterNeumann: the key id 'c74f20a' is not 8 hex digits; "
       "expected <name>+<key id>+<key>"},
      {"PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       "malformed verifier key for PeterNeumann: the key id 'c74f20ag' is not 8 hex digits; "
       "expected <name>+<key id>+<key>"},
      {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
       "malformed verifier key for PeterNeumann: the key is not valid base64; expected "
       "<name>+<key id>+<key>"},
      {"PeterNeumann+c74f20a3+",
       "malformed verifier key for PeterNeumann: the key is not valid base64; expected "
       "<name>+<key id>+<key>"},
      {"PeterNeumann+c74f20a3+AhpczQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       "verifier key for PeterNeumann uses algorithm 0x02; only Ed25519 (0x01) is supported"},
      {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy",
       "malformed verifier key for PeterNeumann: the Ed25519 key is 29 bytes; expected 32"},
      {"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       "verifier key for PeterNeumann says key id c74f20a4, but the key's id is c74f20a3"},
      {"PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       "verifier key for PeterNeuman says key id c74f20a3, but the key's id is "},
  };
  for (const auto& [key, message] : cases) {
    auto verifier = NoteVerifier::Parse(key);
    ASSERT_FALSE(verifier.has_value()) << key;
    EXPECT_EQ(verifier.error().kind(), ErrorKind::kInvalidArgument);
    if (key.starts_with("PeterNeuman+")) {
      // The id of another name is not known in advance; the start is.
      EXPECT_TRUE(verifier.error().message().starts_with(message)) << verifier.error().message();
    } else {
      EXPECT_EQ(verifier.error().message(), message) << key;
    }
  }
}

TEST(NoteTest, MalformedSignerKeysAreRejectedWithoutQuotingThem) {
  const std::string secret = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
  const std::pair<std::string, std::string> cases[] = {
      {"PeterNeumann+c74f20a3+" + secret,
       "malformed signer key: it does not start with PRIVATE+KEY+; expected "
       "PRIVATE+KEY+<name>+<key id>+<key>"},
      {"PRIVATE+KEY+PeterNeumann+c74f20+" + secret,
       "malformed signer key for PeterNeumann: the key id is not 8 hex digits; expected "
       "PRIVATE+KEY+<name>+<key id>+<key>"},
      {"PRIVATE+KEY+PeterNeumann+c74f20a3+" + secret.substr(0, 40),
       "malformed signer key for PeterNeumann: the key is not the base64 of 0x01 and a 32-byte "
       "Ed25519 private key"},
      {"PRIVATE+KEY+PeterNeumann+c74f20a4+" + secret,
       "signer key for PeterNeumann says key id c74f20a4, but the key's id is c74f20a3"},
      {"PRIVATE+KEY+Peter Neumann+c74f20a3+" + secret,
       "invalid key name 'Peter Neumann': it must be non-empty UTF-8 without spaces, control "
       "characters or '+'"},
  };
  for (const auto& [key, message] : cases) {
    auto signer = NoteSigner::FromSignerKey(key);
    ASSERT_FALSE(signer.has_value()) << key;
    EXPECT_EQ(signer.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(signer.error().message(), message);
    EXPECT_EQ(signer.error().message().find(secret.substr(0, 12)), std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// Signing and verifying

TEST(NoteTest, SignThenVerifyReturnsTheText) {
  NoteSigner signer = MustGenerate("interlock.example/audit", 2);
  NoteVerifier verifier = MustParse(signer.VerifierKey());
  for (std::string_view text : {"one line\n", "two\nlines\n", "blank\n\nline inside\n", "\n",
                                "unicode \xE2\x9C\x93 and DEL \x7F\n"}) {
    std::string note = MustSign(signer, text);
    auto verified = verifier.Verify(note);
    ASSERT_TRUE(verified.has_value()) << verified.error().message();
    EXPECT_EQ(*verified, text);
  }
}

TEST(NoteTest, NoteLayoutIsTextBlankLineSignatureLine) {
  NoteSigner signer = MustGenerate("log", 3);
  std::string note = MustSign(signer, "hello\n");
  std::string prefix = "hello\n\n" + std::string(kEmDash) + " log ";
  ASSERT_TRUE(note.starts_with(prefix)) << note;
  ASSERT_TRUE(note.ends_with("\n"));
  auto blob = Base64Decode(note.substr(prefix.size(), note.size() - prefix.size() - 1));
  ASSERT_TRUE(blob.has_value());
  ASSERT_EQ(blob->size(), 4u + 64u);
  uint32_t id = uint32_t{static_cast<uint8_t>((*blob)[0])} << 24 |
                uint32_t{static_cast<uint8_t>((*blob)[1])} << 16 |
                uint32_t{static_cast<uint8_t>((*blob)[2])} << 8 | static_cast<uint8_t>((*blob)[3]);
  EXPECT_EQ(id, signer.key_id());
}

TEST(NoteTest, SignRejectsInvalidText) {
  NoteSigner signer = MustGenerate("log", 4);
  const std::pair<std::string, std::string> cases[] = {
      {"", "note text is empty"},
      {"no newline", "note text does not end in a newline"},
      {"tab\there\n", "note text: control character 0x09 at byte 3"},
      {"cr\r\n", "note text: control character 0x0d at byte 2"},
      {"bad \xFF byte\n", "note text: invalid UTF-8 at byte 4"},
      {"overlong \xC0\xAF\n", "note text: invalid UTF-8 at byte 9"},
      {"surrogate \xED\xA0\x80\n", "note text: invalid UTF-8 at byte 10"},
      {"truncated \xE2\x80", "note text does not end in a newline"},
  };
  for (const auto& [text, message] : cases) {
    auto note = signer.Sign(text);
    ASSERT_FALSE(note.has_value()) << text;
    EXPECT_EQ(note.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(note.error().message(), message);
  }
  auto huge = signer.Sign(std::string(kMaxNoteSize, 'a') + "\n");
  ASSERT_FALSE(huge.has_value());
  EXPECT_TRUE(huge.error().message().starts_with("signed note would be "))
      << huge.error().message();
}

TEST(NoteTest, TamperedTextFails) {
  NoteVerifier verifier = MustParse(kGoVerifierKey);
  std::string note = GoNote();
  interlock::testing::FlipBits(note, 3);
  Error error = MustFailVerify(verifier, note);
  EXPECT_EQ(error.kind(), ErrorKind::kCorruption);
  EXPECT_EQ(error.message(), "invalid signature by PeterNeumann+c74f20a3");
}

TEST(NoteTest, EveryTamperedSignatureByteFails) {
  NoteVerifier verifier = MustParse(kGoVerifierKey);
  std::string note = GoNote();
  size_t start = kGoText.size() + 1 + std::string("\xE2\x80\x94 PeterNeumann ").size();
  auto blob = Base64Decode(note.substr(start, note.size() - start - 1));
  ASSERT_TRUE(blob.has_value());
  for (size_t index = 4; index < blob->size(); ++index) {
    std::string tampered_blob = *blob;
    interlock::testing::FlipBits(tampered_blob, index);
    std::string tampered = note.substr(0, start) + Base64Encode(tampered_blob) + "\n";
    Error error = MustFailVerify(verifier, tampered);
    EXPECT_EQ(error.kind(), ErrorKind::kCorruption) << index;
    EXPECT_EQ(error.message(), "invalid signature by PeterNeumann+c74f20a3");
  }
}

TEST(NoteTest, WrongKeyFindsNoSignature) {
  NoteSigner other = MustGenerate("PeterNeumann", 5);  // same name, other key
  NoteVerifier verifier = MustParse(other.VerifierKey());
  Error error = MustFailVerify(verifier, GoNote());
  EXPECT_EQ(error.kind(), ErrorKind::kNotFound);
  EXPECT_EQ(error.message(),
            fmt::format("note has no signature by PeterNeumann+{:08x}", other.key_id()));
}

TEST(NoteTest, SignatureWithTheRightIdButAnotherNameIsNotOurs) {
  std::string note = GoNote();
  std::string renamed = std::string(kGoText) + "\n" + std::string(kEmDash) + " PeterNeumann2 " +
                        std::string(kGoSignatureLine.substr(kGoSignatureLine.find(' ', 4) + 1));
  Error error = MustFailVerify(MustParse(kGoVerifierKey), renamed);
  EXPECT_EQ(error.kind(), ErrorKind::kNotFound);
}

TEST(NoteTest, UnknownSignaturesAreIgnored) {
  NoteSigner log = MustGenerate("log", 6);
  NoteSigner witness = MustGenerate("witness.example", 7);
  std::string text = "tree\n";
  std::string log_line = MustSign(log, text).substr(text.size() + 1);
  std::string witness_line = MustSign(witness, text).substr(text.size() + 1);
  // An unknown key with a garbage (but well-formed) signature.
  std::string junk_line =
      std::string(kEmDash) + " other " + Base64Encode(std::string(68, '\x07')) + "\n";
  NoteVerifier verifier = MustParse(log.VerifierKey());
  for (const std::string& signatures :
       {witness_line + log_line, log_line + witness_line, junk_line + log_line + junk_line}) {
    auto verified = verifier.Verify(text + "\n" + signatures);
    ASSERT_TRUE(verified.has_value()) << verified.error().message();
    EXPECT_EQ(*verified, text);
  }
  // The witness sees the same note and finds its own signature.
  auto by_witness = MustParse(witness.VerifierKey()).Verify(text + "\n" + log_line + witness_line);
  EXPECT_TRUE(by_witness.has_value());
}

TEST(NoteTest, FirstSignatureByTheKeyDecides) {
  NoteSigner log = MustGenerate("log", 8);
  NoteVerifier verifier = MustParse(log.VerifierKey());
  std::string text = "tree\n";
  std::string good = MustSign(log, text).substr(text.size() + 1);
  std::string bad = MustSign(log, "other\n").substr(std::string("other\n").size() + 1);
  EXPECT_TRUE(verifier.Verify(text + "\n" + good + bad).has_value());
  Error error = MustFailVerify(verifier, text + "\n" + bad + good);
  EXPECT_EQ(error.kind(), ErrorKind::kCorruption);
}

TEST(NoteTest, MalformedNotesAreRejectedWithClearErrors) {
  NoteVerifier verifier = MustParse(kGoVerifierKey);
  std::string sig = std::string(kGoSignatureLine);
  std::string text = std::string(kGoText);
  const std::pair<std::string, std::string> cases[] = {
      {"", "malformed note: no blank line before the signatures"},
      {text + sig, "malformed note: no blank line before the signatures"},
      {text + "\n", "malformed note: no signature lines"},
      {text + "\n" + sig.substr(0, sig.size() - 1),
       "malformed note: the last signature line does not end in a newline"},
      {text + "\n" + "-- PeterNeumann abc=\n",
       "malformed note: signature line 1 does not start with an em dash (U+2014) and a space"},
      {text + "\n" + sig + "\xE2\x80\x94PeterNeumann x\n",
       "malformed note: signature line 2 does not start with an em dash (U+2014) and a space"},
      {text + "\n" + std::string(kEmDash) + " PeterNeumann x08go/ZJ*\n",
       "malformed note: signature line 1: the signature is not valid base64"},
      {text + "\n" + std::string(kEmDash) + " PeterNeumann\n",
       "malformed note: signature line 1: the signature is not valid base64"},
      {text + "\n" + std::string(kEmDash) + " PeterNeumann \n",
       "malformed note: signature line 1: the signature is not valid base64"},
      {text + "\n" + std::string(kEmDash) + " PeterNeumann x08g\n",
       "malformed note: signature line 1: the signature is too short"},
      {text + "\n" + std::string(kEmDash) + "  x08go/ZJkuBS9UG\n",
       "malformed note: signature line 1: invalid key name ''"},
      {text + "\n" + std::string(kEmDash) + " a+b x08go/ZJkuBS9UG\n",
       "malformed note: signature line 1: invalid key name 'a+b'"},
      {"bad \xFF utf8\n\n" + sig, "malformed note: invalid UTF-8 at byte 4"},
      {"tab\t\n\n" + sig, "malformed note: control character 0x09 at byte 3"},
      {text + "\n" + sig + "\r\n", fmt::format("malformed note: control character 0x0d at byte {}",
                                               text.size() + 1 + sig.size())},
  };
  for (const auto& [note, message] : cases) {
    Error error = MustFailVerify(verifier, note);
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidArgument) << note;
    EXPECT_EQ(error.message(), message) << note;
  }
}

TEST(NoteTest, OversizedNotesAndTooManySignaturesAreRejected) {
  NoteVerifier verifier = MustParse(kGoVerifierKey);
  std::string big = std::string(kMaxNoteSize, 'a') + "\n\n" + std::string(kGoSignatureLine);
  Error error = MustFailVerify(verifier, big);
  EXPECT_EQ(error.message(), fmt::format("note is {} bytes; the limit is 1048576", big.size()));

  std::string crowded = std::string(kGoText) + "\n";
  for (int i = 0; i < 100; ++i) crowded += std::string(kGoSignatureLine);
  EXPECT_TRUE(verifier.Verify(crowded).has_value());
  crowded += std::string(kGoSignatureLine);
  error = MustFailVerify(verifier, crowded);
  EXPECT_EQ(error.message(), "malformed note: more than 100 signature lines");
}

// Flips, truncates and splices a valid note many ways. Nothing may crash,
// and whatever verifies must carry the original text.
TEST(NoteTest, MutatedNotesNeverVerifyToOtherText) {
  NoteVerifier verifier = MustParse(kGoVerifierKey);
  const std::string note = GoNote();
  for (size_t length = 0; length < note.size(); ++length) {
    EXPECT_FALSE(verifier.Verify(note.substr(0, length)).has_value()) << length;
  }
  SeededRandom random(99);
  for (int round = 0; round < 5000; ++round) {
    std::string mutated = note;
    std::array<uint8_t, 4> choice;
    ASSERT_TRUE(random.Fill(choice).has_value());
    size_t index = (size_t{choice[0]} << 8 | choice[1]) % mutated.size();
    switch (choice[2] % 3) {
      case 0:
        mutated[index] = static_cast<char>(choice[3]);
        break;
      case 1:
        mutated.insert(index, 1, static_cast<char>(choice[3]));
        break;
      default:
        mutated.erase(index, 1 + choice[3] % 8);
        break;
    }
    auto text = verifier.Verify(mutated);
    if (text.has_value()) {
      EXPECT_EQ(*text, kGoText) << mutated;
    }
    (void)ParseCheckpoint(mutated);
  }
}

// ---------------------------------------------------------------------------
// Independent check with the openssl command line

class OpensslCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "note_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }

  void Write(std::string_view name, std::string_view contents) const {
    std::ofstream out(Path(name), std::ios::binary);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    ASSERT_TRUE(out.good());
  }

  std::string ReadBack(std::string_view name) const {
    std::ifstream in(Path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Runs a shell command in the directory; returns its output and stderr.
  std::string Run(const std::string& command) const {
    std::string full = "cd '" + dir_ + "' && " + command + " 2>&1";
    FILE* pipe = ::popen(full.c_str(), "r");
    if (pipe == nullptr) return "popen failed";
    std::string output;
    char buffer[256];
    while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    ::pclose(pipe);
    return output;
  }

  static std::string Pem(std::string_view label, std::string_view der) {
    std::string base64 = Base64Encode(der);
    std::string pem = "-----BEGIN " + std::string(label) + "-----\n";
    for (size_t i = 0; i < base64.size(); i += 64) pem += base64.substr(i, 64) + "\n";
    return pem + "-----END " + std::string(label) + "-----\n";
  }

  std::string dir_;
};

TEST_F(OpensslCliTest, OpensslVerifiesOurSignatures) {
  NoteSigner signer = MustGenerate("interlock.example/audit", 21);
  Checkpoint checkpoint{"interlock.example/audit", 12, {}, {}};
  checkpoint.root.fill(0xab);
  std::string text = FormatCheckpoint(checkpoint);
  std::string note = MustSign(signer, text);
  size_t space = note.rfind(' ');
  auto blob = Base64Decode(note.substr(space + 1, note.size() - space - 2));
  ASSERT_TRUE(blob.has_value());
  ASSERT_EQ(blob->size(), 68u);

  // SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed 12-byte prefix.
  std::string der = Unhex("302a300506032b6570032100") +
                    std::string(signer.public_key().begin(), signer.public_key().end());
  Write("pub.pem", Pem("PUBLIC KEY", der));
  Write("text.bin", text);
  Write("sig.bin", blob->substr(4));
  std::string verify =
      "openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in text.bin -sigfile sig.bin";
  EXPECT_NE(Run(verify).find("Signature Verified Successfully"), std::string::npos) << Run(verify);

  std::string tampered = text;
  interlock::testing::FlipBits(tampered, 0);
  Write("text.bin", tampered);
  std::string output = Run(verify);
  EXPECT_EQ(output.find("Signature Verified Successfully"), std::string::npos) << output;
  EXPECT_NE(output.find("Signature Verification Failure"), std::string::npos) << output;
}

TEST_F(OpensslCliTest, WeVerifyOpensslSignatures) {
  // The Go example key: its seed, wrapped as a PKCS#8 private key (RFC 8410).
  auto raw = Base64Decode(
      kGoSignerKey.substr(std::string_view("PRIVATE+KEY+PeterNeumann+c74f20a3+").size()));
  ASSERT_TRUE(raw.has_value());
  std::string der = Unhex("302e020100300506032b657004220420") + raw->substr(1);
  Write("key.pem", Pem("PRIVATE KEY", der));
  std::string text = "signed by the openssl command line\n";
  Write("text.bin", text);
  std::string output = Run("openssl pkeyutl -sign -inkey key.pem -rawin -in text.bin -out sig.bin");
  std::string signature = ReadBack("sig.bin");
  ASSERT_EQ(signature.size(), 64u) << output;

  std::string note = text + "\n" + std::string(kEmDash) + " PeterNeumann " +
                     Base64Encode(Unhex("c74f20a3") + signature) + "\n";
  auto verified = MustParse(kGoVerifierKey).Verify(note);
  ASSERT_TRUE(verified.has_value()) << verified.error().message();
  EXPECT_EQ(*verified, text);
}

// ---------------------------------------------------------------------------
// Checkpoints

TEST(CheckpointTest, FormatsTheDocumentedLayout) {
  Checkpoint checkpoint{"example.com/behind-the-sofa", 20852163, {}, {}};
  auto root = Base64Decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  ASSERT_TRUE(root.has_value());
  std::copy(root->begin(), root->end(), checkpoint.root.begin());
  EXPECT_EQ(
      FormatCheckpoint(checkpoint),
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  checkpoint.extensions = {"Timestamp: 1700000000", "x"};
  EXPECT_EQ(FormatCheckpoint(checkpoint),
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
            "Timestamp: 1700000000\nx\n");
}

TEST(CheckpointTest, ParseInvertsFormat) {
  Checkpoint checkpoint{"interlock.example/audit", 0, {}, {}};
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 40, ~uint64_t{0}}) {
    checkpoint.size = size;
    checkpoint.root[0] = static_cast<uint8_t>(size);
    checkpoint.extensions =
        size % 2 ? std::vector<std::string>{"ext one", "ext two"} : std::vector<std::string>{};
    auto parsed = ParseCheckpoint(FormatCheckpoint(checkpoint));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
    EXPECT_EQ(parsed->origin, checkpoint.origin);
    EXPECT_EQ(parsed->size, size);
    EXPECT_EQ(parsed->root, checkpoint.root);
    EXPECT_EQ(parsed->extensions, checkpoint.extensions);
  }
}

TEST(CheckpointTest, SignedCheckpointVerifiesAndParses) {
  NoteSigner signer = MustGenerate("interlock.example/audit", 31);
  Checkpoint checkpoint{"interlock.example/audit", 42, {}, {}};
  checkpoint.root.fill(0x5a);
  std::string note = MustSign(signer, FormatCheckpoint(checkpoint));
  auto text = MustParse(signer.VerifierKey()).Verify(note);
  ASSERT_TRUE(text.has_value());
  auto parsed = ParseCheckpoint(*text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->size, 42u);
  EXPECT_EQ(parsed->root, checkpoint.root);
}

TEST(CheckpointTest, StrictParseErrorsNameTheLine) {
  const std::string root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
  const std::pair<std::string, std::string> cases[] = {
      {"", "checkpoint does not end in a newline"},
      {"log\n5\n" + root, "checkpoint does not end in a newline"},
      {"log\n", "checkpoint has 1 line; it needs an origin, a tree size and a root hash"},
      {"log\n5\n", "checkpoint has 2 lines; it needs an origin, a tree size and a root hash"},
      {"\n5\n" + root + "\n", "checkpoint line 1: the origin is empty"},
      {"log\n\n" + root + "\n", "checkpoint line 2: the tree size is empty"},
      {"log\n-5\n" + root + "\n", "checkpoint line 2: the tree size '-5' is not a decimal number"},
      {"log\n+5\n" + root + "\n", "checkpoint line 2: the tree size '+5' is not a decimal number"},
      {"log\n 5\n" + root + "\n", "checkpoint line 2: the tree size ' 5' is not a decimal number"},
      {"log\n5 \n" + root + "\n", "checkpoint line 2: the tree size '5 ' is not a decimal number"},
      {"log\n0x5\n" + root + "\n",
       "checkpoint line 2: the tree size '0x5' is not a decimal number"},
      {"log\n05\n" + root + "\n", "checkpoint line 2: the tree size '05' has a leading zero"},
      {"log\n00\n" + root + "\n", "checkpoint line 2: the tree size '00' has a leading zero"},
      {"log\n18446744073709551616\n" + root + "\n",
       "checkpoint line 2: the tree size '18446744073709551616' does not fit in 64 bits"},
      {"log\n5\n" + root.substr(0, 43) + "\n",
       "checkpoint line 3: the root hash is not valid base64 (invalid base64: length 43 is not a "
       "multiple of 4)"},
      {"log\n5\nZm9v\n", "checkpoint line 3: the root hash is 3 bytes; expected 32"},
      {"log\n5\n\n", "checkpoint line 3: the root hash is 0 bytes; expected 32"},
      {"log\n5\n" + root + "\next\n\n", "checkpoint line 5: the extension line is empty"},
      {"log\n5\n" + root + "\n\n", "checkpoint line 4: the extension line is empty"},
      {"l\xFFg\n5\n" + root + "\n", "checkpoint: invalid UTF-8 at byte 1"},
      {"log\r\n5\n" + root + "\n", "checkpoint: control character 0x0d at byte 3"},
  };
  for (const auto& [text, message] : cases) {
    auto parsed = ParseCheckpoint(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(parsed.error().message(), message) << text;
  }
}

}  // namespace
}  // namespace interlock::audit
