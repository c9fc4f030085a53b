#include "parameters.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

namespace switchyard::torch_backend {
namespace {

constexpr char kModelFile[] = "model_file";
constexpr char kInputBinding[] = "input_binding";
constexpr char kInferenceMode[] = "inference_mode";
constexpr char kIntraOpThreads[] = "intra_op_threads";
constexpr char kCudaGraphBatchSizes[] = "cuda_graph_batch_sizes";
constexpr char kCudnnBenchmark[] = "cudnn_benchmark";
constexpr char kJitExecutor[] = "jit_executor";

std::string Trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// A plain decimal integer in [min, max] (no sign other than '-', no spaces, no leading '+').
bool ParseInt(const std::string& text, int64_t min, int64_t max, int64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return false;
  for (size_t j = i; j < text.size(); ++j) {
    if (text[j] < '0' || text[j] > '9') return false;
  }
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  *out = value;
  return true;
}

std::string KnownKeysText() {
  std::string text;
  for (const auto& key : KnownParameterKeys()) {
    if (!text.empty()) text += ", ";
    text += key;
  }
  return text;
}

sdk::Status ParseOne(const std::string& key, const std::string& value, int32_t max_batch_size,
                     TorchParameters* params) {
  auto invalid = [&](const std::string& expected) {
    return sdk::InvalidArgument("parameters." + key + ": invalid value '" + value + "' (expected " +
                                expected + ")");
  };
  if (key == kModelFile) {
    if (value.empty()) return invalid("a file name");
    params->model_file = value;
  } else if (key == kInputBinding) {
    if (value == "position") {
      params->input_binding = InputBinding::kPosition;
    } else if (value == "name") {
      params->input_binding = InputBinding::kName;
    } else {
      return invalid("position or name");
    }
  } else if (key == kInferenceMode || key == kCudnnBenchmark) {
    bool* flag = key == kInferenceMode ? &params->inference_mode : &params->cudnn_benchmark;
    if (value == "true") {
      *flag = true;
    } else if (value == "false") {
      *flag = false;
    } else {
      return invalid("true or false");
    }
  } else if (key == kJitExecutor) {
    if (value == "profiling") {
      params->jit_executor = JitExecutor::kProfiling;
    } else if (value == "simple") {
      params->jit_executor = JitExecutor::kSimple;
    } else if (value == "legacy") {
      params->jit_executor = JitExecutor::kLegacy;
    } else {
      return invalid("profiling, simple or legacy");
    }
  } else if (key == kIntraOpThreads) {
    int64_t threads = 0;
    if (!ParseInt(value, 0, 1024, &threads)) return invalid("an integer 0..1024");
    params->intra_op_threads = static_cast<int>(threads);
  } else if (key == kCudaGraphBatchSizes) {
    auto sizes = ParseBatchSizeList(value);
    if (!sizes.ok()) return sizes.status().Prefixed("parameters." + key + ": ");
    if (!sizes.value().empty() && max_batch_size <= 0) {
      return sdk::InvalidArgument("parameters." + key +
                                  ": needs max_batch_size > 0 (the model does not batch)");
    }
    for (int64_t size : sizes.value()) {
      if (size > max_batch_size) {
        return sdk::InvalidArgument("parameters." + key + ": batch size " + std::to_string(size) +
                                    " exceeds max_batch_size " + std::to_string(max_batch_size));
      }
    }
    params->cuda_graph_batch_sizes = std::move(sizes).value();
  } else {
    return sdk::InvalidArgument("parameters: unknown key '" + key +
                                "' for the torch backend (known: " + KnownKeysText() + ")");
  }
  return sdk::Status::Ok();
}

}  // namespace

const std::vector<std::string>& KnownParameterKeys() {
  static const std::vector<std::string> keys = {
      kModelFile,           kInputBinding,   kInferenceMode, kIntraOpThreads,
      kCudaGraphBatchSizes, kCudnnBenchmark, kJitExecutor};
  return keys;
}

sdk::StatusOr<std::vector<int64_t>> ParseBatchSizeList(const std::string& text) {
  std::vector<int64_t> sizes;
  if (Trim(text).empty()) return sizes;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item =
        Trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    int64_t size = 0;
    if (!ParseInt(item, 1, 1 << 20, &size)) {
      return sdk::InvalidArgument("invalid batch size '" + item + "' in '" + text +
                                  "' (expected positive integers separated by commas)");
    }
    sizes.push_back(size);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

sdk::StatusOr<TorchParameters> ParseTorchParameters(const SyParameter* parameters, uint32_t count,
                                                    int32_t max_batch_size) {
  TorchParameters params;
  std::set<std::string> seen;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string key = parameters[i].key != nullptr ? parameters[i].key : "";
    const std::string value = parameters[i].value != nullptr ? parameters[i].value : "";
    if (!seen.insert(key).second) {
      return sdk::InvalidArgument("parameters: duplicate key '" + key + "'");
    }
    SY_RETURN_IF_ERROR(ParseOne(key, value, max_batch_size, &params));
  }
  return params;
}

}  // namespace switchyard::torch_backend
