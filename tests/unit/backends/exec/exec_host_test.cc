// The exec plugin loaded by switchyard's own plugin host (src/plugin: PluginLibrary,
// PluginModel, PluginInstance, InferRequestBatch), as the server and its workers load it, running
// the Python test program programs/add_sub.py in both modes. Needs /usr/bin/python3 with numpy;
// skipped otherwise.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>

#include "plugin/infer_request_batch.h"
#include "plugin/plugin_library.h"
#include "plugin/plugin_model.h"

namespace switchyard::plugin {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> Int32s(const Tensor& t) {
  std::vector<int32_t> out(t.data.size() / 4);
  std::memcpy(out.data(), t.data.bytes().data(), out.size() * 4);
  return out;
}

Tensor Int32Tensor(const std::string& name, const std::vector<int32_t>& values) {
  std::vector<std::byte> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return Tensor{name,
                DataType::kInt32,
                {static_cast<int64_t>(values.size() / 4), 4},
                TensorData::Owned(std::move(bytes))};
}

InferRequest AddSubRequest(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  InferRequest r;
  r.model_name = "add_sub";
  r.inputs.push_back(Int32Tensor("INPUT0", a));
  r.inputs.push_back(Int32Tensor("INPUT1", b));
  r.batch_size = static_cast<int64_t>(a.size() / 4);
  return r;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ExecHostTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    python_ok_ = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
    setenv("PYTHONPATH", EXEC_TEST_CLIENTS_DIR, 1);
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);  // no __pycache__ in the source tree
    // A model folder as a repository holds it: <dir>/1/ is the version folder.
    char tmpl[] = "/tmp/exec-host-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    model_dir_ = new std::string(tmpl);
    fs::create_directories(*model_dir_ + "/1");
    fs::copy_file(std::string(EXEC_TEST_PROGRAMS_DIR) + "/add_sub.py", *model_dir_ + "/1/model.py");
    auto library = PluginLibrary::Load(EXEC_TEST_PLUGIN_PATH);
    ASSERT_TRUE(library.ok()) << library.status().ToString();
    library_ = std::move(library).value().release();
  }
  static void TearDownTestSuite() {
    delete library_;
    library_ = nullptr;
    if (model_dir_ != nullptr) fs::remove_all(*model_dir_);
    delete model_dir_;
    model_dir_ = nullptr;
  }
  void SetUp() override {
    if (!python_ok_) GTEST_SKIP() << "/usr/bin/python3 with numpy is not available";
    ASSERT_NE(library_, nullptr);
  }

  static ModelConfig Config(const std::string& mode,
                            std::map<std::string, std::string> extra = {}) {
    ModelConfig c;
    c.name = "add_sub";
    c.backend = "exec";
    c.max_batch_size = 8;
    c.inputs = {{"INPUT0", DataType::kInt32, {4}}, {"INPUT1", DataType::kInt32, {4}}};
    c.outputs = {{"OUTPUT0", DataType::kInt32, {4}}, {"OUTPUT1", DataType::kInt32, {4}}};
    c.parameters = {{"command", "/usr/bin/python3 model.py"}, {"mode", mode}};
    for (auto& [k, v] : extra) c.parameters[k] = v;
    return c;
  }

  // Loads the model and one instance; the test fails if either fails.
  void Load(const ModelConfig& config) {
    config_ = config;
    auto model = PluginModel::Create(library_, config_, 1, *model_dir_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(model).value();
    auto instance = PluginInstance::Create(model_.get(), "add_sub/0", 0, 0, "");
    ASSERT_TRUE(instance.ok()) << instance.status().ToString();
    instance_ = std::move(instance).value();
  }

  // Runs `requests` as one batch; returns the batch status and each request's result.
  std::pair<Status, std::vector<RequestOutputs>> Run(std::vector<InferRequest>& requests) {
    std::vector<InferRequest*> pointers;
    for (InferRequest& r : requests) pointers.push_back(&r);
    InferRequestBatch batch(&config_, pointers);
    Status status = instance_->Execute(batch);
    return {status, batch.Finish(status)};
  }

  static void ExpectAddSub(const InferRequest& request, const RequestOutputs& result) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    std::vector<int32_t> a = Int32s(request.inputs[0]);
    std::vector<int32_t> b = Int32s(request.inputs[1]);
    ASSERT_EQ(result->size(), 2u);
    EXPECT_EQ((*result)[0].name, "OUTPUT0");
    EXPECT_EQ((*result)[1].name, "OUTPUT1");
    EXPECT_EQ((*result)[0].shape, request.inputs[0].shape);
    std::vector<int32_t> sum = Int32s((*result)[0]);
    std::vector<int32_t> diff = Int32s((*result)[1]);
    ASSERT_EQ(sum.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(sum[i], a[i] + b[i]);
      EXPECT_EQ(diff[i], a[i] - b[i]);
    }
  }

  static inline bool python_ok_ = false;
  static inline std::string* model_dir_ = nullptr;
  static inline PluginLibrary* library_ = nullptr;
  ModelConfig config_;
  // Declared in this order so the instance goes first, then the model.
  std::unique_ptr<PluginModel> model_;
  std::unique_ptr<PluginInstance> instance_;
};

INSTANTIATE_TEST_SUITE_P(Modes, ExecHostTest, ::testing::Values("persistent", "per_request"));

TEST_P(ExecHostTest, ServesABatch) {
  Load(Config(GetParam()));
  std::vector<InferRequest> requests;
  requests.push_back(AddSubRequest({1, 2, 3, 4}, {10, 20, 30, 40}));
  requests.push_back(AddSubRequest({5, 6, 7, 8, 9, 10, 11, 12}, {1, 2, 3, 4, 5, 6, 7, 8}));
  auto [status, results] = Run(requests);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(results.size(), 2u);
  ExpectAddSub(requests[0], results[0]);
  ExpectAddSub(requests[1], results[1]);
}

TEST_P(ExecHostTest, AnExceptionFailsOnlyItsRequest) {
  Load(Config(GetParam()));
  std::vector<InferRequest> requests;
  requests.push_back(AddSubRequest({-1, 0, 0, 0}, {0, 0, 0, 0}));  // raises InvalidInput
  requests.push_back(AddSubRequest({-2, 0, 0, 0}, {0, 0, 0, 0}));  // raises ValueError
  requests.push_back(AddSubRequest({1, 1, 1, 1}, {2, 2, 2, 2}));
  auto [status, results] = Run(requests);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_FALSE(results[0].ok());
  EXPECT_EQ(results[0].status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(results[0].status().message(), "negative marker"))
      << results[0].status().ToString();
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(results[1].status().message(), "ValueError: the model broke"))
      << results[1].status().ToString();
  ExpectAddSub(requests[2], results[2]);
}

TEST_P(ExecHostTest, ProgramExitIsReportedAndTheProgramRestarts) {
  Load(Config(GetParam()));
  std::vector<InferRequest> dying;
  dying.push_back(AddSubRequest({-3, 0, 0, 0}, {0, 0, 0, 0}));  // exits with status 3
  auto [status, results] = Run(dying);
  Status failure = GetParam() == "persistent" ? status : results[0].status();
  ASSERT_FALSE(failure.ok());
  EXPECT_TRUE(Contains(failure.message(), "exited with status 3")) << failure.ToString();
  EXPECT_TRUE(Contains(failure.message(), "dying on purpose")) << failure.ToString();
  ASSERT_FALSE(results[0].ok());

  std::vector<InferRequest> next;
  next.push_back(AddSubRequest({1, 2, 3, 4}, {4, 3, 2, 1}));
  auto [next_status, next_results] = Run(next);
  ASSERT_TRUE(next_status.ok()) << next_status.ToString();
  ExpectAddSub(next[0], next_results[0]);
}

TEST_F(ExecHostTest, PerRequestTimeoutKillsTheRun) {
  // Far longer than a healthy run, far shorter than the hour the program sleeps.
  Load(Config("per_request", {{"timeout_ms", "5000"}}));
  std::vector<InferRequest> requests;
  requests.push_back(AddSubRequest({-4, 0, 0, 0}, {0, 0, 0, 0}));  // sleeps for an hour
  requests.push_back(AddSubRequest({1, 1, 1, 1}, {1, 1, 1, 1}));
  auto [status, results] = Run(requests);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_FALSE(results[0].ok());
  EXPECT_TRUE(Contains(results[0].status().message(), "did not finish within timeout_ms = 5000"))
      << results[0].status().ToString();
  ExpectAddSub(requests[1], results[1]);
}

TEST_F(ExecHostTest, UnknownParameterFailsTheModel) {
  ModelConfig config = Config("persistent", {{"comand", "x"}});
  auto model = PluginModel::Create(library_, config, 1, *model_dir_);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(model.status().message(),
                       "model 'add_sub': parameters: unknown key "
                       "'comand'"))
      << model.status().ToString();
}

TEST_F(ExecHostTest, MissingProgramFailsTheModel) {
  ModelConfig config = Config("persistent", {{"command", "./missing.py --flag"}});
  auto model = PluginModel::Create(library_, config, 1, *model_dir_);
  ASSERT_FALSE(model.ok());
  EXPECT_TRUE(Contains(model.status().message(), "missing.py does not exist"))
      << model.status().ToString();
}

TEST_F(ExecHostTest, ProgramThatDoesNotSpeakTheProtocolFailsTheInstance) {
  config_ = Config("persistent", {{"command", "/bin/sh -c 'echo I am not a model'"}});
  auto model = PluginModel::Create(library_, config_, 1, *model_dir_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto instance = PluginInstance::Create(model->get(), "add_sub/0", 0, 0, "");
  ASSERT_FALSE(instance.ok());
  EXPECT_TRUE(Contains(instance.status().message(), "instance 'add_sub/0': the program /bin/sh"))
      << instance.status().ToString();
  EXPECT_TRUE(Contains(instance.status().message(), "\"I am not a model\\x0a...\""))
      << instance.status().ToString();
}

// The program sees exactly its instance's GPUs, also when the plugin runs inside the server
// (isolation: thread), where the host process's own CUDA_VISIBLE_DEVICES says nothing of them.
TEST_F(ExecHostTest, ProgramSeesItsInstancesGpusInProcessToo) {
  ASSERT_EQ(setenv("CUDA_VISIBLE_DEVICES", "the-servers-own", 1), 0);
  config_ = Config("persistent",
                   {{"command", "/bin/sh -c 'echo visible=[$CUDA_VISIBLE_DEVICES] >&2; exit 7'"}});
  auto model = PluginModel::Create(library_, config_, 1, *model_dir_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto instance = PluginInstance::Create(model->get(), "add_sub/1", 1, 2, "GPU-aaa,GPU-bbb");
  unsetenv("CUDA_VISIBLE_DEVICES");
  ASSERT_FALSE(instance.ok());
  EXPECT_TRUE(Contains(instance.status().message(), "visible=[GPU-aaa,GPU-bbb]"))
      << instance.status().ToString();
}

}  // namespace
}  // namespace switchyard::plugin
