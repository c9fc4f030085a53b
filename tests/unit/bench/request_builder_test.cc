#include "bench/request_builder.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "fmt/format.h"
#include "simdjson.h"

namespace switchyard::bench {
namespace {

const std::vector<TensorMetadata> kSimpleInputs = {
    {"INPUT0", DataType::kInt32, {1, 16}},
    {"INPUT1", DataType::kInt32, {1, 16}},
};

// The `data` arrays of a JSON body, as doubles (BYTES: the strings parsed as integers).
std::vector<std::vector<double>> JsonData(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::array inputs;
  EXPECT_EQ(parser.parse(body)["inputs"].get_array().get(inputs), simdjson::SUCCESS);
  std::vector<std::vector<double>> result;
  for (simdjson::dom::element input : inputs) {
    std::vector<double> values;
    simdjson::dom::array data;
    EXPECT_EQ(input["data"].get_array().get(data), simdjson::SUCCESS);
    for (simdjson::dom::element value : data) {
      std::string_view text;
      bool flag = false;
      if (value.get_string().get(text) == simdjson::SUCCESS) {
        values.push_back(std::stod(std::string(text)));
      } else if (value.get_bool().get(flag) == simdjson::SUCCESS) {
        values.push_back(flag ? 1 : 0);
      } else {
        double number = 0;
        EXPECT_EQ(value.get_double().get(number), simdjson::SUCCESS);
        values.push_back(number);
      }
    }
    result.push_back(std::move(values));
  }
  return result;
}

template <typename T>
std::vector<double> Decode(std::string_view bytes) {
  std::vector<double> values;
  for (std::size_t i = 0; i + sizeof(T) <= bytes.size(); i += sizeof(T)) {
    T value;
    std::memcpy(&value, bytes.data() + i, sizeof(T));
    values.push_back(static_cast<double>(value));
  }
  return values;
}

TEST(BuildInferBodyTest, JsonForSimple) {
  PreparedBody prepared = BuildInferBody(kSimpleInputs, BodyFormat::kJson, 7);
  EXPECT_EQ(prepared.json_length, 0u);
  EXPECT_TRUE(prepared.body.starts_with(
      R"({"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],"data":[)"));
  EXPECT_NE(prepared.body.find(R"(]},{"name":"INPUT1","datatype":"INT32","shape":[1,16],"data":[)"),
            std::string::npos);
  EXPECT_TRUE(prepared.body.ends_with("]}]}"));
  auto data = JsonData(prepared.body);
  ASSERT_EQ(data.size(), 2u);
  for (const auto& values : data) {
    ASSERT_EQ(values.size(), 16u);
    for (double v : values) {
      EXPECT_GE(v, 0);
      EXPECT_LT(v, 100);
      EXPECT_EQ(v, std::floor(v));
    }
  }
  EXPECT_NE(data[0], data[1]);
}

TEST(BuildInferBodyTest, BinaryForSimpleCarriesTheSameValues) {
  PreparedBody prepared = BuildInferBody(kSimpleInputs, BodyFormat::kBinary, 7);
  const std::string header =
      R"({"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],)"
      R"("parameters":{"binary_data_size":64}},)"
      R"({"name":"INPUT1","datatype":"INT32","shape":[1,16],)"
      R"("parameters":{"binary_data_size":64}}],"parameters":{"binary_data_output":true}})";
  EXPECT_EQ(prepared.json_length, header.size());
  EXPECT_EQ(prepared.body.substr(0, prepared.json_length), header);
  ASSERT_EQ(prepared.body.size(), header.size() + 128);
  auto json = JsonData(BuildInferBody(kSimpleInputs, BodyFormat::kJson, 7).body);
  std::string_view raw = std::string_view(prepared.body).substr(header.size());
  EXPECT_EQ(Decode<int32_t>(raw.substr(0, 64)), json[0]);
  EXPECT_EQ(Decode<int32_t>(raw.substr(64)), json[1]);
}

TEST(BuildInferBodyTest, SharedMemoryNamesTheBytesThatBinaryWouldSend) {
  PreparedBody prepared = BuildInferBody(kSimpleInputs, BodyFormat::kSharedMemory, 7, "r\"1");
  EXPECT_EQ(prepared.json_length, 0u);
  EXPECT_EQ(prepared.body,
            R"({"inputs":[{"name":"INPUT0","datatype":"INT32","shape":[1,16],)"
            R"("parameters":{"shared_memory_region":"r\"1","shared_memory_byte_size":64,)"
            R"("shared_memory_offset":0}},)"
            R"({"name":"INPUT1","datatype":"INT32","shape":[1,16],)"
            R"("parameters":{"shared_memory_region":"r\"1","shared_memory_byte_size":64,)"
            R"("shared_memory_offset":64}}],"parameters":{"binary_data_output":true}})");
  PreparedBody binary = BuildInferBody(kSimpleInputs, BodyFormat::kBinary, 7);
  EXPECT_EQ(prepared.shared_bytes, binary.body.substr(binary.json_length));
}

TEST(BuildInferBodyTest, SeedDecidesTheData) {
  EXPECT_EQ(BuildInferBody(kSimpleInputs, BodyFormat::kJson, 3).body,
            BuildInferBody(kSimpleInputs, BodyFormat::kJson, 3).body);
  EXPECT_NE(BuildInferBody(kSimpleInputs, BodyFormat::kJson, 3).body,
            BuildInferBody(kSimpleInputs, BodyFormat::kJson, 4).body);
}

TEST(BuildInferBodyTest, BytesAsDecimalStrings) {
  std::vector<TensorMetadata> inputs = {{"IN", DataType::kBytes, {1, 4}}};
  PreparedBody json = BuildInferBody(inputs, BodyFormat::kJson, 11);
  EXPECT_NE(json.body.find(R"("data":[")"), std::string::npos);
  std::vector<double> expected = JsonData(json.body)[0];
  ASSERT_EQ(expected.size(), 4u);

  PreparedBody binary = BuildInferBody(inputs, BodyFormat::kBinary, 11);
  std::string_view raw = std::string_view(binary.body).substr(binary.json_length);
  std::vector<double> decoded;
  while (raw.size() >= 4) {
    uint32_t length;
    std::memcpy(&length, raw.data(), 4);
    ASSERT_LE(4 + length, raw.size());
    decoded.push_back(std::stod(std::string(raw.substr(4, length))));
    raw.remove_prefix(4 + length);
  }
  EXPECT_TRUE(raw.empty());
  EXPECT_EQ(decoded, expected);
  std::size_t size = binary.body.size() - binary.json_length;
  EXPECT_NE(binary.body.find(fmt::format("\"binary_data_size\":{}", size)), std::string::npos);
}

TEST(BuildInferBodyTest, FloatsMatchBetweenJsonAndBinary) {
  std::vector<TensorMetadata> inputs = {{"A", DataType::kFp32, {8}},
                                        {"B", DataType::kFp64, {8}},
                                        {"C", DataType::kBool, {8}},
                                        {"D", DataType::kUint8, {8}}};
  auto json = JsonData(BuildInferBody(inputs, BodyFormat::kJson, 5).body);
  PreparedBody binary = BuildInferBody(inputs, BodyFormat::kBinary, 5);
  std::string_view raw = std::string_view(binary.body).substr(binary.json_length);
  ASSERT_EQ(raw.size(), 8u * (4 + 8 + 1 + 1));
  // A float's shortest decimal form parses back to the same float (not the same double).
  std::vector<double> json_floats;
  for (double v : json[0]) json_floats.push_back(static_cast<float>(v));
  EXPECT_EQ(Decode<float>(raw.substr(0, 32)), json_floats);
  EXPECT_EQ(Decode<double>(raw.substr(32, 64)), json[1]);
  EXPECT_EQ(Decode<uint8_t>(raw.substr(96, 8)), json[2]);
  EXPECT_EQ(Decode<uint8_t>(raw.substr(104, 8)), json[3]);
  for (double v : json[0]) EXPECT_TRUE(v >= 0 && v < 1) << v;
  for (double v : json[2]) EXPECT_TRUE(v == 0 || v == 1) << v;
}

TEST(BuildInferBodyTest, HalfPrecisionBinaryIsOnItsGrid) {
  std::vector<TensorMetadata> inputs = {{"H", DataType::kFp16, {64}}, {"B", DataType::kBf16, {64}}};
  PreparedBody binary = BuildInferBody(inputs, BodyFormat::kBinary, 9);
  std::string_view raw = std::string_view(binary.body).substr(binary.json_length);
  ASSERT_EQ(raw.size(), 256u);
  bool any_nonzero = false;
  for (std::size_t i = 0; i < 64; ++i) {
    uint16_t half;
    std::memcpy(&half, raw.data() + 2 * i, 2);
    // Decode a non-negative normal FP16 (or zero) and check it is k/2048 with k < 2048.
    double value =
        half == 0 ? 0 : std::ldexp(1.0 + (half & 0x3ff) / 1024.0, ((half >> 10) & 0x1f) - 15);
    EXPECT_EQ(half >> 15, 0);
    EXPECT_LT(value, 1.0);
    EXPECT_EQ(value * 2048, std::floor(value * 2048)) << half;
    any_nonzero = any_nonzero || half != 0;
  }
  for (std::size_t i = 0; i < 64; ++i) {
    uint16_t bf16;
    std::memcpy(&bf16, raw.data() + 128 + 2 * i, 2);
    float value = std::bit_cast<float>(static_cast<uint32_t>(bf16) << 16);
    EXPECT_TRUE(value >= 0 && value < 1) << value;
    EXPECT_EQ(value * 256, std::floor(value * 256)) << value;
  }
  EXPECT_TRUE(any_nonzero);
}

TEST(BuildInferBodyTest, NamesAreEscaped) {
  std::vector<TensorMetadata> inputs = {{"a\"b\\c", DataType::kInt8, {1}}};
  PreparedBody prepared = BuildInferBody(inputs, BodyFormat::kJson, 1);
  EXPECT_TRUE(prepared.body.starts_with(R"({"inputs":[{"name":"a\"b\\c",)")) << prepared.body;
  simdjson::dom::parser parser;
  std::string_view name;
  ASSERT_EQ(parser.parse(prepared.body)["inputs"].at(0)["name"].get_string().get(name),
            simdjson::SUCCESS);
  EXPECT_EQ(name, "a\"b\\c");
}

}  // namespace
}  // namespace switchyard::bench
