#pragma once
// What happened to one model's requests: the statistics the KServe stats endpoint reports and
// the Prometheus metrics, recorded in one place. Recording is lock-free except for the
// per-batch-size table. Thread-safe.

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "metrics/metrics.h"
#include "switchyard/clock.h"
#include "switchyard/statistics.h"
#include "switchyard/status.h"

namespace switchyard {

class ModelStats {
 public:
  // Creates the model's metrics in `registry` (labelled model=<name>).
  ModelStats(std::string model_name, std::string version, metrics::Registry* registry);

  // A request refused or dropped before execution: queue full, deadline, cancelled,
  // unavailable (shutdown).
  void RecordDropped(StatusCode reason, Duration waited);
  // A request rejected before queueing because it did not match the model.
  void RecordInvalid();
  // A batch of `items` items executed in `compute` time.
  void RecordBatch(int64_t items, Duration compute);
  // A request that was executed, successfully or not.
  void RecordCompleted(bool success, int64_t items, Duration queue, Duration compute);
  void SetQueueDepth(std::size_t depth);
  void AddInflight(int64_t delta);
  // Requests executing now (the sum of AddInflight).
  int64_t inflight() const;

  // Per-instance metrics, labelled model, instance and device, and per-device totals (labelled
  // device; every model's instances on a device add to them). Instances are numbered in the
  // order they are added (the scheduler's instance order).
  // REQUIRES (AddInstance): called before the scheduler starts, from one thread.
  void AddInstance(const std::string& instance, const std::string& device);
  // REQUIRES (below): `index` < the number of instances added.
  void RecordInstanceBatch(std::size_t index, int64_t items, Duration compute);
  void AddInstanceInflight(std::size_t index, int64_t batches);
  void RecordInstanceRestart(std::size_t index);
  // A request requeued because its instance was lost.
  void RecordRetry();

  ModelStatistics Read() const;

 private:
  struct BatchRow {
    uint64_t count = 0;
    uint64_t ns = 0;
  };

  const std::string name_;
  const std::string version_;

  std::atomic<uint64_t> last_inference_ms_{0};
  std::atomic<uint64_t> inference_count_{0};
  std::atomic<uint64_t> execution_count_{0};
  std::atomic<uint64_t> success_count_{0}, success_ns_{0};
  std::atomic<uint64_t> fail_count_{0}, fail_ns_{0};
  std::atomic<uint64_t> queue_count_{0}, queue_ns_{0};
  std::atomic<uint64_t> compute_count_{0}, compute_ns_{0};

  mutable Mutex mu_;
  std::map<int64_t, BatchRow> batches_ GUARDED_BY(mu_);

  metrics::Counter* success_total_;
  metrics::Counter* failed_total_;
  metrics::Counter* invalid_total_;
  metrics::Counter* queue_full_total_;
  metrics::Counter* deadline_total_;
  metrics::Counter* cancelled_total_;
  metrics::Counter* unavailable_total_;
  metrics::Histogram* queue_seconds_;
  metrics::Histogram* compute_seconds_;
  metrics::Histogram* batch_size_;
  metrics::Gauge* queue_depth_;
  metrics::Gauge* inflight_;
  metrics::Counter* retries_total_;

  struct InstanceMetrics {
    metrics::Counter* batches;
    metrics::Counter* items;
    metrics::Counter* device_batches;  // shared by every instance on the same device
    metrics::Counter* device_items;
    metrics::Gauge* inflight_batches;
    metrics::Histogram* compute_seconds;
    metrics::Counter* restarts;
  };
  metrics::Registry* const registry_;
  std::vector<InstanceMetrics> instances_;  // fixed before the scheduler starts
};

}  // namespace switchyard
