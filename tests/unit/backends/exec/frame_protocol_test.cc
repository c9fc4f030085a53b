#include "exec/frame_protocol.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>

#include "exec/byte_io.h"

namespace switchyard::exec {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Reads a frame's header and returns its body (after the kind byte).
std::string Body(const std::string& frame, FrameKind kind) {
  EXPECT_GE(frame.size(), kFrameHeaderSize);
  auto size = CheckFrameHeader(Bytes(frame).first(kFrameHeaderSize), kind, UINT32_MAX);
  EXPECT_TRUE(size.ok()) << size.status().message();
  EXPECT_EQ(frame.size(), 4 + *size);
  return frame.substr(kFrameHeaderSize);
}

TEST(FrameProtocolTest, HelloCarriesMagicVersionAndModel) {
  ModelSpec m;
  m.name = "adder";
  m.version = 3;
  m.max_batch_size = 8;
  m.inputs = {{"IN", SY_TYPE_INT32, {16}}};
  m.outputs = {{"OUT", SY_TYPE_BYTES, {-1, 2}}};
  m.model_dir = "/models/adder";
  m.version_dir = "/models/adder/3";
  InstanceSpec instance;
  instance.index = 2;
  instance.gpu_count = 1;
  instance.cuda_visible_devices = "GPU-abc";
  ExecParameters params;
  params.program_parameters = {{"topk", "5"}};
  std::string body = Body(EncodeHello(m, instance, params).Flatten(), FrameKind::kHello);
  ByteReader r(Bytes(body));
  std::span<const uint8_t> magic;
  ASSERT_TRUE(r.Bytes(4, &magic, "magic").ok());
  EXPECT_EQ(std::string(magic.begin(), magic.end()), "SYEX");
  uint32_t u32 = 0;
  int64_t i64 = 0;
  std::string_view s;
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, kProtocolVersion);
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "adder");
  ASSERT_TRUE(r.I64(&i64, "").ok());
  EXPECT_EQ(i64, 3);
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, 8u);
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, 1u);
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "IN");
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "INT32");
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, 1u);
  ASSERT_TRUE(r.I64(&i64, "").ok());
  EXPECT_EQ(i64, 16);
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, 1u);
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "OUT");
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "BYTES");
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, 2u);
  ASSERT_TRUE(r.I64(&i64, "").ok());
  EXPECT_EQ(i64, -1);
  ASSERT_TRUE(r.I64(&i64, "").ok());
  EXPECT_EQ(i64, 2);
  // The fields appended in 2026-12: the model's own parameters, then the instance.
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, 1u);
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "topk");
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "5");
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, 2u);  // instance index (i32)
  ASSERT_TRUE(r.U32(&u32, "").ok());
  EXPECT_EQ(u32, 1u);  // gpu count
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "GPU-abc");
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "/models/adder");
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "/models/adder/3");
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(FrameProtocolTest, BatchLayoutBorrowsTensorData) {
  std::vector<uint8_t> a = {1, 0, 0, 0, 2, 0, 0, 0};
  std::vector<uint8_t> b = {0xff, 0xfe};
  int64_t shape_a[] = {1, 2};
  int64_t shape_b[] = {2};
  std::vector<RequestView> requests(2);
  requests[0].inputs = {{"A", SY_TYPE_INT32, shape_a, a}};
  requests[0].wanted_outputs = {"X", "Y"};
  requests[1].inputs = {{"B", SY_TYPE_UINT8, shape_b, b}};
  requests[1].parameters = {{"k", "v"}};  // not sent: the program did not ask for them
  auto frame = EncodeBatch(42, requests, /*with_parameters=*/false);
  ASSERT_TRUE(frame.ok());
  // The tensor bytes are sent from the caller's buffers, not copied.
  bool borrowed_a = false;
  for (auto piece : frame->Pieces()) borrowed_a = borrowed_a || piece.data() == a.data();
  EXPECT_TRUE(borrowed_a);

  std::string body = Body(frame->Flatten(), FrameKind::kBatch);
  ByteReader r(Bytes(body));
  uint64_t id = 0;
  uint32_t n = 0;
  int64_t d = 0;
  std::string_view s;
  std::span<const uint8_t> data;
  ASSERT_TRUE(r.U64(&id, "").ok());
  EXPECT_EQ(id, 42u);
  ASSERT_TRUE(r.U32(&n, "").ok());
  EXPECT_EQ(n, 2u);
  // request 0
  ASSERT_TRUE(r.U32(&n, "").ok());
  EXPECT_EQ(n, 1u);
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "A");
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "INT32");
  ASSERT_TRUE(r.U32(&n, "").ok());
  EXPECT_EQ(n, 2u);
  ASSERT_TRUE(r.I64(&d, "").ok());
  EXPECT_EQ(d, 1);
  ASSERT_TRUE(r.I64(&d, "").ok());
  EXPECT_EQ(d, 2);
  uint64_t size = 0;
  ASSERT_TRUE(r.U64(&size, "").ok());
  EXPECT_EQ(size, 8u);
  ASSERT_TRUE(r.Bytes(size, &data, "").ok());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), a.begin()));
  ASSERT_TRUE(r.U32(&n, "").ok());
  EXPECT_EQ(n, 2u);
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "X");
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "Y");
  // request 1
  ASSERT_TRUE(r.U32(&n, "").ok());
  EXPECT_EQ(n, 1u);
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "B");
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "UINT8");
  ASSERT_TRUE(r.U32(&n, "").ok());
  ASSERT_TRUE(r.I64(&d, "").ok());
  ASSERT_TRUE(r.U64(&size, "").ok());
  ASSERT_TRUE(r.Bytes(size, &data, "").ok());
  EXPECT_EQ(data[0], 0xff);
  ASSERT_TRUE(r.U32(&n, "").ok());
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(r.remaining(), 0u);
}

// Builds a RESULT body the way a program would.
class ResultBuilder {
 public:
  ResultBuilder(uint64_t id, uint32_t n) : w_(&out_) {
    w_.U64(id);
    w_.U32(n);
  }
  ResultBuilder& Ok(uint32_t outputs) {
    w_.U8(0);
    w_.U32(outputs);
    return *this;
  }
  ResultBuilder& Tensor(std::string_view name, std::string_view dt, std::vector<int64_t> shape,
                        const std::string& data) {
    w_.Str(name);
    w_.Str(dt);
    w_.U32(static_cast<uint32_t>(shape.size()));
    for (int64_t d : shape) w_.I64(d);
    w_.U64(data.size());
    w_.Bytes(data.data(), data.size());
    return *this;
  }
  // A bare u32 (PARTIAL's output count).
  ResultBuilder& Count(uint32_t n) {
    w_.U32(n);
    return *this;
  }
  ResultBuilder& Error(uint8_t code, std::string_view message) {
    w_.U8(code);
    w_.Str(message);
    return *this;
  }
  std::string body() const { return out_; }

 private:
  std::string out_;
  ByteWriter w_;
};

TEST(FrameProtocolTest, DecodesOutputsAndErrors) {
  std::string body = ResultBuilder(7, 3)
                         .Ok(1)
                         .Tensor("OUT", "INT16", {1, 2}, std::string("\x01\x00\x02\x00", 4))
                         .Error(1, "bad input")
                         .Error(200, "odd code")
                         .body();
  auto r = DecodeResult(Bytes(body));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->batch_id, 7u);
  ASSERT_EQ(r->requests.size(), 3u);
  EXPECT_TRUE(r->requests[0].ok);
  ASSERT_EQ(r->requests[0].outputs.size(), 1u);
  EXPECT_EQ(r->requests[0].outputs[0].name, "OUT");
  EXPECT_EQ(r->requests[0].outputs[0].datatype, "INT16");
  EXPECT_EQ(r->requests[0].outputs[0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r->requests[0].outputs[0].data.size(), 4u);
  EXPECT_FALSE(r->requests[1].ok);
  EXPECT_EQ(r->requests[1].code, SY_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(r->requests[1].error, "bad input");
  EXPECT_EQ(r->requests[2].code, SY_ERROR_INTERNAL);
}

TEST(FrameProtocolTest, TheOptionalFlagsSayWhetherTheProgramEnds) {
  const std::string body = ResultBuilder(3, 1).Error(2, "x").body();
  auto plain = DecodeResult(Bytes(body));
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_FALSE(plain->program_ends);
  auto zero = DecodeResult(Bytes(body + std::string(1, '\0')));
  ASSERT_TRUE(zero.ok()) << zero.status().message();
  EXPECT_FALSE(zero->program_ends);
  auto ends = DecodeResult(Bytes(body + "\x01"));
  ASSERT_TRUE(ends.ok()) << ends.status().message();
  EXPECT_TRUE(ends->program_ends);
  auto unknown = DecodeResult(Bytes(body + "\x02"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown bits"), std::string::npos);
  EXPECT_FALSE(DecodeResult(Bytes(body + std::string("\x01\x00", 2))).ok());  // bytes after
}

TEST(FrameProtocolTest, RejectsTruncatedOversizedAndTrailing) {
  std::string good = ResultBuilder(1, 1).Ok(1).Tensor("O", "UINT8", {3}, std::string("abc")).body();
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeResult(Bytes(good.substr(0, cut))).ok()) << cut;
  }
  EXPECT_FALSE(DecodeResult(Bytes(good + "x")).ok());
  // Counts that claim more than the frame holds fail without allocating for them.
  std::string huge_count = ResultBuilder(1, 0xffffffffu).body();
  EXPECT_FALSE(DecodeResult(Bytes(huge_count)).ok());
  std::string huge_outputs = ResultBuilder(1, 1).Ok(0xffffffffu).body();
  EXPECT_FALSE(DecodeResult(Bytes(huge_outputs)).ok());
  std::string huge_rank;
  ByteWriter w(&huge_rank);
  w.U64(1);
  w.U32(1);
  w.U8(0);
  w.U32(1);
  w.Str("O");
  w.Str("UINT8");
  w.U32(0x7fffffff);
  w.Bytes("0123456789abcdef0123456789", 26);
  auto r = DecodeResult(Bytes(huge_rank));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("dimensions"), std::string::npos);
}

TEST(FrameProtocolTest, FrameHeaderRejectsTextWithAPreview) {
  std::string text = "Hello world\n";
  auto r = CheckFrameHeader(Bytes(text).first(5), FrameKind::kResult, UINT32_MAX);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"Hello...\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("log to stderr"), std::string::npos);
  std::string wrong_kind("\x05\x00\x00\x00\x01", 5);
  EXPECT_FALSE(CheckFrameHeader(Bytes(wrong_kind), FrameKind::kReady, 100).ok());
  std::string too_big("\x05\x01\x00\x00\x02", 5);
  EXPECT_FALSE(CheckFrameHeader(Bytes(too_big), FrameKind::kReady, 100).ok());
  std::string empty("\x00\x00\x00\x00\x02", 5);
  EXPECT_FALSE(CheckFrameHeader(Bytes(empty), FrameKind::kReady, 100).ok());
  std::string ok("\x09\x00\x00\x00\x02", 5);
  auto size = CheckFrameHeader(Bytes(ok), FrameKind::kReady, 100);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 9u);
}

std::string ProgressBody(uint64_t batch_id, uint32_t request, double fraction,
                         std::string_view message) {
  std::string body;
  ByteWriter w(&body);
  w.U64(batch_id);
  w.U32(request);
  w.U64(std::bit_cast<uint64_t>(fraction));
  w.Str(message);
  return body;
}

TEST(FrameProtocolTest, ProgressFramesDecodeAndAreCheckedOnlyWhereAllowed) {
  const std::string body = ProgressBody(7, 2, 0.5, "page 3 of 6");
  auto report = DecodeProgress(Bytes(body));  // views `body`
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->batch_id, 7u);
  EXPECT_EQ(report->request, 2u);
  EXPECT_EQ(report->fraction, 0.5);
  EXPECT_EQ(report->message, "page 3 of 6");
  for (double bad : {-0.5, 1.5, std::nan("")}) {
    EXPECT_FALSE(DecodeProgress(Bytes(ProgressBody(7, 0, bad, ""))).ok()) << bad;
  }
  const std::string good = ProgressBody(1, 0, 1, "done");
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeProgress(Bytes(good.substr(0, cut))).ok()) << cut;
  }
  EXPECT_FALSE(DecodeProgress(Bytes(good + "x")).ok());
  // A PROGRESS header passes only where progress is allowed, and within its own size cap.
  std::string header("\x10\x00\x00\x00\x06", 5);
  EXPECT_FALSE(CheckFrameHeader(Bytes(header), FrameKind::kResult, UINT32_MAX).ok());
  EXPECT_TRUE(CheckFrameHeader(Bytes(header), FrameKind::kResult, UINT32_MAX, true).ok());
  std::string huge("\x00\x00\x10\x00\x06", 5);  // 1 MiB
  EXPECT_FALSE(CheckFrameHeader(Bytes(huge), FrameKind::kResult, UINT32_MAX, true).ok());
}

TEST(FrameProtocolTest, PartialFramesDecodeLikeAResultsOutputs) {
  // PARTIAL: u64 batch | u32 request | u32 noutputs | tensors; the builder's first two fields.
  const std::string body = ResultBuilder(9, 1)
                               .Count(1)
                               .Tensor("OUT", "INT16", {1, 2}, std::string("\x01\x00\x02\x00", 4))
                               .body();
  auto partial = DecodePartial(Bytes(body));  // views `body`
  ASSERT_TRUE(partial.ok()) << partial.status().message();
  EXPECT_EQ(partial->batch_id, 9u);
  EXPECT_EQ(partial->request, 1u);
  ASSERT_EQ(partial->outputs.size(), 1u);
  EXPECT_EQ(partial->outputs[0].name, "OUT");
  EXPECT_EQ(partial->outputs[0].shape, (std::vector<int64_t>{1, 2}));
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    EXPECT_FALSE(DecodePartial(Bytes(body.substr(0, cut))).ok()) << cut;
  }
  EXPECT_FALSE(DecodePartial(Bytes(body + "x")).ok());
  // Its header passes where interim frames are allowed, within its own cap.
  const std::string header("\x10\x00\x00\x00\x07", 5);
  EXPECT_FALSE(CheckFrameHeader(Bytes(header), FrameKind::kResult, UINT32_MAX).ok());
  EXPECT_TRUE(CheckFrameHeader(Bytes(header), FrameKind::kResult, UINT32_MAX, true).ok());
  const std::string huge("\x00\x00\x04\x00\x07", 5);  // 256 KiB
  EXPECT_FALSE(CheckFrameHeader(Bytes(huge), FrameKind::kResult, UINT32_MAX, true).ok());
}

TEST(FrameProtocolTest, ParametersFollowTheWantedOutputsWhenTheProgramTakesThem) {
  std::vector<RequestView> requests(2);
  requests[0].wanted_outputs = {"X"};
  requests[0].parameters = {{"lang", "en"}, {"n", "3"}};
  auto frame = EncodeBatch(7, requests, /*with_parameters=*/true);
  ASSERT_TRUE(frame.ok());
  std::string body = Body(frame->Flatten(), FrameKind::kBatch);
  ByteReader r(Bytes(body));
  uint64_t id = 0;
  uint32_t n = 0;
  std::string_view s;
  ASSERT_TRUE(r.U64(&id, "").ok());
  ASSERT_TRUE(r.U32(&n, "").ok());
  ASSERT_EQ(n, 2u);
  ASSERT_TRUE(r.U32(&n, "").ok());  // no inputs
  EXPECT_EQ(n, 0u);
  ASSERT_TRUE(r.U32(&n, "").ok());
  EXPECT_EQ(n, 1u);
  ASSERT_TRUE(r.Str(&s, "").ok());
  EXPECT_EQ(s, "X");
  ASSERT_TRUE(r.U32(&n, "").ok());
  EXPECT_EQ(n, 2u);
  for (std::string_view expected : {"lang", "en", "n", "3"}) {
    ASSERT_TRUE(r.Str(&s, "").ok());
    EXPECT_EQ(s, expected);
  }
  for (int i = 0; i < 3; ++i) {  // request 1: no inputs, no outputs, no parameters
    ASSERT_TRUE(r.U32(&n, "").ok());
    EXPECT_EQ(n, 0u);
  }
  EXPECT_EQ(r.remaining(), 0u);
}

// The data fields of a BATCH of requests with one input "I" each and nothing else: for each,
// (size field, the offset when it says shared, else the inline bytes).
std::vector<std::pair<uint64_t, std::string>> InputFields(const OutgoingFrame& frame) {
  std::string body = Body(frame.Flatten(), FrameKind::kBatch);
  ByteReader r(Bytes(body));
  uint64_t id = 0, size = 0, offset = 0;
  uint32_t n = 0, count = 0, ndim = 0;
  std::string_view s;
  std::span<const uint8_t> bytes;
  EXPECT_TRUE(r.U64(&id, "").ok() && r.U32(&count, "").ok());
  std::vector<std::pair<uint64_t, std::string>> fields;
  for (uint32_t i = 0; i < count; ++i) {
    EXPECT_TRUE(r.U32(&n, "").ok() && r.Str(&s, "").ok() && r.Str(&s, "").ok() &&
                r.U32(&ndim, "").ok());
    int64_t dim = 0;
    for (uint32_t d = 0; d < ndim; ++d) EXPECT_TRUE(r.I64(&dim, "").ok());
    EXPECT_TRUE(r.U64(&size, "").ok());
    if ((size & kSharedTensorBit) != 0) {
      EXPECT_TRUE(r.U64(&offset, "").ok());
      fields.emplace_back(size, std::to_string(offset));
    } else {
      EXPECT_TRUE(r.Bytes(size, &bytes, "").ok());
      fields.emplace_back(size, std::string(bytes.begin(), bytes.end()));
    }
    EXPECT_TRUE(r.U32(&n, "").ok());  // no outputs wanted
  }
  EXPECT_EQ(r.remaining(), 0u);
  return fields;
}

TEST(FrameProtocolTest, InputsGoToTheSharedRegionWhenAllFit) {
  auto region = SharedInputs::Create(256);
  ASSERT_TRUE(region.ok()) << region.status().message();
  SharedLane lane = (*region)->Lane(1);  // at 256 of the region's 512
  const std::string a(100, 'a'), b(64, 'b'), big(300, 'c');
  const int64_t shape[] = {1};
  auto request = [&](const std::string& data) {
    RequestView view;
    view.inputs.push_back(
        {"I", SY_TYPE_UINT8, shape, {reinterpret_cast<const uint8_t*>(data.data()), data.size()}});
    return view;
  };
  std::vector<RequestView> fits = {request(a), request(b)};
  auto shared = EncodeBatch(1, fits, false, &lane);
  ASSERT_TRUE(shared.ok());
  // 100 bytes at the lane's start, then the next 128 further (64-byte aligned).
  EXPECT_EQ(InputFields(*shared),
            (std::vector<std::pair<uint64_t, std::string>>{{100 | kSharedTensorBit, "256"},
                                                           {64 | kSharedTensorBit, "384"}}));
  std::string seen(256, '\0');
  ASSERT_EQ(pread((*region)->fd(), seen.data(), seen.size(), 256), 256);
  EXPECT_EQ(seen.substr(0, 100), a);
  EXPECT_EQ(seen.substr(128, 64), b);
  // 100 -> 128, + 300 > 256: none goes to the region, all travel in the frame.
  std::vector<RequestView> too_big = {request(a), request(big)};
  SharedLane fresh = (*region)->Lane(1);
  auto inline_frame = EncodeBatch(2, too_big, false, &fresh);
  ASSERT_TRUE(inline_frame.ok());
  EXPECT_EQ(InputFields(*inline_frame),
            (std::vector<std::pair<uint64_t, std::string>>{{100, a}, {300, big}}));
}

TEST(FrameProtocolTest, ReadyChecksMagicAndVersion) {
  std::string ready = "SYEX";
  ByteWriter(&ready).U32(kProtocolVersion);
  auto plain = DecodeReady(Bytes(ready));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, 0u);
  std::string with_features = ready;
  ByteWriter(&with_features).U32(kFeatureRequestParameters | kFeatureCancel);
  auto features = DecodeReady(Bytes(with_features));
  ASSERT_TRUE(features.ok()) << features.status().message();
  EXPECT_EQ(*features, kFeatureRequestParameters | kFeatureCancel);
  std::string unknown = ready;
  ByteWriter(&unknown).U32(kFeaturePipelined | 16);
  EXPECT_FALSE(DecodeReady(Bytes(unknown)).ok());
  std::string v2 = "SYEX";
  ByteWriter(&v2).U32(2);
  auto s = DecodeReady(Bytes(v2));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("version 2; this plugin speaks version 1"),
            std::string::npos);
  EXPECT_FALSE(DecodeReady(Bytes(std::string("SYEY\x01\x00\x00\x00", 8))).ok());
  EXPECT_FALSE(DecodeReady(Bytes("SY")).ok());
  EXPECT_FALSE(DecodeReady(Bytes(ready + "!")).ok());
}

TEST(FrameProtocolTest, CancelFrameLayout) {
  OutgoingFrame frame = EncodeCancel(0x0102030405060708, 3, SY_CANCELLED_DEADLINE);
  std::string expected;
  ByteWriter w(&expected);
  w.U32(14);  // kind + body
  w.U8(static_cast<uint8_t>(FrameKind::kCancel));
  w.U64(0x0102030405060708);
  w.U32(3);
  w.U8(2);
  EXPECT_EQ(frame.Flatten(), expected);
}

TEST(FrameProtocolTest, PreviewEscapesNonPrintable) {
  std::string s("ab\x01\"\\", 5);
  EXPECT_EQ(PreviewBytes(Bytes(s)), "ab\\x01\\x22\\x5c");
  EXPECT_EQ(PreviewBytes(Bytes("abcdef"), 3), "abc");
}

TEST(OutgoingFrameTest, SizePrefixCountsKindAndBody) {
  OutgoingFrame f(9);
  f.writer().U32(0xdeadbeef);
  std::vector<uint8_t> big(1000, 7);
  f.AppendBorrowed(big);
  f.writer().U8(1);
  ASSERT_TRUE(f.Finish().ok());
  std::string flat = f.Flatten();
  ASSERT_EQ(flat.size(), 4u + 1 + 4 + 1000 + 1);
  EXPECT_EQ(static_cast<uint8_t>(flat[0]) | static_cast<uint8_t>(flat[1]) << 8, 1006);
  EXPECT_EQ(flat[4], 9);
  EXPECT_EQ(flat.back(), 1);
  EXPECT_EQ(f.Pieces().size(), 3u);
  EXPECT_EQ(f.size(), flat.size());
}

}  // namespace
}  // namespace switchyard::exec
