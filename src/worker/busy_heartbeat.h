#pragma once
// Tells the server that a worker lives while it executes a batch. The thread that answers the
// server's pings is the one that executes batches (for the fewest wake-ups per batch), so during
// a batch of minutes it answers nothing; this thread of its own sends an unsolicited Pong
// (sequence 0) every `interval` while a batch executes. Liveness is thus told apart from
// execution: a stopped or dead worker still falls silent, a long batch does not.
//
// Thread-safety: Begin and End from the executing threads (batches may overlap); the heartbeat
// runs on its own thread.

#include <atomic>
#include <thread>

#include "core/mutex.h"
#include "ipc/channel.h"
#include "switchyard/clock.h"

namespace switchyard::worker {

class BusyHeartbeat {
 public:
  // REQUIRES: `channel` outlives this object; interval > 0.
  BusyHeartbeat(ipc::Channel* channel, Duration interval);
  ~BusyHeartbeat();  // stops the thread
  BusyHeartbeat(const BusyHeartbeat&) = delete;
  BusyHeartbeat& operator=(const BusyHeartbeat&) = delete;

  // A batch starts / ends executing. Atomic counts: no system call on the batch's path.
  void Begin() { busy_.fetch_add(1, std::memory_order_acq_rel); }
  void End() { busy_.fetch_sub(1, std::memory_order_acq_rel); }

 private:
  void Loop() EXCLUDES(mu_);

  ipc::Channel* const channel_;
  const Duration interval_;
  std::atomic<int> busy_{0};  // batches executing
  Mutex mu_;
  CondVar stop_cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace switchyard::worker
