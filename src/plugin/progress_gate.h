#pragma once
// Thins out a batch's progress reports (SyHostApi::request_progress) before they travel: per
// request, a report is let through when it is the first, when it says the request is done
// (fraction 1), or when kMinProgressInterval has passed since the last one let through. A
// backend that reports in a tight loop then costs its followers a few messages a second.
// Thread-safety: Admit from any thread.

#include <cstdint>
#include <optional>
#include <vector>

#include "core/mutex.h"
#include "switchyard/clock.h"

namespace switchyard::plugin {

inline constexpr Duration kMinProgressInterval = std::chrono::milliseconds(50);

class ProgressGate {
 public:
  // REQUIRES: `clock` outlives the gate.
  ProgressGate(std::size_t request_count, const Clock* clock)
      : clock_(clock), last_(request_count) {}

  // Whether a report of `fraction` for `request` goes through now (false for an index out of
  // range).
  bool Admit(uint32_t request, double fraction) EXCLUDES(mu_);

 private:
  const Clock* const clock_;
  Mutex mu_;
  std::vector<std::optional<TimePoint>> last_ GUARDED_BY(mu_);  // the last let through
};

}  // namespace switchyard::plugin
