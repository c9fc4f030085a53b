#pragma once
// An instance of a torch model: its own copy of the TorchScript module on its own device (the
// CPU, or cuda:0 of the GPUs the host made visible), run batch by batch. The interface is kept
// free of torch headers so the ABI layer compiles quickly; torch_instance.cc holds the rest.
// Thread-safety: one thread at a time (the ABI calls an instance from one thread at a time).

#include <cstdint>
#include <memory>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/status.h"
#include "torch_model.h"

namespace switchyard::torch_backend {

class TorchInstance {
 public:
  virtual ~TorchInstance() = default;

  // Loads `model`'s module onto the instance's device, puts it in eval mode, checks its
  // forward() against the config, and captures CUDA graphs when configured. `model` must outlive
  // the instance.
  static sdk::StatusOr<std::unique_ptr<TorchInstance>> Create(const TorchModel& model,
                                                              const SyInstanceDesc& desc);

  // Runs one batch (see SyInstanceExecute): requests whose inputs do not fit the config are
  // failed with SY_ERROR_INVALID_ARGUMENT, the others are concatenated and run by forward()
  // (requests whose variable dimensions differ run in separate calls), and their outputs split
  // back. A failure of forward() or of the output checks fails the requests of that call with
  // SY_ERROR_INTERNAL. Returns an error only for failures of the whole batch.
  virtual sdk::Status Execute(const SyHostApi& host, SyBatch* batch) = 0;

  // Device memory reserved for the instance's device, in bytes (0 on the CPU).
  virtual uint64_t DeviceMemory() const = 0;

  // SyInstanceHostMemoryMapped / SyInstanceHostMemoryUnmapping: a CUDA instance page-locks the
  // range, and copies inputs lying in it straight to the device (DeviceContext).
  virtual sdk::Status HostMemoryMapped(void* base, uint64_t size) = 0;
  virtual void HostMemoryUnmapping(void* base) = 0;
};

}  // namespace switchyard::torch_backend
