#include "instance/warmup.h"

#include <gtest/gtest.h>

#include <future>

namespace switchyard {
namespace {

ModelConfig TwoInputs(int max_batch_size) {
  ModelConfig config;
  config.name = "m";
  config.max_batch_size = max_batch_size;
  config.inputs = {{.name = "IMAGE", .datatype = DataType::kFp32, .dims = {3, -1}},
                   {.name = "TEXT", .datatype = DataType::kBytes, .dims = {2}}};
  return config;
}

TEST(WarmupRequestTest, IsOneRequestOfTheLargestBatch) {
  InferRequest request = WarmupRequest(TwoInputs(16));
  EXPECT_EQ(request.model_name, "m");
  EXPECT_EQ(request.batch_size, 16);
  ASSERT_EQ(request.inputs.size(), 2u);
  EXPECT_EQ(request.inputs[0].shape, (Shape{16, 3, 1}));
  EXPECT_EQ(request.inputs[0].data.size(), 16u * 3 * sizeof(float));
  EXPECT_EQ(request.inputs[1].shape, (Shape{16, 2}));
}

TEST(WarmupRequestTest, WithoutABatchDimensionIsOneItem) {
  InferRequest request = WarmupRequest(TwoInputs(0));
  EXPECT_EQ(request.batch_size, 1);
  EXPECT_EQ(request.inputs[0].shape, (Shape{3, 1}));
}

// Records the batches it is given.
class RecordingInstance final : public Instance {
 public:
  const std::string& name() const override { return name_; }
  void Execute(std::span<InferRequest* const> requests, BatchDone done) override {
    for (InferRequest* request : requests) items.push_back(request->batch_size);
    std::vector<RequestOutputs> outputs;
    for (std::size_t i = 0; i < requests.size(); ++i) outputs.emplace_back(std::vector<Tensor>{});
    done(std::move(outputs));
  }
  std::vector<int64_t> items;

 private:
  std::string name_ = "m/0";
};

TEST(WarmUpTest, RunsEachConfiguredRequestAtMaxBatch) {
  ModelConfig config = TwoInputs(8);
  config.warmup.requests = 3;
  RecordingInstance instance;
  ASSERT_TRUE(WarmUp(instance, config).ok());
  EXPECT_EQ(instance.items, (std::vector<int64_t>{8, 8, 8}));
}

}  // namespace
}  // namespace switchyard
