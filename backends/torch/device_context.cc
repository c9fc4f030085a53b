#include "device_context.h"

#include <torch/cuda.h>

#if SWITCHYARD_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace switchyard::torch_backend {

bool BuiltWithCuda() { return SWITCHYARD_TORCH_CUDA != 0; }

StatusOr<std::unique_ptr<DeviceContext>> DeviceContext::Create(const TorchModel& model,
                                                               int32_t gpu_count) {
  if (gpu_count <= 0) {
    return std::unique_ptr<DeviceContext>(new DeviceContext(c10::Device(c10::DeviceType::CPU)));
  }
#if SWITCHYARD_TORCH_CUDA
  if (!torch::cuda::is_available()) {
    return Status::Unavailable("the instance asks for " + std::to_string(gpu_count) +
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
  return Status::Unsupported("the instance asks for " + std::to_string(gpu_count) +
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
