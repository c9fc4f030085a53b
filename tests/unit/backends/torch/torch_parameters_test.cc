#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "parameters.h"
#include "switchyard/backend_sdk/status.h"

namespace switchyard::torch_backend {
namespace {

using sdk::StatusOr;

StatusOr<TorchParameters> Parse(const std::vector<std::pair<std::string, std::string>>& entries,
                                int32_t max_batch_size = 8) {
  std::vector<SyParameter> parameters;
  for (const auto& [key, value] : entries) parameters.push_back({key.c_str(), value.c_str()});
  return ParseTorchParameters(parameters.data(), static_cast<uint32_t>(parameters.size()),
                              max_batch_size);
}

TEST(TorchParametersTest, DefaultsWhenEmpty) {
  auto params = Parse({});
  ASSERT_TRUE(params.ok()) << params.status().message();
  EXPECT_EQ(params.value().model_file, "model.pt");
  EXPECT_EQ(params.value().input_binding, InputBinding::kPosition);
  EXPECT_TRUE(params.value().inference_mode);
  EXPECT_EQ(params.value().intra_op_threads, 0);
  EXPECT_TRUE(params.value().cuda_graph_batch_sizes.empty());
  EXPECT_FALSE(params.value().cudnn_benchmark);
  EXPECT_EQ(params.value().jit_executor, JitExecutor::kProfiling);
}

TEST(TorchParametersTest, ParsesEveryKey) {
  auto params = Parse({{"model_file", "weights/net.pt"},
                       {"input_binding", "name"},
                       {"inference_mode", "false"},
                       {"intra_op_threads", "3"},
                       {"cuda_graph_batch_sizes", " 8, 1 ,4,8"},
                       {"cudnn_benchmark", "true"},
                       {"jit_executor", "simple"}});
  ASSERT_TRUE(params.ok()) << params.status().message();
  EXPECT_EQ(params.value().jit_executor, JitExecutor::kSimple);
  EXPECT_EQ(params.value().model_file, "weights/net.pt");
  EXPECT_EQ(params.value().input_binding, InputBinding::kName);
  EXPECT_FALSE(params.value().inference_mode);
  EXPECT_EQ(params.value().intra_op_threads, 3);
  EXPECT_EQ(params.value().cuda_graph_batch_sizes, (std::vector<int64_t>{1, 4, 8}));
  EXPECT_TRUE(params.value().cudnn_benchmark);
}

TEST(TorchParametersTest, UnknownKeyListsTheKnownOnes) {
  auto params = Parse({{"model_fle", "x.pt"}});
  ASSERT_FALSE(params.ok());
  EXPECT_EQ(params.status().code(), SY_ERROR_INVALID_ARGUMENT);
  const std::string& message = params.status().message();
  EXPECT_NE(message.find("unknown key 'model_fle'"), std::string::npos) << message;
  for (const std::string& key : KnownParameterKeys()) {
    EXPECT_NE(message.find(key), std::string::npos) << key << " missing from: " << message;
  }
}

TEST(TorchParametersTest, RejectsDuplicateKeys) {
  auto params = Parse({{"input_binding", "name"}, {"input_binding", "position"}});
  ASSERT_FALSE(params.ok());
  EXPECT_NE(params.status().message().find("duplicate key 'input_binding'"), std::string::npos);
}

TEST(TorchParametersTest, RejectsInvalidValuesNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"model_file", ""},
      {"input_binding", "Position"},
      {"input_binding", ""},
      {"inference_mode", "yes"},
      {"inference_mode", "1"},
      {"cudnn_benchmark", "True"},
      {"jit_executor", "Simple"},
      {"jit_executor", ""},
      {"intra_op_threads", "-1"},
      {"intra_op_threads", "two"},
      {"intra_op_threads", "+2"},
      {"intra_op_threads", "2.0"},
      {"intra_op_threads", "4096"},
      {"cuda_graph_batch_sizes", "0"},
      {"cuda_graph_batch_sizes", "1,,2"},
      {"cuda_graph_batch_sizes", "1;2"},
      {"cuda_graph_batch_sizes", "9"},  // above max_batch_size 8
  };
  for (const auto& [key, value] : bad) {
    auto params = Parse({{key, value}});
    ASSERT_FALSE(params.ok()) << key << "=" << value;
    EXPECT_EQ(params.status().code(), SY_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(params.status().message().find("parameters." + key), std::string::npos)
        << params.status().message();
  }
}

TEST(TorchParametersTest, CudaGraphsNeedABatchingModel) {
  auto params = Parse({{"cuda_graph_batch_sizes", "1"}}, /*max_batch_size=*/0);
  ASSERT_FALSE(params.ok());
  EXPECT_NE(params.status().message().find("max_batch_size > 0"), std::string::npos);
  // An empty list is no graphs, which suits any model.
  EXPECT_TRUE(Parse({{"cuda_graph_batch_sizes", " "}}, 0).ok());
}

TEST(TorchParametersTest, BatchSizeListSortsAndDeduplicates) {
  auto sizes = ParseBatchSizeList("32,1,8,8");
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(sizes.value(), (std::vector<int64_t>{1, 8, 32}));
  EXPECT_TRUE(ParseBatchSizeList("").value().empty());
  EXPECT_FALSE(ParseBatchSizeList("1,").ok());
  EXPECT_FALSE(ParseBatchSizeList("-4").ok());
}

}  // namespace
}  // namespace switchyard::torch_backend
