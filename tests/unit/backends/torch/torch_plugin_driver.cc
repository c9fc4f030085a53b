// A stand-alone driver of a backend plugin through the C ABI alone (include/switchyard/: backend.h
// and the header-only backend_sdk/datatype.h; and libdl: no switchyard library, no gtest, no torch
// headers), for machines where only the plugin is built, such as a GPU machine with pip's CUDA
// libtorch:
//
//   g++ -std=c++17 -O2 -I include tests/unit/backends/torch/torch_plugin_driver.cc -ldl
//       -o torch_plugin_driver
//   ./torch_plugin_driver --plugin build-torch/backends/libswitchyard_backend_torch.so
//       --model-file models/resnet50/1/model.pt --max-batch 128 --gpus 1
//       --input input:FP16:3,224,224 --output logits:FP16:1000
//       --requests 32 --rows 1 --iterations 50 [--param cuda_graph_batch_sizes=32] [--check
//       add_sub] [--shared-inputs 1] [--idle-us 300] [--warm-rows 128]
//
// It runs `iterations` batches of `requests` requests of `rows` rows each (inputs filled with
// (i % 7) in the input's datatype), prints the per-batch time (mean and median) and rows/s
// after the first few batches (warm-up), and one checksum per output (sum of request 0's elements
// as double) so that two runs (e.g. with and without CUDA graphs) can be compared. `--check
// add_sub` verifies OUTPUT0 = INPUT0 + INPUT1 and OUTPUT1 = INPUT0 - INPUT1 (FP32) for every
// request and exits 1 on a mismatch. `--shared-inputs 1` puts every request's inputs end to end in
// one page-aligned buffer (input by input, as a worker's shared-memory slot holds them) and hands
// it to the plugin with SyInstanceHostMemoryMapped, as a worker does: the checksums must not
// change. `--idle-us N` waits N µs before each batch, as a worker waits between the requests of
// a lone client (the default runs batches back to back): asleep, or spinning on the CPU with
// `--idle-spin 1`. `--warm-rows N` first runs three batches of one request of N rows, as the
// server's warm-up at max batch does before the first request. Exit status 1 on any error.

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/backend.h"
#include "switchyard/backend_sdk/datatype.h"

struct SyError {
  SyErrorCode code;
  std::string message;
};

namespace {

struct Spec {
  std::string name;
  SyDataType datatype;
  std::vector<int64_t> dims;
};

struct Request {
  std::vector<std::vector<int64_t>> input_shapes;
  std::vector<std::vector<uint8_t>> input_data;
  std::vector<const uint8_t*> input_at;  // where the plugin reads input i (input_data, or shared)
  std::vector<std::vector<int64_t>> output_shapes;
  std::vector<std::vector<uint8_t>> output_data;
  std::vector<bool> allocated;
  std::unique_ptr<SyError> error;
};

}  // namespace

struct SyBatch {
  const std::vector<Spec>* inputs;
  std::vector<Request>* requests;
};

namespace {

SyError* ErrorNew(SyErrorCode code, const char* message) { return new SyError{code, message}; }
void Log(SyLogLevel level, const char* message) {
  std::fprintf(stderr, "[plugin %d] %s\n", level, message);
}
uint32_t RequestCount(const SyBatch* batch) {
  return static_cast<uint32_t>(batch->requests->size());
}
SyError* RequestInput(const SyBatch* batch, uint32_t request, uint32_t input, SyTensor* out) {
  const Request& r = (*batch->requests)[request];
  const Spec& spec = (*batch->inputs)[input];
  *out = {spec.name.c_str(),
          spec.datatype,
          r.input_shapes[input].data(),
          static_cast<uint32_t>(r.input_shapes[input].size()),
          r.input_at[input],
          r.input_data[input].size()};
  return nullptr;
}
int OutputRequested(const SyBatch*, uint32_t, uint32_t) { return 1; }
SyError* OutputAlloc(SyBatch* batch, uint32_t request, uint32_t output, const int64_t* shape,
                     uint32_t dim_count, uint64_t byte_size, void** data) {
  Request& r = (*batch->requests)[request];
  if (r.allocated[output]) return ErrorNew(SY_ERROR_INVALID_ARGUMENT, "allocated twice");
  r.allocated[output] = true;
  r.output_shapes[output].assign(shape, shape + dim_count);
  r.output_data[output].assign(byte_size, 0xAB);
  *data = r.output_data[output].data();
  return nullptr;
}
void SetError(SyBatch* batch, uint32_t request, SyError* error) {
  (*batch->requests)[request].error.reset(error);
}

const SyHostApi kHost = {sizeof(SyHostApi), SY_BACKEND_API_VERSION, ErrorNew,        Log,
                         RequestCount,      RequestInput,           OutputRequested, OutputAlloc,
                         SetError};

// The datatype named `name` if the torch plugin takes it (not BYTES, no unsigned type wider than 8
// bits), else nullopt.
std::optional<SyDataType> TorchDataType(const std::string& name) {
  const std::optional<SyDataType> type = switchyard::sdk::ParseDataTypeName(name);
  if (!type || *type == SY_TYPE_BYTES || *type == SY_TYPE_UINT16 || *type == SY_TYPE_UINT32 ||
      *type == SY_TYPE_UINT64) {
    return std::nullopt;
  }
  return type;
}

// "name:FP32:3,224,224" (dims may be empty: "name:FP32:").
Spec ParseSpec(const std::string& text) {
  const size_t a = text.find(':');
  const size_t b = text.find(':', a + 1);
  const std::optional<SyDataType> type = a == std::string::npos || b == std::string::npos
                                             ? std::nullopt
                                             : TorchDataType(text.substr(a + 1, b - a - 1));
  if (!type) {
    std::fprintf(stderr, "bad tensor spec '%s' (name:TYPE:d0,d1,...)\n", text.c_str());
    std::exit(1);
  }
  Spec spec{text.substr(0, a), *type, {}};
  std::string dims = text.substr(b + 1);
  size_t start = 0;
  while (start < dims.size()) {
    size_t comma = dims.find(',', start);
    if (comma == std::string::npos) comma = dims.size();
    spec.dims.push_back(std::stoll(dims.substr(start, comma - start)));
    start = comma + 1;
  }
  return spec;
}

// (i % 7) as `type`, little-endian.
void Fill(SyDataType type, std::vector<uint8_t>& bytes) {
  static const uint16_t half_bits[] = {0x0000, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600};
  const size_t size = switchyard::sdk::ElementSize(type);
  for (size_t i = 0; i * size < bytes.size(); ++i) {
    const int v = static_cast<int>(i % 7);
    uint8_t* p = bytes.data() + i * size;
    switch (type) {
      case SY_TYPE_BOOL:
        *p = static_cast<uint8_t>(v % 2);
        break;
      case SY_TYPE_UINT8:
      case SY_TYPE_INT8:
        *p = static_cast<uint8_t>(v);
        break;
      case SY_TYPE_INT16: {
        int16_t x = static_cast<int16_t>(v);
        std::memcpy(p, &x, 2);
        break;
      }
      case SY_TYPE_INT32: {
        int32_t x = v;
        std::memcpy(p, &x, 4);
        break;
      }
      case SY_TYPE_INT64: {
        int64_t x = v;
        std::memcpy(p, &x, 8);
        break;
      }
      case SY_TYPE_FP16:
        std::memcpy(p, &half_bits[v], 2);
        break;
      case SY_TYPE_BF16: {
        float f = static_cast<float>(v);
        uint32_t u;
        std::memcpy(&u, &f, 4);
        uint16_t h = static_cast<uint16_t>(u >> 16);
        std::memcpy(p, &h, 2);
        break;
      }
      case SY_TYPE_FP32: {
        float f = static_cast<float>(v);
        std::memcpy(p, &f, 4);
        break;
      }
      case SY_TYPE_FP64: {
        double d = v;
        std::memcpy(p, &d, 8);
        break;
      }
      default:
        break;
    }
  }
}

double Element(SyDataType type, const uint8_t* p) {
  switch (type) {
    case SY_TYPE_BOOL:
    case SY_TYPE_UINT8:
      return *p;
    case SY_TYPE_INT8:
      return static_cast<int8_t>(*p);
    case SY_TYPE_INT16: {
      int16_t x;
      std::memcpy(&x, p, 2);
      return x;
    }
    case SY_TYPE_INT32: {
      int32_t x;
      std::memcpy(&x, p, 4);
      return x;
    }
    case SY_TYPE_INT64: {
      int64_t x;
      std::memcpy(&x, p, 8);
      return static_cast<double>(x);
    }
    case SY_TYPE_FP16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
      const double value =
          exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
      return (h & 0x8000) ? -value : value;
    }
    case SY_TYPE_BF16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      uint32_t u = uint32_t{h} << 16;
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    case SY_TYPE_FP32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case SY_TYPE_FP64: {
      double d;
      std::memcpy(&d, p, 8);
      return d;
    }
    default:
      return 0;
  }
}

template <typename F>
F Symbol(void* handle, const char* name) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    std::fprintf(stderr, "plugin lacks %s\n", name);
    std::exit(1);
  }
  return reinterpret_cast<F>(symbol);
}

bool Check(SyError* error, const char* what) {
  if (error == nullptr) return true;
  std::fprintf(stderr, "%s failed (code %d): %s\n", what, error->code, error->message.c_str());
  delete error;
  return false;
}

// `count` requests of `rows` rows each (no batch dimension when max_batch is 0), inputs filled.
std::vector<Request> MakeRequests(const std::vector<Spec>& inputs, int max_batch, int count,
                                  int rows) {
  std::vector<Request> requests(static_cast<size_t>(count));
  for (Request& r : requests) {
    for (const Spec& s : inputs) {
      std::vector<int64_t> shape = s.dims;
      if (max_batch > 0) shape.insert(shape.begin(), rows);
      size_t elements = 1;
      for (int64_t d : shape) elements *= static_cast<size_t>(d);
      r.input_shapes.push_back(shape);
      r.input_data.emplace_back(elements * switchyard::sdk::ElementSize(s.datatype));
      Fill(s.datatype, r.input_data.back());
      r.input_at.push_back(r.input_data.back().data());
    }
  }
  return requests;
}

// Clears the outputs and errors a previous execute left in `requests`.
void ResetOutputs(size_t output_count, std::vector<Request>* requests) {
  for (Request& r : *requests) {
    r.output_shapes.assign(output_count, {});
    r.output_data.assign(output_count, {});
    r.allocated.assign(output_count, false);
    r.error.reset();
  }
}

// Whether no request of an executed batch failed; prints each one that did.
bool AllSucceeded(const std::vector<Request>& requests) {
  bool ok = true;
  for (size_t r = 0; r < requests.size(); ++r) {
    if (requests[r].error) {
      std::fprintf(stderr, "request %zu failed: %s\n", r, requests[r].error->message.c_str());
      ok = false;
    }
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string plugin_path, model_file, check;
  int max_batch = 0, gpus = 0, requests = 1, rows = 1, iterations = 10, shared_inputs = 0;
  int idle_us = 0, idle_spin = 0, warm_rows = 0;
  std::vector<Spec> inputs, outputs;
  std::vector<std::pair<std::string, std::string>> params;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--plugin")
      plugin_path = value;
    else if (flag == "--model-file")
      model_file = value;
    else if (flag == "--max-batch")
      max_batch = std::stoi(value);
    else if (flag == "--gpus")
      gpus = std::stoi(value);
    else if (flag == "--requests")
      requests = std::stoi(value);
    else if (flag == "--rows")
      rows = std::stoi(value);
    else if (flag == "--iterations")
      iterations = std::stoi(value);
    else if (flag == "--input")
      inputs.push_back(ParseSpec(value));
    else if (flag == "--output")
      outputs.push_back(ParseSpec(value));
    else if (flag == "--shared-inputs")
      shared_inputs = std::stoi(value);
    else if (flag == "--idle-us")
      idle_us = std::stoi(value);
    else if (flag == "--warm-rows")
      warm_rows = std::stoi(value);
    else if (flag == "--idle-spin")
      idle_spin = std::stoi(value);
    else if (flag == "--check")
      check = value;
    else if (flag == "--param") {
      const size_t eq = value.find('=');
      params.emplace_back(value.substr(0, eq), eq == std::string::npos ? "" : value.substr(eq + 1));
    } else {
      std::fprintf(stderr, "unknown flag %s (see the comment at the top of the source)\n",
                   flag.c_str());
      return 1;
    }
  }
  params.emplace_back("model_file", model_file);

  void* handle = dlopen(plugin_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  auto backend_init = Symbol<decltype(&SyBackendInit)>(handle, "SyBackendInit");
  auto backend_fini = Symbol<decltype(&SyBackendFini)>(handle, "SyBackendFini");
  auto model_init = Symbol<decltype(&SyModelInit)>(handle, "SyModelInit");
  auto model_fini = Symbol<decltype(&SyModelFini)>(handle, "SyModelFini");
  auto instance_init = Symbol<decltype(&SyInstanceInit)>(handle, "SyInstanceInit");
  auto instance_fini = Symbol<decltype(&SyInstanceFini)>(handle, "SyInstanceFini");
  auto execute = Symbol<decltype(&SyInstanceExecute)>(handle, "SyInstanceExecute");
  auto memory = Symbol<decltype(&SyInstanceDeviceMemory)>(handle, "SyInstanceDeviceMemory");

  std::vector<SyTensorSpec> input_specs, output_specs;
  for (const Spec& s : inputs)
    input_specs.push_back(
        {s.name.c_str(), s.datatype, s.dims.data(), static_cast<uint32_t>(s.dims.size())});
  for (const Spec& s : outputs)
    output_specs.push_back(
        {s.name.c_str(), s.datatype, s.dims.data(), static_cast<uint32_t>(s.dims.size())});
  std::vector<SyParameter> parameters;
  for (const auto& p : params) parameters.push_back({p.first.c_str(), p.second.c_str()});
  const SyModelDesc desc = {sizeof(SyModelDesc),
                            "driver",
                            1,
                            "/",
                            "/",
                            max_batch,
                            input_specs.data(),
                            static_cast<uint32_t>(input_specs.size()),
                            output_specs.data(),
                            static_cast<uint32_t>(output_specs.size()),
                            parameters.data(),
                            static_cast<uint32_t>(parameters.size())};
  const SyInstanceDesc instance_desc = {sizeof(SyInstanceDesc), "driver/0", 0, gpus};

  void* backend = nullptr;
  void* model = nullptr;
  void* instance = nullptr;
  const auto load_start = std::chrono::steady_clock::now();
  if (!Check(backend_init(&kHost, &backend), "SyBackendInit") ||
      !Check(model_init(backend, &desc, &model), "SyModelInit") ||
      !Check(instance_init(model, &instance_desc, &instance), "SyInstanceInit")) {
    return 1;
  }
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  uint64_t bytes = 0;
  Check(memory(instance, &bytes), "SyInstanceDeviceMemory");
  std::printf("loaded in %.2f s; device memory %.1f MiB\n", load_s, bytes / 1048576.0);

  std::vector<Request> batch_requests = MakeRequests(inputs, max_batch, requests, rows);
  std::unique_ptr<uint8_t, decltype(&std::free)> shared(nullptr, &std::free);
  size_t shared_size = 0;
  if (shared_inputs != 0) {
    for (const Request& r : batch_requests) {
      for (const auto& data : r.input_data) shared_size += data.size();
    }
    shared_size = (shared_size + 4095) / 4096 * 4096;
    shared.reset(static_cast<uint8_t*>(std::aligned_alloc(4096, shared_size)));
    uint8_t* next = shared.get();
    for (size_t i = 0; i < inputs.size(); ++i) {
      for (Request& r : batch_requests) {
        std::memcpy(next, r.input_data[i].data(), r.input_data[i].size());
        r.input_at[i] = next;
        next += r.input_data[i].size();
      }
    }
    auto mapped =
        Symbol<decltype(&SyInstanceHostMemoryMapped)>(handle, "SyInstanceHostMemoryMapped");
    if (!Check(mapped(instance, shared.get(), shared_size), "SyInstanceHostMemoryMapped")) {
      return 1;
    }
  }
  if (warm_rows > 0) {
    std::vector<Request> warm = MakeRequests(inputs, max_batch, 1, warm_rows);
    for (int it = 0; it < 3; ++it) {
      ResetOutputs(outputs.size(), &warm);
      SyBatch batch{&inputs, &warm};
      if (!Check(execute(instance, &batch), "SyInstanceExecute (--warm-rows)") ||
          !AllSucceeded(warm)) {
        return 1;
      }
    }
  }
  const int warmup = iterations > 4 ? 3 : 0;
  double timed_s = 0;
  std::vector<double> batch_s;
  for (int it = 0; it < iterations; ++it) {
    ResetOutputs(outputs.size(), &batch_requests);
    SyBatch batch{&inputs, &batch_requests};
    if (idle_us > 0 && idle_spin == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(idle_us));
    } else if (idle_us > 0) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(idle_us);
      while (std::chrono::steady_clock::now() < until) {
      }
    }
    const auto start = std::chrono::steady_clock::now();
    if (!Check(execute(instance, &batch), "SyInstanceExecute")) return 1;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (it >= warmup) {
      timed_s += s;
      batch_s.push_back(s);
    }
    if (!AllSucceeded(batch_requests)) return 1;
  }
  const int timed = iterations - warmup;
  const double total_rows = static_cast<double>(requests) * (max_batch > 0 ? rows : 1) * timed;
  std::sort(batch_s.begin(), batch_s.end());
  const double p50_s = batch_s.empty() ? 0 : batch_s[batch_s.size() / 2];
  std::printf(
      "%d requests x %d rows: %.3f ms per batch, p50 %.3f ms, %.1f rows/s (%d timed batches)\n",
      requests, max_batch > 0 ? rows : 1, 1000 * timed_s / timed, 1000 * p50_s,
      total_rows / timed_s, timed);
  for (size_t o = 0; o < outputs.size(); ++o) {
    const Request& r = batch_requests[0];
    double sum = 0;
    const size_t size = switchyard::sdk::ElementSize(outputs[o].datatype);
    for (size_t i = 0; i * size < r.output_data[o].size(); ++i)
      sum += Element(outputs[o].datatype, &r.output_data[o][i * size]);
    std::string shape;
    for (int64_t d : r.output_shapes[o]) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    std::printf("output %s [%s] checksum %.6g\n", outputs[o].name.c_str(), shape.c_str(), sum);
  }
  if (check == "add_sub") {
    for (size_t q = 0; q < batch_requests.size(); ++q) {
      const Request& r = batch_requests[q];
      for (size_t i = 0; i * 4 < r.input_data[0].size(); ++i) {
        const double a = Element(SY_TYPE_FP32, &r.input_data[0][i * 4]);
        const double b = Element(SY_TYPE_FP32, &r.input_data[1][i * 4]);
        if (Element(SY_TYPE_FP32, &r.output_data[0][i * 4]) != a + b ||
            Element(SY_TYPE_FP32, &r.output_data[1][i * 4]) != a - b) {
          std::fprintf(stderr, "add_sub mismatch in request %zu element %zu\n", q, i);
          return 1;
        }
      }
    }
    std::printf("add_sub check passed for %d requests\n", requests);
  }
  if (shared) {
    Symbol<decltype(&SyInstanceHostMemoryUnmapping)>(handle, "SyInstanceHostMemoryUnmapping")(
        instance, shared.get());
  }
  instance_fini(instance);
  model_fini(model);
  backend_fini(backend);
  return 0;
}
