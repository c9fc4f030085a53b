#include "fake_host.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>

namespace switchyard::exec::testing {
namespace {

std::mutex g_log_mu;
std::vector<std::string> g_log;

SyError* ErrorNew(SyErrorCode code, const char* message) {
  return new SyError{code, message != nullptr ? message : ""};
}

void Log(SyLogLevel /*level*/, const char* message) {
  std::lock_guard<std::mutex> lock(g_log_mu);
  g_log.emplace_back(message);
}

uint32_t RequestCount(const SyBatch* batch) {
  return static_cast<uint32_t>(batch->requests.size());
}

SyError* RequestInput(const SyBatch* batch, uint32_t r, uint32_t i, SyTensor* out) {
  if (r >= batch->requests.size() || i >= batch->requests[r].inputs.size()) {
    return ErrorNew(SY_ERROR_INTERNAL, "fake host: no such input");
  }
  const FakeTensor& t = batch->requests[r].inputs[i];
  out->name = t.name.c_str();
  out->datatype = t.datatype;
  out->shape = t.shape.data();
  out->dim_count = static_cast<uint32_t>(t.shape.size());
  out->data = t.data.data();
  out->byte_size = t.data.size();
  return nullptr;
}

int OutputRequested(const SyBatch* batch, uint32_t r, uint32_t o) {
  const FakeRequest& req = batch->requests.at(r);
  return req.requested.empty() || (o < req.requested.size() && req.requested[o]) ? 1 : 0;
}

SyError* OutputAlloc(SyBatch* batch, uint32_t r, uint32_t o, const int64_t* shape,
                     uint32_t dim_count, uint64_t byte_size, void** data) {
  FakeRequest& req = batch->requests.at(r);
  if (req.outputs.count(o) != 0) return ErrorNew(SY_ERROR_INTERNAL, "fake host: allocated twice");
  FakeOutput& out = req.outputs[o];
  out.shape.assign(shape, shape + dim_count);
  out.data.assign(byte_size, '\xee');
  *data = out.data.data();
  return nullptr;
}

void SetError(SyBatch* batch, uint32_t r, SyError* error) {
  FakeRequest& req = batch->requests.at(r);
  req.error.reset(error);
  req.outputs.clear();
}

uint32_t ParameterCount(const SyBatch* batch, uint32_t r) {
  return r < batch->requests.size() ? static_cast<uint32_t>(batch->requests[r].parameters.size())
                                    : 0;
}

SyError* Parameter(const SyBatch* batch, uint32_t r, uint32_t i, const char** key,
                   const char** value) {
  if (r >= batch->requests.size() || i >= batch->requests[r].parameters.size()) {
    return ErrorNew(SY_ERROR_INVALID_ARGUMENT, "fake host: no such parameter");
  }
  *key = batch->requests[r].parameters[i].first.c_str();
  *value = batch->requests[r].parameters[i].second.c_str();
  return nullptr;
}

int Cancelled(const SyBatch* batch, uint32_t r) {
  return r < batch->requests.size() ? batch->requests[r].cancelled->load() : SY_NOT_CANCELLED;
}

void Progress(const SyBatch* batch, uint32_t r, double fraction, const char* message) {
  if (r >= batch->requests.size()) return;
  std::lock_guard<std::mutex> lock(ProgressMutex());
  const_cast<SyBatch*>(batch)->requests[r].progress.emplace_back(fraction, message);
}

const SyHostApi kHost = {.struct_size = sizeof(SyHostApi),
                         .api_version = SY_BACKEND_API_VERSION,
                         .error_new = ErrorNew,
                         .log = Log,
                         .batch_request_count = RequestCount,
                         .request_input = RequestInput,
                         .request_output_requested = OutputRequested,
                         .request_output_alloc = OutputAlloc,
                         .request_set_error = SetError,
                         .request_parameter_count = ParameterCount,
                         .request_parameter = Parameter,
                         .request_cancelled = Cancelled,
                         .request_progress = Progress};

template <typename F>
void Resolve(void* handle, const char* name, F* fn) {
  *fn = reinterpret_cast<F>(dlsym(handle, name));
  ASSERT_NE(*fn, nullptr) << "plugin does not export " << name;
}

}  // namespace

const SyHostApi* FakeHostApi() { return &kHost; }

std::mutex& ProgressMutex() {
  static std::mutex mu;
  return mu;
}

std::vector<std::string> LoggedLines() {
  std::lock_guard<std::mutex> lock(g_log_mu);
  return g_log;
}

PluginAbi LoadPlugin(const std::string& path) {
  PluginAbi abi;
  abi.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(abi.handle, nullptr) << dlerror();
  if (abi.handle == nullptr) return abi;
  Resolve(abi.handle, "SyBackendApiVersion", &abi.api_version);
  Resolve(abi.handle, "SyBackendInit", &abi.backend_init);
  Resolve(abi.handle, "SyBackendFini", &abi.backend_fini);
  Resolve(abi.handle, "SyModelInit", &abi.model_init);
  Resolve(abi.handle, "SyModelFini", &abi.model_fini);
  Resolve(abi.handle, "SyInstanceInit", &abi.instance_init);
  Resolve(abi.handle, "SyInstanceFini", &abi.instance_fini);
  Resolve(abi.handle, "SyInstanceExecute", &abi.instance_execute);
  Resolve(abi.handle, "SyInstanceConcurrency", &abi.instance_concurrency);
  return abi;
}

const SyModelDesc& FakeModel::Desc() {
  input_specs_.clear();
  output_specs_.clear();
  params_.clear();
  for (const Spec& s : inputs) {
    input_specs_.push_back(
        {s.name.c_str(), s.datatype, s.dims.data(), static_cast<uint32_t>(s.dims.size())});
  }
  for (const Spec& s : outputs) {
    output_specs_.push_back(
        {s.name.c_str(), s.datatype, s.dims.data(), static_cast<uint32_t>(s.dims.size())});
  }
  for (const auto& [k, v] : parameters) params_.push_back({k.c_str(), v.c_str()});
  std::memset(&desc_, 0, sizeof(desc_));
  desc_.struct_size = sizeof(SyModelDesc);
  desc_.name = name.c_str();
  desc_.version = 1;
  desc_.model_dir = model_dir.c_str();
  desc_.version_dir = version_dir.c_str();
  desc_.max_batch_size = max_batch_size;
  desc_.inputs = input_specs_.data();
  desc_.input_count = static_cast<uint32_t>(input_specs_.size());
  desc_.outputs = output_specs_.data();
  desc_.output_count = static_cast<uint32_t>(output_specs_.size());
  desc_.parameters = params_.data();
  desc_.parameter_count = static_cast<uint32_t>(params_.size());
  return desc_;
}

}  // namespace switchyard::exec::testing
