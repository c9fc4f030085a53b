#pragma once
// The machine's real GPUs, through NVML (loaded with dlopen; see devices/nvml_api.h): discovery,
// the CUDA_VISIBLE_DEVICES mapping, and a background poller that keeps an immutable telemetry
// snapshot and the GPU gauges up to date.
//
// How the server uses it:
//
//   ASSIGN_OR_RETURN(auto gpus, NvmlDeviceManager::Open(CudaVisibleDevicesFromEnvironment(),
//                                                       {.registry = &registry_}));
//   if (gpus->Devices().empty()) spdlog::info("no GPUs: {}", gpus->reason());
//   gpus->StartPolling();                  // telemetry and gauges every poll_interval
//   ... gpus->Telemetry() (dashboard, /v2/devices; never on the request path) ...
//   gpus->StopPolling();                   // or let the destructor do it
//
// Device i of Devices() is the i-th GPU CUDA_VISIBLE_DEVICES lists (all GPUs in NVML order when
// unset); Device::physical_index is its NVML index and Device::uuid what a worker's
// CUDA_VISIBLE_DEVICES should name to pin it.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "devices/device.h"
#include "devices/device_telemetry.h"
#include "metrics/metrics.h"
#include "switchyard/clock.h"
#include "switchyard/status.h"

namespace switchyard {

namespace nvml {
class NvmlApi;
}  // namespace nvml

struct NvmlOptions {
  // The NVML library to load. Default empty: $SWITCHYARD_NVML_LIBRARY when set and not empty,
  // else "libnvidia-ml.so.1" from the loader's search path.
  std::string library_path;
  // Time between two polls of the background poller (StartPolling). Default 1 s; must be > 0.
  Duration poll_interval = std::chrono::seconds(1);
  // Each poll exports the GPU gauges here (ExportGpuMetrics, devices/device_telemetry.h).
  // Default null: no gauges. Must outlive the manager.
  metrics::Registry* registry = nullptr;
  // Called after each poll with the new snapshot, on the thread that polled (the poller, or
  // the caller of PollOnce), never concurrently with itself. It must not call StopPolling.
  // Default empty: none.
  std::function<void(const std::shared_ptr<const DeviceTelemetry>&)> on_poll;
  // Stamps the snapshots (DeviceTelemetry::taken_at). Default null: SteadyClock::Get(). Must
  // outlive the manager.
  Clock* clock = nullptr;
  // Where the visible-GPU list given to Open came from, for its errors. Default
  // "CUDA_VISIBLE_DEVICES"; "--gpus" when the operator named the GPUs with that flag.
  std::string visible_source = "CUDA_VISIBLE_DEVICES";
};

// The CUDA_VISIBLE_DEVICES of this process: std::nullopt when unset, else its value (maybe "").
std::optional<std::string> CudaVisibleDevicesFromEnvironment();

// Thread-safety: Devices, reason, Telemetry and PollOnce may be called from any thread.
// StartPolling and StopPolling are for the owner (not concurrently with each other or the
// destructor).
class NvmlDeviceManager final : public DeviceManager {
 public:
  // Loads NVML, lists the GPUs, resolves `cuda_visible_devices` (the value of
  // CUDA_VISIBLE_DEVICES, std::nullopt when unset; rules in devices/cuda_visible_devices.h),
  // reads each visible GPU's name, PCI bus id and memory (Device::total_mb; memory already in
  // use becomes used_by_others_mb), and takes a first telemetry snapshot (not exported to the
  // registry until the first PollOnce or poll).
  //
  // A machine without NVML or without a usable driver is no error: the manager has no devices
  // and reason() says why. Fails with INVALID_ARGUMENT only for a CUDA_VISIBLE_DEVICES that
  // names a GPU that does not exist (or is otherwise invalid), and with INVALID_ARGUMENT for a
  // poll_interval <= 0.
  static StatusOr<std::unique_ptr<NvmlDeviceManager>> Open(
      std::optional<std::string> cuda_visible_devices, NvmlOptions options = {});

  ~NvmlDeviceManager() override;  // stops polling, shuts NVML down
  NvmlDeviceManager(const NvmlDeviceManager&) = delete;
  NvmlDeviceManager& operator=(const NvmlDeviceManager&) = delete;

  // The visible GPUs, `index` ascending from 0. Fixed at Open.
  std::vector<Device> Devices() const override { return devices_; }

  // Why Devices() is empty, made to follow "no GPUs: ", e.g.
  //   "NVML not found (libnvidia-ml.so.1: cannot open shared object file: ...)"
  //   "NVML reports no GPU"   "CUDA_VISIBLE_DEVICES hides every GPU (value '-1')"
  // Empty when there are devices.
  const std::string& reason() const { return reason_; }

  // The latest snapshot (one entry per device, in index order). Never null; cheap (a lock and a
  // shared_ptr copy), so it may be called often, but keep it off the request path anyway.
  std::shared_ptr<const DeviceTelemetry> Telemetry() const EXCLUDES(mu_);

  // Reads every device now, publishes the snapshot, exports the gauges (options.registry) and
  // calls options.on_poll. What the poller does each interval; tests call it directly. Polls
  // never overlap (a second caller waits).
  std::shared_ptr<const DeviceTelemetry> PollOnce() EXCLUDES(poll_mu_, mu_);

  // The device memory the processes `pids` hold together on GPU `index` (Devices()[index]) now,
  // as NVML counts it (each one's CUDA context and every allocation, the frameworks' caches
  // included), in bytes; nullopt when NVML cannot tell (no such function, an error, or none of
  // `pids` listed: another PID namespace, or no context there). Queries NVML on the calling
  // thread: not for the request path. REQUIRES: 0 <= index < Devices().size().
  std::optional<uint64_t> ProcessMemoryBytes(int index, const std::vector<long>& pids) const;

  // Starts the background poller: PollOnce at once, then every poll_interval until
  // StopPolling. No effect if it runs already.
  void StartPolling() EXCLUDES(thread_mu_);
  // Stops the poller and waits for it (at most one poll in progress). No effect if it is not
  // running.
  void StopPolling() EXCLUDES(thread_mu_);

 private:
  struct Gpu {  // one visible GPU
    int physical_index = 0;
    void* handle = nullptr;  // nvmlDevice_t
  };

  explicit NvmlDeviceManager(NvmlOptions options);
  // Fills devices_ and gpus_ from NVML, or sets reason_. INVALID_ARGUMENT for a bad
  // CUDA_VISIBLE_DEVICES.
  Status Discover(const std::optional<std::string>& cuda_visible_devices);
  std::shared_ptr<const DeviceTelemetry> Read(uint64_t sequence) const;
  void PollLoop() EXCLUDES(thread_mu_);

  const NvmlOptions options_;
  Clock* const clock_;
  std::unique_ptr<nvml::NvmlApi> api_;  // null without NVML
  // Fixed after Open.
  std::vector<Device> devices_;
  std::vector<Gpu> gpus_;  // gpus_[i] is devices_[i]
  std::string reason_;

  mutable Mutex mu_;
  std::shared_ptr<const DeviceTelemetry> telemetry_ GUARDED_BY(mu_);

  Mutex poll_mu_;  // serialises polls
  uint64_t sequence_ GUARDED_BY(poll_mu_) = 0;

  Mutex thread_mu_;
  CondVar wake_;
  bool stop_ GUARDED_BY(thread_mu_) = false;
  std::thread poller_;  // owner-only (StartPolling, StopPolling)
};

}  // namespace switchyard
