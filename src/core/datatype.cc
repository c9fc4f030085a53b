#include "switchyard/datatype.h"

#include <array>

namespace switchyard {
namespace {

struct DataTypeInfo {
  DataType type;
  std::string_view name;
  std::string_view config_name;
  std::size_t size;
};

constexpr std::array<DataTypeInfo, 14> kTypes = {{
    {DataType::kBool, "BOOL", "TYPE_BOOL", 1},
    {DataType::kUint8, "UINT8", "TYPE_UINT8", 1},
    {DataType::kUint16, "UINT16", "TYPE_UINT16", 2},
    {DataType::kUint32, "UINT32", "TYPE_UINT32", 4},
    {DataType::kUint64, "UINT64", "TYPE_UINT64", 8},
    {DataType::kInt8, "INT8", "TYPE_INT8", 1},
    {DataType::kInt16, "INT16", "TYPE_INT16", 2},
    {DataType::kInt32, "INT32", "TYPE_INT32", 4},
    {DataType::kInt64, "INT64", "TYPE_INT64", 8},
    {DataType::kFp16, "FP16", "TYPE_FP16", 2},
    {DataType::kBf16, "BF16", "TYPE_BF16", 2},
    {DataType::kFp32, "FP32", "TYPE_FP32", 4},
    {DataType::kFp64, "FP64", "TYPE_FP64", 8},
    {DataType::kBytes, "BYTES", "TYPE_STRING", 0},
}};

const DataTypeInfo& Info(DataType type) { return kTypes[static_cast<std::size_t>(type)]; }

}  // namespace

std::string_view DataTypeName(DataType type) { return Info(type).name; }
std::string_view DataTypeConfigName(DataType type) { return Info(type).config_name; }
std::size_t DataTypeSize(DataType type) { return Info(type).size; }

std::optional<DataType> ParseDataType(std::string_view name) {
  for (const auto& info : kTypes) {
    if (info.name == name) return info.type;
  }
  return std::nullopt;
}

bool IsNumeric(DataType type) { return type != DataType::kBool && type != DataType::kBytes; }

bool IsJsonRepresentable(DataType type) {
  return type != DataType::kFp16 && type != DataType::kBf16;
}

}  // namespace switchyard
