#pragma once
// What a GPU is doing now: utilisation, memory, temperature, power, clock throttling and health,
// as one immutable snapshot of every device, and its export as Prometheus gauges.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devices/device.h"
#include "metrics/metrics.h"
#include "switchyard/clock.h"

namespace switchyard {

// How usable a GPU is.
enum class GpuHealth {
  kHealthy,
  // Works, but needs attention soon: uncorrected ECC errors since the driver loaded, a retired
  // page or remapped row pending (takes effect at the next GPU reset), or a reading that failed.
  kDegraded,
  // Unusable until an operator acts: NVML reports the GPU lost or needing a reset, or a row
  // remapping failed. Work should not be placed or routed there.
  kFailed,
};

// "healthy", "degraded", "failed".
const char* GpuHealthName(GpuHealth health);

// One GPU's readings. Optional fields are empty when the driver cannot report them (function
// missing from the library, NOT_SUPPORTED on this GPU, or the query failed).
struct GpuTelemetry {
  int index = 0;  // server index (Device::index)
  std::string uuid;
  std::optional<double> utilization_ratio;         // kernel-busy time, 0..1, last sample period
  std::optional<double> memory_utilization_ratio;  // memory-controller busy time, 0..1
  std::optional<uint64_t> memory_total_bytes;
  std::optional<uint64_t> memory_used_bytes;  // by every process, switchyard's workers included
  std::optional<uint64_t> memory_free_bytes;
  std::optional<double> temperature_celsius;
  std::optional<double> power_watts;
  // NVML clocks throttle (event) reason bits: nvmlClocksThrottleReason* in devices/nvml_api.h.
  std::optional<uint64_t> throttle_reasons;
  std::optional<uint64_t> ecc_uncorrected_volatile;  // uncorrected ECC errors since driver load
  GpuHealth health = GpuHealth::kHealthy;
  // Why health is not kHealthy, "; "-separated; empty when healthy.
  std::string health_detail;
};

// Every device's readings from one poll. Immutable once published; shared across threads.
struct DeviceTelemetry {
  uint64_t sequence = 0;              // 0 for the snapshot taken at start, +1 each poll after
  TimePoint taken_at{};               // from the manager's Clock
  std::vector<GpuTelemetry> devices;  // one per device, in index order
};

// What simulated GPUs report: every reading empty, health kHealthy, or kFailed for a device
// with Device::simulated_failed (detail "simulated failure (--simulate-gpus health=failed)").
// Sequence 0, taken at `now`; one entry per device, in index order.
DeviceTelemetry SimulatedTelemetry(const std::vector<Device>& devices, TimePoint now);

// Per device index (0..device_count-1), why work must not run there: "GPU<i> failed: <detail>"
// when its health is kFailed, else empty. Devices the snapshot does not list count as healthy.
std::vector<std::string> FailedDeviceReasons(const DeviceTelemetry& telemetry,
                                             std::size_t device_count);

// The throttle reasons as comma-separated names ("sw_power_cap,hw_thermal_slowdown"); "none" for
// 0; unknown bits as one hex number ("0x8000000000000000"). "idle" only means the GPU is idle.
std::string ThrottleReasonNames(uint64_t reasons);

// Sets, per GPU (labels device="GPU<index>", uuid="GPU-..."), the gauges
//   switchyard_gpu_utilization_ratio      0..1
//   switchyard_gpu_memory_used_bytes
//   switchyard_gpu_memory_total_bytes
//   switchyard_gpu_power_watts
//   switchyard_gpu_temperature_celsius
//   switchyard_gpu_healthy                1 healthy, 0 degraded or failed
// A reading that is absent leaves its gauge as it was (and does not create it). Thread-safe
// (the registry is).
void ExportGpuMetrics(const DeviceTelemetry& telemetry, metrics::Registry* registry);

}  // namespace switchyard
