#include "devices/nvml_device_manager.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/thread_name.h"
#include "devices/cuda_visible_devices.h"
#include "devices/nvml_api.h"
#include "fmt/format.h"

namespace switchyard {
namespace {

using nvml::NvmlApi;
using nvml::nvmlDevice_t;
using nvml::nvmlReturn_t;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// Reads one GPU's telemetry, turning NVML's answers into values and health.
class GpuReader {
 public:
  GpuReader(const NvmlApi& api, nvmlDevice_t handle, GpuTelemetry* out)
      : api_(api), handle_(handle), out_(out) {}

  void ReadAll() {
    nvml::nvmlMemory_t memory{};
    if (Ok(api_.device_get_memory_info(handle_, &memory), "memory")) {
      out_->memory_total_bytes = memory.total;
      out_->memory_used_bytes = memory.used;
      out_->memory_free_bytes = memory.free;
    }
    if (api_.device_get_utilization_rates != nullptr) {
      nvml::nvmlUtilization_t utilization{};
      if (Ok(api_.device_get_utilization_rates(handle_, &utilization), "utilisation")) {
        out_->utilization_ratio = std::min(utilization.gpu, 100u) / 100.0;
        out_->memory_utilization_ratio = std::min(utilization.memory, 100u) / 100.0;
      }
    }
    if (api_.device_get_temperature != nullptr) {
      unsigned int celsius = 0;
      if (Ok(api_.device_get_temperature(handle_, nvml::NVML_TEMPERATURE_GPU, &celsius),
             "temperature")) {
        out_->temperature_celsius = celsius;
      }
    }
    if (api_.device_get_power_usage != nullptr) {
      unsigned int milliwatts = 0;
      if (Ok(api_.device_get_power_usage(handle_, &milliwatts), "power")) {
        out_->power_watts = milliwatts / 1000.0;
      }
    }
    if (api_.device_get_current_clocks_throttle_reasons != nullptr) {
      unsigned long long reasons = 0;
      if (Ok(api_.device_get_current_clocks_throttle_reasons(handle_, &reasons),
             "throttle reasons")) {
        out_->throttle_reasons = reasons;
      }
    }
    ReadHealth();
  }

 private:
  void ReadHealth() {
    if (api_.device_get_total_ecc_errors != nullptr) {
      unsigned long long count = 0;
      if (Ok(api_.device_get_total_ecc_errors(handle_, nvml::NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
                                              nvml::NVML_VOLATILE_ECC, &count),
             "ECC errors")) {
        out_->ecc_uncorrected_volatile = count;
        if (count > 0) {
          Note(GpuHealth::kDegraded,
               fmt::format("{} uncorrected ECC error{} since the driver loaded", count,
                           count == 1 ? "" : "s"));
        }
      }
    }
    if (api_.device_get_retired_pages_pending_status != nullptr) {
      nvml::nvmlEnableState_t pending = nvml::NVML_FEATURE_DISABLED;
      if (Ok(api_.device_get_retired_pages_pending_status(handle_, &pending), "retired pages") &&
          pending == nvml::NVML_FEATURE_ENABLED) {
        Note(GpuHealth::kDegraded, "page retirement pending (takes effect at the next GPU reset)");
      }
    }
    if (api_.device_get_remapped_rows != nullptr) {
      unsigned int corrected = 0;
      unsigned int uncorrected = 0;
      unsigned int pending = 0;
      unsigned int failure = 0;
      if (Ok(api_.device_get_remapped_rows(handle_, &corrected, &uncorrected, &pending, &failure),
             "remapped rows")) {
        if (failure != 0) Note(GpuHealth::kFailed, "row remapping failed");
        if (pending != 0) {
          Note(GpuHealth::kDegraded, "row remapping pending (takes effect at the next GPU reset)");
        }
      }
    }
  }

  // Whether `result` carries a value. A lost GPU or one that needs a reset is failed and read no
  // further; a reading the GPU does not support is simply absent; any other error degrades.
  bool Ok(nvmlReturn_t result, const char* what) {
    if (stopped_) return false;
    switch (result) {
      case nvml::NVML_SUCCESS:
        return true;
      case nvml::NVML_ERROR_NOT_SUPPORTED:
      case nvml::NVML_ERROR_NO_PERMISSION:
        return false;
      case nvml::NVML_ERROR_GPU_IS_LOST:
        Note(GpuHealth::kFailed, "GPU is lost (fell off the bus or stopped answering)");
        stopped_ = true;
        return false;
      case nvml::NVML_ERROR_RESET_REQUIRED:
        Note(GpuHealth::kFailed, "GPU needs a reset");
        stopped_ = true;
        return false;
      default:
        Note(GpuHealth::kDegraded,
             fmt::format("reading {} failed: {}", what, api_.ErrorString(result)));
        return false;
    }
  }

  void Note(GpuHealth health, const std::string& detail) {
    out_->health = std::max(out_->health, health);
    if (!out_->health_detail.empty()) out_->health_detail += "; ";
    out_->health_detail += detail;
  }

  const NvmlApi& api_;
  nvmlDevice_t handle_;
  GpuTelemetry* out_;
  bool stopped_ = false;
};

// A NUL-terminated string from an NVML buffer of `size` bytes.
std::string FromBuffer(const char* buffer, size_t size) {
  return std::string(buffer, strnlen(buffer, size));
}

}  // namespace

std::optional<std::string> CudaVisibleDevicesFromEnvironment() {
  const char* value = std::getenv("CUDA_VISIBLE_DEVICES");
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

NvmlDeviceManager::NvmlDeviceManager(NvmlOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : SteadyClock::Get()) {}

StatusOr<std::unique_ptr<NvmlDeviceManager>> NvmlDeviceManager::Open(
    std::optional<std::string> cuda_visible_devices, NvmlOptions options) {
  if (options.poll_interval <= Duration::zero()) {
    return InvalidArgument("NVML poll interval must be > 0");
  }
  std::unique_ptr<NvmlDeviceManager> manager(new NvmlDeviceManager(std::move(options)));
  RETURN_IF_ERROR(manager->Discover(cuda_visible_devices));
  std::shared_ptr<const DeviceTelemetry> first = manager->Read(0);
  MutexLock lock(&manager->mu_);
  manager->telemetry_ = std::move(first);
  return manager;
}

Status NvmlDeviceManager::Discover(const std::optional<std::string>& cuda_visible_devices) {
  auto api = nvml::NvmlApi::Load(nvml::LibraryPath(options_.library_path));
  if (!api.ok()) {
    reason_ = api.status().message();
    return Status::Ok();
  }
  const NvmlApi& nvml = **api;
  unsigned int count = 0;
  if (nvmlReturn_t r = nvml.device_get_count(&count); r != nvml::NVML_SUCCESS) {
    reason_ = fmt::format("NVML cannot count the GPUs: {}", nvml.ErrorString(r));
    return Status::Ok();
  }
  // Every GPU's handle and UUID, hidden ones too: CUDA_VISIBLE_DEVICES may name any of them.
  std::vector<nvmlDevice_t> handles(count);
  std::vector<std::string> uuids(count);
  for (unsigned int i = 0; i < count; ++i) {
    if (nvmlReturn_t r = nvml.device_get_handle_by_index(i, &handles[i]); r != nvml::NVML_SUCCESS) {
      reason_ = fmt::format("NVML cannot open GPU {}: {}", i, nvml.ErrorString(r));
      return Status::Ok();
    }
    char uuid[nvml::NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
    if (nvmlReturn_t r = nvml.device_get_uuid(handles[i], uuid, sizeof(uuid));
        r != nvml::NVML_SUCCESS) {
      reason_ = fmt::format("NVML cannot read the UUID of GPU {}: {}", i, nvml.ErrorString(r));
      return Status::Ok();
    }
    uuids[i] = FromBuffer(uuid, sizeof(uuid));
  }
  ASSIGN_OR_RETURN(std::vector<int> visible,
                   ResolveCudaVisibleDevices(cuda_visible_devices, uuids, options_.visible_source));
  if (count == 0) {
    reason_ = "NVML reports no GPU";
  } else if (visible.empty()) {
    reason_ = fmt::format("{} hides every GPU (value '{}')", options_.visible_source,
                          cuda_visible_devices.value_or(""));
  }
  for (int physical : visible) {
    nvmlDevice_t handle = handles[static_cast<size_t>(physical)];
    Device device;
    device.index = static_cast<int>(devices_.size());
    device.physical_index = physical;
    device.uuid = uuids[static_cast<size_t>(physical)];
    char name[nvml::NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
    device.name = nvml.device_get_name(handle, name, sizeof(name)) == nvml::NVML_SUCCESS
                      ? FromBuffer(name, sizeof(name))
                      : "unknown NVIDIA GPU";
    if (nvml.device_get_pci_info != nullptr) {
      nvml::nvmlPciInfo_t pci{};
      if (nvml.device_get_pci_info(handle, &pci) == nvml::NVML_SUCCESS) {
        device.pci_bus_id = FromBuffer(pci.busId, sizeof(pci.busId));
      }
    }
    // A GPU whose memory cannot be read gets no budget (total 0); its telemetry says why.
    nvml::nvmlMemory_t memory{};
    if (nvml.device_get_memory_info(handle, &memory) == nvml::NVML_SUCCESS) {
      device.total_mb = static_cast<int64_t>(memory.total / kMiB);
      device.used_by_others_mb =
          std::min(device.total_mb, static_cast<int64_t>((memory.used + kMiB - 1) / kMiB));
    }
    devices_.push_back(std::move(device));
    gpus_.push_back({.physical_index = physical, .handle = handle});
  }
  api_ = std::move(api).value();
  return Status::Ok();
}

std::shared_ptr<const DeviceTelemetry> NvmlDeviceManager::Read(uint64_t sequence) const {
  auto telemetry = std::make_shared<DeviceTelemetry>();
  telemetry->sequence = sequence;
  telemetry->taken_at = clock_->Now();
  for (size_t i = 0; i < devices_.size(); ++i) {
    GpuTelemetry gpu;
    gpu.index = devices_[i].index;
    gpu.uuid = devices_[i].uuid;
    GpuReader(*api_, static_cast<nvmlDevice_t>(gpus_[i].handle), &gpu).ReadAll();
    telemetry->devices.push_back(std::move(gpu));
  }
  return telemetry;
}

NvmlDeviceManager::~NvmlDeviceManager() { StopPolling(); }

std::shared_ptr<const DeviceTelemetry> NvmlDeviceManager::Telemetry() const {
  MutexLock lock(&mu_);
  return telemetry_;
}

std::shared_ptr<const DeviceTelemetry> NvmlDeviceManager::PollOnce() {
  MutexLock poll_lock(&poll_mu_);
  std::shared_ptr<const DeviceTelemetry> telemetry = Read(++sequence_);
  {
    MutexLock lock(&mu_);
    telemetry_ = telemetry;
  }
  if (options_.registry != nullptr) ExportGpuMetrics(*telemetry, options_.registry);
  if (options_.on_poll) options_.on_poll(telemetry);
  return telemetry;
}

void NvmlDeviceManager::StartPolling() {
  if (poller_.joinable()) return;
  {
    MutexLock lock(&thread_mu_);
    stop_ = false;
  }
  poller_ = std::thread([this] {
    NameThisThread("sy-nvml");
    PollLoop();
  });
}

void NvmlDeviceManager::StopPolling() {
  if (!poller_.joinable()) return;
  {
    MutexLock lock(&thread_mu_);
    stop_ = true;
  }
  wake_.SignalAll();
  poller_.join();
}

void NvmlDeviceManager::PollLoop() {
  for (;;) {
    PollOnce();
    MutexLock lock(&thread_mu_);
    // One wait per poll: a spurious wakeup only makes one poll early.
    if (!stop_) wake_.WaitFor(&thread_mu_, options_.poll_interval);
    if (stop_) return;
  }
}

std::optional<uint64_t> NvmlDeviceManager::ProcessMemoryBytes(int index,
                                                              const std::vector<long>& pids) const {
  if (api_ == nullptr || api_->device_get_compute_running_processes == nullptr) return std::nullopt;
  auto handle = static_cast<nvmlDevice_t>(gpus_.at(static_cast<std::size_t>(index)).handle);
  std::vector<nvml::nvmlProcessInfo_t> infos(16);
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto count = static_cast<unsigned int>(infos.size());
    nvmlReturn_t r = api_->device_get_compute_running_processes(handle, &count, infos.data());
    if (r == nvml::NVML_ERROR_INSUFFICIENT_SIZE) {
      infos.resize(std::max<std::size_t>(count, 2 * infos.size()));
      continue;
    }
    if (r != nvml::NVML_SUCCESS) return std::nullopt;
    std::optional<uint64_t> total;
    for (unsigned int i = 0; i < count && i < infos.size(); ++i) {
      if (std::find(pids.begin(), pids.end(), static_cast<long>(infos[i].pid)) != pids.end()) {
        total = total.value_or(0) + infos[i].usedGpuMemory;
      }
    }
    return total;
  }
  return std::nullopt;
}

}  // namespace switchyard
