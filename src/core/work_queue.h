#pragma once
// A FIFO of jobs handed from any thread to a consumer thread that blocks for the next: the shape
// of every component here that runs its work on a thread of its own (the in-process instance,
// the simulated device, the repository API's load and unload calls). The owner starts and joins
// the consumer thread; the queue only hands the jobs over.
// Thread-safety: every method may be called from any thread.

#include <deque>
#include <optional>
#include <utility>

#include "core/mutex.h"

namespace switchyard {

template <typename Job>
class WorkQueue {
 public:
  // Queues `job` and wakes a consumer (nullopt). Once the queue is closed it queues nothing and
  // hands `job` back, so that the caller can still answer it.
  [[nodiscard]] std::optional<Job> Push(Job job) {
    {
      MutexLock lock(&mu_);
      if (closed_) return job;
      jobs_.push_back(std::move(job));
    }
    cv_.Signal();
    return std::nullopt;
  }

  // Blocks until a job is queued and returns the oldest; nullopt once the queue is closed and
  // empty.
  std::optional<Job> Pop() {
    MutexLock lock(&mu_);
    while (jobs_.empty() && !closed_) cv_.Wait(&mu_);
    if (jobs_.empty()) return std::nullopt;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    return job;
  }

  // Refuses further jobs; Pop still hands out those already queued, then nullopt.
  void Close() { (void)CloseAnd(/*take=*/false); }

  // Refuses further jobs and takes those still queued, which no Pop will see.
  std::deque<Job> CloseAndTake() { return CloseAnd(/*take=*/true); }

 private:
  std::deque<Job> CloseAnd(bool take) {
    std::deque<Job> taken;
    {
      MutexLock lock(&mu_);
      closed_ = true;
      if (take) taken.swap(jobs_);
    }
    cv_.SignalAll();
    return taken;
  }

  Mutex mu_;
  CondVar cv_;
  std::deque<Job> jobs_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace switchyard
