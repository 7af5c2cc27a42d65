// Bearer tokens on a real audit log in a temporary directory, with time on
// a ManualClock and randomness from a SeededRandom.
#include "app/tokens.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../../tests/test_util.h"
#include "core/digest.h"
#include "core/fs.h"

namespace interlock::app {
namespace {

using json = nlohmann::json;

constexpr int64_t kDay = 86'400'000;
constexpr const char* kMalformed = "the bearer token is malformed (expected itk_<id>_<secret>)";

// A Random whose every call fails, as a broken system source would.
class FailingRandom final : public Random {
 public:
  Result<void> Fill(std::span<uint8_t>) override {
    return std::unexpected(Error::Unavailable("the system random source failed"));
  }
};

class TokensTest : public ::testing::Test {
 protected:
  TokensTest() { EXPECT_TRUE(tokens_.Load().has_value()); }

  std::unique_ptr<audit::AuditLog> OpenLog() {
    return testing::OpenTestLog(dir_.path(), fs_, clock_, log_random_);
  }

  CreatedToken Create(const std::string& principal, std::optional<int64_t> lifetime = 90 * kDay) {
    auto created = tokens_.Create(principal, lifetime, "trent");
    EXPECT_TRUE(created.has_value()) << created.error().message();
    return created.value_or(CreatedToken{});
  }

  // `token` is refused with kPermissionDenied and `message`.
  void ExpectRefused(Tokens& tokens, std::string_view token, const std::string& message) {
    auto principal = tokens.Authenticate(token);
    ASSERT_FALSE(principal.has_value()) << *principal;
    EXPECT_EQ(principal.error().kind(), ErrorKind::kPermissionDenied);
    EXPECT_EQ(principal.error().message(), message);
  }

  // The stored row of every token, by id.
  std::map<std::string, json> Rows() {
    auto rows = log_->LoadState("token");
    EXPECT_TRUE(rows.has_value());
    std::map<std::string, json> out;
    for (const auto& [id, value] : rows.value_or(decltype(rows)::value_type{})) {
      out[id] = json::parse(value);
    }
    return out;
  }

  // The token events of the log, in order.
  std::vector<json> TokenEvents() {
    audit::Reader all{"test", "human", audit::ReadScope::kAll};
    auto entries = log_->Query(all, {});
    EXPECT_TRUE(entries.has_value());
    std::vector<json> out;
    for (const audit::Entry& e : entries.value_or(std::vector<audit::Entry>{})) {
      json event = json::parse(e.event);
      if (event["event_type"].get<std::string>().starts_with("token_")) out.push_back(event);
    }
    return out;
  }

  // Stores `value` as the row of token `id`, as another writer would.
  void StoreRow(const std::string& id, const std::string& value) {
    ASSERT_TRUE(log_->Commit(std::vector<audit::Event>{}, {{"token", id, value}}).has_value());
  }

  testing::TempDir dir_;
  RealFileSystem fs_;
  ManualClock clock_{1'790'000'000'000};
  SeededRandom log_random_{3};
  SeededRandom random_{5};
  std::unique_ptr<audit::AuditLog> log_ = OpenLog();
  Tokens tokens_{*log_, clock_, random_};
};

TEST_F(TokensTest, ACreatedTokenAuthenticatesAsItsPrincipal) {
  CreatedToken created = Create("alice", 30 * kDay);
  const std::string& token = created.token;
  ASSERT_EQ(token.size(), 4u + 16 + 1 + 64);
  EXPECT_TRUE(token.starts_with("itk_" + created.info.id + "_"));
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef", 4), 20u);  // the "_" after the id
  EXPECT_EQ(created.info.principal, "alice");
  EXPECT_EQ(created.info.created_at, clock_.Now());
  EXPECT_EQ(created.info.expires_at, clock_.Now() + 30 * kDay);
  EXPECT_EQ(created.info.revoked_at, std::nullopt);
  EXPECT_EQ(tokens_.Authenticate(token).value_or("?"), "alice");
}

TEST_F(TokensTest, EveryTokenIsNew) {
  CreatedToken a = Create("alice");
  CreatedToken b = Create("alice");
  EXPECT_NE(a.info.id, b.info.id);
  EXPECT_NE(a.token.substr(21), b.token.substr(21));
  EXPECT_EQ(tokens_.Authenticate(a.token).value_or("?"), "alice");
  EXPECT_EQ(tokens_.Authenticate(b.token).value_or("?"), "alice");
}

TEST_F(TokensTest, TheLogKeepsOnlyTheHashOfTheSecret) {
  CreatedToken created = Create("alice", 7 * kDay);
  std::string secret = created.token.substr(21);
  std::map<std::string, json> rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  Sha256Hasher hasher;
  hasher.Update(secret);
  EXPECT_EQ(rows[created.info.id], json({{"principal", "alice"},
                                         {"secret_sha256", ToHex(hasher.Finish())},
                                         {"created_at", clock_.Now()},
                                         {"expires_at", clock_.Now() + 7 * kDay}}));
  std::vector<json> events = TokenEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["event_type"], "token_create");
  EXPECT_EQ(events[0]["actor"], json({{"type", "human"}, {"id", "trent"}}));
  EXPECT_EQ(events[0]["token"]["id"], created.info.id);
  EXPECT_EQ(events[0]["token"]["principal"], "alice");
  EXPECT_EQ(events[0].dump().find(secret), std::string::npos);
}

TEST_F(TokensTest, AFailedRandomSourceCreatesNothing) {
  FailingRandom failing;
  Tokens tokens(*log_, clock_, failing);
  auto created = tokens.Create("alice", std::nullopt, "trent");
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().message(), "the system random source failed");
  EXPECT_TRUE(Rows().empty());
  EXPECT_TRUE(TokenEvents().empty());
}

TEST_F(TokensTest, ALifetimeNotPositiveOrOverAHundredYearsCreatesNothing) {
  const int64_t century = 36500 * kDay;
  for (int64_t lifetime : {int64_t{0}, int64_t{-1}, INT64_MIN, century + 1, INT64_MAX}) {
    auto created = tokens_.Create("alice", lifetime, "trent");
    ASSERT_FALSE(created.has_value()) << lifetime;
    EXPECT_EQ(created.error().kind(), ErrorKind::kInvalidArgument);
    EXPECT_EQ(created.error().message(),
              fmt::format("a token's lifetime must be positive and at most 100 years (36500d), "
                          "not {} ms",
                          lifetime));
  }
  EXPECT_TRUE(TokenEvents().empty());
  CreatedToken longest = Create("alice", century);
  EXPECT_EQ(longest.info.expires_at, clock_.Now() + century);
}

TEST_F(TokensTest, ATokenExpiresAtItsExpiryTime) {
  CreatedToken created = Create("alice", 1000);
  clock_.Advance(999);
  EXPECT_EQ(tokens_.Authenticate(created.token).value_or("?"), "alice");
  clock_.Advance(1);
  ExpectRefused(tokens_, created.token, "token " + created.info.id + " has expired");
}

TEST_F(TokensTest, ATokenWithoutLifetimeDoesNotExpire) {
  CreatedToken created = Create("alice", std::nullopt);
  EXPECT_EQ(created.info.expires_at, std::nullopt);
  EXPECT_FALSE(Rows()[created.info.id].contains("expires_at"));
  clock_.Advance(100 * 365 * kDay);
  EXPECT_EQ(tokens_.Authenticate(created.token).value_or("?"), "alice");
}

TEST_F(TokensTest, MalformedTokensAreRefusedWithoutQuotingThem) {
  std::string good = Create("alice").token;
  std::string upper = good;
  upper[30] = upper[30] >= 'a' ? 'A' : 'B';
  for (const std::string& token :
       {std::string(), std::string("itk_"), "Bearer " + good, good + "0", good.substr(1),
        "itx_" + good.substr(4), good.substr(0, 20) + "-" + good.substr(21), upper,
        std::string("itk_0123456789abcdef_") + std::string(64, 'g')}) {
    SCOPED_TRACE(token);
    ExpectRefused(tokens_, token, kMalformed);
    EXPECT_FALSE(tokens_.Recognises(token));
  }
}

TEST_F(TokensTest, AnUnknownIdOrAWrongSecretIsNotValid) {
  CreatedToken created = Create("alice");
  std::string wrong_secret = created.token.substr(0, 21) + std::string(64, '0');
  std::string unknown_id = "itk_0123456789abcdef" + created.token.substr(20);
  for (const std::string& token : {wrong_secret, unknown_id}) {
    ExpectRefused(tokens_, token, "the bearer token is not valid");
    EXPECT_FALSE(tokens_.Recognises(token));
  }
}

TEST_F(TokensTest, ARevokedTokenIsRefusedAndTheRevocationRecorded) {
  CreatedToken created = Create("alice");
  clock_.Advance(5000);
  auto revoked = tokens_.Revoke(created.info.id, "erin");
  ASSERT_TRUE(revoked.has_value()) << revoked.error().message();
  EXPECT_EQ(revoked->revoked_at, clock_.Now());
  ExpectRefused(tokens_, created.token, "token " + created.info.id + " was revoked");
  EXPECT_EQ(Rows()[created.info.id]["revoked_at"], clock_.Now());
  std::vector<json> events = TokenEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]["event_type"], "token_revoke");
  EXPECT_EQ(events[1]["actor"]["id"], "erin");
  EXPECT_EQ(events[1]["token"]["id"], created.info.id);

  // Once is enough: a second revocation changes and records nothing.
  clock_.Advance(5000);
  auto again = tokens_.Revoke(created.token, "erin");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->revoked_at, clock_.Now() - 5000);
  EXPECT_EQ(TokenEvents().size(), 2u);
}

TEST_F(TokensTest, ATokenIsRevokedByItsIdOrWhole) {
  CreatedToken created = Create("alice");
  ASSERT_TRUE(tokens_.Revoke(created.token, "alice").has_value());
  ExpectRefused(tokens_, created.token, "token " + created.info.id + " was revoked");
  auto unknown = tokens_.Revoke("0123456789abcdef", "alice");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(unknown.error().message(), "no token with id \"0123456789abcdef\"");
}

TEST_F(TokensTest, LoadReadsWhatAnEarlierRunStored) {
  CreatedToken kept = Create("alice");
  CreatedToken revoked = Create("bob");
  ASSERT_TRUE(tokens_.Revoke(revoked.info.id, "trent").has_value());
  Tokens later(*log_, clock_, random_);
  ASSERT_TRUE(later.Load().has_value());
  EXPECT_TRUE(later.Recognises(kept.token));
  EXPECT_EQ(later.Authenticate(kept.token).value_or("?"), "alice");
  ExpectRefused(later, revoked.token, "token " + revoked.info.id + " was revoked");
}

TEST_F(TokensTest, AnotherWritersChangesTakeEffectWithinASecond) {
  Tokens other(*log_, clock_, random_);
  ASSERT_TRUE(other.Load().has_value());
  ASSERT_TRUE(tokens_.Authenticate(Create("bob").token).has_value());  // a reload now

  auto created = other.Create("alice", std::nullopt, "trent");
  ASSERT_TRUE(created.has_value());
  EXPECT_FALSE(tokens_.Recognises(created->token));
  ExpectRefused(tokens_, created->token, "the bearer token is not valid");
  clock_.Advance(1000);
  EXPECT_EQ(tokens_.Authenticate(created->token).value_or("?"), "alice");
  EXPECT_TRUE(tokens_.Recognises(created->token));

  ASSERT_TRUE(other.Revoke(created->info.id, "trent").has_value());
  EXPECT_EQ(tokens_.Authenticate(created->token).value_or("?"), "alice");
  clock_.Advance(1000);
  ExpectRefused(tokens_, created->token, "token " + created->info.id + " was revoked");
}

TEST_F(TokensTest, RevokeReadsAnotherWritersTokensFirst) {
  Tokens other(*log_, clock_, random_);
  auto created = other.Create("alice", std::nullopt, "trent");
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(tokens_.Revoke(created->info.id, "trent").has_value());
  clock_.Advance(1000);
  ExpectRefused(other, created->token, "token " + created->info.id + " was revoked");
}

TEST_F(TokensTest, RecognisesAnyTokenWhoseSecretMatchesRevokedOrExpired) {
  CreatedToken expired = Create("alice", 1000);
  CreatedToken revoked = Create("bob");
  ASSERT_TRUE(tokens_.Revoke(revoked.info.id, "trent").has_value());
  clock_.Advance(2000);
  EXPECT_TRUE(tokens_.Recognises(expired.token));
  EXPECT_TRUE(tokens_.Recognises(revoked.token));
  EXPECT_FALSE(tokens_.Authenticate(expired.token).has_value());
  EXPECT_FALSE(tokens_.Authenticate(revoked.token).has_value());
}

TEST_F(TokensTest, DamagedStoredRowsAreCorruption) {
  const std::string id = "0123456789abcdef";
  const std::string hash(64, 'a');
  for (const std::string& value :
       {std::string("not json"), std::string("[]"),
        json({{"secret_sha256", hash}, {"created_at", 1}}).dump(),
        json({{"principal", 7}, {"secret_sha256", hash}, {"created_at", 1}}).dump(),
        json({{"principal", "alice"}, {"created_at", 1}}).dump(),
        json({{"principal", "alice"}, {"secret_sha256", hash}, {"created_at", "1"}}).dump(),
        json({{"principal", "alice"}, {"secret_sha256", hash}, {"created_at", 1.5}}).dump(),
        json({{"principal", "alice"},
              {"secret_sha256", hash},
              {"created_at", 1},
              {"expires_at", "never"}})
            .dump(),
        json({{"principal", "alice"},
              {"secret_sha256", hash},
              {"created_at", 1},
              {"revoked_at", nullptr}})
            .dump()}) {
    SCOPED_TRACE(value);
    StoreRow(id, value);
    Tokens tokens(*log_, clock_, random_);
    auto loaded = tokens.Load();
    ASSERT_FALSE(loaded.has_value());
    EXPECT_EQ(loaded.error().kind(), ErrorKind::kCorruption);
    EXPECT_EQ(loaded.error().message(), "token " + id + ": stored value is damaged");
  }
}

TEST_F(TokensTest, AuthenticationFailsClosedWhenTheStoredTokensAreDamaged) {
  CreatedToken created = Create("alice");
  StoreRow("0123456789abcdef", "not json");
  clock_.Advance(1000);
  auto principal = tokens_.Authenticate(created.token);
  ASSERT_FALSE(principal.has_value());
  EXPECT_EQ(principal.error().kind(), ErrorKind::kCorruption);
  auto revoked = tokens_.Revoke(created.info.id, "trent");
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(revoked.error().kind(), ErrorKind::kCorruption);
}

}  // namespace
}  // namespace interlock::app
