#include "audit/crypto.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/memory_fs.h"

namespace interlock::audit {
namespace {

std::string Unhex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or("");
}

Key256 KeyFromHex(std::string_view hex) {
  std::string bytes = Unhex(hex);
  Key256 key{};
  EXPECT_EQ(bytes.size(), key.size());
  std::copy_n(bytes.begin(), std::min(bytes.size(), key.size()), key.begin());
  return key;
}

Key256 FilledKey(uint8_t value) {
  Key256 key;
  key.fill(value);
  return key;
}

// A Random whose every call fails, as a broken system source would.
class FailingRandom final : public Random {
 public:
  Result<void> Fill(std::span<uint8_t>) override {
    return std::unexpected(Error::Unavailable("the system random source failed"));
  }
};

// A fresh directory under the system temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "crypto_test.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// AES-256-GCM

TEST(AeadTest, SealThenOpenReturnsThePlaintext) {
  SeededRandom random(1);
  Key256 key = FilledKey(7);
  for (std::string plaintext : {std::string(), std::string("x"), std::string(1000, 'q')}) {
    auto sealed = Seal(key, random, plaintext, "row 17");
    ASSERT_TRUE(sealed.has_value());
    EXPECT_EQ(sealed->size(), kNonceSize + plaintext.size() + kTagSize);
    auto opened = Open(key, *sealed, "row 17");
    ASSERT_TRUE(opened.has_value()) << opened.error().message();
    EXPECT_EQ(*opened, plaintext);
  }
}

// One Aead keeps the expanded key between calls: switching keys and
// directions, and failing in between, must never leave a stale key in use.
TEST(AeadTest, OneInstanceAcrossKeysDirectionsAndFailures) {
  SeededRandom random(3);
  Aead aead;
  Key256 a = FilledKey(1), b = FilledKey(2);
  auto sealed_a = aead.Seal(a, random, "for a", "x");
  auto sealed_b = aead.Seal(b, random, "for b", "x");
  ASSERT_TRUE(sealed_a && sealed_b);
  std::string out;
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(aead.OpenInto(a, *sealed_a, "x", out).has_value());
    EXPECT_EQ(out, "for a");
    EXPECT_TRUE(aead.OpenInto(a, *sealed_a, "x", out).has_value());   // the same key again
    EXPECT_FALSE(aead.OpenInto(a, *sealed_b, "x", out).has_value());  // b's value, a's key
    EXPECT_FALSE(aead.OpenInto(a, *sealed_a, "y", out).has_value());  // a failure in between
    EXPECT_TRUE(aead.OpenInto(b, *sealed_b, "x", out).has_value());
    EXPECT_EQ(out, "for b");
    auto again = aead.Seal(a, random, "sealed in between", "x");
    ASSERT_TRUE(again.has_value());
    auto opened = aead.Open(a, *again, "x");
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(*opened, "sealed in between");
    EXPECT_EQ(Open(a, *again, "x").value_or(""), "sealed in between");  // a fresh instance agrees
  }
}

TEST(AeadTest, SealedValueStartsWithTheNonceFromRandom) {
  SeededRandom random(42);
  SeededRandom same(42);
  std::array<uint8_t, kNonceSize> expected;
  ASSERT_TRUE(same.Fill(expected).has_value());
  auto sealed = Seal(FilledKey(1), random, "secret", "");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(sealed->substr(0, kNonceSize), std::string(expected.begin(), expected.end()));
}

TEST(AeadTest, TwoSealsOfTheSameValueDiffer) {
  SeededRandom random(3);
  auto first = Seal(FilledKey(1), random, "same", "aad");
  auto second = Seal(FilledKey(1), random, "same", "aad");
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_NE(*first, *second);
}

TEST(AeadTest, EveryFlippedBitFailsAuthentication) {
  SeededRandom random(2);
  Key256 key = FilledKey(9);
  auto sealed = Seal(key, random, "approve deploy of billing 1.4.2", "entry 5");
  ASSERT_TRUE(sealed.has_value());
  for (size_t index = 0; index < sealed->size(); ++index) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = *sealed;
      tampered[index] = static_cast<char>(tampered[index] ^ (1 << bit));
      auto opened = Open(key, tampered, "entry 5");
      ASSERT_FALSE(opened.has_value()) << "byte " << index << " bit " << bit;
      EXPECT_EQ(opened.error().kind(), ErrorKind::kCorruption);
      EXPECT_EQ(opened.error().message(), "authentication failed");
    }
  }
}

TEST(AeadTest, WrongAadFails) {
  SeededRandom random(4);
  Key256 key = FilledKey(9);
  auto sealed = Seal(key, random, "payload", "entry 5");
  ASSERT_TRUE(sealed.has_value());
  for (std::string_view aad : {"entry 6", "", "entry 5 ", "entry"}) {
    auto opened = Open(key, *sealed, aad);
    ASSERT_FALSE(opened.has_value()) << aad;
    EXPECT_EQ(opened.error().kind(), ErrorKind::kCorruption);
    EXPECT_EQ(opened.error().message(), "authentication failed");
  }
}

TEST(AeadTest, WrongKeyFails) {
  SeededRandom random(5);
  auto sealed = Seal(FilledKey(1), random, "payload", "aad");
  ASSERT_TRUE(sealed.has_value());
  Key256 other = FilledKey(1);
  other[31] ^= 1;
  auto opened = Open(other, *sealed, "aad");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().message(), "authentication failed");
}

TEST(AeadTest, TruncatedOrExtendedValuesFail) {
  SeededRandom random(6);
  Key256 key = FilledKey(2);
  auto sealed = Seal(key, random, "payload", "");
  ASSERT_TRUE(sealed.has_value());
  auto longer = Open(key, *sealed + "x", "");
  ASSERT_FALSE(longer.has_value());
  EXPECT_EQ(longer.error().kind(), ErrorKind::kCorruption);
  auto shorter = Open(key, sealed->substr(0, sealed->size() - 1), "");
  ASSERT_FALSE(shorter.has_value());
  EXPECT_EQ(shorter.error().kind(), ErrorKind::kCorruption);
}

TEST(AeadTest, ValuesShorterThanNonceAndTagAreInvalidArguments) {
  auto opened = Open(FilledKey(2), std::string(27, 'a'), "");
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(opened.error().message(),
            "sealed value is 27 bytes; at least 28 are needed for the nonce and the tag");
  auto empty = Open(FilledKey(2), "", "");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().kind(), ErrorKind::kInvalidArgument);
}

TEST(AeadTest, SealFailsWhenRandomFails) {
  FailingRandom random;
  auto sealed = Seal(FilledKey(2), random, "payload", "");
  ASSERT_FALSE(sealed.has_value());
  EXPECT_EQ(sealed.error().kind(), ErrorKind::kUnavailable);
}

struct GcmVector {
  const char* name;
  const char* key;
  const char* nonce;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

// Test cases 13 to 16 of McGrew and Viega, "The Galois/Counter Mode of
// Operation (GCM)", the AES-256 cases with 96-bit nonces.
const GcmVector kGcmVectors[] = {
    {"13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AeadTest, MatchesTheGcmSpecificationTestVectors) {
  Aead aead;
  for (const GcmVector& v : kGcmVectors) {
    SCOPED_TRACE(std::string("test case ") + v.name);
    Key256 key = KeyFromHex(v.key);
    std::string nonce_bytes = Unhex(v.nonce);
    std::array<uint8_t, kNonceSize> nonce{};
    std::copy_n(nonce_bytes.begin(), kNonceSize, nonce.begin());
    auto sealed = aead.SealWithNonce(key, nonce, Unhex(v.plaintext), Unhex(v.aad));
    ASSERT_TRUE(sealed.has_value());
    EXPECT_EQ(HexEncode(*sealed), std::string(v.nonce) + v.ciphertext + v.tag);
    auto opened = aead.Open(key, *sealed, Unhex(v.aad));
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(HexEncode(*opened), v.plaintext);
  }
}

TEST(AeadTest, OneContextServesManyKeysAndDirections) {
  Aead aead;
  SeededRandom random(8);
  std::vector<std::string> sealed;
  for (int i = 0; i < 20; ++i) {
    auto value = aead.Seal(FilledKey(static_cast<uint8_t>(i)), random, std::string(i, 'a' + i),
                           std::to_string(i));
    ASSERT_TRUE(value.has_value());
    sealed.push_back(*value);
    // Interleave opens with seals: the context must switch cleanly.
    auto opened = aead.Open(FilledKey(static_cast<uint8_t>(i)), *value, std::to_string(i));
    ASSERT_TRUE(opened.has_value());
  }
  for (int i = 19; i >= 0; --i) {
    auto opened = aead.Open(FilledKey(static_cast<uint8_t>(i)), sealed[i], std::to_string(i));
    ASSERT_TRUE(opened.has_value()) << i;
    EXPECT_EQ(*opened, std::string(i, 'a' + i));
  }
  // A failed open leaves the context usable.
  EXPECT_FALSE(aead.Open(FilledKey(1), sealed[0], "0").has_value());
  EXPECT_TRUE(aead.Open(FilledKey(0), sealed[0], "0").has_value());
}

// ---------------------------------------------------------------------------
// HKDF

TEST(HkdfTest, MatchesRfc5869TestCase1) {
  std::string ikm(22, '\x0b');
  std::string salt = Unhex("000102030405060708090a0b0c");
  auto okm = HkdfSha256(AsBytes(ikm), AsBytes(salt), Unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.has_value());
  EXPECT_EQ(HexEncode(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfTest, MatchesRfc5869TestCase3WithoutSaltOrInfo) {
  std::string ikm(22, '\x0b');
  auto okm = HkdfSha256(AsBytes(ikm), {}, "", 42);
  ASSERT_TRUE(okm.has_value());
  EXPECT_EQ(HexEncode(*okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfTest, RejectsImpossibleLengths) {
  std::string ikm(32, 'k');
  auto zero = HkdfSha256(AsBytes(ikm), {}, "", 0);
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().message(), "HKDF-SHA256 output length 0 is outside 1..8160");
  EXPECT_FALSE(HkdfSha256(AsBytes(ikm), {}, "", 8161).has_value());
  EXPECT_TRUE(HkdfSha256(AsBytes(ikm), {}, "", 8160).has_value());
}

TEST(DeriveKeyTest, IsHkdfWithoutSaltAndDependsOnInfo) {
  Key256 master = FilledKey(0x42);
  Key256 a = DeriveKey(master, "audit data key");
  Key256 b = DeriveKey(master, "audit index key");
  EXPECT_NE(a, b);
  EXPECT_EQ(a, DeriveKey(master, "audit data key"));
  auto expected = HkdfSha256(master, {}, "audit data key", 32);
  ASSERT_TRUE(expected.has_value());
  EXPECT_EQ(HexEncode(a), HexEncode(*expected));
  EXPECT_NE(DeriveKey(FilledKey(0x43), "audit data key"), a);
}

// ---------------------------------------------------------------------------
// The master key

constexpr std::string_view kKeyHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

TEST(MasterKeyTest, FingerprintIsATruncatedDomainSeparatedHash) {
  Key256 key = KeyFromHex(kKeyHex);
  Sha256Hasher hasher;
  hasher.Update("interlock master key");
  hasher.Update(Unhex(kKeyHex));
  MasterKey master{key, "", ""};
  EXPECT_EQ(master.Fingerprint(), ToHex(hasher.Finish()).substr(0, 16));
  EXPECT_EQ(KeyFingerprint(key).size(), 16u);
  EXPECT_NE(KeyFingerprint(key), KeyFingerprint(FilledKey(0)));
}

TEST(LoadMasterKeyTest, EnvironmentHexKeyWins) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  auto key = LoadMasterKey(fs, random, kKeyHex, "/ignored", "/home/a/.interlock/master.key");
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->key, KeyFromHex(kKeyHex));
  EXPECT_EQ(key->source, "INTERLOCK_MASTER_KEY");
  EXPECT_EQ(key->warning, "");
  EXPECT_FALSE(fs.Exists("/home/a/.interlock/master.key"));
}

TEST(LoadMasterKeyTest, EnvironmentBase64KeyIsAccepted) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  std::string base64 = Base64Encode(Unhex(kKeyHex));
  auto key = LoadMasterKey(fs, random, "  " + base64 + "\n", "", "/k");
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->key, KeyFromHex(kKeyHex));
}

TEST(LoadMasterKeyTest, MalformedEnvironmentKeyIsAnErrorThatDoesNotQuoteIt) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  const std::string bad_values[] = {
      "secret-but-wrong",
      std::string(kKeyHex.substr(0, 62)),        // 31 bytes of hex
      std::string(kKeyHex.substr(0, 63)) + "g",  // not hex
      Base64Encode(std::string(31, 'k')),        // base64 of 31 bytes
      Base64Encode(std::string(33, 'k')),        // base64 of 33 bytes
  };
  for (const std::string& value : bad_values) {
    auto key = LoadMasterKey(fs, random, value, "", "/k");
    ASSERT_FALSE(key.has_value()) << value;
    EXPECT_EQ(key.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(key.error().message(),
              "INTERLOCK_MASTER_KEY: not a valid master key: expected 64 hex digits or the "
              "base64 encoding of 32 bytes");
  }
  EXPECT_FALSE(fs.Exists("/k"));
}

TEST(LoadMasterKeyTest, KeyFileFromEnvironment) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  ASSERT_TRUE(fs.CreatePrivateFile("/etc/interlock/key", std::string(kKeyHex) + "\n").has_value());
  auto key = LoadMasterKey(fs, random, "", "/etc/interlock/key", "/k");
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->key, KeyFromHex(kKeyHex));
  EXPECT_EQ(key->source, "file /etc/interlock/key");
  EXPECT_EQ(key->warning, "");
  EXPECT_FALSE(fs.Exists("/k"));
}

TEST(LoadMasterKeyTest, MissingKeyFileFromEnvironmentIsAnError) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  auto key = LoadMasterKey(fs, random, "", "/etc/interlock/key", "/k");
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(key.error().message(),
            "INTERLOCK_MASTER_KEY_FILE names /etc/interlock/key, which does not exist");
  EXPECT_FALSE(fs.Exists("/k"));
}

TEST(LoadMasterKeyTest, MalformedKeyFileNamesTheFile) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  ASSERT_TRUE(fs.CreatePrivateFile("/key", "hello\n").has_value());
  auto key = LoadMasterKey(fs, random, "", "/key", "/k");
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().message(),
            "master key file /key: not a valid master key: expected 64 hex digits or the base64 "
            "encoding of 32 bytes");
}

TEST(LoadMasterKeyTest, DefaultFileIsCreatedPrivateThenReused) {
  MemoryFileSystem fs;
  SeededRandom random(11);
  const std::string path = "/home/a/.interlock/master.key";
  auto created = LoadMasterKey(fs, random, "", "", path);
  ASSERT_TRUE(created.has_value()) << created.error().message();
  EXPECT_EQ(created->source, "created " + path);
  EXPECT_EQ(created->warning,
            "created a new master key at /home/a/.interlock/master.key; back it up: without it "
            "the audit log cannot be read");
  EXPECT_EQ(fs.FileMode(path).value_or(0), 0600u);
  EXPECT_EQ(fs.ReadFile(path, 1000).value_or(""), HexEncode(created->key) + "\n");

  auto reused = LoadMasterKey(fs, random, "", "", path);
  ASSERT_TRUE(reused.has_value()) << reused.error().message();
  EXPECT_EQ(reused->key, created->key);
  EXPECT_EQ(reused->source, "file " + path);
  EXPECT_EQ(reused->warning, "");
}

TEST(LoadMasterKeyTest, GroupReadableKeyFileGivesAWarning) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  // MemoryFileSystem gives files made by WriteFile mode 0644.
  ASSERT_TRUE(fs.WriteFile("/key", std::string(kKeyHex)).has_value());
  auto key = LoadMasterKey(fs, random, "", "", "/key");
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_EQ(key->key, KeyFromHex(kKeyHex));
  EXPECT_EQ(key->warning,
            "master key file /key has mode 0644, so other users may read it; run chmod 600 /key");
}

TEST(LoadMasterKeyTest, NoSourceAtAllIsAnError) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  auto key = LoadMasterKey(fs, random, "", "", "");
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().message(),
            "no master key: set INTERLOCK_MASTER_KEY or INTERLOCK_MASTER_KEY_FILE");
}

TEST(LoadMasterKeyTest, FailedCreationIsReported) {
  MemoryFileSystem fs;
  SeededRandom random(1);
  fs.FailWrites("/k");
  auto key = LoadMasterKey(fs, random, "", "", "/k");
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().kind(), ErrorKind::kIo);
  FailingRandom broken;
  auto no_random = LoadMasterKey(fs, broken, "", "", "/other");
  ASSERT_FALSE(no_random.has_value());
  EXPECT_EQ(no_random.error().kind(), ErrorKind::kUnavailable);
  EXPECT_FALSE(fs.Exists("/other"));
}

TEST(LoadMasterKeyTest, RealFileSystemCreatesMode0600AndWarnsOnLooseModes) {
  TempDir dir;
  RealFileSystem fs;
  SystemRandom random;
  const std::string path = dir.path() + "/config/master.key";
  auto created = LoadMasterKey(fs, random, "", "", path);
  ASSERT_TRUE(created.has_value()) << created.error().message();
  EXPECT_EQ(created->source, "created " + path);
  EXPECT_NE(created->warning.find("back it up"), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto reused = LoadMasterKey(fs, random, "", "", path);
  ASSERT_TRUE(reused.has_value()) << reused.error().message();
  EXPECT_EQ(reused->key, created->key);
  EXPECT_EQ(reused->warning, "");

  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto loose = LoadMasterKey(fs, random, "", "", path);
  ASSERT_TRUE(loose.has_value()) << loose.error().message();
  EXPECT_EQ(loose->key, created->key);
  EXPECT_EQ(loose->warning, "master key file " + path +
                                " has mode 0640, so other users may read it; run chmod 600 " +
                                path);
}

// ---------------------------------------------------------------------------
// Key wrapping

TEST(WrapKeyTest, UnwrapReturnsTheDataKey) {
  SeededRandom random(12);
  Key256 master = FilledKey(1);
  Key256 data_key = KeyFromHex(kKeyHex);
  auto wrapped = WrapKey(master, random, data_key, "dk-2024-01");
  ASSERT_TRUE(wrapped.has_value());
  EXPECT_EQ(wrapped->size(), kNonceSize + 32 + kTagSize);
  auto unwrapped = UnwrapKey(master, *wrapped, "dk-2024-01");
  ASSERT_TRUE(unwrapped.has_value()) << unwrapped.error().message();
  EXPECT_EQ(*unwrapped, data_key);
}

TEST(WrapKeyTest, WrongMasterKeySaysSo) {
  SeededRandom random(13);
  auto wrapped = WrapKey(FilledKey(1), random, FilledKey(5), "dk-1");
  ASSERT_TRUE(wrapped.has_value());
  Key256 other = FilledKey(2);
  auto unwrapped = UnwrapKey(other, *wrapped, "dk-1");
  ASSERT_FALSE(unwrapped.has_value());
  EXPECT_EQ(unwrapped.error().kind(), ErrorKind::kCorruption);
  EXPECT_EQ(unwrapped.error().message(),
            "cannot unwrap data key dk-1: authentication failed; the master key (fingerprint " +
                KeyFingerprint(other) +
                ") is probably not the one that wrapped it, or the stored key is corrupted");
}

TEST(WrapKeyTest, KeyIdIsBoundToTheWrappedKey) {
  SeededRandom random(14);
  auto wrapped = WrapKey(FilledKey(1), random, FilledKey(5), "dk-1");
  ASSERT_TRUE(wrapped.has_value());
  auto moved = UnwrapKey(FilledKey(1), *wrapped, "dk-2");
  ASSERT_FALSE(moved.has_value());
  EXPECT_EQ(moved.error().kind(), ErrorKind::kCorruption);
}

TEST(WrapKeyTest, TruncatedOrWrongSizeKeysFail) {
  auto short_value = UnwrapKey(FilledKey(1), "abc", "dk-1");
  ASSERT_FALSE(short_value.has_value());
  EXPECT_EQ(short_value.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(short_value.error().message(),
            "cannot unwrap data key dk-1: sealed value is 3 bytes; at least 28 are needed for "
            "the nonce and the tag");
  // Authentic, but not a 32-byte key.
  SeededRandom random(15);
  auto sealed = Seal(FilledKey(1), random, "sixteen bytes!!!", "dk-1");
  ASSERT_TRUE(sealed.has_value());
  auto wrong_size = UnwrapKey(FilledKey(1), *sealed, "dk-1");
  ASSERT_FALSE(wrong_size.has_value());
  EXPECT_EQ(wrong_size.error().message(),
            "cannot unwrap data key dk-1: it is 16 bytes; expected 32");
}

}  // namespace
}  // namespace interlock::audit
