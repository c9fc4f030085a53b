#include "cli/devices_command.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/device_flags.h"
#include "devices/device_telemetry.h"
#include "devices/placement.h"
#include "devices/text_table.h"
#include "fmt/format.h"

namespace switchyard::cli {
namespace {

struct DevicesFlags {
  std::string model_repository;  // empty: list the devices only
  DeviceFlags devices;
  std::string backend_directory;  // empty: beside the binary
};

std::string Percent(std::optional<double> ratio) {
  return ratio.has_value() ? fmt::format("{:.0f}%", *ratio * 100) : "-";
}

// The device table (with the NVML index when the devices are real GPUs); with a plan, the planned
// memory and instances of every device too.
std::string FormatDevices(const std::vector<Device>& devices, int64_t vram_reserve_mb,
                          const std::optional<Plan>& plan) {
  const bool real = std::any_of(devices.begin(), devices.end(),
                                [](const Device& device) { return !device.simulated; });
  std::vector<std::string> header = {"GPU",        "uuid",        "name",     "total MiB",
                                     "others MiB", "reserve MiB", "free MiB", "speed"};
  std::vector<bool> right = {true, false, false, true, true, true, true, true};
  if (real) {
    header.insert(header.begin() + 1, "NVML");
    right.insert(right.begin() + 1, true);
  }
  if (plan.has_value()) {
    header.insert(header.end(), {"planned MiB", "instances"});
    right.insert(right.end(), {true, false});
  }
  TextTable table(std::move(header), std::move(right));
  for (const Device& device : devices) {
    const int64_t unused = std::max<int64_t>(0, device.total_mb - device.used_by_others_mb);
    std::vector<std::string> row = {std::to_string(device.index),
                                    device.uuid,
                                    device.name,
                                    std::to_string(device.total_mb),
                                    std::to_string(device.used_by_others_mb),
                                    std::to_string(vram_reserve_mb),
                                    std::to_string(std::max<int64_t>(0, unused - vram_reserve_mb)),
                                    fmt::format("{:g}", device.speed)};
    if (real) {
      row.insert(row.begin() + 1,
                 device.physical_index >= 0 ? std::to_string(device.physical_index) : "-");
    }
    if (plan.has_value()) {
      const DevicePlan& planned = plan->devices[device.index];
      row.push_back(std::to_string(planned.planned_mb));
      row.push_back(fmt::format("{}", fmt::join(planned.instances, ", ")));
    }
    table.AddRow(std::move(row));
  }
  std::string text = table.Render();
  if (plan.has_value() && plan->cpu_instances > 0) {
    text += fmt::format("CPU: {} instance{}\n", plan->cpu_instances,
                        plan->cpu_instances == 1 ? "" : "s");
  }
  return text;
}

// What NVML reads now: one row per GPU, then a line per GPU that is not healthy.
std::string FormatTelemetry(const DeviceTelemetry& telemetry) {
  TextTable table(
      {"GPU", "util", "mem util", "used MiB", "temp C", "power W", "throttle", "health"},
      {true, true, true, true, true, true, false, false});
  std::string problems;
  for (const GpuTelemetry& gpu : telemetry.devices) {
    table.AddRow(
        {std::to_string(gpu.index), Percent(gpu.utilization_ratio),
         Percent(gpu.memory_utilization_ratio),
         gpu.memory_used_bytes.has_value() ? std::to_string(*gpu.memory_used_bytes >> 20) : "-",
         gpu.temperature_celsius.has_value() ? fmt::format("{:.0f}", *gpu.temperature_celsius)
                                             : "-",
         gpu.power_watts.has_value() ? fmt::format("{:.1f}", *gpu.power_watts) : "-",
         gpu.throttle_reasons.has_value() ? ThrottleReasonNames(*gpu.throttle_reasons) : "-",
         GpuHealthName(gpu.health)});
    if (gpu.health != GpuHealth::kHealthy) {
      problems +=
          fmt::format("GPU {} {}: {}\n", gpu.index, GpuHealthName(gpu.health), gpu.health_detail);
    }
  }
  return table.Render() + problems;
}

int ListDevices(const DevicesFlags& flags) {
  auto found = OpenDevicesFromFlags(flags.devices);
  if (!found.ok()) {
    fmt::print(stderr, "switchyard devices: {}\n", found.status().message());
    return 1;
  }
  const std::vector<Device>& devices = found->devices;
  std::optional<Plan> plan;
  if (!flags.model_repository.empty()) {
    auto planned =
        PlanFromFlags(flags.model_repository, devices, flags.devices, flags.backend_directory);
    if (!planned.ok()) {
      fmt::print(stderr, "switchyard devices: {}\n", planned.status().message());
      return 1;
    }
    plan = std::move(planned).value();
  }
  if (devices.empty()) {
    const std::string reason = found->nvml != nullptr ? found->nvml->reason() : "";
    fmt::print(
        "no GPUs{}{}: every model runs on CPU instances (--simulate-gpus 4x80GB simulates "
        "some)\n",
        reason.empty() ? "" : ": ", reason);
    if (plan.has_value() && plan->cpu_instances > 0) {
      fmt::print("CPU: {} instance{}\n", plan->cpu_instances, plan->cpu_instances == 1 ? "" : "s");
    }
    return 0;
  }
  fmt::print("{}", FormatDevices(devices, flags.devices.vram_reserve_mb, plan));
  if (found->nvml != nullptr) fmt::print("\n{}", FormatTelemetry(*found->nvml->Telemetry()));
  return 0;
}

}  // namespace

void AddDevicesCommand(CLI::App& app) {
  auto flags = std::make_shared<DevicesFlags>();
  CLI::App* devices = app.add_subcommand(
      "devices", "List the GPUs as switchyard sees them and, with a repository, what fits where");
  devices->add_option("--model-repository", flags->model_repository,
                      "Also show what the placement plan puts on each GPU");
  AddDeviceFlags(devices, &flags->devices);
  AddBackendDirectoryFlag(devices, &flags->backend_directory);
  devices->callback([flags] {
    int code = ListDevices(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace switchyard::cli
