#include "supervisor/supervision.h"

#include <algorithm>

namespace switchyard {

void WorkerSupervision::WorkerReady(TimePoint now) {
  last_heard_ = now;
  backoff_ = options_.restart_backoff;
  failed_restarts_ = 0;
}

WorkerSupervision::Verdict WorkerSupervision::Check(TimePoint now, bool stopped) {
  Verdict verdict = Verdict::kAlive;
  if (stopped) {
    verdict = Verdict::kStopped;
  } else if (now - last_heard_ > options_.heartbeat_timeout) {
    verdict = Verdict::kSilent;
  }
  if (verdict != Verdict::kAlive) last_heard_ = now;
  return verdict;
}

WorkerSupervision::AfterFailedStart WorkerSupervision::StartFailed(TimePoint now, bool transient) {
  backoff_ = std::min(backoff_ * 2, options_.max_restart_backoff);
  restart_at_ = now + backoff_;
  if (!transient && ++failed_restarts_ >= options_.max_failed_restarts) {
    return AfterFailedStart::kGiveUp;
  }
  return AfterFailedStart::kRetry;
}

}  // namespace switchyard
