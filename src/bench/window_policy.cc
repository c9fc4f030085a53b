#include "bench/window_policy.h"

#include <algorithm>
#include <cmath>

namespace switchyard::bench {

bool WindowsAgree(double a, double b, double tolerance) {
  return std::abs(a - b) <= tolerance * std::max(a, b);
}

StabilityTracker::Decision StabilityTracker::AddWindow(double throughput) {
  throughputs_.push_back(throughput);
  std::size_t n = throughputs_.size();
  if (n >= 2 && WindowsAgree(throughputs_[n - 2], throughputs_[n - 1], tolerance_)) {
    return Decision::kStable;
  }
  if (n >= static_cast<std::size_t>(max_windows_)) return Decision::kUnstable;
  return Decision::kContinue;
}

}  // namespace switchyard::bench
