#include "devices/device_telemetry.h"

#include <utility>

#include "fmt/format.h"

namespace switchyard {

const char* GpuHealthName(GpuHealth health) {
  switch (health) {
    case GpuHealth::kHealthy:
      return "healthy";
    case GpuHealth::kDegraded:
      return "degraded";
    case GpuHealth::kFailed:
      return "failed";
  }
  return "unknown";
}

DeviceTelemetry SimulatedTelemetry(const std::vector<Device>& devices, TimePoint now) {
  DeviceTelemetry telemetry{.sequence = 0, .taken_at = now};
  for (const Device& device : devices) {
    GpuTelemetry gpu{.index = device.index, .uuid = device.uuid};
    if (device.simulated_failed) {
      gpu.health = GpuHealth::kFailed;
      gpu.health_detail = "simulated failure (--simulate-gpus health=failed)";
    }
    telemetry.devices.push_back(std::move(gpu));
  }
  return telemetry;
}

std::vector<std::string> FailedDeviceReasons(const DeviceTelemetry& telemetry,
                                             std::size_t device_count) {
  std::vector<std::string> reasons(device_count);
  for (const GpuTelemetry& gpu : telemetry.devices) {
    if (gpu.health != GpuHealth::kFailed || gpu.index < 0 ||
        static_cast<std::size_t>(gpu.index) >= device_count) {
      continue;
    }
    reasons[static_cast<std::size_t>(gpu.index)] =
        gpu.health_detail.empty() ? fmt::format("GPU{} failed", gpu.index)
                                  : fmt::format("GPU{} failed: {}", gpu.index, gpu.health_detail);
  }
  return reasons;
}

std::string ThrottleReasonNames(uint64_t reasons) {
  if (reasons == 0) return "none";
  static constexpr std::pair<uint64_t, const char*> kNames[] = {
      {0x1, "idle"},
      {0x2, "applications_clocks"},
      {0x4, "sw_power_cap"},
      {0x8, "hw_slowdown"},
      {0x10, "sync_boost"},
      {0x20, "sw_thermal_slowdown"},
      {0x40, "hw_thermal_slowdown"},
      {0x80, "hw_power_brake_slowdown"},
      {0x100, "display_clocks"},
  };
  std::string text;
  uint64_t unknown = reasons;
  for (const auto& [bit, name] : kNames) {
    if ((reasons & bit) == 0) continue;
    unknown &= ~bit;
    if (!text.empty()) text += ',';
    text += name;
  }
  if (unknown != 0) {
    if (!text.empty()) text += ',';
    text += fmt::format("{:#x}", unknown);
  }
  return text;
}

void ExportGpuMetrics(const DeviceTelemetry& telemetry, metrics::Registry* registry) {
  for (const GpuTelemetry& gpu : telemetry.devices) {
    const metrics::Labels labels = {{"device", fmt::format("GPU{}", gpu.index)},
                                    {"uuid", gpu.uuid}};
    auto set = [&](const char* name, const char* help, std::optional<double> value) {
      if (value.has_value()) registry->GetGauge(name, help, labels)->Set(*value);
    };
    auto bytes = [](std::optional<uint64_t> value) -> std::optional<double> {
      if (!value.has_value()) return std::nullopt;
      return static_cast<double>(*value);
    };
    set("switchyard_gpu_utilization_ratio",
        "Fraction of the last sample period a GPU ran kernels (NVML).", gpu.utilization_ratio);
    set("switchyard_gpu_memory_used_bytes", "GPU memory in use by every process, bytes (NVML).",
        bytes(gpu.memory_used_bytes));
    set("switchyard_gpu_memory_total_bytes", "GPU memory, bytes (NVML).",
        bytes(gpu.memory_total_bytes));
    set("switchyard_gpu_power_watts", "GPU power draw, watts (NVML).", gpu.power_watts);
    set("switchyard_gpu_temperature_celsius", "GPU core temperature, degrees Celsius (NVML).",
        gpu.temperature_celsius);
    set("switchyard_gpu_healthy", "1 when NVML reports no error condition on a GPU, else 0.",
        gpu.health == GpuHealth::kHealthy ? 1.0 : 0.0);
  }
}

}  // namespace switchyard
