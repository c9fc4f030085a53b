#pragma once
// The worker's side of a batch (a BatchAccess for the plugin): inputs are read in place from the
// slot's input region the server wrote; outputs are allocated in the slot's output region, which
// the server reads. An output region too small for a batch is replaced by a larger one when the
// batch finishes (the Result then carries its fd), so a slot grows to its largest batch once.
// Thread-safety: one thread at a time.

#include <cstdint>
#include <optional>
#include <vector>

#include "ipc/messages.h"
#include "ipc/shm_region.h"
#include "ipc/slot_arena.h"
#include "plugin/batch_access.h"
#include "switchyard/model_config.h"

namespace switchyard::worker {

// Checks an Execute message against the config and the input region: one input per config
// input with the config's datatype, every tensor inside the region.
Status ValidateExecute(const ModelConfig& config, const ipc::Execute& execute,
                       std::size_t input_region_size);

class ShmBatch final : public plugin::BatchAccess {
 public:
  // REQUIRES: ValidateExecute(*config, *execute, inputs.size()) is OK. Everything pointed to
  // must outlive the batch. `outputs` may be empty (no region yet).
  ShmBatch(const ModelConfig* config, const ipc::Execute* execute, const ipc::ShmRegion* inputs,
           std::optional<ipc::ShmRegion>* outputs);

  uint32_t request_count() const override;
  Status Input(uint32_t request, uint32_t input, SyTensor* out) const override;
  bool OutputRequested(uint32_t request, uint32_t output) const override;
  StatusOr<void*> AllocateOutput(uint32_t request, uint32_t output, Shape shape,
                                 uint64_t byte_size) override;
  void SetError(uint32_t request, Status status) override;

  // The batch's Result. If the outputs did not fit the output region, a larger region replaces
  // `*outputs` (the outputs copied into it) and `*grew` is set: send its fd with the Result.
  StatusOr<ipc::Result> Finish(const Status& batch_status, bool* grew);

 private:
  struct PendingOutput {
    bool allocated = false;
    Shape shape;
    uint64_t size = 0;
    std::optional<uint64_t> offset;  // in the output region; nullopt: in `overflow`
    std::vector<std::byte> overflow;
  };
  struct PendingRequest {
    std::vector<PendingOutput> outputs;
    Status error;
  };
  // Moves every output into a new region large enough for all of them.
  Status GrowOutputs();

  const ModelConfig* const config_;
  const ipc::Execute* const execute_;
  const ipc::ShmRegion* const inputs_;
  std::optional<ipc::ShmRegion>* const outputs_;
  std::optional<ipc::SlotArena> arena_;  // over the output region, if there is one
  bool overflowed_ = false;
  std::vector<PendingRequest> pending_;
};

}  // namespace switchyard::worker
