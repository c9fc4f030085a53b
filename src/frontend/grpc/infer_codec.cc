#include "frontend/grpc/infer_codec.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace switchyard::grpc_frontend {
namespace {

using inference::InferParameter;
using inference::InferTensorContents;
using inference::ModelInferRequest;

static_assert(std::endian::native == std::endian::little,
              "tensor bytes are little-endian and copied as they lie in memory");

// Values in all the typed fields of `contents` together.
int64_t ValueCount(const InferTensorContents& contents) {
  return int64_t{contents.bool_contents_size()} + contents.int_contents_size() +
         contents.int64_contents_size() + contents.uint_contents_size() +
         contents.uint64_contents_size() + contents.fp32_contents_size() +
         contents.fp64_contents_size() + contents.bytes_contents_size();
}

// `values` as little-endian `Out`s; InvalidArgument naming the input when one does not fit.
template <typename Out, typename In>
Status PackValues(const google::protobuf::RepeatedField<In>& values, std::string_view input,
                  DataType datatype, std::vector<std::byte>& bytes) {
  bytes.resize(static_cast<std::size_t>(values.size()) * sizeof(Out));
  std::byte* at = bytes.data();
  for (int i = 0; i < values.size(); ++i) {
    const In value = values.Get(i);
    if constexpr (std::is_integral_v<In> && !std::is_same_v<In, bool>) {
      if (!std::in_range<Out>(value)) {
        return InvalidArgument(
            fmt::format("input '{}': contents value {} at index {} is out of "
                        "range for {}",
                        input, value, i, DataTypeName(datatype)));
      }
    }
    const Out converted = static_cast<Out>(value);
    std::memcpy(at, &converted, sizeof(Out));
    at += sizeof(Out);
  }
  return Status::Ok();
}

// The typed `contents` of input `tensor` (datatype and shape set) as its bytes.
Status DecodeContents(const InferTensorContents& contents, Tensor& tensor) {
  const std::string_view name = tensor.name;
  const DataType type = tensor.datatype;
  int64_t given = 0;  // values in the field of this datatype
  std::vector<std::byte> bytes;
  Status packed;
  switch (type) {
    case DataType::kBool:
      given = contents.bool_contents_size();
      packed = PackValues<uint8_t>(contents.bool_contents(), name, type, bytes);
      break;
    case DataType::kInt8:
      given = contents.int_contents_size();
      packed = PackValues<int8_t>(contents.int_contents(), name, type, bytes);
      break;
    case DataType::kInt16:
      given = contents.int_contents_size();
      packed = PackValues<int16_t>(contents.int_contents(), name, type, bytes);
      break;
    case DataType::kInt32:
      given = contents.int_contents_size();
      packed = PackValues<int32_t>(contents.int_contents(), name, type, bytes);
      break;
    case DataType::kInt64:
      given = contents.int64_contents_size();
      packed = PackValues<int64_t>(contents.int64_contents(), name, type, bytes);
      break;
    case DataType::kUint8:
      given = contents.uint_contents_size();
      packed = PackValues<uint8_t>(contents.uint_contents(), name, type, bytes);
      break;
    case DataType::kUint16:
      given = contents.uint_contents_size();
      packed = PackValues<uint16_t>(contents.uint_contents(), name, type, bytes);
      break;
    case DataType::kUint32:
      given = contents.uint_contents_size();
      packed = PackValues<uint32_t>(contents.uint_contents(), name, type, bytes);
      break;
    case DataType::kUint64:
      given = contents.uint64_contents_size();
      packed = PackValues<uint64_t>(contents.uint64_contents(), name, type, bytes);
      break;
    case DataType::kFp32:
      given = contents.fp32_contents_size();
      packed = PackValues<float>(contents.fp32_contents(), name, type, bytes);
      break;
    case DataType::kFp64:
      given = contents.fp64_contents_size();
      packed = PackValues<double>(contents.fp64_contents(), name, type, bytes);
      break;
    case DataType::kBytes:
      given = contents.bytes_contents_size();
      for (const std::string& element : contents.bytes_contents()) {
        AppendBytesElement(element, bytes);
      }
      break;
    case DataType::kFp16:
    case DataType::kBf16:
      return InvalidArgument(fmt::format(
          "input '{}': {} has no typed contents in the protocol; send it in raw_input_contents",
          name, DataTypeName(type)));
  }
  RETURN_IF_ERROR(packed);
  if (ValueCount(contents) != given) {
    return InvalidArgument(fmt::format(
        "input '{}': contents holds values in a field other than the one of datatype {}", name,
        DataTypeName(type)));
  }
  const int64_t expected = ElementCount(tensor.shape);
  if (given != expected) {
    return InvalidArgument(fmt::format("input '{}': contents holds {} values, shape {} needs {}",
                                       name, given, ShapeToString(tensor.shape), expected));
  }
  tensor.data = TensorData::Owned(std::move(bytes));
  return Status::Ok();
}

// An integer parameter (int64_param or uint64_param) of at least `min`.
StatusOr<int64_t> IntegerParameter(const InferParameter& parameter, std::string_view key,
                                   int64_t min) {
  int64_t value = 0;
  if (parameter.has_int64_param()) {
    value = parameter.int64_param();
  } else if (parameter.has_uint64_param() &&
             parameter.uint64_param() <= uint64_t{std::numeric_limits<int64_t>::max()}) {
    value = static_cast<int64_t>(parameter.uint64_param());
  } else {
    return InvalidArgument(fmt::format("parameters.{}: expected an integer", key));
  }
  if (value < min) {
    return InvalidArgument(
        fmt::format("parameters.{}: expected an integer >= {}, got {}", key, min, value));
  }
  return value;
}

// A model parameter's value as text.
std::string ParameterText(const InferParameter& parameter) {
  switch (parameter.parameter_choice_case()) {
    case InferParameter::kBoolParam:
      return parameter.bool_param() ? "true" : "false";
    case InferParameter::kInt64Param:
      return std::to_string(parameter.int64_param());
    case InferParameter::kStringParam:
      return parameter.string_param();
    case InferParameter::kDoubleParam:
      return fmt::format("{}", parameter.double_param());
    case InferParameter::kUint64Param:
      return std::to_string(parameter.uint64_param());
    case InferParameter::PARAMETER_CHOICE_NOT_SET:
      break;
  }
  return "";
}

using ParameterMap = google::protobuf::Map<std::string, InferParameter>;

// What an input's or output's parameters `shared_memory_region`, `shared_memory_byte_size` and
// (optionally) `shared_memory_offset` name (`field` names it in errors); nullopt when it has
// none of them.
StatusOr<std::optional<http::SharedMemoryRef>> FindRegion(
    const ParameterMap& parameters, const std::string& field,
    const http::SharedMemoryRegistry* shared_memory) {
  auto region = parameters.find("shared_memory_region");
  auto size = parameters.find("shared_memory_byte_size");
  auto offset = parameters.find("shared_memory_offset");
  const auto none = parameters.end();
  if (region == none && size == none && offset == none) {
    return std::optional<http::SharedMemoryRef>();
  }
  if (region == none || size == none || !region->second.has_string_param()) {
    return InvalidArgument(fmt::format(
        "{}: parameters shared_memory_region (a string) and shared_memory_byte_size go together",
        field));
  }
  if (shared_memory == nullptr) {
    return InvalidArgument(fmt::format(
        "{}: names a shared-memory region, but this server does not take them (start it with "
        "--allow-shared-memory)",
        field));
  }
  auto in_field = [&field](const StatusOr<int64_t>& value) {
    return InvalidArgument(fmt::format("{}: {}", field, value.status().message()));
  };
  StatusOr<int64_t> bytes = IntegerParameter(size->second, size->first, 0);
  if (!bytes.ok()) return in_field(bytes);
  StatusOr<int64_t> at = int64_t{0};
  if (offset != none) at = IntegerParameter(offset->second, offset->first, 0);
  if (!at.ok()) return in_field(at);
  const std::string& name = region->second.string_param();
  ASSIGN_OR_RETURN(
      http::SharedMemorySpan span,
      shared_memory->Find(name, static_cast<uint64_t>(*at), static_cast<uint64_t>(*bytes), field));
  return std::optional<http::SharedMemoryRef>(
      http::SharedMemoryRef{name, static_cast<uint64_t>(*at), std::move(span)});
}

Status DecodeParameters(const ModelInferRequest& message, InferRequest& request) {
  if (message.parameters_size() > static_cast<int>(kMaxRequestParameters) + 2) {
    return InvalidArgument(
        fmt::format("parameters: more than {} parameters", kMaxRequestParameters));
  }
  // The map's order is unspecified: the model's parameters are passed on sorted by key.
  std::vector<std::pair<std::string, std::string>> model_parameters;
  for (const auto& [key, parameter] : message.parameters()) {
    if (key == "priority") {
      ASSIGN_OR_RETURN(int64_t priority, IntegerParameter(parameter, key, 0));
      if (priority > std::numeric_limits<int>::max()) {
        return InvalidArgument(fmt::format("parameters.priority: {} is too large", priority));
      }
      request.priority = static_cast<int>(priority);
    } else if (key == "timeout") {
      ASSIGN_OR_RETURN(request.timeout_us, IntegerParameter(parameter, key, 1));
    } else {
      model_parameters.emplace_back(key, ParameterText(parameter));
    }
  }
  std::sort(model_parameters.begin(), model_parameters.end());
  for (auto& [key, value] : model_parameters) {
    RETURN_IF_ERROR(AddRequestParameter(request, std::move(key), std::move(value)));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<int64_t> ParseModelVersion(std::string_view text) {
  if (text.empty()) return int64_t{-1};
  int64_t version = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || ptr != text.data() + text.size() || version < 1) {
    return InvalidArgument(fmt::format("model version '{}' is not a positive integer", text));
  }
  return version;
}

StatusOr<DecodedModelInfer> DecodeModelInferRequest(
    ModelInferRequest& message, const http::SharedMemoryRegistry* shared_memory) {
  DecodedModelInfer decoded;
  decoded.request = std::make_unique<InferRequest>();
  InferRequest* request = decoded.request.get();
  request->model_name = message.model_name();
  ASSIGN_OR_RETURN(request->model_version, ParseModelVersion(message.model_version()));
  request->id = message.id();
  RETURN_IF_ERROR(DecodeParameters(message, *request));
  // Inputs in shared memory have no raw entry: the raw entries are the other inputs', in order.
  std::vector<std::optional<http::SharedMemoryRef>> regions;
  int carried = 0;  // inputs whose bytes the message carries
  for (const auto& input : message.inputs()) {
    ASSIGN_OR_RETURN(
        regions.emplace_back(),
        FindRegion(input.parameters(), fmt::format("input '{}'", input.name()), shared_memory));
    if (!regions.back()) ++carried;
  }
  const bool raw = message.raw_input_contents_size() > 0;
  if (raw && message.raw_input_contents_size() != carried) {
    return InvalidArgument(fmt::format(
        "raw_input_contents has {} entries for {} inputs not in shared memory: it needs one per "
        "input",
        message.raw_input_contents_size(), carried));
  }
  // The raw tensors move (no copy) into memory the tensors share.
  std::shared_ptr<std::vector<std::string>> raw_bytes;
  if (raw) {
    raw_bytes = std::make_shared<std::vector<std::string>>();
    raw_bytes->reserve(static_cast<std::size_t>(message.raw_input_contents_size()));
    for (std::string& bytes : *message.mutable_raw_input_contents()) {
      raw_bytes->push_back(std::move(bytes));
    }
    message.clear_raw_input_contents();
  }
  request->inputs.reserve(static_cast<std::size_t>(message.inputs_size()));
  std::size_t next_raw = 0;
  for (int i = 0; i < message.inputs_size(); ++i) {
    const ModelInferRequest::InferInputTensor& input = message.inputs(i);
    Tensor& tensor = request->inputs.emplace_back();
    tensor.name = input.name();
    std::optional<DataType> datatype = ParseDataType(input.datatype());
    if (!datatype) {
      return InvalidArgument(
          fmt::format("input '{}': unknown datatype '{}'", input.name(), input.datatype()));
    }
    tensor.datatype = *datatype;
    tensor.shape.assign(input.shape().begin(), input.shape().end());
    if (ElementCount(tensor.shape) < 0) {
      return InvalidArgument(fmt::format("input '{}': shape {} has a negative dimension",
                                         input.name(), ShapeToString(tensor.shape)));
    }
    const bool has_contents = input.has_contents() && ValueCount(input.contents()) > 0;
    if (auto& region = regions[static_cast<std::size_t>(i)]) {
      if (has_contents) {
        return InvalidArgument(
            fmt::format("input '{}': contents and a shared-memory region cannot be used together",
                        input.name()));
      }
      tensor.data = TensorData::Shared(region->span.bytes, region->span.keeper);
      decoded.input_regions.push_back(std::move(*region));
    } else if (raw) {
      if (has_contents) {
        return InvalidArgument(fmt::format(
            "input '{}': contents and raw_input_contents cannot be used together", input.name()));
      }
      const std::string& bytes = (*raw_bytes)[next_raw++];
      tensor.data = TensorData::Shared(
          std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), raw_bytes);
    } else {
      RETURN_IF_ERROR(DecodeContents(input.contents(), tensor));
    }
  }
  request->requested_outputs.reserve(static_cast<std::size_t>(message.outputs_size()));
  for (const auto& output : message.outputs()) {
    request->requested_outputs.push_back(output.name());
    ASSIGN_OR_RETURN(
        std::optional<http::SharedMemoryRef> region,
        FindRegion(output.parameters(), fmt::format("output '{}'", output.name()), shared_memory));
    if (region) decoded.output_regions[output.name()] = std::move(*region);
  }
  return decoded;
}

Status EncodeModelInferResponse(const InferResponse& response, std::string_view model_name,
                                inference::ModelInferResponse* out,
                                const OutputRegions* output_regions) {
  out->set_model_name(std::string(model_name));
  out->set_model_version(std::to_string(response.model_version));
  out->set_id(response.id);
  for (const Tensor& tensor : response.outputs) {
    if (Status valid = tensor.Validate(); !valid.ok()) {
      return Internal(fmt::format("the model's output is malformed: {}", valid.message()));
    }
    auto* output = out->add_outputs();
    output->set_name(tensor.name);
    output->set_datatype(std::string(DataTypeName(tensor.datatype)));
    for (int64_t dim : tensor.shape) output->add_shape(dim);
    if (output_regions != nullptr) {
      if (auto it = output_regions->find(tensor.name); it != output_regions->end()) {
        const http::SharedMemoryRef& region = it->second;
        RETURN_IF_ERROR(
            CopyToSharedMemory(tensor, fmt::format("output '{}'", tensor.name), region));
        auto& parameters = *output->mutable_parameters();
        parameters["shared_memory_region"].set_string_param(region.region);
        parameters["shared_memory_byte_size"].set_int64_param(
            static_cast<int64_t>(tensor.data.size()));
        if (region.offset > 0) {
          parameters["shared_memory_offset"].set_int64_param(static_cast<int64_t>(region.offset));
        }
        out->add_raw_output_contents();  // empty: raw entries stay one per output, in order
        continue;
      }
    }
    std::span<const std::byte> bytes = tensor.data.bytes();
    out->add_raw_output_contents()->assign(reinterpret_cast<const char*>(bytes.data()),
                                           bytes.size());
  }
  return Status::Ok();
}

}  // namespace switchyard::grpc_frontend
