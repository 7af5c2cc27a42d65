#include "app/lane.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace interlock::app {
namespace {

TEST(Lane, RunsTasksInOrderOneAtATime) {
  std::vector<int> ran;
  {
    Lane lane;
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(lane.Post(i % 2 ? "a" : "b", [&ran, i] { ran.push_back(i); }));
    }
    lane.Drain();
    EXPECT_EQ(lane.pending(), 0u);
  }
  ASSERT_EQ(ran.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ran[i], i);
}

TEST(Lane, OnePrincipalCannotFillTheLaneForEveryone) {
  Lane lane(2);
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  bool started = false;
  // The first task holds the lane until the test opens it.
  ASSERT_TRUE(lane.Post("mallory", [&] {
    std::unique_lock lock(mu);
    started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }));
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  // A running task no longer counts as waiting: two more may wait.
  std::atomic<int> ran{0};
  EXPECT_TRUE(lane.Post("mallory", [&] { ++ran; }));
  EXPECT_TRUE(lane.Post("mallory", [&] { ++ran; }));
  EXPECT_FALSE(lane.Post("mallory", [&] { ++ran; }));
  EXPECT_TRUE(lane.Post("alice", [&] { ++ran; }));
  {
    std::lock_guard lock(mu);
    open = true;
  }
  cv.notify_all();
  lane.Drain();
  EXPECT_EQ(ran.load(), 3);
  EXPECT_TRUE(lane.Post("mallory", [&] { ++ran; }));
  lane.Drain();
  EXPECT_EQ(ran.load(), 4);
}

}  // namespace
}  // namespace interlock::app
