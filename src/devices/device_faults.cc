#include "devices/device_faults.h"

#include <algorithm>

#include "fmt/format.h"

namespace switchyard {

bool DeviceFaults::Lost(uint64_t generation, const std::string& instance, std::vector<int> devices,
                        std::string why) {
  MutexLock lock(&mu_);
  if (retired_.contains(generation)) return false;
  faults_[{generation, instance}] = Fault{std::move(devices), std::move(why)};
  return true;
}

bool DeviceFaults::Recovered(uint64_t generation, const std::string& instance) {
  MutexLock lock(&mu_);
  return faults_.erase({generation, instance}) > 0;
}

void DeviceFaults::Retire(uint64_t generation) {
  MutexLock lock(&mu_);
  retired_.insert(generation);
  std::erase_if(faults_, [&](const auto& entry) { return entry.first.first == generation; });
}

DeviceTelemetry DeviceFaults::Overlay(const DeviceTelemetry& telemetry) const {
  DeviceTelemetry out = telemetry;
  MutexLock lock(&mu_);
  for (const auto& [key, fault] : faults_) {
    for (int device : fault.devices) {
      auto gpu = std::find_if(out.devices.begin(), out.devices.end(),
                              [&](const GpuTelemetry& g) { return g.index == device; });
      if (gpu == out.devices.end()) {
        gpu = out.devices.insert(
            std::upper_bound(out.devices.begin(), out.devices.end(), device,
                             [](int index, const GpuTelemetry& g) { return index < g.index; }),
            GpuTelemetry{.index = device});
      }
      gpu->health = GpuHealth::kFailed;
      if (!gpu->health_detail.empty()) gpu->health_detail += "; ";
      gpu->health_detail += fmt::format("{} lost it: {}", key.second, fault.why);
    }
  }
  return out;
}

}  // namespace switchyard
