#include "bench/grpc_request.h"

#include <gtest/gtest.h>

#include <cstring>

#include "bench/load_recorder.h"
#include "bench/request_builder.h"

namespace switchyard::bench {
namespace {

const std::vector<TensorMetadata> kSimpleInputs = {
    {"INPUT0", DataType::kInt32, {1, 16}},
    {"INPUT1", DataType::kInt32, {1, 16}},
};

TEST(BuildModelInferRequestTest, RawContentsAreTheBinaryBytesOfTheSameSeed) {
  auto request = BuildModelInferRequest("simple", kSimpleInputs, GrpcContents::kRaw, 7);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->model_name(), "simple");
  ASSERT_EQ(request->inputs_size(), 2);
  EXPECT_EQ(request->inputs(1).name(), "INPUT1");
  EXPECT_EQ(request->inputs(1).datatype(), "INT32");
  EXPECT_EQ(
      std::vector<int64_t>(request->inputs(1).shape().begin(), request->inputs(1).shape().end()),
      (std::vector<int64_t>{1, 16}));
  EXPECT_FALSE(request->inputs(0).has_contents());
  std::vector<std::string> bytes = BuildInputBytes(kSimpleInputs, 7);
  ASSERT_EQ(request->raw_input_contents_size(), 2);
  EXPECT_EQ(request->raw_input_contents(0), bytes[0]);
  EXPECT_EQ(request->raw_input_contents(1), bytes[1]);
  EXPECT_EQ(bytes[0].size(), 64u);
  // The same bytes an HTTP binary body of that seed carries after its JSON.
  PreparedBody body = BuildInferBody(kSimpleInputs, BodyFormat::kBinary, 7);
  EXPECT_EQ(body.body.substr(body.json_length), bytes[0] + bytes[1]);
  // Another seed, other data.
  EXPECT_NE(BuildInputBytes(kSimpleInputs, 8)[0], bytes[0]);
}

TEST(BuildModelInferRequestTest, TypedContentsHoldTheSameValues) {
  const std::vector<TensorMetadata> inputs = {
      {"i8", DataType::kInt8, {3}},    {"u16", DataType::kUint16, {2}},
      {"i64", DataType::kInt64, {2}},  {"f32", DataType::kFp32, {2}},
      {"b", DataType::kBool, {4}},     {"s", DataType::kBytes, {3}},
      {"u64", DataType::kUint64, {1}}, {"f64", DataType::kFp64, {1}},
  };
  auto request = BuildModelInferRequest("m", inputs, GrpcContents::kTyped, 3);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->raw_input_contents_size(), 0);
  std::vector<std::string> bytes = BuildInputBytes(inputs, 3);

  const auto& i8 = request->inputs(0).contents().int_contents();
  ASSERT_EQ(i8.size(), 3);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(i8[k], static_cast<int8_t>(bytes[0][k]));
  const auto& u16 = request->inputs(1).contents().uint_contents();
  ASSERT_EQ(u16.size(), 2);
  uint16_t first_u16 = 0;
  std::memcpy(&first_u16, bytes[1].data(), 2);
  EXPECT_EQ(u16[0], first_u16);
  EXPECT_EQ(request->inputs(2).contents().int64_contents_size(), 2);
  const auto& f32 = request->inputs(3).contents().fp32_contents();
  ASSERT_EQ(f32.size(), 2);
  float second_f32 = 0;
  std::memcpy(&second_f32, bytes[3].data() + 4, 4);
  EXPECT_EQ(f32[1], second_f32);
  EXPECT_EQ(request->inputs(4).contents().bool_contents_size(), 4);
  const auto& strings = request->inputs(5).contents().bytes_contents();
  ASSERT_EQ(strings.size(), 3);
  for (const std::string& element : strings) {
    int value = std::stoi(element);  // integers in [0, 100) as decimal text
    EXPECT_GE(value, 0);
    EXPECT_LT(value, 100);
  }
  EXPECT_EQ(request->inputs(6).contents().uint64_contents_size(), 1);
  EXPECT_EQ(request->inputs(7).contents().fp64_contents_size(), 1);
  // Only the field of the input's datatype holds values.
  EXPECT_EQ(request->inputs(0).contents().uint_contents_size(), 0);
  EXPECT_EQ(request->inputs(3).contents().fp64_contents_size(), 0);
}

TEST(BuildModelInferRequestTest, HalfFloatsHaveNoTypedForm) {
  const std::vector<TensorMetadata> inputs = {{"h", DataType::kFp16, {4}}};
  auto typed = BuildModelInferRequest("m", inputs, GrpcContents::kTyped, 1);
  EXPECT_EQ(typed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(typed.status().message().find("'h'"), std::string::npos);
  auto raw = BuildModelInferRequest("m", inputs, GrpcContents::kRaw, 1);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->raw_input_contents(0).size(), 8u);
}

TEST(ClassifyTest, StreamResponsesAndBrokenStreams) {
  inference::ModelStreamInferResponse response;
  response.mutable_infer_response()->set_model_name("simple");
  EXPECT_EQ(ClassifyStreamResponse(response).status, 0u);
  response.set_error_message("model failed");
  GrpcOutcome failed = ClassifyStreamResponse(response);
  EXPECT_EQ(failed.status, kGrpcStreamError);
  EXPECT_EQ(failed.message, "model failed");

  GrpcOutcome unavailable = ClassifyBrokenStream(14, "connection reset");
  EXPECT_EQ(unavailable.status, 14u);
  EXPECT_EQ(unavailable.message, "connection reset");
  GrpcOutcome ended = ClassifyBrokenStream(0, "");
  EXPECT_EQ(ended.status, 2u);  // UNKNOWN: an OK end is no answer
  EXPECT_FALSE(ended.message.empty());
}

}  // namespace
}  // namespace switchyard::bench
