#include "frontend/grpc/model_messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

namespace switchyard::grpc_frontend {
namespace {

using ::testing::ElementsAre;

ModelInfo Model(int max_batch_size) {
  auto config = std::make_shared<ModelConfig>();
  config->name = "add";
  config->backend = "sim";
  config->max_batch_size = max_batch_size;
  config->inputs = {{"x", DataType::kFp32, {16}}, {"s", DataType::kBytes, {-1}}};
  config->outputs = {{"y", DataType::kInt64, {2, 8}}};
  config->batching.max_queue_delay_us = 250;
  config->batching.preferred_batch_sizes = {4, 8};
  config->queue.priority_levels = 2;
  config->instances.per_device = 2;
  config->parameters = {{"delay_ms", "5"}};
  ModelInfo info;
  info.config = config;
  info.version = 2;
  info.versions = {1, 2};
  info.state = ModelState::kReady;
  return info;
}

TEST(ModelMessagesTest, ServerMetadata) {
  inference::ServerMetadataResponse out;
  FillServerMetadata("switchyard", "0.1.0", {"binary_tensor_data", "statistics"}, &out);
  EXPECT_EQ(out.name(), "switchyard");
  EXPECT_EQ(out.version(), "0.1.0");
  EXPECT_THAT(out.extensions(), ElementsAre("binary_tensor_data", "statistics"));
}

TEST(ModelMessagesTest, BatchingModelsHaveALeadingVariableDim) {
  inference::ModelMetadataResponse out;
  FillModelMetadata(Model(8), &out);
  EXPECT_EQ(out.name(), "add");
  EXPECT_THAT(out.versions(), ElementsAre("1", "2"));
  EXPECT_EQ(out.platform(), "sim");
  ASSERT_EQ(out.inputs_size(), 2);
  EXPECT_EQ(out.inputs(0).name(), "x");
  EXPECT_EQ(out.inputs(0).datatype(), "FP32");
  EXPECT_THAT(out.inputs(0).shape(), ElementsAre(-1, 16));
  EXPECT_EQ(out.inputs(1).datatype(), "BYTES");
  ASSERT_EQ(out.outputs_size(), 1);
  EXPECT_THAT(out.outputs(0).shape(), ElementsAre(-1, 2, 8));

  inference::ModelMetadataResponse unbatched;
  FillModelMetadata(Model(0), &unbatched);
  EXPECT_THAT(unbatched.inputs(0).shape(), ElementsAre(16));
}

TEST(ModelMessagesTest, ConfigCarriesWhatPerfAnalyzerReads) {
  inference::ModelConfig out;
  FillModelConfig(Model(8), &out);
  EXPECT_EQ(out.name(), "add");
  EXPECT_EQ(out.platform(), "sim");
  EXPECT_EQ(out.backend(), "sim");
  EXPECT_EQ(out.max_batch_size(), 8);
  ASSERT_EQ(out.input_size(), 2);
  EXPECT_EQ(out.input(0).data_type(), inference::TYPE_FP32);
  EXPECT_THAT(out.input(0).dims(), ElementsAre(16));
  EXPECT_EQ(out.input(1).data_type(), inference::TYPE_STRING);
  EXPECT_THAT(out.input(1).dims(), ElementsAre(-1));
  ASSERT_EQ(out.output_size(), 1);
  EXPECT_EQ(out.output(0).data_type(), inference::TYPE_INT64);
  EXPECT_THAT(out.output(0).dims(), ElementsAre(2, 8));
  ASSERT_TRUE(out.has_dynamic_batching());
  EXPECT_THAT(out.dynamic_batching().preferred_batch_size(), ElementsAre(4, 8));
  EXPECT_EQ(out.dynamic_batching().max_queue_delay_microseconds(), 250u);
  EXPECT_EQ(out.dynamic_batching().priority_levels(), 2u);
  ASSERT_EQ(out.instance_group_size(), 1);
  EXPECT_EQ(out.instance_group(0).count(), 2);
  EXPECT_EQ(out.instance_group(0).kind(), inference::ModelInstanceGroup::KIND_GPU);
  EXPECT_EQ(out.parameters().at("delay_ms").string_value(), "5");

  inference::ModelConfig unbatched;
  FillModelConfig(Model(0), &unbatched);
  EXPECT_FALSE(unbatched.has_dynamic_batching());
}

TEST(ModelMessagesTest, EveryDatatypeHasItsConfigEnum) {
  EXPECT_EQ(ConfigDataType(DataType::kBool), inference::TYPE_BOOL);
  EXPECT_EQ(ConfigDataType(DataType::kUint8), inference::TYPE_UINT8);
  EXPECT_EQ(ConfigDataType(DataType::kUint16), inference::TYPE_UINT16);
  EXPECT_EQ(ConfigDataType(DataType::kUint32), inference::TYPE_UINT32);
  EXPECT_EQ(ConfigDataType(DataType::kUint64), inference::TYPE_UINT64);
  EXPECT_EQ(ConfigDataType(DataType::kInt8), inference::TYPE_INT8);
  EXPECT_EQ(ConfigDataType(DataType::kInt16), inference::TYPE_INT16);
  EXPECT_EQ(ConfigDataType(DataType::kInt32), inference::TYPE_INT32);
  EXPECT_EQ(ConfigDataType(DataType::kInt64), inference::TYPE_INT64);
  EXPECT_EQ(ConfigDataType(DataType::kFp16), inference::TYPE_FP16);
  EXPECT_EQ(ConfigDataType(DataType::kBf16), inference::TYPE_BF16);
  EXPECT_EQ(ConfigDataType(DataType::kFp32), inference::TYPE_FP32);
  EXPECT_EQ(ConfigDataType(DataType::kFp64), inference::TYPE_FP64);
  EXPECT_EQ(ConfigDataType(DataType::kBytes), inference::TYPE_STRING);
}

TEST(ModelMessagesTest, Statistics) {
  ModelStatistics stats;
  stats.name = "add";
  stats.version = "2";
  stats.last_inference_ms = 1700000000000;
  stats.inference_count = 12;
  stats.execution_count = 3;
  stats.inference_stats.success = {.count = 3, .ns = 900};
  stats.inference_stats.queue = {.count = 3, .ns = 100};
  stats.batch_stats.push_back({.batch_size = 4, .compute_infer = {.count = 3, .ns = 600}});
  inference::ModelStatisticsResponse out;
  FillStatistics({stats}, &out);
  ASSERT_EQ(out.model_stats_size(), 1);
  const auto& entry = out.model_stats(0);
  EXPECT_EQ(entry.name(), "add");
  EXPECT_EQ(entry.version(), "2");
  EXPECT_EQ(entry.last_inference(), 1700000000000u);
  EXPECT_EQ(entry.inference_count(), 12u);
  EXPECT_EQ(entry.execution_count(), 3u);
  EXPECT_EQ(entry.inference_stats().success().ns(), 900u);
  EXPECT_EQ(entry.inference_stats().queue().count(), 3u);
  EXPECT_TRUE(entry.inference_stats().has_cache_hit());
  ASSERT_EQ(entry.batch_stats_size(), 1);
  EXPECT_EQ(entry.batch_stats(0).batch_size(), 4u);
  EXPECT_EQ(entry.batch_stats(0).compute_infer().ns(), 600u);
}

TEST(ModelMessagesTest, RepositoryIndex) {
  ModelInfo loading = Model(0);
  loading.state = ModelState::kUnavailable;
  loading.reason = "worker crashed";
  inference::RepositoryIndexResponse out;
  FillRepositoryIndex({Model(8), loading}, &out);
  ASSERT_EQ(out.models_size(), 2);
  EXPECT_EQ(out.models(0).name(), "add");
  EXPECT_EQ(out.models(0).version(), "2");
  EXPECT_EQ(out.models(0).state(), "READY");
  EXPECT_EQ(out.models(1).state(), "UNAVAILABLE");
  EXPECT_EQ(out.models(1).reason(), "worker crashed");
}

}  // namespace
}  // namespace switchyard::grpc_frontend
