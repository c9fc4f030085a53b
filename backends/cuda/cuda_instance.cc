#include "cuda_instance.h"

#include <cublas_v2.h>

#include <cstring>
#include <utility>

#include "cuda_kernels.h"

namespace switchyard::cuda_backend {
namespace {

// cuBLAS's recommended workspace on Hopper; given explicitly so that it is counted.
constexpr uint64_t kCublasWorkspaceBytes = uint64_t{32} << 20;

std::string Microseconds(double us) {
  std::string text = std::to_string(us);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text + " us";
}

const char* GemmTypeName(GemmType type) {
  switch (type) {
    case GemmType::kFp16:
      return "fp16";
    case GemmType::kBf16:
      return "bf16";
    case GemmType::kFp32:
      return "fp32";
  }
  return "?";
}

}  // namespace

std::unique_ptr<CudaInstance> CudaInstance::Create(const SyHostApi* host, const ModelInfo* model,
                                                   const SyInstanceDesc& desc, SyError** error) {
  std::string name = desc.name != nullptr ? desc.name : model->name;
  if (desc.gpu_count < 1) {
    *error = host->error_new(SY_ERROR_UNSUPPORTED,
                             ("cuda instance '" + name +
                              "': the cuda backend runs on a GPU; this instance has none "
                              "(instances.devices must not be cpu)")
                                 .c_str());
    return nullptr;
  }
  std::unique_ptr<CudaInstance> instance(new CudaInstance(host, model, std::move(name)));
  *error = instance->Init();
  if (*error != nullptr) return nullptr;
  return instance;
}

SyError* CudaInstance::Error(SyErrorCode code, const std::string& what, cudaError_t status) {
  std::string message = "cuda instance '" + name_ + "': " + what;
  if (status != cudaSuccess) {
    message +=
        std::string(": ") + cudaGetErrorString(status) + " (" + cudaGetErrorName(status) + ")";
  }
  return host_->error_new(code, message.c_str());
}

bool CudaInstance::DeviceLost() {
  return cudaDeviceSynchronize() != cudaSuccess && cudaDeviceSynchronize() != cudaSuccess;
}

bool CudaInstance::InjectsFault(const SyTensor& first_input) const {
  const std::optional<float>& value = model_->params.fault_on_value;
  if (!value || first_input.datatype != SY_TYPE_FP32 || first_input.byte_size < sizeof(float)) {
    return false;
  }
  float first = 0;
  std::memcpy(&first, first_input.data, sizeof(float));
  return first == *value;
}

SyError* CudaInstance::Init() {
  if (cudaError_t status = cudaSetDevice(0); status != cudaSuccess) {
    return Error(SY_ERROR_UNAVAILABLE, "no usable CUDA device", status);
  }
  cudaDeviceProp properties{};
  if (SyError* e = Check(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties")) {
    return e;
  }
  sm_count_ = properties.multiProcessorCount;
  // More than half of an SM's shared memory: one spin block per SM, and no other block beside it.
  spin_shared_bytes_ = properties.sharedMemPerBlockOptin;
  if (SyError* e = Check(PrepareSpinKernel(spin_shared_bytes_), "preparing the spin kernel")) {
    return e;
  }
  if (SyError* e = Check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking),
                         "cudaStreamCreateWithFlags")) {
    return e;
  }
  const CudaParams& params = model_->params;
  std::string workload;
  if (params.workload == Workload::kGemm) {
    cublasHandle_t handle = nullptr;
    if (cublasStatus_t status = cublasCreate(&handle); status != CUBLAS_STATUS_SUCCESS) {
      return Error(SY_ERROR_INTERNAL,
                   std::string("cublasCreate: ") + cublasGetStatusString(status));
    }
    cublas_ = handle;
    const int64_t element = params.GemmElementBytes();
    const std::pair<void**, int64_t> matrices[] = {
        {&gemm_a_, params.gemm_m * params.gemm_k * element},
        {&gemm_b_, params.gemm_k * params.gemm_n * element},
        {&gemm_c_, params.gemm_m * params.gemm_n * element},
    };
    for (const auto& [pointer, bytes] : matrices) {
      if (SyError* e = Check(cudaMalloc(pointer, static_cast<size_t>(bytes)),
                             "allocating the GEMM matrices")) {
        return e;
      }
      device_bytes_ += static_cast<uint64_t>(bytes);
    }
    if (SyError* e = Check(cudaMalloc(&cublas_workspace_, kCublasWorkspaceBytes),
                           "allocating the cuBLAS workspace")) {
      return e;
    }
    cublas_workspace_bytes_ = kCublasWorkspaceBytes;
    device_bytes_ += kCublasWorkspaceBytes;
    if (cublasSetStream(handle, stream_) != CUBLAS_STATUS_SUCCESS ||
        cublasSetWorkspace(handle, cublas_workspace_, kCublasWorkspaceBytes) !=
            CUBLAS_STATUS_SUCCESS) {
      return Error(SY_ERROR_INTERNAL, "configuring cuBLAS");
    }
    const FillType fill = params.gemm_dtype == GemmType::kFp32   ? FillType::kFp32
                          : params.gemm_dtype == GemmType::kBf16 ? FillType::kBf16
                                                                 : FillType::kFp16;
    if (SyError* e = Check(LaunchFill(gemm_a_, params.gemm_m * params.gemm_k, fill, 1, stream_),
                           "filling the GEMM matrices")) {
      return e;
    }
    if (SyError* e = Check(LaunchFill(gemm_b_, params.gemm_k * params.gemm_n, fill, 2, stream_),
                           "filling the GEMM matrices")) {
      return e;
    }
    workload = "gemm " + std::to_string(params.gemm_m) + "x" + std::to_string(params.gemm_n) + "x" +
               std::to_string(params.gemm_k) + " " + GemmTypeName(params.gemm_dtype);
  } else {
    workload = "spin " + Microseconds(params.service_time_us) + " + " +
               Microseconds(params.per_item_us) + " per item on " + std::to_string(sm_count_) +
               " SMs";
  }
  if (const int64_t bytes = model_->MaxBatchInputBytes(); bytes > 0) {
    if (SyError* e = Reserve(static_cast<uint64_t>(bytes))) return e;
  }
  if (SyError* e = Check(cudaStreamSynchronize(stream_), "initialising")) return e;
  host_->log(SY_LOG_INFO, ("cuda instance '" + name_ + "' on " + properties.name + ": " + workload +
                           "; " + std::to_string(device_bytes_) + " bytes of device memory")
                              .c_str());
  return nullptr;
}

CudaInstance::~CudaInstance() {
  cudaSetDevice(0);
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  for (void* pointer : {gemm_a_, gemm_b_, gemm_c_, cublas_workspace_, device_buffer_}) {
    if (pointer != nullptr) cudaFree(pointer);
  }
  if (host_buffer_ != nullptr) cudaFreeHost(host_buffer_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

SyError* CudaInstance::Reserve(uint64_t bytes) {
  if (bytes <= buffer_bytes_) return nullptr;
  if (device_buffer_ != nullptr) {
    if (SyError* e = Check(cudaStreamSynchronize(stream_), "growing the I/O buffers")) return e;
    cudaFree(device_buffer_);
    cudaFreeHost(host_buffer_);
    device_buffer_ = nullptr;
    host_buffer_ = nullptr;
    device_bytes_ -= buffer_bytes_;
    buffer_bytes_ = 0;
  }
  if (SyError* e = Check(cudaMalloc(&device_buffer_, bytes), "allocating the device I/O buffer")) {
    device_buffer_ = nullptr;
    return e;
  }
  if (SyError* e = Check(cudaMallocHost(&host_buffer_, bytes), "allocating the pinned buffer")) {
    cudaFree(device_buffer_);
    device_buffer_ = nullptr;
    host_buffer_ = nullptr;
    return e;
  }
  buffer_bytes_ = bytes;
  device_bytes_ += bytes;
  return nullptr;
}

SyError* CudaInstance::RunWorkload(int64_t items) {
  const CudaParams& params = model_->params;
  if (params.workload == Workload::kSpin) {
    const uint64_t ns = params.SpinNanoseconds(items);
    if (ns == 0) return nullptr;
    return Check(LaunchSpin(ns, sm_count_, spin_shared_bytes_, stream_),
                 "launching the spin kernel");
  }
  const float alpha = 1.0f;
  const float beta = 0.0f;
  const cudaDataType_t type = params.gemm_dtype == GemmType::kFp32   ? CUDA_R_32F
                              : params.gemm_dtype == GemmType::kBf16 ? CUDA_R_16BF
                                                                     : CUDA_R_16F;
  const int m = static_cast<int>(params.gemm_m);
  const int n = static_cast<int>(params.gemm_n);
  const int k = static_cast<int>(params.gemm_k);
  const cublasStatus_t status =
      cublasGemmEx(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, gemm_a_, type, m, gemm_b_,
                   type, k, &beta, gemm_c_, type, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (status != CUBLAS_STATUS_SUCCESS) {
    return Error(SY_ERROR_INTERNAL, std::string("cublasGemmEx: ") + cublasGetStatusString(status));
  }
  return nullptr;
}

SyError* CudaInstance::Execute(SyBatch* batch) {
  if (SyError* e = Check(cudaSetDevice(0), "cudaSetDevice")) return e;
  const uint32_t requests = host_->batch_request_count(batch);
  const uint32_t inputs = static_cast<uint32_t>(model_->inputs.size());
  // Every input of every request, where it goes in the staging buffer.
  std::vector<SyTensor> tensors(static_cast<size_t>(requests) * inputs);
  std::vector<uint64_t> offsets(tensors.size(), 0);
  std::vector<bool> failed(requests, false);
  uint64_t total = 0;
  int64_t items = 0;
  bool fault = false;  // parameters.fault_on_value
  for (uint32_t r = 0; r < requests; ++r) {
    const uint64_t request_start = total;
    int64_t request_items = model_->max_batch_size > 0 ? 0 : 1;
    for (uint32_t i = 0; i < inputs; ++i) {
      SyTensor& tensor = tensors[static_cast<size_t>(r) * inputs + i];
      if (SyError* e = host_->request_input(batch, r, i, &tensor)) {
        host_->request_set_error(batch, r, e);
        failed[r] = true;
        break;
      }
      offsets[static_cast<size_t>(r) * inputs + i] = total;
      total += tensor.byte_size;
      if (i == 0 && model_->max_batch_size > 0) {
        request_items = tensor.dim_count > 0 ? tensor.shape[0] : 1;
      }
    }
    if (failed[r]) {
      total = request_start;
      continue;
    }
    if (inputs > 0 && InjectsFault(tensors[static_cast<size_t>(r) * inputs])) fault = true;
    items += request_items;
  }
  if (fault) {
    if (SyError* e = Check(LaunchIllegalWrite(stream_), "launching the injected fault")) return e;
  }
  if (SyError* e = Reserve(total)) return e;
  for (uint32_t r = 0; r < requests; ++r) {
    if (failed[r]) continue;
    for (uint32_t i = 0; i < inputs; ++i) {
      const size_t at = static_cast<size_t>(r) * inputs + i;
      if (tensors[at].byte_size > 0) {
        std::memcpy(static_cast<char*>(host_buffer_) + offsets[at], tensors[at].data,
                    tensors[at].byte_size);
      }
    }
  }
  if (total > 0) {
    if (SyError* e = Check(
            cudaMemcpyAsync(device_buffer_, host_buffer_, total, cudaMemcpyHostToDevice, stream_),
            "copying the inputs to the GPU")) {
      return e;
    }
  }
  if (SyError* e = RunWorkload(items)) return e;
  if (total > 0) {
    if (SyError* e = Check(
            cudaMemcpyAsync(host_buffer_, device_buffer_, total, cudaMemcpyDeviceToHost, stream_),
            "copying the outputs from the GPU")) {
      return e;
    }
  }
  if (SyError* e = Check(cudaStreamSynchronize(stream_), "running the batch")) return e;
  for (uint32_t r = 0; r < requests; ++r) {
    if (failed[r]) continue;
    for (uint32_t i = 0; i < inputs; ++i) {
      const size_t at = static_cast<size_t>(r) * inputs + i;
      const SyTensor& tensor = tensors[at];
      void* data = nullptr;
      if (SyError* e = host_->request_output_alloc(batch, r, i, tensor.shape, tensor.dim_count,
                                                   tensor.byte_size, &data)) {
        host_->request_set_error(batch, r, e);
        break;
      }
      if (tensor.byte_size > 0) {
        std::memcpy(data, static_cast<const char*>(host_buffer_) + offsets[at], tensor.byte_size);
      }
    }
  }
  return nullptr;
}

}  // namespace switchyard::cuda_backend
