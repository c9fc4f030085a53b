#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace switchyard::metrics {
namespace {

TEST(MetricsTest, ExpositionOfCounterGaugeAndHistogram) {
  Registry registry;
  registry.GetCounter("requests_total", "Requests.", {{"model", "a"}, {"code", "200"}})
      ->Increment(3);
  registry.GetCounter("requests_total", "Requests.", {{"model", "a"}, {"code", "500"}})
      ->Increment();
  registry.GetGauge("queue_depth", "Queue depth.", {{"model", "b"}})->Set(2.5);
  registry.GetGauge("uptime_seconds", "Uptime.")->Set(12);
  Histogram* latency =
      registry.GetHistogram("latency_seconds", "Latency.", {{"model", "a"}}, {0.25, 1});
  latency->Observe(0.25);  // `le` includes the bound
  latency->Observe(0.5);
  latency->Observe(4);

  EXPECT_EQ(registry.ExpositionText(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{model=\"a\",le=\"0.25\"} 1\n"
            "latency_seconds_bucket{model=\"a\",le=\"1\"} 2\n"
            "latency_seconds_bucket{model=\"a\",le=\"+Inf\"} 3\n"
            "latency_seconds_sum{model=\"a\"} 4.75\n"
            "latency_seconds_count{model=\"a\"} 3\n"
            "# HELP queue_depth Queue depth.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth{model=\"b\"} 2.5\n"
            "# HELP requests_total Requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total{code=\"200\",model=\"a\"} 3\n"
            "requests_total{code=\"500\",model=\"a\"} 1\n"
            "# HELP uptime_seconds Uptime.\n"
            "# TYPE uptime_seconds gauge\n"
            "uptime_seconds 12\n");
}

TEST(MetricsTest, EmptyRegistryRendersNothing) {
  Registry registry;
  EXPECT_EQ(registry.ExpositionText(), "");
}

TEST(MetricsTest, UnlabelledHistogram) {
  Registry registry;
  registry.GetHistogram("h", "H.", {}, {1})->Observe(0.5);
  EXPECT_EQ(registry.ExpositionText(),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_sum 0.5\n"
            "h_count 1\n");
}

TEST(MetricsTest, SameNameAndLabelsReturnSameObject) {
  Registry registry;
  Counter* a = registry.GetCounter("c", "C.", {{"x", "1"}, {"y", "2"}});
  EXPECT_EQ(registry.GetCounter("c", "C.", {{"x", "1"}, {"y", "2"}}), a);
  EXPECT_EQ(registry.GetCounter("c", "C.", {{"y", "2"}, {"x", "1"}}), a);  // order is irrelevant
  EXPECT_NE(registry.GetCounter("c", "C.", {{"x", "1"}, {"y", "3"}}), a);
  EXPECT_NE(registry.GetCounter("c", "C."), a);
  Gauge* g = registry.GetGauge("g", "G.", {{"x", "1"}});
  EXPECT_EQ(registry.GetGauge("g", "G.", {{"x", "1"}}), g);
  Histogram* h = registry.GetHistogram("h", "H.", {{"x", "1"}}, {1, 2});
  EXPECT_EQ(registry.GetHistogram("h", "H.", {{"x", "1"}}, {1, 2}), h);
}

TEST(MetricsTest, LaterHistogramsShareTheFamilyBuckets) {
  Registry registry;
  registry.GetHistogram("h", "H.", {{"m", "a"}}, {1, 2});
  Histogram* other = registry.GetHistogram("h", "H.", {{"m", "b"}}, {5});
  EXPECT_EQ(other->Read().upper_bounds, std::vector<double>({1, 2}));
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.GetCounter("c", "Back\\slash and\nnewline \"kept\".", {{"v", "a\\b\"c\nd"}})
      ->Increment();
  EXPECT_EQ(registry.ExpositionText(),
            "# HELP c Back\\\\slash and\\nnewline \"kept\".\n"
            "# TYPE c counter\n"
            "c{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsTest, NumbersAreWrittenAsPrometheusParsesThem) {
  Registry registry;
  registry.GetGauge("g", "G.", {{"k", "a"}})->Set(0.1);
  registry.GetGauge("g", "G.", {{"k", "b"}})->Set(1e20);
  registry.GetGauge("g", "G.", {{"k", "c"}})->Set(-INFINITY);
  registry.GetGauge("g", "G.", {{"k", "d"}})->Set(NAN);
  registry.GetGauge("g", "G.", {{"k", "e"}})->Set(-3);
  EXPECT_EQ(registry.ExpositionText(),
            "# HELP g G.\n"
            "# TYPE g gauge\n"
            "g{k=\"a\"} 0.1\n"
            "g{k=\"b\"} 1e+20\n"
            "g{k=\"c\"} -Inf\n"
            "g{k=\"d\"} NaN\n"
            "g{k=\"e\"} -3\n");
}

TEST(MetricsTest, GaugeAddsAndSubtracts) {
  Gauge gauge;
  gauge.Add(2.5);
  gauge.Add(-1);
  EXPECT_EQ(gauge.value(), 1.5);
  gauge.Set(-4);
  EXPECT_EQ(gauge.value(), -4);
}

TEST(MetricsTest, HistogramSnapshotIsCumulative) {
  Histogram histogram({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 3.0, 8.0, 9.0}) histogram.Observe(v);
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_EQ(snapshot.upper_bounds, std::vector<double>({1, 2, 4}));
  EXPECT_EQ(snapshot.cumulative_counts, std::vector<uint64_t>({2, 3, 4, 6}));
  EXPECT_EQ(snapshot.count, 6u);
  EXPECT_EQ(snapshot.sum, 23.0);
}

TEST(MetricsTest, HistogramCountsNanOnlyInInf) {
  Histogram histogram({1});
  histogram.Observe(NAN);
  EXPECT_EQ(histogram.Read().cumulative_counts, std::vector<uint64_t>({0, 1}));
}

TEST(MetricsTest, ExponentialBuckets) {
  EXPECT_EQ(ExponentialBuckets(0.5, 2, 4), std::vector<double>({0.5, 1, 2, 4}));
}

TEST(MetricsTest, ConcurrentUpdatesSumCorrectly) {
  Registry registry;
  constexpr int kThreads = 4;
  constexpr int kIterations = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry] {
      // Every thread creates the metrics too, racing on the registry.
      Counter* counter = registry.GetCounter("c", "C.", {{"m", "x"}});
      Gauge* gauge = registry.GetGauge("g", "G.");
      Histogram* histogram = registry.GetHistogram("h", "H.", {}, {1});
      for (int i = 0; i < kIterations; ++i) {
        counter->Increment();
        gauge->Add(1);
        histogram->Observe(i % 2 == 0 ? 0.5 : 2.0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(registry.GetCounter("c", "C.", {{"m", "x"}})->value(), kThreads * kIterations);
  EXPECT_EQ(registry.GetGauge("g", "G.")->value(), kThreads * kIterations);
  const Histogram::Snapshot snapshot = registry.GetHistogram("h", "H.", {}, {1})->Read();
  EXPECT_EQ(snapshot.count, uint64_t{kThreads * kIterations});
  EXPECT_EQ(snapshot.cumulative_counts[0], uint64_t{kThreads * kIterations / 2});
  EXPECT_EQ(snapshot.sum, 1.25 * kThreads * kIterations);
}

TEST(MetricsDeathTest, MisuseIsACheckedError) {
  Registry registry;
  registry.GetCounter("c", "C.");
  EXPECT_DEATH(registry.GetGauge("c", "C."), "registered as counter");
  EXPECT_DEATH(registry.GetCounter("bad-name", "B."), "invalid metric name");
  EXPECT_DEATH(registry.GetCounter("ok", "O.", {{"bad label", "v"}}), "invalid label name");
  EXPECT_DEATH(registry.GetHistogram("h", "H.", {{"le", "1"}}, {1}), "reserve");
  EXPECT_DEATH(Histogram({2, 1}), "ascend");
}

}  // namespace
}  // namespace switchyard::metrics
