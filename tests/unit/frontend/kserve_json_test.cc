#include "frontend/http/kserve_json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>

namespace switchyard::http {
namespace {

bool IsJson(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  return parser.parse(text).get(root) == simdjson::SUCCESS;
}

ModelInfo Model(int max_batch_size) {
  auto config = std::make_shared<ModelConfig>();
  config->name = "add";
  config->backend = "sim";
  config->max_batch_size = max_batch_size;
  config->inputs = {{"x", DataType::kFp32, {16}}, {"s", DataType::kBytes, {-1}}};
  config->outputs = {{"y", DataType::kInt64, {2, 8}}};
  config->batching.max_queue_delay_us = 250;
  config->batching.preferred_batch_sizes = {4, 8};
  config->instances.per_device = 2;
  config->parameters = {{"delay_ms", "5"}, {"mode", "a\"b"}};
  ModelInfo info;
  info.config = config;
  info.version = 2;
  info.versions = {1, 2};
  info.state = ModelState::kReady;
  return info;
}

TEST(KserveJsonTest, ServerMetadata) {
  std::string json = ServerMetadataJson("switchyard", "0.1.0", {"binary_tensor_data", "stats"});
  EXPECT_EQ(json, R"({"name":"switchyard","version":"0.1.0",)"
                  R"("extensions":["binary_tensor_data","stats"]})");
}

TEST(KserveJsonTest, ModelMetadataWithBatchDimension) {
  std::string json = ModelMetadataJson(Model(8));
  EXPECT_EQ(json, R"({"name":"add","versions":["1","2"],"platform":"sim",)"
                  R"("inputs":[{"name":"x","datatype":"FP32","shape":[-1,16]},)"
                  R"({"name":"s","datatype":"BYTES","shape":[-1,-1]}],)"
                  R"("outputs":[{"name":"y","datatype":"INT64","shape":[-1,2,8]}]})");
}

TEST(KserveJsonTest, ModelMetadataWithoutBatching) {
  std::string json = ModelMetadataJson(Model(0));
  EXPECT_NE(json.find(R"("shape":[16])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("shape":[2,8])"), std::string::npos) << json;
}

TEST(KserveJsonTest, ModelConfigWithBatching) {
  std::string json = ModelConfigJson(Model(8));
  EXPECT_EQ(json,
            R"({"name":"add","platform":"sim","backend":"sim","max_batch_size":8,)"
            R"("input":[{"name":"x","data_type":"TYPE_FP32","dims":[16]},)"
            R"({"name":"s","data_type":"TYPE_STRING","dims":[-1]}],)"
            R"("output":[{"name":"y","data_type":"TYPE_INT64","dims":[2,8]}],)"
            R"("dynamic_batching":{"max_queue_delay_microseconds":250,)"
            R"("preferred_batch_size":[4,8]},)"
            R"("instance_group":[{"count":2,"kind":"KIND_GPU"}],)"
            R"("parameters":{"delay_ms":{"string_value":"5"},"mode":{"string_value":"a\"b"}}})");
}

TEST(KserveJsonTest, ModelConfigWithoutBatchingOnCpu) {
  ModelInfo info = Model(0);
  auto config = std::make_shared<ModelConfig>(*info.config);
  config->instances.cpu = true;
  config->instances.per_device = 0;  // auto
  info.config = config;
  std::string json = ModelConfigJson(info);
  EXPECT_EQ(json.find("dynamic_batching"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("max_batch_size":0)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("instance_group":[{"count":1,"kind":"KIND_CPU"}])"), std::string::npos)
      << json;
}

TEST(KserveJsonTest, ModelConfigListsChosenGpus) {
  ModelInfo info = Model(4);
  auto config = std::make_shared<ModelConfig>(*info.config);
  config->instances.all_devices = false;
  config->instances.device_ids = {0, 3};
  info.config = config;
  std::string json = ModelConfigJson(info);
  EXPECT_NE(json.find(R"("instance_group":[{"count":2,"kind":"KIND_GPU","gpus":[0,3]}])"),
            std::string::npos)
      << json;
}

TEST(KserveJsonTest, NullConfigStillGivesValidJson) {
  ModelInfo info;
  EXPECT_TRUE(IsJson(ModelMetadataJson(info)));
  EXPECT_TRUE(IsJson(ModelConfigJson(info)));
  EXPECT_TRUE(IsJson(RepositoryIndexJson({info})));
}

TEST(KserveJsonTest, Statistics) {
  ModelStatistics stats;
  stats.name = "add";
  stats.version = "2";
  stats.last_inference_ms = 1700000000000;
  stats.inference_count = 12;
  stats.execution_count = 3;
  stats.inference_stats.success = {10, 1000};
  stats.inference_stats.fail = {2, 20};
  stats.inference_stats.queue = {12, 300};
  stats.inference_stats.compute_input = {3, 40};
  stats.inference_stats.compute_infer = {3, 500};
  stats.inference_stats.compute_output = {3, 60};
  BatchStatistics batch;
  batch.batch_size = 4;
  batch.compute_input = {3, 40};
  batch.compute_infer = {3, 500};
  batch.compute_output = {3, 60};
  stats.batch_stats = {batch};
  std::string json = StatisticsJson({stats});
  EXPECT_EQ(json,
            R"({"model_stats":[{"name":"add","version":"2","last_inference":1700000000000,)"
            R"("inference_count":12,"execution_count":3,"inference_stats":{)"
            R"("success":{"count":10,"ns":1000},"fail":{"count":2,"ns":20},)"
            R"("queue":{"count":12,"ns":300},"compute_input":{"count":3,"ns":40},)"
            R"("compute_infer":{"count":3,"ns":500},"compute_output":{"count":3,"ns":60},)"
            R"("cache_hit":{"count":0,"ns":0},"cache_miss":{"count":0,"ns":0}},)"
            R"("batch_stats":[{"batch_size":4,"compute_input":{"count":3,"ns":40},)"
            R"("compute_infer":{"count":3,"ns":500},"compute_output":{"count":3,"ns":60}}]}]})");
  EXPECT_EQ(StatisticsJson({}), R"({"model_stats":[]})");
}

TEST(KserveJsonTest, RepositoryIndex) {
  ModelInfo ready = Model(8);
  ModelInfo loading = Model(0);
  loading.state = ModelState::kLoading;
  loading.version = 1;
  ModelInfo broken = Model(0);
  broken.state = ModelState::kUnavailable;
  broken.reason = "warmup failed: \"boom\"";
  std::string json = RepositoryIndexJson({ready, loading, broken});
  EXPECT_EQ(json, R"([{"name":"add","version":"2","state":"READY","reason":""},)"
                  R"({"name":"add","version":"1","state":"LOADING","reason":""},)"
                  R"({"name":"add","version":"2","state":"UNAVAILABLE",)"
                  R"("reason":"warmup failed: \"boom\""}])");
  EXPECT_EQ(RepositoryIndexJson({}), "[]");
}

}  // namespace
}  // namespace switchyard::http
