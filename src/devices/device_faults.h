#pragma once
// The GPUs that instances found unusable: a backend that returned SY_ERROR_DEVICE_LOST (a sticky
// CUDA error) says so about the GPUs of its instance, whatever NVML says of them. Each fault
// belongs to one instance of one model load (its generation) and lasts until that instance
// recovers (a restarted worker is ready on the same GPUs) or the load is retired (the model is
// unloaded or replaced). The server overlays the faults on each telemetry snapshot, so that a
// faulted GPU is drained and shows why, exactly as one NVML reports failed.
// Thread-safety: thread-safe; its lock is a leaf.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "devices/device_telemetry.h"

namespace switchyard {

class DeviceFaults {
 public:
  // `instance` ("model/0") of model load `generation` lost `devices` (server indexes) with the
  // backend's message `why`. A second report of the same instance replaces the first. Ignored
  // (returns false) for a retired generation.
  bool Lost(uint64_t generation, const std::string& instance, std::vector<int> devices,
            std::string why) EXCLUDES(mu_);
  // The instance's devices work again (a worker of it is ready there). Returns whether it had a
  // fault.
  bool Recovered(uint64_t generation, const std::string& instance) EXCLUDES(mu_);
  // Forgets the faults of a model load that is unloaded or replaced, and ignores its later
  // reports (its instances may still report while they end).
  void Retire(uint64_t generation) EXCLUDES(mu_);

  // `telemetry` with every faulted device kFailed and, per fault, "<instance> lost it: <why>"
  // appended to its health_detail ("; "-separated). A faulted device the snapshot does not list
  // is added. The other fields are kept.
  DeviceTelemetry Overlay(const DeviceTelemetry& telemetry) const EXCLUDES(mu_);

 private:
  struct Fault {
    std::vector<int> devices;
    std::string why;
  };
  using Key = std::pair<uint64_t, std::string>;  // generation, instance

  mutable Mutex mu_;
  std::map<Key, Fault> faults_ GUARDED_BY(mu_);
  std::set<uint64_t> retired_ GUARDED_BY(mu_);
};

}  // namespace switchyard
