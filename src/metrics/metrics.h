#pragma once
// Metrics: counters, gauges and histograms with labels, exposed in the Prometheus text format.
// Updating a metric is lock-free (atomics); only creating one and rendering take a lock.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Monotonic count. Thread-safe.
class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Thread-safe.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative-bucket histogram (Prometheus semantics: `le` upper bounds plus +Inf). Thread-safe.
class Histogram {
 public:
  // REQUIRES: `upper_bounds` ascending, non-empty.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;  // non-cumulative; last is +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Exponential bucket bounds: start, start*factor, ... (`count` bounds).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// Owns every metric. Metrics are created on first Get and live as long as the registry, so the
// returned pointers may be cached. Getting the same name and labels again returns the same
// object; label order does not matter (series are kept and written with labels sorted by name).
// Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* (not starting
// with "__"; "le" is reserved for histograms); label values are escaped on output. Misuse (an
// invalid name, one name requested as two metric types) aborts: it is a programming error.
// A family's HELP text is the one given when it was created. Thread-safe.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter* GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge* GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  // `upper_bounds` is used when the family is first created; later calls share its buckets.
  Histogram* GetHistogram(std::string_view name, std::string_view help, const Labels& labels,
                          const std::vector<double>& upper_bounds);

  // The Prometheus text exposition format (version 0.0.4): families sorted by name, each with
  // its # HELP and # TYPE lines.
  std::string ExpositionText() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace switchyard::metrics
