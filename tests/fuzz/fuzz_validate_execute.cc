// libFuzzer target for the worker's side of a batch (src/worker/shm_batch.h): the Execute
// messages a worker process takes from the server, checked by ValidateExecute before the
// plugin reads the memory they name through a ShmBatch.
//
// Input: one encoded message (as fuzz_ipc_message). When it decodes to an Execute it is checked
// against a fixed model (inputs A: INT32 and B: UINT8; outputs X: UINT8 and Y: INT32), a fixed
// slot input region of kSlotBytes (ordinary heap memory, so that ASan sees a read past its end)
// and one body region, id kBodyRegion, of kBodyBytes. A refusal must be InvalidArgument. An
// Execute that passes is run as a plugin would: every input of every request read byte by byte
// (each must lie inside the memory of its region), every output's OutputRequested, every
// request's Parameters and Cancelled, and an X output allocated for every request (in the output
// pool, the slot's output region or past it) and found again, intact, where the Result says.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ipc/messages.h"
#include "ipc/shm_pool.h"
#include "ipc/shm_region.h"
#include "ipc/unique_fd.h"
#include "switchyard/backend.h"
#include "worker/shm_batch.h"

namespace {

using namespace switchyard;  // NOLINT(google-build-using-namespace): a test program

constexpr std::size_t kSlotBytes = 1000;  // not a multiple of a page: ASan guards its end
constexpr uint32_t kBodyRegion = 1;
constexpr std::size_t kBodyBytes = 4096;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Whether [data, data + size) lies inside `memory`.
bool Inside(const void* data, uint64_t size, std::span<const std::byte> memory) {
  auto* begin = static_cast<const std::byte*>(data);
  return begin >= memory.data() && begin <= memory.data() + memory.size() &&
         size <= static_cast<uint64_t>(memory.data() + memory.size() - begin);
}

struct Fixture {
  Fixture() : slot(kSlotBytes) {
    config.name = "fuzz";
    config.backend = "sim";
    config.inputs = {{"A", DataType::kInt32, {-1}}, {"B", DataType::kUint8, {-1}}};
    config.outputs = {{"X", DataType::kUint8, {-1}}, {"Y", DataType::kInt32, {-1}}};
    for (std::size_t i = 0; i < slot.size(); ++i) slot[i] = static_cast<std::byte>(i * 7);
    auto body = ipc::ShmRegion::Create("fuzz-validate-execute-body", kBodyBytes);
    Check(body.ok());
    Check(body_regions.Add(kBodyRegion, ipc::UniqueFd(::dup(body->fd())), kBodyBytes).ok());
    inputs = {.slot = slot, .body_regions = &body_regions};
    auto region = ipc::ShmRegion::Create("fuzz-validate-execute-outputs", 16 << 10);
    Check(region.ok());
    outputs.emplace(std::move(region).value());
    output_pool = ipc::ShmPool::Create(
        {.name = "fuzz-validate-execute-pool", .region_bytes = 16 << 10, .max_regions = 1});
  }

  ModelConfig config;
  std::vector<std::byte> slot;  // the slot's input region
  worker::BodyRegions body_regions;
  worker::InputMemory inputs;
  std::optional<ipc::ShmRegion> outputs;  // the slot's output region; grows as batches need
  std::shared_ptr<ipc::ShmPool> output_pool;
};

// Runs `execute` (valid) as a plugin would, checking what the batch hands out.
void RunBatch(Fixture& f, const ipc::Execute& execute) {
  worker::ShmBatch batch(&f.config, &execute, &f.inputs, &f.outputs, f.output_pool.get());
  Check(batch.request_count() == execute.requests.size());
  uint64_t sum = 0;
  std::vector<std::vector<std::byte>> written(execute.requests.size());
  for (uint32_t r = 0; r < batch.request_count(); ++r) {
    const ipc::RequestRef& request = execute.requests[r];
    for (uint32_t i = 0; i < f.config.inputs.size(); ++i) {
      SyTensor t;
      Check(batch.Input(r, i, &t).ok());
      const ipc::TensorRef& ref = request.inputs[i];
      Check(t.byte_size == ref.size && t.dim_count == ref.shape.size());
      Check(static_cast<DataType>(t.datatype) == f.config.inputs[i].datatype);
      Check(Inside(t.data, t.byte_size, f.inputs.Find(ref.region)));
      auto* bytes = static_cast<const std::byte*>(t.data);
      for (uint64_t b = 0; b < t.byte_size; ++b) sum += static_cast<uint8_t>(bytes[b]);
      for (uint32_t d = 0; d < t.dim_count; ++d) sum += static_cast<uint64_t>(t.shape[d]);
    }
    SyTensor none;
    Check(!batch.Input(r, static_cast<uint32_t>(f.config.inputs.size()), &none).ok());
    for (uint32_t o = 0; o < f.config.outputs.size(); ++o) {
      Check(batch.OutputRequested(r, o) == ((request.requested_outputs >> o & 1) != 0));
    }
    Check(!batch.OutputRequested(r, static_cast<uint32_t>(f.config.outputs.size())));
    Check(batch.Parameters(r).size() == request.parameters.size());
    for (const auto& [key, value] : batch.Parameters(r)) sum += key.size() + value.size();
    const SyCancelState cancelled = batch.Cancelled(r);
    Check(cancelled == SY_NOT_CANCELLED || cancelled == SY_CANCELLED_CLIENT_GONE ||
          cancelled == SY_CANCELLED_DEADLINE);
    // An output X of a size the request chose, up to 8 KiB: those over 4 KiB land in the pool
    // while it has room, the others in the output region or past it.
    const uint64_t size = request.inputs[0].size % 200 + request.inputs[1].size * 2;
    auto x = batch.AllocateOutput(r, 0, {static_cast<int64_t>(size)}, size);
    Check(x.ok());
    written[r].resize(size);
    for (uint64_t b = 0; b < size; ++b) written[r][b] = static_cast<std::byte>(r + b);
    if (size > 0) std::memcpy(*x, written[r].data(), size);
  }
  Check(batch.Cancelled(batch.request_count()) == SY_NOT_CANCELLED);
  volatile uint64_t sink = sum;
  (void)sink;

  bool grew = false;
  auto result = batch.Finish(Status::Ok(), &grew);
  Check(result.ok() && result->requests.size() == execute.requests.size());
  Check(grew == (result->slot_size != 0));
  Check(!grew || (f.outputs && result->slot_size == f.outputs->size()));
  auto blocks = batch.TakeOutputBlocks();
  for (std::size_t r = 0; r < result->requests.size(); ++r) {
    const ipc::RequestResult& answer = result->requests[r];
    Check(answer.code == 0 && answer.outputs.size() == 1);
    const ipc::TensorRef& ref = answer.outputs[0];
    Check(ref.index == 0 && ref.size == written[r].size());
    std::span<const std::byte> memory;
    if (ref.region == 0) {
      Check(f.outputs.has_value());
      memory = {f.outputs->data(), f.outputs->size()};
    } else {
      for (const auto& block : blocks) {
        if (block->region_id() == ref.region && block->offset_in_region() == ref.offset) {
          memory = block->bytes();
          memory = {memory.data() - ref.offset, block->region_size()};
        }
      }
    }
    Check(ipc::TensorFits(ref, memory.size()));
    Check(ref.size == 0 ||
          std::memcmp(memory.data() + ref.offset, written[r].data(), ref.size) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static Fixture* fixture = new Fixture();  // lives for the whole process
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  auto decoded = ipc::Decode(input);
  if (!decoded.ok()) return 0;
  const auto* execute = std::get_if<ipc::Execute>(&*decoded);
  if (execute == nullptr) return 0;
  Status valid = worker::ValidateExecute(fixture->config, *execute, fixture->inputs);
  if (!valid.ok()) {
    Check(valid.code() == StatusCode::kInvalidArgument);
    return 0;
  }
  RunBatch(*fixture, *execute);
  return 0;
}
