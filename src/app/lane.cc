#include "app/lane.h"

namespace interlock::app {

Lane::Lane(size_t per_key_limit) : per_key_limit_(per_key_limit), thread_([this] { Run(); }) {}

Lane::~Lane() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

bool Lane::Post(const std::string& key, std::function<void()> task) {
  {
    MutexLock lock(&mu_);
    size_t& waiting = waiting_[key];
    if (waiting >= per_key_limit_) return false;
    ++waiting;
    tasks_.push_back({key, std::move(task)});
  }
  cv_.SignalAll();
  return true;
}

void Lane::Drain() {
  MutexLock lock(&mu_);
  while (!tasks_.empty() || busy_) cv_.Wait(&mu_);
}

size_t Lane::pending() const {
  MutexLock lock(&mu_);
  return tasks_.size() + (busy_ ? 1 : 0);
}

void Lane::Run() {
  MutexLock lock(&mu_);
  for (;;) {
    while (!stopping_ && tasks_.empty()) cv_.Wait(&mu_);
    if (tasks_.empty()) return;
    Task task = std::move(tasks_.front());
    tasks_.pop_front();
    if (auto it = waiting_.find(task.key); it != waiting_.end() && --it->second == 0) {
      waiting_.erase(it);
    }
    busy_ = true;
    mu_.Unlock();
    task.run();
    mu_.Lock();
    busy_ = false;
    cv_.SignalAll();
  }
}

}  // namespace interlock::app
