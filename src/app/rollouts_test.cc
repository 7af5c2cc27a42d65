#include "app/rollouts.h"

#include <gtest/gtest.h>

namespace interlock::app {
namespace {

using rollout::Reading;
using rollout::ReadingStatus;

TEST(AskedUntilUnreachableTest, AfterTheSourceCannotBeReachedTheRoundAsksItNothingMore) {
  int asked = 0;
  MetricSource source = AskedUntilUnreachable([&](const std::string& query, UnixMillis) {
    ++asked;
    if (query == "bad") return Reading::Error("parse error at char 1");  // an answer
    if (query == "hang") return Reading::Unreachable("no answer from http://p: nothing within 5s");
    return Reading::Value(1);
  });
  EXPECT_EQ(source("up", 0).value, 1);
  // An answer that is an error is no sign the source is down.
  EXPECT_EQ(source("bad", 0).status, ReadingStatus::kError);
  EXPECT_EQ(source("up", 0).status, ReadingStatus::kValue);
  EXPECT_EQ(asked, 3);
  Reading hung = source("hang", 0);
  EXPECT_TRUE(hung.unreachable);
  EXPECT_EQ(asked, 4);
  for (int i = 0; i < 5; ++i) {
    Reading skipped = source("up", 0);
    EXPECT_EQ(skipped.status, ReadingStatus::kError);
    EXPECT_TRUE(skipped.unreachable);
    EXPECT_EQ(skipped.detail,
              "the metric source did not answer earlier in this round: no answer from http://p: "
              "nothing within 5s");
  }
  EXPECT_EQ(asked, 4);
  // The next round starts afresh.
  MetricSource next = AskedUntilUnreachable([&](const std::string&, UnixMillis) {
    ++asked;
    return Reading::Value(2);
  });
  EXPECT_EQ(next("up", 0).value, 2);
}

}  // namespace
}  // namespace interlock::app
