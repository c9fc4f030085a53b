#pragma once
// A snapshot of what the server is doing: devices, instances and queues. What the dashboard
// and load balancers read (GET /v2/status, GET /v2/devices).

#include <cstdint>
#include <string>
#include <vector>

namespace switchyard {

struct InstanceStatus {
  std::string name;    // "model/index"
  std::string device;  // "cpu", "GPU0", or "GPU0+GPU1" for an instance spanning GPUs
  // "READY" | "RESTARTING" (its worker died) | "FAILED" (gave up) | "DRAINED" (on a failed GPU;
  // `drained` says why) | ...
  std::string state;
  std::string isolation;   // "process" | "thread"
  long pid = 0;            // its worker process, 0 in process or while none runs
  int restarts = 0;        // worker restarts
  std::string last_error;  // why it last went down
  std::string drained;     // why it takes no batches, e.g. "GPU1 failed: ..."; empty if it may
  // Worker processes: input bytes copied into shared-memory slots, and those read where the
  // request bodies were received in shared memory (no copy). Cumulative; 0 in process.
  uint64_t input_bytes_copied = 0;
  uint64_t input_bytes_in_place = 0;
  // Worker processes: output bytes copied out of slots, and those written to clients from where
  // the worker wrote them (its output pool). Cumulative; 0 in process.
  uint64_t output_bytes_copied = 0;
  uint64_t output_bytes_in_place = 0;
  // Worker processes: batches the worker answered and the microseconds their backend execute
  // took there, as the worker timed it. Cumulative; 0 in process.
  uint64_t backend_batches = 0;
  uint64_t backend_execute_us = 0;
  int inflight_batches = 0;
  int64_t outstanding_items = 0;  // items in its in-flight batches
  uint64_t batches = 0;           // executed
  uint64_t items = 0;             // executed
  double average_batch_ms = 0;    // EWMA of its batch service time over batch sizes
};

struct ModelStatus {
  std::string name;
  int64_t version = 0;
  std::string state;   // READY | LOADING | UNAVAILABLE
  std::string reason;  // why it is not ready
  std::string routing;
  int max_batch_size = 0;
  // Device memory one instance needs on each GPU it spans, MiB, as placement took it, and where
  // that figure came from: "declared" (instances.vram_mb), "measured" (by its first instance
  // after load and warm-up at max batch), "estimated" (vram_mb: measure, known from the config:
  // the sim backend in process), "unknown" (vram_mb: measure, not knowable: planned as 0; or the
  // model failed to load), or "cpu" (it runs on CPU instances; vram_need_mb 0).
  int64_t vram_need_mb = 0;
  std::string vram_need = "cpu";
  std::vector<InstanceStatus> instances;
  std::vector<uint64_t> queue_depth_by_priority;  // index 0 is priority 1 (highest)
  int queue_max_size = 0;
  double oldest_wait_ms = 0;  // of the requests still queued
};

struct DeviceStatus {
  int index = 0;
  std::string uuid;
  std::string name;
  bool simulated = false;
  double speed = 1;
  int64_t total_mb = 0;
  int64_t used_by_others_mb = 0;  // at startup
  int64_t reserve_mb = 0;
  int64_t planned_mb = 0;  // what the placement gave the instances on it
  std::vector<std::string> instances;
  // From the latest telemetry (NVML, or the simulated devices' spec): "healthy", "degraded" or
  // "failed" (its instances are drained), and why when not healthy.
  std::string health = "healthy";
  std::string health_detail;
};

struct ServerStatus {
  bool live = true;
  bool ready = false;
  std::vector<DeviceStatus> devices;
  std::vector<ModelStatus> models;
};

}  // namespace switchyard
