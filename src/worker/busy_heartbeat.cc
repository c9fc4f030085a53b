#include "worker/busy_heartbeat.h"

#include "core/thread_name.h"
#include "ipc/messages.h"

namespace switchyard::worker {

BusyHeartbeat::BusyHeartbeat(ipc::Channel* channel, Duration interval)
    : channel_(channel), interval_(interval), thread_([this] {
        NameThisThread("sy-heartbeat");
        Loop();
      }) {}

BusyHeartbeat::~BusyHeartbeat() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  stop_cv_.SignalAll();
  thread_.join();
}

void BusyHeartbeat::Loop() {
  MutexLock lock(&mu_);
  while (!stop_) {
    stop_cv_.WaitFor(&mu_, interval_);
    if (stop_ || busy_.load(std::memory_order_acquire) == 0) continue;
    mu_.Unlock();
    // A failure means the server is gone; the executing thread finds out when it answers.
    (void)channel_->Send(ipc::Encode(ipc::Pong{.sequence = 0}));
    mu_.Lock();
  }
}

}  // namespace switchyard::worker
