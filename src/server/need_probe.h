#pragma once
// `vram_mb: measure` at load. A model whose need is measured (MeasuredAtLoad,
// devices/model_need.h) and that runs on GPUs gets one instance first, its probe, on the first
// device group placement would give it. Its worker loads, warms up at max batch
// (instance/warmup.h) and reports the device memory its instance then holds; that, or what NVML
// counts for the worker process and the processes it started if that is more (ProcessMemoryMb),
// in MiB rounded up, becomes
// the model's need when the server plans the placement of every instance.
// The server keeps the probe as the model's instance 0 when the plan puts instance 0 on the
// probe's group (the usual case: fixed counts and `auto` both place on every group where one
// fits, the first group first), and ends it otherwise.
//
// One probe per model: every group is taken to need what the first one measured (the same
// model, batch and libraries; GPUs of different kinds may differ by a workspace or two, which
// --vram-reserve-mb absorbs).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devices/nvml_device_manager.h"
#include "server/instance_factory.h"
#include "switchyard/model_config.h"
#include "switchyard/status.h"

namespace switchyard {

// What to probe.
struct NeedProbeSpec {
  const ModelConfig* config = nullptr;  // `isolation: process`; must outlive the probe
  int64_t version = 0;
  std::string model_dir;
  std::vector<int> devices;  // the device group to run it on
};

struct NeedProbe {
  std::vector<int> devices;  // the group it runs on
  ModelInstances made;       // its one instance, "model/0"
  int64_t reported_mb = 0;   // what its worker reported after load and warm-up, MiB rounded up
  int64_t need_mb = 0;       // reported_mb, raised by the server to what NVML counts
};

// Starts the probes of `specs`, in parallel (startup takes one model load, not one per model),
// and waits for them. Result i is spec i's probe, or why its instance could not be made (as
// InstanceFactory::Make: UNAVAILABLE when its worker could not load).
std::vector<StatusOr<NeedProbe>> StartNeedProbes(InstanceFactory& factory,
                                                 const std::vector<NeedProbeSpec>& specs);

// `bytes` in MiB, rounded up.
int64_t MebibytesRoundedUp(uint64_t bytes);

// What NVML counts for the probe's worker process and its descendants (an exec or python
// model's program) together on the GPUs of its group (the most on any of them), MiB rounded up:
// their CUDA contexts, the libraries' workspaces and the framework's caches, which a backend's
// own report (SyInstanceDeviceMemory) may leave out. nullopt when NVML cannot
// tell (no such function, or the worker's pid is not listed: another PID namespace).
std::optional<int64_t> ProcessMemoryMb(const NvmlDeviceManager& nvml, const NeedProbe& probe);

// What NVML counts for process `pid` and its descendants together on each of `devices`, the
// most on any one, bytes; nullopt when NVML cannot tell (as above).
std::optional<uint64_t> ProcessTreeDeviceBytes(const NvmlDeviceManager& nvml,
                                               const std::vector<int>& devices, long pid);

}  // namespace switchyard
