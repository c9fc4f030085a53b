// cuda_backend_smoke: loads the cuda backend plugin the way a switchyard worker does (dlopen, the
// C ABI, a minimal host) and checks it on a real GPU: identity outputs, the spin workload's
// duration, that two instances on one GPU take turns, the GEMM workload, device memory reports and
// config errors. Prints a table; exits 1 if a check fails. Needs a GPU, so it is a tool for the
// GPU machine, not a ctest.
//
//   cuda_backend_smoke [path/to/libswitchyard_backend_cuda.so]

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/backend.h"

// ---- A minimal host. ----

struct SyError {
  SyErrorCode code;
  std::string message;
};

namespace {

struct Request {
  std::vector<int64_t> shape;  // of the one FP32 input, batch dimension first
  std::vector<float> input;
  std::vector<int64_t> output_shape;
  std::vector<float> output;
  SyError* error = nullptr;
};

}  // namespace

struct SyBatch {
  std::vector<Request>* requests;
};

namespace {

SyError* ErrorNew(SyErrorCode code, const char* message) { return new SyError{code, message}; }
void Log(SyLogLevel, const char* message) { std::printf("  [plugin] %s\n", message); }
uint32_t RequestCount(const SyBatch* batch) {
  return static_cast<uint32_t>(batch->requests->size());
}
SyError* RequestInput(const SyBatch* batch, uint32_t request, uint32_t input, SyTensor* out) {
  if (input != 0) return ErrorNew(SY_ERROR_INTERNAL, "no such input");
  const Request& r = (*batch->requests)[request];
  *out = SyTensor{.name = "in",
                  .datatype = SY_TYPE_FP32,
                  .shape = r.shape.data(),
                  .dim_count = static_cast<uint32_t>(r.shape.size()),
                  .data = r.input.data(),
                  .byte_size = r.input.size() * sizeof(float)};
  return nullptr;
}
int OutputRequested(const SyBatch*, uint32_t, uint32_t) { return 1; }
SyError* OutputAlloc(SyBatch* batch, uint32_t request, uint32_t output, const int64_t* shape,
                     uint32_t dim_count, uint64_t byte_size, void** data) {
  Request& r = (*batch->requests)[request];
  if (output != 0 || !r.output_shape.empty()) return ErrorNew(SY_ERROR_INTERNAL, "bad output");
  r.output_shape.assign(shape, shape + dim_count);
  r.output.resize(byte_size / sizeof(float));
  *data = r.output.data();
  return nullptr;
}
void SetError(SyBatch* batch, uint32_t request, SyError* error) {
  (*batch->requests)[request].error = error;
}

const SyHostApi kHost = {
    .struct_size = sizeof(SyHostApi),
    .api_version = SY_BACKEND_API_VERSION,
    .error_new = ErrorNew,
    .log = Log,
    .batch_request_count = RequestCount,
    .request_input = RequestInput,
    .request_output_requested = OutputRequested,
    .request_output_alloc = OutputAlloc,
    .request_set_error = SetError,
};

struct Plugin {
  decltype(&SyBackendApiVersion) api_version;
  decltype(&SyBackendInit) backend_init;
  decltype(&SyBackendFini) backend_fini;
  decltype(&SyModelInit) model_init;
  decltype(&SyModelFini) model_fini;
  decltype(&SyInstanceInit) instance_init;
  decltype(&SyInstanceFini) instance_fini;
  decltype(&SyInstanceExecute) execute;
  decltype(&SyInstanceDeviceMemory) device_memory;
};

int failures = 0;

void Check(bool ok, const std::string& what) {
  std::printf("%-6s %s\n", ok ? "ok" : "FAIL", what.c_str());
  if (!ok) ++failures;
}

std::string Take(SyError* error) {
  if (error == nullptr) return "";
  std::string message = error->message;
  delete error;
  return message.empty() ? "(empty error)" : message;
}

// A model with one FP32 input "in" [4] mirrored to "out" [4], batching up to 64 items.
struct Model {
  void* state = nullptr;
  std::string error;
};

Model LoadModel(const Plugin& plugin, void* backend,
                const std::vector<std::pair<const char*, const char*>>& parameters) {
  static const int64_t kDims[] = {4};
  SyTensorSpec in = {.name = "in", .datatype = SY_TYPE_FP32, .dims = kDims, .dim_count = 1};
  SyTensorSpec out = {.name = "out", .datatype = SY_TYPE_FP32, .dims = kDims, .dim_count = 1};
  std::vector<SyParameter> params;
  for (const auto& [key, value] : parameters) params.push_back({key, value});
  SyModelDesc desc = {.struct_size = sizeof(SyModelDesc),
                      .name = "smoke",
                      .version = 1,
                      .model_dir = "/nonexistent",
                      .version_dir = "/nonexistent/1",
                      .max_batch_size = 64,
                      .inputs = &in,
                      .input_count = 1,
                      .outputs = &out,
                      .output_count = 1,
                      .parameters = params.data(),
                      .parameter_count = static_cast<uint32_t>(params.size())};
  Model model;
  model.error = Take(plugin.model_init(backend, &desc, &model.state));
  return model;
}

void* NewInstance(const Plugin& plugin, void* model, int index, int gpus, std::string* error) {
  const std::string name = "smoke/" + std::to_string(index);
  SyInstanceDesc desc = {.struct_size = sizeof(SyInstanceDesc),
                         .name = name.c_str(),
                         .index = index,
                         .gpu_count = gpus};
  void* state = nullptr;
  *error = Take(plugin.instance_init(model, &desc, &state));
  return state;
}

// Requests of the given batch sizes with distinct values.
std::vector<Request> MakeRequests(const std::vector<int64_t>& sizes) {
  std::vector<Request> requests;
  float value = 0.5f;
  for (int64_t size : sizes) {
    Request r;
    r.shape = {size, 4};
    for (int64_t i = 0; i < size * 4; ++i) r.input.push_back(value += 1.25f);
    requests.push_back(std::move(r));
  }
  return requests;
}

// Runs one batch; true if it succeeded and every output equals its input.
bool RunIdentity(const Plugin& plugin, void* instance, std::vector<Request>* requests,
                 std::string* error) {
  SyBatch batch{requests};
  *error = Take(plugin.execute(instance, &batch));
  if (!error->empty()) return false;
  for (Request& r : *requests) {
    if (r.error != nullptr) {
      *error = Take(r.error);
      return false;
    }
    if (r.output_shape != r.shape || r.output != r.input) {
      *error = "output differs from input";
      return false;
    }
  }
  return true;
}

// Median wall time of `runs` batches of `sizes`, milliseconds.
double MedianMs(const Plugin& plugin, void* instance, const std::vector<int64_t>& sizes, int runs,
                bool* identity_ok) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    std::vector<Request> requests = MakeRequests(sizes);
    std::string error;
    auto start = std::chrono::steady_clock::now();
    bool ok = RunIdentity(plugin, instance, &requests, &error);
    auto end = std::chrono::steady_clock::now();
    if (!ok) {
      std::printf("       batch failed: %s\n", error.c_str());
      *identity_ok = false;
    }
    times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "./backends/libswitchyard_backend_cuda.so";
  void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    std::fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
    return 2;
  }
  Plugin plugin = {
      reinterpret_cast<decltype(&SyBackendApiVersion)>(dlsym(library, "SyBackendApiVersion")),
      reinterpret_cast<decltype(&SyBackendInit)>(dlsym(library, "SyBackendInit")),
      reinterpret_cast<decltype(&SyBackendFini)>(dlsym(library, "SyBackendFini")),
      reinterpret_cast<decltype(&SyModelInit)>(dlsym(library, "SyModelInit")),
      reinterpret_cast<decltype(&SyModelFini)>(dlsym(library, "SyModelFini")),
      reinterpret_cast<decltype(&SyInstanceInit)>(dlsym(library, "SyInstanceInit")),
      reinterpret_cast<decltype(&SyInstanceFini)>(dlsym(library, "SyInstanceFini")),
      reinterpret_cast<decltype(&SyInstanceExecute)>(dlsym(library, "SyInstanceExecute")),
      reinterpret_cast<decltype(&SyInstanceDeviceMemory)>(dlsym(library, "SyInstanceDeviceMemory")),
  };
  Check(plugin.api_version != nullptr && plugin.backend_init && plugin.backend_fini &&
            plugin.model_init && plugin.model_fini && plugin.instance_init &&
            plugin.instance_fini && plugin.execute && plugin.device_memory,
        "the plugin exports the ABI");
  if (failures > 0) return 1;
  Check(plugin.api_version() == SY_BACKEND_API_VERSION, "API version");
  void* backend = nullptr;
  std::string error = Take(plugin.backend_init(&kHost, &backend));
  Check(error.empty(), "SyBackendInit " + error);

  // Config errors.
  Model bad = LoadModel(plugin, backend, {{"workload", "sleep"}});
  Check(!bad.error.empty(), "bad workload refused: " + bad.error);
  Model mixed = LoadModel(plugin, backend, {{"workload", "gemm"}, {"per_item_us", "1"}});
  Check(!mixed.error.empty(), "spin key with gemm refused: " + mixed.error);

  // Spin: 2000 us + 100 us per item.
  Model spin = LoadModel(
      plugin, backend, {{"workload", "spin"}, {"service_time_us", "2000"}, {"per_item_us", "100"}});
  Check(spin.error.empty(), "spin model loads " + spin.error);
  void* cpu = NewInstance(plugin, spin.state, 9, 0, &error);
  Check(cpu == nullptr && !error.empty(), "CPU instance refused: " + error);
  void* a = NewInstance(plugin, spin.state, 0, 1, &error);
  Check(a != nullptr, "spin instance 0 " + error);
  void* b = NewInstance(plugin, spin.state, 1, 1, &error);
  Check(b != nullptr, "spin instance 1 " + error);
  if (a == nullptr || b == nullptr) return 1;
  bool identity = true;
  MedianMs(plugin, a, {1}, 3, &identity);  // warm up (module load)
  const double one = MedianMs(plugin, a, {1}, 21, &identity);
  const double full = MedianMs(plugin, a, {16, 16, 32}, 21, &identity);
  Check(identity, "identity outputs (spin)");
  std::printf("       spin, 1 item:   %.3f ms (kernel 2.1 ms)\n", one);
  std::printf("       spin, 64 items: %.3f ms (kernel 8.4 ms)\n", full);
  Check(one >= 2.1 && one < 2.1 * 1.5 + 1, "1-item batch takes about 2.1 ms");
  Check(full >= 8.4 && full < 8.4 * 1.5 + 1, "64-item batch takes about 8.4 ms");
  // Two instances of one GPU, each on its own thread: the kernels take turns.
  auto start = std::chrono::steady_clock::now();
  std::thread other([&] {
    bool ok = true;
    MedianMs(plugin, b, {64}, 10, &ok);
  });
  MedianMs(plugin, a, {64}, 10, &identity);
  other.join();
  const double both =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("       2 instances x 10 batches of 8.4 ms at once: %.1f ms (serial: 168)\n", both);
  Check(both >= 168 * 0.95, "two instances on one GPU take turns");
  uint64_t bytes = 0;
  error = Take(plugin.device_memory(a, &bytes));
  Check(error.empty() && bytes == 64 * 4 * 4,
        "spin instance reports its I/O buffer: " + std::to_string(bytes) + " bytes " + error);
  plugin.instance_fini(a);
  plugin.instance_fini(b);
  plugin.model_fini(spin.state);

  // GEMM 4096^3 fp16 (the default).
  Model gemm = LoadModel(plugin, backend, {{"workload", "gemm"}});
  Check(gemm.error.empty(), "gemm model loads " + gemm.error);
  void* g = NewInstance(plugin, gemm.state, 0, 1, &error);
  Check(g != nullptr, "gemm instance " + error);
  if (g != nullptr) {
    identity = true;
    MedianMs(plugin, g, {8}, 3, &identity);
    const double ms = MedianMs(plugin, g, {8}, 51, &identity);
    Check(identity, "identity outputs (gemm)");
    std::printf("       gemm 4096x4096x4096 fp16: %.3f ms per batch, %.0f TFLOP/s (with copies)\n",
                ms, 2.0 * 4096 * 4096 * 4096 / (ms * 1e-3) / 1e12);
    error = Take(plugin.device_memory(g, &bytes));
    // A, B, C of 4096 x 4096 fp16 (32 MiB each), the 32 MiB workspace, the I/O buffer.
    Check(error.empty() && bytes == 4 * (32ull << 20) + 64 * 4 * 4,
          "gemm instance reports matrices, workspace and buffer: " + std::to_string(bytes) +
              " bytes " + error);
    plugin.instance_fini(g);
  }
  plugin.model_fini(gemm.state);
  plugin.backend_fini(backend);
  std::printf("%s\n", failures == 0 ? "all checks passed" : "SOME CHECKS FAILED");
  return failures == 0 ? 0 : 1;
}
