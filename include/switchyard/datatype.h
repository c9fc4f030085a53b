#pragma once
// The KServe v2 tensor datatypes and their properties.

#include <cstddef>
#include <optional>
#include <string_view>

namespace switchyard {

enum class DataType {
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kBf16,
  kFp32,
  kFp64,
  kBytes,  // variable-size elements; see tensor.h for their byte layout
};

// Wire name, as in the KServe v2 protocol: "BOOL", "UINT8", ..., "FP32", "BYTES".
std::string_view DataTypeName(DataType type);

// Triton model-config name: "TYPE_BOOL", ..., "TYPE_FP32", "TYPE_STRING" for BYTES.
std::string_view DataTypeConfigName(DataType type);

// Parses a wire name (case-sensitive). nullopt if unknown.
std::optional<DataType> ParseDataType(std::string_view name);

// Bytes per element; 0 for BYTES (variable).
std::size_t DataTypeSize(DataType type);

// Integer and floating types (what arithmetic sim functions accept): not BOOL, not BYTES.
bool IsNumeric(DataType type);

// FP16 and BF16 have no JSON representation in the protocol: they travel as binary data only.
bool IsJsonRepresentable(DataType type);

}  // namespace switchyard
