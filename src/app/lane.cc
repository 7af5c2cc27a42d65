#include "app/lane.h"

namespace interlock::app {

Lane::Lane(size_t per_key_limit) : per_key_limit_(per_key_limit), thread_([this] { Run(); }) {}

Lane::~Lane() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool Lane::Post(const std::string& key, std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    size_t& waiting = waiting_[key];
    if (waiting >= per_key_limit_) return false;
    ++waiting;
    tasks_.push_back({key, std::move(task)});
  }
  cv_.notify_all();
  return true;
}

void Lane::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return tasks_.empty() && !busy_; });
}

size_t Lane::pending() const {
  std::lock_guard lock(mu_);
  return tasks_.size() + (busy_ ? 1 : 0);
}

void Lane::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;
    Task task = std::move(tasks_.front());
    tasks_.pop_front();
    if (auto it = waiting_.find(task.key); it != waiting_.end() && --it->second == 0) {
      waiting_.erase(it);
    }
    busy_ = true;
    lock.unlock();
    task.run();
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace interlock::app
