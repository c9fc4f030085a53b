#pragma once
// A host for exec plugin tests: implements the SyHostApi table over plain structs and loads a
// plugin with dlopen, so the plugin is tested through its C ABI exactly as a worker uses it
// (without the server's own plugin host, src/plugin/).

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchyard/backend.h"

struct SyError {
  SyErrorCode code;
  std::string message;
};

namespace switchyard::exec::testing {

struct FakeTensor {
  std::string name;
  SyDataType datatype;
  std::vector<int64_t> shape;
  std::string data;
};

struct FakeOutput {
  std::vector<int64_t> shape;
  std::string data;
};

struct FakeRequest {
  std::vector<FakeTensor> inputs;          // in config order
  std::vector<bool> requested;             // per config output; empty: all
  std::map<uint32_t, FakeOutput> outputs;  // by config output index
  std::unique_ptr<SyError> error;
  std::vector<std::pair<std::string, std::string>> parameters;  // the client's
  // Its SyCancelState; a test may set it from another thread while the batch executes.
  std::shared_ptr<std::atomic<int>> cancelled = std::make_shared<std::atomic<int>>(0);
  // The progress reports it got (request_progress), in order; the host's mutex guards it.
  std::vector<std::pair<double, std::string>> progress;
};

// Guards FakeRequest::progress (reports may come from any thread).
std::mutex& ProgressMutex();

}  // namespace switchyard::exec::testing

struct SyBatch {
  std::vector<switchyard::exec::testing::FakeRequest> requests;
};

namespace switchyard::exec::testing {

// The host table; log lines are collected for inspection.
const SyHostApi* FakeHostApi();
std::vector<std::string> LoggedLines();

// The plugin's exported functions.
struct PluginAbi {
  void* handle = nullptr;
  uint32_t (*api_version)(void);
  SyError* (*backend_init)(const SyHostApi*, void**);
  void (*backend_fini)(void*);
  SyError* (*model_init)(void*, const SyModelDesc*, void**);
  void (*model_fini)(void*);
  SyError* (*instance_init)(void*, const SyInstanceDesc*, void**);
  void (*instance_fini)(void*);
  SyError* (*instance_execute)(void*, SyBatch*);
  uint32_t (*instance_concurrency)(void*);
};

// dlopens `path` and resolves the ABI; aborts the test on failure.
PluginAbi LoadPlugin(const std::string& path);

// A model description that owns its strings and arrays.
struct FakeModel {
  std::string name = "test_model";
  std::string model_dir;
  std::string version_dir;
  int32_t max_batch_size = 0;
  struct Spec {
    std::string name;
    SyDataType datatype;
    std::vector<int64_t> dims;
  };
  std::vector<Spec> inputs;
  std::vector<Spec> outputs;
  std::vector<std::pair<std::string, std::string>> parameters;

  // Valid while this FakeModel is alive and unchanged.
  const SyModelDesc& Desc();

 private:
  std::vector<SyTensorSpec> input_specs_, output_specs_;
  std::vector<SyParameter> params_;
  SyModelDesc desc_;
};

}  // namespace switchyard::exec::testing
