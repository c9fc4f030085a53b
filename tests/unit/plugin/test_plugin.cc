// A backend plugin for the host's tests, built three times with TEST_PLUGIN_MODE:
//   0: a well-behaved identity backend (output i = input i);
//   1: reports API version 999 (must be refused at load);
//   2: throws a C++ exception out of SyInstanceExecute (must be contained by the host).
// While the host has told it of mapped host memory (SyInstanceHostMemoryMapped), Execute
// fails any request whose input lies outside every range it was told of, so that tests can see
// the host's calls. A batch whose first request's first input starts with the INT32 kLoseDevice
// fails with SY_ERROR_DEVICE_LOST ("test plugin: device lost"); SyInstanceFini of an instance
// that lost its device aborts the process, as libtorch does when it frees device memory after a
// sticky CUDA error: the host must never call it then.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "switchyard/backend.h"

namespace {
constexpr int32_t kLoseDevice = -66;
const SyHostApi* g_host = nullptr;
uint32_t g_outputs = 0;
std::vector<std::pair<const char*, uint64_t>> g_mapped;  // base, size

bool InMappedMemory(const SyTensor& tensor) {
  const auto* data = static_cast<const char*>(tensor.data);
  for (const auto& [base, size] : g_mapped) {
    if (data >= base && data + tensor.byte_size <= base + size) return true;
  }
  return false;
}

// An instance's state: whether it lost its device. Owned by g_instances, so that the state of a
// lost instance, which the host never finishes, is not reported as a leak.
struct InstanceState {
  bool lost = false;
};
std::vector<std::unique_ptr<InstanceState>> g_instances;

}  // namespace

extern "C" {

SY_EXPORT uint32_t SyBackendApiVersion(void) {
  return TEST_PLUGIN_MODE == 1 ? 999u : SY_BACKEND_API_VERSION;
}

SY_EXPORT SyError* SyBackendInit(const SyHostApi* host, void** backend_state) {
  g_host = host;
  *backend_state = nullptr;
  return nullptr;
}

SY_EXPORT void SyBackendFini(void*) {}

SY_EXPORT SyError* SyModelInit(void*, const SyModelDesc* desc, void** model_state) {
  if (desc->input_count != desc->output_count) {
    return g_host->error_new(SY_ERROR_INVALID_ARGUMENT, "identity needs as many outputs as inputs");
  }
  g_outputs = desc->output_count;
  *model_state = nullptr;
  return nullptr;
}

SY_EXPORT void SyModelFini(void*) {}

SY_EXPORT SyError* SyInstanceInit(void*, const SyInstanceDesc*, void** instance_state) {
  *instance_state = g_instances.emplace_back(std::make_unique<InstanceState>()).get();
  return nullptr;
}

SY_EXPORT void SyInstanceFini(void* instance_state) {
  auto* state = static_cast<InstanceState*>(instance_state);
  if (state->lost) std::abort();
  std::erase_if(g_instances, [&](const auto& owned) { return owned.get() == state; });
}

bool LosesDevice(SyBatch* batch) {
  SyTensor first;
  if (g_outputs == 0) return false;
  if (SyError* error = g_host->request_input(batch, 0, 0, &first)) {
    g_host->request_set_error(batch, 0, error);  // hands it back
    return false;
  }
  int32_t value = 0;
  if (first.byte_size < sizeof(value)) return false;
  std::memcpy(&value, first.data, sizeof(value));
  return value == kLoseDevice;
}

SY_EXPORT SyError* SyInstanceExecute(void* instance_state, SyBatch* batch) {
  if (TEST_PLUGIN_MODE == 2) throw std::runtime_error("the test plugin throws");
  if (LosesDevice(batch)) {
    static_cast<InstanceState*>(instance_state)->lost = true;
    return g_host->error_new(SY_ERROR_DEVICE_LOST, "test plugin: device lost");
  }
  for (uint32_t r = 0; r < g_host->batch_request_count(batch); ++r) {
    for (uint32_t i = 0; i < g_outputs; ++i) {
      SyTensor in;
      if (SyError* error = g_host->request_input(batch, r, i, &in)) return error;
      if (!g_mapped.empty() && !InMappedMemory(in)) {
        return g_host->error_new(SY_ERROR_INTERNAL, "input outside the mapped host memory");
      }
      void* out = nullptr;
      if (SyError* error = g_host->request_output_alloc(batch, r, i, in.shape, in.dim_count,
                                                        in.byte_size, &out)) {
        return error;
      }
      if (in.byte_size > 0) std::memcpy(out, in.data, in.byte_size);
    }
  }
  return nullptr;
}

SY_EXPORT SyError* SyInstanceHostMemoryMapped(void*, void* base, uint64_t size) {
  g_mapped.emplace_back(static_cast<const char*>(base), size);
  return nullptr;
}

SY_EXPORT void SyInstanceHostMemoryUnmapping(void*, void* base) {
  std::erase_if(g_mapped, [&](const auto& range) { return range.first == base; });
}

}  // extern "C"
