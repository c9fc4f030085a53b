#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_kernels.h"

namespace switchyard::cuda_backend {
namespace {

__device__ __forceinline__ unsigned long long GlobalTimerNs() {
  unsigned long long ns;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(ns));
  return ns;
}

// One thread per block waits; the block's shared memory keeps other blocks off its SM.
__global__ void SpinKernel(unsigned long long duration_ns) {
  if (threadIdx.x != 0) return;
  const unsigned long long start = GlobalTimerNs();
  while (GlobalTimerNs() - start < duration_ns) {
  }
}

__device__ __forceinline__ float HashToUnit(uint64_t i, uint32_t seed) {
  uint32_t x = static_cast<uint32_t>(i) ^ (static_cast<uint32_t>(i >> 32) * 0x9e3779b9u) ^ seed;
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return static_cast<float>(x >> 8) * (2.0f / 16777216.0f) - 1.0f;
}

template <typename T>
__device__ __forceinline__ T FromFloat(float value);
template <>
__device__ __forceinline__ float FromFloat<float>(float value) {
  return value;
}
template <>
__device__ __forceinline__ __half FromFloat<__half>(float value) {
  return __float2half(value);
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float value) {
  return __float2bfloat16(value);
}

template <typename T>
__global__ void FillKernel(T* data, int64_t count, uint32_t seed) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    data[i] = FromFloat<T>(HashToUnit(static_cast<uint64_t>(i), seed));
  }
}

__global__ void IllegalWriteKernel(int* address) { *address = 1; }

}  // namespace

cudaError_t PrepareSpinKernel(size_t shared_bytes) {
  return cudaFuncSetAttribute(SpinKernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              static_cast<int>(shared_bytes));
}

cudaError_t LaunchSpin(uint64_t duration_ns, int blocks, size_t shared_bytes, cudaStream_t stream) {
  SpinKernel<<<blocks, 32, shared_bytes, stream>>>(duration_ns);
  return cudaGetLastError();
}

cudaError_t LaunchFill(void* data, int64_t count, FillType type, uint32_t seed,
                       cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int64_t wanted = (count + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(wanted < 4096 ? (wanted > 0 ? wanted : 1) : 4096);
  switch (type) {
    case FillType::kFp32:
      FillKernel<<<blocks, kThreads, 0, stream>>>(static_cast<float*>(data), count, seed);
      break;
    case FillType::kFp16:
      FillKernel<<<blocks, kThreads, 0, stream>>>(static_cast<__half*>(data), count, seed);
      break;
    case FillType::kBf16:
      FillKernel<<<blocks, kThreads, 0, stream>>>(static_cast<__nv_bfloat16*>(data), count, seed);
      break;
  }
  return cudaGetLastError();
}

cudaError_t LaunchIllegalWrite(cudaStream_t stream) {
  // Far below any allocation: the first page of the address space is never mapped.
  IllegalWriteKernel<<<1, 1, 0, stream>>>(reinterpret_cast<int*>(uintptr_t{64}));
  return cudaGetLastError();
}

}  // namespace switchyard::cuda_backend
