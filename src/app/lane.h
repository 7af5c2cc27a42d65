// A lane: tasks run one at a time, in the order posted, on the lane's own
// thread. The service gives each kind of work its own lane (the emergency
// stop's actions, other state changes, audit reads), so that no kind waits
// behind another.
//
// Each task names who it is for (a principal id). A principal may have at
// most `per_key_limit` tasks waiting in one lane; beyond that Post refuses,
// so that one client cannot fill the lane for everybody (the server answers
// 429 with Retry-After).
//
// Thread safety: Post and Drain from any thread, but not Drain from a task.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace interlock::app {

class Lane {
 public:
  // Default per_key_limit: 64 waiting tasks per principal.
  explicit Lane(size_t per_key_limit = 64);
  // Runs the tasks already posted, then joins the thread.
  ~Lane();
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  // Queues `task` for `key`. False, and `task` dropped unrun, if `key`
  // already has per_key_limit tasks waiting.
  bool Post(const std::string& key, std::function<void()> task);
  // Returns once every task posted before the call has run.
  void Drain();
  // Tasks waiting or running.
  size_t pending() const;

 private:
  struct Task {
    std::string key;
    std::function<void()> run;
  };
  void Run();

  const size_t per_key_limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;                 // guarded by mu_
  std::map<std::string, size_t> waiting_;  // by key; guarded by mu_
  bool busy_ = false;                      // guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  std::thread thread_;
};

}  // namespace interlock::app
