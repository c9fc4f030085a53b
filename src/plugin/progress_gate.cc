#include "plugin/progress_gate.h"

namespace switchyard::plugin {

bool ProgressGate::Admit(uint32_t request, double fraction) {
  const TimePoint now = clock_->Now();
  MutexLock lock(&mu_);
  if (request >= last_.size()) return false;
  std::optional<TimePoint>& last = last_[request];
  if (last && fraction < 1 && now - *last < kMinProgressInterval) return false;
  last = now;
  return true;
}

}  // namespace switchyard::plugin
