#pragma once
// The device an instance runs on, and everything that differs between CPU and CUDA: the
// instance's own CUDA stream, pinned staging memory, page-locked host ranges, synchronisation,
// memory statistics.
// CUDA code is compiled only when the plugin is built against a CUDA libtorch
// (SWITCHYARD_TORCH_CUDA, set by CMakeLists.txt); a CPU build refuses GPU instances.
// Thread-safety: used by its instance's thread only.

#include <c10/core/Device.h>
#include <c10/core/Stream.h>
#include <c10/core/TensorOptions.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "switchyard/backend_sdk/status.h"
#include "torch_model.h"

namespace switchyard::torch_backend {

class DeviceContext {
 public:
  // `gpu_count` as in SyInstanceDesc: 0 is the CPU, n > 0 is cuda:0 (the host made the
  // instance's GPUs the only visible ones; with n > 1 only the first is used, and this is
  // logged). Fails with SY_ERROR_UNSUPPORTED when the plugin was built without CUDA and with
  // SY_ERROR_UNAVAILABLE when no CUDA device is visible.
  static sdk::StatusOr<std::unique_ptr<DeviceContext>> Create(const TorchModel& model,
                                                              int32_t gpu_count);

  c10::Device device() const { return device_; }
  bool is_cuda() const { return device_.is_cuda(); }
  // The instance's stream (CUDA), to make current while the instance works; nullopt on CPU.
  const std::optional<c10::Stream>& stream() const { return stream_; }

  // Options of host tensors that stage data to and from the device: pinned on CUDA.
  c10::TensorOptions HostStagingOptions(c10::ScalarType type) const;

  // Waits for the work queued on the instance's stream (no-op on CPU).
  void Synchronize() const;

  // Whether the device is unusable in this process after an error: a sticky CUDA error (an
  // illegal address, a launch failure, ...) makes every later call fail, which a second
  // device-wide synchronisation shows (the first may only report, and clear, an error that is
  // not sticky). Always false on CPU. Call it after a failure, not on the hot path.
  bool Lost() const;

  // Device memory reserved by libtorch's caching allocator on the device, in bytes (0 on CPU).
  // The allocator is per process, so instances sharing a process and device share the figure.
  uint64_t ReservedBytes() const;

  // CUDA: page-locks [base, base + size) (the driver's cuMemHostRegister, resolved from
  // libcuda.so.1 at first use: the plugin links no CUDA library of its own) so that copies from
  // it to the device run as DMA without staging, until UnregisterHostMemory(base). CPU: does
  // nothing. Errors: Internal naming the driver's error (the memory is then used unpinned).
  sdk::Status RegisterHostMemory(void* base, uint64_t size);
  void UnregisterHostMemory(void* base);
  // Whether [data, data + size) lies inside one range RegisterHostMemory registered.
  bool IsRegistered(const void* data, uint64_t size) const;

 private:
  explicit DeviceContext(c10::Device device) : device_(device) {}

  struct HostRange {
    const char* base;
    uint64_t size;
  };

  c10::Device device_;
  std::optional<c10::Stream> stream_;
  std::vector<HostRange> registered_;
};

// Whether this build of the plugin can run on CUDA devices.
bool BuiltWithCuda();

}  // namespace switchyard::torch_backend
