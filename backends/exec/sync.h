#pragma once
// Mutex, lock and condition variable that clang's thread-safety analysis understands, for the
// exec plugin (which cannot use switchyard's src/core/mutex.h: it builds against backend.h alone).

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define EXEC_TSA(x) __attribute__((x))
#else
#define EXEC_TSA(x)
#endif
#define EXEC_CAPABILITY(x) EXEC_TSA(capability(x))
#define EXEC_SCOPED_CAPABILITY EXEC_TSA(scoped_lockable)
#define EXEC_GUARDED_BY(x) EXEC_TSA(guarded_by(x))
#define EXEC_REQUIRES(...) EXEC_TSA(requires_capability(__VA_ARGS__))
#define EXEC_ACQUIRE(...) EXEC_TSA(acquire_capability(__VA_ARGS__))
#define EXEC_RELEASE(...) EXEC_TSA(release_capability(__VA_ARGS__))
#define EXEC_EXCLUDES(...) EXEC_TSA(locks_excluded(__VA_ARGS__))

namespace switchyard::exec {

class EXEC_CAPABILITY("mutex") Mutex {
 public:
  void Lock() EXEC_ACQUIRE() { mu_.lock(); }
  void Unlock() EXEC_RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

class EXEC_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) EXEC_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() EXEC_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

// Wakeups may be spurious: callers re-check their condition.
class CondVar {
 public:
  void Wait(Mutex* mu) EXEC_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace switchyard::exec
