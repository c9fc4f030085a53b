#include "sim_model.h"

#include <charconv>
#include <cstring>
#include <string>
#include <type_traits>

#include "fmt/format.h"

namespace switchyard::sim {
namespace {

StatusOr<double> ParseFraction(const std::string& key, const std::string& text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0 || value > 1) {
    return InvalidArgument(
        fmt::format("parameters.{}: expected a number in [0, 1], got '{}'", key, text));
  }
  return value;
}

StatusOr<int64_t> ParseInteger(const std::string& key, const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument(fmt::format("parameters.{}: expected an integer, got '{}'", key, text));
  }
  return value;
}

StatusOr<int64_t> ParseNonNegative(const std::string& key, const std::string& text) {
  StatusOr<int64_t> value = ParseInteger(key, text);
  if (!value.ok() || *value < 0) {
    return InvalidArgument(
        fmt::format("parameters.{}: expected an integer >= 0, got '{}'", key, text));
  }
  return value;
}

Status CheckSignature(const SimParameters& params, const ModelConfig& config) {
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
      DataType type = config.inputs[0].datatype;
      bool strings = params.function == Function::kAddSubString;
      if (strings ? type != DataType::kBytes : !IsNumeric(type)) {
        return InvalidArgument(fmt::format("function {} cannot take {} inputs",
                                           strings ? "add_sub_string" : "add_sub",
                                           DataTypeName(type)));
      }
      for (const auto* spec : {&config.inputs[1], &config.outputs[0], &config.outputs[1]}) {
        if (spec->datatype != type) {
          return InvalidArgument(fmt::format("'{}' must have datatype {} like '{}'", spec->name,
                                             DataTypeName(type), config.inputs[0].name));
        }
      }
      return Status::Ok();
    }
    case Function::kZeros:
      for (const auto& spec : config.outputs) {
        if (!IsNumeric(spec.datatype)) {
          return InvalidArgument(fmt::format("function zeros cannot answer {} output '{}'",
                                             DataTypeName(spec.datatype), spec.name));
        }
        for (int64_t dim : spec.dims) {
          if (dim < 0) {
            return InvalidArgument(fmt::format(
                "function zeros needs a fixed shape for output '{}' (no -1)", spec.name));
          }
        }
      }
      return Status::Ok();
  }
  return Internal("unknown sim function");
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

Status AddSubNumeric(DataType type, std::span<const std::byte> a, std::span<const std::byte> b,
                     std::vector<std::byte>& sum, std::vector<std::byte>& diff) {
  switch (type) {
    case DataType::kUint8:
      AddSubTyped<uint8_t>(a, b, sum, diff);
      break;
    case DataType::kUint16:
      AddSubTyped<uint16_t>(a, b, sum, diff);
      break;
    case DataType::kUint32:
      AddSubTyped<uint32_t>(a, b, sum, diff);
      break;
    case DataType::kUint64:
      AddSubTyped<uint64_t>(a, b, sum, diff);
      break;
    case DataType::kInt8:
      AddSubTyped<int8_t>(a, b, sum, diff);
      break;
    case DataType::kInt16:
      AddSubTyped<int16_t>(a, b, sum, diff);
      break;
    case DataType::kInt32:
      AddSubTyped<int32_t>(a, b, sum, diff);
      break;
    case DataType::kInt64:
      AddSubTyped<int64_t>(a, b, sum, diff);
      break;
    case DataType::kFp32:
      AddSubTyped<float>(a, b, sum, diff);
      break;
    case DataType::kFp64:
      AddSubTyped<double>(a, b, sum, diff);
      break;
    default:
      return InvalidArgument(
          fmt::format("add_sub does not compute on {} tensors", DataTypeName(type)));
  }
  return Status::Ok();
}

StatusOr<std::vector<int64_t>> ParseIntegers(const Tensor& tensor) {
  std::vector<int64_t> values;
  Status bad;
  RETURN_IF_ERROR(ForEachBytesElement(tensor.data.bytes(), [&](std::string_view text) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (bad.ok() && (ec != std::errc() || ptr != text.data() + text.size())) {
      bad = InvalidArgument(fmt::format("input '{}': element '{}' is not a decimal integer",
                                        tensor.name, text.substr(0, 64)));
    }
    values.push_back(v);
  }));
  RETURN_IF_ERROR(bad);
  return values;
}

StatusOr<std::vector<Tensor>> AddSubStrings(const ModelConfig& config, const Tensor& a,
                                            const Tensor& b) {
  ASSIGN_OR_RETURN(std::vector<int64_t> x, ParseIntegers(a));
  ASSIGN_OR_RETURN(std::vector<int64_t> y, ParseIntegers(b));
  std::vector<std::byte> sum, diff;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    // Unsigned arithmetic wraps instead of overflowing (undefined for int64_t).
    auto s = static_cast<int64_t>(static_cast<uint64_t>(x[i]) + static_cast<uint64_t>(y[i]));
    auto d = static_cast<int64_t>(static_cast<uint64_t>(x[i]) - static_cast<uint64_t>(y[i]));
    AppendBytesElement(std::to_string(s), sum);
    AppendBytesElement(std::to_string(d), diff);
  }
  std::vector<Tensor> out;
  out.push_back({config.outputs[0].name, DataType::kBytes, a.shape, TensorData::Owned(sum)});
  out.push_back({config.outputs[1].name, DataType::kBytes, a.shape, TensorData::Owned(diff)});
  return out;
}

const Tensor* FindTensor(const InferRequest& request, const std::string& name) {
  for (const auto& t : request.inputs) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace

StatusOr<SimParameters> ParseSimParameters(const ModelConfig& config) {
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
        return InvalidArgument(fmt::format(
            "parameters.function: unknown '{}' (expected identity, add_sub, add_sub_string or "
            "zeros)",
            value));
      }
    } else if (key == "service_time_us") {
      ASSIGN_OR_RETURN(params.service_time_us, ParseNonNegative(key, value));
    } else if (key == "service_time_per_item_us") {
      ASSIGN_OR_RETURN(params.service_time_per_item_us, ParseNonNegative(key, value));
    } else if (key == "jitter") {
      ASSIGN_OR_RETURN(params.jitter, ParseFraction(key, value));
    } else if (key == "failure_rate") {
      ASSIGN_OR_RETURN(params.failure_rate, ParseFraction(key, value));
    } else if (key == "memory_mb") {
      ASSIGN_OR_RETURN(params.memory_mb, ParseNonNegative(key, value));
    } else if (key == "memory_mb_per_item") {
      ASSIGN_OR_RETURN(params.memory_mb_per_item, ParseNonNegative(key, value));
    } else if (key == "crash_on_value") {
      ASSIGN_OR_RETURN(params.crash_on_value, ParseInteger(key, value));
    } else if (key == "device_lost_on_value") {
      ASSIGN_OR_RETURN(params.device_lost_on_value, ParseInteger(key, value));
    } else if (key == "crash_at_load") {
      if (value != "true" && value != "false") {
        return InvalidArgument(
            fmt::format("parameters.{}: expected true or false, got '{}'", key, value));
      }
      params.crash_at_load = value == "true";
    } else if (key == "seed") {
      ASSIGN_OR_RETURN(int64_t seed, ParseNonNegative(key, value));
      params.seed = static_cast<uint64_t>(seed);
    } else {
      return InvalidArgument(
          fmt::format("parameters.{}: unknown sim parameter (expected function, service_time_us, "
                      "service_time_per_item_us, jitter, failure_rate, seed, memory_mb, "
                      "memory_mb_per_item, crash_on_value, crash_at_load, device_lost_on_value)",
                      key));
    }
  }
  RETURN_IF_ERROR(CheckSignature(params, config));
  return params;
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
  return Internal(
      fmt::format("{}: injected failure (failure_rate {})", instance, params.failure_rate));
}

InjectedFault FaultOf(const SimParameters& params, const InferRequest& request) {
  if ((!params.crash_on_value && !params.device_lost_on_value) || request.inputs.empty()) {
    return InjectedFault::kNone;
  }
  const Tensor& first = request.inputs.front();
  auto bytes = first.data.bytes();
  int64_t value = 0;
  if (first.datatype == DataType::kInt32 && bytes.size() >= 4) {
    int32_t v;
    std::memcpy(&v, bytes.data(), 4);
    value = v;
  } else if (first.datatype == DataType::kInt64 && bytes.size() >= 8) {
    std::memcpy(&value, bytes.data(), 8);
  } else {
    return InjectedFault::kNone;
  }
  if (value == params.crash_on_value) return InjectedFault::kCrash;
  if (value == params.device_lost_on_value) return InjectedFault::kDeviceLost;
  return InjectedFault::kNone;
}

Duration BatchServiceTime(const SimParameters& params, int64_t items) {
  return std::chrono::microseconds(params.service_time_us +
                                   params.service_time_per_item_us * items);
}

StatusOr<std::vector<Tensor>> Compute(const SimParameters& params, const ModelConfig& config,
                                      const InferRequest& request) {
  std::vector<const Tensor*> inputs;
  for (const auto& spec : config.inputs) {
    const Tensor* t = FindTensor(request, spec.name);
    if (t == nullptr) return InvalidArgument(fmt::format("missing input '{}'", spec.name));
    inputs.push_back(t);
  }
  std::vector<Tensor> out;
  switch (params.function) {
    case Function::kIdentity:
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        auto bytes = inputs[i]->data.bytes();
        out.push_back({config.outputs[i].name, inputs[i]->datatype, inputs[i]->shape,
                       TensorData::Owned(std::vector<std::byte>(bytes.begin(), bytes.end()))});
      }
      return out;
    case Function::kAddSub: {
      if (inputs[0]->shape != inputs[1]->shape) {
        return InvalidArgument("add_sub: the two inputs must have the same shape");
      }
      std::vector<std::byte> sum, diff;
      RETURN_IF_ERROR(AddSubNumeric(inputs[0]->datatype, inputs[0]->data.bytes(),
                                    inputs[1]->data.bytes(), sum, diff));
      out.push_back({config.outputs[0].name, inputs[0]->datatype, inputs[0]->shape,
                     TensorData::Owned(std::move(sum))});
      out.push_back({config.outputs[1].name, inputs[0]->datatype, inputs[0]->shape,
                     TensorData::Owned(std::move(diff))});
      return out;
    }
    case Function::kZeros:
      for (const auto& spec : config.outputs) {
        std::vector<int64_t> shape;
        if (config.max_batch_size > 0 && !inputs.empty() && !inputs[0]->shape.empty()) {
          shape.push_back(inputs[0]->shape[0]);  // the request's batch
        }
        shape.insert(shape.end(), spec.dims.begin(), spec.dims.end());
        std::size_t bytes = DataTypeSize(spec.datatype);
        for (int64_t dim : shape) bytes *= static_cast<std::size_t>(dim);
        out.push_back({spec.name, spec.datatype, std::move(shape),
                       TensorData::Owned(std::vector<std::byte>(bytes))});
      }
      return out;
    case Function::kAddSubString:
      if (inputs[0]->shape != inputs[1]->shape) {
        return InvalidArgument("add_sub_string: the two inputs must have the same shape");
      }
      return AddSubStrings(config, *inputs[0], *inputs[1]);
  }
  return Internal("unknown sim function");
}

}  // namespace switchyard::sim
