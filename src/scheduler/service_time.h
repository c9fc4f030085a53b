#pragma once
// An instance's measured batch service time, by batch size: an exponentially weighted moving
// average per size, so `fastest` routing can predict when each instance would finish a batch.
// Not thread-safe: the scheduler guards it.

#include <cstdint>
#include <map>

#include "switchyard/clock.h"

namespace switchyard {

class ServiceTimeEstimate {
 public:
  ServiceTimeEstimate() = default;
  // `alpha`: weight of the newest sample, in (0, 1].
  explicit ServiceTimeEstimate(double alpha) : alpha_(alpha) {}

  void Record(int64_t batch_items, Duration took);

  // The EWMA for `batch_items`; for an unseen size, linear inter- or extrapolation between two
  // measured sizes (the only one if there is one). Zero before any sample (an untried instance
  // looks fastest, so every instance gets measured).
  Duration Estimate(int64_t batch_items) const;

  bool empty() const { return by_size_.empty(); }
  // The per-size EWMAs averaged, weighted by their samples (for status pages); zero if none.
  Duration Average() const;

 private:
  struct Entry {
    double ns = 0;
    uint64_t samples = 0;
  };
  double alpha_ = 0.2;
  std::map<int64_t, Entry> by_size_;
};

}  // namespace switchyard
