#include "worker/shm_batch.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "fmt/format.h"
#include "ipc/slot_arena.h"
#include "plugin/host_api.h"
#include "switchyard/datatype.h"
#include "switchyard/tensor.h"

namespace switchyard::worker {
namespace {

constexpr uint64_t kMinOutputRegion = 1 << 20;

// Outputs up to this size go to the slot's output region, from which the server copies them,
// rather than to the output pool, from which the server would send them and then give them back
// with a ReleaseOutputs message: for a small output the copy costs less than that message and
// the wake-up of this worker it causes.
constexpr uint64_t kCopiedOutputMaxBytes = 4 << 10;

}  // namespace

StatusOr<std::span<std::byte>> BodyRegions::Add(uint32_t id, ipc::UniqueFd fd, uint64_t size) {
  {
    MutexLock lock(&mu_);
    if (regions_.contains(id)) return std::span<std::byte>();
  }
  ASSIGN_OR_RETURN(ipc::ShmRegion region, ipc::ShmRegion::Map(std::move(fd), size));
  std::span<std::byte> memory(region.data(), region.size());
  MutexLock lock(&mu_);
  if (!regions_.emplace(id, std::move(region)).second) return std::span<std::byte>();
  return memory;
}

std::span<const std::byte> BodyRegions::Find(uint32_t id) const {
  MutexLock lock(&mu_);
  auto it = regions_.find(id);
  if (it == regions_.end()) return {};
  return {it->second.data(), it->second.size()};
}

std::size_t BodyRegions::size() const {
  MutexLock lock(&mu_);
  return regions_.size();
}

std::vector<std::span<std::byte>> BodyRegions::All() const {
  MutexLock lock(&mu_);
  std::vector<std::span<std::byte>> all;
  for (const auto& [id, region] : regions_) all.emplace_back(region.data(), region.size());
  return all;
}

std::span<const std::byte> InputMemory::Find(uint32_t region) const {
  if (region == 0) return slot;
  if (body_regions == nullptr) return {};
  return body_regions->Find(region);
}

Status ValidateExecute(const ModelConfig& config, const ipc::Execute& execute,
                       const InputMemory& inputs) {
  if (execute.requests.empty()) return InvalidArgument("an Execute with no requests");
  if (execute.cancel_flags > inputs.slot.size() ||
      execute.requests.size() > inputs.slot.size() - execute.cancel_flags) {
    return InvalidArgument("an Execute's cancel flags lie outside its slot");
  }
  for (const ipc::RequestRef& request : execute.requests) {
    if (request.inputs.size() != config.inputs.size()) {
      return InvalidArgument(fmt::format("an Execute request with {} inputs, the model has {}",
                                         request.inputs.size(), config.inputs.size()));
    }
    for (std::size_t i = 0; i < request.inputs.size(); ++i) {
      const ipc::TensorRef& t = request.inputs[i];
      std::span<const std::byte> memory = inputs.Find(t.region);
      bool known = t.region == 0 || !memory.empty();
      if (t.index != i || t.datatype != static_cast<uint32_t>(config.inputs[i].datatype) ||
          !known || !ipc::TensorFits(t, memory.size())) {
        return InvalidArgument(
            fmt::format("an Execute input {} does not match the model or lies outside the "
                        "memory it names (region {})",
                        i, t.region));
      }
      // A plugin may trust the shape over the byte size: they must agree (BYTES elements carry
      // their own lengths, which the plugin reads within the byte size).
      const DataType datatype = config.inputs[i].datatype;
      const int64_t count = ElementCount(t.shape);
      if (datatype != DataType::kBytes && !HoldsElements(datatype, count, t.size)) {
        return InvalidArgument(fmt::format(
            "an Execute input {} has {} bytes, but its shape {} of {} needs {} elements", i, t.size,
            ShapeToString(t.shape), DataTypeName(datatype), count));
      }
    }
  }
  return Status::Ok();
}

ShmBatch::ShmBatch(const ModelConfig* config, const ipc::Execute* execute,
                   const InputMemory* inputs, std::optional<ipc::ShmRegion>* outputs,
                   ipc::ShmPool* output_pool, MessageSender send)
    : config_(config),
      execute_(execute),
      inputs_(inputs),
      outputs_(outputs),
      output_pool_(output_pool),
      ledger_(config, execute->requests.size()),
      send_(std::move(send)),
      progress_gate_(execute->requests.size(), SteadyClock::Get()) {
  if (outputs->has_value()) arena_.emplace(std::span((*outputs)->data(), (*outputs)->size()));
}

uint32_t ShmBatch::request_count() const {
  return static_cast<uint32_t>(execute_->requests.size());
}

Status ShmBatch::Input(uint32_t request, uint32_t input, SyTensor* out) const {
  if (request >= execute_->requests.size() || input >= config_->inputs.size()) {
    return InvalidArgument(fmt::format("no input {} of request {}", input, request));
  }
  const ipc::TensorRef& t = execute_->requests[request].inputs[input];
  *out = {.name = config_->inputs[input].name.c_str(),
          .datatype = static_cast<SyDataType>(t.datatype),
          .shape = t.shape.data(),
          .dim_count = static_cast<uint32_t>(t.shape.size()),
          .data = inputs_->Find(t.region).data() + t.offset,
          .byte_size = t.size};
  return Status::Ok();
}

bool ShmBatch::OutputRequested(uint32_t request, uint32_t output) const {
  if (request >= execute_->requests.size() || output >= config_->outputs.size()) return false;
  return output >= 64 || (execute_->requests[request].requested_outputs >> output & 1) != 0;
}

StatusOr<void*> ShmBatch::AllocateOutput(uint32_t request, uint32_t output, Shape shape,
                                         uint64_t byte_size) {
  ASSIGN_OR_RETURN(auto* out, ledger_.Allocate(request, output, std::move(shape), byte_size));
  OutputMemory& memory = out->memory;
  if (output_pool_ != nullptr && byte_size > kCopiedOutputMaxBytes) {
    if ((memory.block = output_pool_->Allocate(byte_size))) {
      return static_cast<void*>(memory.block->bytes().data());
    }
  }
  if (arena_) {
    if (std::optional<uint64_t> offset = arena_->Allocate(byte_size)) {
      memory.offset = *offset;
      return static_cast<void*>(arena_->data() + *offset);
    }
  }
  overflowed_ = true;
  memory.overflow.resize(byte_size);
  return static_cast<void*>(memory.overflow.data());
}

void ShmBatch::Progress(uint32_t request, double fraction, std::string_view message) {
  if (!send_ || request >= execute_->requests.size()) return;
  // A report that cannot be sent is dropped: the Result will say the rest.
  (void)send_(ipc::Progress{.batch_id = execute_->batch_id,
                            .request = request,
                            .fraction = fraction,
                            .message = std::string(message)});
}

bool ShmBatch::TakesPartials(uint32_t request) const {
  return send_ && request < execute_->requests.size() && execute_->requests[request].takes_partials;
}

Status ShmBatch::SendPartial(uint32_t request, std::span<const SyOutput> outputs) {
  ipc::Partial partial{.batch_id = execute_->batch_id, .request = request};
  partial.outputs.reserve(outputs.size());
  for (const SyOutput& output : outputs) {
    partial.outputs.push_back(
        {.index = output.output,
         .shape = std::vector<int64_t>(output.shape, output.shape + output.dim_count),
         .bytes = output.byte_size == 0
                      ? std::string()
                      : std::string(static_cast<const char*>(output.data), output.byte_size)});
  }
  Status sent = send_(partial);
  if (!sent.ok()) return Internal("the partial response could not be sent: " + sent.message());
  return Status::Ok();
}

SyCancelState ShmBatch::Cancelled(uint32_t request) const {
  if (request >= execute_->requests.size()) return SY_NOT_CANCELLED;
  // The server writes the flag while the batch executes (instance/cancel_relay.h).
  auto* flag = const_cast<std::byte*>(inputs_->slot.data() + execute_->cancel_flags + request);
  auto state =
      static_cast<uint8_t>(std::atomic_ref<std::byte>(*flag).load(std::memory_order_acquire));
  return state == SY_CANCELLED_CLIENT_GONE || state == SY_CANCELLED_DEADLINE
             ? static_cast<SyCancelState>(state)
             : SY_NOT_CANCELLED;
}

void ShmBatch::SetError(uint32_t request, Status status) {
  ledger_.SetError(request, std::move(status));
}

Status ShmBatch::GrowOutputs() {
  uint64_t needed = 0;
  for (uint32_t r = 0; r < ledger_.request_count(); ++r) {
    for (const auto& out : ledger_.outputs(r)) {
      if (out.allocated && !out.memory.block) needed = ipc::SlotArena::AlignUp(needed) + out.size;
    }
  }
  std::optional<ipc::ShmRegion>& old = *outputs_;
  uint64_t size = std::max({needed, kMinOutputRegion, old ? 2 * old->size() : 0});
  ASSIGN_OR_RETURN(ipc::ShmRegion grown, ipc::ShmRegion::Create("switchyard-outputs", size));
  uint64_t offset = 0;
  for (uint32_t r = 0; r < ledger_.request_count(); ++r) {
    for (auto& out : ledger_.outputs(r)) {
      OutputMemory& memory = out.memory;
      if (!out.allocated || memory.block) continue;
      offset = ipc::SlotArena::AlignUp(offset);
      const std::byte* from = memory.offset ? old->data() + *memory.offset : memory.overflow.data();
      if (out.size > 0) std::memcpy(grown.data() + offset, from, out.size);
      memory.offset = offset;
      memory.overflow = {};
      offset += out.size;
    }
  }
  arena_.reset();  // it spans the region being replaced
  old = std::move(grown);
  return Status::Ok();
}

StatusOr<ipc::Result> ShmBatch::Finish(const Status& batch_status, bool* grew) {
  *grew = false;
  if (overflowed_) {
    RETURN_IF_ERROR(GrowOutputs());
    *grew = true;
  }
  ipc::Result result;
  result.batch_id = execute_->batch_id;
  result.slot = execute_->slot;
  if (*grew) result.slot_size = (*outputs_)->size();
  for (uint32_t r = 0; r < ledger_.request_count(); ++r) {
    ipc::RequestResult& answer = result.requests.emplace_back();
    auto outputs = ledger_.outputs(r);
    if (const Status& status = ledger_.Outcome(r, batch_status); !status.ok()) {
      answer.code = static_cast<uint32_t>(status.code());
      answer.message = status.message();
      for (auto& out : outputs) out.memory.block.reset();
      continue;
    }
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const auto& out = outputs[i];
      if (!out.allocated) continue;
      ipc::TensorRef& ref = answer.outputs.emplace_back(
          ipc::TensorRef{.index = static_cast<uint32_t>(i),
                         .datatype = static_cast<uint32_t>(config_->outputs[i].datatype),
                         .shape = out.shape,
                         .size = out.size});
      if (out.memory.block) {
        ref.region = out.memory.block->region_id();
        ref.offset = out.memory.block->offset_in_region();
      } else {
        ref.offset = *out.memory.offset;
      }
    }
  }
  return result;
}

std::vector<std::unique_ptr<SharedMemoryBlock>> ShmBatch::TakeOutputBlocks() {
  std::vector<std::unique_ptr<SharedMemoryBlock>> blocks;
  for (uint32_t r = 0; r < ledger_.request_count(); ++r) {
    for (auto& out : ledger_.outputs(r)) {
      if (out.memory.block) blocks.push_back(std::move(out.memory.block));
    }
  }
  return blocks;
}

}  // namespace switchyard::worker
