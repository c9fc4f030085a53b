#include "device_context.h"

#include <torch/cuda.h>

#include <algorithm>
#include <string>

#if SWITCHYARD_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <dlfcn.h>
#endif

namespace switchyard::torch_backend {
namespace {

#if SWITCHYARD_TORCH_CUDA
// The CUDA driver's host-memory registration, declared here (CUresult is an int; 0 is success)
// and resolved from libcuda.so.1, which every machine with an NVIDIA driver has.
using CuMemHostRegister = int (*)(void* pointer, size_t bytes, unsigned int flags);
using CuMemHostUnregister = int (*)(void* pointer);
constexpr unsigned int kCuMemHostRegisterPortable = 0x01;  // pinned for every CUDA context

struct HostRegisterApi {
  CuMemHostRegister register_memory = nullptr;
  CuMemHostUnregister unregister_memory = nullptr;
};

const HostRegisterApi& DriverApi() {
  static const HostRegisterApi api = [] {
    HostRegisterApi found;
    void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (driver == nullptr) return found;
    found.register_memory =
        reinterpret_cast<CuMemHostRegister>(dlsym(driver, "cuMemHostRegister_v2"));
    found.unregister_memory =
        reinterpret_cast<CuMemHostUnregister>(dlsym(driver, "cuMemHostUnregister"));
    return found;
  }();
  return api;
}
#endif

}  // namespace

bool BuiltWithCuda() { return SWITCHYARD_TORCH_CUDA != 0; }

sdk::StatusOr<std::unique_ptr<DeviceContext>> DeviceContext::Create(const TorchModel& model,
                                                                    int32_t gpu_count) {
  if (gpu_count <= 0) {
    return std::unique_ptr<DeviceContext>(new DeviceContext(c10::Device(c10::DeviceType::CPU)));
  }
#if SWITCHYARD_TORCH_CUDA
  if (!torch::cuda::is_available()) {
    return sdk::Unavailable("the instance asks for " + std::to_string(gpu_count) +
                            " GPU(s) but libtorch sees no CUDA device");
  }
  if (gpu_count > 1) {
    model.Log(SY_LOG_WARN, "an instance spans " + std::to_string(gpu_count) +
                               " GPUs; model parallelism is not implemented, it runs on the "
                               "first one");
  }
  std::unique_ptr<DeviceContext> context(new DeviceContext(c10::Device(c10::DeviceType::CUDA, 0)));
  context->stream_ = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, /*device=*/0).unwrap();
  return context;
#else
  (void)model;
  return sdk::Unsupported("the instance asks for " + std::to_string(gpu_count) +
                          " GPU(s) but this torch plugin was built against a libtorch "
                          "without CUDA");
#endif
}

c10::TensorOptions DeviceContext::HostStagingOptions(c10::ScalarType type) const {
  return c10::TensorOptions().dtype(type).device(c10::kCPU).pinned_memory(is_cuda());
}

void DeviceContext::Synchronize() const {
  if (stream_.has_value()) stream_->synchronize();
}

sdk::Status DeviceContext::RegisterHostMemory(void* base, uint64_t size) {
  if (!is_cuda() || size == 0) return sdk::Status::Ok();
#if SWITCHYARD_TORCH_CUDA
  const HostRegisterApi& api = DriverApi();
  if (api.register_memory == nullptr || api.unregister_memory == nullptr) {
    return sdk::Internal(
        "cannot page-lock host memory: libcuda.so.1 or cuMemHostRegister_v2 "
        "not found");
  }
  // The instance's thread has run the model, so the device's primary context is current here.
  if (const int result = api.register_memory(base, size, kCuMemHostRegisterPortable); result != 0) {
    return sdk::Internal("cuMemHostRegister of " + std::to_string(size) +
                         " bytes failed (CUresult " + std::to_string(result) + ")");
  }
  registered_.push_back({static_cast<const char*>(base), size});
#else
  (void)base;
#endif
  return sdk::Status::Ok();
}

void DeviceContext::UnregisterHostMemory(void* base) {
  auto found = std::find_if(registered_.begin(), registered_.end(),
                            [&](const HostRange& range) { return range.base == base; });
  if (found == registered_.end()) return;
#if SWITCHYARD_TORCH_CUDA
  DriverApi().unregister_memory(base);
#endif
  registered_.erase(found);
}

bool DeviceContext::IsRegistered(const void* data, uint64_t size) const {
  const auto* begin = static_cast<const char*>(data);
  for (const HostRange& range : registered_) {
    if (begin >= range.base && size <= range.size &&
        static_cast<uint64_t>(begin - range.base) <= range.size - size) {
      return true;
    }
  }
  return false;
}

bool DeviceContext::Lost() const {
#if SWITCHYARD_TORCH_CUDA
  if (is_cuda()) {
    auto synchronized = [] {
      try {
        c10::cuda::device_synchronize();
        return true;
      } catch (const std::exception&) {
        return false;
      }
    };
    return !synchronized() && !synchronized();
  }
#endif
  return false;
}

uint64_t DeviceContext::ReservedBytes() const {
#if SWITCHYARD_TORCH_CUDA
  if (is_cuda()) {
    try {
      const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_.index());
      // Index 0 is StatType::AGGREGATE (the enum moved between namespaces across versions).
      return static_cast<uint64_t>(stats.reserved_bytes[0].current);
    } catch (const c10::Error&) {
      // libtorch 2.x initialises the allocator for a device at its first allocation and fails
      // before that ("Invalid device argument"): nothing is reserved yet.
      return 0;
    }
  }
#endif
  return 0;
}

}  // namespace switchyard::torch_backend
