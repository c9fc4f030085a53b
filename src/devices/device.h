#pragma once
// Devices (GPUs) as the server numbers them, and simulated ones for tests, demos and capacity
// planning.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/status.h"

namespace switchyard {

// One GPU as the server numbers it: indices 0..n-1 in the order the DeviceManager reports them.
struct Device {
  int index = 0;
  // The device's NVML index (NVML numbers GPUs in PCI bus order); it differs from `index` when
  // CUDA_VISIBLE_DEVICES hides or reorders GPUs. -1 for a simulated device.
  int physical_index = -1;
  std::string uuid;               // "GPU-..." from the driver; "SIM-GPU-<index>" for simulated ones
  std::string name;               // e.g. "simulated GPU (80 GiB)", "NVIDIA H100 80GB HBM3"
  std::string pci_bus_id;         // e.g. "00000000:19:00.0"; empty when unknown or simulated
  int64_t total_mb = 0;           // device memory, MiB
  int64_t used_by_others_mb = 0;  // MiB in use by other processes at startup
  double speed = 1.0;  // relative speed: a simulated batch's service time is divided by it
  bool simulated = false;
  // Simulated devices only: their telemetry reports them failed (SimulatedTelemetry,
  // devices/device_telemetry.h), so the server drains their instances.
  bool simulated_failed = false;
};

// Reports the machine's GPUs. Thread-safe. Implementations: SimulatedDeviceManager below and
// NvmlDeviceManager (devices/nvml_device_manager.h), the real GPUs through NVML.
class DeviceManager {
 public:
  virtual ~DeviceManager() = default;
  // The devices, `index` ascending from 0.
  virtual std::vector<Device> Devices() const = 0;
};

// A fixed list of devices, as parsed by ParseSimulatedGpus. Immutable, hence thread-safe.
class SimulatedDeviceManager final : public DeviceManager {
 public:
  // REQUIRES: devices[i].index == i for every i.
  explicit SimulatedDeviceManager(std::vector<Device> devices) : devices_(std::move(devices)) {}
  std::vector<Device> Devices() const override { return devices_; }

 private:
  const std::vector<Device> devices_;
};

// The devices of `devices` (simulated ones, numbered from 0) that `gpus` lists, written as
// CUDA_VISIBLE_DEVICES is (indices, in the order listed; ResolveCudaVisibleDevices's grammar,
// errors naming `--gpus`), numbered again from 0; each keeps its uuid (so SIM-GPU-2 stays the
// third of the spec). nullopt: all of them.
StatusOr<std::vector<Device>> SelectGpus(std::vector<Device> devices,
                                         const std::optional<std::string>& gpus);

// Most simulated devices one spec may describe.
inline constexpr int kMaxSimulatedGpus = 64;

// Parses a `--simulate-gpus` spec into devices numbered from 0, each with uuid "SIM-GPU-<index>"
// and `simulated` set. Grammar (spaces around items, keys and values are ignored):
//
//   spec  := ""                      no GPUs
//          | item ("," item)*
//   item  := [N "x"] SIZE (":" key "=" value)*
//   SIZE  := positive integer followed by "GB" (GiB, 1024 MiB) or "MB" (MiB); case-insensitive;
//            at most 1048576 GB
//   key   := "speed"   relative speed, a number > 0 and <= 100; default 1
//          | "used"    MiB in use by other processes, an integer >= 0 and < SIZE; default 0
//          | "health"  "healthy" (default) or "failed": the device reports a fatal condition
//                      (Device::simulated_failed), to exercise draining without a broken GPU
//
// `N x` repeats the item N times (N >= 1). Examples: "4x80GB" (four 80 GiB GPUs),
// "80GB,80GB,40GB:speed=0.5" (two fast, one slow and smaller), "2x24GB:used=2048".
// At most kMaxSimulatedGpus devices in all. Fails with INVALID_ARGUMENT naming the bad item.
StatusOr<std::vector<Device>> ParseSimulatedGpus(std::string_view spec);

}  // namespace switchyard
