#pragma once
// Tells the server that a worker lives while it executes a batch. The thread that answers the
// server's pings is the one that executes batches (for the fewest wake-ups per batch), so during
// a batch of minutes it answers nothing; this thread of its own sends an unsolicited Pong
// (sequence 0) every `interval` while a batch executes. Liveness is thus told apart from
// execution: a stopped or dead worker still falls silent, a long batch does not.
//
// Thread-safety: Begin and End from the executing thread; the heartbeat runs on its own thread.

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

  // A batch starts / ends executing. Atomic stores: no system call on the batch's path.
  void Begin() { busy_.store(true, std::memory_order_release); }
  void End() { busy_.store(false, std::memory_order_release); }

 private:
  void Loop() EXCLUDES(mu_);

  ipc::Channel* const channel_;
  const Duration interval_;
  std::atomic<bool> busy_{false};
  Mutex mu_;
  CondVar stop_cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace switchyard::worker
