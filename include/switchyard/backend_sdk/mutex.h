#pragma once
// Mutex, scoped lock and condition variable that clang's thread-safety analysis understands
// (libstdc++'s std::mutex carries no annotations), with the annotation macros, for plugins; the
// server's own code uses the same classes (src/core/mutex.h). Compile with clang and
// -Wthread-safety to have every SY_GUARDED_BY field and SY_REQUIRES helper checked; other compilers
// ignore the annotations.
//
// Part of the backend SDK (include/switchyard/backend_sdk/): header-only, C++17 and later, no
// dependency beyond the standard library; optional for plugins (docs/plugin-abi.md).

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define SY_THREAD_ANNOTATION_ATTRIBUTE(x) __attribute__((x))
#else
#define SY_THREAD_ANNOTATION_ATTRIBUTE(x)
#endif
// The macro names carry SY_ so that a plugin may also include headers that define the plain
// ones (GUARDED_BY, ...).
#define SY_CAPABILITY(x) SY_THREAD_ANNOTATION_ATTRIBUTE(capability(x))
#define SY_SCOPED_CAPABILITY SY_THREAD_ANNOTATION_ATTRIBUTE(scoped_lockable)
#define SY_GUARDED_BY(x) SY_THREAD_ANNOTATION_ATTRIBUTE(guarded_by(x))
#define SY_PT_GUARDED_BY(x) SY_THREAD_ANNOTATION_ATTRIBUTE(pt_guarded_by(x))
#define SY_REQUIRES(...) SY_THREAD_ANNOTATION_ATTRIBUTE(requires_capability(__VA_ARGS__))
#define SY_ACQUIRE(...) SY_THREAD_ANNOTATION_ATTRIBUTE(acquire_capability(__VA_ARGS__))
#define SY_RELEASE(...) SY_THREAD_ANNOTATION_ATTRIBUTE(release_capability(__VA_ARGS__))
#define SY_EXCLUDES(...) SY_THREAD_ANNOTATION_ATTRIBUTE(locks_excluded(__VA_ARGS__))

namespace switchyard::sdk {

// A std::mutex the analysis knows as a capability. Not recursive.
class SY_CAPABILITY("mutex") Mutex {
 public:
  void Lock() SY_ACQUIRE() { mu_.lock(); }
  void Unlock() SY_RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `*mu` for its scope.
class SY_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) SY_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() SY_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

// Waits on a Mutex the caller holds (passed to each wait, so the analysis can check it).
// Wakeups may be spurious: callers re-check their condition.
class CondVar {
 public:
  // REQUIRES: the caller holds *mu; holds it again when this returns.
  void Wait(Mutex* mu) SY_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // As Wait, for at most `timeout` of real time.
  template <typename Rep, typename Period>
  void WaitFor(Mutex* mu, std::chrono::duration<Rep, Period> timeout) SY_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait_for(lock, timeout);
    lock.release();
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace switchyard::sdk
