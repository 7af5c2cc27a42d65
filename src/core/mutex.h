// Mutexes the compiler checks. The lint build runs clang with
// -Wthread-safety, which proves that every member marked GUARDED_BY(mu) is
// touched only with mu held and every function marked REQUIRES(mu) is
// called with it held; GCC ignores the annotations.
//
//   Mutex mu_;
//   int count_ GUARDED_BY(mu_) = 0;
//   void Bump() EXCLUDES(mu_) { MutexLock lock(&mu_); ++count_; }
//
// CondVar waits on a Mutex its caller holds; wait in a loop on the
// condition (`while (!ready_) cv_.Wait(&mu_);`), so that the analysis sees
// the condition read under the lock.
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define INTERLOCK_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define INTERLOCK_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) INTERLOCK_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY INTERLOCK_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) INTERLOCK_THREAD_ANNOTATION(guarded_by(x))
#define REQUIRES(...) INTERLOCK_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) INTERLOCK_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) INTERLOCK_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) INTERLOCK_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) INTERLOCK_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS INTERLOCK_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace interlock {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its lifetime.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu`, waits for a Signal (or a spurious wake-up), and takes
  // `mu` again before returning.
  void Wait(Mutex* mu) REQUIRES(mu) {
    std::unique_lock lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Wait, for at most `timeout`. False if it timed out.
  template <class Duration>
  bool WaitFor(Mutex* mu, Duration timeout) REQUIRES(mu) {
    std::unique_lock lock(mu->mu_, std::adopt_lock);
    const bool signalled = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace interlock
