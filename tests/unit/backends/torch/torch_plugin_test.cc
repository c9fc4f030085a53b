// End to end: libswitchyard_backend_torch.so loaded through the host's plugin layer
// (src/plugin), running the tiny TorchScript models of make_test_models.py on CPU instances.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "plugin/infer_request_batch.h"
#include "plugin/plugin_library.h"
#include "plugin/plugin_model.h"
#include "switchyard/infer.h"
#include "switchyard/model_config.h"

namespace switchyard {
namespace {

using plugin::InferRequestBatch;
using plugin::PluginInstance;
using plugin::PluginLibrary;
using plugin::PluginModel;

const std::string kModels = SWITCHYARD_TORCH_TEST_MODELS;

template <typename T>
Tensor Make(const std::string& name, DataType type, Shape shape, const std::vector<T>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return {name, type, std::move(shape), TensorData::Owned(std::move(bytes))};
}

template <typename T>
std::vector<T> Values(const Tensor& tensor) {
  std::vector<T> out(tensor.data.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), tensor.data.bytes().data(), tensor.data.size());
  return out;
}

template <typename... Tensors>
InferRequest Request(Tensors... inputs) {
  InferRequest request;
  (request.inputs.push_back(std::move(inputs)), ...);
  return request;
}

// FP16 bit patterns of small integers (exact in half precision).
uint16_t Half(int value) {
  static const uint16_t half_bits[] = {0x0000, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500,
                                       0x4600, 0x4700, 0x4800, 0x4880, 0x4900, 0x4980};
  return half_bits[value];
}

class TorchPluginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kModels + "/add_sub.pt")) return;
    auto library = PluginLibrary::Load(SWITCHYARD_TORCH_PLUGIN);
    ASSERT_TRUE(library.ok()) << library.status().message();
    shared_library = std::move(library).value().release();
  }
  static void TearDownTestSuite() {
    delete shared_library;
    shared_library = nullptr;
  }

  void SetUp() override {
    if (shared_library == nullptr) {
      GTEST_SKIP() << "test models missing in " << kModels
                   << " (make_test_models.py needs /usr/bin/python3 with torch)";
    }
  }

  static ModelConfig Config(const std::string& model_file, int max_batch_size,
                            std::vector<TensorSpec> inputs, std::vector<TensorSpec> outputs) {
    ModelConfig config;
    config.name = "torch_test";
    config.backend = "torch";
    config.max_batch_size = max_batch_size;
    config.inputs = std::move(inputs);
    config.outputs = std::move(outputs);
    if (!model_file.empty()) config.parameters["model_file"] = kModels + "/" + model_file;
    return config;
  }

  static ModelConfig AddSubConfig(int max_batch_size, DataType type = DataType::kFp32) {
    return Config("add_sub.pt", max_batch_size, {{"INPUT0", type, {4}}, {"INPUT1", type, {4}}},
                  {{"OUTPUT0", type, {4}}, {"OUTPUT1", type, {4}}});
  }

  // Loads `config` and one CPU instance of it into model_ / instance_.
  Status Load(const ModelConfig& config, const std::string& model_dir = "/nonexistent") {
    config_ = config;
    instance_.reset();
    model_.reset();
    auto model = PluginModel::Create(shared_library, config_, 1, model_dir);
    if (!model.ok()) return model.status();
    model_ = std::move(model).value();
    auto instance = PluginInstance::Create(model_.get(), "torch_test/0", 0, /*gpu_count=*/0, "");
    if (!instance.ok()) return instance.status();
    instance_ = std::move(instance).value();
    return Status::Ok();
  }

  // Executes `requests` as one batch; one result per request.
  std::vector<RequestOutputs> Run(std::vector<InferRequest>& requests) {
    std::vector<InferRequest*> pointers;
    for (InferRequest& request : requests) pointers.push_back(&request);
    InferRequestBatch batch(&config_, pointers);
    const Status status = instance_->Execute(batch);
    EXPECT_TRUE(status.ok()) << status.message();
    return batch.Finish(status);
  }

  static inline PluginLibrary* shared_library = nullptr;
  ModelConfig config_;
  std::unique_ptr<PluginModel> model_;
  std::unique_ptr<PluginInstance> instance_;
};

TEST_F(TorchPluginTest, ConcatenatesRequestsOfDifferentBatchSizesAndSplitsOutputs) {
  ASSERT_TRUE(Load(AddSubConfig(8)).ok());
  std::vector<InferRequest> requests;
  const std::vector<int64_t> batch_sizes = {1, 3, 2};
  for (size_t r = 0; r < batch_sizes.size(); ++r) {
    std::vector<float> a, b;
    for (int64_t i = 0; i < batch_sizes[r] * 4; ++i) {
      a.push_back(static_cast<float>(100 * r + i));
      b.push_back(static_cast<float>(i) / 2);
    }
    requests.push_back(Request(Make("INPUT0", DataType::kFp32, {batch_sizes[r], 4}, a),
                               Make("INPUT1", DataType::kFp32, {batch_sizes[r], 4}, b)));
  }
  auto results = Run(requests);
  ASSERT_EQ(results.size(), 3u);
  for (size_t r = 0; r < results.size(); ++r) {
    ASSERT_TRUE(results[r].ok()) << results[r].status().message();
    const auto& outputs = results[r].value();
    ASSERT_EQ(outputs.size(), 2u);
    EXPECT_EQ(outputs[0].name, "OUTPUT0");
    EXPECT_EQ(outputs[0].shape, (Shape{batch_sizes[r], 4}));
    EXPECT_EQ(outputs[1].shape, (Shape{batch_sizes[r], 4}));
    const auto a = Values<float>(requests[r].inputs[0]);
    const auto b = Values<float>(requests[r].inputs[1]);
    const auto sum = Values<float>(outputs[0]);
    const auto difference = Values<float>(outputs[1]);
    ASSERT_EQ(sum.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(sum[i], a[i] + b[i]) << "request " << r << " element " << i;
      EXPECT_EQ(difference[i], a[i] - b[i]) << "request " << r << " element " << i;
    }
  }
}

TEST_F(TorchPluginTest, UnbatchedModelRunsRequestsOneByOne) {
  ASSERT_TRUE(Load(AddSubConfig(0, DataType::kInt32)).ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<int32_t>("INPUT0", DataType::kInt32, {4}, {1, 2, 3, 4}),
                             Make<int32_t>("INPUT1", DataType::kInt32, {4}, {4, 3, 2, 1})));
  requests.push_back(Request(Make<int32_t>("INPUT0", DataType::kInt32, {4}, {10, 20, 30, 40}),
                             Make<int32_t>("INPUT1", DataType::kInt32, {4}, {1, 1, 1, 1})));
  auto results = Run(requests);
  ASSERT_TRUE(results[0].ok()) << results[0].status().message();
  ASSERT_TRUE(results[1].ok()) << results[1].status().message();
  EXPECT_EQ(results[0].value()[0].shape, (Shape{4}));
  EXPECT_EQ(Values<int32_t>(results[0].value()[0]), (std::vector<int32_t>{5, 5, 5, 5}));
  EXPECT_EQ(Values<int32_t>(results[1].value()[1]), (std::vector<int32_t>{9, 19, 29, 39}));
}

TEST_F(TorchPluginTest, InputsBoundByNameAndDictOutputsByName) {
  ModelConfig config =
      Config("named_args.pt", 4, {{"a", DataType::kFp64, {2}}, {"b", DataType::kFp64, {2}}},
             {{"sum", DataType::kFp64, {2}}, {"difference", DataType::kFp64, {2}}});
  config.parameters["input_binding"] = "name";
  ASSERT_TRUE(Load(config).ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<double>("a", DataType::kFp64, {1, 2}, {10, 20}),
                             Make<double>("b", DataType::kFp64, {1, 2}, {1, 2})));
  auto results = Run(requests);
  ASSERT_TRUE(results[0].ok()) << results[0].status().message();
  EXPECT_EQ(Values<double>(results[0].value()[0]), (std::vector<double>{11, 22}));
  EXPECT_EQ(Values<double>(results[0].value()[1]), (std::vector<double>{9, 18}));  // a - b
}

TEST_F(TorchPluginTest, InputsBoundByPositionIgnoreArgumentNames) {
  // forward(b, a): by position, config input "first" is b and "second" is a.
  ModelConfig config = Config("named_args.pt", 4,
                              {{"first", DataType::kFp32, {1}}, {"second", DataType::kFp32, {1}}},
                              {{"difference", DataType::kFp32, {1}}});
  ASSERT_TRUE(Load(config).ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<float>("first", DataType::kFp32, {1, 1}, {1}),
                             Make<float>("second", DataType::kFp32, {1, 1}, {10})));
  auto results = Run(requests);
  ASSERT_TRUE(results[0].ok()) << results[0].status().message();
  EXPECT_EQ(Values<float>(results[0].value()[0]), (std::vector<float>{9}));  // a - b
}

TEST_F(TorchPluginTest, NameBindingRejectsAnInputThatNamesNoArgument) {
  ModelConfig config =
      Config("named_args.pt", 4, {{"a", DataType::kFp32, {1}}, {"c", DataType::kFp32, {1}}},
             {{"sum", DataType::kFp32, {1}}});
  config.parameters["input_binding"] = "name";
  const Status status = Load(config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("input 'c' names no argument of forward(b, a)"),
            std::string::npos)
      << status.message();
}

TEST_F(TorchPluginTest, PositionBindingRejectsMoreInputsThanArguments) {
  ModelConfig config = AddSubConfig(8);
  config.inputs.push_back({"INPUT2", DataType::kFp32, {4}});
  const Status status = Load(config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("3 inputs but forward(INPUT0, INPUT1) takes 2"),
            std::string::npos)
      << status.message();
}

TEST_F(TorchPluginTest, Fp16ListOutputWithVariableDimensionsRunsOneCallPerShape) {
  ASSERT_TRUE(Load(Config("half_scale.pt", 8, {{"x", DataType::kFp16, {-1}}},
                          {{"y", DataType::kFp16, {-1}}}))
                  .ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<uint16_t>("x", DataType::kFp16, {1, 2}, {Half(0), Half(1)})));
  requests.push_back(
      Request(Make<uint16_t>("x", DataType::kFp16, {1, 3}, {Half(2), Half(3), Half(4)})));
  requests.push_back(
      Request(Make<uint16_t>("x", DataType::kFp16, {2, 2}, {Half(1), Half(2), Half(3), Half(4)})));
  auto results = Run(requests);
  for (const auto& result : results) ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(results[0].value()[0].shape, (Shape{1, 2}));
  EXPECT_EQ(Values<uint16_t>(results[0].value()[0]), (std::vector<uint16_t>{Half(1), Half(3)}));
  EXPECT_EQ(results[1].value()[0].shape, (Shape{1, 3}));
  EXPECT_EQ(Values<uint16_t>(results[1].value()[0]),
            (std::vector<uint16_t>{Half(5), Half(7), Half(9)}));
  EXPECT_EQ(results[2].value()[0].shape, (Shape{2, 2}));
  EXPECT_EQ(Values<uint16_t>(results[2].value()[0]),
            (std::vector<uint16_t>{Half(3), Half(5), Half(7), Half(9)}));
}

TEST_F(TorchPluginTest, Int64TupleOutputs) {
  ASSERT_TRUE(Load(Config("int64_ids.pt", 4, {{"ids", DataType::kInt64, {3}}},
                          {{"next", DataType::kInt64, {3}}, {"total", DataType::kInt64, {1}}}))
                  .ok());
  std::vector<InferRequest> requests;
  requests.push_back(
      Request(Make<int64_t>("ids", DataType::kInt64, {2, 3}, {1, 2, 3, int64_t{1} << 40, 0, 1})));
  auto results = Run(requests);
  ASSERT_TRUE(results[0].ok()) << results[0].status().message();
  EXPECT_EQ(Values<int64_t>(results[0].value()[0]),
            (std::vector<int64_t>{2, 3, 4, (int64_t{1} << 40) + 1, 1, 2}));
  EXPECT_EQ(results[0].value()[1].shape, (Shape{2, 1}));
  EXPECT_EQ(Values<int64_t>(results[0].value()[1]),
            (std::vector<int64_t>{6, (int64_t{1} << 40) + 1}));
}

TEST_F(TorchPluginTest, EverySupportedDatatypeRoundTripsThroughIdentity) {
  const DataType types[] = {DataType::kBool,  DataType::kUint8, DataType::kInt8, DataType::kInt16,
                            DataType::kInt32, DataType::kInt64, DataType::kFp16, DataType::kBf16,
                            DataType::kFp32,  DataType::kFp64};
  for (DataType type : types) {
    SCOPED_TRACE(std::string(DataTypeName(type)));
    ASSERT_TRUE(Load(Config("identity.pt", 4, {{"x", type, {3}}}, {{"y", type, {3}}})).ok());
    const size_t size = DataTypeSize(type);
    std::vector<uint8_t> bytes(2 * 3 * size);
    for (size_t i = 0; i < bytes.size(); ++i) {
      // Valid values for every type: 0/1 for BOOL, small non-negative numbers elsewhere.
      bytes[i] = type == DataType::kBool ? static_cast<uint8_t>(i % 2)
                                         : static_cast<uint8_t>(i % size == 0 ? 0 : i % 7);
    }
    std::vector<InferRequest> requests;
    requests.push_back(Request(Make<uint8_t>("x", type, {2, 3}, bytes)));
    auto results = Run(requests);
    ASSERT_TRUE(results[0].ok()) << results[0].status().message();
    EXPECT_EQ(results[0].value()[0].datatype, type);
    EXPECT_EQ(Values<uint8_t>(results[0].value()[0]), bytes);
  }
}

TEST_F(TorchPluginTest, OnlyRequestedOutputsAreProduced) {
  ASSERT_TRUE(Load(AddSubConfig(8)).ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<float>("INPUT0", DataType::kFp32, {1, 4}, {1, 2, 3, 4}),
                             Make<float>("INPUT1", DataType::kFp32, {1, 4}, {1, 1, 1, 1})));
  requests.back().requested_outputs = {"OUTPUT1"};
  requests.back().output_indices = {1};  // as ValidateRequest resolves it
  auto results = Run(requests);
  ASSERT_TRUE(results[0].ok()) << results[0].status().message();
  ASSERT_EQ(results[0].value().size(), 1u);
  EXPECT_EQ(results[0].value()[0].name, "OUTPUT1");
  EXPECT_EQ(Values<float>(results[0].value()[0]), (std::vector<float>{0, 1, 2, 3}));
}

TEST_F(TorchPluginTest, OutputShapeMismatchFailsTheRequestsNamingTheOutput) {
  ASSERT_TRUE(
      Load(Config("identity.pt", 4, {{"x", DataType::kFp32, {4}}}, {{"y", DataType::kFp32, {3}}}))
          .ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<float>("x", DataType::kFp32, {1, 4}, {1, 2, 3, 4})));
  requests.push_back(Request(Make<float>("x", DataType::kFp32, {1, 4}, {1, 2, 3, 4})));
  auto results = Run(requests);
  for (const auto& result : results) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInternal);
    EXPECT_NE(result.status().message().find("output 'y'"), std::string::npos)
        << result.status().message();
  }
}

TEST_F(TorchPluginTest, OutputDtypeMismatchNamesTheOutput) {
  ASSERT_TRUE(
      Load(Config("identity.pt", 4, {{"x", DataType::kFp32, {2}}}, {{"y", DataType::kFp64, {2}}}))
          .ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<float>("x", DataType::kFp32, {1, 2}, {1, 2})));
  auto results = Run(requests);
  ASSERT_FALSE(results[0].ok());
  EXPECT_EQ(results[0].status().code(), StatusCode::kInternal);
  EXPECT_NE(results[0].status().message().find("output 'y'"), std::string::npos);
  EXPECT_NE(results[0].status().message().find("FP64"), std::string::npos);
}

TEST_F(TorchPluginTest, MoreConfigOutputsThanTheModelReturnsIsAnError) {
  ModelConfig config = AddSubConfig(8);
  config.outputs.push_back({"OUTPUT2", DataType::kFp32, {4}});
  ASSERT_TRUE(Load(config).ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<float>("INPUT0", DataType::kFp32, {1, 4}, {1, 2, 3, 4}),
                             Make<float>("INPUT1", DataType::kFp32, {1, 4}, {1, 1, 1, 1})));
  auto results = Run(requests);
  ASSERT_FALSE(results[0].ok());
  EXPECT_NE(results[0].status().message().find("output 'OUTPUT2'"), std::string::npos)
      << results[0].status().message();
}

TEST_F(TorchPluginTest, AForwardFailureFailsOnlyTheRequestsOfThatCall) {
  // Variable dimensions put the two requests in separate forward() calls.
  ASSERT_TRUE(Load(Config("fails_on_negative.pt", 4, {{"x", DataType::kFp32, {-1}}},
                          {{"y", DataType::kFp32, {-1}}}))
                  .ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<float>("x", DataType::kFp32, {1, 2}, {1, -2})));
  requests.push_back(Request(Make<float>("x", DataType::kFp32, {1, 3}, {1, 2, 3})));
  auto results = Run(requests);
  ASSERT_FALSE(results[0].ok());
  EXPECT_EQ(results[0].status().code(), StatusCode::kInternal);
  EXPECT_NE(results[0].status().message().find("negative input"), std::string::npos)
      << results[0].status().message();
  ASSERT_TRUE(results[1].ok()) << results[1].status().message();
  EXPECT_EQ(Values<float>(results[1].value()[0]), (std::vector<float>{1, 2, 3}));
}

TEST_F(TorchPluginTest, AnInvalidRequestFailsAloneAndTheOthersRun) {
  ASSERT_TRUE(Load(AddSubConfig(8)).ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<double>("INPUT0", DataType::kFp64, {1, 4}, {1, 2, 3, 4}),
                             Make<float>("INPUT1", DataType::kFp32, {1, 4}, {1, 1, 1, 1})));
  requests.push_back(Request(Make<float>("INPUT0", DataType::kFp32, {1, 4}, {1, 2, 3, 4}),
                             Make<float>("INPUT1", DataType::kFp32, {1, 4}, {1, 1, 1, 1})));
  auto results = Run(requests);
  ASSERT_FALSE(results[0].ok());
  EXPECT_EQ(results[0].status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(results[0].status().message().find("input 'INPUT0'"), std::string::npos);
  ASSERT_TRUE(results[1].ok()) << results[1].status().message();
  EXPECT_EQ(Values<float>(results[1].value()[0]), (std::vector<float>{2, 3, 4, 5}));
}

TEST_F(TorchPluginTest, DefaultModelFileIsModelPtInTheVersionFolder) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("torch_plugin_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "1");
  std::filesystem::copy_file(kModels + "/add_sub.pt", dir / "1" / "model.pt",
                             std::filesystem::copy_options::overwrite_existing);
  ModelConfig config = AddSubConfig(8);
  config.parameters.clear();
  const Status status = Load(config, dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(status.ok()) << status.message();
}

TEST_F(TorchPluginTest, ABadModelFileFailsInstanceInitWithAClearError) {
  const Status status = Load(
      Config("not_a_model.pt", 8, {{"x", DataType::kFp32, {1}}}, {{"y", DataType::kFp32, {1}}}));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cannot load TorchScript model"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("not_a_model.pt"), std::string::npos) << status.message();
}

TEST_F(TorchPluginTest, AMissingModelFileFailsModelInit) {
  const Status status =
      Load(Config("absent.pt", 8, {{"x", DataType::kFp32, {1}}}, {{"y", DataType::kFp32, {1}}}));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("absent.pt"), std::string::npos) << status.message();
  EXPECT_EQ(model_, nullptr);
}

TEST_F(TorchPluginTest, AnUnknownParameterFailsModelInitListingTheKnownKeys) {
  ModelConfig config = AddSubConfig(8);
  config.parameters["precision"] = "fp16";
  const Status status = Load(config);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("unknown key 'precision'"), std::string::npos);
  EXPECT_NE(status.message().find("input_binding"), std::string::npos) << status.message();
}

TEST_F(TorchPluginTest, BytesTensorsAreUnsupported) {
  const Status status = Load(
      Config("identity.pt", 8, {{"text", DataType::kBytes, {1}}}, {{"y", DataType::kFp32, {1}}}));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("input 'text'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("BYTES"), std::string::npos) << status.message();
}

TEST_F(TorchPluginTest, CpuInstanceReportsNoDeviceMemoryAndIgnoresCudaGraphs) {
  ModelConfig config = AddSubConfig(8);
  config.parameters["cuda_graph_batch_sizes"] = "1,4";
  ASSERT_TRUE(Load(config).ok());
  EXPECT_EQ(instance_->DeviceMemoryBytes(), std::optional<uint64_t>(0));
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<float>("INPUT0", DataType::kFp32, {1, 4}, {1, 2, 3, 4}),
                             Make<float>("INPUT1", DataType::kFp32, {1, 4}, {1, 1, 1, 1})));
  auto results = Run(requests);
  ASSERT_TRUE(results[0].ok()) << results[0].status().message();
}

TEST_F(TorchPluginTest, NoGradModeInsteadOfInferenceModeRunsToo) {
  ModelConfig config = AddSubConfig(8);
  config.parameters["inference_mode"] = "false";
  ASSERT_TRUE(Load(config).ok());
  std::vector<InferRequest> requests;
  requests.push_back(Request(Make<float>("INPUT0", DataType::kFp32, {1, 4}, {1, 2, 3, 4}),
                             Make<float>("INPUT1", DataType::kFp32, {1, 4}, {1, 1, 1, 1})));
  auto results = Run(requests);
  ASSERT_TRUE(results[0].ok()) << results[0].status().message();
  EXPECT_EQ(Values<float>(results[0].value()[1]), (std::vector<float>{0, 1, 2, 3}));
}

#if !SWITCHYARD_TORCH_CUDA
TEST_F(TorchPluginTest, GpuInstanceOnACpuBuildIsUnsupported) {
  config_ = AddSubConfig(8);
  auto model = PluginModel::Create(shared_library, config_, 1, "/nonexistent");
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto instance =
      PluginInstance::Create(model.value().get(), "torch_test/0", 0, /*gpu_count=*/1, "");
  ASSERT_FALSE(instance.ok());
  EXPECT_NE(instance.status().message().find("without CUDA"), std::string::npos)
      << instance.status().message();
}
#endif

}  // namespace
}  // namespace switchyard
