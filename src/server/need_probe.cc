#include "server/need_probe.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "fmt/format.h"
#include "supervisor/process_tree.h"

namespace switchyard {

int64_t MebibytesRoundedUp(uint64_t bytes) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  return static_cast<int64_t>(bytes / kMiB + (bytes % kMiB != 0 ? 1 : 0));
}

std::vector<StatusOr<NeedProbe>> StartNeedProbes(InstanceFactory& factory,
                                                 const std::vector<NeedProbeSpec>& specs) {
  std::vector<StatusOr<NeedProbe>> probes;
  for (std::size_t i = 0; i < specs.size(); ++i) probes.emplace_back(Unavailable(""));
  std::vector<std::thread> starters;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    starters.emplace_back([&, i] {
      const NeedProbeSpec& spec = specs[i];
      auto made = factory.Make(spec.config, spec.version, spec.model_dir,
                               {InstancePlacement{spec.devices}});
      if (!made.ok()) {
        probes[i] = made.status();
        return;
      }
      if (made->instances.size() != 1 || made->device_memory_bytes.size() != 1) {
        probes[i] = Internal(fmt::format(
            "model '{}': measuring its need takes a worker process (isolation: process)",
            spec.config->name));
        return;
      }
      const int64_t reported_mb = MebibytesRoundedUp(made->device_memory_bytes[0]);
      NeedProbe probe{.devices = spec.devices, .reported_mb = reported_mb, .need_mb = reported_mb};
      probe.made = std::move(made).value();
      probes[i] = std::move(probe);
    });
  }
  for (auto& starter : starters) starter.join();
  return probes;
}

std::optional<int64_t> ProcessMemoryMb(const NvmlDeviceManager& nvml, const NeedProbe& probe) {
  if (probe.made.instances.size() != 1) return std::nullopt;
  const long pid = probe.made.instances[0]->Health().pid;
  if (pid <= 0) return std::nullopt;
  const std::optional<uint64_t> bytes = ProcessTreeDeviceBytes(nvml, probe.devices, pid);
  if (!bytes) return std::nullopt;
  return MebibytesRoundedUp(*bytes);
}

std::optional<uint64_t> ProcessTreeDeviceBytes(const NvmlDeviceManager& nvml,
                                               const std::vector<int>& devices, long pid) {
  // The worker and what it started: an exec model's program holds its own CUDA context.
  const std::vector<long> processes = ProcessTree(pid);
  std::optional<uint64_t> most;
  for (int device : devices) {
    if (auto bytes = nvml.ProcessMemoryBytes(device, processes)) {
      most = std::max(most.value_or(0), *bytes);
    }
  }
  return most;
}

}  // namespace switchyard
