#include "instance/shm_tensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "ipc/shm_pool.h"
#include "ipc/slot_arena.h"
#include "switchyard/backend.h"
#include "testing/tensor_bytes.h"

namespace switchyard {
namespace {

using testing::BytesElements;
using testing::Le;

// Three inputs of different kinds, and outputs that mirror them one to one (so a Result can
// answer each input back as the output of the same position).
ModelConfig MirrorConfig() {
  ModelConfig config;
  config.name = "mirror";
  config.backend = "sim";
  config.max_batch_size = 0;
  config.inputs = {
      {"A", DataType::kInt32, {2}}, {"B", DataType::kBytes, {-1}}, {"C", DataType::kUint8, {-1}}};
  config.outputs = {
      {"X", DataType::kInt32, {2}}, {"Y", DataType::kBytes, {-1}}, {"Z", DataType::kUint8, {-1}}};
  return config;
}

Tensor MakeTensor(std::string name, DataType datatype, Shape shape, std::vector<std::byte> bytes) {
  return Tensor{.name = std::move(name),
                .datatype = datatype,
                .shape = std::move(shape),
                .data = TensorData::Owned(std::move(bytes))};
}

std::vector<std::byte> Raw(std::size_t n, uint8_t first) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::byte>(first + i);
  return out;
}

// A request of MirrorConfig with its inputs in the order C, A, B (not the config's).
std::unique_ptr<InferRequest> MirrorRequest(int32_t a0, std::initializer_list<std::string_view> b,
                                            std::size_t c_size) {
  auto request = std::make_unique<InferRequest>();
  request->inputs.push_back(MakeTensor("C", DataType::kUint8, {static_cast<int64_t>(c_size)},
                                       Raw(c_size, static_cast<uint8_t>(a0))));
  request->inputs.push_back(MakeTensor("A", DataType::kInt32, {2}, Le<int32_t>({a0, -a0})));
  request->inputs.push_back(
      MakeTensor("B", DataType::kBytes, {static_cast<int64_t>(b.size())}, BytesElements(b)));
  return request;
}

std::vector<InferRequest*> Views(const std::vector<std::unique_ptr<InferRequest>>& requests) {
  std::vector<InferRequest*> views;
  for (const auto& r : requests) views.push_back(r.get());
  return views;
}

const Tensor& InputNamed(const InferRequest& request, const std::string& name) {
  for (const Tensor& t : request.inputs) {
    if (t.name == name) return t;
  }
  ADD_FAILURE() << "no input " << name;
  return request.inputs.front();
}

// Outputs that all lie in the slot.
OutputMemory InSlot(std::span<const std::byte> slot) { return {.slot = slot}; }

std::vector<std::byte> Bytes(std::span<const std::byte> span) {
  return std::vector<std::byte>(span.begin(), span.end());
}

// Every tensor of `execute` lies inside a region of `region_size` bytes, starts aligned, and no
// two overlap.
void ExpectDisjointAndInside(const ipc::Execute& execute, uint64_t region_size) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  // The cancel flags too: one byte per request.
  EXPECT_LE(execute.cancel_flags + execute.requests.size(), region_size);
  ranges.emplace_back(execute.cancel_flags, execute.cancel_flags + execute.requests.size());
  for (const ipc::RequestRef& request : execute.requests) {
    for (const ipc::TensorRef& t : request.inputs) {
      EXPECT_TRUE(ipc::TensorFits(t, region_size))
          << "offset " << t.offset << " size " << t.size << " region " << region_size;
      EXPECT_EQ(t.offset % ipc::SlotArena::kAlignment, 0u) << t.offset;
      if (t.size > 0) ranges.emplace_back(t.offset, t.offset + t.size);
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    EXPECT_LE(ranges[i - 1].second, ranges[i].first) << "tensors overlap";
  }
}

TEST(ShmTensorsTest, WriteInputsPutsEveryInputInConfigOrder) {
  ModelConfig config = MirrorConfig();
  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(MirrorRequest(7, {"alpha", ""}, 3));
  requests.push_back(MirrorRequest(-9, {}, 0));
  requests.push_back(MirrorRequest(1000, {"x"}, 130));
  requests[1]->requested_outputs = {"Z", "X"};
  requests[1]->output_indices = {2, 0};  // as ValidateRequest resolves them
  auto views = Views(requests);

  std::vector<std::byte> region(SlotInputBytes(views), std::byte{0xEE});
  ipc::Execute execute;
  execute.requests.resize(5);  // stale content is replaced
  WriteInputs(config, views, region, &execute);

  ASSERT_EQ(execute.requests.size(), 3u);
  for (std::size_t r = 0; r < requests.size(); ++r) {
    SCOPED_TRACE("request " + std::to_string(r));
    const ipc::RequestRef& ref = execute.requests[r];
    ASSERT_EQ(ref.inputs.size(), config.inputs.size());
    for (uint32_t i = 0; i < config.inputs.size(); ++i) {
      const ipc::TensorRef& t = ref.inputs[i];
      const Tensor& original = InputNamed(*requests[r], config.inputs[i].name);
      EXPECT_EQ(t.index, i);
      EXPECT_EQ(t.datatype, static_cast<uint32_t>(config.inputs[i].datatype));
      EXPECT_EQ(t.shape, original.shape);
      ASSERT_EQ(t.size, original.data.size());
      ASSERT_TRUE(ipc::TensorFits(t, region.size()));
      EXPECT_EQ(Bytes(std::span(region).subspan(t.offset, t.size)), Bytes(original.data.bytes()))
          << config.inputs[i].name;
    }
  }
  EXPECT_EQ(execute.requests[0].requested_outputs, ~uint64_t{0});     // none named: all
  EXPECT_EQ(execute.requests[1].requested_outputs, uint64_t{0b101});  // X (0) and Z (2)
  EXPECT_EQ(execute.requests[2].requested_outputs, ~uint64_t{0});
  ExpectDisjointAndInside(execute, region.size());
  // The flags start cleared (the region was 0xEE): no request is cancelled yet.
  EXPECT_EQ(Bytes(std::span(region).subspan(execute.cancel_flags, 3)),
            std::vector<std::byte>(3, std::byte{SY_NOT_CANCELLED}));
}

// Each input's tensors of a batch lie end to end when their sizes are multiples of the
// alignment, so that a backend can copy one input of a whole batch at once.
TEST(ShmTensorsTest, WriteInputsPutsEachInputOfTheBatchEndToEnd) {
  ModelConfig config;
  config.name = "two";
  config.backend = "sim";
  config.inputs = {{"A", DataType::kUint8, {-1}}, {"B", DataType::kUint8, {-1}}};
  config.outputs = {{"O", DataType::kUint8, {-1}}};
  std::vector<std::unique_ptr<InferRequest>> requests;
  for (int r = 0; r < 3; ++r) {
    auto request = std::make_unique<InferRequest>();
    request->inputs.push_back(MakeTensor("B", DataType::kUint8, {128}, Raw(128, 2)));
    request->inputs.push_back(MakeTensor("A", DataType::kUint8, {64}, Raw(64, 1)));
    requests.push_back(std::move(request));
  }
  auto views = Views(requests);
  std::vector<std::byte> region(SlotInputBytes(views));
  ipc::Execute execute;
  WriteInputs(config, views, region, &execute);
  for (uint32_t i = 0; i < 2; ++i) {
    for (std::size_t r = 1; r < requests.size(); ++r) {
      const ipc::TensorRef& previous = execute.requests[r - 1].inputs[i];
      EXPECT_EQ(execute.requests[r].inputs[i].offset, previous.offset + previous.size)
          << "input " << i << " of request " << r;
    }
  }
}

// A request whose body lives in a shared-memory pool block; its input "A" borrows from the body
// at `offset_in_body`, 256 bytes.
std::unique_ptr<InferRequest> BodyRequest(ipc::ShmPool& pool, uint64_t offset_in_body,
                                          uint8_t first) {
  auto block = pool.Allocate(1024, 0);  // its first byte is 64-byte aligned in the region
  EXPECT_NE(block, nullptr);
  auto request = std::make_unique<InferRequest>();
  request->payload = RequestBody(std::move(block));
  std::span<std::byte> body = request->payload.mutable_bytes();
  std::vector<std::byte> a = Raw(256, first);
  std::memcpy(body.data() + offset_in_body, a.data(), a.size());
  request->inputs.push_back(
      Tensor{.name = "A",
             .datatype = DataType::kUint8,
             .shape = {256},
             .data = TensorData::Borrowed(body.subspan(offset_in_body, 256))});
  return request;
}

TEST(ShmTensorsTest, AlignedInputsInABodyRegionAreNamedWhereTheyLie) {
  ModelConfig config;
  config.name = "one";
  config.backend = "sim";
  config.inputs = {{"A", DataType::kUint8, {-1}}};
  config.outputs = {{"O", DataType::kUint8, {-1}}};
  auto pool = ipc::ShmPool::Create({.region_bytes = 1 << 20, .max_regions = 1});
  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(BodyRequest(*pool, 128, 1));  // aligned: read in place
  requests.push_back(BodyRequest(*pool, 100, 2));  // not aligned: copied into the slot
  requests.push_back(BodyRequest(*pool, 0, 3));    // aligned, same region
  requests.push_back(MirrorRequest(1, {}, 0));     // an ordinary body: copied
  requests.back()->inputs.clear();
  requests.back()->inputs.push_back(MakeTensor("A", DataType::kUint8, {256}, Raw(256, 4)));
  auto views = Views(requests);

  // Only the two copied tensors, and the four requests' cancel flags (one aligned block).
  EXPECT_EQ(SlotInputBytes(views), 2u * 256 + 64);
  std::vector<std::byte> slot(SlotInputBytes(views));
  ipc::Execute execute;
  WrittenInputs written = WriteInputs(config, views, slot, &execute);
  EXPECT_EQ(written.copied_bytes, 2u * 256);
  EXPECT_EQ(written.in_place_bytes, 2u * 256);
  ASSERT_EQ(written.regions.size(), 1u);  // named once although two tensors lie there
  const SharedMemoryBlock* memory = requests[0]->payload.shared();
  EXPECT_EQ(written.regions[0]->region_id(), memory->region_id());

  ASSERT_EQ(execute.requests.size(), 4u);
  const ipc::TensorRef& in_place = execute.requests[0].inputs[0];
  EXPECT_EQ(in_place.region, memory->region_id());
  EXPECT_EQ(in_place.offset, memory->offset_in_region() + 128);
  EXPECT_EQ(in_place.size, 256u);
  EXPECT_EQ(execute.requests[2].inputs[0].region, requests[2]->payload.shared()->region_id());
  for (std::size_t r : {1u, 3u}) {
    const ipc::TensorRef& copied = execute.requests[r].inputs[0];
    EXPECT_EQ(copied.region, 0u) << r;
    ASSERT_TRUE(ipc::TensorFits(copied, slot.size()));
    EXPECT_EQ(Bytes(std::span(slot).subspan(copied.offset, copied.size)),
              Bytes(requests[r]->inputs[0].data.bytes()))
        << r;
  }
}

TEST(ShmTensorsTest, InputsComeBackAsOutputsThroughReadOutputs) {
  ModelConfig config = MirrorConfig();
  std::vector<std::unique_ptr<InferRequest>> requests;
  requests.push_back(MirrorRequest(3, {"one", "two", "three"}, 5));
  requests.push_back(MirrorRequest(-4, {std::string_view("\0\xff", 2)}, 64));
  auto views = Views(requests);
  std::vector<std::byte> region(SlotInputBytes(views));
  ipc::Execute execute;
  WriteInputs(config, views, region, &execute);

  // The "worker" answers each input at position i as output i, in place.
  ipc::Result result{.batch_id = 1, .slot = 0};
  for (const ipc::RequestRef& ref : execute.requests) {
    result.requests.push_back({.code = 0, .message = "", .outputs = ref.inputs});
  }
  std::vector<RequestOutputs> outputs =
      ReadOutputs(config, result, InSlot(region), requests.size());
  ASSERT_EQ(outputs.size(), 2u);
  for (std::size_t r = 0; r < requests.size(); ++r) {
    SCOPED_TRACE("request " + std::to_string(r));
    ASSERT_TRUE(outputs[r].ok()) << outputs[r].status().ToString();
    ASSERT_EQ(outputs[r]->size(), 3u);
    for (std::size_t o = 0; o < 3; ++o) {
      const Tensor& out = (*outputs[r])[o];
      const Tensor& in = InputNamed(*requests[r], config.inputs[o].name);
      EXPECT_EQ(out.name, config.outputs[o].name);
      EXPECT_EQ(out.datatype, config.outputs[o].datatype);
      EXPECT_EQ(out.shape, in.shape);
      EXPECT_EQ(Bytes(out.data.bytes()), Bytes(in.data.bytes()));
    }
  }
  // The outputs are copies: the region may be reused for the next batch at once.
  std::vector<std::byte> before = Bytes((*outputs[0])[0].data.bytes());
  std::fill(region.begin(), region.end(), std::byte{0x5A});
  EXPECT_EQ(Bytes((*outputs[0])[0].data.bytes()), before);
}

// The inputs of a request fit in SlotInputBytes whatever the sizes and whatever order the
// request lists them in: the arena pads each tensor to the alignment, which the estimate must
// account for however the unaligned sizes fall.
TEST(ShmTensorsTest, SlotInputBytesIsEnoughForAnyInputOrderAndSize) {
  ModelConfig config;
  config.name = "five";
  config.backend = "sim";
  const std::vector<std::string> names = {"I0", "I1", "I2", "I3", "I4"};
  for (const auto& name : names) config.inputs.push_back({name, DataType::kUint8, {-1}});
  config.outputs = {{"O", DataType::kUint8, {-1}}};

  std::vector<std::size_t> sizes = {0, 1, 63, 64, 65};
  std::sort(sizes.begin(), sizes.end());
  int checked = 0;
  do {
    // Two requests: the second lists its inputs in reverse config order with the sizes rotated.
    std::vector<std::unique_ptr<InferRequest>> requests;
    for (int copy = 0; copy < 2; ++copy) {
      auto request = std::make_unique<InferRequest>();
      for (std::size_t k = 0; k < names.size(); ++k) {
        std::size_t i = copy == 0 ? k : names.size() - 1 - k;
        std::size_t size = sizes[(i + static_cast<std::size_t>(copy)) % sizes.size()];
        request->inputs.push_back(MakeTensor(names[i], DataType::kUint8,
                                             {static_cast<int64_t>(size)},
                                             Raw(size, static_cast<uint8_t>(i))));
      }
      requests.push_back(std::move(request));
    }
    auto views = Views(requests);
    uint64_t need = SlotInputBytes(views);
    // Exactly the estimate, inside a larger buffer whose tail must stay untouched.
    std::vector<std::byte> buffer(need + 64, std::byte{0xA5});
    ipc::Execute execute;
    WriteInputs(config, views, std::span(buffer).first(need), &execute);
    ExpectDisjointAndInside(execute, need);
    for (std::size_t b = need; b < buffer.size(); ++b) {
      ASSERT_EQ(buffer[b], std::byte{0xA5}) << "WriteInputs wrote past the region";
    }
    for (std::size_t r = 0; r < 2; ++r) {
      for (uint32_t i = 0; i < names.size(); ++i) {
        const ipc::TensorRef& t = execute.requests[r].inputs[i];
        EXPECT_EQ(Bytes(std::span(buffer).subspan(t.offset, t.size)),
                  Bytes(InputNamed(*requests[r], names[i]).data.bytes()));
      }
    }
    ++checked;
  } while (std::next_permutation(sizes.begin(), sizes.end()));
  EXPECT_EQ(checked, 120);
}

class ReadOutputsTest : public ::testing::Test {
 protected:
  // A region holding a valid X (INT32 [2]) at 0 and a valid Y (BYTES [2]) at 64.
  void SetUp() override {
    region_.assign(256, std::byte{0});
    auto x = Le<int32_t>({11, -11});
    std::memcpy(region_.data(), x.data(), x.size());
    auto y = BytesElements({"ab", "c"});
    std::memcpy(region_.data() + 64, y.data(), y.size());
    y_size_ = y.size();
  }
  ipc::TensorRef X() const {
    return {.index = 0,
            .datatype = static_cast<uint32_t>(DataType::kInt32),
            .shape = {2},
            .offset = 0,
            .size = 8};
  }
  ipc::TensorRef Y() const {
    return {.index = 1,
            .datatype = static_cast<uint32_t>(DataType::kBytes),
            .shape = {2},
            .offset = 64,
            .size = y_size_};
  }
  static ipc::RequestResult Answer(std::vector<ipc::TensorRef> outputs) {
    return {.code = 0, .message = "", .outputs = std::move(outputs)};
  }
  // Reads a two-request result whose request 0 is valid and request 1 is `bad`.
  std::vector<RequestOutputs> ReadWithSecond(ipc::TensorRef bad) {
    ipc::Result result;
    result.requests.push_back(Answer({X(), Y()}));
    result.requests.push_back(Answer({X(), std::move(bad)}));
    return ReadOutputs(config_, result, InSlot(region_), 2);
  }
  // The valid first request is unaffected; the second is Internal.
  static void ExpectSecondInternal(const std::vector<RequestOutputs>& outputs) {
    ASSERT_EQ(outputs.size(), 2u);
    ASSERT_TRUE(outputs[0].ok()) << outputs[0].status().ToString();
    EXPECT_EQ(outputs[0]->size(), 2u);
    ASSERT_FALSE(outputs[1].ok());
    EXPECT_EQ(outputs[1].status().code(), StatusCode::kInternal) << outputs[1].status().ToString();
    EXPECT_FALSE(outputs[1].status().message().empty());
  }

  ModelConfig config_ = MirrorConfig();
  std::vector<std::byte> region_;
  uint64_t y_size_ = 0;
};

TEST_F(ReadOutputsTest, ValidAnswerIsRead) {
  ipc::Result result;
  result.requests.push_back(Answer({Y(), X()}));  // any order: each names its config index
  auto outputs = ReadOutputs(config_, result, InSlot(region_), 1);
  ASSERT_EQ(outputs.size(), 1u);
  ASSERT_TRUE(outputs[0].ok()) << outputs[0].status().ToString();
  ASSERT_EQ(outputs[0]->size(), 2u);
  EXPECT_EQ((*outputs[0])[0].name, "Y");
  EXPECT_EQ(Bytes((*outputs[0])[0].data.bytes()), BytesElements({"ab", "c"}));
  EXPECT_EQ((*outputs[0])[1].name, "X");
  EXPECT_EQ(Bytes((*outputs[0])[1].data.bytes()), Le<int32_t>({11, -11}));
}

// An output in a worker output region becomes a tensor that points into the region and keeps
// the keeper; one in an unknown region, or past a known region's end, is Internal.
TEST_F(ReadOutputsTest, OutputsInAWorkerRegionAreSharedNotCopied) {
  auto made = ipc::ShmRegion::Create("read-outputs-test", 4096);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto region = std::make_shared<const ipc::ShmRegion>(std::move(made).value());
  std::vector<std::byte> x = Le<int32_t>({5, -5});
  std::memcpy(region->data() + 128, x.data(), x.size());
  std::unordered_map<uint32_t, std::shared_ptr<const ipc::ShmRegion>> regions{{7, region}};
  auto keeper = std::make_shared<int>(0);
  OutputMemory memory{.slot = region_, .regions = &regions, .keeper = keeper};

  ipc::TensorRef shared = X();
  shared.region = 7;
  shared.offset = 128;
  ipc::TensorRef unknown = X();
  unknown.region = 8;
  ipc::TensorRef outside = X();
  outside.region = 7;
  outside.offset = 4096 - 4;
  ipc::Result result;
  result.requests.push_back(Answer({shared, Y()}));
  result.requests.push_back(Answer({unknown}));
  result.requests.push_back(Answer({outside}));
  ASSERT_TRUE(NamesOutputRegions(result));
  auto outputs = ReadOutputs(config_, result, memory, 3);
  ASSERT_EQ(outputs.size(), 3u);
  ASSERT_TRUE(outputs[0].ok()) << outputs[0].status().ToString();
  const Tensor& tensor = (*outputs[0])[0];
  EXPECT_EQ(tensor.data.bytes().data(), region->data() + 128);  // not a copy
  EXPECT_EQ(Bytes(tensor.data.bytes()), x);
  EXPECT_TRUE(tensor.data.owned());
  EXPECT_EQ(Bytes((*outputs[0])[1].data.bytes()), BytesElements({"ab", "c"}));  // from the slot
  for (std::size_t r : {1u, 2u}) {
    ASSERT_FALSE(outputs[r].ok()) << r;
    EXPECT_EQ(outputs[r].status().code(), StatusCode::kInternal) << r;
  }
  // Every shared tensor holds the keeper; it goes with the last of them.
  memory.keeper.reset();
  EXPECT_EQ(keeper.use_count(), 2);  // this test's, and the one shared tensor's
  outputs.clear();
  EXPECT_EQ(keeper.use_count(), 1);

  ipc::Result slot_only;
  slot_only.requests.push_back(Answer({X()}));
  EXPECT_FALSE(NamesOutputRegions(slot_only));
}

TEST_F(ReadOutputsTest, WrongRequestCountFailsEveryRequest) {
  ipc::Result result;
  result.requests.push_back(Answer({X()}));
  auto outputs = ReadOutputs(config_, result, InSlot(region_), 3);
  ASSERT_EQ(outputs.size(), 3u);
  for (const auto& out : outputs) {
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kInternal);
    EXPECT_NE(out.status().message().find("1 requests of a batch of 3"), std::string::npos)
        << out.status().message();
  }
  result.requests.push_back(Answer({X()}));
  result.requests.push_back(Answer({X()}));
  result.requests.push_back(Answer({X()}));  // too many is as wrong as too few
  outputs = ReadOutputs(config_, result, InSlot(region_), 3);
  ASSERT_EQ(outputs.size(), 3u);
  for (const auto& out : outputs) EXPECT_EQ(out.status().code(), StatusCode::kInternal);
}

TEST_F(ReadOutputsTest, OutputIndexBeyondTheConfigIsInternal) {
  ipc::TensorRef bad = Y();
  bad.index = 3;  // the model has outputs 0..2
  ExpectSecondInternal(ReadWithSecond(bad));
  bad.index = std::numeric_limits<uint32_t>::max();
  ExpectSecondInternal(ReadWithSecond(bad));
}

TEST_F(ReadOutputsTest, DatatypeOtherThanTheConfigsIsInternal) {
  ipc::TensorRef bad = X();
  bad.index = 1;  // Y is BYTES, this claims INT32
  ExpectSecondInternal(ReadWithSecond(bad));
  bad = X();
  bad.datatype = static_cast<uint32_t>(DataType::kUint32);  // same size, other type
  ExpectSecondInternal(ReadWithSecond(bad));
}

TEST_F(ReadOutputsTest, TensorOutsideTheRegionIsInternal) {
  ipc::TensorRef bad = X();
  bad.offset = region_.size() - 4;  // straddles the end
  ExpectSecondInternal(ReadWithSecond(bad));
  bad.offset = region_.size() + 64;  // wholly past it
  ExpectSecondInternal(ReadWithSecond(bad));
  bad.offset = 64;
  bad.size = std::numeric_limits<uint64_t>::max() - 32;  // offset + size wraps around
  ExpectSecondInternal(ReadWithSecond(bad));
  // No output region at all (the worker never sent one).
  ipc::Result result;
  result.requests.push_back(Answer({X()}));
  auto outputs = ReadOutputs(config_, result, {}, 1);
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].status().code(), StatusCode::kInternal);
}

TEST_F(ReadOutputsTest, BytesSizeOrShapeThatDoNotMatchAreInternal) {
  // A BYTES element whose length prefix runs past the tensor.
  std::vector<std::byte> truncated = Le<uint32_t>({100});
  truncated.push_back(std::byte{'a'});
  std::memcpy(region_.data() + 128, truncated.data(), truncated.size());
  ipc::TensorRef bad = Y();
  bad.offset = 128;
  bad.size = truncated.size();
  ExpectSecondInternal(ReadWithSecond(bad));
  // Valid elements, but not as many as the shape says.
  bad = Y();
  bad.shape = {3};
  ExpectSecondInternal(ReadWithSecond(bad));
  // INT32 [2] needs 8 bytes.
  bad = X();
  bad.size = 4;
  ExpectSecondInternal(ReadWithSecond(bad));
  // A negative dimension.
  bad = X();
  bad.shape = {-2};
  ExpectSecondInternal(ReadWithSecond(bad));
}

TEST_F(ReadOutputsTest, WorkerErrorsKeepTheirCodeButAbortedBecomesInternal) {
  ipc::Result result;
  result.requests.push_back(Answer({X()}));
  result.requests.push_back({.code = static_cast<uint32_t>(StatusCode::kInvalidArgument),
                             .message = "bad input",
                             .outputs = {}});
  // kAborted would make the scheduler retry; a worker that answers does not get to ask for it.
  result.requests.push_back({.code = static_cast<uint32_t>(StatusCode::kAborted),
                             .message = "the plugin says aborted",
                             .outputs = {X()}});
  auto outputs = ReadOutputs(config_, result, InSlot(region_), 3);
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_TRUE(outputs[0].ok());
  EXPECT_EQ(outputs[1].status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(outputs[1].status().message(), "bad input");
  EXPECT_EQ(outputs[2].status().code(), StatusCode::kInternal);
  EXPECT_EQ(outputs[2].status().message(), "the plugin says aborted");
}

}  // namespace
}  // namespace switchyard
