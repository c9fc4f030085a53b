// The worker's side of a batch: ValidateExecute (every check it makes on an Execute before the
// worker touches the memory the Execute names) and ShmBatch (inputs read in place from the slot
// and from body regions, the requested-outputs mask, parameters, cancel flags, outputs allocated
// in the output pool, in the slot's output region or past it, and per-request errors).
#include "worker/shm_batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ipc/shm_pool.h"
#include "ipc/shm_region.h"
#include "ipc/unique_fd.h"
#include "switchyard/backend.h"

namespace switchyard::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kSlotBytes = 4096;
constexpr uint64_t kCancelFlags = 4000;  // where the Executes below keep their cancel flags
constexpr uint32_t kBodyRegion = 7;
constexpr uint64_t kBodyBytes = 1024;
constexpr uint64_t kRequestStride = 128;  // request r's inputs lie at r * kRequestStride
// Outputs over 4 KiB go to the output pool, smaller ones to the slot's output region
// (worker/shm_batch.h).
constexpr uint64_t kLargeOutput = 5000;

// Inputs A (INT32 [2]) and B (UINT8 [-1]); outputs X (INT32 [2]), Y (UINT8 [-1]), Z (FP32 [-1]).
ModelConfig TestConfig() {
  ModelConfig config;
  config.name = "shm_batch";
  config.backend = "sim";
  config.max_batch_size = 0;
  config.inputs = {{"A", DataType::kInt32, {2}}, {"B", DataType::kUint8, {-1}}};
  config.outputs = {
      {"X", DataType::kInt32, {2}}, {"Y", DataType::kUint8, {-1}}, {"Z", DataType::kFp32, {-1}}};
  return config;
}

ipc::ShmRegion MustCreate(std::string_view name, std::size_t size) {
  auto region = ipc::ShmRegion::Create(name, size);
  if (!region.ok()) {
    ADD_FAILURE() << region.status().ToString();
    std::abort();
  }
  return std::move(region).value();
}

// A second mapping of `region`'s memory, as the peer process has it.
ipc::ShmRegion PeerView(const ipc::ShmRegion& region) {
  auto mapped = ipc::ShmRegion::Map(ipc::UniqueFd(::dup(region.fd())), region.size());
  if (!mapped.ok()) {
    ADD_FAILURE() << mapped.status().ToString();
    std::abort();
  }
  return std::move(mapped).value();
}

std::vector<std::byte> Pattern(std::size_t n, uint8_t first) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(first + i);
  return out;
}

std::vector<std::byte> BytesAt(const std::byte* data, std::size_t n) {
  return std::vector<std::byte>(data, data + n);
}

class ShmBatchTest : public ::testing::Test {
 protected:
  ShmBatchTest()
      : slot_(MustCreate("shm-batch-test-slot", kSlotBytes)),
        server_slot_(PeerView(slot_)),
        server_body_(MustCreate("shm-batch-test-body", kBodyBytes)) {
    auto added =
        body_regions_.Add(kBodyRegion, ipc::UniqueFd(::dup(server_body_.fd())), kBodyBytes);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    inputs_ = {.slot = {slot_.data(), slot_.size()}, .body_regions = &body_regions_};
  }

  // An Execute of `requests` requests whose inputs the server wrote into the slot: request r's A
  // is {10r + 1, 10r + 2} at r * kRequestStride, its B is the 3 bytes {r, r + 1, r + 2} 64 bytes
  // further. Cancel flags at kCancelFlags, all clear.
  ipc::Execute MakeExecute(uint32_t requests) {
    ipc::Execute execute{.batch_id = 42, .slot = 3, .cancel_flags = kCancelFlags};
    for (uint32_t r = 0; r < requests; ++r) {
      const uint64_t a = r * kRequestStride;
      const uint64_t b = a + 64;
      const std::array<int32_t, 2> a_values = {static_cast<int32_t>(10 * r + 1),
                                               static_cast<int32_t>(10 * r + 2)};
      std::memcpy(server_slot_.data() + a, a_values.data(), sizeof(a_values));
      for (uint32_t i = 0; i < 3; ++i) server_slot_.data()[b + i] = static_cast<std::byte>(r + i);
      ipc::RequestRef& request = execute.requests.emplace_back();
      request.inputs.push_back({.index = 0,
                                .datatype = static_cast<uint32_t>(DataType::kInt32),
                                .shape = {2},
                                .region = 0,
                                .offset = a,
                                .size = 8});
      request.inputs.push_back({.index = 1,
                                .datatype = static_cast<uint32_t>(DataType::kUint8),
                                .shape = {3},
                                .region = 0,
                                .offset = b,
                                .size = 3});
    }
    return execute;
  }

  Status Validate(const ipc::Execute& execute) const {
    return ValidateExecute(config_, execute, inputs_);
  }

  // A pool of one region of `region_bytes`, as the worker keeps for its outputs.
  static std::shared_ptr<ipc::ShmPool> OutputPool(uint64_t region_bytes = 64 << 10) {
    return ipc::ShmPool::Create(
        {.name = "shm-batch-test-outputs", .region_bytes = region_bytes, .max_regions = 1});
  }

  ModelConfig config_ = TestConfig();
  ipc::ShmRegion slot_;         // the worker's mapping of the slot's input region
  ipc::ShmRegion server_slot_;  // the server's mapping of the same memory
  ipc::ShmRegion server_body_;  // a body region of the server, mapped as kBodyRegion
  BodyRegions body_regions_;
  InputMemory inputs_;
};

// ValidateExecute

TEST_F(ShmBatchTest, AcceptsAnExecuteWhoseTensorsLieInTheSlotAndABodyRegion) {
  ipc::Execute execute = MakeExecute(3);
  execute.requests[2].inputs[1].region = kBodyRegion;
  execute.requests[2].inputs[1].offset = kBodyBytes - 3;  // ends exactly at the region's end
  execute.requests[1].inputs[0].offset = kSlotBytes - 8;  // ends exactly at the slot's end
  EXPECT_TRUE(Validate(execute).ok()) << Validate(execute).ToString();
}

TEST_F(ShmBatchTest, RejectsAnExecuteWithNoRequests) {
  ipc::Execute execute = MakeExecute(0);
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("no requests"));
}

TEST_F(ShmBatchTest, AcceptsCancelFlagsThatEndAtTheSlotsEnd) {
  ipc::Execute execute = MakeExecute(4);
  execute.cancel_flags = kSlotBytes - 4;  // one byte per request: the last is the slot's last
  EXPECT_TRUE(Validate(execute).ok()) << Validate(execute).ToString();
}

TEST_F(ShmBatchTest, RejectsCancelFlagsThatRunPastTheSlotsEnd) {
  ipc::Execute execute = MakeExecute(4);
  execute.cancel_flags = kSlotBytes - 3;  // the fourth request's flag would be past the end
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("cancel flags lie outside its slot"));
}

TEST_F(ShmBatchTest, RejectsCancelFlagsThatStartPastTheSlot) {
  for (uint64_t offset : {kSlotBytes + 1, std::numeric_limits<uint64_t>::max()}) {
    ipc::Execute execute = MakeExecute(1);
    execute.cancel_flags = offset;
    Status status = Validate(execute);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << offset;
    EXPECT_THAT(status.message(), HasSubstr("cancel flags lie outside its slot")) << offset;
  }
}

TEST_F(ShmBatchTest, RejectsARequestWithFewerInputsThanTheModel) {
  ipc::Execute execute = MakeExecute(2);
  execute.requests[1].inputs.pop_back();
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("with 1 inputs, the model has 2"));
}

TEST_F(ShmBatchTest, RejectsARequestWithMoreInputsThanTheModel) {
  ipc::Execute execute = MakeExecute(1);
  ipc::TensorRef extra = execute.requests[0].inputs[1];
  extra.index = 2;
  execute.requests[0].inputs.push_back(extra);
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("with 3 inputs, the model has 2"));
}

TEST_F(ShmBatchTest, RejectsAnInputThatNamesAnotherConfigPosition) {
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].inputs[0].index = 1;  // at position 0, claims to be input 1
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("input 0 does not match the model"));
}

TEST_F(ShmBatchTest, RejectsAnInputOfAnotherDatatypeThanTheConfigs) {
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].inputs[1].datatype = static_cast<uint32_t>(DataType::kFp32);
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("input 1 does not match the model"));
}

TEST_F(ShmBatchTest, RejectsATensorThatRunsPastTheEndOfTheSlot) {
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].inputs[0].offset = kSlotBytes - 7;  // 8 bytes: one past the end
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("input 0"));
  EXPECT_THAT(status.message(), HasSubstr("lies outside the memory it names (region 0)"));
}

TEST_F(ShmBatchTest, RejectsATensorThatStartsPastTheEndOfTheSlot) {
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].inputs[1].offset = kSlotBytes + 1;
  execute.requests[0].inputs[1].size = 0;
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("input 1"));
  EXPECT_THAT(status.message(), HasSubstr("(region 0)"));
}

TEST_F(ShmBatchTest, RejectsATensorWhoseSizeIsNotWhatItsShapeNeeds) {
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].inputs[0].shape = {3};  // 3 INT32 need 12 bytes; the tensor has 8
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("input 0 has 8 bytes, but its shape [3] of INT32 needs 3 elements"));
  execute.requests[0].inputs[0].shape = {-1};
  EXPECT_THAT(Validate(execute).message(), HasSubstr("input 0 has 8 bytes"));
}

TEST_F(ShmBatchTest, ABytesTensorsSizeIsNotCheckedAgainstItsShape) {
  config_.inputs[1].datatype = DataType::kBytes;
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].inputs[1].datatype = static_cast<uint32_t>(DataType::kBytes);
  execute.requests[0].inputs[1].shape = {1};  // one element of 3 bytes: its length is inside
  EXPECT_TRUE(Validate(execute).ok()) << Validate(execute).ToString();
}

TEST_F(ShmBatchTest, RejectsATensorInARegionTheServerNeverMapped) {
  // Empty too: an unknown region is refused for what it is, not for the tensor's size.
  for (uint64_t size : {3u, 0u}) {
    ipc::Execute execute = MakeExecute(1);
    execute.requests[0].inputs[1].region = 9;
    execute.requests[0].inputs[1].offset = 0;
    execute.requests[0].inputs[1].shape = {static_cast<int64_t>(size)};
    execute.requests[0].inputs[1].size = size;
    Status status = Validate(execute);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << size;
    EXPECT_THAT(status.message(), HasSubstr("input 1")) << size;
    EXPECT_THAT(status.message(), HasSubstr("(region 9)")) << size;
  }
}

TEST_F(ShmBatchTest, RejectsABodyRegionTensorWhenTheWorkerHasNoBodyRegions) {
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].inputs[1].region = kBodyRegion;
  execute.requests[0].inputs[1].offset = 0;
  execute.requests[0].inputs[1].shape = {0};
  execute.requests[0].inputs[1].size = 0;
  ASSERT_TRUE(Validate(execute).ok());  // the region is known here ...
  InputMemory slot_only{.slot = inputs_.slot, .body_regions = nullptr};
  Status status = ValidateExecute(config_, execute, slot_only);  // ... but not there
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("(region 7)"));
}

TEST_F(ShmBatchTest, RejectsATensorThatRunsPastTheEndOfItsBodyRegion) {
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].inputs[1].region = kBodyRegion;
  execute.requests[0].inputs[1].offset = kBodyBytes - 2;  // 3 bytes: one past the end
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("input 1"));
  EXPECT_THAT(status.message(), HasSubstr("(region 7)"));
}

TEST_F(ShmBatchTest, ChecksEveryRequestNotOnlyTheFirst) {
  ipc::Execute execute = MakeExecute(3);
  execute.requests[2].inputs[0].size = kSlotBytes;  // from offset 256: past the end
  Status status = Validate(execute);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("input 0"));
}

// ShmBatch: inputs, outputs requested, parameters, cancel flags

TEST_F(ShmBatchTest, ReadsInputsInPlaceFromTheSlot) {
  ipc::Execute execute = MakeExecute(2);
  ASSERT_TRUE(Validate(execute).ok());
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  EXPECT_EQ(batch.request_count(), 2u);
  for (uint32_t r = 0; r < 2; ++r) {
    SyTensor a;
    ASSERT_TRUE(batch.Input(r, 0, &a).ok());
    EXPECT_STREQ(a.name, "A");
    EXPECT_EQ(a.datatype, SY_TYPE_INT32);
    ASSERT_EQ(a.dim_count, 1u);
    EXPECT_EQ(a.shape[0], 2);
    EXPECT_EQ(a.byte_size, 8u);
    EXPECT_EQ(a.data, slot_.data() + r * kRequestStride);  // in place, not a copy
    std::array<int32_t, 2> values;
    std::memcpy(values.data(), a.data, sizeof(values));
    EXPECT_THAT(values,
                ElementsAre(static_cast<int32_t>(10 * r + 1), static_cast<int32_t>(10 * r + 2)));

    SyTensor b;
    ASSERT_TRUE(batch.Input(r, 1, &b).ok());
    EXPECT_STREQ(b.name, "B");
    EXPECT_EQ(b.datatype, SY_TYPE_UINT8);
    EXPECT_EQ(b.byte_size, 3u);
    EXPECT_EQ(b.data, slot_.data() + r * kRequestStride + 64);
    EXPECT_EQ(BytesAt(static_cast<const std::byte*>(b.data), 3),
              Pattern(3, static_cast<uint8_t>(r)));
  }
}

TEST_F(ShmBatchTest, ReadsInputsInPlaceFromABodyRegion) {
  ipc::Execute execute = MakeExecute(1);
  ipc::TensorRef& b = execute.requests[0].inputs[1];
  b.region = kBodyRegion;
  b.offset = 256;
  b.shape = {5};
  b.size = 5;
  std::vector<std::byte> body = Pattern(5, 0xC0);
  std::memcpy(server_body_.data() + 256, body.data(), body.size());  // the server received it
  ASSERT_TRUE(Validate(execute).ok());
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  SyTensor t;
  ASSERT_TRUE(batch.Input(0, 1, &t).ok());
  EXPECT_EQ(t.data, body_regions_.Find(kBodyRegion).data() + 256);
  EXPECT_EQ(t.byte_size, 5u);
  ASSERT_EQ(t.dim_count, 1u);
  EXPECT_EQ(t.shape[0], 5);
  EXPECT_EQ(BytesAt(static_cast<const std::byte*>(t.data), 5), body);
  // The other input of the same request still comes from the slot.
  SyTensor a;
  ASSERT_TRUE(batch.Input(0, 0, &a).ok());
  EXPECT_EQ(a.data, slot_.data());
}

TEST_F(ShmBatchTest, InputsOutOfRangeAreInvalidArgument) {
  ipc::Execute execute = MakeExecute(1);
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  SyTensor t;
  Status no_input = batch.Input(0, 2, &t);
  EXPECT_EQ(no_input.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_input.message(), HasSubstr("no input 2 of request 0"));
  Status no_request = batch.Input(1, 0, &t);
  EXPECT_EQ(no_request.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_request.message(), HasSubstr("no input 0 of request 1"));
}

TEST_F(ShmBatchTest, OutputRequestedFollowsEachRequestsMask) {
  ipc::Execute execute = MakeExecute(2);
  execute.requests[0].requested_outputs = 0b101;  // X and Z
  execute.requests[1].requested_outputs = 0b010;  // Y
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  EXPECT_TRUE(batch.OutputRequested(0, 0));
  EXPECT_FALSE(batch.OutputRequested(0, 1));
  EXPECT_TRUE(batch.OutputRequested(0, 2));
  EXPECT_FALSE(batch.OutputRequested(1, 0));
  EXPECT_TRUE(batch.OutputRequested(1, 1));
  EXPECT_FALSE(batch.OutputRequested(1, 2));
  EXPECT_FALSE(batch.OutputRequested(0, 3));  // the model has no output 3
  EXPECT_FALSE(batch.OutputRequested(2, 0));  // the batch has no request 2
}

TEST_F(ShmBatchTest, OutputsPastTheSixtyFourthAreAlwaysRequested) {
  config_.outputs.clear();
  for (int i = 0; i < 66; ++i) {
    config_.outputs.push_back({"O" + std::to_string(i), DataType::kUint8, {-1}});
  }
  ipc::Execute execute = MakeExecute(1);
  execute.requests[0].requested_outputs = uint64_t{1} << 5;
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  EXPECT_TRUE(batch.OutputRequested(0, 5));
  EXPECT_FALSE(batch.OutputRequested(0, 6));
  EXPECT_FALSE(batch.OutputRequested(0, 63));
  EXPECT_TRUE(batch.OutputRequested(0, 64));
  EXPECT_TRUE(batch.OutputRequested(0, 65));
  EXPECT_FALSE(batch.OutputRequested(0, 66));  // past the config's outputs
}

TEST_F(ShmBatchTest, ParametersAreEachRequestsOwn) {
  ipc::Execute execute = MakeExecute(2);
  execute.requests[0].parameters = {{"temperature", "0.5"}, {"mode", "fast"}};
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  using Parameter = std::pair<std::string, std::string>;
  EXPECT_THAT(batch.Parameters(0),
              ElementsAre(Parameter{"temperature", "0.5"}, Parameter{"mode", "fast"}));
  EXPECT_TRUE(batch.Parameters(1).empty());
}

TEST_F(ShmBatchTest, CancelledReadsEachRequestsFlagAsTheServerWritesIt) {
  ipc::Execute execute = MakeExecute(4);
  const std::array<uint8_t, 4> flags = {SY_NOT_CANCELLED, SY_CANCELLED_CLIENT_GONE,
                                        SY_CANCELLED_DEADLINE, 9};
  for (std::size_t r = 0; r < flags.size(); ++r) {
    server_slot_.data()[kCancelFlags + r] = static_cast<std::byte>(flags[r]);
  }
  // The byte after the last flag is no request's.
  server_slot_.data()[kCancelFlags + flags.size()] = static_cast<std::byte>(SY_CANCELLED_DEADLINE);
  ASSERT_TRUE(Validate(execute).ok());
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  EXPECT_EQ(batch.Cancelled(0), SY_NOT_CANCELLED);
  EXPECT_EQ(batch.Cancelled(1), SY_CANCELLED_CLIENT_GONE);
  EXPECT_EQ(batch.Cancelled(2), SY_CANCELLED_DEADLINE);
  EXPECT_EQ(batch.Cancelled(3), SY_NOT_CANCELLED);  // a value no state has
  EXPECT_EQ(batch.Cancelled(4), SY_NOT_CANCELLED);  // no such request
  // The server sets a flag while the batch executes: the batch sees it at once.
  server_slot_.data()[kCancelFlags] = static_cast<std::byte>(SY_CANCELLED_DEADLINE);
  EXPECT_EQ(batch.Cancelled(0), SY_CANCELLED_DEADLINE);
}

// ShmBatch: outputs and the Result

TEST_F(ShmBatchTest, AllocatesOutputsInTheOutputPoolWhenItHasRoom) {
  ipc::Execute execute = MakeExecute(1);
  auto pool = OutputPool();
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, pool.get());
  // Only Z, 2000 floats: X and Y are not produced.
  auto z = batch.AllocateOutput(0, 2, {2000}, 8000);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  std::vector<float> values(2000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.5f * static_cast<float>(i);
  std::memcpy(*z, values.data(), 8000);

  bool grew = true;
  auto result = batch.Finish(Status::Ok(), &grew);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(grew);
  EXPECT_FALSE(outputs.has_value());
  EXPECT_EQ(result->batch_id, 42u);
  EXPECT_EQ(result->slot, 3u);
  EXPECT_EQ(result->slot_size, 0u);
  ASSERT_EQ(result->requests.size(), 1u);
  const ipc::RequestResult& answer = result->requests[0];
  EXPECT_EQ(answer.code, 0u);
  ASSERT_EQ(answer.outputs.size(), 1u);
  const ipc::TensorRef& ref = answer.outputs[0];
  EXPECT_EQ(ref.index, 2u);
  EXPECT_EQ(ref.datatype, static_cast<uint32_t>(DataType::kFp32));
  EXPECT_THAT(ref.shape, ElementsAre(2000));
  EXPECT_EQ(ref.size, 8000u);

  auto blocks = batch.TakeOutputBlocks();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_NE(ref.region, 0u);
  EXPECT_EQ(ref.region, blocks[0]->region_id());
  EXPECT_EQ(ref.offset, blocks[0]->offset_in_region());
  EXPECT_EQ(*z, static_cast<void*>(blocks[0]->bytes().data()));
  // What the server reads where it mapped the pool's region.
  auto server_view =
      ipc::ShmRegion::Map(ipc::UniqueFd(::dup(blocks[0]->region_fd())), blocks[0]->region_size());
  ASSERT_TRUE(server_view.ok());
  EXPECT_EQ(std::memcmp(server_view->data() + ref.offset, values.data(), 8000), 0);
}

TEST_F(ShmBatchTest, OutputsOfFourKiBOrLessGoToTheOutputRegionEvenWhenThePoolHasRoom) {
  ipc::Execute execute = MakeExecute(2);
  auto pool = OutputPool();
  std::optional<ipc::ShmRegion> outputs = MustCreate("shm-batch-test-out", 16 << 10);
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, pool.get());
  const std::array<uint64_t, 2> sizes = {4096, 4097};
  std::vector<std::vector<std::byte>> written;
  for (uint32_t r = 0; r < 2; ++r) {
    auto y = batch.AllocateOutput(r, 1, {static_cast<int64_t>(sizes[r])}, sizes[r]);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    written.push_back(Pattern(sizes[r], static_cast<uint8_t>(r + 1)));
    std::memcpy(*y, written.back().data(), sizes[r]);
  }
  bool grew = true;
  auto result = batch.Finish(Status::Ok(), &grew);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(grew);
  ASSERT_EQ(result->requests.size(), 2u);
  ASSERT_EQ(result->requests[0].outputs.size(), 1u);
  ASSERT_EQ(result->requests[1].outputs.size(), 1u);
  const ipc::TensorRef& small = result->requests[0].outputs[0];
  EXPECT_EQ(small.region, 0u);  // copied by the server from the slot's output region
  EXPECT_EQ(BytesAt(outputs->data() + small.offset, 4096), written[0]);
  const ipc::TensorRef& large = result->requests[1].outputs[0];
  auto blocks = batch.TakeOutputBlocks();
  ASSERT_EQ(blocks.size(), 1u);  // only the large one is in the pool
  EXPECT_EQ(large.region, blocks[0]->region_id());
  EXPECT_EQ(large.offset, blocks[0]->offset_in_region());
  EXPECT_EQ(BytesAt(blocks[0]->bytes().data(), 4097), written[1]);
}

TEST_F(ShmBatchTest, AllocatesOutputsInTheSlotsOutputRegionWithoutAPool) {
  ipc::Execute execute = MakeExecute(2);
  std::optional<ipc::ShmRegion> outputs = MustCreate("shm-batch-test-out", 4096);
  std::byte* const region = outputs->data();
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  std::vector<std::vector<std::byte>> written;
  for (uint32_t r = 0; r < 2; ++r) {
    auto y = batch.AllocateOutput(r, 1, {5}, 5);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    auto* at = static_cast<std::byte*>(*y);
    EXPECT_GE(at, region);
    EXPECT_LE(at + 5, region + 4096);
    written.push_back(Pattern(5, static_cast<uint8_t>(0x10 * (r + 1))));
    std::memcpy(at, written.back().data(), 5);
  }
  bool grew = true;
  auto result = batch.Finish(Status::Ok(), &grew);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(grew);
  EXPECT_EQ(result->slot_size, 0u);
  ASSERT_TRUE(outputs.has_value());
  EXPECT_EQ(outputs->data(), region);  // the same region, not replaced
  ASSERT_EQ(result->requests.size(), 2u);
  for (uint32_t r = 0; r < 2; ++r) {
    ASSERT_EQ(result->requests[r].outputs.size(), 1u) << r;
    const ipc::TensorRef& ref = result->requests[r].outputs[0];
    EXPECT_EQ(ref.index, 1u);
    EXPECT_EQ(ref.region, 0u);  // the slot's output region
    EXPECT_EQ(ref.size, 5u);
    EXPECT_EQ(ref.offset % ipc::SlotArena::kAlignment, 0u);
    EXPECT_EQ(BytesAt(region + ref.offset, 5), written[r]) << r;
  }
  EXPECT_NE(result->requests[0].outputs[0].offset, result->requests[1].outputs[0].offset);
  EXPECT_TRUE(batch.TakeOutputBlocks().empty());
}

TEST_F(ShmBatchTest, AllocatesInTheOutputRegionWhenThePoolIsFull) {
  ipc::Execute execute = MakeExecute(1);
  auto pool = OutputPool(/*region_bytes=*/8192);
  auto taken = pool->Allocate(8192);  // the pool's only region, all of it
  ASSERT_NE(taken, nullptr);
  std::optional<ipc::ShmRegion> outputs = MustCreate("shm-batch-test-out", 16 << 10);
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, pool.get());
  auto y = batch.AllocateOutput(0, 1, {kLargeOutput}, kLargeOutput);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  const std::vector<std::byte> values = Pattern(kLargeOutput, 7);
  std::memcpy(*y, values.data(), kLargeOutput);
  bool grew = true;
  auto result = batch.Finish(Status::Ok(), &grew);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(grew);
  ASSERT_EQ(result->requests[0].outputs.size(), 1u);
  const ipc::TensorRef& ref = result->requests[0].outputs[0];
  EXPECT_EQ(ref.region, 0u);
  EXPECT_EQ(BytesAt(outputs->data() + ref.offset, kLargeOutput), values);
  EXPECT_TRUE(batch.TakeOutputBlocks().empty());
}

TEST_F(ShmBatchTest, OutputsPastTheOutputRegionMoveIntoALargerRegionAtFinish) {
  ipc::Execute execute = MakeExecute(2);
  std::optional<ipc::ShmRegion> outputs = MustCreate("shm-batch-test-out", 128);
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  std::vector<std::vector<std::byte>> written;
  for (uint32_t r = 0; r < 2; ++r) {  // 100 bytes fit the region once, not twice
    auto y = batch.AllocateOutput(r, 1, {100}, 100);
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    written.push_back(Pattern(100, static_cast<uint8_t>(0x40 * (r + 1))));
    std::memcpy(*y, written.back().data(), 100);
  }
  bool grew = false;
  auto result = batch.Finish(Status::Ok(), &grew);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(grew);
  ASSERT_TRUE(outputs.has_value());
  EXPECT_GE(outputs->size(), ipc::SlotArena::AlignUp(100) + 100);
  EXPECT_EQ(result->slot_size, outputs->size());  // the Result announces the new region's size
  ASSERT_EQ(result->requests.size(), 2u);
  for (uint32_t r = 0; r < 2; ++r) {
    ASSERT_EQ(result->requests[r].outputs.size(), 1u) << r;
    const ipc::TensorRef& ref = result->requests[r].outputs[0];
    EXPECT_EQ(ref.region, 0u);
    ASSERT_TRUE(ipc::TensorFits(ref, outputs->size())) << r;
    // Both outputs, the one that fit the old region and the one that did not, were copied.
    EXPECT_EQ(BytesAt(outputs->data() + ref.offset, 100), written[r]) << r;
  }
  const ipc::TensorRef& first = result->requests[0].outputs[0];
  const ipc::TensorRef& second = result->requests[1].outputs[0];
  EXPECT_TRUE(first.offset + first.size <= second.offset ||
              second.offset + second.size <= first.offset);
  // The server maps the fd sent with the Result and finds the outputs there.
  ipc::ShmRegion server_view = PeerView(*outputs);
  EXPECT_EQ(BytesAt(server_view.data() + second.offset, 100), written[1]);
}

TEST_F(ShmBatchTest, OutputsWithoutAnyOutputRegionGetOneAtFinish) {
  ipc::Execute execute = MakeExecute(1);
  std::optional<ipc::ShmRegion> outputs;  // the slot has no output region yet
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  auto x = batch.AllocateOutput(0, 0, {2}, 8);
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  const std::array<int32_t, 2> values = {123, -456};
  std::memcpy(*x, values.data(), sizeof(values));
  bool grew = false;
  auto result = batch.Finish(Status::Ok(), &grew);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(grew);
  ASSERT_TRUE(outputs.has_value());
  EXPECT_EQ(result->slot_size, outputs->size());
  ASSERT_EQ(result->requests[0].outputs.size(), 1u);
  const ipc::TensorRef& ref = result->requests[0].outputs[0];
  EXPECT_EQ(ref.region, 0u);
  EXPECT_EQ(std::memcmp(outputs->data() + ref.offset, values.data(), sizeof(values)), 0);
}

TEST_F(ShmBatchTest, SetErrorFailsOneRequestAndDropsItsOutputs) {
  ipc::Execute execute = MakeExecute(2);
  auto pool = OutputPool();
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, pool.get());
  for (uint32_t r = 0; r < 2; ++r) {
    ASSERT_TRUE(batch.AllocateOutput(r, 1, {kLargeOutput}, kLargeOutput).ok()) << r;
  }
  batch.SetError(0, Internal("request 0 failed"));
  batch.SetError(0, InvalidArgument("a later error"));  // the first error wins
  batch.SetError(1, Status::Ok());                      // not an error: ignored
  batch.SetError(2, Internal("no such request"));       // out of range: ignored
  bool grew = true;
  auto result = batch.Finish(Status::Ok(), &grew);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->requests.size(), 2u);
  const ipc::RequestResult& failed = result->requests[0];
  EXPECT_EQ(failed.code, static_cast<uint32_t>(StatusCode::kInternal));
  EXPECT_EQ(failed.message, "request 0 failed");
  EXPECT_TRUE(failed.outputs.empty());
  const ipc::RequestResult& ok = result->requests[1];
  EXPECT_EQ(ok.code, 0u);
  ASSERT_EQ(ok.outputs.size(), 1u);
  // Only the successful request's block is kept for the server; the failed one's went back.
  auto blocks = batch.TakeOutputBlocks();
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0]->region_id(), ok.outputs[0].region);
  EXPECT_EQ(blocks[0]->offset_in_region(), ok.outputs[0].offset);
}

TEST_F(ShmBatchTest, AFailedBatchFailsEveryRequestAndKeepsNoOutputs) {
  ipc::Execute execute = MakeExecute(2);
  auto pool = OutputPool();
  std::optional<ipc::ShmRegion> outputs;
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, pool.get());
  ASSERT_TRUE(batch.AllocateOutput(0, 1, {kLargeOutput}, kLargeOutput).ok());
  batch.SetError(1, Internal("request 1 failed"));
  bool grew = true;
  auto result = batch.Finish(Unavailable("the device is busy"), &grew);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(grew);
  ASSERT_EQ(result->requests.size(), 2u);
  EXPECT_EQ(result->requests[0].code, static_cast<uint32_t>(StatusCode::kUnavailable));
  EXPECT_EQ(result->requests[0].message, "the device is busy");
  EXPECT_TRUE(result->requests[0].outputs.empty());
  // A request's own error wins over the batch's.
  EXPECT_EQ(result->requests[1].code, static_cast<uint32_t>(StatusCode::kInternal));
  EXPECT_EQ(result->requests[1].message, "request 1 failed");
  EXPECT_TRUE(batch.TakeOutputBlocks().empty());
}

TEST_F(ShmBatchTest, AllocateOutputRefusesBadIndicesRepeatsAndSizesThatDoNotFitTheShape) {
  ipc::Execute execute = MakeExecute(1);
  std::optional<ipc::ShmRegion> outputs = MustCreate("shm-batch-test-out", 4096);
  ShmBatch batch(&config_, &execute, &inputs_, &outputs, nullptr);
  auto no_output = batch.AllocateOutput(0, 3, {1}, 1);
  EXPECT_EQ(no_output.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_output.status().message(), HasSubstr("no output 3 of request 0"));
  auto no_request = batch.AllocateOutput(1, 0, {2}, 8);
  EXPECT_EQ(no_request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_request.status().message(), HasSubstr("no output 0 of request 1"));
  auto wrong_size = batch.AllocateOutput(0, 0, {2}, 12);  // INT32 [2] is 8 bytes
  EXPECT_EQ(wrong_size.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_size.status().message(), HasSubstr("12 bytes do not fit"));
  ASSERT_TRUE(batch.AllocateOutput(0, 0, {2}, 8).ok());  // the refusal allocated nothing
  auto twice = batch.AllocateOutput(0, 0, {2}, 8);
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(twice.status().message(), HasSubstr("'X' of request 0 allocated twice"));
  bool grew = true;
  auto result = batch.Finish(Status::Ok(), &grew);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->requests[0].outputs.size(), 1u);
}

}  // namespace
}  // namespace switchyard::worker
