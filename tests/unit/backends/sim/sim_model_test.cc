#include "sim/sim_model.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::sim {
namespace {

// The test's own names for the datatypes (the cases read as before the port).
namespace DataType {
constexpr SyDataType kBool = SY_TYPE_BOOL;
constexpr SyDataType kInt32 = SY_TYPE_INT32;
constexpr SyDataType kInt64 = SY_TYPE_INT64;
constexpr SyDataType kFp16 = SY_TYPE_FP16;
constexpr SyDataType kFp32 = SY_TYPE_FP32;
constexpr SyDataType kFp64 = SY_TYPE_FP64;
constexpr SyDataType kBytes = SY_TYPE_BYTES;
}  // namespace DataType
using Shape = std::vector<int64_t>;

SimConfig AddSubConfig(SyDataType type) {
  SimConfig config;
  config.name = "m";
  config.max_batch_size = 8;
  config.inputs = {{"INPUT0", type, {4}}, {"INPUT1", type, {4}}};
  config.outputs = {{"OUTPUT0", type, {4}}, {"OUTPUT1", type, {4}}};
  config.parameters["function"] = type == DataType::kBytes ? "add_sub_string" : "add_sub";
  return config;
}

// A tensor the test owns and the SyTensor view of it (as the host gives a plugin).
struct Tensor {
  std::string name;
  SyDataType datatype;
  Shape shape;
  std::vector<std::byte> data;
  SyTensor View() const {
    return {.name = name.c_str(),
            .datatype = datatype,
            .shape = shape.data(),
            .dim_count = static_cast<uint32_t>(shape.size()),
            .data = data.data(),
            .byte_size = data.size()};
  }
};

// A request's inputs in config order.
struct InferRequest {
  std::vector<Tensor> inputs;
  std::vector<SyTensor> Views() const {
    std::vector<SyTensor> views;
    for (const Tensor& t : inputs) views.push_back(t.View());
    return views;
  }
};

sdk::StatusOr<std::vector<OutputTensor>> Compute(const SimParameters& params,
                                                 const SimConfig& config,
                                                 const InferRequest& request) {
  std::vector<SyTensor> views = request.Views();
  return sim::Compute(params, config, views);
}

InjectedFault FaultOf(const SimParameters& params, const InferRequest& request) {
  std::vector<SyTensor> views = request.Views();
  return sim::FaultOf(params, views);
}

template <typename T>
Tensor Numbers(const std::string& name, SyDataType type, std::vector<T> values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return {name, type, {1, static_cast<int64_t>(values.size())}, bytes};
}

Tensor Strings(const std::string& name, std::vector<std::string> values) {
  std::vector<std::byte> bytes;
  for (const auto& v : values) AppendBytesElement(v, bytes);
  return {name, DataType::kBytes, {1, static_cast<int64_t>(values.size())}, bytes};
}

template <typename T>
std::vector<T> Values(const OutputTensor& t) {
  std::vector<T> out(t.data.size() / sizeof(T));
  std::memcpy(out.data(), t.data.data(), t.data.size());
  return out;
}

std::vector<std::string> StringValues(const OutputTensor& t) {
  std::vector<std::string> out;
  EXPECT_TRUE(ForEachBytesElement(t.data, [&](std::string_view s) { out.emplace_back(s); }).ok());
  return out;
}

TEST(SimModelTest, AddSubInt32) {
  SimConfig config = AddSubConfig(DataType::kInt32);
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok()) << params.status().message();
  InferRequest request;
  request.inputs.push_back(Numbers<int32_t>("INPUT0", DataType::kInt32, {1, 2, 3, 4}));
  request.inputs.push_back(Numbers<int32_t>("INPUT1", DataType::kInt32, {10, 20, 30, -40}));
  auto out = Compute(*params, config, request);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].name, "OUTPUT0");
  EXPECT_EQ(Values<int32_t>((*out)[0]), (std::vector<int32_t>{11, 22, 33, -36}));
  EXPECT_EQ(Values<int32_t>((*out)[1]), (std::vector<int32_t>{-9, -18, -27, 44}));
  EXPECT_EQ((*out)[1].shape, (Shape{1, 4}));
}

// A client's values never make the arithmetic undefined (UBSan in CI would end the server): sums
// and differences past the type's range wrap around.
TEST(SimModelTest, AddSubInt32WrapsAround) {
  SimConfig config = AddSubConfig(DataType::kInt32);
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok()) << params.status().message();
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  InferRequest request;
  request.inputs.push_back(Numbers<int32_t>("INPUT0", DataType::kInt32, {kMax, kMin, kMax, 0}));
  request.inputs.push_back(Numbers<int32_t>("INPUT1", DataType::kInt32, {1, 1, -1, kMin}));
  auto out = Compute(*params, config, request);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Values<int32_t>((*out)[0]), (std::vector<int32_t>{kMin, kMin + 1, kMax - 1, kMin}));
  EXPECT_EQ(Values<int32_t>((*out)[1]), (std::vector<int32_t>{kMax - 1, kMax, kMin, kMin}));
}

TEST(SimModelTest, AddSubFp64) {
  SimConfig config = AddSubConfig(DataType::kFp64);
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok());
  InferRequest request;
  request.inputs.push_back(Numbers<double>("INPUT0", DataType::kFp64, {0.5, 1, 2, 3}));
  request.inputs.push_back(Numbers<double>("INPUT1", DataType::kFp64, {0.25, 1, 1, 1}));
  auto out = Compute(*params, config, request);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Values<double>((*out)[0]), (std::vector<double>{0.75, 2, 3, 4}));
}

TEST(SimModelTest, AddSubString) {
  SimConfig config = AddSubConfig(DataType::kBytes);
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok());
  InferRequest request;
  request.inputs.push_back(Strings("INPUT0", {"1", "-2", "30", "9223372036854775807"}));
  request.inputs.push_back(Strings("INPUT1", {"1", "2", "3", "0"}));
  auto out = Compute(*params, config, request);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(StringValues((*out)[0]),
            (std::vector<std::string>{"2", "0", "33", "9223372036854775807"}));
  EXPECT_EQ(StringValues((*out)[1]),
            (std::vector<std::string>{"0", "-4", "27", "9223372036854775807"}));
}

TEST(SimModelTest, AddSubStringRejectsNonIntegers) {
  SimConfig config = AddSubConfig(DataType::kBytes);
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok());
  InferRequest request;
  request.inputs.push_back(Strings("INPUT0", {"1", "x2", "3", "4"}));
  request.inputs.push_back(Strings("INPUT1", {"1", "2", "3", "4"}));
  auto out = Compute(*params, config, request);
  EXPECT_EQ(out.status().code(), SY_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(out.status().message().find("x2"), std::string::npos);
}

TEST(SimModelTest, IdentityCopiesByPosition) {
  SimConfig config;
  config.name = "id";
  config.inputs = {{"IN", DataType::kBytes, {-1}}};
  config.outputs = {{"OUT", DataType::kBytes, {-1}}};
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok());
  InferRequest request;
  request.inputs.push_back(Strings("IN", {"a", "bc"}));
  auto out = Compute(*params, config, request);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].name, "OUT");
  EXPECT_EQ(StringValues((*out)[0]), (std::vector<std::string>{"a", "bc"}));
}

TEST(SimModelTest, ZerosAnswersTheOutputShapeAfterTheBatch) {
  SimConfig config;
  config.name = "stand_in";
  config.max_batch_size = 8;
  config.inputs = {{"input", DataType::kFp16, {3, 2, 2}}};
  config.outputs = {{"logits", DataType::kFp16, {5}}, {"index", DataType::kInt64, {1}}};
  config.parameters["function"] = "zeros";
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok()) << params.status().message();
  InferRequest request;
  request.inputs.push_back(
      {"input", DataType::kFp16, {3, 3, 2, 2}, std::vector<std::byte>(3 * 12 * 2, std::byte{7})});
  auto out = Compute(*params, config, request);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].name, "logits");
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ((*out)[0].data.size(), 3u * 5 * 2);
  EXPECT_EQ((*out)[1].shape, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(Values<int64_t>((*out)[1]), (std::vector<int64_t>{0, 0, 0}));
}

TEST(SimModelTest, ZerosNeedsFixedNumericOutputs) {
  SimConfig config;
  config.name = "stand_in";
  config.inputs = {{"input", DataType::kFp32, {4}}};
  config.outputs = {{"out", DataType::kFp32, {-1}}};
  config.parameters["function"] = "zeros";
  auto variable = ParseSimParameters(config);
  ASSERT_FALSE(variable.ok());
  EXPECT_NE(variable.status().message().find("fixed shape"), std::string::npos);
  config.outputs = {{"out", DataType::kBytes, {4}}};
  EXPECT_FALSE(ParseSimParameters(config).ok());
}

TEST(SimModelTest, ParametersAreValidated) {
  SimConfig config = AddSubConfig(DataType::kInt32);
  config.parameters["service_time_us"] = "2000";
  config.parameters["service_time_per_item_us"] = "50";
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(BatchServiceTime(*params, 4), std::chrono::microseconds(2200));

  for (auto [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"jitter", "1.5"},
                                                        {"failure_rate", "-0.1"},
                                                        {"service_time_us", "abc"},
                                                        {"seed", "-1"},
                                                        {"function", "multiply"},
                                                        {"device_lost_on_value", "1.5"},
                                                        {"unknown_knob", "1"}}) {
    SimConfig bad = AddSubConfig(DataType::kInt32);
    bad.parameters[key] = value;
    auto result = ParseSimParameters(bad);
    EXPECT_EQ(result.status().code(), SY_ERROR_INVALID_ARGUMENT) << key;
    EXPECT_NE(result.status().message().find(key), std::string::npos) << key;
  }
}

TEST(SimModelTest, FaultsAreInjectedByTheFirstInputsFirstElement) {
  SimConfig config = AddSubConfig(DataType::kInt32);
  config.parameters["crash_on_value"] = "13";
  config.parameters["device_lost_on_value"] = "-7";
  auto params = ParseSimParameters(config);
  ASSERT_TRUE(params.ok()) << params.status().message();
  auto request = [](SyDataType type, int64_t first) {
    InferRequest r;
    if (type == DataType::kInt32) {
      r.inputs.push_back(Numbers<int32_t>("INPUT0", type, {static_cast<int32_t>(first), 13}));
    } else {
      r.inputs.push_back(Numbers<int64_t>("INPUT0", type, {first, 13}));
    }
    return r;
  };
  EXPECT_EQ(FaultOf(*params, request(DataType::kInt32, 13)), InjectedFault::kCrash);
  EXPECT_EQ(FaultOf(*params, request(DataType::kInt64, -7)), InjectedFault::kDeviceLost);
  EXPECT_EQ(FaultOf(*params, request(DataType::kInt32, 0)), InjectedFault::kNone);  // only [0]
  InferRequest floats;
  floats.inputs.push_back(Numbers<float>("INPUT0", DataType::kFp32, {13.0f}));
  EXPECT_EQ(FaultOf(*params, floats), InjectedFault::kNone);
  EXPECT_EQ(FaultOf(SimParameters{}, request(DataType::kInt32, 13)), InjectedFault::kNone);
}

TEST(SimModelTest, SignatureMustSuitFunction) {
  SimConfig config = AddSubConfig(DataType::kBool);
  EXPECT_FALSE(ParseSimParameters(config).ok());
  config = AddSubConfig(DataType::kInt32);
  config.outputs.pop_back();
  EXPECT_FALSE(ParseSimParameters(config).ok());
  config = AddSubConfig(DataType::kInt32);
  config.inputs[1].datatype = DataType::kInt64;
  EXPECT_FALSE(ParseSimParameters(config).ok());
}

// In the server's own process (`isolation: thread`) the parameters that end the process are
// refused; in a worker process they are what isolation tests use.
TEST(SimModelTest, FaultInjectionNeedsAWorkerProcess) {
  SimConfig config = AddSubConfig(DataType::kInt32);
  config.parameters["crash_on_value"] = "13";
  EXPECT_TRUE(ParseSimParameters(config).ok());
  config.in_server_process = true;
  auto refused = ParseSimParameters(config);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("need `isolation: process`"), std::string::npos);
}

TEST(SimModelTest, DeviceMemoryIsAWarmupAtMaxBatch) {
  SimConfig config = AddSubConfig(DataType::kInt32);
  EXPECT_EQ(*DeviceMemoryMb(config), 0);
  config.parameters["memory_mb"] = "1000";
  config.parameters["memory_mb_per_item"] = "100";
  EXPECT_EQ(*DeviceMemoryMb(config), 1800);  // max_batch_size 8
  config.max_batch_size = 0;
  EXPECT_EQ(*DeviceMemoryMb(config), 1100);  // no batch dimension: one item
  config.parameters["memory_mb"] = "lots";
  EXPECT_EQ(DeviceMemoryMb(config).status().message(),
            "parameters.memory_mb: expected an integer >= 0 (MiB), got 'lots'");
  config.parameters["memory_mb"] = "1";
  config.parameters["memory_mb_per_item"] = std::to_string(std::numeric_limits<int64_t>::max());
  EXPECT_NE(DeviceMemoryMb(config).status().message().find("is too large"), std::string::npos);
}

// SyModelDesc::in_server_process is read only when the host's struct_size covers it: a host from
// before the field passes a smaller struct (and runs every instance in a worker process).
TEST(SimModelTest, ConfigOfReadsOnlyWhatTheHostsStructCovers) {
  const int64_t dims[] = {4};
  const SyTensorSpec in[] = {{"IN", SY_TYPE_INT32, dims, 1}};
  const SyTensorSpec out[] = {{"OUT", SY_TYPE_INT32, dims, 1}};
  const SyParameter parameters[] = {{"function", "identity"}};
  SyModelDesc desc = {.struct_size = sizeof(SyModelDesc),
                      .name = "m",
                      .version = 1,
                      .model_dir = "",
                      .version_dir = "",
                      .max_batch_size = 2,
                      .inputs = in,
                      .input_count = 1,
                      .outputs = out,
                      .output_count = 1,
                      .parameters = parameters,
                      .parameter_count = 1,
                      .backend = "sim",
                      .in_server_process = 1};
  SimConfig config = ConfigOf(desc);
  EXPECT_EQ(config.name, "m");
  EXPECT_EQ(config.max_batch_size, 2);
  ASSERT_EQ(config.outputs.size(), 1u);
  EXPECT_EQ(config.outputs[0].dims, Shape{4});
  EXPECT_EQ(config.parameters.at("function"), "identity");
  EXPECT_TRUE(config.in_server_process);
  desc.struct_size = offsetof(SyModelDesc, in_server_process);
  EXPECT_FALSE(ConfigOf(desc).in_server_process);
}

}  // namespace
}  // namespace switchyard::sim
