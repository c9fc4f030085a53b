// The torch backend's pure parts: batch grouping and row arithmetic, tensor checks, and the
// model's configuration (no libtorch involved).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "batch_plan.h"
#include "switchyard/backend_sdk/datatype.h"
#include "switchyard/backend_sdk/status.h"
#include "tensor_spec.h"
#include "torch_model.h"

namespace switchyard::torch_backend {
namespace {

using sdk::ElementSize;
using sdk::Status;

TEST(TorchBatchPlanTest, BatchedRequestsWithEqualItemShapesShareOneGroup) {
  // Three requests of batch sizes 2, 1 and 3, two inputs each of [4].
  const std::vector<std::vector<Dims>> shapes = {
      {{2, 4}, {2, 4}}, {{1, 4}, {1, 4}}, {{3, 4}, {3, 4}}};
  const auto groups = PlanGroups({0, 1, 2}, shapes, /*batched=*/true);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].requests, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(groups[0].row_offsets, (std::vector<int64_t>{0, 2, 3}));
  EXPECT_EQ(groups[0].rows, (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(groups[0].total_rows, 6);
}

TEST(TorchBatchPlanTest, DifferentVariableDimensionsSplitGroupsInFirstAppearanceOrder) {
  // Input [-1]: requests 0 and 2 have 5 columns, requests 1 and 3 have 7; request 4 has 5.
  const std::vector<std::vector<Dims>> shapes = {{{1, 5}}, {{2, 7}}, {{3, 5}}, {{1, 7}}, {{2, 5}}};
  const auto groups = PlanGroups({0, 1, 3, 4, 6}, shapes, /*batched=*/true);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].requests, (std::vector<uint32_t>{0, 3, 6}));
  EXPECT_EQ(groups[0].row_offsets, (std::vector<int64_t>{0, 1, 4}));
  EXPECT_EQ(groups[0].total_rows, 6);
  EXPECT_EQ(groups[1].requests, (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(groups[1].row_offsets, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(groups[1].total_rows, 3);
}

TEST(TorchBatchPlanTest, UnbatchedRequestsRunOneByOne) {
  const std::vector<std::vector<Dims>> shapes = {{{4}}, {{4}}, {{4}}};
  const auto groups = PlanGroups({0, 2, 5}, shapes, /*batched=*/false);
  ASSERT_EQ(groups.size(), 3u);
  for (size_t g = 0; g < groups.size(); ++g) {
    EXPECT_EQ(groups[g].requests.size(), 1u);
    EXPECT_EQ(groups[g].total_rows, 1);
    EXPECT_EQ(groups[g].row_offsets[0], 0);
  }
  EXPECT_EQ(groups[2].requests[0], 5u);
}

TEST(TorchBatchPlanTest, NoRequestsNoGroups) { EXPECT_TRUE(PlanGroups({}, {}, true).empty()); }

TEST(TorchBatchPlanTest, PaddedBatchSizeIsTheNextCapturedSize) {
  const std::vector<int64_t> captured = {1, 8, 32};
  EXPECT_EQ(PaddedBatchSize(captured, 1), 1);
  EXPECT_EQ(PaddedBatchSize(captured, 2), 8);
  EXPECT_EQ(PaddedBatchSize(captured, 8), 8);
  EXPECT_EQ(PaddedBatchSize(captured, 9), 32);
  EXPECT_EQ(PaddedBatchSize(captured, 33), 0);
  EXPECT_EQ(PaddedBatchSize({}, 1), 0);
}

TEST(TorchTensorSpecTest, ShapeMatching) {
  EXPECT_TRUE(ShapeMatches({3, -1}, {5, 3, 7}, /*batched=*/true));
  EXPECT_TRUE(ShapeMatches({3, -1}, {3, 0}, /*batched=*/false));
  EXPECT_FALSE(ShapeMatches({3, -1}, {3, 7}, /*batched=*/true));  // batch dim missing
  EXPECT_FALSE(ShapeMatches({3, -1}, {5, 4, 7}, /*batched=*/true));
  EXPECT_FALSE(ShapeMatches({}, {2, 1}, /*batched=*/true));
  EXPECT_TRUE(ShapeMatches({}, {2}, /*batched=*/true));
  EXPECT_TRUE(ShapeMatches({}, {}, /*batched=*/false));
}

TEST(TorchTensorSpecTest, ElementSizesAndNames) {
  EXPECT_EQ(ElementSize(SY_TYPE_BOOL), 1u);
  EXPECT_EQ(ElementSize(SY_TYPE_FP16), 2u);
  EXPECT_EQ(ElementSize(SY_TYPE_BF16), 2u);
  EXPECT_EQ(ElementSize(SY_TYPE_INT32), 4u);
  EXPECT_EQ(ElementSize(SY_TYPE_FP64), 8u);
  EXPECT_EQ(ElementSize(SY_TYPE_BYTES), 0u);
  EXPECT_EQ(DataTypeName(SY_TYPE_BF16), "BF16");
  EXPECT_EQ(DataTypeName(static_cast<SyDataType>(99)), "UNKNOWN(99)");
}

TEST(TorchTensorSpecTest, ElementCountRejectsOverflowAndNegatives) {
  uint64_t count = 0;
  EXPECT_TRUE(ElementCount({2, 3, 4}, &count));
  EXPECT_EQ(count, 24u);
  EXPECT_TRUE(ElementCount({}, &count));
  EXPECT_EQ(count, 1u);
  EXPECT_FALSE(ElementCount({-1, 2}, &count));
  EXPECT_FALSE(ElementCount({int64_t{1} << 40, int64_t{1} << 40}, &count));
}

TEST(TorchTensorSpecTest, RequestTensorChecks) {
  const TensorSpec spec{"x", SY_TYPE_FP32, {4}};
  EXPECT_TRUE(ValidateRequestTensor(spec, SY_TYPE_FP32, {2, 4}, 32, true).ok());
  const Status wrong_type = ValidateRequestTensor(spec, SY_TYPE_FP16, {2, 4}, 16, true);
  EXPECT_EQ(wrong_type.code(), SY_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(wrong_type.message().find("input 'x'"), std::string::npos);
  EXPECT_FALSE(ValidateRequestTensor(spec, SY_TYPE_FP32, {2, 5}, 40, true).ok());
  EXPECT_FALSE(ValidateRequestTensor(spec, SY_TYPE_FP32, {2, 4}, 31, true).ok());
  EXPECT_FALSE(ValidateRequestTensor(spec, SY_TYPE_FP32, {0, 4}, 0, true).ok());
  EXPECT_TRUE(ValidateRequestTensor(spec, SY_TYPE_FP32, {4}, 16, false).ok());
}

TEST(TorchTensorSpecTest, ModelOutputChecksNameTheOutput) {
  const TensorSpec spec{"logits", SY_TYPE_FP32, {10}};
  EXPECT_TRUE(ValidateModelOutput(spec, {6, 10}, true, 6).ok());
  const Status rows = ValidateModelOutput(spec, {5, 10}, true, 6);
  EXPECT_EQ(rows.code(), SY_ERROR_INTERNAL);
  EXPECT_NE(rows.message().find("output 'logits'"), std::string::npos);
  const Status dims = ValidateModelOutput(spec, {6, 11}, true, 6);
  EXPECT_EQ(dims.code(), SY_ERROR_INTERNAL);
  EXPECT_NE(dims.message().find("[6,11]"), std::string::npos) << dims.message();
}

// A SyModelDesc over owned storage.
struct Desc {
  std::vector<int64_t> dims = {4};
  std::vector<SyTensorSpec> inputs;
  std::vector<SyTensorSpec> outputs;
  std::vector<SyParameter> parameters;
  std::string version_dir;
  SyModelDesc desc{};

  const SyModelDesc& Get(int32_t max_batch_size = 8) {
    desc = {.struct_size = sizeof(SyModelDesc),
            .name = "m",
            .version = 1,
            .model_dir = "/nonexistent",
            .version_dir = version_dir.c_str(),
            .max_batch_size = max_batch_size,
            .inputs = inputs.data(),
            .input_count = static_cast<uint32_t>(inputs.size()),
            .outputs = outputs.data(),
            .output_count = static_cast<uint32_t>(outputs.size()),
            .parameters = parameters.data(),
            .parameter_count = static_cast<uint32_t>(parameters.size())};
    return desc;
  }
};

class TorchModelConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("torch_model_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "1");
    std::ofstream(dir_ / "1" / "model.pt") << "x";
    desc_.version_dir = (dir_ / "1").string();
    desc_.inputs = {{"x", SY_TYPE_FP32, desc_.dims.data(), 1}};
    desc_.outputs = {{"y", SY_TYPE_FP32, desc_.dims.data(), 1}};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  Desc desc_;
};

TEST_F(TorchModelConfigTest, ResolvesTheModelFileInTheVersionFolder) {
  auto model = TorchModel::Create(nullptr, desc_.Get());
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(model.value()->model_path(), (dir_ / "1" / "model.pt").string());
  EXPECT_TRUE(model.value()->batched());
}

TEST_F(TorchModelConfigTest, MissingModelFileNamesThePath) {
  desc_.parameters = {{"model_file", "other.pt"}};
  auto model = TorchModel::Create(nullptr, desc_.Get());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), SY_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(model.status().message().find((dir_ / "1" / "other.pt").string()), std::string::npos)
      << model.status().message();
}

TEST_F(TorchModelConfigTest, BytesIsUnsupportedNamingTheTensor) {
  desc_.outputs = {{"text", SY_TYPE_BYTES, desc_.dims.data(), 1}};
  auto model = TorchModel::Create(nullptr, desc_.Get());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), SY_ERROR_UNSUPPORTED);
  EXPECT_NE(model.status().message().find("output 'text'"), std::string::npos);
  EXPECT_NE(model.status().message().find("BYTES"), std::string::npos);
}

TEST_F(TorchModelConfigTest, UnsignedWideTypesAreUnsupported) {
  desc_.inputs = {{"x", SY_TYPE_UINT32, desc_.dims.data(), 1}};
  auto model = TorchModel::Create(nullptr, desc_.Get());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), SY_ERROR_UNSUPPORTED);
}

TEST_F(TorchModelConfigTest, UnknownParameterFailsModelInit) {
  desc_.parameters = {{"device", "cuda"}};
  auto model = TorchModel::Create(nullptr, desc_.Get());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("unknown key 'device'"), std::string::npos);
}

TEST_F(TorchModelConfigTest, ValidateRequestChecksBatchDimensionsAgree) {
  desc_.inputs.push_back({"z", SY_TYPE_FP32, desc_.dims.data(), 1});
  auto model = TorchModel::Create(nullptr, desc_.Get());
  ASSERT_TRUE(model.ok());
  std::vector<float> data(12);
  const int64_t two[] = {2, 4};
  const int64_t one[] = {1, 4};
  std::vector<SyTensor> inputs = {{"x", SY_TYPE_FP32, two, 2, data.data(), 32},
                                  {"z", SY_TYPE_FP32, two, 2, data.data(), 32}};
  EXPECT_TRUE(model.value()->ValidateRequest(inputs).ok());
  inputs[1] = {"z", SY_TYPE_FP32, one, 2, data.data(), 16};
  const Status status = model.value()->ValidateRequest(inputs);
  EXPECT_EQ(status.code(), SY_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(status.message().find("input 'z'"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::torch_backend
