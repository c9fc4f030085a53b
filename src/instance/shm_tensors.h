#pragma once
// The server's side of moving a batch through a worker's shared-memory slot: describing the
// requests' inputs in an Execute message (where their bodies were received in shared memory, or
// copied into the slot's input region), and making tensors of a Result's outputs (shared where
// they lie in the worker's output regions, or copied out of the slot). Pure functions.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "instance/instance.h"
#include "ipc/messages.h"
#include "ipc/shm_region.h"
#include "switchyard/model_config.h"

namespace switchyard {

// Where a request's input lies in the shared memory its body was received into, when the worker
// can read it there: inside the request's SharedMemoryBlock and 64-byte aligned in the region.
struct BodyPlace {
  const SharedMemoryBlock* memory = nullptr;
  uint64_t offset = 0;  // in memory's region
};
std::optional<BodyPlace> FindInBody(const InferRequest& request, const Tensor& tensor);

// Bytes enough for the inputs of `requests` that must be copied into a slot (those FindInBody
// does not place), each tensor 64-byte aligned, and for the batch's cancel flags.
uint64_t SlotInputBytes(std::span<InferRequest* const> requests);

// What WriteInputs did.
struct WrittenInputs {
  uint64_t copied_bytes = 0;    // copied into the slot
  uint64_t in_place_bytes = 0;  // named where they lie in body regions
  // The body regions the Execute names, each once: the worker must have mapped them.
  std::vector<const SharedMemoryBlock*> regions;
};

// Fills `execute->requests` (each request's inputs in config order) for `requests` (validated
// against `config`): inputs that FindInBody places are named in their body region; the others
// are copied into `region`, the slot. The slot holds input 0 of every request in request order,
// then input 1, ...; each tensor starts 64-byte aligned, so the tensors of one input lie end to
// end when their sizes are multiples of 64, and a backend can copy them to a device as one
// batch (SyInstanceHostMemoryMapped). After them come the batch's cancel flags
// (Execute::cancel_flags), written SY_NOT_CANCELLED here.
// REQUIRES: region.size() >= SlotInputBytes(requests).
WrittenInputs WriteInputs(const ModelConfig& config, std::span<InferRequest* const> requests,
                          std::span<std::byte> region, ipc::Execute* execute);

// The memory a Result's outputs lie in: the slot's output region (outputs there are copied out,
// so that the slot can take the next batch at once) and the worker's output regions by id
// (outputs there are shared: each tensor points into the region and holds `keeper`, whose end
// tells the worker it may reuse the memory).
struct OutputMemory {
  std::span<const std::byte> slot;
  const std::unordered_map<uint32_t, std::shared_ptr<const ipc::ShmRegion>>* regions = nullptr;
  std::shared_ptr<const void> keeper;  // REQUIRES: non-null if the Result names regions
};

// Whether an output of `result` lies in a worker output region (TensorRef::region != 0).
bool NamesOutputRegions(const ipc::Result& result);

// The outputs of each request of `result`, named after `config`. A request the worker failed
// gets its error (kAborted is not a code a worker may send: it becomes Internal); a malformed
// answer (wrong request count, an output outside its memory or in an unknown region, a datatype
// that is not the config's, bad BYTES) is Internal for the request(s) it concerns.
std::vector<RequestOutputs> ReadOutputs(const ModelConfig& config, const ipc::Result& result,
                                        const OutputMemory& memory, std::size_t request_count);

}  // namespace switchyard
