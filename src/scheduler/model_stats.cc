#include "scheduler/model_stats.h"

#include <chrono>

namespace switchyard {
namespace {

uint64_t Ns(Duration d) { return d.count() > 0 ? static_cast<uint64_t>(d.count()) : 0; }
double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

const std::vector<double>& LatencyBuckets() {
  static const auto buckets = metrics::ExponentialBuckets(50e-6, 2, 18);  // 50 µs .. ~6.5 s
  return buckets;
}

uint64_t WallMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

ModelStats::ModelStats(std::string model_name, std::string version, metrics::Registry* registry)
    : name_(std::move(model_name)), version_(std::move(version)), registry_(registry) {
  auto outcome = [&](const char* value) {
    return registry->GetCounter("switchyard_requests_total",
                                "Inference requests by model and outcome.",
                                {{"model", name_}, {"outcome", value}});
  };
  success_total_ = outcome("success");
  failed_total_ = outcome("failed");
  invalid_total_ = outcome("invalid");
  queue_full_total_ = outcome("queue_full");
  deadline_total_ = outcome("deadline");
  cancelled_total_ = outcome("cancelled");
  unavailable_total_ = outcome("unavailable");
  const auto& latency_buckets = LatencyBuckets();
  queue_seconds_ = registry->GetHistogram("switchyard_queue_duration_seconds",
                                          "Time requests waited in the model queue.",
                                          {{"model", name_}}, latency_buckets);
  compute_seconds_ = registry->GetHistogram("switchyard_compute_duration_seconds",
                                            "Time the batch holding a request took to execute.",
                                            {{"model", name_}}, latency_buckets);
  batch_size_ = registry->GetHistogram("switchyard_batch_size", "Items per executed batch.",
                                       {{"model", name_}}, metrics::ExponentialBuckets(1, 2, 10));
  queue_depth_ = registry->GetGauge("switchyard_queue_depth", "Requests waiting in the queue.",
                                    {{"model", name_}});
  retries_total_ = registry->GetCounter(
      "switchyard_request_retries_total",
      "Requests requeued once because the instance executing them was lost.", {{"model", name_}});
  inflight_ = registry->GetGauge("switchyard_inflight_requests",
                                 "Requests executing on an instance.", {{"model", name_}});
}

void ModelStats::RecordDropped(StatusCode reason, Duration waited) {
  switch (reason) {
    case StatusCode::kResourceExhausted:
      queue_full_total_->Increment();
      break;
    case StatusCode::kDeadlineExceeded:
      deadline_total_->Increment();
      break;
    case StatusCode::kCancelled:
      cancelled_total_->Increment();
      break;
    default:
      unavailable_total_->Increment();
      break;
  }
  fail_count_.fetch_add(1, std::memory_order_relaxed);
  fail_ns_.fetch_add(Ns(waited), std::memory_order_relaxed);
}

void ModelStats::RecordInvalid() { invalid_total_->Increment(); }

void ModelStats::RecordBatch(int64_t items, Duration compute) {
  execution_count_.fetch_add(1, std::memory_order_relaxed);
  batch_size_->Observe(static_cast<double>(items));
  MutexLock lock(&mu_);
  BatchRow& row = batches_[items];
  row.count += 1;
  row.ns += Ns(compute);
}

void ModelStats::RecordCompleted(bool success, int64_t items, Duration queue, Duration compute) {
  uint64_t total_ns = Ns(queue) + Ns(compute);
  if (success) {
    success_total_->Increment();
    success_count_.fetch_add(1, std::memory_order_relaxed);
    success_ns_.fetch_add(total_ns, std::memory_order_relaxed);
    inference_count_.fetch_add(static_cast<uint64_t>(items), std::memory_order_relaxed);
    last_inference_ms_.store(WallMillis(), std::memory_order_relaxed);
  } else {
    failed_total_->Increment();
    fail_count_.fetch_add(1, std::memory_order_relaxed);
    fail_ns_.fetch_add(total_ns, std::memory_order_relaxed);
  }
  queue_count_.fetch_add(1, std::memory_order_relaxed);
  queue_ns_.fetch_add(Ns(queue), std::memory_order_relaxed);
  compute_count_.fetch_add(1, std::memory_order_relaxed);
  compute_ns_.fetch_add(Ns(compute), std::memory_order_relaxed);
  queue_seconds_->Observe(Seconds(queue));
  compute_seconds_->Observe(Seconds(compute));
}

void ModelStats::SetQueueDepth(std::size_t depth) { queue_depth_->Set(static_cast<double>(depth)); }

void ModelStats::AddInflight(int64_t delta) { inflight_->Add(static_cast<double>(delta)); }

int64_t ModelStats::inflight() const { return static_cast<int64_t>(inflight_->value()); }

void ModelStats::AddInstance(const std::string& instance, const std::string& device) {
  metrics::Labels labels = {{"model", name_}, {"instance", instance}, {"device", device}};
  instances_.push_back(InstanceMetrics{
      .batches = registry_->GetCounter("switchyard_instance_batches_total",
                                       "Batches an instance executed.", labels),
      .items = registry_->GetCounter("switchyard_instance_items_total",
                                     "Batch items an instance executed.", labels),
      .device_batches =
          registry_->GetCounter("switchyard_device_batches_total",
                                "Batches executed on a device, all models.", {{"device", device}}),
      .device_items = registry_->GetCounter("switchyard_device_items_total",
                                            "Batch items executed on a device, all models.",
                                            {{"device", device}}),
      .inflight_batches = registry_->GetGauge("switchyard_instance_inflight_batches",
                                              "Batches in flight on an instance.", labels),
      .compute_seconds =
          registry_->GetHistogram("switchyard_instance_compute_duration_seconds",
                                  "Time an instance took per batch.", labels, LatencyBuckets()),
      .restarts =
          registry_->GetCounter("switchyard_instance_restarts_total",
                                "Times an instance's worker process was restarted.", labels),
  });
}

void ModelStats::RecordInstanceRestart(std::size_t index) {
  instances_[index].restarts->Increment();
}

void ModelStats::RecordRetry() { retries_total_->Increment(); }

void ModelStats::RecordInstanceBatch(std::size_t index, int64_t items, Duration compute) {
  InstanceMetrics& m = instances_[index];
  m.batches->Increment();
  m.items->Increment(static_cast<uint64_t>(items));
  m.device_batches->Increment();
  m.device_items->Increment(static_cast<uint64_t>(items));
  m.compute_seconds->Observe(Seconds(compute));
}

void ModelStats::AddInstanceInflight(std::size_t index, int64_t batches) {
  instances_[index].inflight_batches->Add(static_cast<double>(batches));
}

ModelStatistics ModelStats::Read() const {
  auto load = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  ModelStatistics s;
  s.name = name_;
  s.version = version_;
  s.last_inference_ms = load(last_inference_ms_);
  s.inference_count = load(inference_count_);
  s.execution_count = load(execution_count_);
  s.inference_stats.success = {load(success_count_), load(success_ns_)};
  s.inference_stats.fail = {load(fail_count_), load(fail_ns_)};
  s.inference_stats.queue = {load(queue_count_), load(queue_ns_)};
  s.inference_stats.compute_infer = {load(compute_count_), load(compute_ns_)};
  MutexLock lock(&mu_);
  for (const auto& [size, row] : batches_) {
    BatchStatistics b;
    b.batch_size = static_cast<uint64_t>(size);
    b.compute_infer = {row.count, row.ns};
    s.batch_stats.push_back(b);
  }
  return s;
}

}  // namespace switchyard
