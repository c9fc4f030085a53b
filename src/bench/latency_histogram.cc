#include "bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace switchyard::bench {
namespace {

constexpr uint64_t kSubCount = uint64_t{1} << LatencyHistogram::kSubBits;
constexpr uint64_t kMaxValue = (uint64_t{1} << LatencyHistogram::kMaxBits) - 1;
// Exact buckets [0, kSubCount), then kSubCount buckets per power of two from 2^kSubBits up.
constexpr std::size_t kBucketCount =
    kSubCount * (1 + LatencyHistogram::kMaxBits - LatencyHistogram::kSubBits);

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

std::size_t LatencyHistogram::BucketOf(uint64_t value) {
  if (value < kSubCount) return value;
  int shift = std::bit_width(value) - 1 - kSubBits;  // >= 0
  uint64_t sub = (value >> shift) - kSubCount;       // in [0, kSubCount)
  return static_cast<std::size_t>((shift + 1) * kSubCount + sub);
}

uint64_t LatencyHistogram::UpperBoundOf(std::size_t bucket) {
  if (bucket < kSubCount) return bucket;
  int shift = static_cast<int>(bucket / kSubCount) - 1;
  uint64_t sub = bucket % kSubCount;
  return ((kSubCount + sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(uint64_t value) {
  value = std::min(value, kMaxValue);
  ++buckets_[BucketOf(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double LatencyHistogram::Mean() const {
  return count_ == 0 ? 0 : sum_ / static_cast<double>(count_);
}

uint64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(UpperBoundOf(i), min(), max_);
  }
  return max_;
}

}  // namespace switchyard::bench
