// The encoding half of kserve_codec.h: responses (JSON and binary tensor data) and errors.
// The decoding half is kserve_codec.cc.

#include <algorithm>
#include <bit>
#include <cstring>
#include <type_traits>
#include <vector>

#include "fmt/format.h"
#include "frontend/http/fault_guard.h"
#include "frontend/http/json_writer.h"
#include "frontend/http/kserve_codec.h"

namespace switchyard::http {
namespace {

static_assert(std::endian::native == std::endian::little,
              "tensor bytes are little-endian and copied as they lie in memory");

// Writes the elements of a fixed-size `tensor` as a flat JSON array.
template <typename T>
void WriteElements(const Tensor& tensor, JsonWriter& writer) {
  const std::byte* data = tensor.data.bytes().data();
  const std::size_t count = tensor.data.size() / sizeof(T);
  for (std::size_t i = 0; i < count; ++i) {
    T value;
    std::memcpy(&value, data + i * sizeof(T), sizeof(T));
    if constexpr (std::is_same_v<T, bool>) {
      writer.Bool(value);
    } else if constexpr (std::is_same_v<T, float>) {
      writer.Float(value);
    } else if constexpr (std::is_same_v<T, double>) {
      writer.Double(value);
    } else if constexpr (std::is_signed_v<T>) {
      writer.Int(value);
    } else {
      writer.Uint(value);
    }
  }
}

// REQUIRES: tensor.Validate().ok() and its datatype IsJsonRepresentable.
Status WriteData(const Tensor& tensor, std::size_t index, JsonWriter& writer) {
  writer.StartArray();
  switch (tensor.datatype) {
    case DataType::kBool: {
      // Any non-zero byte is true; a byte is read as uint8_t because not every value is a bool.
      for (std::byte b : tensor.data.bytes()) writer.Bool(b != std::byte{0});
      break;
    }
    case DataType::kUint8:
      WriteElements<uint8_t>(tensor, writer);
      break;
    case DataType::kUint16:
      WriteElements<uint16_t>(tensor, writer);
      break;
    case DataType::kUint32:
      WriteElements<uint32_t>(tensor, writer);
      break;
    case DataType::kUint64:
      WriteElements<uint64_t>(tensor, writer);
      break;
    case DataType::kInt8:
      WriteElements<int8_t>(tensor, writer);
      break;
    case DataType::kInt16:
      WriteElements<int16_t>(tensor, writer);
      break;
    case DataType::kInt32:
      WriteElements<int32_t>(tensor, writer);
      break;
    case DataType::kInt64:
      WriteElements<int64_t>(tensor, writer);
      break;
    case DataType::kFp32:
      WriteElements<float>(tensor, writer);
      break;
    case DataType::kFp64:
      WriteElements<double>(tensor, writer);
      break;
    case DataType::kBytes: {
      int64_t element = 0;
      int64_t bad_element = -1;
      RETURN_IF_ERROR(ForEachBytesElement(tensor.data.bytes(), [&](std::string_view value) {
        if (bad_element < 0 && !JsonWriter::IsValidUtf8(value)) bad_element = element;
        writer.String(value);
        ++element;
      }));
      if (bad_element >= 0) {
        return InvalidArgument(fmt::format(
            "outputs[{}] '{}': BYTES element {} is not valid UTF-8 and cannot be sent as JSON; "
            "request it with parameters.binary_data: true",
            index, tensor.name, bad_element));
      }
      break;
    }
    case DataType::kFp16:
    case DataType::kBf16:
      return Internal(fmt::format("outputs[{}] '{}': {} has no JSON form", index, tensor.name,
                                  DataTypeName(tensor.datatype)));
  }
  writer.EndArray();
  return Status::Ok();
}

// Writes `output` into the region the client named for it.
Status CopyToSharedMemory(const Tensor& output, std::size_t index, const SharedMemoryRef& shared) {
  std::span<const std::byte> bytes = output.data.bytes();
  if (bytes.size() > shared.span.bytes.size()) {
    return InvalidArgument(fmt::format(
        "outputs[{}] '{}': {} bytes do not fit the {} bytes of shared_memory_byte_size in region "
        "'{}'",
        index, output.name, bytes.size(), shared.span.bytes.size(), shared.region));
  }
  // memmove: an output may be the very bytes of an input in the same region (an identity model
  // run in process).
  if (!bytes.empty()) std::memmove(shared.span.bytes.data(), bytes.data(), bytes.size());
  if (shared.span.guard != nullptr && shared.span.guard->faulted()) {
    return Truncated(fmt::format("outputs[{}] '{}'", index, output.name), shared.region);
  }
  return Status::Ok();
}

}  // namespace

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
      RETURN_IF_ERROR(CopyToSharedMemory(output, i, it->second));
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
      RETURN_IF_ERROR(WriteData(output, i, writer));
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
