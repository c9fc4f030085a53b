#include "bench/latency_histogram.h"

#include <gtest/gtest.h>

namespace switchyard::bench {
namespace {

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.Mean(), 0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.50), 50u);
  EXPECT_EQ(h.Percentile(0.90), 90u);
  EXPECT_EQ(h.Percentile(0.99), 99u);
  EXPECT_EQ(h.Percentile(1.0), 100u);
  EXPECT_EQ(h.Percentile(0.0), 1u);
  EXPECT_DOUBLE_EQ(h.Mean(), 50.5);
}

TEST(LatencyHistogramTest, LargeValuesWithinOnePercent) {
  LatencyHistogram h;
  // 1..100000 µs in ns: percentile p is p * 1e8 ns.
  for (uint64_t us = 1; us <= 100000; ++us) h.Record(us * 1000);
  for (double p : {0.5, 0.9, 0.99, 0.999}) {
    double expected = p * 1e8;
    double got = static_cast<double>(h.Percentile(p));
    EXPECT_GE(got, expected) << p;  // the bucket's upper bound, never below
    EXPECT_LE(got, expected * 1.01) << p;
  }
  EXPECT_EQ(h.max(), 100000000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.Percentile(1.0), h.max());
}

TEST(LatencyHistogramTest, SkewedDistribution) {
  LatencyHistogram h;
  for (int i = 0; i < 990; ++i) h.Record(20000);
  for (int i = 0; i < 10; ++i) h.Record(5000000);
  EXPECT_GE(h.Percentile(0.50), 20000u);
  EXPECT_LE(h.Percentile(0.50), 20200u);
  EXPECT_EQ(h.Percentile(0.99), h.Percentile(0.50));
  EXPECT_EQ(h.Percentile(0.991), 5000000u);  // the top bucket is clamped to the exact max
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverything) {
  LatencyHistogram a, b, all;
  for (uint64_t v = 1; v < 5000; v += 7) {
    a.Record(v * 311);
    all.Record(v * 311);
  }
  for (uint64_t v = 1; v < 3000; v += 3) {
    b.Record(v * 977);
    all.Record(v * 977);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double p : {0.1, 0.5, 0.9, 0.99}) EXPECT_EQ(a.Percentile(p), all.Percentile(p)) << p;
}

TEST(LatencyHistogramTest, HugeValuesAreClamped) {
  LatencyHistogram h;
  h.Record(UINT64_MAX);
  EXPECT_EQ(h.max(), (uint64_t{1} << LatencyHistogram::kMaxBits) - 1);
  EXPECT_EQ(h.Percentile(0.5), h.max());
}

}  // namespace
}  // namespace switchyard::bench
