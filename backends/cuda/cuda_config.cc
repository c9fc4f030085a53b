#include "cuda_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <string_view>

#include "switchyard/backend_sdk/datatype.h"

namespace switchyard::cuda_backend {
namespace {

constexpr const char* kKeys =
    "workload, service_time_us, per_item_us, gemm_m, gemm_n, gemm_k, "
    "gemm_dtype, fault_on_value";

std::string Quote(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string ParameterError(std::string_view key, std::string_view what) {
  return "parameter " + Quote(key) + ": " + std::string(what);
}

// A finite decimal number in [0, max] (no sign, no exponent-only junk after it).
bool ParseNumber(std::string_view text, double max, double* value) {
  if (text.empty() || text.front() == '+' || text.front() == '-') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*value) &&
         *value >= 0 && *value <= max;
}

bool ParseInteger(std::string_view text, int64_t min, int64_t max, int64_t* value) {
  if (text.empty() || text.front() == '+' || text.front() == '-') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && *value >= min && *value <= max;
}

std::string FormatLimit(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

std::string DimsText(const int64_t* dims, uint32_t count) {
  std::string text = "[";
  for (uint32_t i = 0; i < count; ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

}  // namespace

uint64_t CudaParams::SpinNanoseconds(int64_t items) const {
  const double us =
      service_time_us + per_item_us * static_cast<double>(std::max<int64_t>(0, items));
  return static_cast<uint64_t>(std::llround(us * 1000.0));
}

int64_t CudaParams::GemmElementBytes() const { return gemm_dtype == GemmType::kFp32 ? 4 : 2; }

int64_t CudaParams::GemmBytes() const {
  return (gemm_m * gemm_k + gemm_k * gemm_n + gemm_m * gemm_n) * GemmElementBytes();
}

int64_t ModelInfo::MaxBatchInputBytes() const {
  const int64_t items = std::max<int64_t>(1, max_batch_size);
  int64_t total = 0;
  for (const IoTensor& input : inputs) {
    auto bytes = static_cast<int64_t>(sdk::ElementSize(input.datatype));
    if (bytes == 0) return -1;
    for (int64_t dim : input.dims) {
      if (dim < 0) return -1;
      bytes *= dim;
    }
    total += bytes * items;
  }
  return total;
}

std::string ParseCudaParams(const SyParameter* parameters, uint32_t count, CudaParams* params) {
  *params = CudaParams();
  std::set<std::string, std::less<>> seen;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string_view key = parameters[i].key != nullptr ? parameters[i].key : "";
    const std::string_view value = parameters[i].value != nullptr ? parameters[i].value : "";
    if (!seen.emplace(key).second) return ParameterError(key, "given twice");
    if (key == "workload") {
      if (value == "spin") {
        params->workload = Workload::kSpin;
      } else if (value == "gemm") {
        params->workload = Workload::kGemm;
      } else {
        return ParameterError(key, "expected spin or gemm, got " + Quote(value));
      }
    } else if (key == "service_time_us" || key == "per_item_us") {
      const double max = key == "service_time_us" ? kMaxServiceTimeUs : kMaxPerItemUs;
      double* field = key == "service_time_us" ? &params->service_time_us : &params->per_item_us;
      if (!ParseNumber(value, max, field)) {
        return ParameterError(key, "expected a number of microseconds in [0, " + FormatLimit(max) +
                                       "], got " + Quote(value));
      }
    } else if (key == "gemm_m" || key == "gemm_n" || key == "gemm_k") {
      int64_t* field = key == "gemm_m"   ? &params->gemm_m
                       : key == "gemm_n" ? &params->gemm_n
                                         : &params->gemm_k;
      if (!ParseInteger(value, 1, kMaxGemmDim, field)) {
        return ParameterError(key, "expected an integer in [1, " + std::to_string(kMaxGemmDim) +
                                       "], got " + Quote(value));
      }
    } else if (key == "gemm_dtype") {
      if (value == "fp16") {
        params->gemm_dtype = GemmType::kFp16;
      } else if (value == "bf16") {
        params->gemm_dtype = GemmType::kBf16;
      } else if (value == "fp32") {
        params->gemm_dtype = GemmType::kFp32;
      } else {
        return ParameterError(key, "expected fp16, bf16 or fp32, got " + Quote(value));
      }
    } else if (key == "fault_on_value") {
      float number = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(number)) {
        return ParameterError(key, "expected a number, got " + Quote(value));
      }
      params->fault_on_value = number;
    } else {
      return "unknown parameter " + Quote(key) + " (the cuda backend takes " + kKeys + ")";
    }
  }
  const bool gemm = params->workload == Workload::kGemm;
  for (const std::string& key : seen) {
    const bool gemm_key = key.rfind("gemm_", 0) == 0;
    if (key != "workload" && key != "fault_on_value" && gemm_key != gemm) {
      return ParameterError(key, std::string("applies to workload ") + (gemm ? "spin" : "gemm") +
                                     " only (workload is " + (gemm ? "gemm" : "spin") + ")");
    }
  }
  if (gemm && params->GemmBytes() > kMaxGemmBytes) {
    return "parameters gemm_m, gemm_n, gemm_k: the matrices would take " +
           std::to_string(params->GemmBytes() >> 20) + " MiB (at most " +
           std::to_string(kMaxGemmBytes >> 20) + " MiB)";
  }
  return "";
}

std::string DescribeModel(const SyModelDesc& desc, ModelInfo* info) {
  *info = ModelInfo();
  info->name = desc.name != nullptr ? desc.name : "";
  const std::string model = "model " + Quote(info->name) + ": ";
  info->max_batch_size = desc.max_batch_size;
  if (std::string error = ParseCudaParams(desc.parameters, desc.parameter_count, &info->params);
      !error.empty()) {
    return model + error;
  }
  if (desc.output_count != desc.input_count) {
    return model +
           "the cuda backend copies each input to the output at the same position, so "
           "it needs as many outputs as inputs (" +
           std::to_string(desc.input_count) + " inputs, " + std::to_string(desc.output_count) +
           " outputs)";
  }
  for (uint32_t i = 0; i < desc.input_count; ++i) {
    const SyTensorSpec& in = desc.inputs[i];
    const SyTensorSpec& out = desc.outputs[i];
    const bool same_dims =
        in.dim_count == out.dim_count && std::equal(in.dims, in.dims + in.dim_count, out.dims);
    if (in.datatype != out.datatype || !same_dims) {
      return model + "output " + Quote(out.name != nullptr ? out.name : "") + " (" +
             std::string(sdk::DataTypeName(out.datatype, "unknown")) + " " +
             DimsText(out.dims, out.dim_count) + ") must have the datatype and shape of input " +
             Quote(in.name != nullptr ? in.name : "") + " (" +
             std::string(sdk::DataTypeName(in.datatype, "unknown")) + " " +
             DimsText(in.dims, in.dim_count) + ")";
    }
    info->inputs.push_back({.name = in.name != nullptr ? in.name : "",
                            .datatype = in.datatype,
                            .dims = std::vector<int64_t>(in.dims, in.dims + in.dim_count)});
  }
  return "";
}

}  // namespace switchyard::cuda_backend
