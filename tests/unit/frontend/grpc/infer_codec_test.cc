#include "frontend/grpc/infer_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "testing/tensor_bytes.h"

namespace switchyard::grpc_frontend {
namespace {

using inference::ModelInferRequest;
using switchyard::testing::BytesElements;
using switchyard::testing::Le;

std::vector<std::byte> BytesOf(const Tensor& tensor) {
  auto bytes = tensor.data.bytes();
  return {bytes.begin(), bytes.end()};
}

ModelInferRequest::InferInputTensor* AddInput(ModelInferRequest& message, const std::string& name,
                                              const std::string& datatype,
                                              std::vector<int64_t> shape) {
  auto* input = message.add_inputs();
  input->set_name(name);
  input->set_datatype(datatype);
  for (int64_t dim : shape) input->add_shape(dim);
  return input;
}

StatusOr<std::unique_ptr<InferRequest>> Decode(ModelInferRequest message) {
  auto decoded = DecodeModelInferRequest(message);
  if (!decoded.ok()) return decoded.status();
  return std::move(decoded->request);
}

TEST(InferCodecTest, TypedContentsOfEveryDatatype) {
  ModelInferRequest message;
  message.set_model_name("m");
  message.set_model_version("2");
  message.set_id("request-7");
  auto* contents = AddInput(message, "b", "BOOL", {2})->mutable_contents();
  contents->add_bool_contents(true);
  contents->add_bool_contents(false);
  contents = AddInput(message, "i8", "INT8", {2})->mutable_contents();
  contents->add_int_contents(-128);
  contents->add_int_contents(127);
  contents = AddInput(message, "i16", "INT16", {1})->mutable_contents();
  contents->add_int_contents(-300);
  contents = AddInput(message, "i32", "INT32", {1, 2})->mutable_contents();
  contents->add_int_contents(-70000);
  contents->add_int_contents(5);
  contents = AddInput(message, "i64", "INT64", {1})->mutable_contents();
  contents->add_int64_contents(int64_t{1} << 40);
  contents = AddInput(message, "u8", "UINT8", {1})->mutable_contents();
  contents->add_uint_contents(255);
  contents = AddInput(message, "u16", "UINT16", {1})->mutable_contents();
  contents->add_uint_contents(65535);
  contents = AddInput(message, "u32", "UINT32", {1})->mutable_contents();
  contents->add_uint_contents(4000000000u);
  contents = AddInput(message, "u64", "UINT64", {1})->mutable_contents();
  contents->add_uint64_contents(uint64_t{1} << 63);
  contents = AddInput(message, "f32", "FP32", {2})->mutable_contents();
  contents->add_fp32_contents(1.5f);
  contents->add_fp32_contents(-2.0f);
  contents = AddInput(message, "f64", "FP64", {1})->mutable_contents();
  contents->add_fp64_contents(0.25);
  contents = AddInput(message, "s", "BYTES", {2})->mutable_contents();
  contents->add_bytes_contents("hello");
  contents->add_bytes_contents(std::string("\0x", 2));

  auto decoded = Decode(message);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const InferRequest& request = **decoded;
  EXPECT_EQ(request.model_name, "m");
  EXPECT_EQ(request.model_version, 2);
  EXPECT_EQ(request.id, "request-7");
  ASSERT_EQ(request.inputs.size(), 12u);
  EXPECT_EQ(BytesOf(request.inputs[0]), Le<uint8_t>({1, 0}));
  EXPECT_EQ(BytesOf(request.inputs[1]), Le<int8_t>({-128, 127}));
  EXPECT_EQ(BytesOf(request.inputs[2]), Le<int16_t>({-300}));
  EXPECT_EQ(request.inputs[3].shape, (Shape{1, 2}));
  EXPECT_EQ(BytesOf(request.inputs[3]), Le<int32_t>({-70000, 5}));
  EXPECT_EQ(BytesOf(request.inputs[4]), Le<int64_t>({int64_t{1} << 40}));
  EXPECT_EQ(BytesOf(request.inputs[5]), Le<uint8_t>({255}));
  EXPECT_EQ(BytesOf(request.inputs[6]), Le<uint16_t>({65535}));
  EXPECT_EQ(BytesOf(request.inputs[7]), Le<uint32_t>({4000000000u}));
  EXPECT_EQ(BytesOf(request.inputs[8]), Le<uint64_t>({uint64_t{1} << 63}));
  EXPECT_EQ(BytesOf(request.inputs[9]), Le<float>({1.5f, -2.0f}));
  EXPECT_EQ(BytesOf(request.inputs[10]), Le<double>({0.25}));
  EXPECT_EQ(request.inputs[11].datatype, DataType::kBytes);
  EXPECT_EQ(BytesOf(request.inputs[11]), BytesElements({"hello", std::string_view("\0x", 2)}));
  for (const Tensor& tensor : request.inputs) {
    EXPECT_TRUE(tensor.Validate().ok()) << tensor.name;
  }
}

TEST(InferCodecTest, RawContentsMoveWithoutACopy) {
  ModelInferRequest message;
  message.set_model_name("m");
  AddInput(message, "a", "FP32", {8});
  AddInput(message, "s", "BYTES", {1});
  std::string floats(32, '\x01');
  message.add_raw_input_contents(floats);
  std::string element = std::string("\x05\0\0\0", 4) + "hello";
  message.add_raw_input_contents(element);
  const char* where = message.raw_input_contents(0).data();

  auto decoded = DecodeModelInferRequest(message);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const InferRequest& request = *decoded->request;
  ASSERT_EQ(request.inputs.size(), 2u);
  // The tensor points at the bytes the message received, now kept by the tensor.
  EXPECT_EQ(reinterpret_cast<const char*>(request.inputs[0].data.bytes().data()), where);
  EXPECT_TRUE(request.inputs[0].data.owned());
  EXPECT_EQ(request.inputs[0].data.size(), 32u);
  EXPECT_EQ(BytesOf(request.inputs[1]), BytesElements({"hello"}));
  EXPECT_EQ(message.raw_input_contents_size(), 0);
}

TEST(InferCodecTest, ParametersAndOutputs) {
  ModelInferRequest message;
  (*message.mutable_parameters())["priority"].set_uint64_param(2);
  (*message.mutable_parameters())["timeout"].set_int64_param(5000);
  (*message.mutable_parameters())["mode"].set_string_param("fast");
  (*message.mutable_parameters())["flag"].set_bool_param(true);
  (*message.mutable_parameters())["count"].set_int64_param(-3);
  (*message.mutable_parameters())["scale"].set_double_param(0.5);
  message.add_outputs()->set_name("y");
  message.add_outputs()->set_name("x");
  auto decoded = Decode(message);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const InferRequest& request = **decoded;
  EXPECT_EQ(request.model_version, -1);
  EXPECT_EQ(request.priority, 2);
  EXPECT_EQ(request.timeout_us, 5000);
  EXPECT_THAT(
      request.parameters,
      ::testing::ElementsAre(::testing::Pair("count", "-3"), ::testing::Pair("flag", "true"),
                             ::testing::Pair("mode", "fast"), ::testing::Pair("scale", "0.5")));
  EXPECT_THAT(request.requested_outputs, ::testing::ElementsAre("y", "x"));
}

// Decodes `message` and expects InvalidArgument with `text` in the message.
void ExpectInvalid(ModelInferRequest message, const std::string& text) {
  auto decoded = Decode(std::move(message));
  ASSERT_FALSE(decoded.ok()) << "expected an error containing: " << text;
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), ::testing::HasSubstr(text));
}

TEST(InferCodecTest, RefusesMalformedRequests) {
  {
    ModelInferRequest message;
    message.set_model_version("x1");
    ExpectInvalid(message, "model version 'x1'");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "FLOAT", {1});
    ExpectInvalid(message, "unknown datatype 'FLOAT'");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "INT32", {-1, 2});
    ExpectInvalid(message, "negative dimension");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "INT32", {3})->mutable_contents()->add_int_contents(1);
    ExpectInvalid(message, "holds 1 values, shape [3] needs 3");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "INT8", {1})->mutable_contents()->add_int_contents(128);
    ExpectInvalid(message, "out of range for INT8");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "UINT16", {1})->mutable_contents()->add_uint_contents(70000);
    ExpectInvalid(message, "out of range for UINT16");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "FP32", {1})->mutable_contents()->add_int_contents(1);
    ExpectInvalid(message, "a field other than the one of datatype FP32");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "FP16", {1});
    ExpectInvalid(message, "send it in raw_input_contents");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "INT32", {1})->mutable_contents()->add_int_contents(1);
    message.add_raw_input_contents(std::string(4, '\0'));
    ExpectInvalid(message, "cannot be used together");
  }
  {
    ModelInferRequest message;
    AddInput(message, "a", "INT32", {1});
    AddInput(message, "b", "INT32", {1});
    message.add_raw_input_contents(std::string(4, '\0'));
    ExpectInvalid(message, "raw_input_contents has 1 entries for 2 inputs");
  }
  {
    ModelInferRequest message;
    (*message.mutable_parameters())["timeout"].set_int64_param(0);
    ExpectInvalid(message, "parameters.timeout");
  }
  {
    ModelInferRequest message;
    (*message.mutable_parameters())["priority"].set_string_param("high");
    ExpectInvalid(message, "parameters.priority: expected an integer");
  }
}

TEST(InferCodecTest, EncodesRawOutputsInOrder) {
  InferResponse response;
  response.model_version = 3;
  response.id = "r1";
  response.outputs.push_back({.name = "y",
                              .datatype = DataType::kInt32,
                              .shape = {2},
                              .data = TensorData::Owned(Le<int32_t>({7, -7}))});
  response.outputs.push_back({.name = "s",
                              .datatype = DataType::kBytes,
                              .shape = {2},
                              .data = TensorData::Owned(BytesElements({"ab", ""}))});
  inference::ModelInferResponse out;
  ASSERT_TRUE(EncodeModelInferResponse(response, "simple", &out).ok());
  EXPECT_EQ(out.model_name(), "simple");
  EXPECT_EQ(out.model_version(), "3");
  EXPECT_EQ(out.id(), "r1");
  ASSERT_EQ(out.outputs_size(), 2);
  EXPECT_EQ(out.outputs(0).name(), "y");
  EXPECT_EQ(out.outputs(0).datatype(), "INT32");
  EXPECT_THAT(out.outputs(0).shape(), ::testing::ElementsAre(2));
  EXPECT_FALSE(out.outputs(0).has_contents());
  EXPECT_EQ(out.outputs(1).datatype(), "BYTES");
  ASSERT_EQ(out.raw_output_contents_size(), 2);
  auto y = Le<int32_t>({7, -7});
  EXPECT_EQ(out.raw_output_contents(0), std::string(reinterpret_cast<const char*>(y.data()), 8));
  EXPECT_EQ(out.raw_output_contents(1), std::string("\x02\0\0\0ab\0\0\0\0", 10));
}

TEST(InferCodecTest, AMalformedOutputIsInternal) {
  InferResponse response;
  response.outputs.push_back({.name = "y",
                              .datatype = DataType::kInt32,
                              .shape = {3},
                              .data = TensorData::Owned(Le<int32_t>({1}))});
  inference::ModelInferResponse out;
  Status status = EncodeModelInferResponse(response, "m", &out);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace switchyard::grpc_frontend
