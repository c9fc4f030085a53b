#pragma once
// A log-bucketed latency histogram in the manner of HdrHistogram: values below 2^kSubBits are
// exact; above, each power of two is split into 2^kSubBits buckets, so a reported percentile is
// within 1/2^kSubBits (< 1 %) of the true value. Fixed memory (~36 KiB), O(1) Record.
//
// Not thread-safe: the load generator keeps one per client thread and merges them.

#include <cstdint>
#include <vector>

namespace switchyard::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  // Records one value (any unit; the load generator uses ns). Values >= 2^kMaxBits are clamped.
  void Record(uint64_t value);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  // 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double Mean() const;

  // The smallest recorded value v such that at least fraction `p` of the values are <= v, up to
  // bucket resolution (the bucket's upper bound, never above max()). 0 when empty.
  // REQUIRES: 0 <= p <= 1
  uint64_t Percentile(double p) const;

  static constexpr int kSubBits = 7;
  static constexpr int kMaxBits = 44;  // ~4.9 hours in ns

 private:
  static std::size_t BucketOf(uint64_t value);
  static uint64_t UpperBoundOf(std::size_t bucket);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace switchyard::bench
