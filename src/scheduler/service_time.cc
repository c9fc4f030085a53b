#include "scheduler/service_time.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace switchyard {

void ServiceTimeEstimate::Record(int64_t batch_items, Duration took) {
  Entry& entry = by_size_[batch_items];
  auto ns = static_cast<double>(took.count());
  entry.ns = entry.samples == 0 ? ns : alpha_ * ns + (1 - alpha_) * entry.ns;
  ++entry.samples;
}

Duration ServiceTimeEstimate::Estimate(int64_t batch_items) const {
  if (by_size_.empty()) return Duration(0);
  auto exact = by_size_.find(batch_items);
  if (exact != by_size_.end()) return Duration(static_cast<Duration::rep>(exact->second.ns));
  if (by_size_.size() == 1) {
    return Duration(static_cast<Duration::rep>(by_size_.begin()->second.ns));
  }
  // The line through the two measured sizes that bracket `batch_items`, or the two nearest
  // on one side when it lies outside them (batch time is close to a + b·n).
  auto hi = by_size_.upper_bound(batch_items);
  if (hi == by_size_.begin()) ++hi;
  if (hi == by_size_.end()) --hi;
  auto lo = std::prev(hi);
  double slope = (hi->second.ns - lo->second.ns) / static_cast<double>(hi->first - lo->first);
  double ns = lo->second.ns + slope * static_cast<double>(batch_items - lo->first);
  return Duration(static_cast<Duration::rep>(std::llround(std::max(0.0, ns))));
}

Duration ServiceTimeEstimate::Average() const {
  double total = 0;
  uint64_t samples = 0;
  for (const auto& [size, entry] : by_size_) {
    total += entry.ns * static_cast<double>(entry.samples);
    samples += entry.samples;
  }
  return samples == 0 ? Duration(0)
                      : Duration(static_cast<Duration::rep>(total / static_cast<double>(samples)));
}

}  // namespace switchyard
