// DecodeInferRequest: JSON tensors, the binary tensor data extension and every rejection.
#include "frontend/http/kserve_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "testing/tensor_bytes.h"

namespace switchyard::http {
namespace {

using ::testing::HasSubstr;

ModelConfig OneInputModel(DataType type, Shape dims, int max_batch_size = 0) {
  ModelConfig model;
  model.name = "m";
  model.max_batch_size = max_batch_size;
  model.inputs.push_back({"in", type, std::move(dims)});
  model.outputs.push_back({"out", type, {-1}});
  return model;
}

const ModelConfig& AnyModel() {
  static const ModelConfig model = OneInputModel(DataType::kFp32, {4});
  return model;
}

StatusOr<DecodedInferRequest> Decode(std::string body,
                                     std::optional<std::size_t> json_length = std::nullopt) {
  return DecodeInferRequest(std::move(body), json_length, AnyModel());
}

// JSON header followed by binary data, with the matching json_length.
StatusOr<DecodedInferRequest> DecodeBinary(const std::string& json, const std::string& binary) {
  return Decode(json + binary, json.size());
}

using ::switchyard::testing::BytesElements;
using ::switchyard::testing::Le;

std::vector<std::byte> Data(const Tensor& tensor) {
  auto bytes = tensor.data.bytes();
  return {bytes.begin(), bytes.end()};
}

std::string AsString(const std::vector<std::byte>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string Input(std::string_view datatype, std::string_view shape, std::string_view data) {
  return std::string(R"({"inputs":[{"name":"x","datatype":")") + std::string(datatype) +
         R"(","shape":)" + std::string(shape) + R"(,"data":)" + std::string(data) + "}]}";
}

struct JsonCase {
  std::string datatype;
  std::string shape;
  std::string data;
  std::vector<std::byte> expected;
};

TEST(DecodeJsonTest, EveryJsonDatatype) {
  const std::vector<JsonCase> cases = {
      {"BOOL", "[3]", "[true,false,true]", Le<uint8_t>({1, 0, 1})},
      {"UINT8", "[2]", "[0,255]", Le<uint8_t>({0, 255})},
      {"UINT16", "[2]", "[0,65535]", Le<uint16_t>({0, 65535})},
      {"UINT32", "[2]", "[0,4294967295]", Le<uint32_t>({0, 4294967295u})},
      {"UINT64", "[2]", "[0,18446744073709551615]",
       Le<uint64_t>({0, std::numeric_limits<uint64_t>::max()})},
      {"INT8", "[2]", "[-128,127]", Le<int8_t>({-128, 127})},
      {"INT16", "[2]", "[-32768,32767]", Le<int16_t>({-32768, 32767})},
      {"INT32", "[2]", "[-2147483648,2147483647]",
       Le<int32_t>({std::numeric_limits<int32_t>::min(), 2147483647})},
      {"INT64", "[2]", "[-9223372036854775808,9223372036854775807]",
       Le<int64_t>({std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()})},
      {"FP32", "[3]", "[1.5,-0.25,7]", Le<float>({1.5f, -0.25f, 7.0f})},
      {"FP32", "[1]", "[3.4028235e38]", Le<float>({std::numeric_limits<float>::max()})},
      {"FP64", "[3]", "[0.1,1e300,-3]", Le<double>({0.1, 1e300, -3.0})},
      {"BYTES", "[3]", R"(["ab","","\u00e9\n"])", BytesElements({"ab", "", "\xc3\xa9\n"})},
      {"INT32", "[2]", "[2.0,1e3]", Le<int32_t>({2, 1000})},  // integral doubles
      {"UINT64", "[1]", "[1.8e19]", Le<uint64_t>({18000000000000000000u})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.datatype + " " + c.data);
    auto decoded = Decode(Input(c.datatype, c.shape, c.data));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    const auto& inputs = decoded->request->inputs;
    ASSERT_EQ(inputs.size(), 1u);
    EXPECT_EQ(inputs[0].name, "x");
    EXPECT_EQ(DataTypeName(inputs[0].datatype), c.datatype);
    EXPECT_EQ(Data(inputs[0]), c.expected);
    EXPECT_TRUE(inputs[0].Validate().ok());
  }
}

TEST(DecodeJsonTest, NestedAndFlatDataAreTheSame) {
  auto nested = Decode(Input("INT32", "[2,3]", "[[1,2,3],[4,5,6]]"));
  auto flat = Decode(Input("INT32", "[2,3]", "[1,2,3,4,5,6]"));
  ASSERT_TRUE(nested.ok()) << nested.status().ToString();
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(Data(nested->request->inputs[0]), Le<int32_t>({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Data(flat->request->inputs[0]), Data(nested->request->inputs[0]));
  EXPECT_EQ(nested->request->inputs[0].shape, (Shape{2, 3}));
}

TEST(DecodeJsonTest, ScalarAndEmptyShapes) {
  auto scalar = Decode(Input("FP64", "[]", "[2.5]"));
  ASSERT_TRUE(scalar.ok()) << scalar.status().ToString();
  EXPECT_EQ(Data(scalar->request->inputs[0]), Le<double>({2.5}));
  auto empty = Decode(Input("FP32", "[0,3]", "[]"));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->request->inputs[0].data.size(), 0u);
}

TEST(DecodeJsonTest, RequestFieldsAndParameters) {
  auto decoded = Decode(R"({"id":"req-7",
      "parameters":{"priority":2,"timeout":1500,"binary_data_output":true,"sequence_id":9,
                    "lang":"en","flag":false,"opts":{"k":[1, 2]}},
      "inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1]},
                {"name":"b","datatype":"INT8","shape":[1],"data":[2],"parameters":{"x":1}}],
      "outputs":[{"name":"o1","parameters":{"binary_data":false}},{"name":"o2"}]})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const InferRequest& request = *decoded->request;
  EXPECT_EQ(request.id, "req-7");
  EXPECT_EQ(request.priority, 2);
  EXPECT_EQ(request.timeout_us, 1500);
  EXPECT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[1].name, "b");
  EXPECT_EQ(request.requested_outputs, (std::vector<std::string>{"o1", "o2"}));
  // The parameters the server does not read are the model's: strings as their contents, other
  // values as their JSON text.
  EXPECT_EQ(
      request.parameters,
      (std::vector<std::pair<std::string, std::string>>{
          {"sequence_id", "9"}, {"lang", "en"}, {"flag", "false"}, {"opts", R"({"k":[1,2]})"}}));
  const OutputEncoding& encoding = decoded->output_encoding;
  EXPECT_TRUE(encoding.all_binary);
  EXPECT_FALSE(encoding.IsBinary("o1"));  // the output's own parameter wins
  EXPECT_TRUE(encoding.IsBinary("o2"));
}

TEST(DecodeJsonTest, ModelParametersAreBounded) {
  std::string many;
  for (int i = 0; i <= 64; ++i) many += (i ? "," : "") + ("\"p" + std::to_string(i) + "\":1");
  auto decoded = Decode(R"({"parameters":{)" + many +
                        R"(},"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1]}]})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("at most 64 parameters"), std::string::npos);
  const std::string long_value(20000, 'x');
  decoded = Decode(R"({"parameters":{"v":")" + long_value +
                   R"("},"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1]}]})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("parameter 'v': a value takes at most"),
            std::string::npos);
}

TEST(DecodeJsonTest, DefaultsWithoutParameters) {
  auto decoded = Decode(Input("INT8", "[1]", "[1]"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->request->priority, 0);
  EXPECT_FALSE(decoded->request->timeout_us.has_value());
  EXPECT_TRUE(decoded->request->requested_outputs.empty());
  EXPECT_TRUE(decoded->request->id.empty());
  EXPECT_FALSE(decoded->output_encoding.IsBinary("anything"));
}

struct RejectCase {
  std::string body;
  std::string message;  // a part of the expected error message
};

TEST(DecodeJsonTest, RejectsWithAMessageNamingTheField) {
  const std::string kTooBig = "[100000,100000,100000,100000,100000]";
  const std::vector<RejectCase> cases = {
      {"{", "invalid JSON"},
      {"", "invalid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"inputs":[{"name":"x","datatype":"INT8","shape":[1],"data":[1]}]} x)", "invalid JSON"},
      {"{}", "inputs: required"},
      {R"({"inputs":{}})", "inputs: expected an array"},
      {R"({"inputs":[1]})", "inputs[0]: expected an object"},
      {R"({"inputs":[{"datatype":"INT8","shape":[1],"data":[1]}]})", "inputs[0].name: required"},
      {R"({"inputs":[{"name":5,"datatype":"INT8","shape":[1],"data":[1]}]})",
       "inputs[0].name: expected a string"},
      {R"({"inputs":[{"name":"x","shape":[1],"data":[1]}]})", "inputs[0].datatype: required"},
      {Input("FP33", "[1]", "[1]"), "inputs[0].datatype: unknown datatype 'FP33'"},
      {Input("fp32", "[1]", "[1]"), "unknown datatype 'fp32'"},
      {R"({"inputs":[{"name":"x","datatype":"INT8","data":[1]}]})", "inputs[0].shape: required"},
      {Input("INT8", "7", "[1]"), "inputs[0].shape: expected an array"},
      {Input("INT8", "[-1]", "[1]"), "inputs[0].shape[0]: expected an integer >= 0"},
      {Input("INT8", "[1.5]", "[1]"), "inputs[0].shape[0]"},
      {Input("INT8", "[\"2\"]", "[1]"), "inputs[0].shape[0]"},
      {Input("INT8", kTooBig, "[1]"), "inputs[0].shape: [100000,100000,100000,100000,100000] has"},
      {Input("INT8", "[1000000]", "[1]"), "more than the request holds"},
      {Input("INT8", "[4]", "[1,2,3]"), "inputs[0].data: 3 elements, but shape [4] needs 4"},
      {Input("INT8", "[2]", "[1,2,3]"), "inputs[0].data: more than the 2 elements"},
      {Input("INT8", "[2,2]", "[[1,2],[3]]"), "3 elements, but shape [2,2] needs 4"},
      {Input("UINT8", "[2]", "[1,300]"), "inputs[0].data[1]: 300 is not a valid UINT8"},
      {Input("UINT16", "[1]", "[-1]"), "inputs[0].data[0]: -1 is not a valid UINT16"},
      {Input("UINT64", "[1]", "[-1]"), "not a valid UINT64"},
      {Input("UINT64", "[1]", "[1.9e19]"), "not a valid UINT64"},
      {Input("INT8", "[1]", "[128]"), "not a valid INT8"},
      {Input("INT32", "[1]", "[1.5]"), "inputs[0].data[0]: 1.5 is not a valid INT32"},
      {Input("INT32", "[1]", "[2147483648]"), "not a valid INT32"},
      {Input("INT64", "[1]", "[9223372036854775808]"), "not a valid INT64"},
      {Input("INT64", "[1]", "[1e19]"), "not a valid INT64"},
      {Input("INT32", "[1]", "[\"1\"]"), "not a valid INT32"},
      {Input("INT32", "[1]", "[null]"), "not a valid INT32"},
      {Input("INT32", "[1]", "[{}]"), "not a valid INT32"},
      {Input("BOOL", "[1]", "[1]"), "inputs[0].data[0]: 1 is not a valid BOOL"},
      {Input("BYTES", "[1]", "[1]"), "not a valid BYTES"},
      {Input("FP32", "[1]", "[\"x\"]"), "not a valid FP32"},
      {Input("FP32", "[1]", "[1e39]"), "not a valid FP32"},
      {Input("FP32", "[1]", "[3.4028236e38]"), "not a valid FP32"},
      {Input("FP32", "[1]", "[1e999]"), "invalid JSON"},
      {Input("FP32", "[1]", "[NaN]"), "invalid JSON"},
      {Input("FP16", "[1]", "[1.0]"), "binary tensor data extension"},
      {Input("BF16", "[1]", "[1.0]"), "inputs[0].data: BF16 cannot be sent as JSON"},
      {R"({"inputs":[{"name":"x","datatype":"INT8","shape":[1]}]})",
       "inputs[0]: needs data or parameters.binary_data_size"},
      {R"({"inputs":[{"name":"x","datatype":"INT8","shape":[1],"data":[1],"parameters":[]}]})",
       "inputs[0].parameters: expected an object"},
      {R"({"id":5,"inputs":[]})", "id: expected a string"},
      {R"({"parameters":[],"inputs":[]})", "parameters: expected an object"},
      {R"({"parameters":{"priority":-1},"inputs":[]})", "parameters.priority"},
      {R"({"parameters":{"priority":"high"},"inputs":[]})", "parameters.priority"},
      {R"({"parameters":{"priority":3000000000},"inputs":[]})", "parameters.priority"},
      {R"({"parameters":{"timeout":0},"inputs":[]})",
       "parameters.timeout: expected an integer >= 1"},
      {R"({"parameters":{"binary_data_output":1},"inputs":[]})",
       "parameters.binary_data_output: expected true or false"},
      {R"({"inputs":[],"outputs":{}})", "outputs: expected an array"},
      {R"({"inputs":[],"outputs":[{}]})", "outputs[0].name: required"},
      {R"({"inputs":[],"outputs":[{"name":"o","parameters":{"binary_data":"yes"}}]})",
       "outputs[0].parameters.binary_data: expected true or false"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    auto decoded = Decode(c.body);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(decoded.status().message(), HasSubstr(c.message));
  }
}

TEST(DecodeJsonTest, ErrorsNameTheRightInput) {
  auto decoded = Decode(R"({"inputs":[{"name":"a","datatype":"INT8","shape":[1],"data":[1]},
      {"name":"b","datatype":"FP33","shape":[1],"data":[1]}]})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "inputs[1].datatype: unknown datatype 'FP33'");
}

TEST(DecodeJsonTest, DeepNestingIsAnErrorNotACrash) {
  std::string data = std::string(5000, '[') + "1" + std::string(5000, ']');
  auto decoded = Decode(Input("INT8", "[1]", data));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
}

// Checks that decoding failed with InvalidArgument and a message holding `message`.
void ExpectRejected(const StatusOr<DecodedInferRequest>& decoded, std::string_view message) {
  SCOPED_TRACE(message);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr(message));
}

std::string BinaryInput(std::string_view name, std::string_view datatype, std::string_view shape,
                        std::size_t size) {
  return std::string(R"({"name":")") + std::string(name) + R"(","datatype":")" +
         std::string(datatype) + R"(","shape":)" + std::string(shape) +
         R"(,"parameters":{"binary_data_size":)" + std::to_string(size) + "}}";
}

TEST(DecodeBinaryTest, EveryDatatypeIsBorrowedFromThePayload) {
  struct BinaryCase {
    std::string datatype;
    std::string shape;
    std::vector<std::byte> bytes;
  };
  const std::vector<BinaryCase> cases = {
      {"BOOL", "[2]", Le<uint8_t>({1, 0})},
      {"UINT8", "[2]", Le<uint8_t>({7, 255})},
      {"UINT16", "[1]", Le<uint16_t>({65535})},
      {"UINT32", "[2]", Le<uint32_t>({1, 2})},
      {"UINT64", "[1]", Le<uint64_t>({1ull << 63})},
      {"INT8", "[1]", Le<int8_t>({-5})},
      {"INT16", "[2]", Le<int16_t>({-1, 1})},
      {"INT32", "[1,2]", Le<int32_t>({-7, 9})},
      {"INT64", "[1]", Le<int64_t>({-1})},
      {"FP16", "[2]", Le<uint16_t>({0x3c00, 0xc000})},
      {"BF16", "[1]", Le<uint16_t>({0x3f80})},
      {"FP32", "[2]", Le<float>({1.5f, -2.0f})},
      {"FP64", "[1]", Le<double>({0.1})},
      {"BYTES", "[2]", BytesElements({"hello", "\xff\x00"})},
  };
  std::string json = R"({"inputs":[)";
  std::string binary;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (i > 0) json += ",";
    json += BinaryInput("t" + std::to_string(i), cases[i].datatype, cases[i].shape,
                        cases[i].bytes.size());
    binary += AsString(cases[i].bytes);
  }
  json += "]}";
  auto decoded = DecodeBinary(json, binary);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const InferRequest& request = *decoded->request;
  ASSERT_EQ(request.inputs.size(), cases.size());
  const auto* payload_begin = request.payload.bytes().data();
  const auto* payload_end = payload_begin + request.payload.size();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].datatype);
    const Tensor& tensor = request.inputs[i];
    EXPECT_EQ(DataTypeName(tensor.datatype), cases[i].datatype);
    EXPECT_EQ(Data(tensor), cases[i].bytes);
    EXPECT_FALSE(tensor.data.owned());
    EXPECT_GE(tensor.data.bytes().data(), payload_begin);
    EXPECT_LE(tensor.data.bytes().data() + tensor.data.size(), payload_end);
    EXPECT_TRUE(tensor.Validate().ok());
  }
}

TEST(DecodeBinaryTest, MixesJsonAndBinaryInputs) {
  const std::string json = R"({"inputs":[{"name":"a","datatype":"INT32","shape":[1],"data":[5]},)" +
                           BinaryInput("b", "INT32", "[1]", 4) + "]}";
  auto decoded = DecodeBinary(json, AsString(Le<int32_t>({6})));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Data(decoded->request->inputs[0]), Le<int32_t>({5}));
  EXPECT_EQ(Data(decoded->request->inputs[1]), Le<int32_t>({6}));
}

TEST(DecodeBinaryTest, ZeroSizedBinaryInput) {
  auto decoded = DecodeBinary(R"({"inputs":[)" + BinaryInput("a", "FP32", "[0]", 0) + "]}", "");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->request->inputs[0].data.size(), 0u);
}

TEST(DecodeBinaryTest, Rejections) {
  const std::string four = AsString(Le<int32_t>({1}));
  const std::string eight = AsString(Le<int32_t>({1, 2}));
  // truncated: the input wants more bytes than the body has
  ExpectRejected(DecodeBinary(R"({"inputs":[)" + BinaryInput("a", "INT32", "[2]", 8) + "]}", four),
                 "inputs[0].parameters.binary_data_size: 8 bytes, but only 4 bytes");
  // the sizes do not add up to the binary section
  ExpectRejected(
      DecodeBinary(R"({"inputs":[)" + BinaryInput("a", "INT32", "[1]", 4) + "]}", eight),
      "holds 8 bytes after the JSON header, but the inputs' parameters.binary_data_size add up "
      "to 4");
  ExpectRejected(DecodeBinary(Input("INT32", "[1]", "[1]"), four), "add up to 0");
  // size and shape disagree
  ExpectRejected(DecodeBinary(R"({"inputs":[)" + BinaryInput("a", "INT32", "[2]", 4) + "]}", four),
                 "inputs[0]: shape [2] of INT32 needs 2 elements of 4 bytes, got 4 bytes");
  ExpectRejected(
      DecodeBinary(R"({"inputs":[)" + BinaryInput("a", "FP64", "[2305843009213693952]", 0) + "]}",
                   ""),
      "needs 2305843009213693952 elements of 8 bytes, got 0 bytes");
  // a BYTES element runs past its input's bytes
  ExpectRejected(DecodeBinary(R"({"inputs":[)" + BinaryInput("a", "BYTES", "[1]", 6) + "]}",
                              AsString(BytesElements({"abcd"})).substr(0, 6)),
                 "inputs[0]: tensor 'a': BYTES element of length 4 runs past the end");
  ExpectRejected(DecodeBinary(R"({"inputs":[)" + BinaryInput("a", "BYTES", "[2]", 8) + "]}",
                              AsString(BytesElements({"abcd"}))),
                 "needs 2 BYTES elements, got 1");
  // binary_data_size with data, or negative, or without any binary section
  ExpectRejected(DecodeBinary(R"({"inputs":[{"name":"a","datatype":"INT32","shape":[1],"data":[1],)"
                              R"("parameters":{"binary_data_size":4}}]})",
                              four),
                 "inputs[0]: has both data and parameters.binary_data_size");
  ExpectRejected(DecodeBinary(R"({"inputs":[{"name":"a","datatype":"INT32","shape":[1],)"
                              R"("parameters":{"binary_data_size":-4}}]})",
                              four),
                 "inputs[0].parameters.binary_data_size: expected an integer >= 0");
  ExpectRejected(Decode(R"({"inputs":[)" + BinaryInput("a", "INT32", "[1]", 4) + "]}"),
                 "4 bytes, but only 0 bytes of binary data are left");
  // the header length is past the body
  ExpectRejected(Decode("{}", 3),
                 "Inference-Header-Content-Length: 3 is larger than the body (2 bytes)");
  // the JSON header is cut short by the header length
  ExpectRejected(Decode(Input("INT8", "[1]", "[1]"), 10), "invalid JSON");
}

TEST(DecodeRawBodyTest, SingleInputWithoutBatching) {
  const std::string body = AsString(Le<float>({1, 2, 3, 4}));
  auto decoded = DecodeInferRequest(body, 0, OneInputModel(DataType::kFp32, {4}));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Tensor& tensor = decoded->request->inputs.at(0);
  EXPECT_EQ(tensor.name, "in");
  EXPECT_EQ(tensor.datatype, DataType::kFp32);
  EXPECT_EQ(tensor.shape, (Shape{4}));
  EXPECT_EQ(AsString(Data(tensor)), body);
  EXPECT_FALSE(tensor.data.owned());
  EXPECT_EQ(tensor.data.bytes().data(), decoded->request->payload.bytes().data());
  EXPECT_TRUE(decoded->output_encoding.all_binary);
  EXPECT_TRUE(decoded->output_encoding.IsBinary("out"));
}

TEST(DecodeRawBodyTest, BatchingModelGetsBatchOne) {
  auto decoded = DecodeInferRequest(AsString(Le<int16_t>({1, 2})), 0,
                                    OneInputModel(DataType::kInt16, {2}, /*max_batch_size=*/8));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->request->inputs.at(0).shape, (Shape{1, 2}));
}

TEST(DecodeRawBodyTest, ResolvesOneVariableDimension) {
  auto fixed = DecodeInferRequest(AsString(Le<int32_t>({1, 2, 3, 4, 5, 6})), 0,
                                  OneInputModel(DataType::kInt32, {-1, 3}, 4));
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->request->inputs.at(0).shape, (Shape{1, 2, 3}));

  auto bytes = DecodeInferRequest(AsString(BytesElements({"a", "bc", ""})), 0,
                                  OneInputModel(DataType::kBytes, {-1}));
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(bytes->request->inputs.at(0).shape, (Shape{3}));
}

TEST(DecodeRawBodyTest, Rejections) {
  ModelConfig two_inputs = OneInputModel(DataType::kFp32, {4});
  two_inputs.inputs.push_back({"in2", DataType::kFp32, {4}});
  const std::string sixteen = AsString(Le<float>({1, 2, 3, 4}));
  ExpectRejected(DecodeInferRequest(sixteen, 0, two_inputs), "exactly one input; model 'm' has 2");
  ExpectRejected(DecodeInferRequest(sixteen.substr(0, 12), 0, OneInputModel(DataType::kFp32, {4})),
                 "shape [4] of FP32 needs 4 elements of 4 bytes, got 12 bytes");
  ExpectRejected(DecodeInferRequest(sixteen, 0, OneInputModel(DataType::kFp32, {-1, -1})),
                 "more than one -1");
  ExpectRejected(DecodeInferRequest(sixteen, 0, OneInputModel(DataType::kFp32, {-1, 3})),
                 "4 elements in the raw tensor body do not fill shape [-1,3]");
  ExpectRejected(DecodeInferRequest(sixteen.substr(0, 6), 0, OneInputModel(DataType::kFp32, {-1})),
                 "got 6 bytes");
  ExpectRejected(DecodeInferRequest(sixteen, 0, OneInputModel(DataType::kFp32, {0, -1})),
                 "do not fill shape [0,-1]");
  ExpectRejected(DecodeInferRequest(std::string("\x05\x00\x00\x00"
                                                "ab",
                                                6),
                                    0, OneInputModel(DataType::kBytes, {-1})),
                 "input 'in': BYTES element of length 5 runs past the end");
}

}  // namespace
}  // namespace switchyard::http
