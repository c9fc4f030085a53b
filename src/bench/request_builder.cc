#include "bench/request_builder.h"

#include <bit>
#include <cstring>
#include <random>

#include "fmt/format.h"
#include "switchyard/backend_sdk/json.h"

namespace switchyard::bench {
namespace {

static_assert(std::endian::native == std::endian::little, "binary tensors are little-endian");

template <typename T>
void AppendRaw(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

// Appends one random element of `type`: its JSON text to `json` (with a leading comma unless
// `first`) or, when `json` is null, its binary form to `binary`.
void AppendElement(DataType type, std::mt19937_64& rng, bool first, std::string* json,
                   std::string& binary) {
  uint64_t r = rng();
  auto integer = static_cast<int64_t>(r % 100);
  if (json != nullptr && !first) *json += ',';
  switch (type) {
    case DataType::kBool:
      if (json != nullptr)
        *json += (r & 1) ? "true" : "false";
      else
        AppendRaw<uint8_t>(binary, r & 1);
      return;
    case DataType::kBytes: {
      std::string text = std::to_string(integer);
      if (json != nullptr) {
        *json += sdk::JsonQuote(text);
      } else {
        AppendRaw<uint32_t>(binary, static_cast<uint32_t>(text.size()));
        binary += text;
      }
      return;
    }
    case DataType::kFp16: {
      // k / 2048 for k < 2048: exact in FP16; built from its float's exponent and mantissa.
      auto f = static_cast<float>(r >> 53) / 2048.0f;
      auto bits = std::bit_cast<uint32_t>(f);
      uint16_t half = f == 0 ? 0
                             : static_cast<uint16_t>(((((bits >> 23) & 0xff) - 112) << 10) |
                                                     ((bits >> 13) & 0x3ff));
      if (json != nullptr)
        *json += fmt::format("{}", f);
      else
        AppendRaw(binary, half);
      return;
    }
    case DataType::kBf16: {
      auto f = static_cast<float>(r >> 56) / 256.0f;
      if (json != nullptr)
        *json += fmt::format("{}", f);
      else
        AppendRaw(binary, static_cast<uint16_t>(std::bit_cast<uint32_t>(f) >> 16));
      return;
    }
    case DataType::kFp32: {
      auto f = static_cast<float>(r >> 40) / 16777216.0f;
      if (json != nullptr)
        *json += fmt::format("{}", f);
      else
        AppendRaw(binary, f);
      return;
    }
    case DataType::kFp64: {
      double d = static_cast<double>(r >> 11) / 9007199254740992.0;
      if (json != nullptr)
        *json += fmt::format("{}", d);
      else
        AppendRaw(binary, d);
      return;
    }
    default:
      break;
  }
  if (json != nullptr) {
    *json += std::to_string(integer);
    return;
  }
  switch (type) {
    case DataType::kUint8:
      return AppendRaw(binary, static_cast<uint8_t>(integer));
    case DataType::kUint16:
      return AppendRaw(binary, static_cast<uint16_t>(integer));
    case DataType::kUint32:
      return AppendRaw(binary, static_cast<uint32_t>(integer));
    case DataType::kUint64:
      return AppendRaw(binary, static_cast<uint64_t>(integer));
    case DataType::kInt8:
      return AppendRaw(binary, static_cast<int8_t>(integer));
    case DataType::kInt16:
      return AppendRaw(binary, static_cast<int16_t>(integer));
    case DataType::kInt32:
      return AppendRaw(binary, static_cast<int32_t>(integer));
    default:
      return AppendRaw(binary, integer);  // kInt64
  }
}

void AppendTensorHeader(std::string& json, const TensorMetadata& input) {
  json += "{\"name\":";
  json += sdk::JsonQuote(input.name);
  json += fmt::format(",\"datatype\":\"{}\",\"shape\":[{}]", DataTypeName(input.datatype),
                      fmt::join(input.shape, ","));
}

}  // namespace

PreparedBody BuildInferBody(const std::vector<TensorMetadata>& inputs, BodyFormat format,
                            uint64_t seed, std::string_view region) {
  std::mt19937_64 rng(seed);
  std::string json = "{\"inputs\":[";
  std::string binary;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorMetadata& input = inputs[i];
    if (i > 0) json += ',';
    AppendTensorHeader(json, input);
    int64_t count = ElementCount(input.shape);
    if (format == BodyFormat::kJson) {
      json += ",\"data\":[";
      for (int64_t e = 0; e < count; ++e) AppendElement(input.datatype, rng, e == 0, &json, binary);
      json += "]}";
    } else {
      std::size_t before = binary.size();
      for (int64_t e = 0; e < count; ++e)
        AppendElement(input.datatype, rng, e == 0, nullptr, binary);
      if (format == BodyFormat::kSharedMemory) {
        json += ",\"parameters\":{\"shared_memory_region\":";
        json += sdk::JsonQuote(region);
        json += fmt::format(",\"shared_memory_byte_size\":{},\"shared_memory_offset\":{}}}}}",
                            binary.size() - before, before);
      } else {
        json +=
            fmt::format(",\"parameters\":{{\"binary_data_size\":{}}}}}", binary.size() - before);
      }
    }
  }
  json += ']';
  if (format == BodyFormat::kJson) {
    json += '}';
    return {std::move(json), 0};
  }
  json += ",\"parameters\":{\"binary_data_output\":true}}";
  if (format == BodyFormat::kSharedMemory) return {std::move(json), 0, std::move(binary)};
  std::size_t json_length = json.size();
  json += binary;
  return {std::move(json), json_length};
}

std::vector<std::string> BuildInputBytes(const std::vector<TensorMetadata>& inputs, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> bytes(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    int64_t count = ElementCount(inputs[i].shape);
    for (int64_t e = 0; e < count; ++e) {
      AppendElement(inputs[i].datatype, rng, e == 0, nullptr, bytes[i]);
    }
  }
  return bytes;
}

}  // namespace switchyard::bench
