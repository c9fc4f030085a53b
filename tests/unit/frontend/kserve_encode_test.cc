// EncodeInferResponse and ErrorJson: JSON and binary outputs, escaping, NaN, round trips.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "frontend/http/kserve_codec.h"
#include "testing/tensor_bytes.h"

namespace switchyard::http {
namespace {

using ::testing::HasSubstr;

using ::switchyard::testing::BytesElements;
using ::switchyard::testing::Le;

std::string AsString(const std::vector<std::byte>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Tensor MakeTensor(std::string name, DataType type, Shape shape, std::vector<std::byte> bytes) {
  return Tensor{std::move(name), type, std::move(shape), TensorData::Owned(std::move(bytes))};
}

InferResponse Response(std::vector<Tensor> outputs) {
  InferResponse response;
  response.model_name = "m";
  response.model_version = 3;
  response.outputs = std::move(outputs);
  return response;
}

std::string OneOutputJson(const Tensor& tensor) {
  std::vector<Tensor> outputs;
  outputs.push_back(
      MakeTensor(tensor.name, tensor.datatype, tensor.shape,
                 std::vector<std::byte>(tensor.data.bytes().begin(), tensor.data.bytes().end())));
  InferResponse response = Response(std::move(outputs));
  auto encoded = EncodeInferResponse(response, {});
  EXPECT_TRUE(encoded.ok()) << encoded.status().ToString();
  if (!encoded.ok()) return "";
  EXPECT_FALSE(encoded->json_length.has_value());
  return encoded->body;
}

// The data array of a response with one JSON output.
std::string DataOf(const std::string& body) {
  auto begin = body.find("\"data\":");
  auto end = body.rfind("}]}");
  if (begin == std::string::npos || end == std::string::npos) return "<no data>";
  return body.substr(begin + 7, end - begin - 7);
}

TEST(EncodeTest, WholeDocumentShape) {
  std::vector<Tensor> outputs;
  outputs.push_back(MakeTensor("y", DataType::kInt32, {1, 2}, Le<int32_t>({1, -2})));
  InferResponse response = Response(std::move(outputs));
  response.id = "abc";
  auto encoded = EncodeInferResponse(response, {});
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(encoded->body,
            R"({"model_name":"m","model_version":"3","id":"abc","outputs":[{"name":"y",)"
            R"("datatype":"INT32","shape":[1,2],"data":[1,-2]}]})");
  EXPECT_FALSE(encoded->json_length.has_value());
}

TEST(EncodeTest, NoIdWhenEmpty) {
  InferResponse response = Response({});
  auto encoded = EncodeInferResponse(response, {});
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->body, R"({"model_name":"m","model_version":"3","outputs":[]})");
}

TEST(EncodeTest, EveryJsonDatatype) {
  struct Case {
    DataType type;
    std::vector<std::byte> bytes;
    std::string data;
  };
  const std::vector<Case> cases = {
      {DataType::kBool, Le<uint8_t>({1, 0, 2}), "[true,false,true]"},
      {DataType::kUint8, Le<uint8_t>({0, 255}), "[0,255]"},
      {DataType::kUint16, Le<uint16_t>({65535}), "[65535]"},
      {DataType::kUint32, Le<uint32_t>({4294967295u}), "[4294967295]"},
      {DataType::kUint64, Le<uint64_t>({std::numeric_limits<uint64_t>::max()}),
       "[18446744073709551615]"},
      {DataType::kInt8, Le<int8_t>({-128, 127}), "[-128,127]"},
      {DataType::kInt16, Le<int16_t>({-32768}), "[-32768]"},
      {DataType::kInt32, Le<int32_t>({std::numeric_limits<int32_t>::min()}), "[-2147483648]"},
      {DataType::kInt64, Le<int64_t>({std::numeric_limits<int64_t>::min()}),
       "[-9223372036854775808]"},
      {DataType::kFp32, Le<float>({0.1f, 1.0f, -2.5e-8f}), "[0.1,1,-2.5e-08]"},
      {DataType::kFp64, Le<double>({0.1, 1e300}), "[0.1,1e+300]"},
      {DataType::kBytes, BytesElements({"ab", "", "caf\xc3\xa9"}), "[\"ab\",\"\",\"caf\xc3\xa9\"]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(DataTypeName(c.type));
    const std::size_t size = DataTypeSize(c.type);
    const int64_t count = c.type == DataType::kBytes ? 3 : c.bytes.size() / size;
    Tensor tensor = MakeTensor("y", c.type, {count}, c.bytes);
    EXPECT_EQ(DataOf(OneOutputJson(tensor)), c.data);
  }
}

TEST(EncodeTest, NanAndInfinity) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor fp32 = MakeTensor("y", DataType::kFp32, {3}, Le<float>({std::nanf(""), inf, -inf}));
  EXPECT_EQ(DataOf(OneOutputJson(fp32)), "[NaN,Infinity,-Infinity]");
  Tensor fp64 = MakeTensor("y", DataType::kFp64, {1}, Le<double>({-std::nan("")}));
  EXPECT_EQ(DataOf(OneOutputJson(fp64)), "[NaN]");
}

TEST(EncodeTest, BytesAreEscaped) {
  Tensor tensor =
      MakeTensor("y", DataType::kBytes, {2}, BytesElements({"a\"b\\c\n\x01", "tab\there"}));
  EXPECT_EQ(DataOf(OneOutputJson(tensor)), R"(["a\"b\\c\n\u0001","tab\there"])");
}

TEST(EncodeTest, NonUtf8BytesAsJsonIsRejected) {
  std::vector<Tensor> outputs;
  outputs.push_back(MakeTensor("raw", DataType::kBytes, {2}, BytesElements({"ok", "\xff\xfe"})));
  InferResponse response = Response(std::move(outputs));
  auto encoded = EncodeInferResponse(response, {});
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(encoded.status().message(), HasSubstr("outputs[0] 'raw': BYTES element 1"));
  EXPECT_THAT(encoded.status().message(), HasSubstr("binary_data"));

  OutputEncoding binary;
  binary.binary_by_name["raw"] = true;
  auto as_binary = EncodeInferResponse(response, binary);
  ASSERT_TRUE(as_binary.ok()) << as_binary.status().ToString();
  EXPECT_EQ(as_binary->Flat().substr(*as_binary->json_length),
            AsString(BytesElements({"ok", "\xff\xfe"})));
}

TEST(EncodeTest, BinaryOutputsFollowTheJsonInOrder) {
  std::vector<Tensor> outputs;
  outputs.push_back(MakeTensor("a", DataType::kInt32, {2}, Le<int32_t>({1, 2})));
  outputs.push_back(MakeTensor("b", DataType::kFp16, {1}, Le<uint16_t>({0x3c00})));
  outputs.push_back(MakeTensor("c", DataType::kBytes, {1}, BytesElements({"xyz"})));
  outputs.push_back(MakeTensor("d", DataType::kUint8, {1}, Le<uint8_t>({9})));
  InferResponse response = Response(std::move(outputs));
  OutputEncoding encoding;
  encoding.binary_by_name["a"] = true;
  encoding.binary_by_name["c"] = true;
  auto encoded = EncodeInferResponse(response, encoding);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  ASSERT_TRUE(encoded->json_length.has_value());
  const std::string json = encoded->body.substr(0, *encoded->json_length);
  EXPECT_EQ(json,
            R"({"model_name":"m","model_version":"3","outputs":[)"
            R"({"name":"a","datatype":"INT32","shape":[2],"parameters":{"binary_data_size":8}},)"
            R"({"name":"b","datatype":"FP16","shape":[1],"parameters":{"binary_data_size":2}},)"
            R"({"name":"c","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":7}},)"
            R"({"name":"d","datatype":"UINT8","shape":[1],"data":[9]}]})");
  EXPECT_EQ(encoded->Flat().substr(*encoded->json_length), AsString(Le<int32_t>({1, 2})) +
                                                               AsString(Le<uint16_t>({0x3c00})) +
                                                               AsString(BytesElements({"xyz"})));
  // The JSON alone is the body; the binary parts are the outputs' own bytes, not copies.
  EXPECT_EQ(encoded->body.size(), *encoded->json_length);
  ASSERT_EQ(encoded->binary.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(encoded->binary[i].data(), response.outputs[i].data.bytes().data()) << i;
    EXPECT_EQ(encoded->binary[i].size(), response.outputs[i].data.size()) << i;
  }
}

TEST(EncodeTest, AllBinaryAndPerOutputOverride) {
  std::vector<Tensor> outputs;
  outputs.push_back(MakeTensor("a", DataType::kInt8, {1}, Le<int8_t>({1})));
  outputs.push_back(MakeTensor("b", DataType::kInt8, {1}, Le<int8_t>({2})));
  InferResponse response = Response(std::move(outputs));
  OutputEncoding encoding;
  encoding.all_binary = true;
  encoding.binary_by_name["b"] = false;
  auto encoded = EncodeInferResponse(response, encoding);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  ASSERT_TRUE(encoded->json_length.has_value());
  EXPECT_THAT(encoded->body, HasSubstr(R"("name":"a","datatype":"INT8","shape":[1],)"
                                       R"("parameters":{"binary_data_size":1}})"));
  EXPECT_THAT(encoded->body, HasSubstr(R"("name":"b","datatype":"INT8","shape":[1],"data":[2])"));
  EXPECT_EQ(encoded->Flat().substr(*encoded->json_length), std::string(1, '\x01'));
}

TEST(EncodeTest, EmptyBinaryOutputStillSetsJsonLength) {
  std::vector<Tensor> outputs;
  outputs.push_back(MakeTensor("a", DataType::kFp16, {0}, {}));
  InferResponse response = Response(std::move(outputs));
  auto encoded = EncodeInferResponse(response, {});
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  ASSERT_TRUE(encoded->json_length.has_value());
  EXPECT_EQ(*encoded->json_length, encoded->body.size());
}

TEST(EncodeTest, MalformedOutputIsAnInternalError) {
  std::vector<Tensor> outputs;
  outputs.push_back(MakeTensor("a", DataType::kInt32, {2}, Le<int32_t>({1})));
  InferResponse response = Response(std::move(outputs));
  auto encoded = EncodeInferResponse(response, {});
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().code(), StatusCode::kInternal);
  EXPECT_THAT(encoded.status().message(), HasSubstr("outputs[0]"));
}

// A response's output object is also a valid request input: encode, then decode it back.
TEST(EncodeTest, JsonRoundTripsThroughTheDecoder) {
  const std::vector<Tensor> tensors = [] {
    std::vector<Tensor> t;
    t.push_back(MakeTensor("a", DataType::kFp32, {3}, Le<float>({0.1f, 3.4028235e38f, 1e-45f})));
    t.push_back(MakeTensor("b", DataType::kFp64, {2}, Le<double>({0.1, 5e-324})));
    t.push_back(MakeTensor("c", DataType::kUint64, {1}, Le<uint64_t>({1ull << 63})));
    t.push_back(MakeTensor("d", DataType::kBool, {2}, Le<uint8_t>({0, 1})));
    t.push_back(MakeTensor("e", DataType::kBytes, {1}, BytesElements({"q\"\\\n\x7f\xc3\xa9"})));
    t.push_back(MakeTensor("f", DataType::kInt16, {1, 2}, Le<int16_t>({-1, 300})));
    return t;
  }();
  ModelConfig model;
  for (const Tensor& tensor : tensors) {
    SCOPED_TRACE(tensor.name);
    const std::string body = OneOutputJson(tensor);
    const auto outputs = body.find("\"outputs\":");
    ASSERT_NE(outputs, std::string::npos);
    auto decoded =
        DecodeInferRequest("{\"inputs\":" + body.substr(outputs + 10), std::nullopt, model);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    const Tensor& back = decoded->request->inputs.at(0);
    EXPECT_EQ(back.shape, tensor.shape);
    EXPECT_EQ(back.datatype, tensor.datatype);
    EXPECT_TRUE(std::equal(back.data.bytes().begin(), back.data.bytes().end(),
                           tensor.data.bytes().begin(), tensor.data.bytes().end()));
  }
}

TEST(ErrorJsonTest, EscapesTheMessage) {
  EXPECT_EQ(ErrorJson("bad \"x\"\n"), R"({"error":"bad \"x\"\n"})");
  EXPECT_EQ(ErrorJson(""), R"({"error":""})");
}

}  // namespace
}  // namespace switchyard::http
