#pragma once
// The worker's side of a batch (a BatchAccess for the plugin): inputs are read in place from the
// slot's input region the server wrote, or from the body regions where the server received them;
// outputs over 4 KiB are allocated in the worker's output pool, where the server writes them to
// its clients from (the worker keeps them until the server releases them); small ones, and large
// ones when the pool is full, are allocated in the slot's output region, which the server copies
// from. An output region too small for a
// batch is replaced by a larger one when the batch finishes (the Result then carries its fd), so a
// slot grows to its largest batch once. Progress reports and partial responses go to the server
// as ipc::Progress and ipc::Partial messages. Thread-safety: one thread at a time, except
// Cancelled, Progress, TakesPartials and SendPartial.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "ipc/messages.h"
#include "ipc/shm_pool.h"
#include "ipc/shm_region.h"
#include "ipc/slot_arena.h"
#include "plugin/batch_access.h"
#include "plugin/output_ledger.h"
#include "switchyard/model_config.h"

namespace switchyard::worker {

// The body regions the server announced with MapRegion, by id: added by the thread that
// receives the server's messages while batches that read them may execute. Thread-safe.
class BodyRegions {
 public:
  // Maps `fd` as region `id` and returns its memory, unless `id` is known already (then an
  // empty span, and nothing happens). Errors: mapping failed.
  StatusOr<std::span<std::byte>> Add(uint32_t id, ipc::UniqueFd fd, uint64_t size) EXCLUDES(mu_);
  // The memory of region `id`; empty when it is not known. Valid while this object lives.
  std::span<const std::byte> Find(uint32_t id) const EXCLUDES(mu_);
  std::size_t size() const EXCLUDES(mu_);
  // Every region's memory (to tell the plugin before they go).
  std::vector<std::span<std::byte>> All() const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::unordered_map<uint32_t, ipc::ShmRegion> regions_ GUARDED_BY(mu_);
};

// The shared memory a batch's inputs lie in: the slot's input region (TensorRef::region 0) and
// the body regions.
struct InputMemory {
  std::span<const std::byte> slot;
  const BodyRegions* body_regions = nullptr;  // may be null

  // The memory of `region`; empty when it is not known.
  std::span<const std::byte> Find(uint32_t region) const;
};

// Checks an Execute message against the config and the input memory: one input per config
// input with the config's datatype, every tensor inside a known region, and (but for BYTES) a
// byte size that its shape needs.
Status ValidateExecute(const ModelConfig& config, const ipc::Execute& execute,
                       const InputMemory& inputs);

class ShmBatch final : public plugin::BatchAccess {
 public:
  // Sends a message (ipc::Progress, ipc::Partial) to the server; any thread.
  using MessageSender = std::function<Status(const ipc::Message&)>;

  // REQUIRES: ValidateExecute(*config, *execute, *inputs) is OK. Everything pointed to must
  // outlive the batch. `outputs` may be empty (no region yet). `output_pool` may be null.
  // `send` may be null (progress reports and partial responses are dropped).
  ShmBatch(const ModelConfig* config, const ipc::Execute* execute, const InputMemory* inputs,
           std::optional<ipc::ShmRegion>* outputs, ipc::ShmPool* output_pool,
           MessageSender send = nullptr);

  uint32_t request_count() const override;
  Status Input(uint32_t request, uint32_t input, SyTensor* out) const override;
  bool OutputRequested(uint32_t request, uint32_t output) const override;
  std::span<const std::pair<std::string, std::string>> Parameters(uint32_t request) const override {
    return execute_->requests[request].parameters;
  }
  StatusOr<void*> AllocateOutput(uint32_t request, uint32_t output, Shape shape,
                                 uint64_t byte_size) override;
  SyCancelState Cancelled(uint32_t request) const override;
  void SetError(uint32_t request, Status status) override;
  void Progress(uint32_t request, double fraction, std::string_view message) override;
  plugin::ProgressGate& progress_gate() override { return progress_gate_; }
  const ModelConfig& config() const override { return *config_; }
  bool TakesPartials(uint32_t request) const override;
  // Sends the outputs' bytes to the server in an ipc::Partial.
  Status SendPartial(uint32_t request, std::span<const SyOutput> outputs) override;

  // The batch's Result. If the outputs did not fit the output region, a larger region replaces
  // `*outputs` (the outputs copied into it) and `*grew` is set: send its fd with the Result.
  StatusOr<ipc::Result> Finish(const Status& batch_status, bool* grew);
  // After Finish: the output pool blocks the Result names (the outputs of failed requests are
  // dropped), for the caller to keep until the server releases the batch.
  std::vector<std::unique_ptr<SharedMemoryBlock>> TakeOutputBlocks();

 private:
  // Where an output's bytes are.
  struct OutputMemory {
    std::unique_ptr<SharedMemoryBlock> block;  // in the output pool, if there was room
    std::optional<uint64_t> offset;  // else in the slot's output region; nullopt: in `overflow`
    std::vector<std::byte> overflow;
  };
  // Moves every output into a new region large enough for all of them.
  Status GrowOutputs();

  const ModelConfig* const config_;
  const ipc::Execute* const execute_;
  const InputMemory* const inputs_;
  std::optional<ipc::ShmRegion>* const outputs_;
  ipc::ShmPool* const output_pool_;
  std::optional<ipc::SlotArena> arena_;  // over the output region, if there is one
  bool overflowed_ = false;
  plugin::OutputLedger<OutputMemory> ledger_;
  const MessageSender send_;
  plugin::ProgressGate progress_gate_;
};

}  // namespace switchyard::worker
