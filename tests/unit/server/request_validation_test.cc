#include "server/request_validation.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

ModelConfig Config(int max_batch) {
  ModelConfig c;
  c.name = "m";
  c.max_batch_size = max_batch;
  c.inputs = {{"A", DataType::kInt32, {2}}, {"B", DataType::kFp32, {-1, 3}}};
  c.outputs = {{"X", DataType::kInt32, {2}}, {"Y", DataType::kInt32, {2}}};
  return c;
}

Tensor T(const std::string& name, DataType type, Shape shape) {
  int64_t n = ElementCount(shape);
  return {
      name, type, shape,
      TensorData::Owned(std::vector<std::byte>(static_cast<std::size_t>(n) * DataTypeSize(type)))};
}

InferRequest Request(int64_t batch) {
  InferRequest r;
  r.inputs.push_back(T("A", DataType::kInt32, {batch, 2}));
  r.inputs.push_back(T("B", DataType::kFp32, {batch, 5, 3}));
  return r;
}

void ExpectInvalid(const ModelConfig& config, InferRequest r, const std::string& fragment) {
  Status s = ValidateRequest(config, &r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
}

TEST(RequestValidationTest, AcceptsAndSetsBatchSize) {
  InferRequest r = Request(3);
  ASSERT_TRUE(ValidateRequest(Config(8), &r).ok());
  EXPECT_EQ(r.batch_size, 3);
  EXPECT_TRUE(r.output_indices.empty());  // none named: all
}

TEST(RequestValidationTest, ResolvesRequestedOutputsToConfigIndicesInOrder) {
  InferRequest r = Request(1);
  r.requested_outputs = {"Y", "X"};
  r.output_indices = {7};  // whatever was there is replaced
  ASSERT_TRUE(ValidateRequest(Config(8), &r).ok());
  EXPECT_EQ(r.output_indices, (std::vector<uint32_t>{1, 0}));
}

TEST(RequestValidationTest, NonBatchingModelTakesShapesAsIs) {
  InferRequest r;
  r.inputs.push_back(T("A", DataType::kInt32, {2}));
  r.inputs.push_back(T("B", DataType::kFp32, {4, 3}));
  ASSERT_TRUE(ValidateRequest(Config(0), &r).ok());
  EXPECT_EQ(r.batch_size, 1);
  ExpectInvalid(Config(0), Request(1), "shape [1,2]");
}

TEST(RequestValidationTest, Rejections) {
  ModelConfig c = Config(8);
  ExpectInvalid(c, Request(9), "batch size 9 is outside [1, 8]");
  InferRequest r = Request(2);
  r.inputs[1].shape[0] = 3;
  r.inputs[1].data = TensorData::Owned(std::vector<std::byte>(3 * 5 * 3 * 4));
  ExpectInvalid(c, std::move(r), "differs");
  r = Request(2);
  r.inputs.pop_back();
  ExpectInvalid(c, std::move(r), "missing input 'B'");
  r = Request(2);
  r.inputs.push_back(T("C", DataType::kInt32, {2, 2}));
  ExpectInvalid(c, std::move(r), "unknown input 'C'");
  r = Request(2);
  r.inputs.push_back(T("A", DataType::kInt32, {2, 2}));
  ExpectInvalid(c, std::move(r), "given twice");
  r = Request(2);
  r.inputs[0].datatype = DataType::kInt64;
  ExpectInvalid(c, std::move(r), "datatype INT64");
  r = Request(2);
  r.inputs[0].shape = {2, 3};
  ExpectInvalid(c, std::move(r), "does not match the model's [-1,2]");
  r = Request(2);
  r.inputs[0].data = TensorData::Owned(std::vector<std::byte>(7));
  ExpectInvalid(c, std::move(r), "needs 16 bytes, got 7");
  r = Request(2);
  r.requested_outputs = {"Z"};
  ExpectInvalid(c, std::move(r), "unknown output 'Z'");
  r = Request(2);
  r.requested_outputs = {"X", "X"};
  ExpectInvalid(c, std::move(r), "requested twice");
}

}  // namespace
}  // namespace switchyard
