#include "exec/datatypes.h"

#include <array>
#include <cstring>
#include <string>

namespace switchyard::exec {
namespace {

struct TypeInfo {
  SyDataType datatype;
  std::string_view name;
  size_t size;
};

constexpr std::array<TypeInfo, 14> kTypes = {{
    {SY_TYPE_BOOL, "BOOL", 1},
    {SY_TYPE_UINT8, "UINT8", 1},
    {SY_TYPE_UINT16, "UINT16", 2},
    {SY_TYPE_UINT32, "UINT32", 4},
    {SY_TYPE_UINT64, "UINT64", 8},
    {SY_TYPE_INT8, "INT8", 1},
    {SY_TYPE_INT16, "INT16", 2},
    {SY_TYPE_INT32, "INT32", 4},
    {SY_TYPE_INT64, "INT64", 8},
    {SY_TYPE_FP16, "FP16", 2},
    {SY_TYPE_BF16, "BF16", 2},
    {SY_TYPE_FP32, "FP32", 4},
    {SY_TYPE_FP64, "FP64", 8},
    {SY_TYPE_BYTES, "BYTES", 0},
}};

const TypeInfo* Find(SyDataType datatype) {
  for (const TypeInfo& t : kTypes) {
    if (t.datatype == datatype) return &t;
  }
  return nullptr;
}

}  // namespace

std::string_view DataTypeName(SyDataType datatype) {
  const TypeInfo* t = Find(datatype);
  return t == nullptr ? "?" : t->name;
}

std::optional<SyDataType> ParseDataTypeName(std::string_view name) {
  for (const TypeInfo& t : kTypes) {
    if (t.name == name) return t.datatype;
  }
  return std::nullopt;
}

size_t ElementSize(SyDataType datatype) {
  const TypeInfo* t = Find(datatype);
  return t == nullptr ? 0 : t->size;
}

StatusOr<uint64_t> ElementCount(std::span<const int64_t> shape) {
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("negative dimension " + std::to_string(d));
    if (d != 0 && count > UINT64_MAX / static_cast<uint64_t>(d)) {
      return InvalidArgument("shape has too many elements");
    }
    count *= static_cast<uint64_t>(d);
  }
  return count;
}

Status CheckBytesLayout(std::span<const uint8_t> data, uint64_t element_count) {
  size_t pos = 0;
  for (uint64_t i = 0; i < element_count; ++i) {
    if (data.size() - pos < 4) {
      return InvalidArgument("BYTES data ends inside the length of element " + std::to_string(i) +
                             " of " + std::to_string(element_count));
    }
    uint32_t len = static_cast<uint32_t>(data[pos]) | static_cast<uint32_t>(data[pos + 1]) << 8 |
                   static_cast<uint32_t>(data[pos + 2]) << 16 |
                   static_cast<uint32_t>(data[pos + 3]) << 24;
    pos += 4;
    if (data.size() - pos < len) {
      return InvalidArgument("BYTES element " + std::to_string(i) + " claims " +
                             std::to_string(len) + " bytes but only " +
                             std::to_string(data.size() - pos) + " remain");
    }
    pos += len;
  }
  if (pos != data.size()) {
    return InvalidArgument("BYTES data has " + std::to_string(data.size() - pos) +
                           " bytes after its " + std::to_string(element_count) + " elements");
  }
  return Status();
}

Status CheckTensorBytes(SyDataType datatype, std::span<const int64_t> shape,
                        std::span<const uint8_t> data) {
  EXEC_ASSIGN_OR_RETURN(uint64_t count, ElementCount(shape));
  if (datatype == SY_TYPE_BYTES) return CheckBytesLayout(data, count);
  size_t size = ElementSize(datatype);
  if (size == 0) return InvalidArgument("unknown datatype");
  if (count > UINT64_MAX / size || count * size != data.size()) {
    return InvalidArgument(
        std::to_string(data.size()) + " bytes do not hold " + std::to_string(count) + " " +
        std::string(DataTypeName(datatype)) + " elements (expected " +
        (count > UINT64_MAX / size ? std::string("more") : std::to_string(count * size)) +
        " bytes)");
  }
  return Status();
}

}  // namespace switchyard::exec
