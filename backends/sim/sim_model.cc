#include "sim/sim_model.h"

#include <charconv>
#include <cstring>
#include <string>
#include <type_traits>

#include "switchyard/backend_sdk/datatype.h"

namespace switchyard::sim {
namespace {

using sdk::InvalidArgument;
using sdk::Status;
using sdk::StatusOr;

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string TypeName(SyDataType type) { return std::string(sdk::DataTypeName(type)); }

bool IsNumeric(SyDataType type) { return type != SY_TYPE_BOOL && type != SY_TYPE_BYTES; }

// The shortest text that reads back as `value` (as fmt's "{}" writes it).
std::string ShortestText(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

StatusOr<double> ParseFraction(const std::string& key, const std::string& text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0 || value > 1) {
    return InvalidArgument("parameters." + key + ": expected a number in [0, 1], got " +
                           Quoted(text));
  }
  return value;
}

StatusOr<int64_t> ParseInteger(const std::string& key, const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument("parameters." + key + ": expected an integer, got " + Quoted(text));
  }
  return value;
}

// An integer >= 0; `unit` (e.g. " (MiB)") follows the expectation in the error.
StatusOr<int64_t> ParseNonNegative(const std::string& key, const std::string& text,
                                   const char* unit = "") {
  StatusOr<int64_t> value = ParseInteger(key, text);
  if (!value.ok() || *value < 0) {
    return InvalidArgument("parameters." + key + ": expected an integer >= 0" + unit + ", got " +
                           Quoted(text));
  }
  return value;
}

// The MiB parameter `key`, 0 when absent.
StatusOr<int64_t> Megabytes(const SimConfig& config, const std::string& key) {
  auto it = config.parameters.find(key);
  if (it == config.parameters.end()) return int64_t{0};
  return ParseNonNegative(key, it->second, " (MiB)");
}

Status CheckSignature(const SimParameters& params, const SimConfig& config) {
  switch (params.function) {
    case Function::kIdentity:
      if (config.inputs.size() != config.outputs.size()) {
        return InvalidArgument("function identity needs as many outputs as inputs");
      }
      return Status::Ok();
    case Function::kAddSub:
    case Function::kAddSubString: {
      if (config.inputs.size() != 2 || config.outputs.size() != 2) {
        return InvalidArgument("function add_sub needs two inputs and two outputs");
      }
      SyDataType type = config.inputs[0].datatype;
      bool strings = params.function == Function::kAddSubString;
      if (strings ? type != SY_TYPE_BYTES : !IsNumeric(type)) {
        return InvalidArgument(std::string("function ") + (strings ? "add_sub_string" : "add_sub") +
                               " cannot take " + TypeName(type) + " inputs");
      }
      for (const auto* spec : {&config.inputs[1], &config.outputs[0], &config.outputs[1]}) {
        if (spec->datatype != type) {
          return InvalidArgument(Quoted(spec->name) + " must have datatype " + TypeName(type) +
                                 " like " + Quoted(config.inputs[0].name));
        }
      }
      return Status::Ok();
    }
    case Function::kZeros:
      for (const auto& spec : config.outputs) {
        if (!IsNumeric(spec.datatype)) {
          return InvalidArgument("function zeros cannot answer " + TypeName(spec.datatype) +
                                 " output " + Quoted(spec.name));
        }
        for (int64_t dim : spec.dims) {
          if (dim < 0) {
            return InvalidArgument("function zeros needs a fixed shape for output " +
                                   Quoted(spec.name) + " (no -1)");
          }
        }
      }
      return Status::Ok();
  }
  return sdk::Internal("unknown sim function");
}

template <typename T>
void AddSubTyped(std::span<const std::byte> a, std::span<const std::byte> b,
                 std::vector<std::byte>& sum, std::vector<std::byte>& diff) {
  std::size_t n = a.size() / sizeof(T);
  sum.resize(a.size());
  diff.resize(a.size());
  for (std::size_t i = 0; i < n; ++i) {
    T x, y;
    std::memcpy(&x, a.data() + i * sizeof(T), sizeof(T));
    std::memcpy(&y, b.data() + i * sizeof(T), sizeof(T));
    // Wrap-around arithmetic for integers (in unsigned arithmetic: signed overflow is undefined),
    // as the element type would on the hardware; a client's values never make it undefined.
    T s;
    T d;
    if constexpr (std::is_integral_v<T>) {
      using U = std::make_unsigned_t<T>;
      s = static_cast<T>(static_cast<U>(static_cast<U>(x) + static_cast<U>(y)));
      d = static_cast<T>(static_cast<U>(static_cast<U>(x) - static_cast<U>(y)));
    } else {
      s = static_cast<T>(x + y);
      d = static_cast<T>(x - y);
    }
    std::memcpy(sum.data() + i * sizeof(T), &s, sizeof(T));
    std::memcpy(diff.data() + i * sizeof(T), &d, sizeof(T));
  }
}

Status AddSubNumeric(SyDataType type, std::span<const std::byte> a, std::span<const std::byte> b,
                     std::vector<std::byte>& sum, std::vector<std::byte>& diff) {
  switch (type) {
    case SY_TYPE_UINT8:
      AddSubTyped<uint8_t>(a, b, sum, diff);
      break;
    case SY_TYPE_UINT16:
      AddSubTyped<uint16_t>(a, b, sum, diff);
      break;
    case SY_TYPE_UINT32:
      AddSubTyped<uint32_t>(a, b, sum, diff);
      break;
    case SY_TYPE_UINT64:
      AddSubTyped<uint64_t>(a, b, sum, diff);
      break;
    case SY_TYPE_INT8:
      AddSubTyped<int8_t>(a, b, sum, diff);
      break;
    case SY_TYPE_INT16:
      AddSubTyped<int16_t>(a, b, sum, diff);
      break;
    case SY_TYPE_INT32:
      AddSubTyped<int32_t>(a, b, sum, diff);
      break;
    case SY_TYPE_INT64:
      AddSubTyped<int64_t>(a, b, sum, diff);
      break;
    case SY_TYPE_FP32:
      AddSubTyped<float>(a, b, sum, diff);
      break;
    case SY_TYPE_FP64:
      AddSubTyped<double>(a, b, sum, diff);
      break;
    default:
      return InvalidArgument("add_sub does not compute on " + TypeName(type) + " tensors");
  }
  return Status::Ok();
}

std::span<const std::byte> Bytes(const SyTensor& tensor) {
  return {static_cast<const std::byte*>(tensor.data), static_cast<std::size_t>(tensor.byte_size)};
}

std::vector<int64_t> Shape(const SyTensor& tensor) {
  return std::vector<int64_t>(tensor.shape, tensor.shape + tensor.dim_count);
}

StatusOr<std::vector<int64_t>> ParseIntegers(const SyTensor& tensor) {
  std::vector<int64_t> values;
  Status bad;
  SY_RETURN_IF_ERROR(ForEachBytesElement(Bytes(tensor), [&](std::string_view text) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (bad.ok() && (ec != std::errc() || ptr != text.data() + text.size())) {
      bad = InvalidArgument("input " + Quoted(tensor.name) + ": element " +
                            Quoted(text.substr(0, 64)) + " is not a decimal integer");
    }
    values.push_back(v);
  }));
  SY_RETURN_IF_ERROR(bad);
  return values;
}

StatusOr<std::vector<OutputTensor>> AddSubStrings(const SimConfig& config, const SyTensor& a,
                                                  const SyTensor& b) {
  SY_ASSIGN_OR_RETURN(std::vector<int64_t> x, ParseIntegers(a));
  SY_ASSIGN_OR_RETURN(std::vector<int64_t> y, ParseIntegers(b));
  std::vector<std::byte> sum, diff;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    // Unsigned arithmetic wraps instead of overflowing (undefined for int64_t).
    auto s = static_cast<int64_t>(static_cast<uint64_t>(x[i]) + static_cast<uint64_t>(y[i]));
    auto d = static_cast<int64_t>(static_cast<uint64_t>(x[i]) - static_cast<uint64_t>(y[i]));
    AppendBytesElement(std::to_string(s), sum);
    AppendBytesElement(std::to_string(d), diff);
  }
  std::vector<OutputTensor> out;
  out.push_back({config.outputs[0].name, SY_TYPE_BYTES, Shape(a), std::move(sum)});
  out.push_back({config.outputs[1].name, SY_TYPE_BYTES, Shape(a), std::move(diff)});
  return out;
}

std::vector<TensorSpec> SpecsOf(const SyTensorSpec* specs, uint32_t count) {
  std::vector<TensorSpec> out;
  for (uint32_t i = 0; i < count; ++i) {
    out.push_back(
        {.name = specs[i].name,
         .datatype = specs[i].datatype,
         .dims = std::vector<int64_t>(specs[i].dims, specs[i].dims + specs[i].dim_count)});
  }
  return out;
}

}  // namespace

SimConfig ConfigOf(const SyModelDesc& desc) {
  SimConfig config;
  config.name = desc.name;
  config.max_batch_size = desc.max_batch_size;
  config.inputs = SpecsOf(desc.inputs, desc.input_count);
  config.outputs = SpecsOf(desc.outputs, desc.output_count);
  for (uint32_t i = 0; i < desc.parameter_count; ++i) {
    config.parameters[desc.parameters[i].key] = desc.parameters[i].value;
  }
  config.in_server_process = desc.struct_size >= offsetof(SyModelDesc, in_server_process) +
                                                     sizeof(desc.in_server_process) &&
                             desc.in_server_process != 0;
  return config;
}

StatusOr<SimParameters> ParseSimParameters(const SimConfig& config) {
  SimParameters params;
  for (const auto& [key, value] : config.parameters) {
    if (key == "function") {
      if (value == "identity") {
        params.function = Function::kIdentity;
      } else if (value == "add_sub") {
        params.function = Function::kAddSub;
      } else if (value == "add_sub_string") {
        params.function = Function::kAddSubString;
      } else if (value == "zeros") {
        params.function = Function::kZeros;
      } else {
        return InvalidArgument("parameters.function: unknown " + Quoted(value) +
                               " (expected identity, add_sub, add_sub_string or zeros)");
      }
    } else if (key == "service_time_us") {
      SY_ASSIGN_OR_RETURN(params.service_time_us, ParseNonNegative(key, value));
    } else if (key == "service_time_per_item_us") {
      SY_ASSIGN_OR_RETURN(params.service_time_per_item_us, ParseNonNegative(key, value));
    } else if (key == "jitter") {
      SY_ASSIGN_OR_RETURN(params.jitter, ParseFraction(key, value));
    } else if (key == "failure_rate") {
      SY_ASSIGN_OR_RETURN(params.failure_rate, ParseFraction(key, value));
    } else if (key == "memory_mb") {
      SY_ASSIGN_OR_RETURN(params.memory_mb, ParseNonNegative(key, value, " (MiB)"));
    } else if (key == "memory_mb_per_item") {
      SY_ASSIGN_OR_RETURN(params.memory_mb_per_item, ParseNonNegative(key, value, " (MiB)"));
    } else if (key == "crash_on_value") {
      SY_ASSIGN_OR_RETURN(params.crash_on_value, ParseInteger(key, value));
    } else if (key == "device_lost_on_value") {
      SY_ASSIGN_OR_RETURN(params.device_lost_on_value, ParseInteger(key, value));
    } else if (key == "crash_at_load") {
      if (value != "true" && value != "false") {
        return InvalidArgument("parameters." + key + ": expected true or false, got " +
                               Quoted(value));
      }
      params.crash_at_load = value == "true";
    } else if (key == "partial_responses") {
      SY_ASSIGN_OR_RETURN(params.partial_responses, ParseNonNegative(key, value));
      if (params.partial_responses > kMaxSimPartialResponses) {
        return InvalidArgument("parameters.partial_responses: at most " +
                               std::to_string(kMaxSimPartialResponses));
      }
    } else if (key == "seed") {
      SY_ASSIGN_OR_RETURN(int64_t seed, ParseNonNegative(key, value));
      params.seed = static_cast<uint64_t>(seed);
    } else {
      return InvalidArgument("parameters." + key +
                             ": unknown sim parameter (expected function, service_time_us, "
                             "service_time_per_item_us, jitter, failure_rate, seed, memory_mb, "
                             "memory_mb_per_item, partial_responses, crash_on_value, "
                             "crash_at_load, device_lost_on_value)");
    }
  }
  SY_RETURN_IF_ERROR(CheckSignature(params, config));
  if (config.in_server_process &&
      (params.crash_on_value || params.crash_at_load || params.device_lost_on_value)) {
    return InvalidArgument(
        "the crash_on_value, crash_at_load and device_lost_on_value parameters need "
        "`isolation: process`");
  }
  return params;
}

StatusOr<int64_t> DeviceMemoryMb(const SimConfig& config) {
  SY_ASSIGN_OR_RETURN(int64_t base, Megabytes(config, "memory_mb"));
  SY_ASSIGN_OR_RETURN(int64_t per_item, Megabytes(config, "memory_mb_per_item"));
  const int64_t items = std::max(1, config.max_batch_size);
  if (per_item > (INT64_MAX - base) / items) {
    return InvalidArgument("parameters.memory_mb_per_item: " + std::to_string(per_item) +
                           " MiB x " + std::to_string(items) + " items is too large");
  }
  return base + per_item * items;
}

BatchDraw DrawBatch(const SimParameters& params, std::mt19937_64& rng) {
  BatchDraw draw;
  if (params.jitter > 0) {
    draw.scale = std::uniform_real_distribution<double>(1 - params.jitter, 1 + params.jitter)(rng);
  }
  draw.fail = params.failure_rate > 0 && std::bernoulli_distribution(params.failure_rate)(rng);
  return draw;
}

Status InjectedFailure(std::string_view instance, const SimParameters& params) {
  return sdk::Internal(std::string(instance) + ": injected failure (failure_rate " +
                       ShortestText(params.failure_rate) + ")");
}

InjectedFault FaultOf(const SimParameters& params, Inputs inputs) {
  if ((!params.crash_on_value && !params.device_lost_on_value) || inputs.empty()) {
    return InjectedFault::kNone;
  }
  const SyTensor& first = inputs.front();
  auto bytes = Bytes(first);
  int64_t value = 0;
  if (first.datatype == SY_TYPE_INT32 && bytes.size() >= 4) {
    int32_t v;
    std::memcpy(&v, bytes.data(), 4);
    value = v;
  } else if (first.datatype == SY_TYPE_INT64 && bytes.size() >= 8) {
    std::memcpy(&value, bytes.data(), 8);
  } else {
    return InjectedFault::kNone;
  }
  if (value == params.crash_on_value) return InjectedFault::kCrash;
  if (value == params.device_lost_on_value) return InjectedFault::kDeviceLost;
  return InjectedFault::kNone;
}

std::chrono::microseconds BatchServiceTime(const SimParameters& params, int64_t items) {
  return std::chrono::microseconds(params.service_time_us +
                                   params.service_time_per_item_us * items);
}

StatusOr<std::vector<OutputTensor>> Compute(const SimParameters& params, const SimConfig& config,
                                            Inputs inputs) {
  if (inputs.size() != config.inputs.size()) {
    return InvalidArgument("expected " + std::to_string(config.inputs.size()) + " inputs, got " +
                           std::to_string(inputs.size()));
  }
  std::vector<OutputTensor> out;
  switch (params.function) {
    case Function::kIdentity:
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        auto bytes = Bytes(inputs[i]);
        out.push_back({config.outputs[i].name, inputs[i].datatype, Shape(inputs[i]),
                       std::vector<std::byte>(bytes.begin(), bytes.end())});
      }
      return out;
    case Function::kAddSub: {
      if (Shape(inputs[0]) != Shape(inputs[1])) {
        return InvalidArgument("add_sub: the two inputs must have the same shape");
      }
      std::vector<std::byte> sum, diff;
      SY_RETURN_IF_ERROR(
          AddSubNumeric(inputs[0].datatype, Bytes(inputs[0]), Bytes(inputs[1]), sum, diff));
      out.push_back({config.outputs[0].name, inputs[0].datatype, Shape(inputs[0]), std::move(sum)});
      out.push_back(
          {config.outputs[1].name, inputs[0].datatype, Shape(inputs[0]), std::move(diff)});
      return out;
    }
    case Function::kZeros:
      for (const auto& spec : config.outputs) {
        std::vector<int64_t> shape;
        if (config.max_batch_size > 0 && !inputs.empty() && inputs[0].dim_count > 0) {
          shape.push_back(inputs[0].shape[0]);  // the request's batch
        }
        shape.insert(shape.end(), spec.dims.begin(), spec.dims.end());
        std::size_t bytes = sdk::ElementSize(spec.datatype);
        for (int64_t dim : shape) bytes *= static_cast<std::size_t>(dim);
        out.push_back({spec.name, spec.datatype, std::move(shape), std::vector<std::byte>(bytes)});
      }
      return out;
    case Function::kAddSubString:
      if (Shape(inputs[0]) != Shape(inputs[1])) {
        return InvalidArgument("add_sub_string: the two inputs must have the same shape");
      }
      return AddSubStrings(config, inputs[0], inputs[1]);
  }
  return sdk::Internal("unknown sim function");
}

}  // namespace switchyard::sim
