// The cuda backend's parameters and identity contract (backends/cuda/cuda_config.h).

#include "cuda_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace switchyard::cuda_backend {
namespace {

using testing::HasSubstr;

// Parses `parameters`; "" on success.
std::string Parse(const std::vector<std::pair<const char*, const char*>>& parameters,
                  CudaParams* params) {
  std::vector<SyParameter> list;
  for (const auto& [key, value] : parameters) list.push_back({key, value});
  return ParseCudaParams(list.data(), static_cast<uint32_t>(list.size()), params);
}

std::string Error(const std::vector<std::pair<const char*, const char*>>& parameters) {
  CudaParams params;
  std::string error = Parse(parameters, &params);
  EXPECT_NE(error, "");
  return error;
}

TEST(CudaParamsTest, Defaults) {
  CudaParams params;
  params.service_time_us = 5;  // overwritten by the parse
  EXPECT_EQ(Parse({}, &params), "");
  EXPECT_EQ(params.workload, Workload::kSpin);
  EXPECT_EQ(params.service_time_us, 1000);
  EXPECT_EQ(params.per_item_us, 0);
  EXPECT_EQ(params.gemm_m, 4096);
  EXPECT_EQ(params.gemm_dtype, GemmType::kFp16);
  EXPECT_EQ(params.SpinNanoseconds(32), 1'000'000u);
}

TEST(CudaParamsTest, Spin) {
  CudaParams params;
  EXPECT_EQ(
      Parse({{"workload", "spin"}, {"service_time_us", "2000"}, {"per_item_us", "12.5"}}, &params),
      "");
  EXPECT_EQ(params.service_time_us, 2000);
  EXPECT_EQ(params.per_item_us, 12.5);
  EXPECT_EQ(params.SpinNanoseconds(0), 2'000'000u);
  EXPECT_EQ(params.SpinNanoseconds(1), 2'012'500u);
  EXPECT_EQ(params.SpinNanoseconds(64), 2'800'000u);
  EXPECT_EQ(Parse({{"service_time_us", "0"}}, &params), "");
  EXPECT_EQ(params.SpinNanoseconds(8), 0u);
  EXPECT_EQ(Parse({{"service_time_us", "60000000"}, {"per_item_us", "1000000"}}, &params), "");
}

TEST(CudaParamsTest, Gemm) {
  CudaParams params;
  EXPECT_EQ(Parse({{"workload", "gemm"},
                   {"gemm_m", "1024"},
                   {"gemm_n", "2048"},
                   {"gemm_k", "512"},
                   {"gemm_dtype", "bf16"}},
                  &params),
            "");
  EXPECT_EQ(params.workload, Workload::kGemm);
  EXPECT_EQ(params.gemm_m, 1024);
  EXPECT_EQ(params.gemm_n, 2048);
  EXPECT_EQ(params.gemm_k, 512);
  EXPECT_EQ(params.gemm_dtype, GemmType::kBf16);
  EXPECT_EQ(params.GemmBytes(), (1024 * 512 + 512 * 2048 + 1024 * 2048) * 2);
  EXPECT_EQ(Parse({{"workload", "gemm"}, {"gemm_dtype", "fp32"}}, &params), "");
  EXPECT_EQ(params.GemmElementBytes(), 4);
  EXPECT_EQ(Parse({{"workload", "gemm"}, {"gemm_dtype", "fp16"}}, &params), "");
}

TEST(CudaParamsTest, RejectsUnknownAndRepeatedKeys) {
  EXPECT_EQ(Error({{"service_time", "5"}}),
            "unknown parameter 'service_time' (the cuda backend takes workload, service_time_us, "
            "per_item_us, gemm_m, gemm_n, gemm_k, gemm_dtype, fault_on_value)");
  EXPECT_EQ(Error({{"per_item_us", "1"}, {"per_item_us", "2"}}),
            "parameter 'per_item_us': given twice");
}

TEST(CudaParamsTest, RejectsBadValues) {
  EXPECT_EQ(Error({{"workload", "sleep"}}),
            "parameter 'workload': expected spin or gemm, got 'sleep'");
  EXPECT_EQ(Error({{"service_time_us", "-1"}}),
            "parameter 'service_time_us': expected a number of microseconds in [0, 60000000], got "
            "'-1'");
  for (const char* bad : {"", "abc", "1ms", "+5", "nan", "inf", "1e300", "60000001", " 5"}) {
    EXPECT_THAT(Error({{"service_time_us", bad}}), HasSubstr("expected a number")) << bad;
  }
  EXPECT_THAT(Error({{"per_item_us", "1000001"}}), HasSubstr("in [0, 1000000]"));
  EXPECT_EQ(Error({{"workload", "gemm"}, {"gemm_m", "0"}}),
            "parameter 'gemm_m': expected an integer in [1, 65536], got '0'");
  for (const char* bad : {"65537", "1.5", "-4", "4k", ""}) {
    EXPECT_THAT(Error({{"workload", "gemm"}, {"gemm_k", bad}}), HasSubstr("expected an integer"))
        << bad;
  }
  EXPECT_EQ(Error({{"workload", "gemm"}, {"gemm_dtype", "int8"}}),
            "parameter 'gemm_dtype': expected fp16, bf16 or fp32, got 'int8'");
}

TEST(CudaParamsTest, FaultOnValueIsAnyFiniteNumberForEitherWorkload) {
  CudaParams params;
  EXPECT_FALSE(params.fault_on_value.has_value());
  EXPECT_EQ(Parse({{"fault_on_value", "-2.5"}}, &params), "");
  EXPECT_EQ(params.fault_on_value, -2.5f);
  EXPECT_EQ(Parse({{"workload", "gemm"}, {"fault_on_value", "66"}}, &params), "");
  EXPECT_EQ(params.fault_on_value, 66.0f);
  for (const char* bad : {"", "x", "nan", "inf", "1e99", "5 "}) {
    EXPECT_THAT(Error({{"fault_on_value", bad}}),
                HasSubstr("parameter 'fault_on_value': expected a number"))
        << bad;
  }
}

TEST(CudaParamsTest, RejectsKeysOfTheOtherWorkload) {
  EXPECT_EQ(Error({{"gemm_m", "128"}}),
            "parameter 'gemm_m': applies to workload gemm only (workload is spin)");
  EXPECT_EQ(Error({{"per_item_us", "3"}, {"workload", "gemm"}}),
            "parameter 'per_item_us': applies to workload spin only (workload is gemm)");
}

TEST(CudaParamsTest, RejectsMatricesTooLarge) {
  EXPECT_EQ(
      Error({{"workload", "gemm"}, {"gemm_m", "65536"}, {"gemm_n", "65536"}, {"gemm_k", "65536"}}),
      "parameters gemm_m, gemm_n, gemm_k: the matrices would take 24576 MiB (at most 16384 "
      "MiB)");
}

// A model description with the given inputs and outputs.
struct Desc {
  std::vector<int64_t> dims_in = {3, -1};
  std::vector<int64_t> dims_out = {3, -1};
  std::vector<SyTensorSpec> inputs;
  std::vector<SyTensorSpec> outputs;
  std::vector<SyParameter> parameters;
  SyModelDesc desc{};

  Desc() {
    inputs = {{"a", SY_TYPE_FP32, dims_in.data(), 2}, {"b", SY_TYPE_BYTES, nullptr, 0}};
    outputs = {{"x", SY_TYPE_FP32, dims_out.data(), 2}, {"y", SY_TYPE_BYTES, nullptr, 0}};
  }
  const SyModelDesc& Get() {
    desc = SyModelDesc{.struct_size = sizeof(SyModelDesc),
                       .name = "echo",
                       .version = 1,
                       .max_batch_size = 8,
                       .inputs = inputs.data(),
                       .input_count = static_cast<uint32_t>(inputs.size()),
                       .outputs = outputs.data(),
                       .output_count = static_cast<uint32_t>(outputs.size()),
                       .parameters = parameters.data(),
                       .parameter_count = static_cast<uint32_t>(parameters.size())};
    return desc;
  }
};

TEST(DescribeModelTest, KeepsTheInputsAndParameters) {
  Desc d;
  d.parameters = {{"per_item_us", "7"}};
  ModelInfo info;
  ASSERT_EQ(DescribeModel(d.Get(), &info), "");
  EXPECT_EQ(info.name, "echo");
  EXPECT_EQ(info.max_batch_size, 8);
  ASSERT_EQ(info.inputs.size(), 2u);
  EXPECT_EQ(info.inputs[0].name, "a");
  EXPECT_EQ(info.inputs[0].dims, (std::vector<int64_t>{3, -1}));
  EXPECT_EQ(info.inputs[1].datatype, SY_TYPE_BYTES);
  EXPECT_EQ(info.params.per_item_us, 7);
  EXPECT_EQ(info.MaxBatchInputBytes(), -1);  // a variable dimension, and BYTES
}

TEST(DescribeModelTest, OutputsMustMirrorInputs) {
  Desc count;
  count.outputs.pop_back();
  ModelInfo info;
  EXPECT_THAT(DescribeModel(count.Get(), &info),
              HasSubstr("model 'echo': the cuda backend copies each input to the output at the "
                        "same position, so it needs as many outputs as inputs (2 inputs, 1 "
                        "outputs)"));
  Desc type;
  type.outputs[0].datatype = SY_TYPE_FP16;
  EXPECT_EQ(DescribeModel(type.Get(), &info),
            "model 'echo': output 'x' (FP16 [3, -1]) must have the datatype and shape of input "
            "'a' (FP32 [3, -1])");
  Desc shape;
  shape.dims_out[1] = 4;
  EXPECT_THAT(DescribeModel(shape.Get(), &info), HasSubstr("output 'x' (FP32 [3, 4])"));
  Desc rank;
  rank.outputs[0].dim_count = 1;
  EXPECT_THAT(DescribeModel(rank.Get(), &info), HasSubstr("output 'x' (FP32 [3])"));
}

TEST(DescribeModelTest, ReportsParameterErrorsWithTheModel) {
  Desc d;
  d.parameters = {{"workload", "gemm"}, {"gemm_n", "0"}};
  ModelInfo info;
  EXPECT_EQ(DescribeModel(d.Get(), &info),
            "model 'echo': parameter 'gemm_n': expected an integer in [1, 65536], got '0'");
}

TEST(DescribeModelTest, MaxBatchInputBytesOfFixedShapes) {
  Desc d;
  d.dims_in = {3, 224, 224};
  d.dims_out = d.dims_in;
  d.inputs = {{"img", SY_TYPE_FP16, d.dims_in.data(), 3}, {"id", SY_TYPE_INT64, nullptr, 0}};
  d.outputs = {{"img", SY_TYPE_FP16, d.dims_out.data(), 3}, {"id", SY_TYPE_INT64, nullptr, 0}};
  ModelInfo info;
  ASSERT_EQ(DescribeModel(d.Get(), &info), "");
  EXPECT_EQ(info.MaxBatchInputBytes(), 8 * (3 * 224 * 224 * 2 + 8));
  info.max_batch_size = 0;  // no batch dimension: one item
  EXPECT_EQ(info.MaxBatchInputBytes(), 3 * 224 * 224 * 2 + 8);
}

}  // namespace
}  // namespace switchyard::cuda_backend
