#include "bench/model_metadata.h"

#include <gtest/gtest.h>

namespace switchyard::bench {
namespace {

constexpr std::string_view kSimple = R"({"name":"simple","versions":["1"],"platform":"sim",
  "inputs":[{"name":"INPUT0","datatype":"INT32","shape":[-1,16]},
            {"name":"INPUT1","datatype":"INT32","shape":[-1,16]}],
  "outputs":[{"name":"OUTPUT0","datatype":"INT32","shape":[-1,16]},
             {"name":"OUTPUT1","datatype":"INT32","shape":[-1,16]}]})";

ModelMetadata Metadata(std::string_view json) {
  auto metadata = ParseModelMetadata(json);
  EXPECT_TRUE(metadata.ok()) << metadata.status().ToString();
  return metadata.ok() ? *metadata : ModelMetadata{};
}

TEST(ParseModelMetadataTest, Simple) {
  ModelMetadata metadata = Metadata(kSimple);
  EXPECT_EQ(metadata.name, "simple");
  ASSERT_EQ(metadata.inputs.size(), 2u);
  EXPECT_EQ(metadata.inputs[1].name, "INPUT1");
  EXPECT_EQ(metadata.inputs[1].datatype, DataType::kInt32);
  EXPECT_EQ(metadata.inputs[1].shape, (Shape{-1, 16}));
  ASSERT_EQ(metadata.outputs.size(), 2u);
  EXPECT_EQ(metadata.outputs[0].name, "OUTPUT0");
  EXPECT_TRUE(LooksBatched(metadata));
}

TEST(ParseModelMetadataTest, RejectsMalformedDocuments) {
  for (std::string_view bad : {
           R"(not json)",
           R"({"name":"m","outputs":[]})",
           R"({"name":"m","inputs":[],"outputs":[]})",
           R"({"name":"m","inputs":[{"name":"x","datatype":"FLOAT","shape":[1]}],"outputs":[]})",
           R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-2]}],"outputs":[]})",
           R"({"name":"m","inputs":[{"name":"x","datatype":"FP32"}],"outputs":[]})",
           R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1]}],"outputs":[]})",
       }) {
    auto metadata = ParseModelMetadata(bad);
    EXPECT_FALSE(metadata.ok()) << bad;
    if (!metadata.ok()) {
      EXPECT_EQ(metadata.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(ParseMaxBatchSizeTest, ReadsTheField) {
  auto value = ParseMaxBatchSize(R"({"name":"simple","max_batch_size":8,"input":[]})");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 8);
  EXPECT_FALSE(ParseMaxBatchSize(R"({"name":"simple"})").ok());
  EXPECT_FALSE(ParseMaxBatchSize(R"({"max_batch_size":-1})").ok());
}

TEST(LooksBatchedTest, EveryInputMustStartWithMinusOne) {
  ModelMetadata metadata = Metadata(
      R"({"name":"m","inputs":[{"name":"a","datatype":"FP32","shape":[-1,3]},
          {"name":"b","datatype":"FP32","shape":[3]}],"outputs":[]})");
  EXPECT_FALSE(LooksBatched(metadata));
}

TEST(ResolveInputsTest, BatchDimensionBecomesBatchSize) {
  auto plan = ResolveInputs(Metadata(kSimple), true, 4, {}, BodyFormat::kJson);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->items_per_request, 4);
  ASSERT_EQ(plan->inputs.size(), 2u);
  EXPECT_EQ(plan->inputs[0].shape, (Shape{4, 16}));
  EXPECT_EQ(plan->inputs[1].shape, (Shape{4, 16}));
}

TEST(ResolveInputsTest, NonBatchingModelTakesBatchSizeOne) {
  ModelMetadata metadata = Metadata(
      R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[2,3]}],"outputs":[]})");
  auto plan = ResolveInputs(metadata, false, 1, {}, BodyFormat::kJson);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->items_per_request, 1);
  EXPECT_EQ(plan->inputs[0].shape, (Shape{2, 3}));
  EXPECT_FALSE(ResolveInputs(metadata, false, 2, {}, BodyFormat::kJson).ok());
  EXPECT_FALSE(ResolveInputs(metadata, true, 1, {}, BodyFormat::kJson).ok());  // no -1 batch dim
}

TEST(ResolveInputsTest, VariableDimsNeedAShape) {
  ModelMetadata metadata = Metadata(
      R"({"name":"m","inputs":[{"name":"tokens","datatype":"INT64","shape":[-1,-1,8]}],
          "outputs":[]})");
  auto missing = ResolveInputs(metadata, true, 2, {}, BodyFormat::kJson);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--shape tokens:"), std::string::npos);

  auto plan = ResolveInputs(metadata, true, 2, {{"tokens", {128, 8}}}, BodyFormat::kJson);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->inputs[0].shape, (Shape{2, 128, 8}));

  EXPECT_FALSE(ResolveInputs(metadata, true, 2, {{"tokens", {128, 9}}}, BodyFormat::kJson).ok());
  EXPECT_FALSE(ResolveInputs(metadata, true, 2, {{"tokens", {128}}}, BodyFormat::kJson).ok());
  EXPECT_FALSE(ResolveInputs(metadata, true, 2, {{"other", {1, 8}}}, BodyFormat::kJson).ok());
}

TEST(ResolveInputsTest, HalfPrecisionNeedsBinary) {
  ModelMetadata metadata = Metadata(
      R"({"name":"m","inputs":[{"name":"x","datatype":"FP16","shape":[-1,4]}],"outputs":[]})");
  auto json = ResolveInputs(metadata, true, 1, {}, BodyFormat::kJson);
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("--format binary"), std::string::npos);
  EXPECT_TRUE(ResolveInputs(metadata, true, 1, {}, BodyFormat::kBinary).ok());
}

}  // namespace
}  // namespace switchyard::bench
