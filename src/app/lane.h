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

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "core/mutex.h"

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
  bool Post(const std::string& key, std::function<void()> task) EXCLUDES(mu_);
  // Returns once every task posted before the call has run.
  void Drain() EXCLUDES(mu_);
  // Tasks waiting or running.
  size_t pending() const EXCLUDES(mu_);

 private:
  struct Task {
    std::string key;
    std::function<void()> run;
  };
  void Run() EXCLUDES(mu_);

  const size_t per_key_limit_;
  mutable Mutex mu_;
  CondVar cv_;
  std::deque<Task> tasks_ GUARDED_BY(mu_);
  std::map<std::string, size_t> waiting_ GUARDED_BY(mu_);  // by key
  bool busy_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace interlock::app
