// Durations, semantic versions and the in-memory file system's fault seam.
#include <gtest/gtest.h>

#include "core/duration.h"
#include "core/memory_fs.h"
#include "core/semver.h"

namespace interlock {
namespace {

TEST(DurationTest, ParsesEveryUnitAndCombinations) {
  EXPECT_EQ(ParseDuration("250ms"), Millis(250));
  EXPECT_EQ(ParseDuration("5m"), Millis(300'000));
  EXPECT_EQ(ParseDuration("1h30m"), Millis(5'400'000));
  EXPECT_EQ(ParseDuration("1.5h"), Millis(5'400'000));
  EXPECT_EQ(ParseDuration("90d"), Millis(90LL * 86'400'000));
  EXPECT_EQ(ParseDuration("1w"), Millis(7LL * 86'400'000));
  EXPECT_EQ(ParseDuration("7y"), Millis(7LL * 365 * 86'400'000));
}

TEST(DurationTest, RefusesWhatIsNotADuration) {
  for (const char* text :
       {"", "5", "m", "5 m", "-5m", ".5m", "5.m", "5x", "1e3s", "5m3", "99999999999999999999y"}) {
    EXPECT_FALSE(ParseDuration(text)) << text;
  }
}

TEST(SemVerTest, ParsesWithOrWithoutV) {
  auto v = ParseSemVer("v2.5.4");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 2u);
  EXPECT_EQ(v->minor, 5u);
  EXPECT_EQ(v->patch, 4u);
  EXPECT_TRUE(ParseSemVer("2.5.4-rc.1+build.7"));
}

TEST(SemVerTest, RefusesMalformedVersions) {
  for (const char* text : {"", "2.5", "2.5.4.1", "02.5.4", "2.5.x", "v", "2.5.4-", "2.5.4+",
                           "18446744073709551616.0.0"}) {
    EXPECT_FALSE(ParseSemVer(text)) << text;
  }
}

TEST(SemVerTest, BumpIsTheMostSignificantDifference) {
  auto at = [](const char* text) { return *ParseSemVer(text); };
  EXPECT_EQ(BumpBetween(at("2.5.3"), at("2.5.4")), Bump::kPatch);
  EXPECT_EQ(BumpBetween(at("2.5.3"), at("2.6.0")), Bump::kMinor);
  EXPECT_EQ(BumpBetween(at("2.5.3"), at("3.0.0")), Bump::kMajor);
  EXPECT_EQ(BumpBetween(at("3.0.0"), at("2.9.9")), Bump::kMajor);  // a roll back
  EXPECT_EQ(BumpBetween(at("2.5.3"), at("2.5.3")), Bump::kPatch);  // a redeploy
}

TEST(MemoryFileSystemTest, InjectedFaultsFail) {
  MemoryFileSystem fs;
  ASSERT_TRUE(fs.WriteFile("d/a", "x"));
  fs.FailReads("d/a");
  fs.FailWrites("d/b");
  auto read = fs.ReadFile("d/a", 10);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().kind(), ErrorKind::kIo);
  EXPECT_EQ(read.error().message(), "d/a: read failed: injected fault");
  EXPECT_FALSE(fs.WriteFile("d/b", "y"));
  EXPECT_FALSE(fs.Exists("d/b"));
}

}  // namespace
}  // namespace interlock
