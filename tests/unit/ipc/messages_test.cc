#include "ipc/messages.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#include "ipc/wire.h"
#include "switchyard/backend.h"
#include "switchyard/datatype.h"

// Records the largest allocation made while `g_tracking` is set, so that tests can show that a
// hostile count is rejected before anything is reserved for it.
namespace {
std::atomic<bool> g_tracking{false};
std::atomic<std::size_t> g_largest_allocation{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    std::size_t largest = g_largest_allocation.load(std::memory_order_relaxed);
    while (size > largest && !g_largest_allocation.compare_exchange_weak(largest, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// Not inlined: GCC would otherwise flag free() of what `new` returned (-Wmismatched-new-delete),
// not seeing that this operator new is malloc.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace switchyard::ipc {
namespace {

// The largest single allocation made by Decode(bytes).
std::size_t LargestAllocationOfDecode(std::span<const std::byte> bytes, Status* status) {
  g_largest_allocation = 0;
  g_tracking = true;
  *status = Decode(bytes).status();
  g_tracking = false;
  return g_largest_allocation;
}

TensorRef Tensor(uint32_t index, uint64_t offset) {
  return {.index = index,
          .datatype = static_cast<uint32_t>(DataType::kFp16),
          .shape = {2, 0, 1 << 20, std::numeric_limits<int64_t>::max()},
          .region = index * 7,
          .offset = offset,
          .size = 4096 + index};
}

// One message of each type, in Message's order, with no field at its default.
std::vector<Message> Samples() {
  return {
      Hello{.pid = -12345, .api_version = 3},
      Ready{.device_memory_bytes = uint64_t{1} << 40},
      LoadFailed{.code = 1, .message = "model.pt: no such file \xE2\x9C\x97"},
      Execute{.batch_id = 77,
              .slot = 2,
              .slot_size = 1 << 20,
              .requests = {{.inputs = {Tensor(0, 0), Tensor(1, 4096)},
                            .requested_outputs = 5,
                            .parameters = {{"lang", "en"}, {"", ""}},
                            .takes_partials = true},
                           {.inputs = {Tensor(0, 8192)}, .requested_outputs = 0}}},
      Result{.batch_id = ~uint64_t{0},
             .slot = 3,
             .slot_size = 2 << 20,
             .requests = {{.code = 0, .message = "", .outputs = {Tensor(0, 64), Tensor(2, 128)}},
                          {.code = static_cast<uint32_t>(StatusCode::kInternal),
                           .message = "out of memory"}},
             .execute_ns = 2'500'000},
      Ping{.sequence = 9},
      Pong{.sequence = 10},
      Shutdown{},
      MapRegion{.region = 4, .size = uint64_t{32} << 20},
      ReleaseOutputs{.batch_id = 81},
      DeviceLost{.batch_id = 82, .message = "CUDA error: an illegal memory access"},
      Progress{.batch_id = 83, .request = 2, .fraction = 0.25, .message = "page 3 of 12"},
      Partial{.batch_id = 84,
              .request = 1,
              .outputs = {{.index = 1, .shape = {1, 3}, .bytes = std::string("\0\1\2", 3)},
                          {.index = 0, .shape = {}, .bytes = "x"}}},
  };
}

void PutHeader(WireWriter& w, uint32_t tag) {
  w.PutU32(kMagic);
  w.PutU32(tag);
}

StatusCode DecodeCode(std::span<const std::byte> bytes) { return Decode(bytes).status().code(); }

TEST(MessagesTest, EveryTypeRoundTripsToTheSameBytes) {
  for (const Message& message : Samples()) {
    SCOPED_TRACE(MessageName(message));
    const std::vector<std::byte> bytes = Encode(message);
    auto decoded = Decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, message);
    EXPECT_EQ(Encode(*decoded), bytes);
  }
}

TEST(MessagesTest, HeaderIsMagicThenTypeTag) {
  const std::vector<Message> samples = Samples();
  const char* names[] = {"Hello",      "Ready",    "LoadFailed", "Execute",   "Result",
                         "Ping",       "Pong",     "Shutdown",   "MapRegion", "ReleaseOutputs",
                         "DeviceLost", "Progress", "Partial"};
  ASSERT_EQ(samples.size(), std::size(names));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(MessageName(samples[i]), names[i]);
    const std::vector<std::byte> bytes = Encode(samples[i]);
    ASSERT_GE(bytes.size(), 8u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 4), "SYW1");
    WireReader r{std::span(bytes).subspan(4)};
    EXPECT_EQ(*r.ReadU32(), i + 1) << names[i];  // the wire tags are fixed
  }
  EXPECT_EQ(Encode(Shutdown{}).size(), 8u);
}

TEST(MessagesTest, EveryTruncationFails) {
  for (const Message& message : Samples()) {
    SCOPED_TRACE(MessageName(message));
    const std::vector<std::byte> bytes = Encode(message);
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      EXPECT_EQ(DecodeCode(std::span(bytes).first(length)), StatusCode::kInvalidArgument) << length;
    }
  }
}

TEST(MessagesTest, TrailingBytesFail) {
  for (const Message& message : Samples()) {
    std::vector<std::byte> bytes = Encode(message);
    bytes.push_back(std::byte{0});
    EXPECT_EQ(DecodeCode(bytes), StatusCode::kInvalidArgument) << MessageName(message);
  }
}

TEST(MessagesTest, MapRegionOfRegionZeroFails) {
  EXPECT_EQ(DecodeCode(Encode(MapRegion{.region = 0, .size = 4096})), StatusCode::kInvalidArgument);
}

TEST(MessagesTest, ProgressOutsideZeroToOneFails) {
  for (double fraction : {-0.01, 1.01, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(DecodeCode(Encode(Progress{.batch_id = 1, .fraction = fraction})),
              StatusCode::kInvalidArgument)
        << fraction;
  }
  for (double fraction : {0.0, 1.0}) {
    EXPECT_TRUE(Decode(Encode(Progress{.batch_id = 1, .fraction = fraction})).ok()) << fraction;
  }
}

TEST(MessagesTest, APartialOverItsByteCapFails) {
  const std::string half(SY_MAX_PARTIAL_RESPONSE_BYTES / 2, 'a');
  Partial at_cap{.batch_id = 1,
                 .outputs = {{.index = 0, .bytes = half}, {.index = 1, .bytes = half}}};
  EXPECT_TRUE(Decode(Encode(at_cap)).ok());
  at_cap.outputs[1].bytes += 'b';
  EXPECT_EQ(DecodeCode(Encode(at_cap)), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeCode(Encode(Partial{.outputs = {{.index = 0, .shape = {-1}}}})),
            StatusCode::kInvalidArgument);
}

TEST(MessagesTest, BadMagicFails) {
  std::vector<std::byte> bytes = Encode(Ping{.sequence = 1});
  bytes[3] = std::byte{'2'};  // "SYW2"
  EXPECT_EQ(DecodeCode(bytes), StatusCode::kInvalidArgument);
}

TEST(MessagesTest, UnknownTypeFails) {
  constexpr auto kPastTheLast = static_cast<uint32_t>(std::variant_size_v<Message> + 1);
  for (uint32_t tag : {0u, kPastTheLast, std::numeric_limits<uint32_t>::max()}) {
    WireWriter w;
    PutHeader(w, tag);
    EXPECT_EQ(DecodeCode(w.bytes()), StatusCode::kInvalidArgument) << tag;
  }
}

// A Result with one OK request whose single output is `tensor`.
std::vector<std::byte> ResultWith(const TensorRef& tensor) {
  return Encode(Result{.requests = {{.outputs = {tensor}}}});
}

TEST(MessagesTest, DatatypeMustBeADataType) {
  TensorRef tensor = Tensor(0, 0);
  tensor.datatype = static_cast<uint32_t>(DataType::kBytes);
  EXPECT_TRUE(Decode(ResultWith(tensor)).ok());
  tensor.datatype += 1;
  EXPECT_EQ(DecodeCode(ResultWith(tensor)), StatusCode::kInvalidArgument);
  tensor.datatype = std::numeric_limits<uint32_t>::max();
  EXPECT_EQ(DecodeCode(ResultWith(tensor)), StatusCode::kInvalidArgument);
}

TEST(MessagesTest, StatusCodeMustBeAStatusCode) {
  // kAborted: the last enumerator.
  Result result{.requests = {{.code = static_cast<uint32_t>(StatusCode::kAborted)}}};
  EXPECT_TRUE(Decode(Encode(result)).ok());
  result.requests[0].code += 1;
  EXPECT_EQ(DecodeCode(Encode(result)), StatusCode::kInvalidArgument);
}

TEST(MessagesTest, ShapeIsCappedAndNonNegative) {
  TensorRef tensor = Tensor(0, 0);
  tensor.shape.assign(kMaxDims, 1);
  EXPECT_TRUE(Decode(ResultWith(tensor)).ok());
  tensor.shape.push_back(1);
  EXPECT_EQ(DecodeCode(ResultWith(tensor)), StatusCode::kInvalidArgument);
  tensor.shape = {4, -1};
  EXPECT_EQ(DecodeCode(ResultWith(tensor)), StatusCode::kInvalidArgument);
}

TEST(MessagesTest, OffsetPlusSizeMustNotOverflow) {
  TensorRef tensor = Tensor(0, 0);
  tensor.offset = std::numeric_limits<uint64_t>::max() - 10;
  tensor.size = 10;
  EXPECT_TRUE(Decode(ResultWith(tensor)).ok());
  tensor.size = 11;
  EXPECT_EQ(DecodeCode(ResultWith(tensor)), StatusCode::kInvalidArgument);
}

TEST(MessagesTest, CountsOverTheCapsFail) {
  Execute execute;
  execute.requests.resize(kMaxRequests);
  EXPECT_TRUE(Decode(Encode(execute)).ok());
  execute.requests.emplace_back();
  EXPECT_EQ(DecodeCode(Encode(execute)), StatusCode::kInvalidArgument);

  Execute wide{.requests = {{.inputs = std::vector<TensorRef>(kMaxTensorsPerRequest)}}};
  EXPECT_TRUE(Decode(Encode(wide)).ok());
  wide.requests[0].inputs.emplace_back();
  EXPECT_EQ(DecodeCode(Encode(wide)), StatusCode::kInvalidArgument);
}

TEST(MessagesTest, CountBeyondTheRemainingBytesFailsWithoutAllocating) {
  WireWriter requests;  // an Execute announcing the most requests, then ending
  PutHeader(requests, 4);
  requests.PutU64(1);
  requests.PutU32(0);
  requests.PutU64(0);
  requests.PutCount(kMaxRequests);
  requests.PutCount(kMaxTensorsPerRequest);  // a start of the first request

  WireWriter tensors;  // a Result whose one request announces the most outputs, then ends
  PutHeader(tensors, 5);
  tensors.PutU64(1);
  tensors.PutU32(0);
  tensors.PutU64(0);
  tensors.PutCount(1);
  tensors.PutU32(0);
  tensors.PutString("");
  tensors.PutCount(kMaxTensorsPerRequest);

  WireWriter text;  // a LoadFailed announcing the longest message, then ending
  PutHeader(text, 3);
  text.PutU32(0);
  text.PutCount(kMaxStringBytes);

  for (const WireWriter* w : {&requests, &tensors, &text}) {
    Status status;
    const std::size_t largest = LargestAllocationOfDecode(w->bytes(), &status);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_LT(largest, 1024u) << status.ToString();
  }
}

TEST(MessagesTest, StringOverTheCapFails) {
  WireWriter w;
  PutHeader(w, 3);
  w.PutU32(0);
  w.PutString(std::string(kMaxStringBytes + 1, 'x'));
  EXPECT_EQ(DecodeCode(w.bytes()), StatusCode::kInvalidArgument);
}

TEST(MessagesTest, EncodeCutsLongStringsAtACharacterBoundary) {
  const std::string at_cap(kMaxStringBytes, 'a');
  auto kept = Decode(Encode(LoadFailed{.message = at_cap}));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(std::get<LoadFailed>(*kept).message, at_cap);

  // U+2717 is three bytes; the cap falls after its first.
  const std::string prefix(kMaxStringBytes - 1, 'a');
  auto cut = Decode(Encode(Result{.requests = {{.code = 2, .message = prefix + "\xE2\x9C\x97!"}}}));
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(std::get<Result>(*cut).requests[0].message, prefix);
}

TEST(MessagesTest, TensorFitsChecksTheSlotBounds) {
  TensorRef tensor{.offset = 64, .size = 36};
  EXPECT_TRUE(TensorFits(tensor, 100));
  EXPECT_FALSE(TensorFits(tensor, 99));
  tensor.offset = 101;
  tensor.size = 0;
  EXPECT_FALSE(TensorFits(tensor, 100));
  tensor.offset = std::numeric_limits<uint64_t>::max();
  tensor.size = 2;
  EXPECT_FALSE(TensorFits(tensor, 100));
}

}  // namespace
}  // namespace switchyard::ipc
