// The decoding half of kserve_codec.h; the encoding half is kserve_encode.cc.

#include "frontend/http/kserve_codec.h"

#include <simdjson.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>

#include "fmt/format.h"
#include "frontend/http/json_path.h"

namespace switchyard::http {
namespace {

namespace dom = simdjson::dom;
using simdjson::SUCCESS;

static_assert(std::endian::native == std::endian::little,
              "tensor bytes are little-endian and copied as they lie in memory");

// JSON headers up to this size are parsed with a per-thread parser that keeps its buffers;
// larger ones get a parser of their own so that no thread holds on to a large allocation.
constexpr std::size_t kReusedParserLimit = 1 << 20;

// Client text quoted in an error message, cut short so an error stays small.
std::string Quote(std::string_view text) {
  constexpr std::size_t kMax = 64;
  if (text.size() <= kMax) return fmt::format("'{}'", text);
  return fmt::format("'{}...'", text.substr(0, kMax));
}

// `element` as compact JSON text, cut short for an error message.
std::string Minified(dom::element element) { return simdjson::minify(element).substr(0, 64); }

// `*out` = the member `key` of `object`; false if there is none.
bool Find(dom::object object, std::string_view key, dom::element* out) {
  return object.at_key(key).get(*out) == SUCCESS;
}

// `*out` = `element` as a T (dom::object, dom::array, std::string_view or bool), or an error
// naming `field` and the `expected` JSON type.
template <typename T>
Status Get(dom::element element, const JsonPath& field, std::string_view expected, T* out) {
  if (element.get<T>().get(*out) != SUCCESS) {
    return InvalidArgument(fmt::format("{}: expected {}", field.Text(), expected));
  }
  return Status::Ok();
}
Status GetObject(dom::element e, const JsonPath& field, dom::object* out) {
  return Get(e, field, "an object", out);
}
Status GetArray(dom::element e, const JsonPath& field, dom::array* out) {
  return Get(e, field, "an array", out);
}
Status GetString(dom::element e, const JsonPath& field, std::string_view* out) {
  return Get(e, field, "a string", out);
}
Status GetBool(dom::element e, const JsonPath& field, bool* out) {
  return Get(e, field, "true or false", out);
}

// A JSON integer in [min, int64 max].
Status GetInt(dom::element element, const JsonPath& field, int64_t min, int64_t* out) {
  if (element.get_int64().get(*out) != SUCCESS || *out < min) {
    return InvalidArgument(
        fmt::format("{}: expected an integer >= {}, got {}", field.Text(), min, Minified(element)));
  }
  return Status::Ok();
}

// The error for a member `name` the object at `field` must have.
Status Required(const JsonPath& field, std::string_view name) {
  return InvalidArgument(field.Member(name).Text() + ": required");
}

// Converts a JSON number to the integer type T; false if it is not a number, not integral or
// out of T's range.
template <typename T>
bool ToInteger(dom::element element, T* out) {
  switch (element.type()) {
    case dom::element_type::INT64: {
      int64_t value = 0;
      if (element.get_int64().get(value) != SUCCESS || !std::in_range<T>(value)) return false;
      *out = static_cast<T>(value);
      return true;
    }
    case dom::element_type::UINT64: {
      uint64_t value = 0;
      if (element.get_uint64().get(value) != SUCCESS || !std::in_range<T>(value)) return false;
      *out = static_cast<T>(value);
      return true;
    }
    case dom::element_type::DOUBLE: {  // accepted when integral: 2.0 or 1e3
      double value = 0;
      if (element.get_double().get(value) != SUCCESS || value != std::trunc(value)) return false;
      const double limit = std::ldexp(1.0, 63);
      if (std::is_signed_v<T> ? (value < -limit || value >= limit)
                              : (value < 0 || value >= 2 * limit)) {
        return false;
      }
      using Wide = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
      auto wide = static_cast<Wide>(value);
      if (!std::in_range<T>(wide)) return false;
      *out = static_cast<T>(wide);
      return true;
    }
    default:
      return false;
  }
}

// Converts a JSON number to float or double; false if it is not a number or overflows T.
template <typename T>
bool ToFloating(dom::element element, T* out) {
  double value = 0;
  switch (element.type()) {
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      if (element.get_double().get(value) != SUCCESS) return false;
      break;
    default:
      return false;
  }
  if constexpr (std::is_same_v<T, float>) {
    // The smallest magnitude that rounds to infinity as a float: FLT_MAX plus half an ulp.
    const double overflow = std::ldexp(2.0 - std::ldexp(1.0, -24), 127);
    if (std::abs(value) >= overflow) return false;
  }
  *out = static_cast<T>(value);
  return true;
}

template <typename T>
void AppendValue(T value, std::vector<std::byte>& out) {
  std::byte raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.insert(out.end(), raw, raw + sizeof(T));
}

// Collects the leaves of a (possibly nested) JSON `data` array into tensor bytes, row-major.
// Stops at the first element past `expected`, so a short shape cannot make it buffer a lot.
// Recursion depth is bounded by the parser's maximum nesting depth (simdjson's default, 1024).
class DataReader {
 public:
  // REQUIRES: `expected` elements of the tensor's datatype are few enough to hold (the caller
  // bounds them by the request's size): their bytes are reserved at once.
  DataReader(const Tensor& tensor, const JsonPath& field, int64_t expected)
      : tensor_(tensor), field_(field), expected_(expected) {
    if (tensor.datatype != DataType::kBytes) {
      bytes_.reserve(static_cast<std::size_t>(expected) * DataTypeSize(tensor.datatype));
    }
  }

  Status Read(dom::element data) {
    dom::array children;
    if (data.get_array().get(children) != SUCCESS) return ReadLeaf(data);
    for (dom::element child : children) RETURN_IF_ERROR(Read(child));
    return Status::Ok();
  }

  int64_t count() const { return count_; }
  std::vector<std::byte> TakeBytes() { return std::move(bytes_); }

 private:
  Status ReadLeaf(dom::element leaf) {
    if (count_ == expected_) {
      return InvalidArgument(fmt::format("{}: more than the {} elements of shape {}", field_.Text(),
                                         expected_, ShapeToString(tensor_.shape)));
    }
    if (!Append(leaf)) {
      return InvalidArgument(fmt::format("{}: {} is not a valid {} value",
                                         field_.Index(static_cast<std::size_t>(count_)).Text(),
                                         Minified(leaf), DataTypeName(tensor_.datatype)));
    }
    ++count_;
    return Status::Ok();
  }

  template <typename T>
  bool AppendInteger(dom::element leaf) {
    T value;
    if (!ToInteger(leaf, &value)) return false;
    AppendValue(value, bytes_);
    return true;
  }

  template <typename T>
  bool AppendFloating(dom::element leaf) {
    T value;
    if (!ToFloating(leaf, &value)) return false;
    AppendValue(value, bytes_);
    return true;
  }

  bool Append(dom::element leaf) {
    switch (tensor_.datatype) {
      case DataType::kBool: {
        bool value = false;
        if (leaf.get_bool().get(value) != SUCCESS) return false;
        bytes_.push_back(std::byte{value});
        return true;
      }
      case DataType::kUint8:
        return AppendInteger<uint8_t>(leaf);
      case DataType::kUint16:
        return AppendInteger<uint16_t>(leaf);
      case DataType::kUint32:
        return AppendInteger<uint32_t>(leaf);
      case DataType::kUint64:
        return AppendInteger<uint64_t>(leaf);
      case DataType::kInt8:
        return AppendInteger<int8_t>(leaf);
      case DataType::kInt16:
        return AppendInteger<int16_t>(leaf);
      case DataType::kInt32:
        return AppendInteger<int32_t>(leaf);
      case DataType::kInt64:
        return AppendInteger<int64_t>(leaf);
      case DataType::kFp32:
        return AppendFloating<float>(leaf);
      case DataType::kFp64:
        return AppendFloating<double>(leaf);
      case DataType::kBytes: {
        std::string_view value;
        if (leaf.get_string().get(value) != SUCCESS) return false;
        AppendBytesElement(value, bytes_);
        return true;
      }
      case DataType::kFp16:
      case DataType::kBf16:
        return false;  // rejected before reading
    }
    return false;
  }

  const Tensor& tensor_;
  const JsonPath& field_;
  int64_t expected_;
  int64_t count_ = 0;
  std::vector<std::byte> bytes_;
};

// OK when `bytes` hold exactly the `count` elements of `tensor`'s shape.
Status CheckBinarySize(const Tensor& tensor, int64_t count, std::size_t bytes,
                       const JsonPath& field) {
  if (tensor.datatype == DataType::kBytes) {
    Status valid = tensor.Validate();
    if (!valid.ok()) return InvalidArgument(fmt::format("{}: {}", field.Text(), valid.message()));
    return Status::Ok();
  }
  if (!HoldsElements(tensor.datatype, count, bytes)) {
    const std::size_t element_size = DataTypeSize(tensor.datatype);
    return InvalidArgument(fmt::format(
        "{}: shape {} of {} needs {} elements of {} bytes, got {} bytes", field.Text(),
        ShapeToString(tensor.shape), DataTypeName(tensor.datatype), count, element_size, bytes));
  }
  return Status::Ok();
}

// The state of one decode: the body's binary section and how much of it inputs have taken, and
// the shared-memory regions inputs and outputs may name (null: the extension is off).
struct BodyReader {
  std::string_view json;
  std::span<const std::byte> binary;
  std::size_t binary_used = 0;
  const SharedMemoryRegistry* shared_memory = nullptr;
  std::vector<SharedMemoryRef>* input_regions = nullptr;  // where inputs' regions are noted
};

// What an input's or output's shared-memory parameters name, nullopt when it has none.
StatusOr<std::optional<SharedMemoryRef>> FindSharedMemory(dom::object parameters,
                                                          const JsonPath& field,
                                                          const BodyReader& body) {
  dom::element region_element;
  dom::element size_element;
  dom::element offset_element;
  const bool has_region = Find(parameters, "shared_memory_region", &region_element);
  const bool has_size = Find(parameters, "shared_memory_byte_size", &size_element);
  const bool has_offset = Find(parameters, "shared_memory_offset", &offset_element);
  if (!has_region && !has_size && !has_offset) return std::optional<SharedMemoryRef>();
  if (!has_region || !has_size) {
    return InvalidArgument(
        fmt::format("{}: parameters.shared_memory_region and shared_memory_byte_size go together",
                    field.Text()));
  }
  if (body.shared_memory == nullptr) {
    return InvalidArgument(fmt::format(
        "{}: names a shared-memory region, but this server does not take them (start it with "
        "--allow-shared-memory)",
        field.Text()));
  }
  std::string_view region;
  int64_t size = 0;
  int64_t offset = 0;
  const JsonPath parameters_field = field.Member("parameters");
  RETURN_IF_ERROR(
      GetString(region_element, parameters_field.Member("shared_memory_region"), &region));
  RETURN_IF_ERROR(
      GetInt(size_element, parameters_field.Member("shared_memory_byte_size"), 0, &size));
  if (has_offset) {
    RETURN_IF_ERROR(
        GetInt(offset_element, parameters_field.Member("shared_memory_offset"), 0, &offset));
  }
  ASSIGN_OR_RETURN(SharedMemorySpan span,
                   body.shared_memory->Find(region, static_cast<uint64_t>(offset),
                                            static_cast<uint64_t>(size), field.Text()));
  return std::optional<SharedMemoryRef>(
      SharedMemoryRef{std::string(region), static_cast<uint64_t>(offset), std::move(span)});
}

Status DecodeShape(dom::element element, const JsonPath& field, Shape* shape) {
  dom::array dims;
  RETURN_IF_ERROR(GetArray(element, field, &dims));
  shape->reserve(dims.size());
  std::size_t i = 0;
  for (dom::element dim : dims) {
    int64_t value = 0;
    RETURN_IF_ERROR(GetInt(dim, field.Index(i++), 0, &value));
    shape->push_back(value);
  }
  return Status::Ok();
}

Status DecodeInput(dom::element element, const JsonPath& field, BodyReader& body, Tensor* tensor) {
  dom::object input;
  RETURN_IF_ERROR(GetObject(element, field, &input));
  dom::element value;
  std::string_view text;
  if (!Find(input, "name", &value)) return Required(field, "name");
  RETURN_IF_ERROR(GetString(value, field.Member("name"), &text));
  tensor->name = text;
  if (!Find(input, "datatype", &value)) return Required(field, "datatype");
  RETURN_IF_ERROR(GetString(value, field.Member("datatype"), &text));
  std::optional<DataType> datatype = ParseDataType(text);
  if (!datatype) {
    return InvalidArgument(
        fmt::format("{}.datatype: unknown datatype {}", field.Text(), Quote(text)));
  }
  tensor->datatype = *datatype;
  if (!Find(input, "shape", &value)) return Required(field, "shape");
  RETURN_IF_ERROR(DecodeShape(value, field.Member("shape"), &tensor->shape));
  const int64_t count = ElementCount(tensor->shape);
  if (count < 0) {
    return InvalidArgument(fmt::format("{}.shape: {} has too many elements", field.Text(),
                                       ShapeToString(tensor->shape)));
  }

  std::optional<int64_t> binary_size;
  std::optional<SharedMemoryRef> shared;
  if (Find(input, "parameters", &value)) {
    const JsonPath parameters_field = field.Member("parameters");
    dom::object parameters;
    RETURN_IF_ERROR(GetObject(value, parameters_field, &parameters));
    if (Find(parameters, "binary_data_size", &value)) {
      binary_size.emplace();
      RETURN_IF_ERROR(GetInt(value, parameters_field.Member("binary_data_size"), 0, &*binary_size));
    }
    ASSIGN_OR_RETURN(shared, FindSharedMemory(parameters, field, body));
  }
  const bool has_data = Find(input, "data", &value);
  if (shared) {
    if (has_data || binary_size) {
      return InvalidArgument(field.Text() +
                             ": takes its bytes from shared memory, so it has no data and no "
                             "parameters.binary_data_size");
    }
    const std::size_t size = shared->span.bytes.size();
    body.input_regions->push_back(*shared);
    tensor->data = TensorData::Shared(shared->span.bytes, std::move(shared->span.keeper));
    return CheckBinarySize(*tensor, count, size, field);
  }
  if (binary_size) {
    if (has_data) {
      return InvalidArgument(field.Text() + ": has both data and parameters.binary_data_size");
    }
    const std::size_t left = body.binary.size() - body.binary_used;
    if (static_cast<uint64_t>(*binary_size) > left) {
      return InvalidArgument(fmt::format(
          "{}.parameters.binary_data_size: {} bytes, but only {} bytes of binary data are left",
          field.Text(), *binary_size, left));
    }
    auto bytes = body.binary.subspan(body.binary_used, static_cast<std::size_t>(*binary_size));
    body.binary_used += bytes.size();
    tensor->data = TensorData::Borrowed(bytes);
    return CheckBinarySize(*tensor, count, bytes.size(), field);
  }
  if (!has_data) {
    return InvalidArgument(field.Text() + ": needs data or parameters.binary_data_size");
  }
  if (!IsJsonRepresentable(tensor->datatype)) {
    return InvalidArgument(fmt::format(
        "{}.data: {} cannot be sent as JSON; send it with the binary tensor data extension "
        "(parameters.binary_data_size)",
        field.Text(), DataTypeName(tensor->datatype)));
  }
  // Every element takes at least one byte of JSON: a larger count cannot match.
  const JsonPath data_field = field.Member("data");
  if (static_cast<uint64_t>(count) > body.json.size()) {
    return InvalidArgument(
        fmt::format("{}: shape {} needs {} elements, more than the request holds",
                    data_field.Text(), ShapeToString(tensor->shape), count));
  }
  DataReader reader(*tensor, data_field, count);
  RETURN_IF_ERROR(reader.Read(value));
  if (reader.count() != count) {
    return InvalidArgument(fmt::format("{}: {} elements, but shape {} needs {}", data_field.Text(),
                                       reader.count(), ShapeToString(tensor->shape), count));
  }
  tensor->data = TensorData::Owned(reader.TakeBytes());
  return Status::Ok();
}

Status DecodeParameters(dom::element element, InferRequest& request, OutputEncoding& encoding) {
  dom::object parameters;
  RETURN_IF_ERROR(GetObject(element, JsonPath("parameters"), &parameters));
  dom::element value;
  int64_t number = 0;
  if (Find(parameters, "priority", &value)) {
    RETURN_IF_ERROR(GetInt(value, JsonPath("parameters.priority"), 0, &number));
    if (number > std::numeric_limits<int>::max()) {
      return InvalidArgument(fmt::format("parameters.priority: {} is too large", number));
    }
    request.priority = static_cast<int>(number);
  }
  if (Find(parameters, "timeout", &value)) {
    RETURN_IF_ERROR(GetInt(value, JsonPath("parameters.timeout"), 1, &number));
    request.timeout_us = number;
  }
  if (Find(parameters, "binary_data_output", &value)) {
    RETURN_IF_ERROR(
        GetBool(value, JsonPath("parameters.binary_data_output"), &encoding.all_binary));
  }
  // The rest are the model's: a string as its contents, any other value as its JSON text.
  for (auto [key, parameter] : parameters) {
    if (key == "priority" || key == "timeout" || key == "binary_data_output") continue;
    std::string_view text;
    std::string owned = parameter.get_string().get(text) == SUCCESS ? std::string(text)
                                                                    : simdjson::minify(parameter);
    RETURN_IF_ERROR(AddRequestParameter(request, std::string(key), std::move(owned)));
  }
  return Status::Ok();
}

Status DecodeOutputs(dom::element element, const BodyReader& body, InferRequest& request,
                     OutputEncoding& encoding) {
  dom::array outputs;
  RETURN_IF_ERROR(GetArray(element, JsonPath("outputs"), &outputs));
  const JsonPath outputs_field("outputs");
  std::size_t index = 0;
  for (dom::element output_element : outputs) {
    const JsonPath field = outputs_field.Index(index++);
    dom::object output;
    RETURN_IF_ERROR(GetObject(output_element, field, &output));
    dom::element value;
    std::string_view name;
    if (!Find(output, "name", &value)) return Required(field, "name");
    RETURN_IF_ERROR(GetString(value, field.Member("name"), &name));
    request.requested_outputs.emplace_back(name);
    if (!Find(output, "parameters", &value)) continue;
    const JsonPath parameters_field = field.Member("parameters");
    dom::object parameters;
    RETURN_IF_ERROR(GetObject(value, parameters_field, &parameters));
    if (Find(parameters, "binary_data", &value)) {
      bool binary = false;
      RETURN_IF_ERROR(GetBool(value, parameters_field.Member("binary_data"), &binary));
      encoding.binary_by_name[std::string(name)] = binary;
    }
    ASSIGN_OR_RETURN(auto shared, FindSharedMemory(parameters, field, body));
    if (shared) encoding.shared_memory[std::string(name)] = std::move(*shared);
  }
  return Status::Ok();
}

Status DecodeDocument(dom::element root, BodyReader& body, DecodedInferRequest& decoded) {
  InferRequest& request = *decoded.request;
  dom::object document;
  if (root.get_object().get(document) != SUCCESS) {
    return InvalidArgument("request: expected a JSON object");
  }
  dom::element value;
  if (Find(document, "id", &value)) {
    std::string_view id;
    RETURN_IF_ERROR(GetString(value, JsonPath("id"), &id));
    request.id = id;
  }
  if (Find(document, "parameters", &value)) {
    RETURN_IF_ERROR(DecodeParameters(value, request, decoded.output_encoding));
  }
  if (!Find(document, "inputs", &value)) return InvalidArgument("inputs: required");
  dom::array inputs;
  RETURN_IF_ERROR(GetArray(value, JsonPath("inputs"), &inputs));
  request.inputs.reserve(inputs.size());
  const JsonPath inputs_field("inputs");
  for (dom::element input : inputs) {
    Tensor& tensor = request.inputs.emplace_back();
    RETURN_IF_ERROR(
        DecodeInput(input, inputs_field.Index(request.inputs.size() - 1), body, &tensor));
  }
  if (body.binary_used != body.binary.size()) {
    return InvalidArgument(
        fmt::format("binary data: the body holds {} bytes after the JSON header, but the inputs' "
                    "parameters.binary_data_size add up to {}",
                    body.binary.size(), body.binary_used));
  }
  if (Find(document, "outputs", &value)) {
    RETURN_IF_ERROR(DecodeOutputs(value, body, request, decoded.output_encoding));
  }
  return Status::Ok();
}

// A body that is only the raw bytes of the model's single input (json_length 0).
Status DecodeRawBody(const ModelConfig& model, InferRequest& request) {
  if (model.inputs.size() != 1) {
    return InvalidArgument(fmt::format(
        "Inference-Header-Content-Length: 0 (a body of raw tensor bytes) needs a model with "
        "exactly one input; model '{}' has {}",
        model.name, model.inputs.size()));
  }
  const TensorSpec& spec = model.inputs.front();
  Tensor& tensor = request.inputs.emplace_back();
  tensor.name = spec.name;
  tensor.datatype = spec.datatype;
  if (model.max_batch_size > 0) tensor.shape.push_back(1);
  tensor.shape.insert(tensor.shape.end(), spec.dims.begin(), spec.dims.end());
  auto bytes = request.payload.bytes();
  tensor.data = TensorData::Borrowed(bytes);

  int64_t* variable = nullptr;
  int64_t fixed = 1;  // product of the other dimensions
  for (int64_t& dim : tensor.shape) {
    if (dim >= 0) {
      fixed = dim == 0 || fixed <= std::numeric_limits<int64_t>::max() / dim ? fixed * dim : -1;
      if (fixed < 0) break;
    } else if (variable == nullptr) {
      variable = &dim;
    } else {
      return InvalidArgument(
          fmt::format("input '{}': a raw tensor body cannot resolve shape {} with more than one -1",
                      spec.name, ShapeToString(tensor.shape)));
    }
  }
  if (variable != nullptr) {
    int64_t elements = 0;
    if (tensor.datatype == DataType::kBytes) {
      StatusOr<int64_t> counted = CountBytesElements(bytes);
      if (!counted.ok()) {
        return InvalidArgument(
            fmt::format("input '{}': {}", spec.name, counted.status().message()));
      }
      elements = *counted;
    } else {
      elements = static_cast<int64_t>(bytes.size() / DataTypeSize(tensor.datatype));
    }
    if (fixed <= 0 || elements % fixed != 0) {
      return InvalidArgument(
          fmt::format("input '{}': {} elements in the raw tensor body do not fill shape {}",
                      spec.name, elements, ShapeToString(tensor.shape)));
    }
    *variable = elements / fixed;
  }
  const int64_t count = ElementCount(tensor.shape);
  if (count < 0) {
    return InvalidArgument(fmt::format("input '{}': shape {} has too many elements", spec.name,
                                       ShapeToString(tensor.shape)));
  }
  const std::string field = fmt::format("input '{}'", spec.name);
  return CheckBinarySize(tensor, count, bytes.size(), JsonPath(field));
}

}  // namespace

StatusOr<DecodedInferRequest> DecodeInferRequest(RequestBody body,
                                                 std::optional<std::size_t> json_length,
                                                 const ModelConfig& model,
                                                 const SharedMemoryRegistry* shared_memory) {
  DecodedInferRequest decoded;
  decoded.request = std::make_unique<InferRequest>();
  // The payload is moved first and never again: binary tensors borrow from its buffer.
  InferRequest& request = *decoded.request;
  request.payload = std::move(body);
  const std::string_view payload = request.payload.view();
  if (json_length && *json_length > payload.size()) {
    return InvalidArgument(
        fmt::format("Inference-Header-Content-Length: {} is larger than the body ({} bytes)",
                    *json_length, payload.size()));
  }
  if (json_length == 0u) {
    RETURN_IF_ERROR(DecodeRawBody(model, request));
    decoded.output_encoding.all_binary = true;
    return decoded;
  }
  BodyReader reader;
  reader.json = payload.substr(0, json_length.value_or(payload.size()));
  reader.binary = request.payload.bytes().subspan(reader.json.size());
  reader.shared_memory = shared_memory;
  reader.input_regions = &decoded.input_regions;

  // simdjson reads up to SIMDJSON_PADDING bytes past the document: parse() with
  // realloc_if_needed copies the JSON header (only) into the parser's padded buffer.
  thread_local dom::parser reused_parser;
  dom::parser own_parser;
  dom::parser& parser = reader.json.size() <= kReusedParserLimit ? reused_parser : own_parser;
  dom::element root;
  auto error = parser.parse(reader.json.data(), reader.json.size(), true).get(root);
  if (error != SUCCESS) {
    return InvalidArgument(
        fmt::format("request: invalid JSON: {}", simdjson::error_message(error)));
  }
  RETURN_IF_ERROR(DecodeDocument(root, reader, decoded));
  return decoded;
}

}  // namespace switchyard::http
