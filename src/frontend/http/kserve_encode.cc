// The encoding half of kserve_codec.h: responses (JSON and binary tensor data) and errors.
// The decoding half is kserve_codec.cc.

#include <algorithm>
#include <bit>
#include <cstring>
#include <type_traits>
#include <vector>

#include "fmt/format.h"
#include "frontend/http/json_writer.h"
#include "frontend/http/kserve_codec.h"

namespace switchyard::http {
namespace {

static_assert(std::endian::native == std::endian::little,
              "tensor bytes are little-endian and copied as they lie in memory");

// Writes the elements as arrays nested by `nesting` (from dimension `dim` on), calling
// element(i) for the flat index i of each, in row-major order.
template <typename Element>
void WriteNested(const Shape& nesting, std::size_t dim, std::size_t* next, JsonWriter& writer,
                 const Element& element) {
  if (dim == nesting.size()) {
    element((*next)++);
    return;
  }
  writer.StartArray();
  for (int64_t i = 0; i < nesting[dim]; ++i) WriteNested(nesting, dim + 1, next, writer, element);
  writer.EndArray();
}

// The elements of a fixed-size `tensor`, nested by `nesting`.
template <typename T>
void WriteElements(const Tensor& tensor, const Shape& nesting, JsonWriter& writer) {
  const std::byte* data = tensor.data.bytes().data();
  std::size_t next = 0;
  WriteNested(nesting, 0, &next, writer, [&](std::size_t i) {
    T value;
    std::memcpy(&value, data + i * sizeof(T), sizeof(T));
    if constexpr (std::is_same_v<T, float>) {
      writer.Float(value);
    } else if constexpr (std::is_same_v<T, double>) {
      writer.Double(value);
    } else if constexpr (std::is_signed_v<T>) {
      writer.Int(value);
    } else {
      writer.Uint(value);
    }
  });
}

}  // namespace

Status WriteTensorValues(const Tensor& tensor, const Shape& nesting, std::string_view what,
                         JsonWriter& writer) {
  if (ElementCount(nesting) != ElementCount(tensor.shape)) {
    return Internal(fmt::format("{}: {} elements cannot be nested as {}", what,
                                ElementCount(tensor.shape), ShapeToString(nesting)));
  }
  switch (tensor.datatype) {
    case DataType::kBool: {
      // Any non-zero byte is true; a byte is read as uint8_t because not every value is a bool.
      const std::span<const std::byte> bytes = tensor.data.bytes();
      std::size_t next = 0;
      WriteNested(nesting, 0, &next, writer,
                  [&](std::size_t i) { writer.Bool(bytes[i] != std::byte{0}); });
      break;
    }
    case DataType::kUint8:
      WriteElements<uint8_t>(tensor, nesting, writer);
      break;
    case DataType::kUint16:
      WriteElements<uint16_t>(tensor, nesting, writer);
      break;
    case DataType::kUint32:
      WriteElements<uint32_t>(tensor, nesting, writer);
      break;
    case DataType::kUint64:
      WriteElements<uint64_t>(tensor, nesting, writer);
      break;
    case DataType::kInt8:
      WriteElements<int8_t>(tensor, nesting, writer);
      break;
    case DataType::kInt16:
      WriteElements<int16_t>(tensor, nesting, writer);
      break;
    case DataType::kInt32:
      WriteElements<int32_t>(tensor, nesting, writer);
      break;
    case DataType::kInt64:
      WriteElements<int64_t>(tensor, nesting, writer);
      break;
    case DataType::kFp32:
      WriteElements<float>(tensor, nesting, writer);
      break;
    case DataType::kFp64:
      WriteElements<double>(tensor, nesting, writer);
      break;
    case DataType::kBytes: {
      std::vector<std::string_view> elements;
      RETURN_IF_ERROR(ForEachBytesElement(
          tensor.data.bytes(), [&](std::string_view value) { elements.push_back(value); }));
      for (std::size_t i = 0; i < elements.size(); ++i) {
        if (!JsonWriter::IsValidUtf8(elements[i])) {
          return InvalidArgument(fmt::format(
              "{}: BYTES element {} is not valid UTF-8 and cannot be sent as JSON", what, i));
        }
      }
      std::size_t next = 0;
      WriteNested(nesting, 0, &next, writer, [&](std::size_t i) { writer.String(elements[i]); });
      break;
    }
    case DataType::kFp16:
    case DataType::kBf16:
      return Internal(fmt::format("{}: {} has no JSON form", what, DataTypeName(tensor.datatype)));
  }
  return Status::Ok();
}

bool OutputEncoding::IsBinary(const std::string& output_name) const {
  auto it = binary_by_name.find(output_name);
  return it != binary_by_name.end() ? it->second : all_binary;
}

StatusOr<EncodedBody> EncodeInferResponse(const InferResponse& response,
                                          const OutputEncoding& encoding) {
  std::vector<bool> binary(response.outputs.size());
  std::vector<const SharedMemoryRef*> shared(response.outputs.size());
  std::size_t json_estimate = 256;  // bytes
  for (std::size_t i = 0; i < response.outputs.size(); ++i) {
    const Tensor& output = response.outputs[i];
    Status valid = output.Validate();
    if (!valid.ok()) return Internal(fmt::format("outputs[{}]: {}", i, valid.message()));
    if (auto it = encoding.shared_memory.find(output.name); it != encoding.shared_memory.end()) {
      RETURN_IF_ERROR(
          CopyToSharedMemory(output, fmt::format("outputs[{}] '{}'", i, output.name), it->second));
      shared[i] = &it->second;
      continue;
    }
    binary[i] = !IsJsonRepresentable(output.datatype) || encoding.IsBinary(output.name);
    if (!binary[i]) json_estimate += 4 * output.data.size();  // room for digits and commas
  }

  EncodedBody encoded;
  std::string& body = encoded.body;
  body.reserve(json_estimate);
  JsonWriter writer(&body);
  writer.StartObject();
  writer.Member("model_name", response.model_name);
  writer.Member("model_version", std::to_string(response.model_version));
  if (!response.id.empty()) writer.Member("id", response.id);
  writer.Key("outputs");
  writer.StartArray();
  for (std::size_t i = 0; i < response.outputs.size(); ++i) {
    const Tensor& output = response.outputs[i];
    writer.StartObject();
    writer.Member("name", output.name);
    writer.Member("datatype", DataTypeName(output.datatype));
    writer.Key("shape");
    writer.StartArray();
    for (int64_t dim : output.shape) writer.Int(dim);
    writer.EndArray();
    if (shared[i] != nullptr) {
      writer.Key("parameters");
      writer.StartObject();
      writer.Member("shared_memory_region", shared[i]->region);
      writer.UintMember("shared_memory_byte_size", output.data.size());
      if (shared[i]->offset != 0) {
        writer.UintMember("shared_memory_offset", shared[i]->offset);
      }
      writer.EndObject();
    } else if (binary[i]) {
      writer.Key("parameters");
      writer.StartObject();
      writer.UintMember("binary_data_size", output.data.size());
      writer.EndObject();
    } else {
      writer.Key("data");
      const Status written =
          WriteTensorValues(output, Shape{ElementCount(output.shape)},
                            fmt::format("outputs[{}] '{}'", i, output.name), writer);
      if (written.code() == StatusCode::kInvalidArgument) {  // a BYTES element not UTF-8
        return InvalidArgument(
            fmt::format("{}; request it with parameters.binary_data: true", written.message()));
      }
      RETURN_IF_ERROR(written);
    }
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();

  if (std::find(binary.begin(), binary.end(), true) != binary.end()) {
    encoded.json_length = body.size();
    for (std::size_t i = 0; i < response.outputs.size(); ++i) {
      if (binary[i]) encoded.binary.push_back(response.outputs[i].data.bytes());
    }
  }
  return encoded;
}

std::string EncodedBody::Flat() const {
  std::size_t size = body.size();
  for (const auto& part : binary) size += part.size();
  std::string flat;
  flat.reserve(size);
  flat = body;
  for (const auto& part : binary)
    flat.append(reinterpret_cast<const char*>(part.data()), part.size());
  return flat;
}

std::string ErrorJson(std::string_view message) {
  std::string body;
  body.reserve(message.size() + 16);
  JsonWriter writer(&body);
  writer.StartObject();
  writer.Member("error", message);
  writer.EndObject();
  return body;
}

}  // namespace switchyard::http
